/**
 * l2tpd against xl2tpd (Debian's, a real L2TPv2 LAC and LNS) on loopback, driven and observed
 * through l2tpctl --json, as an operator would.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionInfo, TunnelInfo } from '../../src/workers/views.js';
import { startDaemon, until, type DaemonProc } from '../support/daemon.js';
import { startXl2tpd, type Xl2tpd } from '../support/xl2tpd.js';

const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

async function daemon(listen: string, config = ''): Promise<DaemonProc> {
  const d = await startDaemon({ listen, config });
  stops.push(() => d.stop());
  return d;
}
async function xl2tpd(o: Parameters<typeof startXl2tpd>[0]): Promise<Xl2tpd> {
  const x = await startXl2tpd(o);
  stops.push(() => x.stop());
  return x;
}

const logged = (d: DaemonProc, msg: string) => d.logLines().filter((l) => l['msg'] === msg);

describe('xl2tpd as LAC dials l2tpd as LNS', () => {
  it('tunnel and session come up (l2tpctl shows them), HELLOs are exchanged, hang-up gives CDN then StopCCN', async () => {
    const d = await daemon('127.0.60.1:1701', 'tunnel_profiles:\n  default:\n    hello_interval: 1s\n');
    const x = await xl2tpd({ listenAddr: '127.0.60.2', lacs: [{ name: 't1', lns: '127.0.60.1', hostname: 'lac-one' }] });
    await x.control('c t1');
    const t = await until(async () => (await d.json<TunnelInfo[]>('show', 'tunnels')).find((tt) => tt.state === 'established'), 10_000, 'tunnel');
    expect(t).toMatchObject({ version: 2, peerHostName: 'lac-one', peerAddress: '127.0.60.2', peerPort: 1701, role: 'responder', localAddress: '127.0.60.1' });
    expect(t.peerTunnelId).toBeGreaterThan(0);
    // pppd cannot run on this host, so xl2tpd clears the call right after ICCN: the session was established first.
    const up = await until(() => logged(d, 'session established')[0], 10_000, 'session established');
    expect(up).toMatchObject({ tunnel: t.tunnelId, callType: 'lnsIncoming' });
    const down = await until(() => logged(d, 'session closed')[0], 10_000, 'session closed');
    expect(String(down['reason'])).toMatch(/^CDN received: result 1/);

    // Our HELLOs (every second when idle) are acknowledged by xl2tpd: nothing is retransmitted.
    const before = (await d.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).control;
    await new Promise((r) => setTimeout(r, 2600));
    const after = (await d.json<TunnelInfo>('show', 'tunnel', String(t.tunnelId))).control;
    expect(after.sent - before.sent).toBeGreaterThanOrEqual(2);
    expect(after.retransmitted).toBe(0);
    expect(after.unacked).toBe(0);

    // Trace one tunnel at run time: its messages are logged at debug level, tagged with its ID.
    expect((await d.ctl('trace', 'debug', '--tunnel', String(t.tunnelId))).code).toBe(0);
    const traced = await until(() => d.logLines().find((l) => l['msg'] === 'sent' && l['tunnel'] === t.tunnelId && l['type'] === 'HELLO'), 5000, 'traced HELLO');
    expect(traced['level']).toBe(20);
    expect((await d.ctl('trace', 'debug', '--tunnel', '9999')).code).toBe(3);

    await x.control('d t1');
    // xl2tpd's StopCCN puts our tunnel in `draining` (state held one retransmission cycle to re-ack it).
    const draining = await until(async () => (await d.json<TunnelInfo[]>('show', 'tunnels')).find((tt) => tt.state === 'draining'), 10_000, 'StopCCN handled');
    expect(draining.reason).toMatch(/^StopCCN received: result \d/);
    expect(draining.sessionCount).toBe(0);
  });

  it('several xl2tpd LACs at once each get their own tunnel', async () => {
    const d = await daemon('127.0.61.1:1701');
    const lacs = await Promise.all(
      [2, 3, 4].map((i) => xl2tpd({ listenAddr: `127.0.61.${i}`, lacs: [{ name: 't1', lns: '127.0.61.1', hostname: `lac-${i}` }] })),
    );
    for (const x of lacs) await x.control('c t1');
    const tunnels = await until(async () => {
      const ts = await d.json<TunnelInfo[]>('show', 'tunnels');
      return ts.filter((t) => t.state === 'established').length === 3 ? ts : undefined;
    }, 10_000, 'three tunnels');
    expect(tunnels.map((t) => t.peerHostName).sort()).toEqual(['lac-2', 'lac-3', 'lac-4']);
    expect(new Set(tunnels.map((t) => t.tunnelId)).size).toBe(3);
    // Tunnel IDs name their shard: both shards of the daemon took some (hash of peer address:port).
    expect(tunnels.every((t) => t.tunnelId % 2 === t.shard)).toBe(true);
    await until(() => logged(d, 'session established').length === 3 || undefined, 10_000, 'three sessions');
  });
});

describe('l2tpd as LAC dials xl2tpd as LNS', () => {
  it('tunnel and session (created with l2tpctl) are established', async () => {
    const d = await daemon('127.0.62.1:1701');
    const x = await xl2tpd({ listenAddr: '127.0.62.2', lns: { hostname: 'peer-lns' } });
    const created = await d.json<TunnelInfo>('tunnel', 'create', '--peer', '127.0.62.2:1701', '--local', '127.0.62.1');
    expect(created.state).toBe('waitCtlReply');
    const t = await until(async () => {
      const tt = await d.json<TunnelInfo>('show', 'tunnel', String(created.tunnelId));
      return tt.state === 'established' ? tt : undefined;
    }, 10_000, 'tunnel');
    expect(t).toMatchObject({ peerHostName: 'peer-lns', role: 'initiator', peerAddress: '127.0.62.2' });
    const s = await d.json<SessionInfo>('session', 'create', String(t.tunnelId), '--calling', '5550100');
    expect(s).toMatchObject({ tunnelId: t.tunnelId, callType: 'lacIncoming' });
    const up = await until(() => logged(d, 'session established')[0], 10_000, 'session established');
    expect(up).toMatchObject({ tunnel: t.tunnelId, session: s.sessionId, callType: 'lacIncoming' });
    expect(x.log()).toMatch(/Call established with 127\.0\.62\.1/);
  });
});

describe('tunnel authentication with xl2tpd', () => {
  const challengeConfig = (secret: string) => `
tunnel_profiles:
  default:
    auth_mode: challenge
    secret: ${secret}
`;

  it('challenge authentication both ways with the right secret', async () => {
    const d = await daemon('127.0.63.1:1701', challengeConfig('sharedsecret'));
    const x = await xl2tpd({ listenAddr: '127.0.63.2', secret: 'sharedsecret', lacs: [{ name: 't1', lns: '127.0.63.1', hostname: 'lac-auth', challenge: true }] });
    await x.control('c t1');
    await until(async () => (await d.json<TunnelInfo[]>('show', 'tunnels')).find((t) => t.state === 'established'), 10_000, 'tunnel');
    expect(x.log()).toMatch(/Connection established/);
  });

  it('a wrong secret is refused with StopCCN result 4', async () => {
    const d = await daemon('127.0.63.5:1701', challengeConfig('sharedsecret'));
    const x = await xl2tpd({ listenAddr: '127.0.63.6', secret: 'not-the-secret', lacs: [{ name: 't1', lns: '127.0.63.5', hostname: 'lac-bad', challenge: true }] });
    await x.control('c t1');
    // Whichever side detects the bad response first sends StopCCN result 4; the tunnel never gets established.
    const t = await until(async () => (await d.json<TunnelInfo[]>('show', 'tunnels')).find((tt) => tt.reason !== null), 15_000, 'refusal');
    expect(t.state).toMatch(/stopping|draining/);
    expect(`${t.reason}\n${x.log()}`).toMatch(/result 4|Invalid challenge/);
    expect(logged(d, 'tunnel established')).toEqual([]);
  });

  it('an unknown peer is refused with StopCCN result 4 when only known peers are accepted', async () => {
    const d = await daemon(
      '127.0.63.9:1701',
      `peer_profiles:
  default:
    accept: false
  known:
    match: { host_name: "lac-known" }
    accept: true
`,
    );
    const x = await xl2tpd({ listenAddr: '127.0.63.10', lacs: [{ name: 't1', lns: '127.0.63.9', hostname: 'lac-stranger' }] });
    await x.control('c t1');
    const refused = await until(() => logged(d, 'tunnel refused by peer policy')[0], 10_000, 'refusal');
    expect(refused).toMatchObject({ hostName: 'lac-stranger' });
    await until(() => /StopCCN|Result code 4|result code 4|Not authorized|not authorized/i.test(x.log()) || undefined, 10_000, 'xl2tpd to see StopCCN');
  });
});
