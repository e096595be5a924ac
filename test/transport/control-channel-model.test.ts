/**
 * Two channels over a lossy, duplicating, reordering link in virtual time. The model is simply
 * "what one side sent is what the other delivered, in order, exactly once, with consecutive Ns".
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Sim, scheduleSends, simulate } from './support/link.js';
import { stateAt } from './support/harness.js';

function expectModel(sim: Sim, startA: number, startB: number): void {
  sim.clock.runUntilIdle(); // throws if timers are still pending after 24 virtual hours
  const { a, b } = sim;
  expect(sim.violations).toEqual([]);
  expect(a.deaths).toEqual([]);
  expect(b.deaths).toEqual([]);
  expect(b.delivered).toEqual(a.sent);
  expect(a.delivered).toEqual(b.sent);
  expect(b.deliveredNs).toEqual(a.sent.map((_, i) => (startA + i) & 0xffff));
  expect(a.deliveredNs).toEqual(b.sent.map((_, i) => (startB + i) & 0xffff));
  for (const s of [a, b]) {
    expect(s.ch.isIdle(), `${s.name} idle`).toBe(true);
    const snap = s.ch.snapshot();
    expect(snap.reorder).toEqual([]);
    // A conforming peer never sends past our window: nothing can fall outside it.
    expect(snap.stats.outOfWindow).toBe(0);
  }
  expect(sim.clock.pending()).toBe(0);
}

describe('ControlChannel pair over a lossy link (model)', () => {
  it('3000 messages each way, 20% loss, 10% duplication, reordering, across the 65535 → 0 wrap', () => {
    const startA = 65535 - 1000;
    const startB = 65535 - 2500;
    const rws = 4;
    const cfg = { helloIntervalMs: 0, maxRetransmits: 40, receiveWindowSize: rws, peerReceiveWindowSize: rws };
    const sim = simulate({
      seed: 2661,
      link: { loss: 0.2, duplicate: 0.1, minDelayMs: 1, maxDelayMs: 300 },
      configA: cfg,
      configB: cfg,
      stateA: stateAt(startA, startB, rws),
      stateB: stateAt(startB, startA, rws),
      replyProbability: 0.2,
    });
    scheduleSends(sim, sim.a, 2400, 600_000);
    scheduleSends(sim, sim.b, 2400, 600_000);
    expectModel(sim, startA, startB);
    expect(sim.a.sent.length).toBeGreaterThan(2900);
    expect(sim.b.sent.length).toBeGreaterThan(2900);
    // The link really was hostile: every mechanism was exercised.
    for (const s of [sim.a, sim.b]) {
      const st = s.ch.stats;
      expect(st.retransmitted).toBeGreaterThan(100);
      expect(st.timeouts).toBeGreaterThan(50);
      expect(st.duplicates).toBeGreaterThan(100);
      expect(st.reordered).toBeGreaterThan(50);
      expect(st.zlbSent).toBeGreaterThan(100);
    }
    // Piggy-backing works: far fewer ZLBs than messages received.
    expect(sim.a.ch.stats.zlbSent).toBeLessThan(sim.a.ch.stats.received);
  });

  it('holds for random seeds, link conditions, windows, ack delays and starting Ns', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 0.2, noNaN: true }),
          maxDelayMs: fc.integer({ min: 1, max: 1500 }),
          rwsA: fc.integer({ min: 1, max: 8 }),
          rwsB: fc.integer({ min: 1, max: 8 }),
          ackDelayMs: fc.integer({ min: 0, max: 200 }),
          startA: fc.integer({ min: 0, max: 0xffff }),
          startB: fc.integer({ min: 0, max: 0xffff }),
          countA: fc.integer({ min: 0, max: 150 }),
          countB: fc.integer({ min: 0, max: 150 }),
          spreadMs: fc.integer({ min: 0, max: 60_000 }),
          replyProbability: fc.double({ min: 0, max: 0.6, noNaN: true }),
        }),
        (p) => {
          const common = { helloIntervalMs: 0, maxRetransmits: 40, ackDelayMs: p.ackDelayMs };
          const sim = simulate({
            seed: p.seed,
            link: { loss: p.loss, duplicate: p.duplicate, minDelayMs: 0, maxDelayMs: p.maxDelayMs },
            configA: { ...common, receiveWindowSize: p.rwsA, peerReceiveWindowSize: p.rwsB },
            configB: { ...common, receiveWindowSize: p.rwsB, peerReceiveWindowSize: p.rwsA },
            stateA: stateAt(p.startA, p.startB, p.rwsB),
            stateB: stateAt(p.startB, p.startA, p.rwsA),
            replyProbability: p.replyProbability,
          });
          scheduleSends(sim, sim.a, p.countA, p.spreadMs);
          scheduleSends(sim, sim.b, p.countB, p.spreadMs);
          expectModel(sim, p.startA, p.startB);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a dead link kills both ends after the retry limit, and nothing is delivered twice', () => {
    const sim = simulate({
      seed: 7,
      link: { loss: 1, duplicate: 0, minDelayMs: 1, maxDelayMs: 10 },
      configA: { helloIntervalMs: 0 },
      configB: { helloIntervalMs: 0 },
    });
    scheduleSends(sim, sim.a, 3, 0);
    scheduleSends(sim, sim.b, 1, 0);
    sim.clock.runUntilIdle();
    expect(sim.a.deaths).toHaveLength(1);
    expect(sim.b.deaths).toHaveLength(1);
    expect(sim.clock.now()).toBe(31_000); // RFC 2661 §5.7: a full retransmission cycle is 31 s
    expect(sim.a.delivered).toEqual([]);
  });
});
