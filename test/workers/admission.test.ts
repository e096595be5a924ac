/**
 * A worker's admission limits (src/workers/shard.ts admitCall): `limits.max_sessions` (the node's, counted by all
 * workers in one shared array) and the
 * memory high-water. A call beyond them gets a CDN "temporary lack of resources" (RFC 2661 result code 4) and is
 * counted; the worker never takes so many that its heap hits V8's limit. Two shards in one process over loopback UDP.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL_OPTIONS } from '../../src/actors/options.js';
import { parseConfig } from '../../src/config/index.js';
import { shardLimits } from '../../src/daemon/policy.js';
import { NullDataPlane } from '../../src/dataplane/null.js';
import { systemClock } from '../../src/transport/clock.js';
import { Listener } from '../../src/workers/listener.js';
import { Shard, type ShardLimits } from '../../src/workers/shard.js';
import { UdpSocketFactory } from '../../src/workers/sockets.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function node(hostName: string, limits: ShardLimits, heapUsage?: () => number, nodeSessions?: Int32Array) {
  const opts = { ...DEFAULT_TUNNEL_OPTIONS, hostName };
  const warnings: string[] = [];
  const closed: string[] = [];
  const log = pino({ level: 'info' }, {
    write: (line: string) => {
      const j = JSON.parse(line) as { level: number; msg: string; reason?: string };
      if (j.level >= 40) warnings.push(j.msg);
      if (j.msg === 'session closed') closed.push(String(j.reason));
    },
  });
  const shard = new Shard({
    index: 0, count: 1, clock: systemClock, dataPlane: new NullDataPlane(), log, sockets: new UdpSocketFactory(),
    policy: { incoming: () => ({ accept: true, profile: 'default', options: opts }), profile: (n) => (n === 'default' ? opts : undefined) },
    limits, forward: () => undefined, ...(heapUsage ? { heapUsage } : {}), ...(nodeSessions ? { nodeSessions } : {}),
  });
  return { shard, warnings, closed, listener: new Listener((b, f, t) => shard.handlePacket(b, f, t)) };
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function pair(address: string, limits: ShardLimits, heapUsage?: () => number, nodeSessions?: Int32Array) {
  const lns = node('lns', limits, heapUsage, nodeSessions);
  await lns.listener.listen([{ address, port: 1701 }]);
  const lac = node('lac', { maxTunnels: 10, maxHalfOpenTunnels: 10 });
  cleanups.push(async () => {
    await lac.shard.closeAll(200);
    await lns.shard.closeAll(200);
    lns.listener.close();
  });
  const t = await lac.shard.createTunnel({ peer: { address, port: 1701 }, profile: 'default' });
  await until(() => lac.shard.listTunnels()[0]?.state === 'established');
  /** Places `n` calls and waits until each is up or cleared; how many came up. */
  const call = async (n: number): Promise<number> => {
    const ids = Array.from({ length: n }, () => lac.shard.createSession(t.tunnelId, 'lacIncoming', {}).sessionId);
    const state = (id: number) => lac.shard.listSessions().find((s) => s.sessionId === id)?.state;
    await until(() => ids.every((id) => state(id) === undefined || state(id) === 'established'));
    return ids.filter((id) => state(id) === 'established').length;
  };
  return { lns, lac, call };
}

