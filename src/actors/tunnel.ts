/**
 * One tunnel (control connection): the reliable control channel, the XState control connection
 * machine, and its sessions. Packets come in decoded; messages go out through the channel, which
 * calls back to encode them with the current Ns/Nr.
 *
 * Inbound path: header (already peeked by the shard) → body decode → (v3) digest check → control
 * channel (ordering, acks) → `deliver` → a judged event for the tunnel or one of its sessions.
 */
import type { Logger } from 'pino';
import { createActor, type Actor, type Snapshot } from 'xstate';
import {
  CdnResult,
  decodeControlBody,
  deriveV3AuthKey,
  encodeControl,
  GeneralError,
  getAvp,
  L2tpCodecError,
  MalformedMessageError,
  MESSAGE_BY_TYPE,
  MessageTypes,
  StopCcnResult,
  v3DigestAlgorithmOf,
  v3DigestNonces,
  verifyControlDigest,
  type AvpInstance,
  type ControlMessage,
  type DecodedControl,
  type HeaderInfo,
  type V3Authentication,
} from '../protocol/index.js';
import { ControlChannel } from '../transport/control-channel.js';
import type { ControlChannelState } from '../transport/control-channel-config.js';
import { buildScccn, buildSccrp, buildSccrq, buildStopCcn, judgeScccn, judgeSccrp, judgeSccrq, type TunnelData } from './handshake.js';
import { retransmissionCycleMs, type TunnelOptions } from './options.js';
import type { Session, SessionRecord } from './session.js';
import { TunnelCalls } from './tunnel-calls.js';
import { refusalOf } from './refusal.js';
import type { SessionData } from './session-messages.js';
import type { TunnelEnv } from './tunnel-env.js';
import type { Refusal, TunnelActions, TunnelContext, TunnelStateName } from './tunnel-machine.js';

/** What the channel carries: our messages out, judged inbound messages (or a decode failure) in. */
type Inbound = { inbound: DecodedControl } | { malformed: L2tpCodecError; messageType: number | undefined; sessionId: number };
type ChannelItem = ControlMessage | Inbound;

/**
 * Messages this end answers with one of its own, which carries the ack (so it may wait ack_delay for it); the
 * rest (ICCN, SCCCN, OCRP, OCCN, CDN, StopCCN, HELLO, WEN, SLI) get no reply: ack_delay_unanswered applies.
 */
const ANSWERED = new Set<number>([MessageTypes.SCCRQ, MessageTypes.SCCRP, MessageTypes.ICRQ, MessageTypes.ICRP, MessageTypes.OCRQ]);

const SESSION_MESSAGES = new Set<number>([
  MessageTypes.ICRQ, MessageTypes.ICRP, MessageTypes.ICCN, MessageTypes.OCRQ, MessageTypes.OCRP, MessageTypes.OCCN,
  MessageTypes.CDN, MessageTypes.WEN, MessageTypes.SLI,
]);

/** Transmissions of an L2TPv3 SCCRQ (first + retransmissions) before falling back to L2TPv2. */
const V3_SCCRQ_ATTEMPTS = 3;

export interface TunnelCounters {
  malformed: number;
  badDigest: number;
  unknownSession: number;
  unexpectedAvps: number;
}

export class Tunnel implements TunnelActions {
  readonly actor: Actor<TunnelEnv['tunnelMachine']>;
  channel: ControlChannel<ChannelItem>;
  readonly calls: TunnelCalls;
  readonly sessions: Map<number, Session>;
  /** Per-tunnel logger: `l2tpctl trace debug --tunnel ID` raises its level alone. */
  readonly log: Logger;
  readonly counters: TunnelCounters = { malformed: 0, badDigest: 0, unknownSession: 0, unexpectedAvps: 0 };
  private authKey: Buffer | undefined;
  private closedAlready = false;
  private v3SccrqSends = 0;
  private finalReason: string | undefined;

  constructor(
    readonly env: TunnelEnv,
    readonly data: TunnelData,
    public options: TunnelOptions,
    restored?: { channel: unknown; machine: unknown },
  ) {
    this.log = env.log.child({ tunnel: data.localTunnelId });
    this.calls = new TunnelCalls(this);
    this.sessions = this.calls.sessions;
    this.channel = this.newChannel(restored?.channel as ControlChannelState<ChannelItem> | undefined);
    this.actor = createActor(env.tunnelMachine, {
      input: { localTunnelId: data.localTunnelId, holdMs: retransmissionCycleMs(options) },
      clock: env.clock,
      ...(restored ? { snapshot: restored.machine as Snapshot<unknown> } : {}),
    });
    if (options.secret && options.authMode === 'challenge') this.authKey = deriveV3AuthKey(options.secret);
  }

