/**
 * One PPP link (one L2TP session), either end: the LNS (`server`) or a subscriber (`client`, load
 * generator). Phases (RFC 1661 §3.2): Dead → Establish (LCP) → Authenticate → Network (IPCP,
 * IPv6CP) → `opened` (onUp) … Terminate → Dead (onDown, exactly once).
 *
 * The automata are the shared RFC 1661 machine (fsm.ts) run by ControlProtocol. This class routes
 * frames, sequences the phases (auth-phase.ts, network-phase.ts) and keeps LCP's per-packet work —
 * Echo, Discard, Protocol-Reject — on the fast path beside the machines (DESIGN.md), so an Opened,
 * Opened session answers keepalives without touching its automata.
 */
import type { AuthProtocolName, AuthResult } from './auth/types.js';
import { PPP_CHAP, PPP_PAP } from './auth/types.js';
import { AuthPhase } from './auth-phase.js';
import { ControlProtocol, type ControlProtocolOptions, type OptionPolicy, type ProtocolOwner } from './control-protocol.js';
import { decodeControl, decodeFrame, encodeControlFrame, PppCode, PppCodecError, PppProtocol, type ControlPacket } from './frame.js';
import type { FsmStateName } from './fsm.js';
import { Keepalive } from './keepalive.js';
import { LcpPolicy } from './lcp.js';
import { NetworkPhase } from './network-phase.js';
import { judgeProxyLcp, proxyAuthRequest } from './proxy.js';
import type { PppDownCause, PppDownReason, PppEngineConfig, PppEngineState, PppLayerName, PppLayerSignal, PppPhase, PppUpInfo, ProxyLcp, ProxyOutcome } from './types.js';

const DOWN_STATES: ReadonlySet<FsmStateName> = new Set(['Initial', 'Starting', 'Closed', 'Stopped']);
const DEFAULT_SERVER_AUTH: readonly AuthProtocolName[] = ['chap', 'pap'];
const DEFAULT_CLIENT_AUTH: readonly AuthProtocolName[] = ['mschapv2', 'chap', 'pap'];

export interface PppCounters {
  framesIn: number;
  framesOut: number;
  /** Frames or packets that failed to decode (PppCodecError). */
  malformed: number;
  /** Well-formed packets dropped: wrong phase, stale Identifier, illegal event... */
  discarded: number;
  protocolRejects: number;
  echoRequestsSent: number;
}

export class PppEngine implements ProtocolOwner {
  readonly role: PppEngineConfig['role'];
  readonly counters: PppCounters = { framesIn: 0, framesOut: 0, malformed: 0, discarded: 0, protocolRejects: 0, echoRequestsSent: 0 };
  readonly lcp: ControlProtocol;
  private readonly lcpPolicy: LcpPolicy;
  private readonly net: NetworkPhase;
  private readonly auth: AuthPhase;
  private readonly keepalive: Keepalive | undefined;
  private readonly authList: readonly AuthProtocolName[];
  private currentPhase: PppPhase = 'dead';
  private user: string | undefined;
  private attributes: Record<string, unknown> | undefined;
  private reason: PppDownReason | undefined;
  private upFired = false;
  private finished = false;
  private readonly inbox: Buffer[] = [];
  private busy = false;

  constructor(
    private readonly c: PppEngineConfig,
    restored?: PppEngineState,
  ) {
    this.role = c.role;
    const random = c.random ?? Math.random;
    this.authList = c.auth ?? (c.role === 'server' ? DEFAULT_SERVER_AUTH : DEFAULT_CLIENT_AUTH);
    this.lcpPolicy = new LcpPolicy({ role: c.role, mru: c.mru ?? 1500, auth: this.authList, random, maxLoopback: this.maxLoopback });
    // Only an Opened session is resumed; anything else is renegotiated with start().
    const resume = restored?.phase === 'opened' ? restored : undefined;
    this.lcp = this.makeProtocol('LCP', PppProtocol.LCP, this.lcpPolicy, resume?.lcp.fsm);
    this.net = new NetworkPhase(c, random, (n, p, policy, snap) => this.makeProtocol(n, p, policy, snap));
    this.auth = new AuthPhase({ role: c.role, config: c, emit: (f) => this.emit(f), done: (r, cause) => this.authDone(r, cause) });
    const intervalMs = c.echoIntervalMs ?? 30_000;
    // No keepalive (a subscriber answers the LNS's echoes and sends none): nothing to keep per link.
    if (intervalMs > 0) {
      this.keepalive = new Keepalive({
        clock: c.clock,
        intervalMs,
        failures: c.echoFailures ?? 3,
        random,
        sendEcho: () => this.sendEchoRequest(),
        dead: () => this.close('echo-timeout', `no reply to ${c.echoFailures ?? 3} LCP Echo-Requests`),
        ...(c.echoOffload ? { offload: (o) => c.echoOffload!.start({ ...o, magic: this.lcpPolicy.negotiated.magic >>> 0 }) } : {}),
      });
    }
    if (resume) this.restore(resume);
  }

