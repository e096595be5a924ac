/**
 * A shard worker that dies is restarted by the main thread and gets its tunnels and sessions back
 * from the state store: sockets re-bound, control channel resumed with the right Ns/Nr, so the
 * peer's next HELLO is answered and the peer notices nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionInfo, TunnelInfo } from '../../src/workers/views.js';
import { startDaemon, until, type DaemonProc } from '../support/daemon.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});
// HELLO goes out after an interval with nothing received, so with equal intervals one side can win
// every race and the other never sends. The LAC's shorter interval makes it the one that sends, so
// the restored LNS must answer.
async function daemon(listen: string, hello: string): Promise<DaemonProc> {
  const d = await startDaemon({ listen, config: `tunnel_profiles:\n  default:\n    hello_interval: ${hello}\n` });
  stops.push(() => d.stop());
  return d;
}

describe('worker crash', () => {
  it('the killed shard comes back with its tunnel and session, and answers the peer’s HELLOs', async () => {
    const lac = await daemon('127.0.68.1:1701', '400ms');
    const lns = await daemon('127.0.68.2:1701', '5s');
    const t = await lac.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.68.2', '--local', '127.0.68.1');
    await until(async () => (await lac.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).state === 'established' || undefined, 10_000, 'tunnel');
    const s = await lac.json<SessionInfo>('session', 'create', String(t.tunnelId), '--calling', '5550199');
    await until(async () => (await lns.json<SessionInfo[]>('show', 'sessions'))[0]?.state === 'established' || undefined, 10_000, 'session');
    const before = (await lns.json<TunnelInfo[]>('show', 'tunnels'))[0]!;
    await new Promise((r) => setTimeout(r, 300)); // past the 50 ms durability point

    const r = await lns.json<{ restored: number }>('shard', 'restart', String(before.shard), '--crash');
    expect(r.restored).toBe(1);
    const after = (await lns.json<TunnelInfo[]>('show', 'tunnels'))[0]!;
    expect(after).toMatchObject({ tunnelId: before.tunnelId, peerTunnelId: before.peerTunnelId, state: 'established', localPort: before.localPort, sessionCount: 1 });
    const restoredSession = (await lns.json<SessionInfo[]>('show', 'sessions'))[0]!;
    expect(restoredSession).toMatchObject({ state: 'established', peerSessionId: s.sessionId, callingNumber: '5550199' });

    // Several HELLO rounds from the LAC after the restart: all acknowledged, nothing retransmitted for long.
    const lacBefore = (await lac.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).control;
    await new Promise((res) => setTimeout(res, 3500));
    const lacAfter = (await lac.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId)));
    expect(lacAfter.state).toBe('established');
    expect(lacAfter.control.sent - lacBefore.sent).toBeGreaterThanOrEqual(2);
    // A HELLO may be in flight at the instant we look: everything is acknowledged within a round trip or two.
    await until(async () => ((await lac.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).control.unacked === 0 ? true : undefined), 2000, 'LAC: all acknowledged');
    expect(lacAfter.control.retransmitted).toBe(lacBefore.retransmitted);
    const lnsAfter = (await lns.json<TunnelInfo[]>('show', 'tunnels'))[0]!;
    expect(lnsAfter.control.received).toBeGreaterThan(after.control.received);
    await until(async () => ((await lns.json<TunnelInfo[]>('show', 'tunnels'))[0]!.control.unacked === 0 ? true : undefined), 2000, 'LNS: all acknowledged');
    expect(lns.logLines().some((l) => l['msg'] === 'shard worker died: restarting it with its tunnels')).toBe(true);

    // And the restored session still obeys the protocol: the LAC hangs up, the LNS clears it.
    await lac.json('session', 'delete', String(t.tunnelId), String(s.sessionId));
    await until(async () => (await lns.json<SessionInfo[]>('show', 'sessions')).length === 0 || undefined, 10_000, 'CDN on restored session');
  });
});
