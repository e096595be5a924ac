/**
 * Two ControlChannels joined by a simulated lossy link in virtual time. Loss, duplication and
 * reordering (random per-packet delay) come from a seeded PRNG, so a failing seed replays exactly.
 */
import { VirtualClock } from '../../../src/transport/clock.js';
import { ControlChannel } from '../../../src/transport/control-channel.js';
import type { ControlChannelConfig, ControlChannelState } from '../../../src/transport/control-channel-config.js';

/** mulberry32: tiny, fast, good enough to drive a simulation. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LinkParams {
  loss: number;
  duplicate: number;
  /** Per-packet delay is uniform in [minDelayMs, maxDelayMs]; a wide range reorders. */
  minDelayMs: number;
  maxDelayMs: number;
}

export interface Packet {
  ns: number;
  nr: number;
  msg: string | null;
}

export interface Side {
  name: 'A' | 'B';
  ch: ControlChannel<string>;
  /** Everything passed to send(), in order. */
  sent: string[];
  delivered: string[];
  deliveredNs: number[];
  /** Every packet handed to transmit, in order. */
  wire: Packet[];
  deaths: string[];
  /** Ns values transmitted for the first time. */
  firstTx: Set<number>;
}

export interface Sim {
  clock: VirtualClock;
  a: Side;
  b: Side;
  rnd: () => number;
  /** Invariant violations seen inside hooks (asserted by the test afterwards). */
  violations: string[];
  packets: number;
}

export interface SimOptions {
  seed: number;
  link: LinkParams;
  configA?: ControlChannelConfig;
  configB?: ControlChannelConfig;
  stateA?: ControlChannelState<string>;
  stateB?: ControlChannelState<string>;
  /** Probability that delivering a message triggers a synchronous reply (exercises piggy-backing). */
  replyProbability?: number;
}

export function simulate(o: SimOptions): Sim {
  const clock = new VirtualClock();
  const rnd = prng(o.seed);
  const sim: Sim = { clock, rnd, violations: [], packets: 0 } as unknown as Sim;
  const mk = (name: 'A' | 'B', config: ControlChannelConfig | undefined, state: ControlChannelState<string> | undefined): Side => {
    const side = { name, sent: [], delivered: [], deliveredNs: [], wire: [], deaths: [], firstTx: new Set() } as unknown as Side;
    side.ch = new ControlChannel<string>(
      config ?? {},
      {
        transmit: (ns, nr, msg) => {
          side.wire.push({ ns, nr, msg });
          if (msg !== null && !side.firstTx.has(ns)) {
            side.firstTx.add(ns);
            // A new message: the window must have had room for it (RFC 2661 §5.8 / Appendix A).
            const limit = Math.min(side.ch.congestionWindow, side.ch.peerReceiveWindowSize);
            if (side.ch.unackedCount() > limit) sim.violations.push(`${name}: ${side.ch.unackedCount()} unacked > window ${limit}`);
          }
          carry(name === 'A' ? 'B' : 'A', { ns, nr, msg });
        },
        deliver: (msg, ns) => {
          side.delivered.push(msg);
          side.deliveredNs.push(ns);
          if (o.replyProbability !== undefined && rnd() < o.replyProbability) {
            const reply = `${name}-reply-${side.sent.length}`;
            side.sent.push(reply);
            side.ch.send(reply);
          }
        },
        dead: (reason) => side.deaths.push(reason),
        idle: () => {},
      },
      clock,
      state,
    );
    return side;
  };
  const carry = (to: 'A' | 'B', p: Packet): void => {
    sim.packets++;
    if (rnd() < o.link.loss) return;
    const copies = rnd() < o.link.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = o.link.minDelayMs + rnd() * (o.link.maxDelayMs - o.link.minDelayMs);
      clock.setTimeout(() => (to === 'A' ? sim.a : sim.b).ch.receive(p.ns, p.nr, p.msg), delay);
    }
  };
  sim.a = mk('A', o.configA, o.stateA);
  sim.b = mk('B', o.configB, o.stateB);
  return sim;
}

/** Schedules `count` sends on `side` at random times within `spreadMs`. */
export function scheduleSends(sim: Sim, side: Side, count: number, spreadMs: number): void {
  for (let i = 0; i < count; i++) {
    sim.clock.setTimeout(() => {
      const m = `${side.name}-${side.sent.length}`;
      side.sent.push(m);
      side.ch.send(m);
    }, sim.rnd() * spreadMs);
  }
}
