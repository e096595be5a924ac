/**
 * The calls (sessions) of one tunnel: routing session messages to them, accepting or refusing new
 * calls, placing ours, and the data plane's view of them. Split from tunnel.ts, which keeps the
 * control connection itself.
 */
import {
  avp,
  CdnResult,
  GeneralError,
  getAvp,
  MESSAGE_BY_TYPE,
  MessageTypes,
  encodeData,
  type AvpInstance,
  type ControlMessage,
  type DataMessage,
} from '../protocol/index.js';
import { refusalOf, resultCodeAvp } from './refusal.js';
import { Session, type SessionRecord } from './session.js';
import type { PseudowireSession } from './pseudowire.js';
import type { EthernetOptions } from './options.js';
import { judgeSessionMessage, newCookie, type SessionData } from './session-messages.js';
import type { CallType } from './session-machine.js';
import type { Tunnel } from './tunnel.js';
import type { Refusal } from './tunnel-machine.js';

const kindName = (t: number) => MESSAGE_BY_TYPE[t]?.key ?? String(t);

export class TunnelCalls {
  readonly sessions = new Map<number, Session>();
  private nextCallSerial = 1;

  constructor(private readonly t: Tunnel) {}

  /**
   * Re-create the sessions of a restored tunnel: their actors resume from their snapshots, and an
   * established session's pseudowire from the state its handler last recorded (a new handler when it
   * recorded none).
   */
  restore(sessions: SessionRecord[]): void {
    for (const r of sessions) {
      const s = new Session(this.t, r.data, r.machine);
      this.sessions.set(r.data.localSessionId, s);
      if (r.data.callSerialNumber >= this.nextCallSerial) this.nextCallSerial = r.data.callSerialNumber + 1;
      s.start();
      if (s.state === 'established') this.startPseudowire(s, undefined, { state: r.pseudowire });
    }
  }

  sessionFor(m: ControlMessage): Session | undefined {
    const sid = this.t.data.version === 2 ? m.sessionId : (getAvp(m, 'RemoteSessionId') ?? 0);
    return sid === 0 ? undefined : this.sessions.get(sid);
  }

  /** A session message (ICRQ…SLI) the tunnel received in order. */
  deliver(m: ControlMessage, t: number): void {
    if (t === MessageTypes.ICRQ || t === MessageTypes.OCRQ) return this.incomingCall(m, t);
    const s = this.sessionFor(m);
    if (!s) {
      this.t.counters.unknownSession++;
      this.t.log.info({ tunnel: this.t.id, type: MESSAGE_BY_TYPE[t]?.key, session: m.sessionId }, 'message for an unknown session: ignored');
      return;
    }
    switch (t) {
      case MessageTypes.CDN: {
        s.dispatch({ type: 'CDN', result: refusalOf(m) });
        return;
      }
      case MessageTypes.ICRP:
      case MessageTypes.ICCN:
      case MessageTypes.OCRP:
      case MessageTypes.OCCN: {
        const kind = MESSAGE_BY_TYPE[t]!.key as 'ICRP' | 'ICCN' | 'OCRP' | 'OCCN';
        s.lastMessage = m;
        s.dispatch({ type: kind, verdict: judgeSessionMessage(kind, s.data, this.t.options.session, m) });
        return;
      }
      default:
        // WEN and SLI carry link information (RFC 2661 §6.13/§6.14): logged; the pseudowire handler may use them later.
        this.t.log.debug({ tunnel: this.t.id, session: s.localSessionId, type: MESSAGE_BY_TYPE[t]?.key }, 'link information');
    }
  }

