/**
 * One control protocol instance (LCP, IPCP or IPv6CP of one session): the RFC 1661 §5 packet rules
 * around the shared automaton (fsm.ts). It turns received packets into the automaton's events,
 * implements the actions the table names, keeps the Restart timer on the injected Clock, and asks
 * an `OptionPolicy` (lcp.ts, ipcp.ts, ipv6cp.ts) everything option-specific.
 *
 * The automaton is a `PlainPppFsm` (fsm.ts): the RFC 1661 table interpreted by plain code, its
 * state name and context only, so an idle Opened session is already in its hibernated form (no XState
 * actor to replace by a snapshot, none to wake on the next event). Echo keepalive never reaches here
 * (engine fast path). The XState machine of the same table, `pppFsmMachine`, is kept as the
 * reference the plain automaton is tested equal to (test/ppp/fsm-equivalence.test.ts).
 */
import type { Clock, TimerHandle } from '../transport/clock.js';
import {
  decodeOptions,
  encodeControl,
  encodeControlFrame,
  encodeOptions,
  optionEquals,
  PppCode,
  type ControlPacket,
  type PppOption,
} from './frame.js';
import { createPppFsmMachine, initialContext, PlainPppFsm, TIMER_STATES, type FsmContext, type FsmEvent, type FsmHost, type FsmLimits, type FsmStateName } from './fsm.js';

/** A Configure-Request judged (RFC 1661 §5.2–5.4): empty `reject` and `nak` mean Configure-Ack. */
export interface Judgement {
  /** Options refused outright, copied verbatim in the order received (§5.4). */
  reject: PppOption[];
  /** Values refused, with the value we would accept; `requested` is absent for an option we want added. */
  nak: { suggest: PppOption; requested?: PppOption }[];
  /** Answer with exactly these Naks, ignoring the rest of the request (LCP loop detection, §6.4). */
  nakOnly?: boolean;
  /** Do not answer: the negotiation cannot go on (why). */
  fatal?: string;
}

export interface OptionPolicy {
  /** Options of our next Configure-Request. */
  request(): PppOption[];
  /** Judge the peer's request. Pure: nothing is agreed until we send the Ack. */
  judge(options: readonly PppOption[]): Judgement;
  /** We sent Configure-Ack: the peer's options are agreed. */
  peerAgreed(options: readonly PppOption[]): void;
  /** The peer Acked our request. */
  agreed(options: readonly PppOption[]): void;
  /** The peer Nak'd / Rejected options of our request: adjust. A string means we cannot go on (why). */
  nakked(options: readonly PppOption[]): string | undefined;
  rejected(options: readonly PppOption[]): string | undefined;
}

/** What the protocol tells its owner (the engine). */
export interface ProtocolOwner {
  send(frame: Buffer): void;
  /** tlu / tld / tls / tlf (RFC 1661 §4.4). */
  layer(protocol: ControlProtocol, signal: 'up' | 'down' | 'started' | 'finished'): void;
  /** Negotiation cannot converge (the policy said so): close this protocol's layer. */
  fatal(protocol: ControlProtocol, reason: string): void;
  /** LCP codes 8–11 (Protocol-Reject, Echo, Discard); return false to treat the code as unknown. */
  extraCode?(protocol: ControlProtocol, packet: ControlPacket): boolean;
  /** ser: answer an Echo-Request (LCP). */
  echoReply?(protocol: ControlProtocol, packet: ControlPacket): void;
  /** Dropped packets and illegal events, for counters and logs. */
  discard?(protocol: ControlProtocol, why: string): void;
  /** Octets a packet we send may have (the peer's MRU), for Code-Reject truncation. */
  peerMru(): number;
}

export interface ControlProtocolOptions extends Partial<FsmLimits> {
  name: string;
  protocol: number;
  clock: Clock;
  restartMs: number;
  policy: OptionPolicy;
  owner: ProtocolOwner;
  /**
   * Report the Opened automaton as hibernating (default true). Kept for compatibility: the plain
   * automaton is the same compact object whether Opened or negotiating.
   */
  hibernate?: boolean;
  /** A persisted snapshot to resume from (failover / restore). */
  snapshot?: unknown;
}

let nextHostId = 1;
/** The XState machine of the same table: the reference specification, for tests (no registry: it calls no host). */
export const pppFsmMachine = createPppFsmMachine(() => undefined);

