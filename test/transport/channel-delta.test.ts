/** Control-channel snapshots as deltas: whatever the channel did between two snapshots, the merge gives the full one. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChannelDeltaBase, ChannelDeltaError, channelDelta, isChannelDelta, mergeChannelDelta } from '../../src/transport/channel-delta.js';
import type { ControlChannelState } from '../../src/transport/control-channel-config.js';
import { harness, stateAt } from './support/harness.js';

type Op =
  | { kind: 'send'; n: number }
  | { kind: 'ack'; fraction: number }
  | { kind: 'peer' }
  | { kind: 'advance'; ms: number }
  | { kind: 'snapshot' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('send' as const), n: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('ack' as const), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('peer' as const) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 3_000 }) }),
  fc.record({ kind: fc.constant('snapshot' as const) }),
);

/** A channel whose window is open (past slow start), so sends go out at once. */
const open = (config: object = {}) => harness({ helloIntervalMs: 0, peerReceiveWindowSize: 16, ...config }, { state: { ...stateAt(0, 0, 16), cwnd: 16, ssthresh: 16 } });

describe('control channel deltas', () => {
  it('the store merges every delta into exactly the snapshot the channel had (sends, acks, retransmissions, Ns wrap)', () => {
    let keptSome = 0;
    fc.assert(
      fc.property(fc.constantFrom(0, 65_520), fc.array(op, { minLength: 1, maxLength: 60 }), (start, ops) => {
        const h = harness({ helloIntervalMs: 0, receiveWindowSize: 8, peerReceiveWindowSize: 8, retransmitInitialMs: 1_000, maxRetransmits: 50 }, { state: stateAt(start, 100, 8) });
        let stored: ControlChannelState<string> | undefined;
        let base: ChannelDeltaBase | undefined;
        let sent = 0;
        for (const o of [...ops, { kind: 'snapshot' } as Op]) {
          if (o.kind === 'send') for (let i = 0; i < o.n; i++) h.ch.send(`m${sent++}`);
          else if (o.kind === 'ack') {
            const s = h.ch.snapshot();
            h.ch.receive(s.nr, (s.peerNr + Math.floor(o.fraction * s.inFlight)) & 0xffff, null);
          } else if (o.kind === 'peer') h.ch.receive(h.ch.snapshot().nr, h.ch.snapshot().peerNr, 'p');
          else if (o.kind === 'advance') h.clock.advance(o.ms);
          else {
            const snap = h.ch.snapshot();
            const d = channelDelta(structuredClone(snap), base);
            base = d.base;
            if (isChannelDelta(d.send) && d.send.unackedKept > 0) keptSome++;
            stored = mergeChannelDelta(stored, structuredClone(d.send));
            expect(stored).toEqual(snap);
          }
        }
      }),
      { numRuns: 300 },
    );
    expect(keptSome).toBeGreaterThan(50); // the deltas did leave messages out
  });

  it('sends only the messages sent since the last snapshot, and everything again after a retransmission', () => {
    const h = open({ retransmitInitialMs: 1_000 });
    for (let i = 0; i < 4; i++) h.ch.send(`a${i}`);
    const first = channelDelta(h.ch.snapshot(), undefined);
    expect(isChannelDelta(first.send)).toBe(false);
    expect(first.send.unacked.map((e) => e.msg)).toEqual(['a0', 'a1', 'a2', 'a3']);

    h.ch.receive(0, 2, null); // a0, a1 acknowledged
    h.ch.send('b0');
    const second = channelDelta(h.ch.snapshot(), first.base);
    expect(second.send).toMatchObject({ unackedKept: 2, peerNr: 2, ns: 5 });
    expect(second.send.unacked.map((e) => e.msg)).toEqual(['b0']);

    h.ch.receive(0, 5, null); // all acknowledged: nothing kept, nothing new
    const third = channelDelta(h.ch.snapshot(), second.base);
    expect(third.send).toMatchObject({ unackedKept: 0, unacked: [] });

    h.ch.send('c0');
    h.clock.advance(1_000); // c0 retransmitted: its retries and send time changed
    const fourth = channelDelta(h.ch.snapshot(), third.base);
    expect(isChannelDelta(fourth.send)).toBe(false);
    expect(fourth.send.unacked).toEqual([expect.objectContaining({ msg: 'c0', retries: 1 })]);
  });

  it('refuses a delta whose kept messages the stored snapshot does not hold', () => {
    const h = open();
    for (let i = 0; i < 3; i++) h.ch.send(`a${i}`);
    const first = channelDelta(h.ch.snapshot(), undefined);
    h.ch.send('b');
    const { send } = channelDelta(h.ch.snapshot(), first.base);
    expect(() => mergeChannelDelta(undefined, send)).toThrow(ChannelDeltaError);
    const older = { ...first.send, unacked: first.send.unacked.slice(0, 1), ns: 1 };
    expect(() => mergeChannelDelta(older, send)).toThrow(/does not hold/);
    // What a store keeps after such a failure (the delta itself) is no base for the next one either.
    expect(() => mergeChannelDelta(send, { ...h.ch.snapshot(), unackedKept: 1 })).toThrow(/incomplete stored snapshot/);
  });
});
