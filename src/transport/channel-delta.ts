/**
 * A control channel's snapshot as a delta against the one sent before it, for the state store.
 *
 * Measured (issue 6, a shard at full set-up rate): in a busy tunnel's first records the channel snapshot was the
 * largest part of what a shard copies to the store, about 40% of their serialisation, half of it unacknowledged
 * messages (each a message object with its AVPs), many already in the snapshot sent 50 ms before. On loopback in
 * steady state the peer acks within the flush interval and a delta keeps nothing; it pays where acks take longer
 * (LACs across a WAN, a peer under load). Unacknowledged entries never change while they wait for their ack, except
 * when they are retransmitted, and they are consecutive from `peerNr`. So a delta carries only the entries sent since the
 * previous snapshot, plus how many of the store's entries (from `peerNr` on) it keeps; any retransmission or
 * timeout since then sends the whole list again. Everything else in the snapshot is small and goes whole.
 */
import type { ControlChannelState } from './control-channel-config.js';
import { seqDiff, seqLessEq } from './seq.js';

/** `unacked` holds only the entries after the first `unackedKept` of the stored list (counted from `peerNr`). */
export type ControlChannelDelta<M> = ControlChannelState<M> & { unackedKept: number };

/** What the sender remembers of the last snapshot it sent for one channel. */
export interface ChannelDeltaBase {
  /** `ns` of that snapshot: the first entry not in it. */
  next: number;
  retransmitted: number;
  timeouts: number;
}

export function isChannelDelta<M>(s: ControlChannelState<M> | ControlChannelDelta<M>): s is ControlChannelDelta<M> {
  return typeof (s as { unackedKept?: unknown }).unackedKept === 'number';
}

/**
 * The snapshot to send, and the base for the next one. Without a base (the first snapshot of this channel from
 * this sender) or after a retransmission or timeout, the whole snapshot.
 */
export function channelDelta<M>(s: ControlChannelState<M>, base: ChannelDeltaBase | undefined): { send: ControlChannelState<M> | ControlChannelDelta<M>; base: ChannelDeltaBase } {
  const next: ChannelDeltaBase = { next: s.ns, retransmitted: s.stats.retransmitted, timeouts: s.stats.timeouts };
  if (!base || base.retransmitted !== s.stats.retransmitted || base.timeouts !== s.stats.timeouts) return { send: s, base: next };
  // Entries before base.next were in the last snapshot; those before peerNr have been acknowledged since.
  const kept = seqLessEq(base.next, s.peerNr) ? 0 : seqDiff(base.next, s.peerNr);
  if (kept > s.unacked.length) return { send: s, base: next };
  return { send: { ...s, unacked: s.unacked.slice(kept), unackedKept: kept }, base: next };
}

export class ChannelDeltaError extends Error {
  override readonly name = 'ChannelDeltaError';
}

/**
 * The full snapshot from the stored one and what arrived (a full snapshot replaces it). Throws ChannelDeltaError
 * when the stored snapshot does not hold the entries the delta keeps (a delta that missed its base).
 */
export function mergeChannelDelta<M>(stored: ControlChannelState<M> | undefined, r: ControlChannelState<M> | ControlChannelDelta<M>): ControlChannelState<M> {
  if (!isChannelDelta(r)) return r;
  const { unackedKept: kept, ...rest } = r;
  if (kept === 0) return rest;
  if (!stored) throw new ChannelDeltaError(`a control channel delta keeps ${kept} unacknowledged messages but nothing is stored`);
  // A delta kept after a failed merge: its list starts past peerNr, so nothing can be kept from it (until a whole one).
  if (isChannelDelta(stored)) throw new ChannelDeltaError('a control channel delta arrived on an incomplete stored snapshot');
  const from = seqDiff(r.peerNr, stored.peerNr);
  if (!seqLessEq(stored.peerNr, r.peerNr) || from + kept > stored.unacked.length) {
    throw new ChannelDeltaError(`a control channel delta keeps unacknowledged messages ${r.peerNr}+${kept} that the stored snapshot (${stored.peerNr}+${stored.unacked.length}) does not hold`);
  }
  return { ...rest, unacked: stored.unacked.slice(from, from + kept).concat(r.unacked) };
}
