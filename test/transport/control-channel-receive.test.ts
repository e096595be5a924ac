/** Receiving side: ordering, reorder buffer, duplicates, ack timing, idle; and the RFC 2661 Appendix B examples. */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/transport/clock.js';
import { type Harness, type Tx, harness, stateAt } from './support/harness.js';

const quiet = { helloIntervalMs: 0 };

/** Two harnesses joined by a link of fixed delay; `drop` decides per packet. Returns the wire log. */
function pair(
  opts: { stateA?: ReturnType<typeof stateAt>; stateB?: ReturnType<typeof stateAt>; delayMs?: number; replyDelayMs?: number },
  reply: (side: 'A' | 'B', msg: string) => string | undefined,
  drop: (from: 'A' | 'B', tx: Tx, index: number) => boolean = () => false,
): { a: Harness; b: Harness; clock: VirtualClock; wire: string[] } {
  const clock = new VirtualClock();
  const wire: string[] = [];
  const delay = opts.delayMs ?? 5;
  const hs = {} as { a: Harness; b: Harness };
  const mk = (side: 'A' | 'B', state: ReturnType<typeof stateAt> | undefined): Harness =>
    harness(quiet, {
      clock,
      ...(state ? { state } : {}),
      onDeliver: (h, msg) => {
        const r = reply(side, msg);
        if (r === undefined) return;
        if (opts.replyDelayMs === undefined) h.ch.send(r);
        else clock.setTimeout(() => h.ch.send(r), opts.replyDelayMs);
      },
    });
  hs.a = mk('A', opts.stateA);
  hs.b = mk('B', opts.stateB);
  // Forward each recorded transmission after the link delay (polling the logs keeps the harness simple).
  const forwarded = { A: 0, B: 0 };
  const forward = (): void => {
    for (const [side, from, to] of [['A', hs.a, hs.b], ['B', hs.b, hs.a]] as const) {
      while (forwarded[side] < from.tx.length) {
        const i = forwarded[side]++;
        const tx = from.tx[i]!;
        const lost = drop(side, tx, i);
        wire.push(`${side} ${tx.msg ?? 'ZLB'} Nr:${tx.nr} Ns:${tx.ns}${lost ? ' (lost)' : ''}`);
        if (!lost) clock.setTimeout(() => (to.ch.receive(tx.ns, tx.nr, tx.msg), forward()), delay);
      }
    }
  };
  const origSend = { a: hs.a.ch.send.bind(hs.a.ch), b: hs.b.ch.send.bind(hs.b.ch) };
  hs.a.ch.send = (m: string) => (origSend.a(m), forward());
  hs.b.ch.send = (m: string) => (origSend.b(m), forward());
  // Timers (retransmits, delayed ZLBs) transmit too: poll after every virtual millisecond step.
  const tick = (): void => {
    forward();
    clock.setTimeout(tick, 1);
  };
  clock.setTimeout(tick, 0);
  return { ...hs, clock, wire };
}