  /** Resume an Opened session from `getState()` (failover, or a hibernated session woken elsewhere). */
  static restore(config: PppEngineConfig, state: PppEngineState): PppEngine {
    return new PppEngine(config, state);
  }

  private get maxLoopback(): number {
    return this.c.maxLoopback ?? this.c.maxFailure ?? 5;
  }

  private makeProtocol(name: string, protocol: number, policy: OptionPolicy, snapshot?: unknown): ControlProtocol {
    const c = this.c;
    const o: ControlProtocolOptions = { name, protocol, policy, owner: this, clock: c.clock, restartMs: c.restartMs ?? 3000 };
    // Only the limits that are set (exactOptionalPropertyTypes): unset ones take the RFC defaults.
    if (c.maxConfigure !== undefined) o.maxConfigure = c.maxConfigure;
    if (c.maxTerminate !== undefined) o.maxTerminate = c.maxTerminate;
    if (c.maxFailure !== undefined) o.maxFailure = c.maxFailure;
    if (c.hibernate !== undefined) o.hibernate = c.hibernate;
    if (snapshot !== undefined) o.snapshot = snapshot;
    return new ControlProtocol(o);
  }

  get phase(): PppPhase {
    return this.currentPhase;
  }

  get isFinished(): boolean {
    return this.finished;
  }

  get ipcp(): ControlProtocol | undefined {
    return this.net.ipcp;
  }

  get ipv6cp(): ControlProtocol | undefined {
    return this.net.ipv6cp;
  }

  private setPhase(p: PppPhase): void {
    if (p === this.currentPhase) return;
    this.currentPhase = p;
    this.invoke('onPhase', this.c.onPhase, p, undefined);
  }

  /**
   * The user's callbacks run inside automaton actions: an exception there would abandon the transition
   * half done and reach the packet's caller. Log it instead; the link goes on. The callback and its
   * arguments are passed, not a closure around them: `send` runs for every frame.
   */
  private invoke<A, B>(name: string, fn: ((a: A, b: B) => void) | undefined, a: A, b: B): void {
    try {
      fn?.call(this.c, a, b);
    } catch (err) {
      this.c.log?.error({ err, callback: name }, 'PPP engine callback threw');
    }
  }

  /** The lower layer (the L2TP session) is up: negotiate LCP (RFC 1661 §3.3 Establish). */
  start(): void {
    if (this.finished || this.currentPhase !== 'dead') return;
    this.setPhase('establish');
    this.lcp.dispatch({ type: 'Open' });
    this.lcp.dispatch({ type: 'Up' });
  }

  /** RFC 2661 §4.4.5: continue from the LAC's LCP when acceptable (proxy.ts says when), else renegotiate. */
  startWithProxy(p: ProxyLcp): ProxyOutcome {
    if (this.finished || this.currentPhase !== 'dead') return { accepted: false, reason: 'already started' };
    const v = this.role === 'server' && this.c.proxy?.lcp ? judgeProxyLcp(p, this.lcpPolicy, this.authList) : { ok: false as const, reason: 'proxy LCP not allowed' };
    if (!v.ok) {
      this.c.log?.debug({ reason: v.reason }, 'proxy LCP refused, renegotiating');
      this.start();
      return { accepted: false, reason: v.reason };
    }
    this.lcpPolicy.adopt(v.ours, v.peers);
    this.lcp.force('Opened');
    this.setPhase('establish');
    const req = this.c.proxy?.auth ? proxyAuthRequest(p.proxyAuth, v.auth) : undefined;
    if (!req || !v.auth) {
      this.linkUp();
      return { accepted: true, proxyAuth: false };
    }
    this.keepalive?.start();
    this.setPhase('authenticate');
    this.auth.verifyProxy(req, v.auth, p.proxyAuth?.id ?? 0);
    return { accepted: true, proxyAuth: true };
  }