  /** ICRQ (LNS incoming) or OCRQ (LAC outgoing) from the peer: a new session. */
  private incomingCall(m: ControlMessage, t: number): void {
    const callType: CallType = t === MessageTypes.ICRQ ? 'lnsIncoming' : 'lacOutgoing';
    if (!this.t.established) return this.refuseUnknownCall(m, { resultCode: CdnResult.GeneralError, errorCode: GeneralError.NoControlConnection });
    if (callType === 'lnsIncoming' ? !this.t.options.acceptIncomingCalls : !this.t.options.acceptOutgoingCalls) {
      return this.refuseUnknownCall(m, { resultCode: CdnResult.NoFacilitiesPermanent, message: `${kindName(t)} not accepted from this peer` });
    }
    if (this.sessions.size >= this.t.options.maxSessions) {
      return this.refuseUnknownCall(m, { resultCode: CdnResult.NoFacilitiesTemporary, message: 'session limit of this tunnel reached' });
    }
    const refused = this.t.env.admitCall?.();
    if (refused) {
      this.t.log.debug({ tunnel: this.t.id, reason: refused.message }, 'call refused'); // the worker logs each crossing of its limits
      return this.refuseUnknownCall(m, refused);
    }
    const s = this.create(callType, {});
    if (!s) return this.refuseUnknownCall(m, { resultCode: CdnResult.NoFacilitiesTemporary, message: 'no free session ID' });
    const kind = t === MessageTypes.ICRQ ? 'ICRQ' : 'OCRQ';
    s.dispatch({ type: kind, verdict: judgeSessionMessage(kind, s.data, this.t.options.session, m) });
    if (callType === 'lacOutgoing' && s.state === 'waitCsAnswer') s.dispatch({ type: 'CALL_CONNECTED' });
  }

  /** CDN for a call that has no session object (refused before one was made). */
  refuseUnknownCall(m: ControlMessage, r: Refusal): void {
    const peerSid = this.t.data.version === 2 ? (getAvp(m, 'AssignedSessionId') ?? 0) : (getAvp(m, 'LocalSessionId') ?? 0);
    const rc = resultCodeAvp({ ...r, errorCode: r.errorCode ?? 0 });
    const avps = this.t.data.version === 2 ? [rc, avp('AssignedSessionId', 0)] : [rc, avp('LocalSessionId', 0), avp('RemoteSessionId', peerSid)];
    this.t.send(MessageTypes.CDN, avps, peerSid);
  }

  /** Create a session object (for a call we place, or one the peer places). */
  create(callType: CallType, extra: Partial<SessionData>): Session | undefined {
    const id = this.t.env.allocateSessionId(this.t);
    if (id === undefined) return undefined;
    const so = this.t.options.session;
    const data: SessionData = {
      localTunnelId: this.t.id,
      localSessionId: id,
      peerSessionId: 0,
      callType,
      version: this.t.data.version,
      callSerialNumber: this.nextCallSerial++,
      pseudowire: so.pseudowire,
      sequencing: so.sequencing,
      l2SpecificSublayer: so.l2SpecificSublayer,
      createdAt: this.t.env.clock.now(),
      ...extra,
    };
    const cookie = this.t.data.version === 3 ? newCookie(data.cookieLength ?? so.cookieLength) : undefined;
    if (cookie) data.ourCookie = cookie;
    const s = new Session(this.t, data);
    this.sessions.set(id, s);
    s.start();
    return s;
  }

  /** Place a call (LAC incoming / LNS outgoing) once the tunnel is up. */
  open(callType: 'lacIncoming' | 'lnsOutgoing', extra: Partial<SessionData>): Session | undefined {
    const s = this.create(callType, extra);
    if (!s) return undefined;
    s.dispatch({ type: 'OPEN' });
    if (this.t.established) s.dispatch({ type: 'TUNNEL_UP' });
    return s;
  }

  sendMessage(s: Session, kind: string, avps: AvpInstance[]): void {
    this.t.send(MessageTypes[kind as keyof typeof MessageTypes], avps, s.data.peerSessionId);
  }

  up(s: Session): void {
    const env = this.t.env;
    const established = s.lastMessage;
    s.lastMessage = undefined;
    this.startPseudowire(s, established);
    if (this.sessions.get(s.localSessionId) !== s) return; // the pseudowire refused it: nothing to make
    this.toDataPlane(s);
  }

