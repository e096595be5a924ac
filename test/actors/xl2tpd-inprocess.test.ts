/**
 * xl2tpd as LAC against our shard as LNS, in process (the daemon-level tests in test/daemon repeat
 * this through l2tpd and l2tpctl). Quick feedback for interop of the actors with a real peer.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL_OPTIONS, type TunnelOptions } from '../../src/actors/options.js';
import { NullDataPlane } from '../../src/dataplane/null.js';
import { systemClock } from '../../src/transport/clock.js';
import { Listener } from '../../src/workers/listener.js';
import { Shard } from '../../src/workers/shard.js';
import { UdpSocketFactory } from '../../src/workers/sockets.js';
import { startXl2tpd, type Xl2tpd } from '../support/xl2tpd.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(cond: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every state a session of the shard went through, and how it ended. */
interface SessionLog {
  states: string[];
  closedReason: string | undefined;
}

async function ourLns(address: string, o: Partial<TunnelOptions> = {}) {
  const opts = { ...DEFAULT_TUNNEL_OPTIONS, hostName: 'our-lns', ...o };
  const sessions = new Map<string, SessionLog>();
  const entry = (k: string) => sessions.get(k) ?? (sessions.set(k, { states: [], closedReason: undefined }), sessions.get(k)!);
  const shard = new Shard({
    index: 0, count: 1, clock: systemClock, dataPlane: new NullDataPlane(), log: pino({ level: 'silent' }), sockets: new UdpSocketFactory(),
    policy: { incoming: () => ({ accept: true, profile: 'default', options: opts }), profile: () => opts },
    limits: { maxTunnels: 100, maxHalfOpenTunnels: 100 }, forward: () => undefined,
    events: {
      sessionChanged: (s) => entry(`${s.data.localTunnelId}/${s.localSessionId}`).states.push(s.state),
      sessionClosed: (s) => (entry(`${s.data.localTunnelId}/${s.localSessionId}`).closedReason = s.reason ?? 'closed'),
    },
  });
  const listener = new Listener((b, f, t) => shard.handlePacket(b, f, t));
  await listener.listen([{ address, port: 1701 }]);
  cleanups.push(async () => {
    await shard.closeAll(500);
    listener.close();
  });
  return { shard, sessions };
}

async function lac(listenAddr: string, lns: string, extra: { challenge?: boolean; secret?: string } = {}): Promise<Xl2tpd> {
  const x = await startXl2tpd({ listenAddr, lacs: [{ name: 't1', lns, hostname: `lac-${listenAddr}`, challenge: extra.challenge ?? false }], ...(extra.secret ? { secret: extra.secret } : {}) });
  cleanups.push(() => x.stop());
  return x;
}

describe('xl2tpd LAC dials our LNS', () => {
  it('tunnel and session are established; hang-up gives CDN and StopCCN handled cleanly', async () => {
    const { shard, sessions } = await ourLns('127.0.30.1');
    const x = await lac('127.0.30.2', '127.0.30.1');
    await x.control('c t1');
    // pppd cannot run on this host: xl2tpd sends CDN right after ICCN. The session must have been established first.
    await until(() => [...sessions.values()].some((s) => s.closedReason !== undefined), 8000, 'session to come and go');
    const [log] = [...sessions.values()];
    expect(log!.states).toContain('established');
    expect(log!.closedReason).toMatch(/^CDN received: result 1/);
    const t = shard.listTunnels()[0]!;
    expect(t).toMatchObject({ state: 'established', peerHostName: 'lac-127.0.30.2', version: 2, peerAddress: '127.0.30.2', peerPort: 1701, localPort: 1701 });
    await x.control('d t1');
    await until(() => shard.listTunnels().every((tt) => tt.state === 'draining' || tt.state === 'closed'), 8000, 'StopCCN');
    expect(shard.listSessions()).toEqual([]);
  });

  it('a LAC restarted on its one port while the old tunnel is held after StopCCN gets port 1701, not an ephemeral one', async () => {
    // xl2tpd keeps sending to 1701 whatever port answered: with the kernel data plane only the tunnel bound to
    // 1701 and connected to the LAC gets its data, so the new tunnel must take that socket over.
    const { shard } = await ourLns('127.0.30.3');
    const x = await lac('127.0.30.4', '127.0.30.3');
    await x.control('c t1');
    await until(() => shard.listTunnels().some((t) => t.state === 'established'), 8000, 'first tunnel');
    const first = shard.listTunnels()[0]!.tunnelId;
    await x.control('d t1'); // StopCCN
    await until(() => shard.listTunnels().every((t) => t.state === 'draining' || t.state === 'closed'), 8000, 'StopCCN');
    await x.stop();
    const again = await lac('127.0.30.4', '127.0.30.3');
    await again.control('c t1');
    await until(() => shard.listTunnels().some((t) => t.tunnelId !== first && t.state === 'established'), 8000, 'second tunnel');
    const second = shard.listTunnels().find((t) => t.tunnelId !== first)!;
    expect(second).toMatchObject({ peerPort: 1701, localPort: 1701 });
    // The held tunnel is still there (RFC 2661 §5.7), without a socket.
    expect(shard.listTunnels().find((t) => t.tunnelId === first)?.state).toBe('draining');
  });
});