  /** A PPP frame from the peer. Never throws on bad input: malformed frames are counted and dropped. */
  receive(frame: Buffer): void {
    if (this.finished) return;
    if (this.busy) {
      this.inbox.push(frame); // one of our callbacks delivered a frame synchronously: it waits its turn
      return;
    }
    this.busy = true;
    try {
      this.handle(frame);
      for (let f = this.inbox.shift(); f !== undefined && !this.finished; f = this.inbox.shift()) this.handle(f);
    } finally {
      this.busy = false;
      this.inbox.length = 0;
    }
  }

  private handle(buf: Buffer): void {
    this.counters.framesIn++;
    try {
      const { protocol, payload } = decodeFrame(buf);
      switch (protocol) {
        case PppProtocol.LCP: {
          const p = decodeControl(payload);
          if (p.code === PppCode.TerminateRequest && this.lcp.state === 'Opened') this.note('peer-terminate', 'the peer sent Terminate-Request');
          return this.lcp.receive(p);
        }
        case PPP_PAP:
        case PPP_CHAP:
          if (!this.auth.receive(payload)) this.drop(`authentication packet 0x${protocol.toString(16)} outside authentication`);
          return;
        case PppProtocol.IPCP:
        case PppProtocol.IPV6CP: {
          const ncp = this.net.ncpFor(protocol);
          if (!this.net.enabled(protocol) || (this.netPhase() && !ncp)) return this.rejectProtocol(protocol, payload);
          // RFC 1661 §3.5: NCP packets before the Network phase are silently discarded.
          if (!ncp || !this.netPhase()) return this.drop('NCP packet before the Network phase');
          return ncp.receive(decodeControl(payload));
        }
        case PppProtocol.IPv4:
        case PppProtocol.IPv6:
          if (!this.net.enabled(protocol)) return this.rejectProtocol(protocol, payload);
          if (this.net.ncpFor(protocol)?.layer !== 'up') return this.drop('network packet while its NCP is not Opened');
          this.invoke('onData', this.c.onData, protocol, payload);
          return;
        default:
          return this.rejectProtocol(protocol, payload);
      }
    } catch (e) {
      if (!(e instanceof PppCodecError)) throw e;
      this.counters.malformed++;
      this.c.log?.debug({ err: e.message }, 'malformed PPP frame');
    }
  }

  private netPhase(): boolean {
    return this.currentPhase === 'network' || this.currentPhase === 'opened';
  }

  /** RFC 1661 §5.7: only in LCP Opened, and not during Establish/Authenticate (§3.5 discards those). */
  private rejectProtocol(protocol: number, payload: Buffer): void {
    if (this.lcp.state !== 'Opened' || !this.netPhase()) return this.drop(`protocol 0x${protocol.toString(16)} before the Network phase`);
    this.counters.protocolRejects++;
    const info = payload.subarray(0, Math.max(0, this.lcpPolicy.negotiated.peerMru - 6));
    const data = Buffer.concat([Buffer.from([protocol >> 8, protocol & 0xff]), info]);
    this.emit(encodeControlFrame(PppProtocol.LCP, { code: PppCode.ProtocolReject, identifier: this.lcp.nextIdentifier(), data }));
  }

  /** Administrative close: Terminate-Request, then Dead (onDown) when acked or timed out. */
  close(cause: PppDownCause = 'admin', message = 'administrative close'): void {
    if (this.finished) return;
    this.note(cause, message);
    this.setPhase('terminate');
    this.auth.stop();
    this.lcp.terminateReason = message;
    this.lcp.dispatch({ type: 'Close' });
    // Close from a state without a Terminate exchange (RFC 1661 §4.1: Starting → tlf; Closed/Stopped → Closed).
    if (DOWN_STATES.has(this.lcp.state)) this.finish();
  }

  /** The L2TP session is gone: no more frames either way (RFC 1661 Down event). */
  lowerDown(message = 'lower layer down'): void {
    if (this.finished) return;
    this.note('lower-down', message);
    this.lcp.dispatch({ type: 'Down' });
    this.finish();
  }

