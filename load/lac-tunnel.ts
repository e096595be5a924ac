/**
 * One emulated LAC control connection: SCCRQ → SCCRP → SCCCN (RFC 2661 §5.1; challenge
 * authentication §5.1.1, hidden AVPs §4.3; L2TPv3 nonces and message digests RFC 3931 §4.3), HELLO
 * answered, StopCCN sent or received. It reuses the project's layers: the codec, the reliable
 * `ControlChannel` (Ns/Nr, window, retransmission) and the handshake builders/judges the daemon's
 * own tunnels use, but not the XState tunnel actor — a load generator runs thousands of tunnels and
 * a million calls per worker, and a plain state field costs nothing (DESIGN.md "Actors, and what
 * they cost").
 *
 * Acknowledgement of our own messages: the channel acknowledges in order, so the k-th message we
 * queued is acknowledged once `stats.acked > k`. That is how a call knows the LNS has its ICCN.
 */
import {
  avp,
  decodeControlBody,
  deriveV3AuthKey,
  encodeControl,
  encodeData,
  GeneralError,
  getAvp,
  HiddenAvpError,
  L2tpCodecError,
  MessageTypes,
  StopCcnResult,
  type AvpInstance,
  type ControlMessage,
  type DecodedControl,
  type HeaderInfo,
} from '../src/protocol/index.js';
import { ControlChannel } from '../src/transport/control-channel.js';
import type { Clock, TimerHandle } from '../src/transport/clock.js';
import { DEFAULT_TUNNEL_OPTIONS, type TunnelOptions } from '../src/actors/options.js';
import { buildSccrq, buildScccn, buildStopCcn, judgeSccrp, type TunnelData } from '../src/actors/handshake.js';
import { LacCall } from './lac-call.js';
import type { PingHost } from './ping.js';
import { signing, verified } from './v3-auth.js';
import type { Endpoint, LoadOptions } from './options.js';
import { expandTemplate } from './template.js';
import { recordLatency, type Cause, type CauseTable, type Counters, type Histogram, type Phase } from './stats.js';

export type TunnelCause = Omit<Cause, 'count' | 'phase'>;

const EMPTY = Buffer.alloc(0);

/** What a tunnel needs from the worker engine that runs it (and its subscribers' pingers, PPP mode). */
export interface LacHost extends PingHost {
  readonly clock: Clock;
  readonly options: LoadOptions;
  readonly counters: Counters;
  readonly hist: Record<Phase, Histogram>;
  readonly failures: CauseTable;
  readonly cleared: CauseTable;
  /** One datagram to the tunnel's peer; several buffers are sent as one datagram (gathered, not copied). */
  transmit(t: LacTunnel, buf: Buffer | readonly Buffer[]): void;
  /** The tunnel learned the port the LNS talks from (its first packet): the tunnel's own socket may connect to it. */
  peerLearned(t: LacTunnel): void;
  noteCallStart(): void;
  tunnelUp(t: LacTunnel): void;
  /** `cause` undefined: closed by us at the end of the run. */
  tunnelClosed(t: LacTunnel, cause: TunnelCause | undefined, wasUp: boolean): void;
  callUp(c: LacCall): void;
  /** PPP mode: a subscriber came up with this IPv4 address. */
  addressAssigned(address: string): void;
}

/** A message whose header was sound but whose body would not decode: sequenced all the same, so acks flow. */
type Undecodable = { undecodable: L2tpCodecError };
type Item = ControlMessage | DecodedControl | Undecodable;
/** Who waits for the acknowledgement of message `index`: a call (ICCN, CDN) or the tunnel (SCCCN, StopCCN). */
type AckWait = { index: number; waiter: LacCall | 'scccn' | 'stopccn' };

export type LacTunnelState = 'connecting' | 'established' | 'stopping' | 'closed';

