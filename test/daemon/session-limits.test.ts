/**
 * limits.max_sessions through the daemon: the limit is the node's, whichever workers the tunnels landed on (the
 * workers count their sessions in one shared array); a call beyond it gets a CDN with result code 4 and is counted
 * in `l2tpctl stats`, and `l2tpctl reload` applies a new limit to the next calls.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { shardOfPeer } from '../../src/daemon/daemon.js';
import type { SessionInfo, TunnelInfo } from '../../src/workers/views.js';
import { daemonsPerTest, until, type DaemonProc } from '../support/daemon.js';

const daemons = daemonsPerTest();

describe('limits.max_sessions', () => {
  it('holds for the node across workers, refuses beyond it with result code 4, counts them, and takes a reloaded limit', async () => {
    const lns = await daemons.start('127.0.113.10:1701', 'system:\n  limits:\n    max_sessions: 4\n');
    // Two LACs whose tunnels land on different workers of the LNS (the test daemons run --workers 2): an SCCRQ goes
    // to the worker its source address hashes to.
    const candidates = Array.from({ length: 9 }, (_, i) => `127.0.113.${11 + i}`);
    const a = candidates.find((x) => shardOfPeer(x, 2) === 0)!;
    const b = candidates.find((x) => shardOfPeer(x, 2) === 1)!;
    const lacs: { lac: DaemonProc; tunnel: number }[] = [];
    for (const address of [a, b]) {
      const lac = await daemons.start(`${address}:1701`, '');
      const t = await lac.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.113.10', '--local', address);
      await until(async () => (await lac.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).state === 'established' || undefined, 10_000, 'tunnel');
      lacs.push({ lac, tunnel: t.tunnelId });
    }
    const atLns = await lns.json<TunnelInfo[]>('show', 'tunnels');
    expect(new Set(atLns.map((t) => t.tunnelId % 2))).toEqual(new Set([0, 1])); // one tunnel on each worker

    const place = async (i: number, n: number) => {
      for (let k = 0; k < n; k++) await lacs[i]!.lac.json<SessionInfo>('session', 'create', String(lacs[i]!.tunnel));
    };
    const settled = async (i: number, want: number) =>
      until(async () => {
        const s = await lacs[i]!.lac.json<SessionInfo[]>('show', 'sessions');
        return s.every((x) => x.state === 'established') && s.length === want ? s : undefined;
      }, 10_000, `${want} sessions`);
    const stats = async () => (await lns.json<{ totals: Record<string, number> }>('stats')).totals;

    // 3 on the first worker, then 3 more on the other: only 1 of those fits under the node's 4.
    await place(0, 3);
    await settled(0, 3);
    await place(1, 3);
    await settled(1, 1);
    expect((await stats())['refusedCalls']).toBe(2);
    const why = lacs[1]!.lac.logLines().filter((l) => l['msg'] === 'session closed').map((l) => l['reason']);
    expect(why).toEqual(Array(2).fill('CDN received: result 4/0 (session limit reached (4, limits.max_sessions))'));
    expect((await lns.json<SessionInfo[]>('show', 'sessions')).filter((s) => s.state === 'established')).toHaveLength(4);

    writeFileSync(lns.dir.file('l2tpd.yaml'), 'system:\n  limits:\n    max_sessions: 6\n');
    const reload = await lns.json<{ changed: string[] }>('reload');
    expect(reload.changed.join('\n')).toMatch(/limits\.max_sessions/);
    await new Promise((r) => setTimeout(r, 150)); // the workers refresh their counts every 100 ms
    await place(0, 3);
    await settled(0, 5);
    expect((await stats())['refusedCalls']).toBe(3);
  });
});