  // ---- ProtocolOwner ----

  send(frame: Buffer): void {
    this.emit(frame);
  }

  private emit(frame: Buffer): void {
    if (this.finished) return;
    this.counters.framesOut++;
    this.invoke('send', this.c.send, frame, undefined);
  }

  peerMru(): number {
    return this.lcpPolicy.negotiated.peerMru;
  }

  discard(_p: ControlProtocol, why: string): void {
    this.drop(why);
  }

  private drop(why: string): void {
    this.counters.discarded++;
    this.c.log?.trace({ why }, 'PPP packet discarded');
  }

  fatal(p: ControlProtocol, reason: string): void {
    if (p !== this.lcp) {
      p.terminateReason = reason;
      return p.dispatch({ type: 'Close' });
    }
    const cause: PppDownCause = this.lcpPolicy.loopbacks > this.maxLoopback ? 'loopback' : /authenticat/.test(reason) ? 'auth-refused' : 'negotiation-failed';
    this.close(cause, reason);
  }

  layer(p: ControlProtocol, signal: PppLayerSignal): void {
    this.invoke('onLayer', this.c.onLayer, p.name as PppLayerName, signal);
    if (p === this.lcp) {
      if (signal === 'up') this.linkUp();
      else if (signal === 'down') this.linkDown();
      else if (signal === 'finished') this.finish();
      return;
    }
    if (signal === 'finished' && this.netPhase() && this.net.allFinished) return this.close('no-network', 'no network protocol could be opened');
    if (signal === 'up' || signal === 'finished') this.maybeUp();
  }

  extraCode(p: ControlProtocol, packet: ControlPacket): boolean {
    if (p !== this.lcp || packet.code < PppCode.ProtocolReject || packet.code > PppCode.DiscardRequest) return false;
    if (this.lcp.state !== 'Opened') return true; // RFC 1661 §4.1 RXR rows: no action outside Opened
    const magic = this.lcpPolicy.negotiated.magic;
    const theirs = packet.data.length >= 4 ? packet.data.readUInt32BE(0) : 0;
    switch (packet.code) {
      case PppCode.ProtocolReject:
        this.protocolRejected(packet);
        break;
      case PppCode.EchoRequest:
      case PppCode.EchoReply:
        // RFC 1661 §6.4: our own Magic-Number coming back means the link is looped.
        if (magic !== 0 && theirs === magic) this.loopSeen();
        else if (packet.code === PppCode.EchoRequest) this.echoReply(p, packet);
        else this.keepalive?.replied();
        break;
      default: // Discard-Request: nothing to do
    }
    return true;
  }

  /** ser (RFC 1661 §5.8): same Identifier, our Magic-Number, the rest of the data echoed. */
  echoReply(_p: ControlProtocol, packet: ControlPacket): void {
    const data = Buffer.allocUnsafe(Math.max(4, packet.data.length)); // every octet is written below
    data.writeUInt32BE(this.lcpPolicy.negotiated.magic >>> 0, 0);
    if (packet.data.length > 4) packet.data.copy(data, 4, 4);
    this.emit(encodeControlFrame(PppProtocol.LCP, { code: PppCode.EchoReply, identifier: packet.identifier, data }));
  }

  private sendEchoRequest(): void {
    const data = Buffer.allocUnsafe(4);
    data.writeUInt32BE(this.lcpPolicy.negotiated.magic >>> 0, 0);
    this.counters.echoRequestsSent++;
    this.emit(encodeControlFrame(PppProtocol.LCP, { code: PppCode.EchoRequest, identifier: this.lcp.nextIdentifier(), data }));
  }

  private loopSeen(): void {
    if (++this.lcpPolicy.loopbacks > this.maxLoopback) this.close('loopback', 'loopback: LCP Echo carries our own Magic-Number');
  }