describe('worker admission limits', () => {
  it('limits.max_sessions: calls beyond it are refused (CDN result 4) and counted; a new limit applies at once', async () => {
    const { lns, lac, call } = await pair('127.0.113.1', { maxTunnels: 10, maxHalfOpenTunnels: 10, maxSessions: 3 });
    expect(await call(5)).toBe(3);
    expect(lns.shard.sessionCount()).toBe(3);
    expect(lns.shard.stats.refusedCalls).toBe(2);
    // Said once, not once per refused call.
    expect(lns.warnings.filter((w) => w.startsWith('session limit reached'))).toHaveLength(1);
    // The LAC hears why: RFC 2661 CDN result code 4 (temporary lack of resources), with the message.
    expect(lac.closed).toEqual(Array(2).fill('CDN received: result 4/0 (session limit reached (3, limits.max_sessions))'));
    // A reload raises it: taken from the next call on.
    lns.shard.setLimits({ maxTunnels: 10, maxHalfOpenTunnels: 10, maxSessions: 5 });
    await new Promise((r) => setTimeout(r, 120)); // the count is refreshed every 100 ms
    expect(await call(3)).toBe(2);
    expect(lns.shard.stats.refusedCalls).toBe(3);
  });

  it('memory high-water: no new call while the heap is above it, calls again once it is below', async () => {
    let usage = 0.5;
    const { lns, lac, call } = await pair('127.0.113.2', { maxTunnels: 10, maxHalfOpenTunnels: 10, memoryHighWater: 0.8 }, () => usage);
    expect(await call(2)).toBe(2);
    usage = 0.9;
    await new Promise((r) => setTimeout(r, 1100)); // the heap is looked at at most every second
    expect(await call(3)).toBe(0);
    expect(lns.shard.stats.refusedCalls).toBe(3);
    expect(lns.warnings).toContain('memory high-water reached: new tunnels and calls refused until the heap is below it');
    expect(lac.closed).toEqual(Array(3).fill('CDN received: result 4/0 (memory high-water of this worker reached)'));
    // No new tunnel either: its SCCRQ is dropped (and counted) until the heap is below the mark; the LAC retransmits.
    const second = await lac.shard.createTunnel({ peer: { address: '127.0.113.2', port: 1701 }, profile: 'default' });
    await until(() => lns.shard.stats.refusedTunnels >= 1);
    expect(lns.shard.listTunnels()).toHaveLength(1);
    usage = 0.3;
    await new Promise((r) => setTimeout(r, 1100));
    expect(await call(2)).toBe(2);
    expect(lns.shard.sessionCount()).toBe(4);
    await until(() => lac.shard.listTunnels().find((t) => t.tunnelId === second.tunnelId)?.state === 'established', 8000);
  });

  it('limits.max_sessions is the node\'s: the other workers\' sessions count, whichever worker the tunnel is on', async () => {
    // Slot 1 is another worker's count: it holds 3 of the node's 5.
    const counts = new Int32Array(new SharedArrayBuffer(8));
    Atomics.store(counts, 1, 3);
    const { lns, call } = await pair('127.0.113.3', { maxTunnels: 10, maxHalfOpenTunnels: 10, maxSessions: 5 }, undefined, counts);
    expect(Atomics.load(counts, 0)).toBe(0); // a worker starts its slot from nothing
    expect(await call(4)).toBe(2);
    expect(lns.shard.stats.refusedCalls).toBe(2);
    expect([...counts]).toEqual([2, 3]); // refused calls leave no trace in the count
    // The other worker's subscribers leave: this one takes calls again, up to the node's limit.
    Atomics.store(counts, 1, 0);
    expect(await call(4)).toBe(3);
    expect([...counts]).toEqual([5, 0]);
    // Its own sessions ending reach its slot within 100 ms, with no call to this worker: the other workers see the
    // room (until then the count errs high, never low).
    for (const x of lns.shard.listSessions().slice(0, 2)) lns.shard.deleteSession(x.tunnelId, x.sessionId);
    await until(() => lns.shard.sessionCount() === 3);
    await until(() => Atomics.load(counts, 0) === 3, 1000);
    expect(await call(3)).toBe(2);
    expect([...counts]).toEqual([5, 0]);
  });

  it('limits.max_sessions is the node\'s; the other limits stay per worker', () => {
    const config = parseConfig('system:\n  limits:\n    max_sessions: 1001\n    max_tunnels: 50\n', 'l2tpd.yaml');
    expect(shardLimits(config)).toEqual({ maxTunnels: 50, maxHalfOpenTunnels: 1000, maxSessions: 1001 });
  });
});
