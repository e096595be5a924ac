import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TimerWheel } from '../../src/workers/timer-wheel.js';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('TimerWheel', () => {
  it('fires each timer once, not before its time and within one tick after', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 120_000 }), { minLength: 1, maxLength: 200 }), (delays) => {
        const w = new TimerWheel({ tickMs: 10, slots: 256 });
        const start = Date.now();
        const fired: { i: number; at: number }[] = [];
        delays.forEach((d, i) => w.setTimeout(() => fired.push({ i, at: Date.now() - start }), d));
        vi.advanceTimersByTime(130_000);
        expect(fired).toHaveLength(delays.length);
        for (const f of fired) {
          expect(f.at).toBeGreaterThanOrEqual(delays[f.i]!);
          expect(f.at).toBeLessThanOrEqual(delays[f.i]! + 20);
        }
        expect(w.size).toBe(0);
      }),
      { numRuns: 50 },
    );
  });

  it('cancelled timers never fire, and cancelling twice is harmless', () => {
    const w = new TimerWheel();
    const hits: number[] = [];
    const handles = [0, 1, 2, 3].map((i) => w.setTimeout(() => hits.push(i), 100 * (i + 1)));
    w.clearTimeout(handles[1]!);
    w.clearTimeout(handles[1]!);
    w.clearTimeout(handles[3]!);
    vi.advanceTimersByTime(1000);
    expect(hits.sort()).toEqual([0, 2]);
    expect(w.size).toBe(0);
  });

  it('spreads a burst of due timers over several event-loop turns', () => {
    const w = new TimerWheel({ maxFiresPerTick: 1000 });
    let n = 0;
    for (let i = 0; i < 10_000; i++) w.setTimeout(() => n++, 50);
    vi.advanceTimersByTime(49);
    expect(n).toBe(0);
    // Each turn of the event loop fires at most 1000; the rest wait for the next setImmediate.
    for (let turn = 1; turn <= 3; turn++) {
      vi.advanceTimersToNextTimer();
      expect(n).toBe(turn * 1000);
    }
    vi.runAllTimers();
    expect(n).toBe(10_000);
  });

  it('a timer armed from a callback fires later, not in the same pass', () => {
    const w = new TimerWheel();
    const order: string[] = [];
    w.setTimeout(() => {
      order.push('a');
      w.setTimeout(() => order.push('b'), 0);
    }, 10);
    vi.advanceTimersByTime(15);
    expect(order).toEqual(['a']);
    vi.advanceTimersByTime(15);
    expect(order).toEqual(['a', 'b']);
  });

  it('rearm reuses a fired or cleared timer, and a pending one it re-arms only once', () => {
    const w = new TimerWheel();
    const hits: string[] = [];
    const h = w.setTimeout(() => hits.push('a'), 20);
    vi.advanceTimersByTime(30);
    expect(hits).toEqual(['a']);
    // Fired: the same handle comes back, armed again.
    expect(w.rearm(h, () => hits.push('b'), 20)).toBe(h);
    // Pending: re-arming replaces the callback (the first never fires) and keeps one live timer.
    expect(w.rearm(h, () => hits.push('c'), 40)).toBe(h);
    expect(w.size).toBe(1);
    vi.advanceTimersByTime(100);
    expect(hits).toEqual(['a', 'c']);
    w.clearTimeout(w.rearm(h, () => hits.push('d'), 10));
    expect(w.rearm(h, () => hits.push('e'), 10)).toBe(h);
    vi.advanceTimersByTime(30);
    expect(hits).toEqual(['a', 'c', 'e']);
    expect(w.size).toBe(0);
  });

  it('rearm does not reuse a timer waiting in the backlog of a burst (it would fire twice)', () => {
    const w = new TimerWheel({ maxFiresPerTick: 10 });
    let n = 0;
    const done = new Set<number>();
    const handles = Array.from({ length: 30 }, (_, i) => w.setTimeout(() => (n++, done.add(i)), 50));
    vi.advanceTimersByTime(49);
    vi.advanceTimersToNextTimer(); // collects all 30 due ones, fires 10; the rest wait in the backlog
    expect(n).toBe(10);
    const waiting = handles.filter((_, i) => !done.has(i));
    expect(waiting).toHaveLength(20);
    let late = 0;
    const again = waiting.map((h) => w.rearm(h, () => late++, 1000));
    for (const [i, h] of again.entries()) expect(h).not.toBe(waiting[i]);
    vi.advanceTimersByTime(100);
    expect(n).toBe(10); // the re-armed ones were cancelled, not fired from the backlog
    expect(late).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(late).toBe(20);
    expect(w.size).toBe(0);
  });

  it('timers re-armed with rearm fire exactly when setTimeout/clearTimeout would (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3_000 }), fc.boolean()), { minLength: 1, maxLength: 80 }),
        (ops) => {
          const w = new TimerWheel({ tickMs: 10, slots: 64, maxFiresPerTick: 3 });
          const start = Date.now();
          const handles: (ReturnType<TimerWheel['setTimeout']> | undefined)[] = [];
          const pending = new Map<number, number>(); // slot -> op index armed there
          const cancelled = new Set<number>();
          const dueAt = new Map<number, number>();
          const fired = new Map<number, number>(); // op index -> time fired
          ops.forEach(([slot, ms, clear], k) => {
            const prev = pending.get(slot);
            if (prev !== undefined && !fired.has(prev)) cancelled.add(prev); // superseded or cleared before firing
            pending.delete(slot);
            const h = handles[slot];
            if (clear) {
              if (h) w.clearTimeout(h);
            } else {
              handles[slot] = w.rearm(h, () => {
                expect(fired.has(k)).toBe(false);
                fired.set(k, Date.now() - start);
              }, ms);
              pending.set(slot, k);
              dueAt.set(k, Date.now() - start + ms);
            }
            vi.advanceTimersByTime(7); // time passes between operations: some fire and are re-armed after
          });
          vi.advanceTimersByTime(10_000);
          const expected = [...dueAt.keys()].filter((k) => !cancelled.has(k)).sort((a, b) => a - b);
          expect([...fired.keys()].sort((a, b) => a - b)).toEqual(expected);
          for (const [k, at] of fired) expect(at).toBeGreaterThanOrEqual(dueAt.get(k)!);
          expect(w.size).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
