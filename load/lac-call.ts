/**
 * One emulated incoming call (RFC 2661 §5.2.1, LAC side): ICRQ → ICRP → ICCN, established when the
 * LNS acknowledges the ICCN (it has then seen the whole exchange), cleared with CDN. A plain object
 * with a state field, not an actor: a load generator holds a million of these.
 *
 * PPP mode: after ICRP the call carries a subscriber (ppp-subscriber.ts) and is established only
 * when the subscriber's PPP is up (`ppp` until then); the ICCN's acknowledgement still times `call`.
 *
 * Counters move on every state change so that, at any moment,
 *   attempted = up + failed + inProgress   and   up = active + clearedByPeer + tornDown + tearingDown.
 */
import { CdnResult, getAvp, MessageTypes, type AvpInstance, type ControlMessage } from '../src/protocol/index.js';
import { DEFAULT_SESSION_OPTIONS } from '../src/actors/options.js';
import { maybeHide } from '../src/actors/handshake.js';
import { buildCdn, buildSessionMessage, judgeSessionMessage, type SessionData } from '../src/actors/session-messages.js';
import type { Refusal } from '../src/actors/tunnel-machine.js';
import type { PppUpInfo } from '../src/ppp/types.js';
import { PppSubscriber, type CauseIn, type SubscriberCall } from './ppp-subscriber.js';
import { recordLatency, type Cause } from './stats.js';
import type { LacTunnel } from './lac-tunnel.js';

/** `ppp`: the L2TP part is done (or under way with proxy LCP) and the subscriber negotiates. */
export type CallState = 'waitReply' | 'waitAck' | 'ppp' | 'up' | 'clearing' | 'done';

/** RFC 2661 §4.3: the proxy authentication AVPs carry credentials; hidden with --hide-avps. */
const HIDE_PROXY_AUTH = new Set([30, 31, 32, 33]);

export class LacCall implements SubscriberCall {
  state: CallState = 'waitReply';
  /** PPP mode: the subscriber, from ICRP on. */
  private ppp: PppSubscriber | undefined;
  private iccnAcked = false;
  /** The L2TP header of our data messages (the LNS's Session ID is known from ICRP on). */
  private dataHeader: Buffer | undefined;
  readonly data: SessionData;
  /** performance.now() of the ICRQ, and of our CDN when we clear. */
  private readonly placedAt = performance.now();
  private clearedAt = 0;
  /** performance.now() by which set-up must be done; the engine sweeps these in order (no timer per call). */
  deadline = 0;

  constructor(
    readonly tunnel: LacTunnel,
    localSessionId: number,
    callSerialNumber: number,
  ) {
    this.data = {
      localTunnelId: tunnel.data.localTunnelId,
      localSessionId,
      peerSessionId: 0,
      callType: 'lacIncoming',
      version: tunnel.data.version,
      callSerialNumber,
      pseudowire: 'ppp',
      sequencing: false,
      l2SpecificSublayer: 'none',
      createdAt: Date.now(),
    };
    // RFC 3931 §5.4.4: v3 calls name the far end's circuit.
    if (tunnel.data.version === 3) this.data.remoteEndId = `l2tp-load-${localSessionId}`;
  }

  get id(): number {
    return this.data.localSessionId;
  }

  get host() {
    return this.tunnel.host;
  }

  /** Between ICRQ and established: the engine's set-up deadline applies. */
  get settingUp(): boolean {
    return this.state === 'waitReply' || this.state === 'waitAck' || this.state === 'ppp';
  }

  /** Send the ICRQ; the engine then watches `deadline`. */
  place(): void {
    const c = this.host.counters;
    c.callsAttempted++;
    c.callsInProgress++;
    this.host.noteCallStart();
    this.deadline = this.placedAt + this.host.options.setupTimeoutMs;
    this.tunnel.sendMessage(MessageTypes.ICRQ, buildSessionMessage('ICRQ', this.data, this.tunnel.options), 0);
  }

  /** A session message for this call, in order, from the control channel. */
  receive(m: ControlMessage): void {
    switch (m.messageType) {
      case MessageTypes.ICRP: {
        if (this.state !== 'waitReply') return;
        const v = judgeSessionMessage('ICRP', this.data, DEFAULT_SESSION_OPTIONS, m);
        if (!v.ok) {
          this.sendCdn(v.resultCode, v.errorCode, v.message);
          return this.fail({ kind: 'bad-icrp', resultCode: v.resultCode, ...(v.errorCode !== undefined ? { errorCode: v.errorCode } : {}), message: v.message ?? 'ICRP refused' });
        }
        if (!this.host.options.ppp) {
          this.state = 'waitAck';
          return this.connect([]);
        }
        this.state = 'ppp';
        // {n}: the subscriber's global index; calls are numbered from 1 in each tunnel.
        this.ppp = new PppSubscriber(this, this.tunnel.index * this.host.options.sessionsPerTunnel + this.id - 1);
        this.ppp.start();
        return;
      }
      case MessageTypes.CDN: {
        const rc = getAvp(m, 'ResultCode');
        const cause: CauseIn = {
          kind: 'cdn',
          resultCode: rc?.result ?? 0,
          ...(rc?.error !== undefined ? { errorCode: rc.error } : {}),
          ...(rc?.message ? { message: rc.message } : {}),
        };
        if (this.state === 'up') this.clearedByPeer(cause);
        else if (this.state === 'clearing') this.tornDown();
        else if (this.state === 'ppp') this.ppp!.clearedByPeer(cause);
        else if (this.state !== 'done') this.fail(cause);
        return;
      }
      default:
        // ICCN/ICRQ in the wrong direction, WEN, SLI: nothing a LAC must act on here.
        return;
    }
  }

