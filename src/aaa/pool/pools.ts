/**
 * Address pools over IndexPool: IPv4 ranges (IPCP addresses), IPv6 prefixes (delegated /64s out of a
 * /48, or /128 addresses) and IPv6 interface identifiers (IPv6CP, RFC 5072). Each maps an index to
 * its text and back; the text form is canonical (RFC 5952 for IPv6), and hints are accepted in any
 * form that parses.
 *
 * These pools are per process. Cluster-wide uniqueness (DESIGN.md) needs the shared state store to
 * hand out disjoint pools per node or to arbitrate; `AddressAllocator` is the seam for that.
 */
import { formatIp, parseIp, parsePrefix } from '../../config/ip.js';
import { IndexPool, MAX_POOL_SIZE } from './index-pool.js';

export interface AddressAllocator {
  /** A free address (or prefix), `hint` when that one is free; undefined when the pool is exhausted. */
  allocate(hint?: string): string | undefined;
  /** Takes exactly `addr` (e.g. a RADIUS Framed-IP-Address inside the pool); false if taken or not in the pool. */
  reserve(addr: string): boolean;
  /** Returns `addr`; false if it was not allocated (double release, or not from this pool). */
  release(addr: string): boolean;
  contains(addr: string): boolean;
  readonly size: number;
  readonly available: number;
}

export class PoolConfigError extends Error {
  override readonly name = 'PoolConfigError';
  constructor(
    message: string,
    /** The offending range/prefix text. */
    readonly value: string,
  ) {
    super(message);
  }
}

/** Index ⇄ text for one kind of address. */
interface Codec {
  size: number;
  text(i: number): string;
  /** Index of `text`, or -1 when it does not parse or lies outside the pool. */
  index(text: string): number;
}

class CodecPool implements AddressAllocator {
  private readonly pool: IndexPool;
  private readonly excluded = new Set<number>();
  /** Times allocate() found nothing. */
  exhaustions = 0;

  constructor(
    readonly name: string,
    private readonly codec: Codec,
    exclude: readonly string[] = [],
  ) {
    this.pool = new IndexPool(codec.size);
    for (const e of exclude) {
      const i = codec.index(e);
      if (i < 0) throw new PoolConfigError(`pool ${name}: excluded "${e}" is not in the pool`, e);
      this.pool.allocateIndex(i);
      this.excluded.add(i);
    }
  }

  get size(): number {
    return this.codec.size - this.excluded.size;
  }

  get available(): number {
    return this.pool.free;
  }

  allocate(hint?: string): string | undefined {
    if (hint !== undefined) {
      const i = this.codec.index(hint);
      if (i >= 0 && this.pool.allocateIndex(i)) return this.codec.text(i);
    }
    const i = this.pool.allocate();
    if (i < 0) {
      this.exhaustions++;
      return undefined;
    }
    return this.codec.text(i);
  }

  /**
   * Keeps one shard's share of the pool (the rest marked in use): of the free addresses in allocation
   * order, the k-th belongs to shard k mod `shards`. Index work only, O(size) over typed arrays: no
   * address text is made (a /10 took 5 s and ~700 MB per daemon as text).
   */
  keepShare(shards: number, index: number): void {
    if (!Number.isInteger(shards) || shards < 1 || !Number.isInteger(index) || index < 0 || index >= shards) {
      throw new RangeError(`shard ${index} of ${shards}`);
    }
    if (shards === 1) return;
    let k = 0;
    for (let i = 0; i < this.pool.size; i++) {
      if (this.pool.isUsed(i)) continue;
      if (k++ % shards !== index) this.pool.allocateIndex(i);
    }
  }

  reserve(addr: string): boolean {
    const i = this.codec.index(addr);
    return i >= 0 && this.pool.allocateIndex(i);
  }

  release(addr: string): boolean {
    const i = this.codec.index(addr);
    return i >= 0 && !this.excluded.has(i) && this.pool.release(i);
  }

  contains(addr: string): boolean {
    const i = this.codec.index(addr);
    return i >= 0 && !this.excluded.has(i);
  }

  isAllocated(addr: string): boolean {
    const i = this.codec.index(addr);
    return i >= 0 && !this.excluded.has(i) && this.pool.isUsed(i);
  }
}

interface Segment {
  start: number;
  count: number;
  /** Index of the segment's first address. */
  offset: number;
}

function v4(text: string, whole: string): number {
  const a = parseIp(text);
  if (a === undefined || a.family !== 4 || text.includes(':')) throw new PoolConfigError(`"${whole}" is not an IPv4 address or range`, whole);
  return Number(a.value);
}

/** `A-B`, `A/len` (network and broadcast left out below /31) or a single `A`. */
function v4Segment(text: string): { start: number; count: number } {
  const t = text.trim();
  const dash = t.indexOf('-');
  if (dash >= 0) {
    const [start, end] = [v4(t.slice(0, dash).trim(), t), v4(t.slice(dash + 1).trim(), t)];
    if (end < start) throw new PoolConfigError(`range "${t}" ends before it starts`, t);
    return { start, count: end - start + 1 };
  }
  if (!t.includes('/')) return { start: v4(t, t), count: 1 };
  const p = parsePrefix(t);
  if ('error' in p || p.family !== 4) throw new PoolConfigError('error' in p ? p.error : `"${t}" is not an IPv4 prefix`, t);
  const count = 2 ** (32 - p.length);
  return count > 2 ? { start: Number(p.value) + 1, count: count - 2 } : { start: Number(p.value), count };
}

