import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock, VirtualClockLimitError, systemClock } from '../../src/transport/clock.js';

describe('VirtualClock', () => {
  it('fires timers in time order, same-time timers in scheduling order', () => {
    const c = new VirtualClock(1000);
    const log: string[] = [];
    c.setTimeout(() => log.push(`b@${c.now()}`), 20);
    c.setTimeout(() => log.push(`a@${c.now()}`), 10);
    c.setTimeout(() => log.push(`c1@${c.now()}`), 20);
    c.setTimeout(() => log.push(`z@${c.now()}`), 0);
    expect(c.pending()).toBe(4);
    c.advance(19);
    expect(log).toEqual(['z@1000', 'a@1010']);
    expect(c.now()).toBe(1019);
    c.advance(1);
    expect(log).toEqual(['z@1000', 'a@1010', 'b@1020', 'c1@1020']);
    expect(c.pending()).toBe(0);
  });

  it('timers scheduled while advancing fire if due within the same advance', () => {
    const c = new VirtualClock();
    const log: number[] = [];
    c.setTimeout(() => {
      log.push(c.now());
      c.setTimeout(() => log.push(c.now()), 5);
      c.setTimeout(() => log.push(c.now()), 50);
    }, 10);
    c.advance(20);
    expect(log).toEqual([10, 15]);
    expect(c.pending()).toBe(1);
    c.advance(40);
    expect(log).toEqual([10, 15, 60]);
  });

  it('clearTimeout cancels, is idempotent, and is a no-op on a fired timer', () => {
    const c = new VirtualClock();
    let fired = 0;
    const h = c.setTimeout(() => fired++, 10);
    const g = c.setTimeout(() => fired++, 5);
    c.clearTimeout(h);
    c.clearTimeout(h);
    expect(c.pending()).toBe(1);
    c.advance(100);
    expect(fired).toBe(1);
    c.clearTimeout(g);
    expect(c.pending()).toBe(0);
  });

  it('runUntilIdle runs chains of timers and throws when the limit is reached', () => {
    const c = new VirtualClock();
    let n = 0;
    const tick = (): void => {
      if (++n < 100) c.setTimeout(tick, 1000);
    };
    c.setTimeout(tick, 1000);
    c.runUntilIdle();
    expect(n).toBe(100);
    expect(c.now()).toBe(100_000);

    const forever = (): void => void c.setTimeout(forever, 1000);
    c.setTimeout(forever, 1000);
    expect(() => c.runUntilIdle(10_500)).toThrow(VirtualClockLimitError);
    expect(c.now()).toBe(110_000);
  });

  it('fires any random set of timers sorted by (time, insertion)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 60 }), (delays) => {
        const c = new VirtualClock();
        const fired: number[] = [];
        delays.forEach((d, i) => c.setTimeout(() => fired.push(i), d));
        c.runUntilIdle();
        const expected = delays.map((d, i) => [d, i] as const).sort((x, y) => x[0] - y[0] || x[1] - y[1]).map((x) => x[1]);
        expect(fired).toEqual(expected);
      }),
    );
  });
});

describe('systemClock', () => {
  it('runs and cancels real timers', async () => {
    const t0 = systemClock.now();
    let cancelled = false;
    const h = systemClock.setTimeout(() => (cancelled = true), 5);
    systemClock.clearTimeout(h);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 10));
    expect(cancelled).toBe(false);
    expect(systemClock.now() - t0).toBeGreaterThanOrEqual(9);
  });
});

describe('VirtualClock runaway guard', () => {
  it('fails instead of hanging when a timer re-arms itself at the same instant forever', () => {
    const c = new VirtualClock();
    const loop = (): void => void c.setTimeout(loop, 0);
    c.setTimeout(loop, 5);
    expect(() => c.advance(10)).toThrow(VirtualClockLimitError);
  });
});