export class LacTunnel {
  state: LacTunnelState = 'connecting';
  readonly data: TunnelData;
  readonly options: TunnelOptions;
  readonly channel: ControlChannel<Item>;
  /** Where the LNS talks from: the target until its SCCRP names another port (RFC 2661 §8.1 allows it). */
  peer: Endpoint;
  private peerLearned = false;
  /** Calls by local Session ID (dense from 1). */
  private readonly calls: (LacCall | undefined)[] = [];
  private nextSessionId = 1;
  /** Messages handed to the channel so far: the index of the next one. */
  private queued = 0;
  private readonly ackWaits: AckWait[] = [];
  /** Told once when their message first leaves (the channel may hold it back: window, slow start). */
  private readonly onWire = new Map<ControlMessage, () => void>();
  private ackHead = 0;
  private readonly t0 = performance.now();
  private readonly authKey: Buffer | undefined;
  private closeAfterReceive: { cause: TunnelCause | undefined } | null = null;
  private receiving = false;
  private sccrqIndex = -1;
  private setupTimer: TimerHandle | null = null;

  constructor(
    readonly host: LacHost,
    localTunnelId: number,
    readonly index: number,
    local: Endpoint,
    readonly callsPlanned: number,
  ) {
    const o = host.options;
    const secret = o.secret !== undefined ? Buffer.from(o.secret, 'utf8') : undefined;
    this.options = {
      ...DEFAULT_TUNNEL_OPTIONS,
      version: o.version,
      authMode: o.challenge ? 'challenge' : 'none',
      secret,
      hideAvps: o.hideAvps,
      receiveWindowSize: o.receiveWindowSize,
      maxRetransmits: o.maxRetransmits,
      // Every reply we send carries the ack; a ZLB goes out only for what we do not answer (CDN, HELLO, StopCCN).
      ackDelayMs: 0,
      hostName: expandTemplate(o.hostname, index),
      vendorName: 'l2tp-load',
    };
    this.peer = { ...o.target };
    this.data = { localTunnelId, peerTunnelId: 0, version: o.version, role: 'initiator', local, peer: this.peer, createdAt: Date.now(), profile: 'l2tp-load', persistent: false };
    if (secret && o.challenge && o.version === 3) this.authKey = deriveV3AuthKey(secret);
    this.channel = new ControlChannel<Item>(
      {
        receiveWindowSize: this.options.receiveWindowSize,
        maxRetransmits: this.options.maxRetransmits,
        ackDelayMs: 0,
        helloIntervalMs: this.options.helloIntervalMs,
        helloJitterMs: 5000,
      },
      {
        transmit: (ns, nr, msg) => this.transmit(ns, nr, msg),
        deliver: (msg) => this.deliver(msg),
        dead: (reason) => this.channelDead(reason),
        idle: () => {
          if (this.state === 'established') this.sendMessage(MessageTypes.HELLO, [], 0);
        },
      },
      host.clock,
    );
  }

  get id(): number {
    return this.data.localTunnelId;
  }

  /** Calls not yet placed. */
  get callsLeft(): number {
    return this.callsPlanned - (this.nextSessionId - 1);
  }

  start(): void {
    const c = this.host.counters;
    c.tunnelAttempts++;
    c.tunnelsConnecting++;
    this.sccrqIndex = this.sendMessage(MessageTypes.SCCRQ, buildSccrq(this.data, this.options), 0);
    // An LNS that acknowledges the SCCRQ but never answers must not hold the tunnel forever.
    const ms = this.host.options.setupTimeoutMs;
    this.setupTimer = this.host.clock.setTimeout(() => {
      this.setupTimer = null;
      if (this.state === 'connecting') {
        this.abort(StopCcnResult.GeneralError, undefined, 'no SCCRP in time', { kind: 'timeout', message: `no SCCRP within ${ms} ms` });
      }
    }, ms);
  }

  /** Place the next call; undefined when none is left or the tunnel is not up. */
  placeCall(): LacCall | undefined {
    if (this.state !== 'established' || this.callsLeft <= 0) return undefined;
    const id = this.nextSessionId++;
    const call = new LacCall(this, id, id);
    this.calls[id] = call;
    call.place();
    return call;
  }

