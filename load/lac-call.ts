/**
 * One emulated incoming call (RFC 2661 §5.2.1, LAC side): ICRQ → ICRP → ICCN, established when the
 * LNS acknowledges the ICCN (it has then seen the whole exchange), cleared with CDN. A plain object
 * with a state field, not an actor: a load generator holds a million of these.
 *
 * Counters move on every state change so that, at any moment,
 *   attempted = up + failed + inProgress   and   up = active + clearedByPeer + tornDown + tearingDown.
 */
import { CdnResult, getAvp, MessageTypes, type ControlMessage } from '../src/protocol/index.js';
import { DEFAULT_SESSION_OPTIONS } from '../src/actors/options.js';
import { buildCdn, buildSessionMessage, judgeSessionMessage, type SessionData } from '../src/actors/session-messages.js';
import { recordLatency, type Cause } from './stats.js';
import type { LacTunnel } from './lac-tunnel.js';

export type CallState = 'waitReply' | 'waitAck' | 'up' | 'clearing' | 'done';

type CauseIn = Omit<Cause, 'count' | 'phase'>;

export class LacCall {
  state: CallState = 'waitReply';
  readonly data: SessionData;
  /** performance.now() of the ICRQ, then of the CDN when we clear. */
  private t0 = performance.now();
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

  private get host() {
    return this.tunnel.host;
  }

  /** Send the ICRQ; the engine then watches `deadline`. */
  place(): void {
    const c = this.host.counters;
    c.callsAttempted++;
    c.callsInProgress++;
    this.host.noteCallStart();
    this.deadline = this.t0 + this.host.options.setupTimeoutMs;
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
        this.state = 'waitAck';
        const index = this.tunnel.sendMessage(MessageTypes.ICCN, buildSessionMessage('ICCN', this.data, this.tunnel.options), this.data.peerSessionId);
        this.tunnel.whenAcked(index, this);
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
        else if (this.state !== 'done') this.fail(cause);
        return;
      }
      default:
        // ICCN/ICRQ in the wrong direction, WEN, SLI: nothing a LAC must act on here.
        return;
    }
  }

  /** The LNS acknowledged our ICCN (or, when clearing, our CDN). */
  acked(): void {
    if (this.state === 'waitAck') this.established();
    else if (this.state === 'clearing') this.tornDown();
  }

  private established(): void {
    this.state = 'up';
    const c = this.host.counters;
    c.callsInProgress--;
    c.callsUp++;
    c.callsActive++;
    recordLatency(this.host.hist.call, performance.now() - this.t0);
    this.data.establishedAt = Date.now();
    this.host.callUp(this);
  }

  /** We clear an established call: CDN result 3 (administrative), RFC 2661 §6.12. */
  clear(): void {
    if (this.state !== 'up') return;
    const c = this.host.counters;
    c.callsActive--;
    c.callsTearingDown++;
    this.state = 'clearing';
    this.t0 = performance.now();
    const index = this.sendCdn(CdnResult.Administrative, undefined, 'load test hold time over');
    this.tunnel.whenAcked(index, this);
  }

  private tornDown(): void {
    const c = this.host.counters;
    c.callsTearingDown--;
    c.callsTornDown++;
    recordLatency(this.host.hist.teardown, performance.now() - this.t0);
    this.finish();
  }

  private clearedByPeer(cause: CauseIn): void {
    const c = this.host.counters;
    c.callsActive--;
    c.callsClearedByPeer++;
    this.host.cleared.add({ phase: 'call', ...cause });
    this.finish();
  }

  private fail(cause: CauseIn): void {
    const c = this.host.counters;
    c.callsInProgress--;
    c.callsFailed++;
    this.host.failures.add({ phase: 'call', ...cause });
    this.finish();
  }

  /** Called by the engine once `deadline` has passed. */
  setupTimedOut(): void {
    if (this.state !== 'waitReply' && this.state !== 'waitAck') return;
    this.sendCdn(CdnResult.NotEstablishedInTime, undefined, 'not established in time');
    const what = this.state === 'waitReply' ? 'no ICRP' : 'ICCN not acknowledged';
    this.fail({ kind: 'timeout', message: `${what} within ${this.host.options.setupTimeoutMs} ms` });
  }

  /**
   * The tunnel went away. `cause` is undefined when we are stopping the run: calls in progress then
   * stay counted as in progress (interrupted) and established ones as active (held to the end).
   */
  tunnelDown(cause: CauseIn | undefined): void {
    if (cause !== undefined) {
      if (this.state === 'waitReply' || this.state === 'waitAck') this.fail(cause);
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

  private finish(): void {
    this.state = 'done';
    this.tunnel.callDone(this);
  }
}
