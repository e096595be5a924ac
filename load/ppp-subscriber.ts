/**
 * The subscriber behind one emulated call (PPP mode): the client side of our own PPP engine, its
 * frames carried in L2TP data messages on the tunnel's socket. It answers the LNS's LCP Echo-Requests
 * (the engine's fast path) and times each phase from the engine's own signals:
 *   lcp    PPP start → LCP Opened                        auth  LCP Opened → authentication passed
 *   ipcp   Network phase → IPCP Opened                   ipv6cp  Network phase → IPv6CP Opened
 * The session is up only when IPCP has given us an address (and IPv6CP is Opened if asked for).
 *
 * PPP talks to the LNS once the ICCN is on the wire (the same socket keeps the order), not when it
 * is queued: the control channel may hold the ICCN back (window, slow start) while a data message
 * goes at once, and an LNS drops a frame for a session it does not have yet — a lost
 * Configure-Request costs the 3 s Restart timer (measured: lcp p99 2,985 ms with 15 calls). Nor when
 * it is acknowledged: that waits for the LNS's delayed ack. With proxy LCP the subscriber starts with
 * the LAC's half at once and only its frames for the LNS wait.
 *
 * A failure is named once, by whichever comes first: our engine going down (its cause, e.g.
 * auth-failed with the LNS's Nak message), the LNS's CDN while we negotiate (its result codes), or
 * what onUp lacked (no-address, ipcp-failed, ipv6cp-failed). The phase is the one the subscriber was in.
 *
 * Data (--ping-rate): once up, a `Pinger` (ping.ts) sends ICMP echo requests from the address IPCP gave
 * us, and IPv4 frames from the LNS go straight to it, beside the engine.
 */
import type { Refusal } from '../src/actors/tunnel-machine.js';
import type { AvpInstance } from '../src/protocol/index.js';
import { createAuthClient } from '../src/ppp/auth/index.js';
import { PppEngine } from '../src/ppp/engine.js';
import { PppCode } from '../src/ppp/frame.js';
import { cdnForPppDown } from '../src/ppp/l2tp-pseudowire.js';
import type { PppDownReason, PppLayerName, PppLayerSignal, PppPhase, PppUpInfo } from '../src/ppp/types.js';
import { ipv4Offset } from './icmp.js';
import { expandTemplate, ipv4ToInt } from './template.js';
import { Pinger } from './ping.js';
import { ProxyLac, proxyAvps } from './proxy-lac.js';
import { recordLatency, type Cause, type PppStage } from './stats.js';
import type { LacHost } from './lac-tunnel.js';

export type CauseIn = Omit<Cause, 'count' | 'phase'>;

/** What a subscriber needs from its call. */
export interface SubscriberCall {
  readonly host: LacHost;
  /** One PPP frame to the LNS in an L2TP data message. */
  sendFrame(frame: Buffer): void;
  /** Send the ICCN (with the proxy LCP AVPs, if any): the call is connected. */
  connect(extra: AvpInstance[]): void;
  up(info: PppUpInfo): void;
  /** Set-up failed in `phase`; `cdn` is what to clear the call with, undefined when the LNS already did. */
  failed(phase: PppStage, cause: CauseIn, cdn: Refusal | undefined): void;
  /** PPP went down after the session was up (our CDN follows). */
  down(cause: CauseIn, cdn: Refusal): void;
}

/** An LCP packet with this Code from the LNS (ff 03 c0 21 code; the LNS sends Address/Control). */
const isLcp = (f: Buffer, code: number): boolean => f.length > 4 && f[0] === 0xff && f[2] === 0xc0 && f[3] === 0x21 && f[4] === code;

