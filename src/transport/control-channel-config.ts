/**
 * Configuration, hooks, counters and the serializable state of a `ControlChannel`, with their
 * validation. Kept apart from the channel itself so the hot path file stays readable.
 */
import { SEQ_HALF, SEQ_MASK } from './seq.js';

/** A configuration value the RFCs forbid, or one that would break sequence arithmetic. */
export class ControlChannelConfigError extends Error {
  override readonly name = 'ControlChannelConfigError';
  constructor(
    message: string,
    readonly field: string,
    readonly value: unknown,
  ) {
    super(`${message} (${field} = ${String(value)})`);
  }
}

/** A snapshot handed to the constructor is not a state this channel could have been in. */
export class ControlChannelStateError extends Error {
  override readonly name = 'ControlChannelStateError';
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(`${message} (state.${field})`);
  }
}

export interface ControlChannelConfig {
  /** Our Receive Window Size AVP value: how many messages ahead of the next expected one we buffer. */
  receiveWindowSize?: number;
  /** The peer's Receive Window Size AVP; RFC 2661 §4.4.3 / RFC 3931 §5.4.3: 4 when the AVP is absent. */
  peerReceiveWindowSize?: number;
  /** RFC 2661 §5.8: "a recommended default is 1 second". */
  retransmitInitialMs?: number;
  /** RFC 2661 §5.8: the cap "MUST be no less than 8 seconds per retransmission". */
  retransmitCapMs?: number;
  /** RFC 2661 §5.8: "a recommended default is 5, but SHOULD be configurable" (RFC 3931 recommends 10). */
  maxRetransmits?: number;
  /** How long an acknowledgement may wait for an outgoing message to ride on before a ZLB is sent. */
  ackDelayMs?: number;
  /**
   * The same for a message the owner does not answer (`hooks.answers` says false: ICCN, SCCCN, CDN, HELLO...):
   * only unrelated messages could carry its ack, so it waits at most this long (never longer than ackDelayMs).
   */
  ackDelayUnansweredMs?: number;
  /** RFC 2661 §6.5: HELLO after this long without receiving anything (recommended 60 s); 0 disables. */
  helloIntervalMs?: number;
  /** Random extra delay added to each idle deadline, so restored tunnels do not all say HELLO at once. */
  helloJitterMs?: number;
}

export type ResolvedControlChannelConfig = Required<ControlChannelConfig>;

/**
 * Defaults. `ackDelayMs` is 100 ms: replies that need a store write or a netlink round-trip before
 * they go out still carry the ack (no extra ZLB), while the delay stays a tenth of the peer's
 * recommended 1 s retransmit timer, so it never causes a retransmission. RFC 2661 §5.8 forbids
 * withholding acks for flow control, not coalescing them briefly. `ackDelayUnansweredMs` is 20 ms:
 * a message nobody answers (ICCN, SCCCN, CDN) is acked within a timer tick or two unless the
 * tunnel's next message (a busy tunnel's next ICRP) carries the ack first. Measured
 * (docs/benchmarks.md): a ZLB at once for every ICCN cost both ends so much that set-ups per l2tpd
 * CPU-second fell by a third at full rate; 20 ms puts ~20 ms on the LAC's view of its set-up.
 */
export const DEFAULT_CONTROL_CHANNEL_CONFIG: Readonly<ResolvedControlChannelConfig> = Object.freeze({
  receiveWindowSize: 4,
  peerReceiveWindowSize: 4,
  retransmitInitialMs: 1000,
  retransmitCapMs: 8000,
  maxRetransmits: 5,
  ackDelayMs: 100,
  ackDelayUnansweredMs: 20,
  helloIntervalMs: 60_000,
  helloJitterMs: 0,
});

/**
 * Windows above 32767 would let the receiver's "less than or equal" test (RFC 2661 §5.8) see new
 * messages as duplicates; a larger peer window is therefore clamped to this when we send.
 */
export const MAX_WINDOW = SEQ_HALF;

/** RFC 1122 §4.2.3.2 bounds a TCP delayed ACK to 0.5 s; the same bound keeps us far from the peer's RTO. */
export const MAX_ACK_DELAY_MS = 500;

function integerIn(field: string, v: number, min: number, max: number, why: string): number {
  if (!Number.isInteger(v) || v < min || v > max) throw new ControlChannelConfigError(why, field, v);
  return v;
}

