/**
 * The LAC's own half of LCP for proxy LCP (RFC 2661 §4.4.5, §9.5): before the ICCN, a LAC in front of
 * a real subscriber has already negotiated LCP with it (and may have taken its PAP request or its CHAP
 * response), and hands the LNS what crossed the wire: the Initial and Last Received LCP
 * Configure-Requests (the subscriber's), the Last Sent one (the LAC's) and the Proxy Authen AVPs.
 *
 * Here the LAC's half is a server-role PppEngine in process, joined to the subscriber's engine by
 * microtasks, whose verifier never answers: it negotiates LCP for real and, with proxy authentication,
 * challenges (CHAP) or receives the request (PAP), so the subscriber then waits for the verdict the
 * LNS sends with the LAC's Identifier. What the ICCN carries is read off the frames both ends sent.
 */
import { avp, type AvpInstance } from '../src/protocol/index.js';
import { createAuthServer, ChapCode, decodeChap, decodePap, PapCode, type AuthProtocolName } from '../src/ppp/auth/index.js';
import { PppEngine } from '../src/ppp/engine.js';
import { decodeControl, decodeFrame, PppCode, PppProtocol } from '../src/ppp/frame.js';
import { ProxyAuthenType, type ProxyLcp } from '../src/ppp/types.js';
import type { Clock } from '../src/transport/clock.js';

export interface ProxyLacOptions {
  clock: Clock;
  auth: AuthProtocolName;
  /** Wait for the subscriber's authentication and hand it over too (PAP or CHAP). */
  proxyAuth: boolean;
  /** A frame from the LAC's half for the subscriber. */
  toSubscriber(frame: Buffer): void;
  /**
   * LCP is Opened at both ends (and authentication taken, with proxyAuth): what the ICCN carries, and
   * the subscriber's frames the LNS must still see (a PAP request the LNS has to answer itself).
   */
  handOver(proxy: ProxyLcp, forward: Buffer[]): void;
}

const never = (): Promise<never> => new Promise<never>(() => undefined);

export class ProxyLac {
  private readonly lac: PppEngine;
  private initialReceived: Buffer | undefined;
  private lastReceived: Buffer | undefined;
  private lastSent: Buffer | undefined;
  private lacUp = false;
  private subscriberUp = false;
  private challenge: { id: number; value: Buffer } | undefined;
  private proxyAuth: ProxyLcp['proxyAuth'];
  private papRequest: Buffer | undefined;
  private over = false;

  constructor(private readonly o: ProxyLacOptions) {
    this.lac = new PppEngine({
      role: 'server',
      clock: o.clock,
      auth: [o.auth],
      authServer: createAuthServer,
      verifier: { verify: never },
      echoIntervalMs: 0,
      ipcp: false,
      send: (frame) => this.fromLac(frame),
      onLayer: (protocol, signal) => {
        if (protocol !== 'LCP' || signal !== 'up') return;
        this.lacUp = true;
        this.check();
      },
    });
  }

  start(): void {
    this.lac.start();
  }

  /** The subscriber's own LCP is Opened. */
  subscriberLcpUp(): void {
    this.subscriberUp = true;
    this.check();
  }

  /** A frame from the subscriber: to the LAC's half, noted on the way. */
  fromSubscriber(frame: Buffer): void {
    if (this.over) return;
    const f = decodeFrame(frame);
    if (f.protocol === PppProtocol.LCP) {
      const p = decodeControl(f.payload);
      if (p.code === PppCode.ConfigureRequest) {
        this.lastReceived = Buffer.from(p.data);
        this.initialReceived ??= this.lastReceived;
      }
    } else if (f.protocol === PppProtocol.PAP) {
      const pap = decodePap(f.payload);
      if (pap.code === PapCode.AuthenticateRequest) {
        this.papRequest = frame;
        this.proxyAuth = { type: ProxyAuthenType.Pap, name: pap.peerId.toString('utf8'), response: pap.password, id: pap.id };
      }
    } else if (f.protocol === PppProtocol.CHAP) {
      const chap = decodeChap(f.payload);
      if (chap.code === ChapCode.Response && this.challenge?.id === chap.id) {
        this.proxyAuth = { type: ProxyAuthenType.Chap, name: chap.name.toString('utf8'), challenge: this.challenge.value, response: chap.value, id: chap.id };
      }
    }
    queueMicrotask(() => this.lac.receive(frame));
    this.check();
  }

  private fromLac(frame: Buffer): void {
    if (this.over) return;
    const f = decodeFrame(frame);
    if (f.protocol === PppProtocol.LCP) {
      const p = decodeControl(f.payload);
      if (p.code === PppCode.ConfigureRequest) this.lastSent = Buffer.from(p.data);
    } else if (f.protocol === PppProtocol.CHAP) {
      const chap = decodeChap(f.payload);
      if (chap.code === ChapCode.Challenge) this.challenge = { id: chap.id, value: chap.value };
    }
    queueMicrotask(() => this.o.toSubscriber(frame));
  }

  private check(): void {
    if (this.over || !this.lacUp || !this.subscriberUp) return;
    if (this.o.proxyAuth && !this.proxyAuth) return;
    this.over = true;
    const proxy: ProxyLcp = { initialReceivedConfReq: this.initialReceived!, lastReceivedConfReq: this.lastReceived!, lastSentConfReq: this.lastSent! };
    if (this.o.proxyAuth) proxy.proxyAuth = this.proxyAuth!;
    // Without proxy authentication the LNS authenticates itself: PAP is the subscriber's to send, so
    // a request the LAC swallowed goes on; a CHAP subscriber answers the LNS's own Challenge.
    const forward = !this.o.proxyAuth && this.papRequest ? [this.papRequest] : [];
    // Out of the engines' call stacks: the LAC's half ends without a word to anyone.
    queueMicrotask(() => this.lac.lowerDown('handed over to the LNS'));
    this.o.handOver(proxy, forward);
  }

  /** The call ended before the hand-over. */
  stop(): void {
    this.over = true;
    this.lac.lowerDown('call ended');
  }
}

/** The ICCN's proxy LCP and authentication AVPs 26–33 (RFC 2661 §4.4.5). */
export function proxyAvps(p: ProxyLcp): AvpInstance[] {
  const out = [avp('InitialReceivedLcpConfreq', p.initialReceivedConfReq!), avp('LastSentLcpConfreq', p.lastSentConfReq!), avp('LastReceivedLcpConfreq', p.lastReceivedConfReq!)];
  const a = p.proxyAuth;
  if (a) {
    out.push(avp('ProxyAuthenType', a.type), avp('ProxyAuthenName', a.name ?? ''));
    if (a.challenge) out.push(avp('ProxyAuthenChallenge', a.challenge));
    out.push(avp('ProxyAuthenId', a.id ?? 0), avp('ProxyAuthenResponse', a.response ?? Buffer.alloc(0)));
  }
  return out;
}
