/**
 * Address pools: the leak test (100k random allocate/release cycles, never a duplicate, everything
 * free at the end), a model-based property test, and the range/prefix/identifier arithmetic.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexPool, InterfaceIdPool, Ipv4Pool, Ipv6PrefixPool, PoolConfigError, type AddressAllocator } from '../../src/aaa/index.js';
import { shardPool } from '../../src/workers/ppp-service.js';

/** Small deterministic PRNG (mulberry32) so a failure reproduces. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function leakTest(pool: AddressAllocator, cycles: number, seed: number, hintOf: (r: () => number) => string): void {
  const random = rng(seed);
  const held: string[] = [];
  const heldSet = new Set<string>();
  let exhausted = 0;
  for (let n = 0; n < cycles; n++) {
    // Phases of mostly-allocate and mostly-release, each long enough to fill or drain the pool: it runs dry repeatedly.
    const filling = Math.floor(n / (3 * pool.size)) % 2 === 0;
    if (held.length === 0 || random() < (filling ? 0.75 : 0.3)) {
      const addr = pool.allocate(random() < 0.2 ? hintOf(random) : undefined);
      if (addr === undefined) {
        exhausted++;
        expect(held.length).toBe(pool.size);
        continue;
      }
      if (heldSet.has(addr)) throw new Error(`cycle ${n}: ${addr} handed out twice`);
      heldSet.add(addr);
      held.push(addr);
    } else {
      const k = Math.floor(random() * held.length);
      const addr = held[k]!;
      held[k] = held[held.length - 1]!;
      held.pop();
      heldSet.delete(addr);
      expect(pool.release(addr)).toBe(true);
      if (random() < 0.05) expect(pool.release(addr)).toBe(false); // a double release is refused and harmless
    }
    if ((n & 0x3ff) === 0) expect(pool.available).toBe(pool.size - held.length);
  }
  for (const addr of held) expect(pool.release(addr)).toBe(true);
  expect(pool.available).toBe(pool.size);
  expect(exhausted).toBeGreaterThan(0); // the test did drive the pool to exhaustion
  // Every address can be had again exactly once.
  const all = new Set<string>();
  for (let i = 0; i < pool.size; i++) all.add(pool.allocate()!);
  expect(all.size).toBe(pool.size);
  expect(pool.allocate()).toBeUndefined();
}

describe('leak test: 100k random allocate/release cycles', () => {
  it('IPv4 range pool', () => {
    const pool = new Ipv4Pool('p', ['198.18.1.10-198.18.1.250']);
    expect(pool.size).toBe(241);
    leakTest(pool, 100_000, 1, (r) => `198.18.1.${Math.floor(r() * 256)}`);
  });

  it('IPv6 /64s delegated out of a /52', () => {
    const pool = new Ipv6PrefixPool('pd', '2001:db8:100::/52', 64);
    expect(pool.size).toBe(4096);
    leakTest(pool, 100_000, 2, (r) => `2001:db8:100:${Math.floor(r() * 0x1000).toString(16)}::/64`);
  });

  it('IPv6CP interface identifiers', () => {
    const pool = new InterfaceIdPool('ifid', '0:0:0:1-0:0:0:200');
    expect(pool.size).toBe(512);
    leakTest(pool, 100_000, 3, (r) => `0:0:0:${Math.floor(r() * 0x300).toString(16)}`);
  });
});

describe('IndexPool against a model', () => {
  it('matches a Set model under any sequence of allocate / allocateIndex / release', () => {
    const op = fc.oneof(
      fc.constant({ k: 'alloc' as const, i: 0 }),
      fc.nat(40).map((i) => ({ k: 'take' as const, i })),
      fc.nat(40).map((i) => ({ k: 'release' as const, i })),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 32 }), fc.array(op, { maxLength: 300 }), (size, ops) => {
        const pool = new IndexPool(size);
        const used = new Set<number>();
        for (const { k, i } of ops) {
          if (k === 'alloc') {
            const got = pool.allocate();
            if (used.size === size) expect(got).toBe(-1);
            else {
              expect(got).toBeGreaterThanOrEqual(0);
              expect(used.has(got)).toBe(false);
              used.add(got);
            }
          } else if (k === 'take') {
            expect(pool.allocateIndex(i)).toBe(i < size && !used.has(i));
            if (i < size) used.add(i);
          } else {
            expect(pool.release(i)).toBe(used.has(i));
            used.delete(i);
          }
          expect(pool.used).toBe(used.size);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('hands out exactly what a FIFO model does while its ring of released indices grows (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer(),
        fc.array(fc.tuple(fc.constantFrom('alloc', 'release', 'take'), fc.integer({ min: 1, max: 1500 })), { maxLength: 12 }),
        (size, seed, steps) => {
          const random = rng(seed);
          const pool = new IndexPool(size);
          // The model: a cursor over never-used indices, then a plain array queue of released ones.
          const used = new Set<number>();
          const queued = new Set<number>();
          const queue: number[] = [];
          let cursor = 0;
          const modelAlloc = (): number => {
            while (cursor < size) {
              const i = cursor++;
              if (!used.has(i)) return used.add(i), i;
            }
            while (queue.length > 0) {
              const i = queue.shift()!;
              queued.delete(i);
              if (!used.has(i)) return used.add(i), i;
            }
            return -1;
          };
          for (const [k, n] of steps) {
            for (let j = 0; j < n; j++) {
              if (k === 'alloc') expect(pool.allocate()).toBe(modelAlloc());
              else {
                const i = Math.floor(random() * size);
                if (k === 'take') {
                  expect(pool.allocateIndex(i)).toBe(!used.has(i));
                  used.add(i);
                } else {
                  const was = used.delete(i);
                  expect(pool.release(i)).toBe(was);
                  if (was && i < cursor && !queued.has(i)) queue.push(i), queued.add(i);
                }
              }
            }
            expect(pool.used).toBe(used.size);
          }
          // The ring never holds more slots than the pool has indices.
          expect(pool.bytes).toBeLessThanOrEqual(size * 5);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('a /10-sized pool starts with one octet per index, not five', () => {
    const pool = new IndexPool(1 << 22);
    expect(pool.bytes).toBe((1 << 22) + 4 * 1024);
  });

  it('hands out never-used indices first, then released ones oldest first', () => {
    const pool = new IndexPool(4);
    expect([pool.allocate(), pool.allocate()]).toEqual([0, 1]);
    pool.release(1);
    pool.release(0);
    expect([pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()]).toEqual([2, 3, 1, 0, -1]);
  });
});

describe('Ipv4Pool', () => {
  it('ranges, CIDR without network/broadcast, single addresses, in address order', () => {
    const pool = new Ipv4Pool('p', ['198.18.2.0/30', '198.18.1.250-198.18.1.251', '198.18.9.9']);
    expect(pool.size).toBe(2 + 2 + 1);
    const got = Array.from({ length: 5 }, () => pool.allocate());
    expect(got).toEqual(['198.18.1.250', '198.18.1.251', '198.18.2.1', '198.18.2.2', '198.18.9.9']);
    expect(pool.allocate()).toBeUndefined();
    expect(pool.exhaustions).toBe(1);
    expect(new Ipv4Pool('q', ['198.18.0.0/31']).size).toBe(2);
  });

  it('a hint is honoured when free and in the pool; reserve takes exactly that address or nothing', () => {
    const pool = new Ipv4Pool('p', ['198.18.1.10-198.18.1.20']);
    expect(pool.allocate('198.18.1.15')).toBe('198.18.1.15');
    expect(pool.allocate('198.18.1.15')).toBe('198.18.1.10'); // taken: any other
    expect(pool.allocate('203.0.113.1')).toBe('198.18.1.11'); // outside: any other
    expect(pool.reserve('198.18.1.15')).toBe(false);
    expect(pool.reserve('198.18.1.99')).toBe(false);
    expect(pool.reserve('198.18.1.20')).toBe(true);
    expect(pool.isAllocated('198.18.1.20')).toBe(true);
    expect(pool.release('198.18.1.20')).toBe(true);
    expect(pool.release('198.18.1.20')).toBe(false);
    expect(pool.release('nonsense')).toBe(false);
  });

  it('excluded addresses are never handed out nor released', () => {
    const pool = new Ipv4Pool('p', ['198.18.1.1-198.18.1.3'], { exclude: ['198.18.1.1'] });
    expect(pool.size).toBe(2);
    expect([pool.allocate(), pool.allocate(), pool.allocate()]).toEqual(['198.18.1.2', '198.18.1.3', undefined]);
    expect(pool.release('198.18.1.1')).toBe(false);
    expect(pool.contains('198.18.1.1')).toBe(false);
  });

  it('refuses bad configuration with the offending text', () => {
    expect(() => new Ipv4Pool('p', ['198.18.1.10-198.18.1.5'])).toThrow(/ends before it starts/);
    expect(() => new Ipv4Pool('p', ['198.18.1.0/24', '198.18.1.7'])).toThrow(/overlap at 198.18.1.7/);
    expect(() => new Ipv4Pool('p', ['198.18.1.1/24'])).toThrow(/host bits/);
    expect(() => new Ipv4Pool('p', ['2001:db8::1'])).toThrow(PoolConfigError);
    expect(() => new Ipv4Pool('p', ['10.0.0.0/7'])).toThrow(/split it/);
  });
});

describe('IPv6 pools', () => {
  it('delegates /64s out of a /48 in order, canonical text, any spelling of a hint', () => {
    const pool = new Ipv6PrefixPool('pd', '2001:db8:100::/48', 64);
    expect(pool.size).toBe(65536);
    expect(pool.allocate()).toBe('2001:db8:100::/64');
    expect(pool.allocate()).toBe('2001:db8:100:1::/64');
    expect(pool.allocate('2001:0db8:0100:00ff:0000::/64')).toBe('2001:db8:100:ff::/64');
    expect(pool.reserve('2001:db8:101::/64')).toBe(false); // outside the /48
    expect(pool.reserve('2001:db8:100:5::/56')).toBe(false); // wrong length
    expect(pool.release('2001:db8:100:ff::/64')).toBe(true);
  });

  it('length 128 makes an address pool', () => {
    const pool = new Ipv6PrefixPool('a', '2001:db8::/120', 128, { exclude: ['2001:db8::'] });
    expect(pool.size).toBe(255);
    expect(pool.allocate()).toBe('2001:db8::1/128');
    expect(pool.reserve('2001:db8::ff')).toBe(true);
  });

  it('interface identifiers, never all-zero', () => {
    const pool = new InterfaceIdPool('i', '0:0:0:1-0:0:1:0');
    expect(pool.allocate()).toBe('0:0:0:1');
    expect(pool.allocate('0:0:0:00ff')).toBe('0:0:0:ff');
    expect(pool.size).toBe(0x10000);
    expect(() => new InterfaceIdPool('z', '0:0:0:0-0:0:0:9')).toThrow(/all-zero/);
    expect(() => new InterfaceIdPool('z', 'garbage')).toThrow(PoolConfigError);
  });
});

describe('a shard\'s share of a pool (shardPool)', () => {
  /** The partition as first written: allocate every address as text, give back every shards-th. */
  function referenceShare(ranges: string[], exclude: string[], shards: number, index: number): Ipv4Pool {
    const pool = new Ipv4Pool('p', ranges, { exclude });
    if (shards <= 1) return pool;
    const all: string[] = [];
    for (let a = pool.allocate(); a !== undefined; a = pool.allocate()) all.push(a);
    all.forEach((a, i) => {
      if (i % shards === index) pool.release(a);
    });
    return pool;
  }
  const drain = (p: AddressAllocator): string[] => {
    const out: string[] = [];
    for (let a = p.allocate(); a !== undefined; a = p.allocate()) out.push(a);
    return out;
  };

  it('gives each shard the addresses, in the order, that the text-based partition did; disjoint, covering (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 3 }).chain((third) =>
          fc.record({
            third: fc.constant(third),
            len: fc.integer({ min: 26, max: 32 }),
            excl: fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 5 }),
            shards: fc.integer({ min: 1, max: 4 }),
          }),
        ),
        ({ third, len, excl, shards }) => {
          const ranges = [`198.18.${third}.0/${len}`, `198.19.${third}.10-198.19.${third}.20`];
          const exclude = [...new Set(excl)].map((h) => `198.19.${third}.${h}`).filter((a) => new Ipv4Pool('x', ranges).contains(a));
          const seen = new Set<string>();
          for (let i = 0; i < shards; i++) {
            const got = shardPool('p', ranges, exclude, shards, i);
            const want = referenceShare(ranges, exclude, shards, i);
            expect(got.available).toBe(want.available);
            const order = drain(got);
            expect(order).toEqual(drain(want));
            for (const a of order) {
              expect(seen.has(a)).toBe(false);
              seen.add(a);
            }
          }
          expect(seen.size).toBe(new Ipv4Pool('p', ranges, { exclude }).size);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('makes a share of a /10 (4M addresses) without address text', () => {
    const share = shardPool('big', ['100.64.0.0/10'], [], 2, 1);
    expect(share.available).toBe((2 ** 22 - 2) / 2);
    expect(share.allocate()).toBe('100.64.0.2');
    expect(share.allocate()).toBe('100.64.0.4');
    expect(share.reserve('100.64.0.1')).toBe(false); // shard 0's
  });

  it('refuses a shard outside 0..shards-1', () => {
    expect(() => shardPool('p', ['198.18.0.0/29'], [], 2, 2)).toThrow(RangeError);
  });
});