  /** Queue a control message; returns its index for `whenAcked`. */
  sendMessage(messageType: number, avps: AvpInstance[], peerSessionId: number, onWire?: () => void): number {
    const v = this.data.version;
    const m: ControlMessage = { version: v, tunnelId: this.data.peerTunnelId, sessionId: v === 2 ? peerSessionId : 0, ns: 0, nr: 0, messageType, messageTypeMandatory: true, avps };
    if (onWire) this.onWire.set(m, onWire);
    this.channel.send(m);
    return this.queued++;
  }

  /** Tell `waiter` when message `index` is acknowledged. */
  whenAcked(index: number, waiter: AckWait['waiter']): void {
    this.ackWaits.push({ index, waiter });
    this.settleAcks();
  }

  callDone(c: LacCall): void {
    this.calls[c.id] = undefined;
  }

  /** A data message for call `sessionId` (ours): a PPP frame for its subscriber. */
  receiveData(sessionId: number, payload: Buffer): void {
    if (this.state === 'established') this.calls[sessionId]?.receiveFrame(payload);
  }

  /**
   * The L2TP data header for a call's frames (RFC 2661 §5.3; no sequencing, no Length): the same six
   * octets for every frame of the call, so the call keeps it and `sendData` sends header and frame
   * as one datagram without copying the frame into a new message.
   */
  dataHeader(peerSessionId: number): Buffer {
    return encodeData({ version: 2, tunnelId: this.data.peerTunnelId, sessionId: peerSessionId, priority: false, lengthPresent: false, payload: EMPTY });
  }

  /** A PPP frame to the LNS in an L2TP data message whose header `dataHeader` made. */
  sendData(header: Buffer, frame: Buffer): void {
    this.host.counters.dataSent++;
    this.host.transmit(this, [header, frame]);
  }

  // ---- inbound -----------------------------------------------------------------------------

  receive(buf: Buffer, h: HeaderInfo, from: Endpoint): void {
    if (this.state === 'closed') return;
    if (!this.peerLearned && from.address === this.peer.address) {
      this.peerLearned = true;
      this.peer.port = from.port;
      this.host.peerLearned(this);
    }
    this.receiving = true;
    try {
      this.receiveDecoded(buf, h);
    } finally {
      this.receiving = false;
    }
    // Closing inside deliver() would have kept the channel from acknowledging the StopCCN.
    const close = this.closeAfterReceive as { cause: TunnelCause | undefined } | null;
    if (close) {
      this.closeAfterReceive = null;
      this.close(close.cause);
    }
  }

  private receiveDecoded(buf: Buffer, h: HeaderInfo): void {
    let d: DecodedControl;
    try {
      d = decodeControlBody(buf, h, { secret: this.options.secret });
    } catch (e) {
      if (!(e instanceof L2tpCodecError)) throw e;
      this.host.counters.malformed++;
      this.channel.receive(h.ns ?? 0, h.nr ?? 0, { undecodable: e });
      this.settleAcks();
      return;
    }
    if (this.authKey && !verified(this.data, this.authKey, buf, d)) {
      this.host.counters.malformed++;
      return;
    }
    const t = d.message.messageType;
    this.channel.receive(h.ns ?? 0, h.nr ?? 0, t === undefined || t === MessageTypes.ACK ? null : d);
    this.settleAcks();
  }

  private settleAcks(): void {
    const acked = this.channel.stats.acked;
    while (this.ackHead < this.ackWaits.length && this.ackWaits[this.ackHead]!.index < acked) {
      const w = this.ackWaits[this.ackHead++]!;
      if (w.waiter === 'scccn') this.established();
      else if (w.waiter === 'stopccn') this.close(undefined);
      else w.waiter.acked();
    }
    if (this.ackHead > 1024 && this.ackHead * 2 > this.ackWaits.length) {
      this.ackWaits.splice(0, this.ackHead);
      this.ackHead = 0;
    }
  }