const NEGOTIATING: ReadonlySet<FsmStateName> = new Set(['Req-Sent', 'Ack-Rcvd', 'Ack-Sent', 'Opened']);
/** States in which a received Configure-Request is answered with Ack/Nak/Reject (RFC 1661 §4.1 RCR rows). */
const JUDGING: ReadonlySet<FsmStateName> = new Set(['Stopped', ...NEGOTIATING]);

export class ControlProtocol implements FsmHost {
  readonly id = nextHostId++;
  readonly name: string;
  readonly protocol: number;
  private fsm: PlainPppFsm;
  private timer: TimerHandle | undefined;
  private depth = 0;
  /** Events dispatched from inside one of our own actions: run after the current one, in order (XState's mailbox). */
  private pending: FsmEvent[] | undefined;
  private identifier = 0;
  private lastRequest: { identifier: number; data: Buffer } | undefined;
  /** Consecutive Configure-Rejects sent: a peer that ignores them is a loop (RFC 1661 §4.5). */
  private rejectsInRow = 0;
  /**
   * This layer as the upper layers see it, from tlu/tld/tlf (RFC 1661 §4.4). Read this, not `state`,
   * from inside a callback: actions run before the automaton moves to the new state.
   */
  layer: 'down' | 'up' | 'finished' = 'down';
  /** Text for our Terminate-Request's Data field (RFC 1661 §5.5). */
  terminateReason = '';
  /** This-Layer signals of the transition in progress, for the owner once it completes (signalOwner). */
  private readonly signals: ('up' | 'down' | 'started' | 'finished')[] = [];
  private disposed = false;
  /** The Configure-Request being answered and its options, decoded once for judge and sca. */
  private judged: { packet: ControlPacket; options: PppOption[] } | undefined;
  /** The Restart timer's callback, made once: the timer is re-armed on every scr/str. */
  private onRestartTimer: (() => void) | undefined;

  constructor(private readonly o: ControlProtocolOptions) {
    this.name = o.name;
    this.protocol = o.protocol;
    if (o.snapshot) {
      this.fsm = PlainPppFsm.restore(o.snapshot, this.id);
      if (this.state === 'Opened') this.layer = 'up';
      if (TIMER_STATES.has(this.state)) this.startTimer();
    } else {
      this.fsm = PlainPppFsm.create(this.id, this.o);
    }
  }

  get state(): FsmStateName {
    return this.fsm.state;
  }

  get context(): FsmContext {
    return this.fsm.context;
  }

  /** At rest in Opened (or disposed): the form an idle session is kept in, which the plain automaton always is. */
  get hibernating(): boolean {
    return this.depth === 0 && (this.disposed || ((this.o.hibernate ?? true) && this.state === 'Opened'));
  }

  get timerRunning(): boolean {
    return this.timer !== undefined;
  }

  /** FsmHost: actions that reach us after dispose() (from an event in progress) do nothing. */
  get released(): boolean {
    return this.disposed;
  }

  /** The automaton as plain data (XState's persisted-snapshot shape): the hibernated form and the failover record. */
  persisted(): unknown {
    return this.fsm.persisted();
  }

  nextIdentifier(): number {
    this.identifier = (this.identifier + 1) & 0xff;
    return this.identifier;
  }

  /** Start the automaton in a given state (proxy LCP: Opened with values the LAC negotiated). */
  force(state: FsmStateName): void {
    this.fsm = new PlainPppFsm(state, initialContext(this.id, this.o));
    this.layer = state === 'Opened' ? 'up' : 'down';
    this.stopTimer();
  }

  dispatch(e: FsmEvent): void {
    if (this.disposed) return;
    if (this.depth > 0) {
      // From inside one of our actions (a frame sent and answered at once): after this event, as
      // an XState actor queues an event sent to itself.
      (this.pending ??= []).push(e);
      return;
    }
    this.depth++;
    try {
      this.fsm.send(e, this);
      for (let next = this.pending?.shift(); next !== undefined; next = this.pending?.shift()) this.fsm.send(next, this);
    } finally {
      this.pending = undefined;
      this.depth--;
    }
    this.signalOwner();
  }