export class PppSubscriber {
  private readonly engine: PppEngine;
  private proxy: ProxyLac | undefined;
  private stage: PppStage = 'lcp';
  private t0 = performance.now();
  private connected = false;
  /** Frames for the LNS before it has the session (proxy LCP: a PAP request to forward). */
  private held: Buffer[] = [];
  private tLcp = 0;
  private tNetwork = 0;
  private ipcpUp = false;
  private ipv6cpUp = false;
  private isUp = false;
  /** Failed or stopped: the engine's further signals count for nothing. */
  private over = false;
  /** The LNS cleared the call while our engine was already closing: its reason names the failure. */
  private clearedByLns = false;
  /** LCP was handed over in the ICCN and the LNS has not (yet) renegotiated it. */
  private proxied = false;
  /** --ping-rate: the session's echo requests, from up on; IPv4 frames from the LNS go to it. */
  private pinger: Pinger | undefined;

  constructor(
    private readonly call: SubscriberCall,
    private readonly index: number,
  ) {
    const h = call.host;
    const o = h.options.ppp!;
    this.engine = new PppEngine({
      role: 'client',
      clock: h.clock,
      auth: [o.auth],
      authClient: createAuthClient,
      credentials: { user: expandTemplate(o.user, index), password: expandTemplate(o.password, index) },
      // The LNS drives keepalive; we answer (RFC 1661 §5.8) and send none ourselves.
      echoIntervalMs: 0,
      ipv6cp: o.ipv6cp,
      send: (frame) => this.send(frame),
      onLayer: (p, s) => this.onLayer(p, s),
      onPhase: (p) => this.onPhase(p),
      onUp: (info) => this.onUp(info),
      onDown: (r) => this.onDown(r),
    });
  }

  /** After ICRP. With proxy LCP the ICCN waits for the LAC's own LCP with the subscriber. */
  start(): void {
    const o = this.call.host.options.ppp!;
    if (o.proxyLcp) {
      this.proxy = new ProxyLac({
        clock: this.call.host.clock,
        auth: o.auth,
        proxyAuth: o.proxyAuth,
        toSubscriber: (frame) => this.engine.receive(frame),
        handOver: (p, forward) => {
          this.proxy = undefined;
          this.proxied = true;
          this.call.connect(proxyAvps(p));
          for (const f of forward) this.send(f);
        },
      });
      this.proxy.start();
      this.engine.start();
    } else {
      this.call.connect([]);
    }
  }

  /** The ICCN has left (or the LNS already talks to us): PPP may talk to the LNS. */
  lnsReady(): void {
    if (this.connected || this.proxy || this.over) return;
    this.connected = true;
    if (!this.call.host.options.ppp!.proxyLcp) {
      this.t0 = performance.now();
      this.engine.start();
    }
    const held = this.held;
    this.held = [];
    for (const f of held) this.call.sendFrame(f);
  }

  /** A PPP frame from the LNS. */
  receive(frame: Buffer): void {
    if (this.pinger) {
      // The data fast path: IPv4 to the pinger, beside the engine (whose IPCP is Opened anyway).
      const ip = ipv4Offset(frame);
      if (ip >= 0) return this.pinger.receive(frame, ip);
    }
    if (this.proxy) return; // no ICCN yet: nothing of the LNS's can be for this subscriber
    this.lnsReady();
    const c = this.call.host.counters;
    if (isLcp(frame, PppCode.EchoRequest)) c.lcpEchoRequests++;
    else if (this.proxied && isLcp(frame, PppCode.ConfigureRequest)) {
      // RFC 2661 §4.4.5 lets the LNS refuse the proxied LCP and negotiate its own.
      this.proxied = false;
      c.proxyLcpRefused++;
    }
    this.engine.receive(frame);
  }

  private send(frame: Buffer): void {
    if (this.proxy) this.proxy.fromSubscriber(frame);
    else if (this.connected) this.call.sendFrame(frame);
    else this.held.push(frame);
  }

  get phase(): PppStage {
    return this.stage;
  }

  /** The LNS sent CDN while we negotiate: the failure is ours to name if our engine was already closing. */
  clearedByPeer(cause: CauseIn): void {
    if (this.over) return;
    if (this.engine.phase === 'terminate') {
      this.clearedByLns = true;
      this.engine.lowerDown('CDN received'); // onDown names our own reason
      return;
    }
    this.over = true;
    this.call.failed(this.stage, cause, undefined);
    this.stop();
  }