  private protocolRejected(packet: ControlPacket): void {
    if (packet.data.length < 2) return this.drop('short Protocol-Reject');
    const rejected = packet.data.readUInt16BE(0);
    if (rejected === PppProtocol.LCP) return this.lcp.dispatch({ type: 'RXJ-', packet });
    // An NCP whose own protocol is rejected cannot go on (RXJ-); for LCP it is RXJ+, a no-op in Opened.
    if (rejected === PppProtocol.IPCP || rejected === PppProtocol.IPV6CP) return this.net.ncpFor(rejected)?.dispatch({ type: 'RXJ-', packet });
    if ((rejected === PPP_PAP || rejected === PPP_CHAP) && this.currentPhase === 'authenticate') this.close('auth-refused', 'the peer Protocol-Rejected authentication');
  }

  // ---- phases ----

  private linkUp(): void {
    this.keepalive?.start();
    const agreed = this.lcpPolicy.negotiated.auth;
    if (this.role === 'server' && this.authList.length > 0 && !agreed) return this.close('auth-refused', 'LCP opened without an authentication protocol');
    if (!agreed) return this.enterNetwork();
    this.setPhase('authenticate');
    const cannot = this.auth.start(agreed);
    if (cannot) this.close('auth-failed', cannot);
  }

  private linkDown(): void {
    this.keepalive?.stop();
    this.auth.stop();
    this.net.lowerDown();
    if (this.currentPhase === 'terminate') return;
    // A subscriber already up is not re-authenticated in place: its session ends (accounting stays simple).
    if (this.upFired) this.close('renegotiation', 'LCP renegotiated after the session was up');
    else this.setPhase('establish');
  }

  private authDone(r: AuthResult, cause: 'auth-failed' | 'auth-timeout'): void {
    if (this.finished || this.currentPhase !== 'authenticate') return;
    if (!r.ok) return this.close(cause, r.message ?? 'authentication failed');
    this.user = r.user ?? (this.role === 'client' ? this.c.credentials?.user : undefined);
    if (r.attributes) this.attributes = r.attributes;
    this.enterNetwork();
  }

  private enterNetwork(): void {
    this.setPhase('network');
    const failed = this.net.open(this.attributes);
    if (failed) this.close(failed.cause, failed.message);
  }

  /** onUp once every enabled NCP has settled (Opened or given up) and one is Opened. */
  private maybeUp(): void {
    if (this.upFired || this.currentPhase !== 'network' || !this.net.up) return;
    this.upFired = true;
    this.setPhase('opened');
    const info = this.upInfo();
    this.invoke('onUp', this.c.onUp, info, undefined);
  }

  upInfo(): PppUpInfo {
    const l = this.lcpPolicy.negotiated;
    const info: PppUpInfo = { role: this.role, dns: [], mru: l.mru, peerMru: l.peerMru, magic: l.magic, peerMagic: l.peerMagic };
    this.net.fill(info);
    if (this.user !== undefined) info.user = this.user;
    if (this.attributes) info.attributes = this.attributes;
    if (l.auth) info.authProtocol = l.auth;
    if (l.peerAccm !== undefined) info.peerAccm = l.peerAccm;
    return info;
  }

  private note(cause: PppDownCause, message: string): void {
    this.reason ??= { cause, message };
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.keepalive?.stop();
    this.auth.stop();
    this.setPhase('dead');
    this.lcp.dispose();
    this.net.dispose();
    const reason = this.reason ?? { cause: 'negotiation-failed' as const, message: 'LCP finished' };
    this.invoke('onDown', this.c.onDown, reason, undefined);
  }

  // ---- state ----

  getState(): PppEngineState {
    const s: PppEngineState = {
      role: this.role,
      phase: this.currentPhase,
      lcp: { fsm: this.lcp.persisted(), state: this.lcp.state, negotiated: { ...this.lcpPolicy.negotiated } },
      ...this.net.state(),
    };
    if (this.user !== undefined) s.user = this.user;
    if (this.lcpPolicy.negotiated.auth) s.authProtocol = this.lcpPolicy.negotiated.auth;
    if (this.attributes) s.attributes = this.attributes;
    return s;
  }

  private restore(s: PppEngineState): void {
    Object.assign(this.lcpPolicy.negotiated, s.lcp.negotiated);
    this.lcpPolicy.adoptMagic(s.lcp.negotiated.magic);
    if (s.user !== undefined) this.user = s.user;
    if (s.attributes) this.attributes = s.attributes;
    this.net.restore(s);
    this.currentPhase = s.phase;
    this.upFired = true;
    this.keepalive?.start(true);
  }
}