  start(): void {
    let last: unknown;
    this.actor.subscribe((snap) => {
      if (snap.value === last) return;
      last = snap.value;
      // The peer's StopCCN clears every session at once (RFC 2661 §5.7); only the tunnel's own state is held
      // for the retransmission cycle. Without this, sessions (PPP, addresses, kernel units) lived ~30 s on.
      if (snap.value === 'draining') for (const s of [...this.sessions.values()]) s.dispatch({ type: 'TUNNEL_DOWN', reason: this.reason ?? 'StopCCN received' });
      if (snap.status === 'active') this.env.events.tunnelChanged(this);
    });
    this.actor.start();
  }

  get id(): number {
    return this.data.localTunnelId;
  }

  get state(): TunnelStateName {
    return this.actor.getSnapshot().value as TunnelStateName;
  }

  /** Why the tunnel is closing or closed (StopCCN result, dead channel...). */
  get reason(): string | undefined {
    return this.finalReason ?? this.actor.getSnapshot().context.reason;
  }

  get established(): boolean {
    return this.state === 'established';
  }

  private newChannel(state?: ControlChannelState<ChannelItem>): ControlChannel<ChannelItem> {
    const o = this.options;
    return new ControlChannel<ChannelItem>(
      {
        receiveWindowSize: o.receiveWindowSize,
        retransmitInitialMs: o.retransmitInitialMs,
        retransmitCapMs: o.retransmitCapMs,
        maxRetransmits: o.maxRetransmits,
        ackDelayMs: o.ackDelayMs,
        ...(o.ackDelayUnansweredMs !== undefined ? { ackDelayUnansweredMs: o.ackDelayUnansweredMs } : {}),
        helloIntervalMs: o.helloIntervalMs,
        helloJitterMs: Math.min(5000, Math.floor(o.helloIntervalMs / 10)),
      },
      {
        transmit: (ns, nr, msg) => this.transmit(ns, nr, msg),
        deliver: (msg) => this.deliver(msg),
        answers: (item) => !('inbound' in item) || ANSWERED.has(item.inbound.message.messageType ?? -1),
        dead: (reason) => this.actor.send({ type: 'DEAD', reason: `control channel dead: ${reason}` }),
        idle: () => {
          if (this.established) this.send(MessageTypes.HELLO, []);
        },
      },
      this.env.clock,
      state,
    );
  }

  /**
   * The tunnel's state as plain data, kept by the state store and handed back after a restart: the
   * control connection, and the sessions named in `only` (all of them when absent).
   */
  record(only?: Iterable<number>): { data: TunnelData; options: TunnelOptions; channel: unknown; machine: unknown; sessions: SessionRecord[] } {
    const pick = only ? [...only].map((id) => this.sessions.get(id)).filter((s): s is Session => s !== undefined) : [...this.sessions.values()];
    return {
      data: this.data,
      options: this.options,
      channel: this.channel.snapshot(),
      machine: this.actor.getPersistedSnapshot(),
      sessions: pick.map((s) => s.record()),
    };
  }

  /** Re-create the sessions of a restored tunnel (their actors resume from their snapshots, their pseudowires from their state). */
  restoreSessions(sessions: SessionRecord[]): void {
    this.calls.restore(sessions);
  }

  /** Place a call (LAC incoming / LNS outgoing) once the tunnel is up. */
  openSession(callType: 'lacIncoming' | 'lnsOutgoing', extra: Partial<SessionData>): Session | undefined {
    return this.calls.open(callType, extra);
  }

  /** Trace level of this tunnel, or of one of its sessions. */
  setTrace(level: string, sessionId?: number): void {
    if (sessionId === undefined) {
      this.log.level = level;
      return;
    }
    const s = this.sessions.get(sessionId);
    if (!s) throw new Error(`no session ${sessionId} in tunnel ${this.id}`);
    s.log.level = level;
  }

  // ---- inbound ----------------------------------------------------------------------------

