/**
 * PPP terminated by the LNS (null data plane: PPP frames in L2TP data messages on the tunnel's
 * userspace socket): a subscriber — the client side of our own PPP engine behind an in-process LAC —
 * dials through a real L2TP tunnel and session over loopback UDP, authenticates with PAP, CHAP or
 * MS-CHAPv2 against the local users, and reaches IPCP Opened with an address from the pool. A wrong
 * password ends the call with CDN result 2/6.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL_OPTIONS } from '../../src/actors/options.js';
import { Ipv4Pool } from '../../src/aaa/pool/pools.js';
import { NullDataPlane } from '../../src/dataplane/null.js';
import { LocalVerifier } from '../../src/ppp/auth/local-verifier.js';
import type { AuthProtocolName } from '../../src/ppp/auth/types.js';
import { pppPseudowire, type PppSessionOptions } from '../../src/ppp/l2tp-pseudowire.js';
import type { PppUpInfo } from '../../src/ppp/types.js';
import { systemClock } from '../../src/transport/clock.js';
import { Listener } from '../../src/workers/listener.js';
import { Shard, type PeerPolicy } from '../../src/workers/shard.js';
import { UdpSocketFactory } from '../../src/workers/sockets.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function shard(role: 'server' | 'client', options: (tunnel: number) => PppSessionOptions, ups: PppUpInfo[], closed: string[] = []) {
  const opts = { ...DEFAULT_TUNNEL_OPTIONS, hostName: role === 'server' ? 'lns' : 'lac' };
  const policy: PeerPolicy = { incoming: () => ({ accept: true, profile: 'default', options: opts }), profile: () => opts };
  return new Shard({
    index: 0, count: 1, clock: systemClock, dataPlane: new NullDataPlane(), log, sockets: new UdpSocketFactory(), policy,
    limits: { maxTunnels: 10, maxHalfOpenTunnels: 10 }, forward: () => undefined,
    events: { sessionClosed: (s) => closed.push(s.reason ?? 'closed') },
    pseudowire: pppPseudowire({ role, clock: systemClock, log, optionsFor: (s) => options(s.localTunnelId), onUp: (_s, info) => ups.push(info) }),
  });
}

async function dial(addr: string, protocol: AuthProtocolName, password: string) {
  const pool = new Ipv4Pool('test', ['198.18.50.10-198.18.50.20']);
  const verifier = new LocalVerifier({ alice: 'wonderland' });
  const lnsUps: PppUpInfo[] = [];
  const lacUps: PppUpInfo[] = [];
  const lacClosed: string[] = [];
  const lnsClosed: string[] = [];
  const lns = shard('server', () => ({ auth: [protocol], verifier, allocator: pool, dns: ['198.18.0.53'], echoIntervalMs: 0 }), lnsUps, lnsClosed);
  const lac = shard('client', () => ({ auth: [protocol], credentials: { user: 'alice', password }, echoIntervalMs: 0 }), lacUps, lacClosed);
  const listener = new Listener((b, f, t) => lns.handlePacket(b, f, t));
  await listener.listen([{ address: addr, port: 1701 }]);
  cleanups.push(async () => {
    await lac.closeAll(200);
    await lns.closeAll(200);
    listener.close();
  });
  const t = await lac.createTunnel({ peer: { address: addr, port: 1701 }, profile: 'default' });
  await until(() => lac.listTunnels()[0]?.state === 'established');
  lac.createSession(t.tunnelId, 'lacIncoming', { callingNumber: '5550001' });
  return { lns, lac, lnsUps, lacUps, pool, lacClosed, lnsClosed };
}

describe('PPP over an L2TP session (null data plane)', () => {
  for (const protocol of ['pap', 'chap', 'mschapv2'] as const) {
    it(`${protocol}: the subscriber gets an address from the pool and DNS; both ends see IPCP Opened`, async () => {
      const { lnsUps, lacUps, pool } = await dial(`127.0.21.${protocol === 'pap' ? 1 : protocol === 'chap' ? 2 : 3}`, protocol, 'wonderland');
      await until(() => lnsUps.length === 1 && lacUps.length === 1);
      expect(lnsUps[0]).toMatchObject({ user: 'alice', authProtocol: protocol, address: '198.18.50.10' });
      expect(lacUps[0]).toMatchObject({ address: '198.18.50.10', dns: ['198.18.0.53'] });
      expect(pool.available).toBe(pool.size - 1);
    });
  }

  it('a wrong password ends the call with CDN result 2/6 and returns nothing to the pool', async () => {
    const { lnsUps, pool, lacClosed, lnsClosed } = await dial('127.0.21.4', 'chap', 'not-it');
    await until(() => lacClosed.length === 1 && lnsClosed.length === 1);
    expect(lnsClosed[0]).toMatch(/^CDN sent: result 2\/6 \(PPP auth-failed/);
    // The subscriber also sees the CHAP Failure and hangs up: whichever CDN crosses first.
    expect(lacClosed[0]).toMatch(/^CDN (sent|received): result 2\/6 \(PPP auth-failed/);
    expect(lnsUps).toEqual([]);
    expect(pool.available).toBe(pool.size);
  });
});
