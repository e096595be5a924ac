/**
 * Kernel data plane, L2TPv2 over UDP: session IDs are unique per peer address and port across that peer's tunnels
 * (src/workers/shard.ts `peerSessionIds`). A one-port LAC sends every tunnel's data to the first tunnel's socket,
 * where the 6.1 kernel looks sessions up in that tunnel by ID alone: a shared ID would put one subscriber's frames
 * into another's session. White-box: the allocator is private, the behaviour needs two live one-port tunnels.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TUNNEL_OPTIONS } from '../../src/actors/options.js';
import { NullDataPlane } from '../../src/dataplane/null.js';
import { systemClock } from '../../src/transport/clock.js';
import { Shard } from '../../src/workers/shard.js';
import { UdpSocketFactory } from '../../src/workers/sockets.js';
import type { IdAllocator } from '../../src/workers/id-allocator.js';

function shard(kind: 'kernel' | 'null'): Shard {
  const dataPlane = new NullDataPlane();
  Object.defineProperty(dataPlane, 'kind', { value: kind });
  const opts = DEFAULT_TUNNEL_OPTIONS;
  return new Shard({
    index: 0, count: 1, clock: systemClock, dataPlane, log: pino({ level: 'silent' }), sockets: new UdpSocketFactory(),
    policy: { incoming: () => ({ accept: true, profile: 'default', options: opts }), profile: () => opts },
    limits: { maxTunnels: 10, maxHalfOpenTunnels: 10 }, forward: () => undefined,
  });
}

type TunnelLike = { id: number; data: { version: 2 | 3; peer: { address: string; port: number } }; options: { encapsulation: 'udp' | 'ip' } };
const tunnel = (id: number, port: number, version: 2 | 3 = 2): TunnelLike => ({ id, data: { version, peer: { address: '198.18.0.9', port } }, options: { encapsulation: 'udp' } });
const allocatorOf = (s: Shard, t: TunnelLike) => (s as unknown as { sessionAllocator(t: TunnelLike): IdAllocator }).sessionAllocator(t);

describe('session IDs per peer address and port (kernel plane, L2TPv2)', () => {
  it('two tunnels from one LAC port never hand out the same session ID', () => {
    const s = shard('kernel');
    const a = allocatorOf(s, tunnel(1, 1701));
    const b = allocatorOf(s, tunnel(2, 1701));
    const ids = [a.allocate(), b.allocate(), a.allocate(), b.allocate()];
    expect(new Set(ids).size).toBe(4);
  });

  it('keeps separate spaces for another port, for L2TPv3, and with the null data plane', () => {
    const k = shard('kernel');
    expect(allocatorOf(k, tunnel(1, 1701)).allocate()).toBe(allocatorOf(k, tunnel(2, 1702)).allocate());
    expect(allocatorOf(k, tunnel(3, 1701, 3))).not.toBe(allocatorOf(k, tunnel(4, 1701, 3)));
    const n = shard('null');
    expect(allocatorOf(n, tunnel(1, 1701))).not.toBe(allocatorOf(n, tunnel(2, 1701)));
  });
});
