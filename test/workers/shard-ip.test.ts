/**
 * L2TPv3 over IP through the shard, on any host: two shards joined by a fake IP network that routes by Control
 * Connection ID as l2tp_ip does (0 → the listener of the destination address, otherwise the socket bound to that
 * ID), carrying packets as on the wire. The real sockets (native addon, kernel) run in the VM
 * (test/vm/kernel-l2tpv3.test.ts); the null data plane refuses IP encapsulation.
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL_OPTIONS, type TunnelOptions } from '../../src/actors/options.js';
import { NullDataPlane } from '../../src/dataplane/null.js';
import { systemClock } from '../../src/transport/clock.js';
import { Shard, ShardError } from '../../src/workers/shard.js';
import { UdpSocketFactory, type IpSocketFactory, type PacketHandler, type TunnelSocket } from '../../src/workers/sockets.js';

const log = pino({ level: 'silent' });

/** l2tp_ip's demultiplexing, between addresses of one process. */
class FakeIpNetwork {
  private readonly bound = new Map<string, (buf: Buffer) => void>();
  private readonly listeners = new Map<string, Shard>();
  readonly wire: Buffer[] = [];

  listen(address: string, shard: Shard): void {
    this.listeners.set(address, shard);
  }

  factory(): IpSocketFactory {
    return {
      open: async (local: string, peer: string, connId: number, onPacket: PacketHandler): Promise<TunnelSocket> => {
        const key = `${local}|${connId}`;
        if (this.bound.has(key)) throw new Error('EADDRINUSE');
        const ts: TunnelSocket = {
          local: { address: local, port: 0 },
          fd: undefined,
          send: (buf) => this.route(local, peer, buf),
          close: () => this.bound.delete(key),
        };
        this.bound.set(key, (buf) => onPacket(buf, { address: peer, port: 0 }, ts));
        return ts;
      },
    };
  }

  private route(from: string, to: string, buf: Buffer): void {
    this.wire.push(buf);
    // RFC 3931 §4.1.1.2: a zero Session ID, then the control header; its Control Connection ID at octet 4 of it.
    const connId = buf.readUInt32BE(4 + 4);
    queueMicrotask(() => {
      if (connId === 0) this.listeners.get(to)?.handlePacket(buf, { address: from, port: 0 }, { address: to, port: 0 }, undefined, 'ip');
      else this.bound.get(`${to}|${connId}`)?.(buf);
    });
  }
}

const V3_IP: Partial<TunnelOptions> = {
  version: 3,
  encapsulation: 'ip',
  authMode: 'challenge',
  secret: Buffer.from('ip-secret'),
  session: { pseudowire: 'ethernet', sequencing: false, cookieLength: 4, l2SpecificSublayer: 'default' },
};

function shard(options: Partial<TunnelOptions>, ipSockets?: IpSocketFactory): Shard {
  const opts = { ...DEFAULT_TUNNEL_OPTIONS, ...options };
  return new Shard({
    index: 0,
    count: 1,
    clock: systemClock,
    dataPlane: new NullDataPlane(),
    log,
    sockets: new UdpSocketFactory(),
    ...(ipSockets ? { ipSockets } : {}),
    policy: { incoming: () => ({ accept: true, profile: 'default', options: opts }), profile: (name) => (name === 'default' ? opts : undefined) },
    limits: { maxTunnels: 100, maxHalfOpenTunnels: 100 },
    forward: () => undefined,
  });
}

const shards: Shard[] = [];
afterEach(async () => {
  for (const s of shards.splice(0)) await s.closeAll(100);
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('L2TPv3 over IP in the shard', () => {
  it('control connection and an Ethernet session over IP, with the zero Session ID on the wire', async () => {
    const net = new FakeIpNetwork();
    // The responder's own profile says UDP: an SCCRQ that came over IP makes an IP tunnel all the same.
    const a = shard(V3_IP, net.factory());
    const b = shard({ ...V3_IP, encapsulation: 'udp' }, net.factory());
    shards.push(a, b);
    net.listen('198.18.0.2', b);
    const t = await a.createTunnel({ peer: { address: '198.18.0.2', port: 1701 }, local: { address: '198.18.0.1', port: 0 }, profile: 'default' });
    expect(t).toMatchObject({ localAddress: '198.18.0.1', localPort: 0, peerPort: 0 });
    await until(() => a.listTunnels()[0]?.state === 'established' && b.listTunnels()[0]?.state === 'established');
    const tb = b.listTunnels()[0]!;
    expect(tb).toMatchObject({ version: 3, role: 'responder', peerAddress: '198.18.0.1', peerPort: 0, peerTunnelId: t.tunnelId });
    expect(b.tunnels.get(tb.tunnelId)!.options.encapsulation).toBe('ip');

    const s = a.createSession(t.tunnelId, 'lacIncoming', {});
    await until(() => a.listSessions()[0]?.state === 'established' && b.listSessions()[0]?.state === 'established');
    // Over IP the kernel finds a session by its ID alone: each tunnel's IDs come from a block of its own.
    expect(s.sessionId).toBe(t.tunnelId * 0x10000 + 1);
    expect(b.listSessions()[0]!.sessionId).toBe(tb.tunnelId * 0x10000 + 1);
    expect(net.wire.length).toBeGreaterThan(5);
    for (const p of net.wire) expect(p.readUInt32BE(0)).toBe(0);
  });

  it('the null data plane refuses it, saying what would make it work', async () => {
    const a = shard(V3_IP);
    shards.push(a);
    const e = await a.createTunnel({ peer: { address: '198.18.0.2', port: 1701 }, profile: 'default' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ShardError);
    expect(e).toMatchObject({ code: 'refused', message: expect.stringMatching(/L2TPv3 over IP needs the kernel data plane.*encapsulation: udp/) });
    expect(a.listTunnels()).toEqual([]);
  });
});
