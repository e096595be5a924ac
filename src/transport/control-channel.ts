/**
 * The reliable control channel of one tunnel / control connection: RFC 2661 §5.8 with the slow
 * start and congestion avoidance of Appendix A, and the same mechanism in RFC 3931 §4.2.
 *
 * It knows nothing of the codec: the owner decodes a packet and calls `receive(ns, nr, msg)`, and
 * encodes whatever `hooks.transmit(ns, nr, msg)` asks for. One channel per tunnel, thousands per
 * worker: the per-packet paths allocate nothing but the unacked-queue entry of a new message, and
 * each channel holds at most three timers (retransmit, ack delay, idle), re-armed lazily: a timer
 * that fires early re-checks its deadline instead of being cancelled and re-made on every packet.
 *
 * Sending (RFC 2661 §5.8, Appendix A): new messages take consecutive Ns and go out while fewer than
 * min(cwnd, peer RWS) are in flight. One retransmit timer watches the oldest unacknowledged message;
 * it backs off 1, 2, 4, 8, 8... s (initial * 2^retries, capped). On expiry: congestion event
 * (ssthresh = max(cwnd / 2, 1), cwnd = 1) and go-back-N — every unacked message is considered no
 * longer in flight and is resent, oldest first, as the window reopens (as TCP does after an RTO;
 * resending only the timed-out message would let each later message time out in turn and halve
 * ssthresh again for the same loss). After `maxRetransmits` retransmissions of the oldest message
 * without an ack, `dead()`.
 */
import type { Clock, TimerHandle } from './clock.js';
import {
  type ControlChannelConfig,
  type ControlChannelHooks,
  type ControlChannelState,
  type ControlChannelStats,
  type ResolvedControlChannelConfig,
  emptyStats,
  resolveControlChannelConfig,
  validateControlChannelState,
  validatePeerReceiveWindowSize,
} from './control-channel-config.js';
import { CongestionWindow } from './congestion.js';
import { IdleWatch } from './idle-watch.js';
import { ReorderBuffer } from './reorder-buffer.js';
import { SEQ_HALF, SEQ_MASK, seqLess } from './seq.js';

interface UnackedEntry<M> {
  readonly ns: number;
  readonly msg: M;
  retries: number;
  sentAt: number;
}

/** `M` must not be null or undefined: null marks an ack-only packet, undefined an empty buffer slot. */
export class ControlChannel<M extends NonNullable<unknown>> {
  readonly stats: ControlChannelStats;
  private readonly cfg: ResolvedControlChannelConfig;
  private status: ControlChannelState<M>['status'] = 'open';

  private sndNxt = 0;
  private rcvNxt = 0;
  private readonly cw: CongestionWindow;

  /** Sent, not yet acknowledged; consecutive Ns, oldest first. Its length is bounded by the peer window. */
  private readonly unacked: UnackedEntry<M>[] = [];
  /** unacked[0 .. inFlight) are on the wire; the rest wait for a go-back-N resend. */
  private inFlight = 0;
  private readonly pending: M[] = [];

  /** Messages ahead of a gap; its head slot is Ns == rcvNxt. */
  private readonly reorder: ReorderBuffer<M>;

  private ackOwed = false;
  private ackOwedSince = 0;
  /** When the owed ack must go out: ackDelayMs after it became owed, sooner for a message we do not answer. */
  private ackDue = 0;
  private readonly idle: IdleWatch;

  private rtxTimer: TimerHandle | null = null;
  private rtxDue = 0;
  private ackTimer: TimerHandle | null = null;
  private ackTimerAt = 0;
  private pumping = false;

  // Bound once: arming a timer then allocates nothing but the clock's handle.
  private readonly onRtx = (): void => this.rtxExpired();
  private readonly onAck = (): void => this.ackExpired();

  constructor(
    config: ControlChannelConfig,
    private readonly hooks: ControlChannelHooks<M>,
    private readonly clock: Clock,
    state?: ControlChannelState<M>,
  ) {
    this.cfg = resolveControlChannelConfig(config);
    this.cw = new CongestionWindow(this.cfg.peerReceiveWindowSize);
    this.reorder = new ReorderBuffer<M>(this.cfg.receiveWindowSize);
    this.stats = emptyStats();
    this.idle = new IdleWatch(clock, this.cfg.helloIntervalMs, this.cfg.helloJitterMs, () => hooks.idle());
    if (state !== undefined) this.restore(state);
    if (this.status === 'open') this.idle.start();
  }