export function resolveControlChannelConfig(c: ControlChannelConfig): ResolvedControlChannelConfig {
  const r: ResolvedControlChannelConfig = { ...DEFAULT_CONTROL_CHANNEL_CONFIG };
  for (const k of Object.keys(DEFAULT_CONTROL_CHANNEL_CONFIG) as (keyof ControlChannelConfig)[]) {
    const v = c[k];
    if (v !== undefined) r[k] = v;
  }
  integerIn('receiveWindowSize', r.receiveWindowSize, 1, MAX_WINDOW, 'receive window must be 1..32767 (RFC 2661 §5.8: 0 is invalid)');
  validatePeerReceiveWindowSize(r.peerReceiveWindowSize);
  r.peerReceiveWindowSize = Math.min(r.peerReceiveWindowSize, MAX_WINDOW);
  integerIn('retransmitInitialMs', r.retransmitInitialMs, 1, 3600_000, 'initial retransmit interval must be a positive integer');
  if (!Number.isInteger(r.retransmitCapMs) || r.retransmitCapMs < 8000) {
    throw new ControlChannelConfigError('RFC 2661 §5.8: the retransmit cap MUST be no less than 8 seconds', 'retransmitCapMs', r.retransmitCapMs);
  }
  integerIn('maxRetransmits', r.maxRetransmits, 0, 1000, 'retry limit must be an integer 0..1000');
  integerIn('ackDelayMs', r.ackDelayMs, 0, MAX_ACK_DELAY_MS, 'ack delay must be 0..500 ms (RFC 2661 §5.8: acks MUST NOT be withheld)');
  integerIn('ackDelayUnansweredMs', r.ackDelayUnansweredMs, 0, MAX_ACK_DELAY_MS, 'ack delay must be 0..500 ms (RFC 2661 §5.8: acks MUST NOT be withheld)');
  integerIn('helloIntervalMs', r.helloIntervalMs, 0, 2 ** 31 - 1, 'hello interval must be a non-negative integer');
  integerIn('helloJitterMs', r.helloJitterMs, 0, 2 ** 31 - 1, 'hello jitter must be a non-negative integer');
  return r;
}

/** RFC 2661 §5.8: "A value of 0 for the Receive Window Size AVP is invalid." The AVP is 16 bits. */
export function validatePeerReceiveWindowSize(n: number): void {
  integerIn('peerReceiveWindowSize', n, 1, SEQ_MASK, 'peer receive window must be 1..65535 (RFC 2661 §5.8: 0 is invalid)');
}

export interface ControlChannelHooks<M> {
  /**
   * Encode and send one control packet. `msg === null` is an acknowledgement only (a ZLB in L2TPv2,
   * or an L2TPv3 ACK message): it carries the next Ns without consuming it. A retransmission passes
   * the same `ns` with the current `nr`, so the owner re-encodes (RFC 3931 digests cover Nr).
   */
  transmit(ns: number, nr: number, msg: M | null): void;
  /** In-order, exactly-once delivery of a received message. */
  deliver(msg: M, ns: number): void;
  /**
   * Whether the owner answers `msg` with a message of its own (whose header carries the ack), perhaps a little
   * later (a store write, a netlink round trip): then the ack may wait ackDelayMs, else ackDelayUnansweredMs.
   * Absent: every message counts as answered.
   */
  answers?(msg: M): boolean;
  /** The retry limit was reached: the control connection and its sessions MUST be cleared (RFC 2661 §5.8). */
  dead(reason: string): void;
  /** Nothing received for helloIntervalMs: the owner should `send` a HELLO (RFC 2661 §6.5). */
  idle(): void;
}

export interface ControlChannelStats {
  /** Messages transmitted for the first time (each took one Ns). */
  sent: number;
  retransmitted: number;
  /** Ack-only packets (ZLB / ACK) sent. */
  zlbSent: number;
  /** Messages received (not counting ZLBs), whatever became of them. */
  received: number;
  zlbReceived: number;
  delivered: number;
  /** Messages already delivered or already buffered. */
  duplicates: number;
  /** Messages ahead of our receive window: dropped. */
  outOfWindow: number;
  /** Messages buffered because they arrived ahead of a gap. */
  reordered: number;
  /** Own messages acknowledged by the peer. */
  acked: number;
  /** Nr values acknowledging messages never sent (RFC 3931 §4.2 sanity check): ignored. */
  invalidAcks: number;
  /** Retransmit timer expiries, each a congestion event (RFC 2661 Appendix A). */
  timeouts: number;
}

export function emptyStats(): ControlChannelStats {
  return {
    sent: 0, retransmitted: 0, zlbSent: 0, received: 0, zlbReceived: 0, delivered: 0,
    duplicates: 0, outOfWindow: 0, reordered: 0, acked: 0, invalidAcks: 0, timeouts: 0,
  };
}

export interface UnackedMessageState<M> {
  ns: number;
  msg: M;
  /** Retransmissions so far; the retransmit interval is min(initial * 2^retries, cap). */
  retries: number;
  /** Clock time of the latest (re)transmission. */
  sentAt: number;
}

