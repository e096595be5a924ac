/**
 * The allocation core of every address pool: indices 0..size-1, O(1) (amortised) allocate, release
 * and allocate-this-one, one octet of state per index plus a ring of released ones, nothing per
 * allocation. The ring grows (doubling) with what is waiting in it, up to one slot per index: a ring
 * of one slot per index from the start (16 MiB for a /10) had its tail sweep through all of it under
 * steady churn, making every page resident however few addresses were waiting.
 *
 * Order: never-used indices first (a cursor), then released ones first-in first-out (a ring). Reusing
 * the address released longest ago gives ARP caches, conntrack and RADIUS accounting of the previous
 * holder the most time to forget it. Taking a specific index leaves its ring entry in place, marked
 * used; the ring skips such stale entries when it reaches them, and each index sits in the ring at
 * most once (the QUEUED bit), so the ring never outgrows `size`.
 */
const USED = 1;
const QUEUED = 2;
const INITIAL_RING = 1024;

/** Typed arrays sized to the pool: 1 octet per index, up to 4 more for the ring. Larger ranges belong in several pools. */
export const MAX_POOL_SIZE = 1 << 24;

export class IndexPool {
  private readonly state: Uint8Array;
  /** Released indices, first-in first-out from `head`; grown by doubling, never beyond `size` slots. */
  private ring: Uint32Array;
  private head = 0;
  private queued = 0;
  /** Indices at or above the cursor have never been handed out by allocate(). */
  private cursor = 0;
  private inUse = 0;

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_POOL_SIZE) throw new RangeError(`pool size ${size} is not 0..${MAX_POOL_SIZE}`);
    this.state = new Uint8Array(size);
    this.ring = new Uint32Array(Math.min(size, INITIAL_RING));
  }

  get used(): number {
    return this.inUse;
  }

  get free(): number {
    return this.size - this.inUse;
  }

  isUsed(i: number): boolean {
    return ((this.state[i] ?? 0) & USED) !== 0;
  }

  /** The next free index, or -1 when every index is in use. */
  allocate(): number {
    while (this.cursor < this.size) {
      const i = this.cursor++;
      if ((this.state[i]! & USED) === 0) return this.mark(i);
    }
    while (this.queued > 0) {
      const i = this.ring[this.head]!;
      this.head = this.head + 1 === this.ring.length ? 0 : this.head + 1;
      this.queued--;
      this.state[i]! &= ~QUEUED;
      if ((this.state[i]! & USED) === 0) return this.mark(i);
    }
    return -1;
  }

  /** Takes index `i` if it is free. */
  allocateIndex(i: number): boolean {
    if (!Number.isInteger(i) || i < 0 || i >= this.size || (this.state[i]! & USED) !== 0) return false;
    this.mark(i);
    return true;
  }

  /** Returns index `i`; false when it was not in use (a double release, or never allocated). */
  release(i: number): boolean {
    if (!Number.isInteger(i) || i < 0 || i >= this.size || (this.state[i]! & USED) === 0) return false;
    this.state[i]! &= ~USED;
    this.inUse--;
    // Below the cursor it must go through the ring to be found again; at or above it, the cursor will find it.
    if (i < this.cursor && (this.state[i]! & QUEUED) === 0) {
      if (this.queued === this.ring.length) this.grow();
      const tail = (this.head + this.queued) % this.ring.length;
      this.ring[tail] = i;
      this.queued++;
      this.state[i]! |= QUEUED;
    }
    return true;
  }

  /** Doubles the ring (at most `size` slots: each index waits in it at most once), oldest first. */
  private grow(): void {
    const next = new Uint32Array(Math.min(this.size, this.ring.length * 2));
    const firstPart = this.ring.subarray(this.head, Math.min(this.ring.length, this.head + this.queued));
    next.set(firstPart, 0);
    next.set(this.ring.subarray(0, this.queued - firstPart.length), firstPart.length);
    this.ring = next;
    this.head = 0;
  }

  /** Octets held by the typed arrays (state and ring). */
  get bytes(): number {
    return this.state.byteLength + this.ring.byteLength;
  }

  private mark(i: number): number {
    this.state[i]! |= USED;
    this.inUse++;
    return i;
  }
}