  /** ICCN (with proxy LCP AVPs, if any): connected. Its acknowledgement ends the `call` phase. */
  connect(extra: AvpInstance[]): void {
    const avps = buildSessionMessage('ICCN', this.data, this.tunnel.options);
    if (extra.length > 0) avps.push(...maybeHide(this.tunnel.options, extra, HIDE_PROXY_AUTH));
    const onWire = this.ppp ? () => this.ppp?.lnsReady() : undefined;
    this.tunnel.whenAcked(this.tunnel.sendMessage(MessageTypes.ICCN, avps, this.data.peerSessionId, onWire), this);
  }

  /** The LNS acknowledged our ICCN (or, when clearing, our CDN). */
  acked(): void {
    if (this.state === 'done') return;
    if (!this.iccnAcked) {
      this.iccnAcked = true;
      recordLatency(this.host.hist.call, performance.now() - this.placedAt);
      if (this.state === 'waitAck') this.established();
    } else if (this.state === 'clearing') {
      this.tornDown();
    }
  }

  private established(): void {
    this.state = 'up';
    const c = this.host.counters;
    c.callsInProgress--;
    c.callsUp++;
    c.callsActive++;
    this.data.establishedAt = Date.now();
    this.host.callUp(this);
  }

  // ---- the subscriber (PPP mode) ------------------------------------------------------------

  sendFrame(frame: Buffer): void {
    if (this.state === 'ppp' || this.state === 'up') this.tunnel.sendData((this.dataHeader ??= this.tunnel.dataHeader(this.data.peerSessionId)), frame);
  }

  up(info: PppUpInfo): void {
    if (this.state !== 'ppp') return;
    this.host.addressAssigned(info.address!);
    this.established();
  }

  failed(phase: Cause['phase'], cause: CauseIn, cdn: Refusal | undefined): void {
    if (this.state !== 'ppp') return;
    if (cdn) this.sendCdn(cdn.resultCode, cdn.errorCode, cdn.message);
    this.fail(cause, phase);
  }

  down(cause: CauseIn, cdn: Refusal): void {
    if (this.state !== 'up') return;
    this.sendCdn(cdn.resultCode, cdn.errorCode, cdn.message);
    this.clearedByPeer(cause);
  }

  /** We clear an established call: CDN result 3 (administrative), RFC 2661 §6.12. */
  clear(): void {
    if (this.state !== 'up') return;
    const c = this.host.counters;
    c.callsActive--;
    c.callsTearingDown++;
    this.state = 'clearing';
    this.ppp?.stop();
    this.clearedAt = performance.now();
    const index = this.sendCdn(CdnResult.Administrative, undefined, 'load test hold time over');
    this.tunnel.whenAcked(index, this);
  }

  private tornDown(): void {
    const c = this.host.counters;
    c.callsTearingDown--;
    c.callsTornDown++;
    recordLatency(this.host.hist.teardown, performance.now() - this.clearedAt);
    this.finish();
  }

  private clearedByPeer(cause: CauseIn): void {
    const c = this.host.counters;
    c.callsActive--;
    c.callsClearedByPeer++;
    this.host.cleared.add({ phase: 'call', ...cause });
    this.finish();
  }

  private fail(cause: CauseIn, phase: Cause['phase'] = 'call'): void {
    const c = this.host.counters;
    c.callsInProgress--;
    c.callsFailed++;
    this.host.failures.add({ phase, ...cause });
    this.finish();
  }

  /** Called by the engine once `deadline` has passed. */
  setupTimedOut(): void {
    if (!this.settingUp) return;
    this.sendCdn(CdnResult.NotEstablishedInTime, undefined, 'not established in time');
    const ms = this.host.options.setupTimeoutMs;
    if (this.state === 'ppp') return this.fail({ kind: 'timeout', message: `PPP not up within ${ms} ms` }, this.ppp!.phase);
    const what = this.state === 'waitReply' ? 'no ICRP' : 'ICCN not acknowledged';
    this.fail({ kind: 'timeout', message: `${what} within ${ms} ms` });
  }

  /**
   * The tunnel went away. `cause` is undefined when we are stopping the run: calls in progress then
   * stay counted as in progress (interrupted) and established ones as active (held to the end).
   */
  tunnelDown(cause: CauseIn | undefined): void {
    this.ppp?.stop();
    if (cause !== undefined) {
      if (this.settingUp) this.fail(cause, this.state === 'ppp' ? this.ppp!.phase : 'call');
      else if (this.state === 'up') this.clearedByPeer(cause);
      else if (this.state === 'clearing') this.tornDown();
    }
    this.state = 'done';
  }

  private sendCdn(result: number, error: number | undefined, message: string | undefined): number {
    return this.tunnel.sendMessage(
      MessageTypes.CDN,
      buildCdn(this.data, { resultCode: result, ...(error !== undefined ? { errorCode: error } : {}), ...(message ? { message } : {}) }),
      this.data.peerSessionId,
    );
  }

  /** The run is stopping: the subscriber sends no more data (its PPP stays until the tunnel goes). */
  stopData(): void {
    this.ppp?.stopData();
  }

  /** A data message's payload for this call: a frame for its subscriber. */
  receiveFrame(frame: Buffer): void {
    if (this.state === 'ppp' || this.state === 'up') this.ppp?.receive(frame);
  }

  private finish(): void {
    this.state = 'done';
    this.ppp?.stop();
    this.tunnel.callDone(this);
  }
}
