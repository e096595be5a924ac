/**
 * The one seam between protocol timing and real time. The control channel asks a Clock for the
 * time and for one-shot timers; production passes `systemClock` (later a per-worker timer wheel,
 * DESIGN.md "one timer wheel per worker"), tests pass a `VirtualClock` so retransmission cycles of
 * 31 s run in microseconds and deterministically.
 */

declare const timerBrand: unique symbol;

/** Opaque timer identity: only the Clock that made it can interpret it. */
export interface TimerHandle {
  readonly [timerBrand]: true;
}

export interface Clock {
  /** Milliseconds. Snapshots store absolute times from this clock, so it must be comparable across restarts. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(h: TimerHandle): void;
  /**
   * Optional: setTimeout reusing `h` (pending, fired or cleared; a pending one is cancelled) instead
   * of allocating a timer, for timers re-armed every period for a session's life. Callers fall back
   * to setTimeout where a Clock lacks it.
   */
  rearm?(h: TimerHandle | undefined, fn: () => void, ms: number): TimerHandle;
}

/**
 * Wall-clock milliseconds (Date.now), not a monotonic clock: control channel snapshots are restored
 * on another node after a failover (DESIGN.md), and only wall time means the same thing there.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
};

/**
 * Thrown by `VirtualClock.runUntilIdle` when timers are still pending at the time limit, or by
 * `advance`/`runUntilIdle` when a burst of timers never lets time move (a 0 ms re-arm loop would
 * otherwise hang the test instead of failing it).
 */
export class VirtualClockLimitError extends Error {
  override readonly name = 'VirtualClockLimitError';
  constructor(
    readonly limitMs: number,
    readonly pendingTimers: number,
  ) {
    super(`virtual clock: ${pendingTimers} timer(s) still pending after ${limitMs} ms, or a runaway timer loop`);
  }
}

interface VirtualTimer {
  readonly when: number;
  /** Insertion order: timers due at the same instant fire first-scheduled first. */
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** A deterministic clock for tests: time moves only when told to, timers fire in (time, insertion) order. */
export class VirtualClock implements Clock {
  private time: number;
  private seq = 0;
  private live = 0;
  /** Timers fired at one instant without time moving on: past this, something re-arms forever. */
  static readonly maxFiresPerInstant = 1_000_000;
  private firesThisInstant = 0;
  /** Binary min-heap on (when, seq); cancelled timers are dropped lazily when they surface. */
  private readonly heap: VirtualTimer[] = [];

  constructor(startMs = 0) {
    this.time = startMs;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const t: VirtualTimer = { when: this.time + delay, seq: this.seq++, fn, cancelled: false };
    this.push(t);
    this.live++;
    return t as unknown as TimerHandle;
  }

  clearTimeout(h: TimerHandle): void {
    const t = h as unknown as VirtualTimer;
    if (!t.cancelled) {
      t.cancelled = true;
      this.live--;
    }
  }

  /** Number of timers scheduled and neither fired nor cleared. */
  pending(): number {
    return this.live;
  }

  /** Moves time forward by `ms`, firing every timer due by then, including ones scheduled while advancing. */
  advance(ms: number): void {
    const target = this.time + Math.max(0, ms);
    for (;;) {
      const t = this.popDue(target);
      if (t === undefined) break;
      this.time = t.when;
      t.fn();
    }
    this.time = target;
  }

  /** Fires timers until none is left; throws if some would fire more than `limitMs` from now. */
  runUntilIdle(limitMs = 24 * 3600_000): void {
    const target = this.time + limitMs;
    for (;;) {
      const t = this.popDue(target);
      if (t === undefined) break;
      this.time = t.when;
      t.fn();
    }
    if (this.live > 0) throw new VirtualClockLimitError(limitMs, this.live);
  }

  /** Removes and returns the earliest live timer due at or before `target`. */
  private popDue(target: number): VirtualTimer | undefined {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.when > target) return undefined;
      this.pop();
      if (top.cancelled) continue;
      top.cancelled = true; // a fired timer can no longer be cleared
      this.live--;
      if (top.when !== this.time) this.firesThisInstant = 0;
      else if (++this.firesThisInstant > VirtualClock.maxFiresPerInstant) throw new VirtualClockLimitError(0, this.live);
      return top;
    }
  }

  private static before(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.when < b.when || (a.when === b.when && a.seq < b.seq);
  }

  private push(t: VirtualTimer): void {
    const h = this.heap;
    let i = h.length;
    h.push(t);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!VirtualClock.before(t, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = t;
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && VirtualClock.before(h[r]!, h[l]!) ? r : l;
      if (!VirtualClock.before(h[c]!, last)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
  }
}