  private deliver(item: Item): void {
    if ('undecodable' in item) return this.onUndecodable(item.undecodable);
    if (!('message' in item)) return;
    const m = item.message;
    // A StopCCN that acknowledges our SCCCN refuses it: a set-up failure, not an established tunnel lost.
    if (m.messageType !== MessageTypes.StopCCN) this.settleAcks(); // a message's Nr was applied before it is delivered
    if (item.violation) {
      const v = item.violation;
      if (v.scope === 'tunnel') return this.abort(StopCcnResult.GeneralError, v.errorCode, v.errorMessage, { kind: 'protocol', message: v.errorMessage });
    }
    switch (m.messageType) {
      case MessageTypes.SCCRP:
        return this.onSccrp(m);
      case MessageTypes.StopCCN: {
        const rc = getAvp(m, 'ResultCode');
        const cause: TunnelCause = {
          kind: 'stopccn',
          resultCode: rc?.result ?? 0,
          ...(rc?.error !== undefined ? { errorCode: rc.error } : {}),
          ...(rc?.message ? { message: rc.message } : {}),
        };
        this.closeAfterReceive = { cause: this.state === 'stopping' ? undefined : cause };
        return;
      }
      case MessageTypes.HELLO:
        return;
      case MessageTypes.ICRQ:
      case MessageTypes.OCRQ:
        return this.refuseCall(m);
      default: {
        if (this.state !== 'established') return; // once stopping, calls in progress stay as they are
        const sid = this.data.version === 2 ? m.sessionId : (getAvp(m, 'RemoteSessionId') ?? 0);
        const call = sid === 0 ? undefined : this.calls[sid];
        if (call) call.receive(m);
      }
    }
  }

  /**
   * During set-up an undecodable reply ends the attempt with the reason (most often hidden AVPs and a
   * --secret that is not the LNS's); later ones are counted and ignored.
   */
  private onUndecodable(e: L2tpCodecError): void {
    if (this.state !== 'connecting') return;
    const hidden = e instanceof HiddenAvpError || /hidden/i.test(e.message);
    const hint = !hidden ? '' : this.options.secret ? ' (the LNS hides AVPs: is --secret the same as the LNS\'s?)' : ' (the LNS hides AVPs: give --secret)';
    this.abort(StopCcnResult.GeneralError, GeneralError.FieldOutOfRange, e.message.slice(0, 200), { kind: 'undecodable', message: `the LNS's reply could not be decoded: ${e.message}${hint}` });
  }

  private onSccrp(m: ControlMessage): void {
    if (this.state !== 'connecting' || this.data.peerTunnelId !== 0) return;
    const v = judgeSccrp(this.data, this.options, m);
    if (!v.ok) {
      // We refuse the LNS (e.g. its Challenge Response is wrong: not the same secret).
      return this.abort(v.resultCode, v.errorCode, v.message, { kind: 'refused-by-us', resultCode: v.resultCode, message: v.message ?? 'SCCRP refused' });
    }
    if (this.data.peerReceiveWindowSize) this.channel.setPeerReceiveWindowSize(this.data.peerReceiveWindowSize);
    this.whenAcked(this.sendMessage(MessageTypes.SCCCN, buildScccn(this.data, this.options), 0), 'scccn');
  }

  /**
   * The LNS acknowledged our SCCCN: it holds the tunnel up too (an LNS that rejects our Challenge
   * Response answers the SCCCN with StopCCN instead, a set-up failure). Calls start now.
   */
  private established(): void {
    if (this.state !== 'connecting' || this.closeAfterReceive) return;
    this.state = 'established';
    if (this.setupTimer !== null) this.host.clock.clearTimeout(this.setupTimer);
    this.setupTimer = null;
    const c = this.host.counters;
    c.tunnelsConnecting--;
    c.tunnelsUp++;
    recordLatency(this.host.hist.tunnel, performance.now() - this.t0);
    this.host.tunnelUp(this);
  }

  /** We are the LAC here: calls the LNS tries to place toward us are refused (CDN result 5). */
  private refuseCall(m: ControlMessage): void {
    const peerSid = this.data.version === 2 ? (getAvp(m, 'AssignedSessionId') ?? 0) : (getAvp(m, 'LocalSessionId') ?? 0);
    const rc = avp('ResultCode', { result: 5, error: 0, message: 'l2tp-load accepts no calls' });
    const avps = this.data.version === 2 ? [rc, avp('AssignedSessionId', 0)] : [rc, avp('LocalSessionId', 0), avp('RemoteSessionId', peerSid)];
    this.sendMessage(MessageTypes.CDN, avps, peerSid);
  }

