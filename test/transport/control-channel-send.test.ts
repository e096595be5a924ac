/** Sending side: Ns assignment, retransmission back-off, dead(), Appendix A windows, peer RWS. */
import { describe, expect, it } from 'vitest';
import { ControlChannelConfigError } from '../../src/transport/control-channel-config.js';
import { harness, stateAt } from './support/harness.js';

const quiet = { helloIntervalMs: 0 };

describe('ControlChannel sending', () => {
  it('gives new messages consecutive Ns from 0 and carries the current Nr', () => {
    const h = harness({ ...quiet, peerReceiveWindowSize: 8 });
    h.ch.receive(0, 0, 'peer-0');
    h.ch.send('a');
    expect(h.take()).toEqual([{ t: 0, ns: 0, nr: 1, msg: 'a' }]);
    h.ch.receive(0, 1, null); // ack of Ns 0
    h.ch.send('b');
    h.ch.send('c'); // cwnd is 2 now
    expect(h.take().map((t) => [t.ns, t.nr, t.msg])).toEqual([[1, 1, 'b'], [2, 1, 'c']]);
    expect(h.ch.stats.sent).toBe(3);
  });

  it('retransmits after 1, 2, 4, 8, 8 s with the same Ns and current Nr, then dead() at 31 s', () => {
    const h = harness(quiet);
    h.ch.send('sccrq');
    h.clock.advance(2000);
    h.ch.receive(0, 0, 'unrelated'); // moves our Nr to 1 without acking Ns 0
    h.clock.advance(28_999);
    expect(h.deaths).toEqual([]);
    const tx = h.take().filter((t) => t.msg === 'sccrq');
    expect(tx.map((t) => t.t)).toEqual([0, 1000, 3000, 7000, 15000, 23000]);
    expect(tx.every((t) => t.ns === 0)).toBe(true);
    expect(tx.map((t) => t.nr)).toEqual([0, 0, 1, 1, 1, 1]);
    h.clock.advance(1);
    expect(h.deaths).toHaveLength(1);
    expect(h.deaths[0]!.t).toBe(31_000);
    expect(h.deaths[0]!.reason).toMatch(/Ns 0 after 5 retransmissions/);
    expect(h.ch.stats.retransmitted).toBe(5);
    expect(h.clock.pending()).toBe(0);
    h.ch.send('after-death');
    h.clock.advance(100_000);
    expect(h.take().filter((t) => t.msg !== null)).toEqual([]);
  });

  it('canSendNow: only while a message would leave at once (room in the window, nothing queued or to resend)', () => {
    const h = harness({ helloIntervalMs: 0, peerReceiveWindowSize: 4 });
    expect(h.ch.canSendNow()).toBe(true);
    h.ch.send('a'); // slow start: cwnd 1
    expect(h.ch.canSendNow()).toBe(false);
    h.ch.send('b');
    expect(h.ch.pendingCount()).toBe(1);
    h.ch.receive(0, 1, null); // 'a' acked: cwnd 2, 'b' leaves, room for one more
    expect(h.ch.canSendNow()).toBe(true);
    h.ch.send('c');
    expect(h.ch.canSendNow()).toBe(false);
    h.clock.advance(1000); // timeout: go-back-N, cwnd 1: 'b' is resent, 'c' waits to be
    expect(h.ch.canSendNow()).toBe(false);
    h.ch.receive(1, 3, null);
    expect(h.ch.canSendNow()).toBe(true);
    h.ch.close();
    expect(h.ch.canSendNow()).toBe(false);
  });

  it('reports the full retransmission cycle: 31 s with the defaults (RFC 2661 §5.7)', () => {
    expect(harness(quiet).ch.retransmitCycleMs).toBe(31_000);
    expect(harness({ ...quiet, maxRetransmits: 10 }).ch.retransmitCycleMs).toBe(71_000);
  });

  it('honours configured initial interval, cap and retry limit', () => {
    const h = harness({ ...quiet, retransmitInitialMs: 500, retransmitCapMs: 9000, maxRetransmits: 7 });
    h.ch.send('x');
    h.clock.runUntilIdle();
    expect(h.tx.map((t) => t.t)).toEqual([0, 500, 1500, 3500, 7500, 15500, 24500, 33500]);
    expect(h.deaths.map((d) => d.t)).toEqual([42_500]);
  });

  it('an ack stops retransmission and resets back-off for the next message', () => {
    const h = harness(quiet);
    h.ch.send('a');
    h.clock.advance(3500); // retransmitted at 1000 and 3000
    h.ch.receive(0, 1, null);
    h.ch.send('b');
    h.clock.advance(1000);
    expect(h.tx.map((t) => [t.t, t.msg])).toEqual([[0, 'a'], [1000, 'a'], [3000, 'a'], [3500, 'b'], [4500, 'b']]);
    h.ch.receive(1, 2, null);
    h.clock.advance(60_000);
    expect(h.tx).toHaveLength(5);
    expect(h.ch.isIdle()).toBe(true);
    expect(h.clock.pending()).toBe(0);
  });

  it('rejects configuration the RFC forbids, with typed errors naming the field', () => {
    const bad: [object, string][] = [
      [{ retransmitCapMs: 7999 }, 'retransmitCapMs'],
      [{ receiveWindowSize: 0 }, 'receiveWindowSize'],
      [{ peerReceiveWindowSize: 0 }, 'peerReceiveWindowSize'],
      [{ ackDelayMs: 1000 }, 'ackDelayMs'],
      [{ ackDelayUnansweredMs: 501 }, 'ackDelayUnansweredMs'],
      [{ maxRetransmits: -1 }, 'maxRetransmits'],
      [{ retransmitInitialMs: 0 }, 'retransmitInitialMs'],
    ];
    for (const [cfg, field] of bad) {
      let err: unknown;
      try {
        harness(cfg);
      } catch (e) {
        err = e;
      }
      expect(err, field).toBeInstanceOf(ControlChannelConfigError);
      expect((err as ControlChannelConfigError).field).toBe(field);
    }
    const h = harness(quiet);
    expect(() => h.ch.setPeerReceiveWindowSize(0)).toThrow(ControlChannelConfigError);
    expect(() => harness({ retransmitCapMs: 8000, ackDelayMs: 0, maxRetransmits: 0 })).not.toThrow();
  });

  it('slow start: cwnd 1, +1 per acked message, capped at the peer RWS', () => {
    const h = harness({ ...quiet, peerReceiveWindowSize: 8 });
    for (let i = 0; i < 40; i++) h.ch.send(`m${i}`);
    expect(h.take().map((t) => t.ns)).toEqual([0]);
    const cwnds: number[] = [];
    const newlySent: number[] = [];
    for (let nr = 1; nr <= 9; nr++) {
      h.ch.receive(0, nr, null);
      cwnds.push(h.ch.snapshot().cwnd);
      newlySent.push(h.take().length);
      expect(h.ch.unackedCount()).toBe(Math.min(h.ch.congestionWindow, 8));
    }
    expect(cwnds).toEqual([2, 3, 4, 5, 6, 7, 8, 8, 8]);
    expect(newlySent).toEqual([2, 2, 2, 2, 2, 2, 2, 1, 1]);
  });

  it('a cumulative ack of k messages counts as k acks', () => {
    const h = harness({ ...quiet, peerReceiveWindowSize: 16 });
    for (let i = 0; i < 40; i++) h.ch.send(`m${i}`);
    h.ch.receive(0, 1, null); // cwnd 2: Ns 1, 2 out
    h.ch.receive(0, 3, null); // acks 2 at once: cwnd 4
    expect(h.ch.congestionWindow).toBe(4);
    expect(h.ch.unackedCount()).toBe(4);
  });

  it('timeout halves into ssthresh, resets cwnd to 1, goes back N, then grows per Appendix A', () => {
    const h = harness({ ...quiet, peerReceiveWindowSize: 8 });
    for (let i = 0; i < 60; i++) h.ch.send(`m${i}`);
    for (let nr = 1; nr <= 8; nr++) h.ch.receive(0, nr, null);
    // cwnd 8, Ns 8..15 in flight, all sent at t=0.
    expect(h.ch.snapshot()).toMatchObject({ cwnd: 8, ssthresh: 8, inFlight: 8, peerNr: 8, ns: 16 });
    h.take();
    h.clock.advance(1000);
    expect(h.ch.snapshot()).toMatchObject({ cwnd: 1, ssthresh: 4, inFlight: 1 });
    expect(h.take().map((t) => t.ns)).toEqual([8]); // only the oldest, window is 1
    expect(h.ch.stats.timeouts).toBe(1);

    const seen: [number, number, number, number[]][] = [];
    for (let nr = 9; nr <= 16; nr++) {
      h.ch.receive(0, nr, null);
      const s = h.ch.snapshot();
      seen.push([s.cwnd, s.ssthresh, s.congestionAvoidanceAcks, h.take().map((t) => t.ns)]);
    }
    expect(seen).toEqual([
      [2, 4, 0, [9, 10]], // slow start; go-back-N resends 9 and 10
      [3, 4, 0, [11, 12]],
      [4, 4, 0, [13, 14]], // cwnd reached ssthresh: congestion avoidance from here
      [4, 4, 1, [15]], // last go-back-N resend (15), then new messages
      [4, 4, 2, [16]],
      [4, 4, 3, [17]],
      [5, 4, 0, [18, 19]], // +1 after cwnd (4) acks
      [5, 4, 1, [20]],
    ]);
    expect(h.ch.stats.retransmitted).toBe(8);
  });

  it('never has more unacked messages than the peer RWS, learned late via setPeerReceiveWindowSize', () => {
    const h = harness({ ...quiet });
    h.ch.setPeerReceiveWindowSize(2);
    for (let i = 0; i < 20; i++) h.ch.send(`m${i}`);
    let maxOut = 0;
    for (let k = 0; k < 25; k++) {
      maxOut = Math.max(maxOut, h.ch.unackedCount());
      const last = h.take().at(-1);
      if (last) h.ch.receive(0, (last.ns + 1) & 0xffff, null);
    }
    expect(maxOut).toBe(2);
    expect(h.ch.snapshot().ssthresh).toBe(2);
    expect(h.ch.stats.sent).toBe(20);
    // Default peer RWS (AVP absent) is 4.
    const d = harness(quiet);
    for (let i = 0; i < 20; i++) d.ch.send(`m${i}`);
    for (let nr = 1; nr <= 10; nr++) {
      d.ch.receive(0, nr, null);
      expect(d.ch.unackedCount()).toBeLessThanOrEqual(4);
    }
    expect(d.ch.unackedCount()).toBe(4);
    // A window larger than half the sequence space is clamped.
    d.ch.setPeerReceiveWindowSize(65535);
    expect(d.ch.peerReceiveWindowSize).toBe(32767);
  });

  it('ignores an Nr acknowledging messages never sent, and stale Nr values', () => {
    const h = harness(quiet);
    h.ch.send('a');
    h.ch.receive(0, 5, null);
    expect(h.ch.stats.invalidAcks).toBe(1);
    expect(h.ch.unackedCount()).toBe(1);
    h.ch.receive(0, 1, null);
    expect(h.ch.unackedCount()).toBe(0);
    h.ch.receive(0, 0, null); // an old packet overtaken by the ack above
    expect(h.ch.stats.invalidAcks).toBe(1);
    expect(h.ch.stats.acked).toBe(1);
  });

  it('wraps Ns from 65535 to 0 and acks across the wrap', () => {
    const h = harness({ ...quiet, peerReceiveWindowSize: 4 }, { state: stateAt(65534, 0) });
    for (let i = 0; i < 4; i++) h.ch.send(`w${i}`);
    h.ch.receive(0, 65535, null);
    h.ch.receive(0, 0, null);
    h.ch.receive(0, 1, null);
    expect(h.take().map((t) => t.ns)).toEqual([65534, 65535, 0, 1]);
    h.ch.receive(0, 2, null);
    expect(h.ch.snapshot()).toMatchObject({ ns: 2, peerNr: 2, unacked: [] });
  });

  it('close() cancels all timers and ignores later input', () => {
    const h = harness({ helloIntervalMs: 60_000 });
    h.ch.send('a');
    h.ch.receive(0, 0, 'b');
    expect(h.clock.pending()).toBeGreaterThan(0);
    h.ch.close();
    expect(h.clock.pending()).toBe(0);
    h.ch.send('c');
    h.ch.receive(1, 1, 'd');
    h.clock.advance(100_000);
    expect(h.tx.map((t) => t.msg)).toEqual(['a']);
    expect(h.delivered.map((d) => d.msg)).toEqual(['b']);
  });
});