describe('ControlChannel receiving', () => {
  it('RFC 2661 Appendix B.1: lock-step tunnel establishment, final ack in a ZLB', () => {
    const replies: Record<string, string> = { SCCRQ: 'SCCRP', SCCRP: 'SCCCN' };
    const p = pair({}, (_side, msg) => replies[msg]);
    p.a.ch.send('SCCRQ');
    p.clock.advance(1000);
    expect(p.wire).toEqual(['A SCCRQ Nr:0 Ns:0', 'B SCCRP Nr:1 Ns:0', 'A SCCCN Nr:1 Ns:1', 'B ZLB Nr:2 Ns:1']);
    expect(p.a.ch.isIdle() && p.b.ch.isIdle()).toBe(true);
  });

  it('RFC 2661 Appendix B.2: lost ICRP, duplicate ICRQ answered by ZLB, ICRP retransmitted', () => {
    const replies: Record<string, string> = { ICRQ: 'ICRP', ICRP: 'ICCN' };
    const p = pair(
      // A = LAC, B = LNS, tunnel already up. Replies take 3 ms, so the LAC's timer "started first".
      { stateA: stateAt(2, 1), stateB: stateAt(1, 2), replyDelayMs: 3 },
      (_side, msg) => replies[msg],
      (from, tx) => from === 'B' && tx.msg === 'ICRP' && tx.t < 1000,
    );
    p.a.ch.send('ICRQ');
    p.clock.advance(3000);
    expect(p.wire).toEqual([
      'A ICRQ Nr:1 Ns:2',
      'B ICRP Nr:3 Ns:1 (lost)',
      'A ICRQ Nr:1 Ns:2', // LAC's timer started first, so fires first
      'B ZLB Nr:3 Ns:2', // duplicate: acknowledged at once
      'B ICRP Nr:3 Ns:1', // LNS's retransmit timer fires
      'A ICCN Nr:2 Ns:3',
      'B ZLB Nr:4 Ns:2',
    ]);
    expect(p.b.delivered.map((d) => d.msg)).toEqual(['ICRQ', 'ICCN']);
    expect(p.b.ch.stats.duplicates).toBe(1);
  });

  it('buffers out-of-order messages within our RWS, drops beyond it, delivers when the gap fills', () => {
    const h = harness({ ...quiet, receiveWindowSize: 4 });
    h.ch.receive(3, 0, 'm3');
    h.ch.receive(4, 0, 'm4'); // offset 4 ≥ RWS 4: dropped
    h.ch.receive(2, 0, 'm2');
    h.ch.receive(1, 0, 'm1');
    h.ch.receive(3, 0, 'm3'); // already buffered
    expect(h.delivered).toEqual([]);
    expect(h.ch.snapshot().reorder).toEqual([
      { ns: 1, msg: 'm1' },
      { ns: 2, msg: 'm2' },
      { ns: 3, msg: 'm3' },
    ]);
    expect(h.ch.stats).toMatchObject({ reordered: 3, outOfWindow: 1, duplicates: 1, delivered: 0 });
    expect(h.take()).toEqual([]); // no ack for a gap: Nr has not moved
    h.ch.receive(0, 0, 'm0');
    expect(h.delivered).toEqual(['m0', 'm1', 'm2', 'm3'].map((msg, ns) => ({ msg, ns })));
    h.clock.advance(100);
    expect(h.take()).toEqual([{ t: 100, ns: 0, nr: 4, msg: null }]); // one cumulative ZLB
    h.ch.receive(4, 0, 'm4');
    expect(h.delivered.at(-1)).toEqual({ msg: 'm4', ns: 4 });
    expect(h.ch.snapshot().reorder).toEqual([]);
  });

  it('RWS 1 buffers nothing', () => {
    const h = harness({ ...quiet, receiveWindowSize: 1 });
    h.ch.receive(1, 0, 'm1');
    h.ch.receive(0, 0, 'm0');
    expect(h.delivered.map((d) => d.msg)).toEqual(['m0']);
    expect(h.ch.stats.outOfWindow).toBe(1);
  });

  it('delivers across the 65535 → 0 wrap, reordered', () => {
    const h = harness(quiet, { state: stateAt(0, 65534) });
    h.ch.receive(0, 0, 'c');
    h.ch.receive(65535, 0, 'b');
    h.ch.receive(65534, 0, 'a');
    expect(h.delivered).toEqual([
      { msg: 'a', ns: 65534 },
      { msg: 'b', ns: 65535 },
      { msg: 'c', ns: 0 },
    ]);
    expect(h.ch.snapshot().nr).toBe(1);
  });

  it('a duplicate is not delivered again and is acknowledged at once by a ZLB', () => {
    const h = harness({ ...quiet, receiveWindowSize: 8 }, { state: stateAt(7, 16) }); // last received Ns 15
    h.ch.receive(32784, 0, 'old'); // RFC 2661 §5.8: ≤ 15, a duplicate
    expect(h.take()).toEqual([{ t: 0, ns: 7, nr: 16, msg: null }]);
    h.ch.receive(15, 0, 'old');
    expect(h.take()).toEqual([{ t: 0, ns: 7, nr: 16, msg: null }]);
    h.ch.receive(32783, 0, 'far'); // > 15, but beyond our window
    expect(h.take()).toEqual([]);
    expect(h.ch.stats).toMatchObject({ duplicates: 2, outOfWindow: 1, delivered: 0, zlbSent: 2 });
    expect(h.delivered).toEqual([]);
    expect(h.ch.isIdle()).toBe(true);
  });

  it('a duplicate is acknowledged by a message instead when one goes out at once', () => {
    const h = harness(quiet, { state: stateAt(0, 1) });
    h.ch.send('q'); // Ns 0, window now full (cwnd 1)
    h.ch.send('r');
    h.take();
    h.ch.receive(0, 1, 'dup'); // acks 'q' (opens the window) and is a duplicate of Ns 0
    expect(h.take()).toEqual([{ t: 0, ns: 1, nr: 1, msg: 'r' }]);
  });

  it('sends a ZLB ackDelayMs after an unanswered message, and a ZLB never consumes an Ns', () => {
    const h = harness({ ...quiet, ackDelayMs: 100 });
    h.clock.advance(10);
    h.ch.receive(0, 0, 'hello');
    h.clock.advance(99);
    expect(h.take()).toEqual([]);
    h.clock.advance(1);
    expect(h.take()).toEqual([{ t: 110, ns: 0, nr: 1, msg: null }]);
    h.ch.send('next');
    expect(h.take()).toEqual([{ t: 110, ns: 0, nr: 1, msg: 'next' }]);
    h.clock.advance(10_000);
    expect(h.take().every((t) => t.msg === 'next')).toBe(true); // retransmissions only, no ZLB
  });

  describe('messages the owner does not answer (ackDelayUnansweredMs)', () => {
    const answers = (m: string) => m.startsWith('icrq');

    it('acks them after ackDelayUnansweredMs, answered ones after ackDelayMs', () => {
      const h = harness({ ...quiet, ackDelayMs: 100, ackDelayUnansweredMs: 20 }, { answers });
      h.ch.receive(0, 0, 'iccn');
      h.clock.advance(19);
      expect(h.take()).toEqual([]);
      h.clock.advance(1);
      expect(h.take()).toEqual([{ t: 20, ns: 0, nr: 1, msg: null }]);
      h.ch.receive(1, 0, 'icrq'); // answered (asynchronously here): the ack may wait the full delay
      h.clock.advance(99);
      expect(h.take()).toEqual([]);
      h.clock.advance(1);
      expect(h.take()).toEqual([{ t: 120, ns: 0, nr: 2, msg: null }]);
    });

    it('an unanswered message brings forward an ack already waiting for a reply', () => {
      const h = harness({ ...quiet, ackDelayMs: 100, ackDelayUnansweredMs: 20 }, { answers });
      h.ch.receive(0, 0, 'icrq');
      h.clock.advance(30);
      h.ch.receive(1, 0, 'iccn'); // due at 50 now, not 100: one ZLB acks both
      h.clock.advance(19);
      expect(h.take()).toEqual([]);
      h.clock.advance(1);
      expect(h.take()).toEqual([{ t: 50, ns: 0, nr: 2, msg: null }]);
      h.clock.advance(200);
      expect(h.take()).toEqual([]);
    });

    it('never waits longer than ackDelayMs, and 0 acks at once', () => {
      const capped = harness({ ...quiet, ackDelayMs: 10, ackDelayUnansweredMs: 20 }, { answers });
      capped.ch.receive(0, 0, 'cdn');
      capped.clock.advance(10);
      expect(capped.take()).toEqual([{ t: 10, ns: 0, nr: 1, msg: null }]);
      const now = harness({ ...quiet, ackDelayMs: 100, ackDelayUnansweredMs: 0 }, { answers });
      now.ch.receive(0, 0, 'hello');
      expect(now.take()).toEqual([{ t: 0, ns: 0, nr: 1, msg: null }]);
    });

    it('a message of ours going out first carries the ack: no ZLB', () => {
      const h = harness({ ...quiet, ackDelayMs: 100, ackDelayUnansweredMs: 20 }, { answers });
      h.ch.receive(0, 0, 'iccn');
      h.clock.advance(15);
      h.ch.send('icrp-of-the-next-call');
      h.clock.advance(100);
      expect(h.take()).toEqual([{ t: 15, ns: 0, nr: 1, msg: 'icrp-of-the-next-call' }]);
    });

    it('without the hook every message counts as answered (ackDelayMs)', () => {
      const h = harness({ ...quiet, ackDelayMs: 100, ackDelayUnansweredMs: 20 });
      h.ch.receive(0, 0, 'iccn');
      h.clock.advance(99);
      expect(h.take()).toEqual([]);
      h.clock.advance(1);
      expect(h.take()).toEqual([{ t: 100, ns: 0, nr: 1, msg: null }]);
    });
  });

  it('measures the ack delay from the first unacknowledged receipt', () => {
    const h = harness({ ...quiet, ackDelayMs: 100 });
    h.ch.receive(0, 0, 'a');
    h.clock.advance(60);
    h.ch.receive(1, 0, 'b');
    h.clock.advance(40);
    expect(h.take()).toEqual([{ t: 100, ns: 0, nr: 2, msg: null }]);
  });

  it('sends no ZLB when a reply carries the ack in time (asynchronously or from deliver)', () => {
    const h = harness({ ...quiet, ackDelayMs: 100 });
    h.ch.receive(0, 0, 'icrq');
    h.clock.advance(50);
    h.ch.send('icrp');
    h.clock.advance(60);
    expect(h.take()).toEqual([{ t: 50, ns: 0, nr: 1, msg: 'icrp' }]);
    // A later receipt owes a new ack; the stale timer armed for the first one must not fire it early.
    h.clock.advance(30); // t = 140
    h.ch.receive(1, 1, 'iccn');
    h.clock.advance(99);
    expect(h.take()).toEqual([]);
    h.clock.advance(1);
    expect(h.take()).toEqual([{ t: 240, ns: 1, nr: 2, msg: null }]);

    for (const ackDelayMs of [0, 100]) {
      const s = harness({ ...quiet, ackDelayMs }, { onDeliver: (x, msg) => x.ch.send(`re:${msg}`) });
      s.ch.receive(0, 0, 'sccrq');
      s.clock.advance(1000);
      expect(s.tx.filter((t) => t.msg === null)).toEqual([]);
      expect(s.tx[0]).toEqual({ t: 0, ns: 0, nr: 1, msg: 're:sccrq' });
    }
  });

  it('ackDelayMs 0 acknowledges at the end of receive()', () => {
    const h = harness({ ...quiet, ackDelayMs: 0 });
    h.ch.receive(0, 0, 'x');
    expect(h.take()).toEqual([{ t: 0, ns: 0, nr: 1, msg: null }]);
  });

  it('calls idle() after helloIntervalMs of silence, restarted by every received packet', () => {
    const h = harness({ helloIntervalMs: 60_000 }, { onIdle: (x) => x.ch.send('HELLO') });
    h.clock.advance(59_999);
    expect(h.idles).toEqual([]);
    h.clock.advance(1);
    expect(h.idles).toEqual([60_000]);
    expect(h.take()).toEqual([{ t: 60_000, ns: 0, nr: 0, msg: 'HELLO' }]);
    h.clock.advance(500);
    h.ch.receive(0, 1, null); // the peer's ZLB acks the HELLO and restarts the idle timer
    h.clock.advance(59_999);
    expect(h.idles).toEqual([60_000]);
    h.clock.advance(1);
    expect(h.idles).toEqual([60_000, 120_500]);
    h.ch.receive(1, 2, null);
    h.clock.advance(20_000);
    h.ch.receive(0, 2, 'iccn');
    h.clock.advance(60_000);
    expect(h.idles).toEqual([60_000, 120_500, 200_500]);
  });

  it('keeps calling idle() once per interval while the peer stays silent; 0 disables it', () => {
    const h = harness({ helloIntervalMs: 10_000, maxRetransmits: 100 });
    h.clock.advance(35_000);
    expect(h.idles).toEqual([10_000, 20_000, 30_000]);
    const off = harness({ helloIntervalMs: 0 });
    off.clock.advance(1e9);
    expect(off.idles).toEqual([]);
    expect(off.clock.pending()).toBe(0);
  });

  it('jitters the idle deadline within helloJitterMs', () => {
    const h = harness({ helloIntervalMs: 10_000, helloJitterMs: 2000 });
    h.clock.advance(9_999);
    expect(h.idles).toEqual([]);
    h.clock.advance(2001);
    expect(h.idles).toHaveLength(1);
    expect(h.idles[0]).toBeGreaterThanOrEqual(10_000);
    expect(h.idles[0]).toBeLessThanOrEqual(12_000);
  });
});