  /** No more data (the run is stopping); PPP itself stays until the call goes. */
  stopData(): void {
    this.pinger?.stop();
  }

  /** The call is gone or being cleared: PPP ends with it, without a word (a LAC drops the carrier). */
  stop(): void {
    this.over = true;
    this.pinger?.stop();
    this.proxy?.stop();
    this.proxy = undefined;
    this.engine.lowerDown('call cleared');
  }

  private onLayer(p: PppLayerName, s: PppLayerSignal): void {
    if (s !== 'up' || this.over) return;
    const hist = this.call.host.hist;
    const now = performance.now();
    if (p === 'LCP') {
      if (this.tLcp === 0) {
        this.tLcp = now;
        recordLatency(hist.lcp, now - this.t0);
      }
      this.proxy?.subscriberLcpUp();
    } else if (p === 'IPCP' && !this.ipcpUp) {
      this.ipcpUp = true;
      recordLatency(hist.ipcp, now - this.tNetwork);
      if (this.call.host.options.ppp!.ipv6cp && !this.ipv6cpUp) this.stage = 'ipv6cp';
    } else if (p === 'IPv6CP' && !this.ipv6cpUp) {
      this.ipv6cpUp = true;
      recordLatency(hist.ipv6cp, now - this.tNetwork);
    }
  }

  private onPhase(p: PppPhase): void {
    if (this.over) return;
    if (p === 'authenticate') this.stage = 'auth';
    else if (p === 'network') {
      this.tNetwork = performance.now();
      if (this.stage === 'auth') recordLatency(this.call.host.hist.auth, this.tNetwork - this.tLcp);
      this.stage = 'ipcp';
    }
  }

  private onUp(info: PppUpInfo): void {
    if (this.over) return;
    const lack = this.lacking(info);
    if (!lack) {
      this.isUp = true;
      this.call.up(info);
      this.startPing(info);
      return;
    }
    // Inside the engine's own call stack: end it once that has unwound.
    this.over = true;
    queueMicrotask(() => {
      this.call.failed(lack.phase, lack.cause, cdnForPppDown({ cause: 'no-network', message: lack.cause.message! }));
      this.stop();
    });
  }

  /** --ping-rate: to --ping-target, or else to the LNS's own address on the link (its IPCP IP-Address). */
  private startPing(info: PppUpInfo): void {
    const o = this.call.host.options.ping;
    if (!o || this.over) return;
    const dst = o.target ?? info.gateway;
    if (dst === undefined || dst === '0.0.0.0') {
      this.call.host.counters.pingNoTarget++;
      return;
    }
    const send = (frame: Buffer): void => this.call.sendFrame(frame);
    this.pinger = new Pinger(this.call.host, o, send, ipv4ToInt(info.address!), ipv4ToInt(dst), this.index & 0xffff);
    this.pinger.start();
  }

  private lacking(info: PppUpInfo): { phase: PppStage; cause: CauseIn } | undefined {
    if (!this.ipcpUp) return { phase: 'ipcp', cause: { kind: 'ipcp-failed', message: 'IPCP did not open (the session came up on IPv6CP alone)' } };
    if (info.address === undefined || info.address === '0.0.0.0') return { phase: 'ipcp', cause: { kind: 'no-address', message: 'IPCP opened without an IPv4 address for us' } };
    if (this.call.host.options.ppp!.ipv6cp && !this.ipv6cpUp) return { phase: 'ipv6cp', cause: { kind: 'ipv6cp-failed', message: 'IPv6CP did not open' } };
    return undefined;
  }

  private onDown(r: PppDownReason): void {
    if (this.over && !this.clearedByLns) return;
    this.over = true;
    const cause: CauseIn = { kind: r.cause, message: r.message };
    if (this.isUp) this.call.down(cause, cdnForPppDown(r));
    else this.call.failed(this.stage, cause, this.clearedByLns ? undefined : cdnForPppDown(r));
  }
}
