import { describe, expect, it } from 'vitest';
import { IdAllocator } from '../../src/workers/id-allocator.js';

describe('IdAllocator', () => {
  it('never hands out an ID claimed by a restore (a restarted shard keeps its tunnels’ IDs)', () => {
    const a = new IdAllocator(1, 20, 2, 1);
    expect(a.claim(1)).toBe(true);
    expect(a.claim(5)).toBe(true);
    expect([a.allocate(), a.allocate(), a.allocate()]).toEqual([3, 7, 9]);
    expect(a.claim(3)).toBe(false);
  });

  it('reuses released IDs only after the cursor wrapped, and never one in use', () => {
    const a = new IdAllocator(1, 5);
    const ids = [a.allocate(), a.allocate(), a.allocate(), a.allocate(), a.allocate()];
    expect(ids).toEqual([1, 2, 3, 4, 5]);
    a.release(2);
    a.release(4);
    expect(a.claim(2)).toBe(true);
    expect(a.allocate()).toBe(4);
    expect(a.allocate()).toBeUndefined();
  });
});
