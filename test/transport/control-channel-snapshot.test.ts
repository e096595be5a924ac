/** snapshot() → JSON → constructor: the restored channel must continue exactly where the original was. */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/transport/clock.js';
import { ControlChannel } from '../../src/transport/control-channel.js';
import { type ControlChannelState, ControlChannelStateError } from '../../src/transport/control-channel-config.js';
import { type Harness, harness, stateAt } from './support/harness.js';

const cfg = { helloIntervalMs: 60_000, receiveWindowSize: 4, peerReceiveWindowSize: 4 };

/** A channel mid-flight: go-back-N pending, a retransmission done, a reorder buffer, an ack owed. */
function midFlight(): Harness {
  const h = harness(cfg);
  for (let i = 0; i < 8; i++) h.ch.send(`m${i}`);
  h.clock.advance(200);
  h.ch.receive(0, 1, 'p0'); // acks m0: cwnd 2, m1 and m2 out
  h.clock.advance(200);
  h.ch.receive(2, 1, 'p2'); // buffered
  h.clock.advance(800); // t=1200: m1 times out, cwnd 1, m1 resent
  h.clock.advance(100);
  h.ch.receive(4, 1, 'p4'); // buffered
  h.clock.advance(100);
  h.ch.receive(1, 1, 'p1'); // delivers p1, p2; ack owed since t=1400
  h.clock.advance(50); // t=1450
  return h;
}

const roundTrip = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Identical inputs for the original and the restored twin. */
function drive(h: Harness): void {
  h.clock.advance(100); // delayed ZLB at 1500
  h.clock.advance(2000); // m1 retransmitted at 3200
  h.ch.receive(3, 2, 'p3'); // acks m1; delivers p3, p4; go-back-N resumes with m2
  h.clock.advance(300);
  h.ch.receive(5, 4, null);
  h.clock.advance(5000);
  h.ch.send('late');
  h.clock.advance(70_000); // retransmissions until dead, idle() on the way
}