  /**
   * tlu/tld/tls/tlf reach the owner once the transition is complete, not from inside the automaton's
   * action: the owner reacts by starting other automata (LCP up → the NCPs), and must find this one
   * in its new state (`state` moves after the actions). Signals raised meanwhile (by the owner's
   * reaction) keep their order.
   */
  private signalOwner(): void {
    for (let s = this.signals.shift(); s !== undefined; s = this.signals.shift()) this.o.owner.layer(this, s);
  }

  /** Free the timer; an event in progress still completes its transition but reaches no action (`released`). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopTimer();
  }

  // ---- receive: RFC 1661 §5 packet rules → automaton events ----

  receive(p: ControlPacket): void {
    const state = this.state;
    if (state === 'Initial' || state === 'Starting') return this.drop('packet while the lower layer is down');
    switch (p.code) {
      case PppCode.ConfigureRequest:
        return this.receiveConfigureRequest(p, state);
      case PppCode.ConfigureAck: {
        const last = this.lastRequest;
        // §5.2: the Identifier must match the last Configure-Request and the options be identical.
        if (!last || p.identifier !== last.identifier || !p.data.equals(last.data)) return this.drop('stale or altered Configure-Ack');
        if (NEGOTIATING.has(state)) this.o.policy.agreed(decodeOptions(p.data));
        return this.dispatch({ type: 'RCA', packet: p });
      }
      case PppCode.ConfigureNak:
      case PppCode.ConfigureReject:
        return this.receiveNegative(p, state);
      case PppCode.TerminateRequest:
        return this.dispatch({ type: 'RTR', packet: p });
      case PppCode.TerminateAck:
        return this.dispatch({ type: 'RTA', packet: p });
      case PppCode.CodeReject: {
        const code = p.data[0];
        if (code === undefined) return this.drop('empty Code-Reject');
        // §4.3 RXJ: rejecting a code the automaton needs (1–7) is catastrophic; an extended code is not.
        return this.dispatch({ type: code >= 1 && code <= 7 ? 'RXJ-' : 'RXJ+', packet: p });
      }
      default:
        if (this.o.owner.extraCode?.(this, p)) return;
        return this.dispatch({ type: 'RUC', packet: p });
    }
  }

  private receiveConfigureRequest(p: ControlPacket, state: FsmStateName): void {
    const options = decodeOptions(p.data); // PppCodecError → the engine counts and drops the frame
    if (!JUDGING.has(state)) return this.dispatch({ type: 'RCR+', packet: p });
    const j = this.o.policy.judge(options);
    const reply = this.answer(p, j);
    if (!reply) return;
    this.judged = { packet: p, options };
    try {
      this.dispatch({ type: reply.code === PppCode.ConfigureAck ? 'RCR+' : 'RCR-', packet: p, reply });
    } finally {
      this.judged = undefined;
    }
  }

  /** Build the Ack, Nak or Reject for a judged request (§5.2–5.4), Naks turned into Rejects past Max-Failure. */
  private answer(p: ControlPacket, j: Judgement): ControlPacket | undefined {
    const reply = (code: number, opts: readonly PppOption[]): ControlPacket => ({ code, identifier: p.identifier, data: encodeOptions(opts) });
    if (j.fatal) {
      this.o.owner.fatal(this, j.fatal);
      return undefined;
    }
    if (j.nakOnly) return reply(PppCode.ConfigureNak, j.nak.map((n) => n.suggest));
    let reject = j.reject;
    let nak = j.nak;
    // §4.6 Max-Failure: "further Configure-Nak packets for peer requested options are converted to Configure-Reject".
    if (nak.length > 0 && reject.length === 0 && this.context.naks >= this.context.maxFailure) {
      reject = nak.flatMap((n) => (n.requested ? [n.requested] : []));
      nak = [];
      if (reject.length === 0) return this.ack(p); // only options we wanted added: give up asking
    }
    if (reject.length > 0) {
      if (++this.rejectsInRow > this.context.maxFailure) {
        this.o.owner.fatal(this, `${this.name}: the peer keeps requesting options we reject`);
        return undefined;
      }
      return reply(PppCode.ConfigureReject, reject);
    }
    if (nak.length > 0) return reply(PppCode.ConfigureNak, nak.map((n) => n.suggest));
    return this.ack(p);
  }