  /** A control packet for this tunnel (header already checked by the shard). */
  receiveControl(buf: Buffer, h: HeaderInfo): void {
    let d: DecodedControl;
    try {
      d = decodeControlBody(buf, h, { secret: this.options.secret, transport: this.options.encapsulation });
    } catch (e) {
      if (!(e instanceof L2tpCodecError)) throw e;
      this.counters.malformed++;
      this.log.warn({ tunnel: this.id, err: e.message, field: e.field, offset: e.offset }, 'malformed control message');
      // The header was sound: sequence it so the peer is acknowledged and we can answer as the RFC says.
      const messageType = e instanceof MalformedMessageError ? e.messageType : undefined;
      if (messageType !== undefined) this.channel.receive(h.ns ?? 0, h.nr ?? 0, { malformed: e, messageType, sessionId: h.sessionId });
      return;
    }
    if (this.data.version === 3 && this.authKey && !this.verifyDigest(buf, d)) {
      this.counters.badDigest++;
      this.log.warn({ tunnel: this.id, type: d.message.messageType }, 'control message failed authentication: dropped (RFC 3931 §5.4.1)');
      return;
    }
    const ackOnly = d.message.messageType === undefined || d.message.messageType === MessageTypes.ACK;
    this.channel.receive(h.ns ?? 0, h.nr ?? 0, ackOnly ? null : { inbound: d });
    if (this.state === 'stopping' && this.channel.unackedCount() === 0) this.actor.send({ type: 'STOP_ACKED' });
  }

  private verifyDigest(buf: Buffer, d: DecodedControl): boolean {
    const digest = getAvp(d.message, 'MessageDigest');
    const algorithm = digest && v3DigestAlgorithmOf(digest.digestType);
    if (!algorithm || !this.authKey) return false;
    const nonce = getAvp(d.message, 'ControlMessageAuthenticationNonce');
    if (nonce && !this.data.peerNonce) this.data.peerNonce = nonce.toString('hex');
    const nonces = v3DigestNonces({
      messageType: d.message.messageType ?? MessageTypes.ACK,
      direction: 'receive',
      localNonce: Buffer.from(this.data.ourNonce ?? '', 'hex'),
      remoteNonce: Buffer.from(this.data.peerNonce ?? '', 'hex'),
    });
    return verifyControlDigest(buf, d, { algorithm, key: this.authKey, nonces }, this.options.encapsulation);
  }

