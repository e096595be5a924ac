import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CongestionWindow } from '../../src/transport/congestion.js';

describe('CongestionWindow (RFC 2661 Appendix A)', () => {
  it('starts at 1 with ssthresh = advertised window, doubles per round trip in slow start', () => {
    const cw = new CongestionWindow(16);
    expect([cw.cwnd, cw.ssthresh, cw.window]).toEqual([1, 16, 1]);
    const perRtt: number[] = [];
    for (let rtt = 0; rtt < 4; rtt++) {
      const acks = cw.cwnd; // one round trip: every message in the window is acknowledged
      for (let i = 0; i < acks; i++) cw.onAck();
      perRtt.push(cw.cwnd);
    }
    expect(perRtt).toEqual([2, 4, 8, 16]);
  });

  it('grows by one per round trip in congestion avoidance', () => {
    const cw = new CongestionWindow(32);
    cw.restore({ peerReceiveWindowSize: 32, cwnd: 10, ssthresh: 10, congestionAvoidanceAcks: 0, timeouts: 1 });
    const perRtt: number[] = [];
    for (let rtt = 0; rtt < 3; rtt++) {
      const acks = cw.cwnd;
      for (let i = 0; i < acks; i++) cw.onAck();
      perRtt.push(cw.cwnd);
    }
    expect(perRtt).toEqual([11, 12, 13]);
  });

  it('keeps 1 ≤ cwnd ≤ peer window and ssthresh ≥ 1 under any sequence of events', () => {
    const event = fc.oneof(
      fc.constant({ kind: 'ack' as const }),
      fc.constant({ kind: 'timeout' as const }),
      fc.integer({ min: 1, max: 70_000 }).map((n) => ({ kind: 'rws' as const, n })),
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(event, { maxLength: 300 }), (rws, events) => {
        const cw = new CongestionWindow(rws);
        for (const e of events) {
          const before = cw.cwnd;
          if (e.kind === 'ack') cw.onAck();
          else if (e.kind === 'timeout') cw.onTimeout();
          else cw.setPeerReceiveWindowSize(e.n);
          expect(cw.cwnd).toBeGreaterThanOrEqual(1);
          expect(cw.cwnd).toBeLessThanOrEqual(cw.peerReceiveWindowSize);
          expect(cw.peerReceiveWindowSize).toBeLessThanOrEqual(32767);
          expect(cw.ssthresh).toBeGreaterThanOrEqual(1);
          if (e.kind === 'ack') expect(cw.cwnd - before).toBeLessThanOrEqual(1);
          if (e.kind === 'timeout') expect([cw.cwnd, cw.ssthresh]).toEqual([1, Math.max(before >> 1, 1)]);
        }
      }),
    );
  });
});
