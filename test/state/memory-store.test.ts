import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../src/state/store.js';
import type { TunnelRecord } from '../../src/workers/thread-protocol.js';

const session = (id: number, state: string) => ({ data: { localSessionId: id }, machine: { value: state } });
const tunnel = (id: number, ns: number, sessions: TunnelRecord['sessions'], extra: Partial<TunnelRecord> = {}): TunnelRecord => ({
  localTunnelId: id, data: { id }, options: {}, channel: { ns }, machine: {}, sessions, ...extra,
});

describe('memory state store', () => {
  it('merges session deltas into the tunnel record and replaces the tunnel parts', async () => {
    const s = new MemoryStateStore();
    await s.apply(0, [tunnel(1, 0, [session(10, 'waitConnect'), session(11, 'waitConnect')], { partial: true })], []);
    await s.apply(0, [tunnel(1, 5, [session(10, 'established')], { partial: true, sessionDeletes: [11] })], []);
    await s.apply(0, [tunnel(1, 6, [session(12, 'waitConnect')], { partial: true })], []);
    const [r] = await s.loadShard(0);
    expect(r!.channel).toEqual({ ns: 6 });
    expect(r!.sessions).toEqual([session(10, 'established'), session(12, 'waitConnect')]);
    expect(r!.partial).toBeUndefined();
    await s.apply(0, [], [1]);
    expect(await s.loadShard(0)).toEqual([]);
  });

  it('keeps the options of the first record when later deltas leave them out', async () => {
    const s = new MemoryStateStore();
    await s.apply(0, [tunnel(1, 0, [], { partial: true, options: { secret: 'x' } })], []);
    const { options: _o, ...withoutOptions } = tunnel(1, 3, [session(10, 'established')], { partial: true });
    await s.apply(0, [withoutOptions], []);
    const [r] = await s.loadShard(0);
    expect(r).toMatchObject({ options: { secret: 'x' }, channel: { ns: 3 }, sessions: [session(10, 'established')] });
  });

  it('a full record replaces everything', async () => {
    const s = new MemoryStateStore();
    await s.apply(1, [tunnel(2, 0, [session(1, 'a'), session(2, 'b')], { partial: true })], []);
    await s.apply(1, [tunnel(2, 1, [session(3, 'c')])], []);
    expect((await s.loadShard(1))[0]!.sessions).toEqual([session(3, 'c')]);
  });
});