  private deliver(item: ChannelItem): void {
    if ('malformed' in item) return this.onMalformed(item);
    if (!('inbound' in item)) return;
    const d = item.inbound;
    const m = d.message;
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug({ type: MESSAGE_BY_TYPE[m.messageType ?? 0]?.key ?? m.messageType, ns: m.ns, nr: m.nr, session: m.sessionId, avps: m.avps.length }, 'received');
    }
    if (d.unexpected.length > 0) this.counters.unexpectedAvps += d.unexpected.length;
    if (d.violation) {
      if (d.violation.scope === 'tunnel' || m.messageType === undefined || !SESSION_MESSAGES.has(m.messageType)) {
        return this.close({ resultCode: StopCcnResult.GeneralError, errorCode: d.violation.errorCode, message: d.violation.errorMessage });
      }
      const s = this.calls.sessionFor(m);
      const refusal = { resultCode: CdnResult.GeneralError, errorCode: d.violation.errorCode, message: d.violation.errorMessage };
      if (s) s.dispatch({ type: 'CLOSE', result: refusal });
      else this.calls.refuseUnknownCall(m, refusal);
      return;
    }
    const t = m.messageType!;
    switch (t) {
      case MessageTypes.SCCRQ:
        // A retransmitted SCCRQ never gets here (the channel drops duplicates); a second one is a protocol error.
        if (this.state === 'idle') this.actor.send({ type: 'SCCRQ', verdict: judgeSccrq(this.data, this.options, m) });
        return;
      case MessageTypes.SCCRP:
        if (this.state === 'waitCtlReply') this.actor.send({ type: 'SCCRP', verdict: judgeSccrp(this.data, this.options, m) });
        return;
      case MessageTypes.SCCCN:
        if (this.state === 'waitCtlConn') this.actor.send({ type: 'SCCCN', verdict: judgeScccn(this.data, this.options, m) });
        return;
      case MessageTypes.StopCCN: {
        const result = refusalOf(m);
        if (this.state === 'waitCtlReply' && this.data.version === 3 && result.resultCode === StopCcnResult.UnsupportedProtocolVersion) {
          return this.fallBackToV2();
        }
        this.actor.send({ type: 'STOPCCN', result });
        return;
      }
      case MessageTypes.HELLO:
        return;
      default:
        if (SESSION_MESSAGES.has(t)) return this.calls.deliver(m, t);
        this.log.info({ tunnel: this.id, type: t }, 'ignoring control message of unknown or unhandled type');
    }
  }

  private onMalformed(item: Extract<Inbound, { malformed: L2tpCodecError }>): void {
    const refusal: Refusal = { resultCode: 2, errorCode: GeneralError.FieldOutOfRange, message: item.malformed.message.slice(0, 200) };
    if (item.messageType !== undefined && SESSION_MESSAGES.has(item.messageType) && this.established) {
      const s = this.data.version === 2 ? this.sessions.get(item.sessionId) : undefined;
      if (s) s.dispatch({ type: 'CLOSE', result: { ...refusal, resultCode: CdnResult.GeneralError } });
      return;
    }
    this.close(refusal);
  }

  // ---- outbound ----------------------------------------------------------------------------

  /** Queue a control message; `peerSessionId` goes in the v2 header (0 for tunnel messages). */
  send(messageType: number, avps: AvpInstance[], peerSessionId = 0): void {
    const m: ControlMessage = {
      version: this.data.version,
      tunnelId: this.data.peerTunnelId,
      sessionId: this.data.version === 2 ? peerSessionId : 0,
      ns: 0,
      nr: 0,
      messageType,
      messageTypeMandatory: true,
      avps,
    };
    this.channel.send(m);
  }

  private transmit(ns: number, nr: number, item: ChannelItem | null): void {
    const auth = this.data.version === 3 && this.authKey !== undefined;
    let m: ControlMessage;
    if (item === null) {
      // RFC 3931 §6.15: with authentication on, acknowledge with a (signed) ACK message, not a ZLB.
      m = { version: this.data.version, tunnelId: this.data.peerTunnelId, sessionId: 0, ns, nr, messageType: auth ? MessageTypes.ACK : undefined, messageTypeMandatory: true, avps: [] };
    } else if ('avps' in item) {
      m = item;
      // RFC 3931 §4.7 peers that only speak L2TPv2 may ignore an L2TPv3 SCCRQ altogether (xl2tpd
      // drops it as a "PPTP packet"): after two unanswered retransmissions, try again as v2.
      if (m.messageType === MessageTypes.SCCRQ && m.version === 3 && this.v2CanCarryIt() && this.state === 'waitCtlReply' && ++this.v3SccrqSends >= V3_SCCRQ_ATTEMPTS) {
        queueMicrotask(() => this.fallBackToV2());
        return;
      }
      m.ns = ns;
      m.nr = nr;
      m.tunnelId = this.data.peerTunnelId; // known only after SCCRP for messages queued before it
    } else {
      return;
    }
    let digest: V3Authentication | undefined;
    if (auth && m.messageType !== undefined) {
      const nonces = v3DigestNonces({
        messageType: m.messageType,
        direction: 'send',
        localNonce: Buffer.from(this.data.ourNonce ?? '', 'hex'),
        remoteNonce: Buffer.from(this.data.peerNonce ?? '', 'hex'),
      });
      digest = { algorithm: this.options.digest, key: this.authKey!, nonces };
    }
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug({ type: m.messageType === undefined ? 'ZLB' : (MESSAGE_BY_TYPE[m.messageType]?.key ?? m.messageType), ns, nr, session: m.sessionId }, 'sent');
    }
    try {
      const buf = encodeControl(m, { secret: this.options.secret, transport: this.options.encapsulation, digest });
      this.env.transmit(this, buf);
    } catch (e) {
      this.log.error({ tunnel: this.id, err: String(e) }, 'could not encode a control message');
    }
  }

  // ---- tunnel machine actions ----------------------------------------------------------------

  sendSccrq(): void {
    this.send(MessageTypes.SCCRQ, buildSccrq(this.data, this.options));
  }

  /** RFC 3931 §4.7 peers that only speak L2TPv2: start again as v2 with a fresh channel (Ns 0). */
  sendSccrqV2(): void {
    this.channel.close();
    this.data.version = 2;
    this.data.fellBackToV2 = true;
    this.options = { ...this.options, encapsulation: 'udp' };
    this.channel = this.newChannel();
    this.sendSccrq();
  }

  /**
   * L2TPv2 runs over UDP only and carries only PPP: a tunnel over IP, or one for Ethernet pseudowires (RFC 4719),
   * keeps asking in L2TPv3 — an unanswered SCCRQ there means the peer is away, not that it speaks only v2.
   */
  private v2CanCarryIt(): boolean {
    if (this.options.encapsulation !== 'udp' || this.options.session.pseudowire !== 'ppp') return false;
    for (const s of this.sessions.values()) if (s.data.pseudowire !== 'ppp') return false;
    return true;
  }

  private fallBackToV2(): void {
    if (this.state !== 'waitCtlReply') return;
    if (!this.data.fellBackToV2 && this.data.version === 3 && this.v2CanCarryIt()) {
      this.log.info({ tunnel: this.id }, 'peer does not speak L2TPv3: falling back to L2TPv2');
      this.actor.send({ type: 'V2_FALLBACK' });
    } else {
      this.actor.send({ type: 'STOPCCN', result: { resultCode: StopCcnResult.UnsupportedProtocolVersion } });
    }
  }

  sendSccrp(): void {
    if (this.data.peerReceiveWindowSize) this.channel.setPeerReceiveWindowSize(this.data.peerReceiveWindowSize);
    this.send(MessageTypes.SCCRP, buildSccrp(this.data, this.options));
  }

  sendScccn(): void {
    if (this.data.peerReceiveWindowSize) this.channel.setPeerReceiveWindowSize(this.data.peerReceiveWindowSize);
    this.send(MessageTypes.SCCCN, buildScccn(this.data, this.options));
  }

  sendStopCcn(result: Refusal): void {
    this.send(MessageTypes.StopCCN, buildStopCcn(this.data, result));
  }

  /** Settles when the data plane holds the tunnel (sessions that attach to it themselves wait for it). */
  kernelTunnel: Promise<void> | undefined;

  tunnelUp(): void {
    this.data.establishedAt = this.env.clock.now();
    this.toDataPlane();
    for (const s of this.sessions.values()) if (s.state === 'waitTunnel' || s.state === 'localIdle') s.dispatch({ type: 'TUNNEL_UP' });
  }

  /**
   * A restored established tunnel (worker restart): its old socket died with the old worker and the kernel
   * tunnel with it, so make the tunnel again on the new socket, then its established sessions.
   */
  resumeDataPlane(): void {
    this.toDataPlane();
    for (const s of this.sessions.values()) if (s.state === 'established') this.calls.toDataPlane(s, true);
  }

  private toDataPlane(): void {
    this.kernelTunnel = this.env.dataPlane
      .createTunnel({
        localTunnelId: this.id,
        peerTunnelId: this.data.peerTunnelId,
        version: this.data.version,
        encapsulation: this.options.encapsulation,
        local: this.data.local,
        peer: this.data.peer,
        ...(this.env.dataPlane.kind === 'kernel' ? { fd: this.env.socketFd?.(this) } : {}),
      })
      .catch((e: unknown) => {
        this.log.error({ tunnel: this.id, err: String(e) }, 'data plane refused the tunnel');
        this.close({ resultCode: StopCcnResult.GeneralError, errorCode: GeneralError.InsufficientResources, message: 'data plane error' });
        throw e;
      });
    this.kernelTunnel.catch(() => undefined);
  }

  closed(ctx: TunnelContext): void {
    if (this.closedAlready) return;
    this.closedAlready = true;
    this.finalReason = ctx.reason;
    this.channel.close();
    // StopCCN clears every session implicitly (RFC 2661 §6.4): no CDNs.
    for (const s of [...this.sessions.values()]) s.dispatch({ type: 'TUNNEL_DOWN', reason: this.reason ?? 'tunnel closed' });
    if (this.data.establishedAt !== undefined) this.env.dataPlane.deleteTunnel(this.id).catch(() => undefined);
    this.env.events.tunnelClosed(this);
  }

  /** Administrative or error close: StopCCN with `result`, or immediate teardown before any exchange. */
  close(result: Refusal): void {
    this.actor.send({ type: 'CLOSE', result });
  }
}
