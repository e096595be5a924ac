/**
 * Two concentrators in one process over loopback UDP: one as LAC (creates the tunnel and places an
 * incoming call), one as LNS. Real sockets, real timers; the machines, channel and codec together.
 */
import dgram from 'node:dgram';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL_OPTIONS, type TunnelOptions } from '../../src/actors/options.js';
import { NullDataPlane } from '../../src/dataplane/null.js';
import { systemClock } from '../../src/transport/clock.js';
import { Listener } from '../../src/workers/listener.js';
import { Shard, type PeerPolicy } from '../../src/workers/shard.js';
import { UdpSocketFactory } from '../../src/workers/sockets.js';
import { peekHeader } from '../../src/protocol/index.js';

const log = pino({ level: 'silent' });

function node(options: Partial<TunnelOptions>, decide?: PeerPolicy['incoming']) {
  const opts = { ...DEFAULT_TUNNEL_OPTIONS, ...options };
  const dataPlane = new NullDataPlane();
  const shard = new Shard({
    index: 0,
    count: 1,
    clock: systemClock,
    dataPlane,
    log,
    sockets: new UdpSocketFactory(),
    policy: {
      incoming: decide ?? (() => ({ accept: true, profile: 'default', options: opts })),
      profile: (name) => (name === 'default' ? opts : undefined),
    },
    limits: { maxTunnels: 100, maxHalfOpenTunnels: 100 },
    forward: () => undefined,
  });
  const listener = new Listener((b, f, t) => shard.handlePacket(b, f, t));
  return { shard, listener, dataPlane };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function pair(lnsOpts: Partial<TunnelOptions>, lacOpts: Partial<TunnelOptions>, addr: string, decide?: PeerPolicy['incoming']) {
  const lns = node({ hostName: 'lns', ...lnsOpts }, decide);
  await lns.listener.listen([{ address: addr, port: 1701 }]);
  const lac = node({ hostName: 'lac', ...lacOpts });
  cleanups.push(async () => {
    await lac.shard.closeAll(200);
    await lns.shard.closeAll(200);
    lns.listener.close();
  });
  return { lns, lac };
}

describe('LAC ⇄ LNS in process', () => {
  it('v2: tunnel and an incoming call come up, then the LAC hangs up with CDN and closes with StopCCN', async () => {
    const { lns, lac } = await pair({}, {}, '127.0.20.1');
    const info = await lac.shard.createTunnel({ peer: { address: '127.0.20.1', port: 1701 }, profile: 'default' });
    await until(() => lns.shard.listTunnels()[0]?.state === 'established' && lac.shard.listTunnels()[0]?.state === 'established');
    const lnsT = lns.shard.listTunnels()[0]!;
    expect(lnsT).toMatchObject({ peerHostName: 'lac', version: 2, role: 'responder', peerTunnelId: info.tunnelId });
    expect(lac.shard.listTunnels()[0]).toMatchObject({ peerHostName: 'lns', peerTunnelId: lnsT.tunnelId });

    const s = lac.shard.createSession(info.tunnelId, 'lacIncoming', { callingNumber: '5551234', calledNumber: '100' });
    await until(() => lns.shard.listSessions()[0]?.state === 'established' && lac.shard.listSessions()[0]?.state === 'established');
    expect(lns.shard.listSessions()[0]).toMatchObject({ callType: 'lnsIncoming', peerSessionId: s.sessionId, callingNumber: '5551234', calledNumber: '100' });
    expect(lns.dataPlane.snapshot().sessions).toHaveLength(1);

    lac.shard.deleteSession(info.tunnelId, s.sessionId);
    await until(() => lns.shard.listSessions().length === 0 && lac.shard.listSessions().length === 0);
    expect(lns.dataPlane.snapshot().sessions).toHaveLength(0);

    lac.shard.deleteTunnel(info.tunnelId);
    await until(() => lns.shard.listTunnels().every((t) => t.state === 'draining'));
    await until(() => lac.shard.listTunnels().length === 0);
  });

  it('v2 challenge authentication both ways; a wrong secret is refused with StopCCN 4', async () => {
    const good = await pair({ authMode: 'challenge', secret: Buffer.from('s3cret') }, { authMode: 'challenge', secret: Buffer.from('s3cret') }, '127.0.20.2');
    const t = await good.lac.shard.createTunnel({ peer: { address: '127.0.20.2', port: 1701 }, profile: 'default' });
    await until(() => good.lac.shard.listTunnels()[0]?.state === 'established' && good.lns.shard.listTunnels()[0]?.state === 'established');
    expect(t.tunnelId).toBeGreaterThan(0);

    // The LNS acks the StopCCN after 200 ms (not within 20 ms, its default), so the LAC's tunnel is still listed with its reason.
    const bad = await pair({ authMode: 'challenge', secret: Buffer.from('s3cret'), ackDelayMs: 200, ackDelayUnansweredMs: 200 }, { authMode: 'challenge', secret: Buffer.from('wrong') }, '127.0.20.3');
    await bad.lac.shard.createTunnel({ peer: { address: '127.0.20.3', port: 1701 }, profile: 'default' });
    // The LNS checks the LAC's response in SCCRP... the LAC checks ours first: it refuses our SCCRP.
    await until(() => bad.lac.shard.listTunnels().every((x) => x.state !== 'waitCtlReply'));
    const lacT = bad.lac.shard.listTunnels()[0];
    expect(lacT?.reason ?? '').toMatch(/StopCCN sent: result 4.*challenge response/);
  });

  it('v3: control connection and an Ethernet pseudowire session with cookies, with message digest authentication', async () => {
    const v3 = { version: 3 as const, authMode: 'challenge' as const, secret: Buffer.from('v3secret'), session: { pseudowire: 'ethernet' as const, sequencing: false, cookieLength: 8 as const, l2SpecificSublayer: 'default' as const } };
    const { lns, lac } = await pair(v3, v3, '127.0.20.4');
    const t = await lac.shard.createTunnel({ peer: { address: '127.0.20.4', port: 1701 }, profile: 'default' });
    await until(() => lac.shard.listTunnels()[0]?.state === 'established' && lns.shard.listTunnels()[0]?.state === 'established');
    expect(lns.shard.listTunnels()[0]).toMatchObject({ version: 3, peerTunnelId: t.tunnelId });
    lac.shard.createSession(t.tunnelId, 'lacIncoming', {});
    await until(() => lns.shard.listSessions()[0]?.state === 'established' && lac.shard.listSessions()[0]?.state === 'established');
    const a = lac.shard.session(t.tunnelId, lac.shard.listSessions()[0]!.sessionId)!;
    const b = lns.shard.session(lns.shard.listTunnels()[0]!.tunnelId, lns.shard.listSessions()[0]!.sessionId)!;
    expect(a.data.pseudowire).toBe('ethernet');
    expect(a.data.peerCookie).toBe(b.data.ourCookie);
    expect(b.data.peerCookie).toBe(a.data.ourCookie);
    expect(a.data.ourCookie).toHaveLength(16);
    expect(lns.shard.listTunnels()[0]!.control.retransmitted).toBe(0);
  });

  it('v3 for Ethernet pseudowires toward a silent peer keeps asking in L2TPv3: no fallback to L2TPv2', async () => {
    // A peer that is down (a persistent tunnel waiting for it) must find a v3 tunnel when it returns: L2TPv2 cannot
    // carry Ethernet. Only PPP tunnels fall back (for xl2tpd, which drops L2TPv3 SCCRQs silently).
    const silent = dgram.createSocket('udp4');
    const versions: number[] = [];
    silent.on('message', (b) => versions.push(peekHeader(b).version));
    await new Promise<void>((r) => silent.bind(1701, '127.0.20.11', r));
    const ethernet = { pseudowire: 'ethernet' as const, sequencing: false, cookieLength: 0 as const, l2SpecificSublayer: 'none' as const };
    const lac = node({ version: 3, retransmitInitialMs: 10, maxRetransmits: 5, session: ethernet });
    cleanups.push(async () => {
      await lac.shard.closeAll(100);
      silent.close();
    });
    await lac.shard.createTunnel({ peer: { address: '127.0.20.11', port: 1701 }, profile: 'default' });
    await until(() => lac.shard.listTunnels().length === 0, 10_000);
    expect(versions.length).toBeGreaterThanOrEqual(6);
    expect(new Set(versions)).toEqual(new Set([3]));
  });

  it('both sides open a tunnel at once: the tie breaker leaves exactly one (RFC 2661 §4.4.3)', async () => {
    const a = node({ hostName: 'a' });
    const b = node({ hostName: 'b' });
    await a.listener.listen([{ address: '127.0.20.7', port: 1701 }]);
    await b.listener.listen([{ address: '127.0.20.8', port: 1701 }]);
    cleanups.push(async () => {
      await a.shard.closeAll(200);
      await b.shard.closeAll(200);
      a.listener.close();
      b.listener.close();
    });
    await Promise.all([
      a.shard.createTunnel({ peer: { address: '127.0.20.8', port: 1701 }, local: { address: '127.0.20.7', port: 0 }, profile: 'default' }),
      b.shard.createTunnel({ peer: { address: '127.0.20.7', port: 1701 }, local: { address: '127.0.20.8', port: 0 }, profile: 'default' }),
    ]);
    const up = (n: typeof a) => n.shard.listTunnels().filter((t) => t.state === 'established');
    await until(() => up(a).length === 1 && up(b).length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(up(a)).toHaveLength(1);
    expect(up(b)).toHaveLength(1);
    expect(up(a)[0]!.peerTunnelId).toBe(up(b)[0]!.tunnelId);
    // The loser discarded its own SCCRQ silently: its tunnel is gone, not stopping with a StopCCN.
    const roles = [...up(a), ...up(b)].map((t) => t.role).sort();
    expect(roles).toEqual(['initiator', 'responder']);
  });

  it('LNS-originated outgoing call (OCRQ/OCRP/OCCN), with hidden AVPs on the wire', async () => {
    const secret = Buffer.from('hide-me');
    const { lns, lac } = await pair({ hideAvps: true, secret, authMode: 'challenge' }, { hideAvps: true, secret, authMode: 'challenge' }, '127.0.20.9');
    // The LAC opens the tunnel; the LNS then places an outgoing call through it.
    await lac.shard.createTunnel({ peer: { address: '127.0.20.9', port: 1701 }, profile: 'default' });
    await until(() => lns.shard.listTunnels()[0]?.state === 'established' && lac.shard.listTunnels()[0]?.state === 'established');
    const lnsTunnel = lns.shard.listTunnels()[0]!;
    const s = lns.shard.createSession(lnsTunnel.tunnelId, 'lnsOutgoing', { calledNumber: '5550123' });
    await until(() => lns.shard.listSessions()[0]?.state === 'established' && lac.shard.listSessions()[0]?.state === 'established');
    expect(lac.shard.listSessions()[0]).toMatchObject({ callType: 'lacOutgoing', peerSessionId: s.sessionId, calledNumber: '5550123' });
    expect(lns.shard.listSessions()[0]).toMatchObject({ callType: 'lnsOutgoing' });
  });
});