  /** Make an established session in the data plane (also after a worker restart, for restored sessions). */
  toDataPlane(s: Session, resumed = false): void {
    const env = this.t.env;
    // A PPP session whose frames we handle attaches itself: connecting its PPPoL2TP socket creates the kernel
    // session (as pppd's pppol2tp plugin does), so no frame falls in a gap between creation and attachment
    // (measured: at 1,000 calls such gaps cost LCP restarts) and no netlink round trip is needed per call.
    const selfAttached = s.data.pseudowire === 'ppp' && env.openSessionLink !== undefined && s.pseudowire !== undefined;
    const made = selfAttached
      ? (this.t.kernelTunnel ?? Promise.resolve())
      : env.dataPlane.createSession({
        localTunnelId: this.t.id,
        localSessionId: s.localSessionId,
        peerSessionId: s.data.peerSessionId,
        pseudowire: s.data.pseudowire,
        sequencing: s.data.sequencing,
        l2SpecificSublayer: s.data.l2SpecificSublayer,
        ...(s.data.ourCookie ? { cookie: Buffer.from(s.data.ourCookie, 'hex') } : {}),
        ...(s.data.peerCookie ? { peerCookie: Buffer.from(s.data.peerCookie, 'hex') } : {}),
        lnsMode: s.data.callType === 'lnsIncoming' || s.data.callType === 'lnsOutgoing',
        ...ethernetSpec(s.data.pseudowire === 'ppp' ? undefined : (s.data.ethernet ?? this.t.options.session.ethernet)),
      });
    made
      .then(() => this.attachLink(s, resumed))
      .catch((e: unknown) => {
        this.t.log.error({ tunnel: this.t.id, session: s.localSessionId, err: String(e) }, 'data plane refused the session');
        s.dispatch({ type: 'CLOSE', result: { resultCode: CdnResult.NoFacilitiesTemporary, message: 'data plane error' } });
      });
  }

  /** What the session carries: a new handler, or for a restored session one resumed from its recorded state. */
  private startPseudowire(s: Session, established: ControlMessage | undefined, restored?: { state: unknown }): void {
    const env = this.t.env;
    const factory = env.pseudowire;
    if (!factory) return;
    const pw: PseudowireSession = {
      data: s.data,
      peerTunnelId: this.t.data.peerTunnelId,
      establishingMessage: established,
      transmit: (payload) => this.transmitData(s, payload),
      disconnect: (result) => s.dispatch({ type: 'CLOSE', result }),
      stateChanged: () => {
        if (this.sessions.get(s.localSessionId) === s) env.events.pseudowireChanged?.(s);
      },
      ...(env.openSessionLink
        ? { networkUp: (spec: { local?: string; peer?: string; mtu?: number; routes?: string[] }) => this.networkUp(s, spec), idleSeconds: () => s.link?.idleSeconds() }
        : {}),
    };
    const offload = env.echoOffload?.(this.t, s);
    if (offload) pw.echoOffload = offload;
    try {
      s.pseudowire = restored?.state !== undefined && factory.restore ? factory.restore(pw, restored.state) : factory(pw);
    } catch (e) {
      this.t.log.error({ session: s.localSessionId, err: String(e) }, restored ? 'pseudowire handler failed to resume' : 'pseudowire handler failed to start');
      s.dispatch({ type: 'CLOSE', result: { resultCode: CdnResult.NoFacilitiesTemporary, message: 'pseudowire handler failed' } });
    }
  }