describe('ControlChannel snapshot / restore', () => {
  it('captures the whole state as plain JSON-able data', () => {
    const h = midFlight();
    const s = h.ch.snapshot();
    expect(roundTrip(s)).toEqual(s);
    expect(s).toMatchObject({
      version: 1,
      status: 'open',
      ns: 3,
      nr: 3,
      peerNr: 1,
      cwnd: 1,
      ssthresh: 1,
      congestionAvoidanceAcks: 0,
      inFlight: 1,
      pending: ['m3', 'm4', 'm5', 'm6', 'm7'],
      reorder: [{ ns: 4, msg: 'p4' }],
      ackOwedSince: 1400,
      quietSince: 1400,
      peerReceiveWindowSize: 4,
    });
    expect(s.unacked).toEqual([
      { ns: 1, msg: 'm1', retries: 1, sentAt: 1200 },
      { ns: 2, msg: 'm2', retries: 0, sentAt: 200 },
    ]);
    expect(s.stats).toMatchObject({ sent: 3, retransmitted: 1, timeouts: 1, delivered: 3, reordered: 2 });
  });

  it('a restored twin behaves exactly like the original from the snapshot on', () => {
    const orig = midFlight();
    const s = roundTrip(orig.ch.snapshot());
    const twin = harness(cfg, { clock: new VirtualClock(orig.clock.now()), state: s });
    const before = { tx: orig.tx.length, delivered: orig.delivered.length };
    drive(orig);
    drive(twin);
    const after = orig.tx.slice(before.tx);
    expect(twin.tx).toEqual(after);
    expect(twin.delivered).toEqual(orig.delivered.slice(before.delivered));
    expect(twin.idles).toEqual(orig.idles);
    expect(twin.deaths).toEqual(orig.deaths);
    expect(twin.ch.snapshot()).toEqual(orig.ch.snapshot());
    // And the expected things happened, so the comparison above was not vacuous.
    expect(after.map((t) => [t.t, t.ns, t.nr, t.msg])).toEqual([
      [1500, 3, 3, null], // the owed ack, ackDelayMs after the receipt at 1400
      [3200, 1, 3, 'm1'], // second retransmission of m1: 1200 + 2000
      [3550, 2, 5, 'm2'], // go-back-N resend, carrying the new Nr
      [3550, 3, 5, 'm3'], // Ns continues at 3
      [3850, 4, 5, 'm4'],
      [3850, 5, 5, 'm5'],
      [3850, 6, 5, 'm6'], // cwnd 3 (congestion avoidance from ssthresh 1)
      [4850, 4, 5, 'm4'],
      [6850, 4, 5, 'm4'],
      [10850, 4, 5, 'm4'],
      [18850, 4, 5, 'm4'],
      [26850, 4, 5, 'm4'],
    ]);
    expect(twin.delivered.map((d) => [d.msg, d.ns])).toEqual([['p3', 3], ['p4', 4]]);
    expect(twin.deaths.map((d) => d.t)).toEqual([34_850]);
  });

  it('restores the idle and ack timers', () => {
    const s = roundTrip(midFlight().ch.snapshot());
    const idleOnly = { ...s, unacked: [], inFlight: 0, pending: [], peerNr: s.ns };
    const h = harness(cfg, { clock: new VirtualClock(1450), state: idleOnly });
    h.clock.advance(70_000);
    expect(h.take()).toEqual([{ t: 1500, ns: 3, nr: 3, msg: null }]);
    expect(h.idles).toEqual([61_400]); // quietSince 1400 + 60 s
  });

  it('after an outage longer than the timer, retransmits at once and resumes the back-off', () => {
    const s = roundTrip(midFlight().ch.snapshot());
    const h = harness({ ...cfg, helloIntervalMs: 0 }, { clock: new VirtualClock(100_000), state: s });
    h.clock.advance(0);
    expect(h.take()).toEqual([
      { t: 100_000, ns: 1, nr: 3, msg: 'm1' }, // retransmission; it carries the owed ack too
    ]);
    h.clock.runUntilIdle();
    expect(h.take().map((t) => [t.t, t.ns])).toEqual([[104_000, 1], [112_000, 1], [120_000, 1]]);
    expect(h.deaths.map((d) => d.t)).toEqual([128_000]);
    expect(h.ch.stats.retransmitted).toBe(5);
  });

  it('never waits longer than a fresh timer when restored on a clock that is behind', () => {
    const s = roundTrip(midFlight().ch.snapshot());
    const h = harness({ ...cfg, helloIntervalMs: 0 }, { clock: new VirtualClock(0), state: s });
    h.clock.advance(100);
    expect(h.take()).toEqual([{ t: 0 + 100, ns: 3, nr: 3, msg: null }]);
    h.clock.advance(1900);
    expect(h.take()).toEqual([{ t: 2000, ns: 1, nr: 3, msg: 'm1' }]);
  });

  it('a snapshot taken inside transmit (the durability point) restores without a duplicate send', () => {
    const clock = new VirtualClock();
    let saved: ControlChannelState<string> | undefined;
    const ch: ControlChannel<string> = new ControlChannel<string>(
      { helloIntervalMs: 0 },
      { transmit: () => (saved = roundTrip(ch.snapshot())), deliver: () => {}, dead: () => {}, idle: () => {} },
      clock,
    );
    ch.send('sccrq');
    expect(saved).toMatchObject({ ns: 1, unacked: [{ ns: 0, retries: 0, sentAt: 0 }], inFlight: 1 });
    ch.close();
    const h = harness({ helloIntervalMs: 0 }, { clock, state: saved! });
    clock.advance(999);
    expect(h.take()).toEqual([]);
    clock.advance(1);
    expect(h.take()).toEqual([{ t: 1000, ns: 0, nr: 0, msg: 'sccrq' }]);
  });

  it('drops buffered messages outside a smaller configured window', () => {
    const s = roundTrip(midFlight().ch.snapshot()); // p4 buffered at offset 1 from nr 3
    const h = harness({ ...cfg, receiveWindowSize: 1 }, { clock: new VirtualClock(1450), state: s });
    expect(h.ch.snapshot().reorder).toEqual([]);
    const k = harness({ ...cfg, receiveWindowSize: 2 }, { clock: new VirtualClock(1450), state: s });
    expect(k.ch.snapshot().reorder).toEqual([{ ns: 4, msg: 'p4' }]);
  });

  it('restores a closed or dead channel inert', () => {
    for (const status of ['closed', 'dead'] as const) {
      const s = { ...roundTrip(midFlight().ch.snapshot()), status };
      const h = harness(cfg, { clock: new VirtualClock(1450), state: s });
      expect(h.clock.pending()).toBe(0);
      h.ch.send('x');
      h.ch.receive(3, 3, 'y');
      expect(h.tx).toEqual([]);
      expect(h.delivered).toEqual([]);
    }
  });

  it('rejects inconsistent state with a typed error naming the field', () => {
    const good = stateAt(10, 20);
    const cases: [Partial<ControlChannelState<string>>, string][] = [
      [{ peerNr: 9 }, 'peerNr'],
      [{ ns: 70_000, peerNr: 70_000 }, 'ns'],
      [{ unacked: [{ ns: 10, msg: 'a', retries: 0, sentAt: 0 }], peerNr: 9 }, 'unacked[0].ns'],
      [{ inFlight: 1 }, 'inFlight'],
      [{ cwnd: 0 }, 'cwnd'],
      [{ version: 2 as 1 }, 'version'],
      [{ reorder: [{ ns: 20, msg: 'x' }] }, 'reorder[0].ns'],
      [{ pending: ['a', null as unknown as string] }, 'pending[1]'],
    ];
    for (const [patch, field] of cases) {
      let err: unknown;
      try {
        harness({}, { state: { ...good, ...patch } });
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(ControlChannelStateError);
      expect((err as ControlChannelStateError).field).toBe(field);
    }
  });
});