  // ---- public API ------------------------------------------------------------------------------

  /** Queues a message; it is transmitted as soon as the window allows. Ignored once closed or dead. */
  send(msg: M): void {
    if (this.status !== 'open') return;
    this.pending.push(msg);
    this.pump();
  }

  /** One decoded control packet from the peer; `msg === null` is a ZLB / ACK (acknowledges only). */
  receive(ns: number, nr: number, msg: M | null): void {
    if (this.status !== 'open') return;
    const now = this.clock.now();
    this.idle.touch(now); // RFC 2661 §6.5: HELLO after a silence, counted from the last packet received
    this.acknowledge(nr & SEQ_MASK);
    let ackAtOnce = false;
    if (msg === null) {
      this.stats.zlbReceived++;
    } else {
      this.stats.received++;
      const off = (ns - this.rcvNxt) & SEQ_MASK;
      if (off > SEQ_HALF) {
        // RFC 2661 §5.8: at or before the last received Ns, a duplicate: "receipt of duplicate
        // messages MUST be acknowledged" — our ack was probably lost, so answer now.
        this.stats.duplicates++;
        this.oweAck(now);
        ackAtOnce = true;
      } else if (off === 0) {
        this.deliverInOrder(msg, now);
      } else if (off < this.cfg.receiveWindowSize) {
        // No ack owed: our Nr has not moved, and without selective acks the peer could not use it.
        this.buffer(off, msg);
      } else {
        // Beyond our advertised window: the peer broke RFC 2661 §5.8; it will resend.
        this.stats.outOfWindow++;
      }
    }
    if (this.status !== 'open') return;
    this.pump();
    if (this.ackOwed) {
      // A reply sent synchronously by deliver() or pump() above already carried the ack.
      if (ackAtOnce || this.ackDue <= now) this.sendAck();
      else this.armAck();
    }
  }

  /** The peer's Receive Window Size AVP, learned from SCCRQ / SCCRP. */
  setPeerReceiveWindowSize(n: number): void {
    validatePeerReceiveWindowSize(n);
    this.cw.setPeerReceiveWindowSize(n);
    if (this.status === 'open') this.pump();
  }

  /** Cancels every timer; the channel then ignores all input. */
  close(): void {
    if (this.status === 'open') this.status = 'closed';
    this.cancelTimers();
  }

  /** Nothing unacknowledged, nothing waiting to be sent, no ack owed. */
  isIdle(): boolean {
    return this.unacked.length === 0 && this.pending.length === 0 && !this.ackOwed;
  }

  unackedCount(): number {
    return this.unacked.length;
  }

  /**
   * Whether a message given to `send` now would leave at once: open, nothing waiting, nothing to resend, and room
   * in the window. A sender with a choice of channels (l2tp-load spreading calls over tunnels) uses it to avoid
   * queueing behind a full window.
   */
  canSendNow(): boolean {
    return this.status === 'open' && this.pending.length === 0 && this.inFlight === this.unacked.length && this.inFlight < this.cw.window;
  }

  /** Messages accepted by `send` that still wait for the window. */
  pendingCount(): number {
    return this.pending.length;
  }

  /**
   * How long a message can stay unacknowledged before `dead()`: the sum of all retransmit intervals
   * (31 s with the defaults, RFC 2661 §5.7). The tunnel keeps the channel this long after StopCCN.
   */
  get retransmitCycleMs(): number {
    let total = 0;
    for (let r = 0; r <= this.cfg.maxRetransmits; r++) total += this.rto(r);
    return total;
  }

  get congestionWindow(): number {
    return this.cw.cwnd;
  }

  get peerReceiveWindowSize(): number {
    return this.cw.peerReceiveWindowSize;
  }

  snapshot(): ControlChannelState<M> {
    return {
      version: 1,
      status: this.status,
      ns: this.sndNxt,
      nr: this.rcvNxt,
      peerNr: this.sndUna(),
      peerReceiveWindowSize: this.cw.peerReceiveWindowSize,
      cwnd: this.cw.cwnd,
      ssthresh: this.cw.ssthresh,
      congestionAvoidanceAcks: this.cw.caAcks,
      unacked: this.unacked.map((e) => ({ ns: e.ns, msg: e.msg, retries: e.retries, sentAt: e.sentAt })),
      inFlight: this.inFlight,
      pending: this.pending.slice(),
      reorder: this.reorder.entries(this.rcvNxt),
      ackOwedSince: this.ackOwed ? this.ackOwedSince : null,
      quietSince: this.idle.quietSince,
      stats: { ...this.stats },
    };
  }

