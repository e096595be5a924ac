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
});
