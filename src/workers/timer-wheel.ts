/**
 * One timer wheel per worker (DESIGN.md "Actors, and what they cost"): a million Node timers
 * expiring together blocked the event loop for 34 s; a hashed wheel driven by ONE Node timer costs
 * O(1) to arm and cancel and fires due entries in bounded batches.
 *
 * Single-level hashed wheel: `slots` buckets of `tickMs`; an entry further away than one revolution
 * carries a `rounds` count. Each bucket is a doubly linked list so cancel is O(1) without search.
 * The Node timer only runs while entries exist, so an idle worker does not wake up.
 *
 * `maxFiresPerTick` bounds the work done in one turn of the event loop: when more entries are due
 * (a restored cluster whose Hellos all fall due together), the rest fire on the next turn via
 * setImmediate, so packets keep being served in between.
 */
import type { Clock, TimerHandle } from '../transport/clock.js';

interface Entry {
  fn: (() => void) | null;
  rounds: number;
  /** Bucket index while linked; -1 once collected (backlog) or cleared. */
  slot: number;
  /** In the backlog array: may not be linked again until fire() has taken it off. */
  queued: boolean;
  prev: Entry | null;
  next: Entry | null;
}

export interface TimerWheelOptions {
  tickMs?: number;
  slots?: number;
  maxFiresPerTick?: number;
  now?: () => number;
}

export class TimerWheel implements Clock {
  private readonly tickMs: number;
  private readonly slotCount: number;
  private readonly maxFires: number;
  private readonly clockNow: () => number;
  private readonly heads: (Entry | null)[];
  private cursor = 0;
  /** Wall time the cursor's slot stands for. */
  private cursorTime: number;
  private live = 0;
  private driver: NodeJS.Timeout | null = null;
  private draining = false;
  /** Entries due but not yet fired because of maxFiresPerTick. */
  private readonly backlog: Entry[] = [];

  constructor(o: TimerWheelOptions = {}) {
    this.tickMs = o.tickMs ?? 10;
    this.slotCount = o.slots ?? 4096;
    this.maxFires = o.maxFiresPerTick ?? 5000;
    this.clockNow = o.now ?? Date.now;
    this.heads = new Array<Entry | null>(this.slotCount).fill(null);
    this.cursorTime = this.clockNow();
  }

  now(): number {
    return this.clockNow();
  }

  get size(): number {
    return this.live;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const e: Entry = { fn: null, rounds: 0, slot: -1, queued: false, prev: null, next: null };
    this.link(e, fn, ms);
    return e as unknown as TimerHandle;
  }

  /**
   * setTimeout that reuses `h` (a timer of this wheel, pending, fired or cleared) instead of
   * allocating one: for timers re-armed every period for as long as a session lives (LCP echo).
   * Each fresh entry would live one period, be promoted to the old generation and feed the major
   * GC of a heap holding 100,000s of sessions. A pending `h` is cancelled first.
   */
  rearm(h: TimerHandle | undefined, fn: () => void, ms: number): TimerHandle {
    const e = h as unknown as Entry | undefined;
    if (!e) return this.setTimeout(fn, ms);
    if (e.fn !== null) this.clearTimeout(h!);
    if (e.queued) return this.setTimeout(fn, ms); // still in the backlog array: fire() must skip it, not fire it anew
    this.link(e, fn, ms);
    return h!;
  }

  private link(e: Entry, fn: () => void, ms: number): void {
    if (this.live === 0 && this.backlog.length === 0) this.cursorTime = this.clockNow();
    // Ticks from the cursor: at least one, so a timer never fires in the call that armed it.
    const due = this.clockNow() + Math.max(0, ms);
    const ticks = Math.max(1, Math.ceil((due - this.cursorTime) / this.tickMs));
    const slot = (this.cursor + ticks) % this.slotCount;
    e.fn = fn;
    e.rounds = Math.floor((ticks - 1) / this.slotCount);
    e.slot = slot;
    e.prev = null;
    e.next = this.heads[slot] ?? null;
    if (e.next) e.next.prev = e;
    this.heads[slot] = e;
    this.live++;
    this.arm();
  }

  clearTimeout(h: TimerHandle): void {
    const e = h as unknown as Entry;
    if (!e || e.fn === null) return;
    e.fn = null;
    this.unlink(e);
    this.live--;
  }

  /** Stop the driver (worker shutdown); pending timers never fire. */
  stop(): void {
    if (this.driver) clearTimeout(this.driver);
    this.driver = null;
  }

  private unlink(e: Entry): void {
    if (e.slot < 0) return; // already taken off its bucket (in the backlog)
    if (e.prev) e.prev.next = e.next;
    else this.heads[e.slot] = e.next;
    if (e.next) e.next.prev = e.prev;
    e.prev = e.next = null;
    e.slot = -1;
  }

  private arm(): void {
    if (this.driver || this.draining || this.live === 0) return;
    const wait = Math.max(0, this.cursorTime + this.tickMs - this.clockNow());
    this.driver = setTimeout(() => this.advance(), wait);
    this.driver.unref?.();
  }

  private advance(): void {
    this.driver = null;
    const now = this.clockNow();
    while (this.cursorTime + this.tickMs <= now && this.live > 0) {
      this.cursor = (this.cursor + 1) % this.slotCount;
      this.cursorTime += this.tickMs;
      this.collect(this.cursor);
    }
    if (this.live === 0) this.cursorTime = now;
    this.fire();
  }

  private collect(slot: number): void {
    let e = this.heads[slot] ?? null;
    while (e) {
      const next = e.next;
      if (e.rounds > 0) e.rounds--;
      else {
        this.unlink(e);
        e.queued = true;
        this.backlog.push(e);
      }
      e = next;
    }
  }

  private fire(): void {
    let n = 0;
    while (this.backlog.length > 0 && n < this.maxFires) {
      const e = this.backlog.pop()!;
      e.queued = false;
      const fn = e.fn;
      if (!fn) continue;
      e.fn = null;
      this.live--;
      n++;
      try {
        fn();
      } catch (err) {
        // A timer callback must not take the wheel (and every other timer of the worker) down.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    if (this.backlog.length > 0) {
      this.draining = true;
      setImmediate(() => {
        this.draining = false;
        this.fire();
      });
      return;
    }
    this.arm();
  }
}