  private ack(p: ControlPacket): ControlPacket {
    this.rejectsInRow = 0;
    // §5.2: the Ack's Options field is the received options, unchanged.
    return { code: PppCode.ConfigureAck, identifier: p.identifier, data: p.data };
  }

  private receiveNegative(p: ControlPacket, state: FsmStateName): void {
    const last = this.lastRequest;
    if (!last || p.identifier !== last.identifier) return this.drop('stale Configure-Nak/Reject');
    const options = decodeOptions(p.data);
    if (p.code === PppCode.ConfigureReject) {
      // §5.4: a Reject names only options we sent, unmodified, in order.
      const sent = decodeOptions(last.data);
      let i = 0;
      for (const o of options) {
        while (i < sent.length && !optionEquals(sent[i]!, o)) i++;
        if (i++ >= sent.length) return this.drop('Configure-Reject of options we did not send');
      }
    }
    if (NEGOTIATING.has(state)) {
      const why = p.code === PppCode.ConfigureReject ? this.o.policy.rejected(options) : this.o.policy.nakked(options);
      if (why) return this.o.owner.fatal(this, why);
    }
    this.dispatch({ type: 'RCN', packet: p });
  }

  private drop(why: string): void {
    this.o.owner.discard?.(this, `${this.name}: ${why}`);
  }

  // ---- actions (RFC 1661 §4.4) ----

  private sendPacket(p: ControlPacket): void {
    this.o.owner.send(encodeControlFrame(this.protocol, p));
  }

  tlu(): void {
    this.layer = 'up';
    this.signals.push('up');
  }
  tld(): void {
    this.layer = 'down';
    this.signals.push('down');
  }
  tls(): void {
    this.layer = 'down';
    this.signals.push('started');
  }
  tlf(): void {
    this.layer = 'finished';
    this.signals.push('finished');
  }

  scr(e: FsmEvent): void {
    if (this.layer === 'finished') this.layer = 'down'; // negotiating again (e.g. Stopped, RCR)
    // §5.1: a retransmission may keep its Identifier; new contents need a new one.
    let last = this.lastRequest;
    if (e.type !== 'TO+' || !last) {
      last = this.lastRequest = { identifier: this.nextIdentifier(), data: encodeOptions(this.o.policy.request()) };
    }
    this.sendPacket({ code: PppCode.ConfigureRequest, identifier: last.identifier, data: last.data });
    this.startTimer();
  }

  sca(e: FsmEvent): void {
    if (!('reply' in e) || !e.reply) return;
    const judged = this.judged;
    this.o.policy.peerAgreed(judged?.packet === e.packet ? judged.options : decodeOptions(e.packet.data));
    this.sendPacket(e.reply);
  }

  scn(e: FsmEvent): void {
    if ('reply' in e && e.reply) this.sendPacket(e.reply);
  }

  str(): void {
    this.sendPacket({ code: PppCode.TerminateRequest, identifier: this.nextIdentifier(), data: Buffer.from(this.terminateReason, 'latin1') });
    this.startTimer();
  }

  sta(e: FsmEvent): void {
    const identifier = e.type === 'RTR' ? e.packet.identifier : this.nextIdentifier();
    this.sendPacket({ code: PppCode.TerminateAck, identifier, data: Buffer.alloc(0) });
  }

  scj(e: FsmEvent): void {
    if (!('packet' in e)) return;
    // §5.6: the rejected packet, truncated so the Code-Reject fits the peer's MRU.
    const rejected = encodeControl(e.packet).subarray(0, Math.max(0, this.o.owner.peerMru() - 4));
    this.sendPacket({ code: PppCode.CodeReject, identifier: this.nextIdentifier(), data: rejected });
  }

  ser(e: FsmEvent): void {
    if ('packet' in e) this.o.owner.echoReply?.(this, e.packet);
  }

  startTimer(): void {
    if (this.disposed) return; // scr/str's own send may have disposed us
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = this.o.clock.setTimeout((this.onRestartTimer ??= () => this.restartExpired()), this.o.restartMs);
  }

  private restartExpired(): void {
    this.timer = undefined;
    this.dispatch({ type: this.context.restart > 0 ? 'TO+' : 'TO-' });
  }

  stopTimer(): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  illegal(state: string, e: FsmEvent): void {
    this.drop(`illegal event ${e.type} in state ${state} (RFC 1661 §4.4)`);
  }
}
