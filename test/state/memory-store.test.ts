import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../../src/state/store.js';
import type { TunnelRecord } from '../../src/workers/thread-protocol.js';
import { channelDelta } from '../../src/transport/channel-delta.js';
import { harness } from '../transport/support/harness.js';

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

  it("merges a channel delta's new unacknowledged messages into the stored ones, and reports a delta without its base", async () => {
    const h = harness({ helloIntervalMs: 0, peerReceiveWindowSize: 16 }, { state: { ...harness().ch.snapshot(), peerReceiveWindowSize: 16, cwnd: 16, ssthresh: 16 } });
    const s = new MemoryStateStore();
    h.ch.send('a');
    h.ch.send('b');
    const first = channelDelta(h.ch.snapshot(), undefined);
    await s.apply(0, [tunnel(1, 0, [], { partial: true, channel: first.send })], []);
    h.ch.receive(0, 1, null); // 'a' acknowledged
    h.ch.send('c');
    const second = channelDelta(h.ch.snapshot(), first.base);
    expect(second.send.unacked.map((e) => e.msg)).toEqual(['c']);
    await s.apply(0, [tunnel(1, 0, [], { partial: true, channel: second.send })], []);
    expect((await s.loadShard(0))[0]!.channel).toEqual(h.ch.snapshot());

    // Tunnel 2's delta has no stored base: the batch's other records still land, and the error names the tunnel.
    const orphan = tunnel(2, 0, [], { partial: true, channel: second.send });
    await expect(s.apply(0, [orphan, tunnel(3, 0, [session(5, 'established')], { partial: true })], [])).rejects.toThrow(/tunnel 2: .*nothing is stored/);
    expect((await s.loadShard(0)).map((r) => r.localTunnelId)).toEqual([1, 2, 3]);
  });
});