/**
 * The whole channel as plain data (JSON-able when M is): checkpointed for failover and handed back
 * to the constructor to resume. Messages are referenced, not copied.
 */
export interface ControlChannelState<M> {
  version: 1;
  status: 'open' | 'closed' | 'dead';
  /** Ns of the next new message. */
  ns: number;
  /** Nr: the Ns we expect next from the peer. */
  nr: number;
  /** The peer's ack point: oldest Ns not yet acknowledged (equals `ns` when nothing is outstanding). */
  peerNr: number;
  peerReceiveWindowSize: number;
  cwnd: number;
  ssthresh: number;
  /** Acks counted towards the next +1 of cwnd during congestion avoidance. */
  congestionAvoidanceAcks: number;
  /** Oldest first, consecutive Ns from `peerNr`. */
  unacked: UnackedMessageState<M>[];
  /** How many of `unacked` are on the wire; the rest wait to be resent after a timeout (go-back-N). */
  inFlight: number;
  /** Messages accepted by `send` that have no Ns yet (window closed). */
  pending: M[];
  /** Out-of-order messages held for in-order delivery, ascending Ns. */
  reorder: { ns: number; msg: M }[];
  /** When the oldest not-yet-acknowledged receipt happened, or null if we owe the peer no ack. */
  ackOwedSince: number | null;
  /** Start of the current silence: last receipt or last idle() notification. */
  quietSince: number;
  stats: ControlChannelStats;
}

function stateCheck(ok: boolean, field: string, what: string): void {
  if (!ok) throw new ControlChannelStateError(what, field);
}

const isSeq = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= SEQ_MASK;

/** Structural checks only: enough that the channel's invariants hold after a restore. */
export function validateControlChannelState<M>(s: ControlChannelState<M>): void {
  stateCheck(s.version === 1, 'version', 'unknown snapshot version');
  stateCheck(s.status === 'open' || s.status === 'closed' || s.status === 'dead', 'status', 'bad status');
  stateCheck(isSeq(s.ns) && isSeq(s.nr) && isSeq(s.peerNr), 'ns', 'sequence numbers must be integers 0..65535');
  stateCheck(Array.isArray(s.unacked) && s.unacked.length <= MAX_WINDOW, 'unacked', 'unacked must be an array of at most 32767');
  stateCheck(((s.ns - s.peerNr) & SEQ_MASK) === s.unacked.length, 'peerNr', 'peerNr + unacked.length must equal ns');
  s.unacked.forEach((e, i) => {
    stateCheck(e.ns === ((s.peerNr + i) & SEQ_MASK), `unacked[${i}].ns`, 'unacked Ns must be consecutive from peerNr');
    stateCheck(Number.isInteger(e.retries) && e.retries >= 0, `unacked[${i}].retries`, 'bad retry count');
    stateCheck(Number.isFinite(e.sentAt), `unacked[${i}].sentAt`, 'bad send time');
    stateCheck(e.msg != null, `unacked[${i}].msg`, 'a message cannot be null (null means ZLB)');
  });
  stateCheck(Number.isInteger(s.inFlight) && s.inFlight >= 0 && s.inFlight <= s.unacked.length, 'inFlight', 'bad in-flight count');
  stateCheck(Number.isInteger(s.peerReceiveWindowSize) && s.peerReceiveWindowSize >= 1, 'peerReceiveWindowSize', 'bad peer window');
  stateCheck(Number.isInteger(s.cwnd) && s.cwnd >= 1, 'cwnd', 'bad cwnd');
  stateCheck(Number.isInteger(s.ssthresh) && s.ssthresh >= 1, 'ssthresh', 'bad ssthresh');
  stateCheck(Number.isInteger(s.congestionAvoidanceAcks) && s.congestionAvoidanceAcks >= 0, 'congestionAvoidanceAcks', 'bad counter');
  stateCheck(Array.isArray(s.pending) && Array.isArray(s.reorder), 'pending', 'pending and reorder must be arrays');
  s.pending.forEach((m, i) => stateCheck(m != null, `pending[${i}]`, 'a message cannot be null (null means ZLB)'));
  s.reorder.forEach((e, i) => {
    stateCheck(isSeq(e.ns) && e.ns !== s.nr, `reorder[${i}].ns`, 'bad buffered Ns');
    stateCheck(e.msg != null, `reorder[${i}].msg`, 'a message cannot be null (null means ZLB)');
  });
  stateCheck(s.ackOwedSince === null || Number.isFinite(s.ackOwedSince), 'ackOwedSince', 'bad ack time');
  stateCheck(Number.isFinite(s.quietSince), 'quietSince', 'bad quiet time');
  stateCheck(typeof s.stats === 'object' && s.stats !== null, 'stats', 'missing stats');
}