  /**
   * Kernel data plane: once the kernel holds the session, its frames reach the pseudowire through a
   * session link (PPPoL2TP socket + /dev/ppp channel) instead of the tunnel socket. Until then (one
   * thread hop) they still travel in userspace, so nothing is lost while the session is being made.
   */
  private attachLink(s: Session, resumed: boolean): void {
    const open = this.t.env.openSessionLink;
    if (!open || !s.pseudowire || this.sessions.get(s.localSessionId) !== s) return;
    const link = open(this.t, s, (frame) => s.pseudowire?.data(frame));
    if (!link) return;
    s.link = link;
    // The PPPoL2TP connect made the kernel session without options: sequencing (RFC 2661 Sequencing Required,
    // or the session profile) is set on it afterwards.
    const lnsMode = s.data.callType === 'lnsIncoming' || s.data.callType === 'lnsOutgoing';
    if (s.data.sequencing && this.t.env.dataPlane.modifySession) {
      // Made again after a worker restart, the kernel session would number from 0 while the peer expects our old
      // count: its kernel discards everything outside its window (measured in the VM: no data for good). So a
      // restored one sends none, pinned by LNS mode (else our kernel would follow the peer's and start from 0);
      // the peer's kernel then stops sending them too, and data flows.
      if (resumed) this.t.log.warn({ tunnel: this.t.id, session: s.localSessionId }, 'restored session runs without sequence numbers (the kernel cannot resume the old count)');
      this.t.env.dataPlane
        .modifySession({ localTunnelId: this.t.id, localSessionId: s.localSessionId, sequencing: !resumed, lnsMode: lnsMode || resumed })
        .catch((e: unknown) => this.t.log.error({ tunnel: this.t.id, session: s.localSessionId, err: String(e) }, 'data plane could not turn sequencing on'));
    }
    const pending = s.pendingNetworkUp;
    s.pendingNetworkUp = undefined;
    if (pending) this.networkUp(s, pending);
  }

  private networkUp(s: Session, spec: { local?: string; peer?: string; mtu?: number; routes?: string[] }): void {
    if (!s.link) {
      s.pendingNetworkUp = spec;
      return;
    }
    s.link.networkUp(spec).then(
      ({ ifname, failedRoutes }) => {
        this.t.log.info({ tunnel: this.t.id, session: s.localSessionId, ifname, peer: spec.peer }, 'session interface up');
        if (failedRoutes) this.t.log.error({ tunnel: this.t.id, session: s.localSessionId, ifname, failedRoutes }, 'routes of the session refused by the kernel');
      },
      (e: unknown) => {
        this.t.log.error({ tunnel: this.t.id, session: s.localSessionId, err: String(e) }, 'data plane could not bring the session interface up');
        s.dispatch({ type: 'CLOSE', result: { resultCode: CdnResult.NoFacilitiesTemporary, message: 'data plane error' } });
      },
    );
  }

  /** A data message for one of our sessions (null data plane: PPP frames in userspace). */
  data(sessionId: number, payload: Buffer): void {
    this.sessions.get(sessionId)?.pseudowire?.data(payload);
  }

  private transmitData(s: Session, payload: Buffer): void {
    if (s.link) {
      s.link.transmit(payload);
      return;
    }
    const d = s.data;
    const msg: DataMessage =
      d.version === 2
        ? { version: 2, tunnelId: this.t.data.peerTunnelId, sessionId: d.peerSessionId, priority: false, lengthPresent: false, payload }
        : { version: 3, sessionId: d.peerSessionId, cookie: d.peerCookie ? Buffer.from(d.peerCookie, 'hex') : Buffer.alloc(0), payload, ...(d.l2SpecificSublayer === 'default' ? { l2SpecificSublayer: { sequenced: false, sequence: 0 } } : {}) };
    this.t.env.transmit(this.t, encodeData(msg, this.t.options.encapsulation));
  }

  closed(s: Session): void {
    if (!this.sessions.delete(s.localSessionId)) return;
    s.pendingNetworkUp = undefined;
    if (s.pseudowire) {
      const pw = s.pseudowire;
      s.pseudowire = undefined;
      try {
        pw.down(s.reason ?? 'session closed');
      } catch (e) {
        this.t.log.error({ session: s.localSessionId, err: String(e) }, 'pseudowire handler failed to stop');
      }
    }
    if (s.link) {
      const link = s.link;
      s.link = undefined;
      link.close();
    }
    if (s.data.establishedAt !== undefined) this.t.env.dataPlane.deleteSession(this.t.id, s.localSessionId).catch(() => undefined);
    this.t.env.releaseSessionId(this.t, s.localSessionId);
    this.t.env.events.sessionClosed(s);
  }
}

function ethernetSpec(e: EthernetOptions | undefined): { interfaceName?: string; mtu?: number; bridge?: string; vlanId?: number } {
  if (!e) return {};
  return { interfaceName: e.interfaceName, mtu: e.mtu, ...(e.bridge ? { bridge: e.bridge } : {}), ...(e.vlanId !== null ? { vlanId: e.vlanId } : {}) };
}