/** An IPv4 pool from ranges: `198.18.1.10-198.18.1.250`, `198.18.2.0/24`, `198.18.3.7`. */
export class Ipv4Pool extends CodecPool {
  constructor(name: string, ranges: readonly string[], opts: { exclude?: readonly string[] } = {}) {
    const segments: Segment[] = ranges.map(v4Segment).sort((a, b) => a.start - b.start).map((s) => ({ ...s, offset: 0 }));
    let size = 0;
    segments.forEach((s, k) => {
      const prev = segments[k - 1];
      if (prev !== undefined && s.start < prev.start + prev.count) {
        throw new PoolConfigError(`pool ${name}: ranges overlap at ${formatIp({ family: 4, value: BigInt(s.start) })}`, ranges.join(', '));
      }
      s.offset = size;
      size += s.count;
    });
    if (size > MAX_POOL_SIZE) throw new PoolConfigError(`pool ${name}: ${size} addresses exceed ${MAX_POOL_SIZE}; split it`, ranges.join(', '));
    // Binary search over the (few) segments, by first address or by first index.
    const find = (key: (s: Segment) => number, v: number): Segment | undefined => {
      let [lo, hi] = [0, segments.length - 1];
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const s = segments[mid]!;
        if (v < key(s)) hi = mid - 1;
        else if (v >= key(s) + s.count) lo = mid + 1;
        else return s;
      }
      return undefined;
    };
    const startKey = (s: Segment): number => s.start;
    const offsetKey = (s: Segment): number => s.offset;
    super(name, {
      size,
      text: (i) => {
        const s = find(offsetKey, i)!;
        const v = s.start + (i - s.offset);
        return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
      },
      index: (text) => {
        const a = parseIp(text);
        if (a === undefined || a.family !== 4) return -1;
        const v = Number(a.value);
        const s = find(startKey, v);
        return s === undefined ? -1 : s.offset + (v - s.start);
      },
    }, opts.exclude);
  }
}

/**
 * Prefixes of `length` out of `base`: `new Ipv6PrefixPool('pd', '2001:db8:100::/48', 64)` hands out the
 * 65536 /64s of the /48 (DHCPv6-PD / Delegated-IPv6-Prefix); length 128 makes it an address pool.
 */
export class Ipv6PrefixPool extends CodecPool {
  constructor(name: string, base: string, readonly length: number, opts: { exclude?: readonly string[] } = {}) {
    const p = parsePrefix(base);
    if ('error' in p || p.family !== 6) throw new PoolConfigError('error' in p ? p.error : `"${base}" is not an IPv6 prefix`, base);
    if (!Number.isInteger(length) || length < p.length || length > 128) {
      throw new PoolConfigError(`pool ${name}: prefix length ${length} is not ${p.length}..128`, base);
    }
    if (length - p.length > 24) throw new PoolConfigError(`pool ${name}: 2^${length - p.length} prefixes exceed ${MAX_POOL_SIZE}; split it`, base);
    const shift = BigInt(128 - length);
    const size = 2 ** (length - p.length);
    super(name, {
      size,
      text: (i) => `${formatIp({ family: 6, value: p.value + (BigInt(i) << shift) })}/${length}`,
      index: (text) => {
        const q = parsePrefix(text.includes('/') ? text : `${text}/128`);
        if ('error' in q || q.family !== 6 || q.length !== length) return -1;
        const i = (q.value - p.value) >> shift;
        return q.value >= p.value && i < BigInt(size) ? Number(i) : -1;
      },
    }, opts.exclude);
  }
}

function ifidValue(text: string): bigint | undefined {
  const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(text.trim());
  return m === null ? undefined : m.slice(1).reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function ifidText(v: bigint): string {
  return [48n, 32n, 16n, 0n].map((s) => ((v >> s) & 0xffffn).toString(16)).join(':');
}

/** IPv6CP interface identifiers (RFC 5072 §4.1) from a range `0:0:0:1-0:0:0:ffff`, as Framed-Interface-Id text. */
export class InterfaceIdPool extends CodecPool {
  constructor(name: string, range: string, opts: { exclude?: readonly string[] } = {}) {
    const [a, b] = range.split('-');
    const first = a === undefined ? undefined : ifidValue(a);
    const last = b === undefined ? first : ifidValue(b);
    if (first === undefined || last === undefined || last < first) throw new PoolConfigError(`"${range}" is not an interface-id range (x:x:x:x-x:x:x:x)`, range);
    // RFC 5072 §4.1: an all-zero identifier is not valid.
    if (first === 0n) throw new PoolConfigError(`pool ${name}: the all-zero interface identifier cannot be assigned`, range);
    const count = last - first + 1n;
    if (count > BigInt(MAX_POOL_SIZE)) throw new PoolConfigError(`pool ${name}: ${count} identifiers exceed ${MAX_POOL_SIZE}; split it`, range);
    super(name, {
      size: Number(count),
      text: (i) => ifidText(first + BigInt(i)),
      index: (text) => {
        const v = ifidValue(text);
        return v === undefined || v < first || v > last ? -1 : Number(v - first);
      },
    }, opts.exclude);
  }
}