  // ---- sending ---------------------------------------------------------------------------------

  private sndUna(): number {
    return (this.sndNxt - this.unacked.length) & SEQ_MASK;
  }

  /** RFC 2661 §5.8: "if the first retransmission occurred after 1 second, the next ... after 2 seconds ... then 4". */
  private rto(retries: number): number {
    return Math.min(this.cfg.retransmitInitialMs * 2 ** retries, this.cfg.retransmitCapMs);
  }

  /** Sends go-back-N resends first, then new messages, while the window has room. */
  private pump(): void {
    // Hooks may re-enter (a transmit that loops back, a send from deliver); the outer loop re-reads state.
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.status === 'open') {
        if (this.inFlight >= this.cw.window) break;
        if (this.inFlight < this.unacked.length) {
          const e = this.unacked[this.inFlight++]!;
          e.retries++;
          e.sentAt = this.clock.now();
          this.stats.retransmitted++;
          this.emit(e.ns, e.msg);
        } else if (this.pending.length > 0) {
          const msg = this.pending.shift()!;
          const ns = this.sndNxt;
          this.sndNxt = (ns + 1) & SEQ_MASK;
          this.unacked.push({ ns, msg, retries: 0, sentAt: this.clock.now() });
          this.inFlight++;
          this.stats.sent++;
          this.emit(ns, msg);
        } else {
          break;
        }
      }
    } finally {
      this.pumping = false;
    }
    this.armRtx();
  }

  /** Every packet carries the current Nr, so any transmission settles the ack we owe. */
  private emit(ns: number, msg: M | null): void {
    this.ackOwed = false;
    this.hooks.transmit(ns, this.rcvNxt, msg);
  }

  /** RFC 2661 §5.8: the ZLB carries the next Ns without taking it ("Ns is not incremented"). */
  private sendAck(): void {
    this.stats.zlbSent++;
    this.emit(this.sndNxt, null);
  }

  /** Handles the Nr of any received packet, ZLBs included. */
  private acknowledge(nr: number): void {
    const n = this.unacked.length;
    const una = (this.sndNxt - n) & SEQ_MASK;
    const d = (nr - una) & SEQ_MASK;
    if (d === 0) return;
    if (d > n) {
      // An older Nr overtaken by a newer one is harmless; one past our last Ns + 1 is the "clearly
      // invalid" case of RFC 3931 §4.2 and must not flush the retransmit queue.
      if (!seqLess(nr, una)) this.stats.invalidAcks++;
      return;
    }
    for (let i = 0; i < d; i++) {
      this.unacked.shift();
      this.cw.onAck();
    }
    this.inFlight = this.inFlight > d ? this.inFlight - d : 0;
    this.stats.acked += d;
    // The caller pumps, which re-arms the retransmit timer for the new oldest message.
  }

  private armRtx(): void {
    const head = this.unacked[0];
    if (head === undefined || this.status !== 'open') {
      if (this.rtxTimer !== null) {
        this.clock.clearTimeout(this.rtxTimer);
        this.rtxTimer = null;
      }
      return;
    }
    const due = head.sentAt + this.rto(head.retries);
    if (this.rtxTimer !== null) {
      if (this.rtxDue <= due) return; // fires early, finds the head not due yet, re-arms
      this.clock.clearTimeout(this.rtxTimer);
    }
    this.armRtxAt(due);
  }

  private armRtxAt(due: number): void {
    this.rtxDue = due;
    this.rtxTimer = this.clock.setTimeout(this.onRtx, Math.max(0, due - this.clock.now()));
  }

  private rtxExpired(): void {
    this.rtxTimer = null;
    if (this.status !== 'open') return;
    const head = this.unacked[0];
    if (head !== undefined && this.inFlight > 0 && this.clock.now() >= head.sentAt + this.rto(head.retries)) {
      if (head.retries >= this.cfg.maxRetransmits) {
        this.die(`no acknowledgement for Ns ${head.ns} after ${head.retries} retransmissions`);
        return;
      }
      // Appendix A: a retransmission signals congestion.
      this.stats.timeouts++;
      this.cw.onTimeout();
      this.inFlight = 0;
    }
    this.pump();
  }

  private die(reason: string): void {
    this.status = 'dead';
    this.cancelTimers();
    this.hooks.dead(reason);
  }

  // ---- receiving -------------------------------------------------------------------------------

  private oweAck(now: number): void {
    if (!this.ackOwed) {
      this.ackOwed = true;
      this.ackOwedSince = now;
      this.ackDue = now + this.cfg.ackDelayMs;
    }
  }

  /** Nr must advance before deliver() runs, so a reply sent from inside it acknowledges this message. */
  private advanceRcv(): void {
    this.rcvNxt = (this.rcvNxt + 1) & SEQ_MASK;
    this.reorder.advance();
  }

  /** Delivers `msg` (Ns == rcvNxt), then every buffered successor; each one is owed an ack. */
  private deliverInOrder(msg: M, now: number): void {
    let next: M | undefined = msg;
    do {
      const ns = this.rcvNxt;
      this.advanceRcv();
      // Owed before deliver(): a reply sent from inside it then carries (and settles) the ack.
      this.oweAck(now);
      this.stats.delivered++;
      this.hooks.deliver(next, ns);
      // No reply carried the ack, and none will: it waits only for what else the tunnel sends soon.
      if (this.ackOwed && this.hooks.answers?.(next) === false) this.ackDue = Math.min(this.ackDue, now + this.cfg.ackDelayUnansweredMs);
      next = this.status === 'open' ? this.reorder.peek() : undefined;
    } while (next !== undefined);
  }

  private buffer(off: number, msg: M): void {
    if (this.reorder.put(off, msg)) this.stats.reordered++;
    else this.stats.duplicates++;
  }

  private armAck(): void {
    if (this.ackTimer !== null) {
      if (this.ackTimerAt <= this.ackDue) return; // fires first and re-checks the deadline then
      this.clock.clearTimeout(this.ackTimer);
    }
    this.ackTimerAt = this.ackDue;
    this.ackTimer = this.clock.setTimeout(this.onAck, this.ackDue - this.clock.now());
  }

  private ackExpired(): void {
    this.ackTimer = null;
    if (this.status !== 'open' || !this.ackOwed) return;
    const now = this.clock.now();
    if (now < this.ackDue) this.armAck();
    else this.sendAck();
  }

  private cancelTimers(): void {
    if (this.rtxTimer !== null) this.clock.clearTimeout(this.rtxTimer);
    if (this.ackTimer !== null) this.clock.clearTimeout(this.ackTimer);
    this.rtxTimer = this.ackTimer = null;
    this.idle.stop();
  }

  // ---- restore ---------------------------------------------------------------------------------

  private restore(s: ControlChannelState<M>): void {
    validateControlChannelState(s);
    const now = this.clock.now();
    // Times from another node's clock may lie slightly in the future; never wait longer than a fresh timer would.
    const notAfterNow = (t: number): number => Math.min(t, now);
    [this.status, this.sndNxt, this.rcvNxt, this.inFlight] = [s.status, s.ns, s.nr, s.inFlight];
    this.cw.restore({ ...s, timeouts: s.stats.timeouts ?? 0 });
    for (const e of s.unacked) this.unacked.push({ ns: e.ns, msg: e.msg, retries: e.retries, sentAt: notAfterNow(e.sentAt) });
    for (const m of s.pending) this.pending.push(m);
    for (const e of s.reorder) {
      const off = (e.ns - this.rcvNxt) & SEQ_MASK;
      // Entries outside a (reconfigured) smaller window are dropped: the peer retransmits them.
      if (off > 0 && off < this.cfg.receiveWindowSize) this.buffer(off, e.msg);
    }
    Object.assign(this.stats, s.stats);
    this.ackOwed = s.ackOwedSince !== null;
    this.ackOwedSince = notAfterNow(s.ackOwedSince ?? now);
    this.ackDue = this.ackOwedSince + this.cfg.ackDelayMs;
    this.idle.quietSince = notAfterNow(s.quietSince);
    if (this.status !== 'open') return;
    // Re-arm: an immediate kick resumes sending what the window allows and checks the oldest
    // message's deadline (retransmitting at once if it passed while nobody owned the tunnel).
    if (this.unacked.length > 0 || this.pending.length > 0) this.armRtxAt(now);
    if (this.ackOwed) this.armAck();
  }
}
