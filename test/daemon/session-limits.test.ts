/**
 * limits.max_sessions through the daemon: each worker takes its share of the calls, a call beyond it gets a CDN
 * with result code 4 and is counted in `l2tpctl stats`, and `l2tpctl reload` applies a new limit to the next calls.
 */
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { SessionInfo, TunnelInfo } from '../../src/workers/views.js';
import { daemonsPerTest, until } from '../support/daemon.js';

const daemons = daemonsPerTest();

describe('limits.max_sessions', () => {
  it('refuses calls beyond the limit with result code 4, counts them, and takes a reloaded limit', async () => {
    const lns = await daemons.start('127.0.113.10:1701', 'system:\n  limits:\n    max_sessions: 4\n');
    const lac = await daemons.start('127.0.113.11:1701', '');
    const t = await lac.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.113.10', '--local', '127.0.113.11');
    await until(async () => (await lac.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).state === 'established' || undefined, 10_000, 'tunnel');
    const place = async (n: number) => {
      for (let i = 0; i < n; i++) await lac.json<SessionInfo>('session', 'create', String(t.tunnelId));
    };
    const settled = async (want: number) =>
      until(async () => {
        const s = await lac.json<SessionInfo[]>('show', 'sessions');
        return s.every((x) => x.state === 'established') && s.length === want ? s : undefined;
      }, 10_000, `${want} sessions`);

    // Two workers (the test daemons run --workers 2): each takes 2 of the 4, and this tunnel lives on one of them.
    await place(4);
    await settled(2);
    const stats = async () => (await lns.json<{ totals: Record<string, number> }>('stats')).totals;
    expect((await stats())['refusedCalls']).toBe(2);
    const why = lac.logLines().filter((l) => l['msg'] === 'session closed').map((l) => l['reason']);
    expect(why).toEqual(Array(2).fill('CDN received: result 4/0 (session limit of this worker reached (2, its share of limits.max_sessions))'));

    writeFileSync(lns.dir.file('l2tpd.yaml'), 'system:\n  limits:\n    max_sessions: 8\n');
    const reload = await lns.json<{ changed: string[] }>('reload');
    expect(reload.changed.join('\n')).toMatch(/limits\.max_sessions/);
    await new Promise((r) => setTimeout(r, 150)); // the worker refreshes its count every 100 ms
    await place(3);
    await settled(4);
    expect((await stats())['refusedCalls']).toBe(3);
  });
});
