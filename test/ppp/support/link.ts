/**
 * Two PPP engines (client ⇄ server) joined by a link in virtual time: each frame is delivered after
 * `delayMs` unless `drop` says otherwise; every frame is recorded, decoded, for assertions.
 */
import { VirtualClock } from '../../../src/transport/clock.js';
import { PppEngine } from '../../../src/ppp/engine.js';
import { decodeControl, decodeFrame } from '../../../src/ppp/frame.js';
import type { AddressAllocator, PppDownReason, PppEngineConfig, PppUpInfo } from '../../../src/ppp/types.js';
import { fakePapClient, fakePapServer, MapVerifier } from './fake-pap.js';

export type Dir = 'c2s' | 's2c';

export interface WireRecord {
  dir: Dir;
  at: number;
  protocol: number;
  code?: number;
  identifier?: number;
  frame: Buffer;
}

/** A seeded PRNG (mulberry32) so every run draws the same magic numbers. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class FakePool implements AddressAllocator {
  private free: string[];
  readonly taken = new Set<string>();
  releases = 0;
  constructor(addresses: string[]) {
    this.free = [...addresses];
  }
  allocate(hint?: string): string | undefined {
    const i = hint ? this.free.indexOf(hint) : -1;
    const a = i >= 0 ? this.free.splice(i, 1)[0] : this.free.shift();
    if (a) this.taken.add(a);
    return a;
  }
  release(a: string): void {
    if (!this.taken.delete(a)) throw new Error(`release of ${a} not taken`);
    this.releases++;
    this.free.push(a);
  }
}

export interface Side {
  engine: PppEngine;
  ups: PppUpInfo[];
  downs: PppDownReason[];
}

export interface PairOptions {
  server?: Partial<PppEngineConfig>;
  client?: Partial<PppEngineConfig>;
  delayMs?: number;
  /** Return true to lose the frame. */
  drop?: (r: WireRecord) => boolean;
  seed?: number;
}

export function pair(o: PairOptions = {}) {
  const clock = new VirtualClock(1_000_000);
  const wire: WireRecord[] = [];
  const pool = new FakePool(['192.0.2.10', '192.0.2.11']);
  const verifier = new MapVerifier({ alice: { password: 'secret', attributes: { 'Session-Timeout': 3600 } } });
  const sides = {} as { server: Side; client: Side };
  const link = (dir: Dir) => (frame: Buffer) => {
    const r: WireRecord = { dir, at: clock.now(), protocol: -1, frame };
    try {
      const f = decodeFrame(frame);
      r.protocol = f.protocol;
      const p = decodeControl(f.payload);
      r.code = p.code;
      r.identifier = p.identifier;
    } catch {
      /* recorded raw */
    }
    wire.push(r);
    if (o.drop?.(r)) return;
    const to = dir === 'c2s' ? sides.server : sides.client;
    clock.setTimeout(() => to.engine.receive(frame), o.delayMs ?? 10);
  };
  const make = (role: 'server' | 'client', dir: Dir, extra: Partial<PppEngineConfig> | undefined, seed: number): Side => {
    const side: Side = { ups: [], downs: [] } as unknown as Side;
    side.engine = new PppEngine({
      role,
      clock,
      send: link(dir),
      random: seeded(seed),
      auth: ['pap'],
      ...(role === 'server'
        ? { authServer: fakePapServer.factory, verifier, allocator: pool, dns: ['198.51.100.53', '198.51.100.54'], localAddress: '192.0.2.1' }
        : { authClient: fakePapClient, credentials: { user: 'alice', password: 'secret' } }),
      onUp: (i) => side.ups.push(i),
      onDown: (r) => side.downs.push(r),
      ...extra,
    });
    return side;
  };
  sides.server = make('server', 's2c', o.server, o.seed ?? 1);
  sides.client = make('client', 'c2s', o.client, (o.seed ?? 1) + 100);
  return { clock, wire, pool, verifier, ...sides };
}

/** Let pending promises (the verifier) settle between virtual-time steps. */
export async function run(clock: VirtualClock, ms: number, stepMs = 10): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(stepMs);
    await new Promise<void>((r) => setImmediate(r));
  }
}