  // ---- outbound ----------------------------------------------------------------------------

  private transmit(ns: number, nr: number, item: Item | null): void {
    let m: ControlMessage;
    const auth = this.authKey !== undefined;
    if (item === null) {
      // RFC 3931 §6.15: with authentication on, acknowledge with a signed ACK message, not a ZLB.
      m = { version: this.data.version, tunnelId: this.data.peerTunnelId, sessionId: 0, ns, nr, messageType: auth ? MessageTypes.ACK : undefined, messageTypeMandatory: true, avps: [] };
    } else if ('avps' in item) {
      m = item;
      m.ns = ns;
      m.nr = nr;
      m.tunnelId = this.data.peerTunnelId; // known only after SCCRP for messages queued before it
    } else {
      return;
    }
    const digest = auth && m.messageType !== undefined ? signing(this.data, this.authKey!, m.messageType) : undefined;
    this.host.transmit(this, encodeControl(m, { secret: this.options.secret, digest }));
    const onWire = this.onWire.size > 0 ? this.onWire.get(m) : undefined;
    if (onWire) {
      this.onWire.delete(m);
      onWire();
    }
  }

  // ---- ending ------------------------------------------------------------------------------

  /** End of run: StopCCN (result 1), closed when acknowledged (or when the channel gives up). */
  stop(): void {
    if (this.state === 'closed' || this.state === 'stopping') return;
    if (this.state === 'connecting' && this.channel.stats.acked <= this.sccrqIndex) {
      // Nothing came back yet: there is no peer tunnel to stop.
      return this.close(undefined);
    }
    this.state = 'stopping';
    // The run is over: the subscribers' data stops now, not when the StopCCN is acknowledged.
    for (const c of this.calls) c?.stopData();
    this.whenAcked(this.sendMessage(MessageTypes.StopCCN, buildStopCcn(this.data, { resultCode: StopCcnResult.GeneralRequest, message: 'load test over' }), 0), 'stopccn');
  }

  /** Close immediately without telling the peer (the run is being abandoned). */
  abandon(): void {
    this.close(undefined);
  }

  /** We clear the tunnel because of an error: StopCCN with the reason, then closed. */
  private abort(result: number, error: number | undefined, message: string | undefined, cause: TunnelCause): void {
    this.sendMessage(MessageTypes.StopCCN, buildStopCcn(this.data, { resultCode: result, ...(error !== undefined ? { errorCode: error } : {}), ...(message ? { message } : {}) }), 0);
    if (this.receiving) this.closeAfterReceive = { cause };
    else this.close(cause);
  }

  private channelDead(reason: string): void {
    const n = this.options.maxRetransmits;
    const cause: TunnelCause =
      this.state === 'connecting'
        ? { kind: 'timeout', message: `no answer to SCCRQ after ${n} retransmissions (is an LNS listening at ${this.host.options.target.address}:${this.host.options.target.port}?)` }
        : { kind: 'dead', message: reason };
    this.close(this.state === 'stopping' ? undefined : cause);
  }

  private close(cause: TunnelCause | undefined): void {
    if (this.state === 'closed') return;
    const wasUp = this.state === 'established' || this.state === 'stopping';
    if (this.state === 'connecting') this.host.counters.tunnelsConnecting--;
    this.state = 'closed';
    if (this.setupTimer !== null) this.host.clock.clearTimeout(this.setupTimer);
    this.channel.close();
    const callCause = cause && { kind: `tunnel-${cause.kind}`, ...(cause.resultCode !== undefined ? { resultCode: cause.resultCode } : {}), ...(cause.errorCode !== undefined ? { errorCode: cause.errorCode } : {}), ...(cause.message ? { message: cause.message } : {}) };
    for (const c of this.calls) if (c) c.tunnelDown(callCause);
    this.calls.length = 0;
    this.host.tunnelClosed(this, cause, wasUp);
  }
}
