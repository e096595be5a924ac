/**
 * The cost of one control channel receive + acknowledgement: a message delivered in order, the
 * ack point moved, and the ack sent back (a ZLB with no delay, the worst case: nothing to ride on).
 * Two channels joined back to back, no codec, virtual clock.
 */
import { ControlChannel } from '../src/transport/control-channel.js';
import { VirtualClock } from '../src/transport/clock.js';
import { measure } from './measure.js';

export interface ChannelResult {
  receiveAndAckNs: number;
  messagesPerSecond: number;
}

export function runChannelBench(): ChannelResult {
  const clock = new VirtualClock(0);
  let toB: (ns: number, nr: number, m: object | null) => void = () => undefined;
  let toA: (ns: number, nr: number, m: object | null) => void = () => undefined;
  const cfg = { receiveWindowSize: 64, peerReceiveWindowSize: 64, ackDelayMs: 0, helloIntervalMs: 0 };
  const a = new ControlChannel<object>(cfg, { transmit: (ns, nr, m) => toB(ns, nr, m), deliver: () => undefined, dead: () => undefined, idle: () => undefined }, clock);
  const b = new ControlChannel<object>(cfg, { transmit: (ns, nr, m) => toA(ns, nr, m), deliver: () => undefined, dead: () => undefined, idle: () => undefined }, clock);
  toB = (ns, nr, m) => b.receive(ns, nr, m);
  toA = (ns, nr, m) => a.receive(ns, nr, m);
  const msg = { type: 'HELLO' };
  const r = measure(() => a.send(msg), 500);
  if (a.unackedCount() !== 0) throw new Error('channel bench: messages left unacknowledged');
  return { receiveAndAckNs: r.nsPerOp, messagesPerSecond: r.opsPerSec };
}
