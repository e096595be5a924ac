import { describe, expect, it } from 'vitest';
import { newAcctSessionId } from '../../src/aaa/radius/accounting.js';

describe('newAcctSessionId', () => {
  it('is the prefix then 16 hex digits: start time, 16 random bits, a serial', () => {
    const before = Math.floor(Date.now() / 1000);
    const id = newAcctSessionId('a1');
    expect(id).toMatch(/^a1[0-9a-f]{16}$/);
    const t = Number.parseInt(id.slice(2, 10), 16);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(before + 1);
  });

  it('stays unique and random across refills of its random pool (2,048 IDs each)', () => {
    const ids = Array.from({ length: 10_000 }, () => newAcctSessionId('0'));
    expect(new Set(ids).size).toBe(ids.length);
    // The random field is not a constant nor a counter: many distinct values, on both sides of a refill.
    const rnd = ids.map((id) => id.slice(9, 13));
    expect(new Set(rnd.slice(0, 2000)).size).toBeGreaterThan(1500);
    expect(new Set(rnd.slice(2100, 4100)).size).toBeGreaterThan(1500);
  });
});
