import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seqAdd, seqDiff, seqLess, seqLessEq } from '../../src/transport/seq.js';

const seq = fc.integer({ min: 0, max: 0xffff });

describe('16-bit sequence arithmetic', () => {
  it('RFC 2661 §5.8 example: last received 15 → 0..15 and 32784..65535 are ≤, 16..32783 are not', () => {
    const wrong: number[] = [];
    for (let v = 0; v <= 0xffff; v++) {
      const expected = v <= 15 || v >= 32784;
      if (seqLessEq(v, 15) !== expected || seqLess(v, 15) !== (expected && v !== 15)) wrong.push(v);
    }
    expect(wrong).toEqual([]);
  });

  it('wraps at 65535 → 0', () => {
    expect(seqAdd(65535, 1)).toBe(0);
    expect(seqAdd(0, -1)).toBe(65535);
    expect(seqAdd(65530, 10)).toBe(4);
    expect(seqDiff(2, 65534)).toBe(4);
    expect(seqDiff(65534, 2)).toBe(65532);
    expect(seqLess(65535, 0)).toBe(true);
    expect(seqLess(0, 65535)).toBe(false);
    expect(seqLess(65000, 100)).toBe(true);
    expect(seqLessEq(100, 100)).toBe(true);
    expect(seqLess(100, 100)).toBe(false);
  });

  it('exactly half the space apart: neither is ≤ the other (literal RFC text)', () => {
    expect(seqLessEq(0, 32768)).toBe(false);
    expect(seqLessEq(32768, 0)).toBe(false);
    expect(seqLessEq(0, 32767)).toBe(true);
    expect(seqLessEq(32769, 0)).toBe(true);
  });

  it('seqAdd and seqDiff are inverse', () => {
    fc.assert(
      fc.property(seq, seq, (a, b) => {
        expect(seqAdd(b, seqDiff(a, b))).toBe(a);
        expect(seqDiff(seqAdd(a, b), a)).toBe(b);
      }),
    );
  });

  it('a + k is > a for k in 1..32767 and < a for k in 32769..65535', () => {
    fc.assert(
      fc.property(seq, fc.integer({ min: 1, max: 0xffff }), (a, k) => {
        const b = seqAdd(a, k);
        if (k <= 32767) {
          expect(seqLess(a, b)).toBe(true);
          expect(seqLessEq(b, a)).toBe(false);
        } else if (k >= 32769) {
          expect(seqLess(b, a)).toBe(true);
          expect(seqLessEq(a, b)).toBe(false);
        } else {
          expect(seqLessEq(a, b) || seqLessEq(b, a)).toBe(false);
        }
      }),
    );
  });

  it('within half the space, the order is a strict total order consistent with ≤', () => {
    fc.assert(
      fc.property(seq, fc.integer({ min: 0, max: 32767 }), fc.integer({ min: 0, max: 32767 }), (base, x, y) => {
        // Both values live in a window of 32768 starting at base: comparisons must match plain integers.
        const a = seqAdd(base, x);
        const b = seqAdd(base, y);
        expect(seqLess(a, b)).toBe(x < y);
        expect(seqLessEq(a, b)).toBe(x <= y);
        expect(seqLess(a, b) || seqLess(b, a) || a === b).toBe(true);
      }),
    );
  });
});
