/**
 * PPP as an L2TP pseudowire: one PppEngine per established session, its frames carried in L2TP data
 * messages (null data plane: through the tunnel's userspace socket). The LNS runs the server side
 * (authentication against the configured verifier, an address from the pool); the load generator
 * and tests run the client side (a subscriber behind a LAC).
 *
 * The engine's reason for going down becomes the CDN's Result Code: the subscriber's own Terminate
 * and keepalive loss look like a lost carrier (1), an administrative close 3, and everything PPP
 * refused (authentication, negotiation, no address) a general error (2) with error code 6 and the
 * reason as text (RFC 2661 §4.4.2 leaves PPP causes to the Error Message).
 */
import type { Logger } from 'pino';
import type { PseudowireFactory, PseudowireHandler, PseudowireSession } from '../actors/pseudowire.js';
import type { Refusal } from '../actors/tunnel-machine.js';
import type { SessionData } from '../actors/session-messages.js';
import { CdnResult, getAvp, GeneralError, type ControlMessage } from '../protocol/index.js';
import type { Clock } from '../transport/clock.js';
import { createAuthClient, createAuthServer } from './auth/index.js';
import type { AuthProtocolName, CredentialVerifier } from './auth/types.js';
import { PppEngine } from './engine.js';
import type { AddressAllocator, PppDownReason, PppEngineConfig, PppEngineState, PppUpInfo, ProxyLcp } from './types.js';

/** What the PPP of one session needs, resolved from its PPP profile and AAA configuration. */
export interface PppSessionOptions {
  auth: readonly AuthProtocolName[];
  verifier?: CredentialVerifier;
  allocator?: PppEngineConfig['allocator'];
  dns?: readonly string[];
  /** Server: our address in IPCP. */
  localAddress?: string;
  mru?: number;
  echoIntervalMs?: number;
  echoFailures?: number;
  ipv6cp?: boolean;
  proxyLcp?: boolean;
  restartMs?: number;
  maxConfigure?: number;
  maxFailure?: number;
  /** Client side: who the subscriber is. */
  credentials?: { user: string; password: string };
}

export interface PppPseudowireOptions {
  role: 'server' | 'client';
  clock: Clock;
  log: Logger;
  /** The PPP options of a session, or undefined when this node does not terminate its PPP. */
  optionsFor(session: SessionData): PppSessionOptions | undefined;
  /** PPP is up. */
  onUp?(session: SessionData, info: PppUpInfo, link: PppUpLink): void;
  /**
   * A session whose PPP was up resumed after a worker restart, with what `stateOf` returned for it
   * then (undefined if nothing): onUp's counterpart for a link that did not come up again.
   */
  onRestore?(session: SessionData, info: PppUpInfo, saved: unknown, link: PppUpLink): void;
  /** What the service keeps beside the engine's state in the session's record (plain data). */
  stateOf?(session: SessionData): unknown;
  /** Networks behind the subscriber (from what AAA authorized) for its interface's routes. */
  routesFor?(info: PppUpInfo): string[];
  onDown?(session: SessionData, reason: PppDownReason): void;
}

/** What the service may do with a session whose PPP is up. */
export interface PppUpLink {
  /** End PPP from this node (e.g. RADIUS Session-Timeout). */
  close(message: string): void;
  /** Kernel data plane: seconds the session carried no data, if known. */
  idleSeconds(): number | undefined;
  /** What `stateOf` returns changed (e.g. a CoA): the session's record is written again. */
  stateChanged(): void;
}

/** The PPP pseudowire's part of a session record: the engine's state while Opened, and the service's. */
interface PppPseudowireState {
  ppp: PppEngineState;
  service?: unknown;
}

function isPppPseudowireState(x: unknown, role: 'server' | 'client'): x is PppPseudowireState {
  const ppp = (x as { ppp?: Partial<PppEngineState> } | null)?.ppp;
  return typeof ppp === 'object' && ppp !== null && ppp.role === role && ppp.phase === 'opened' && typeof ppp.lcp === 'object';
}

export function cdnForPppDown(r: PppDownReason): Refusal {
  switch (r.cause) {
    case 'peer-terminate':
    case 'echo-timeout':
    case 'lower-down':
      return { resultCode: CdnResult.LossOfCarrier, message: r.message };
    case 'admin':
      return { resultCode: CdnResult.Administrative, message: r.message };
    default:
      return { resultCode: CdnResult.GeneralError, errorCode: GeneralError.VendorSpecific, message: `PPP ${r.cause}: ${r.message}`.slice(0, 200) };
  }
}

/** RFC 2661 §4.4.5: the LAC's proxy LCP and authentication AVPs from the ICCN, if any. */
export function proxyFromIccn(m: ControlMessage | undefined): ProxyLcp | undefined {
  if (!m) return undefined;
  const lastSent = getAvp(m, 'LastSentLcpConfreq');
  const lastReceived = getAvp(m, 'LastReceivedLcpConfreq');
  if (!lastSent || !lastReceived) return undefined;
  const p: ProxyLcp = { lastSentConfReq: lastSent, lastReceivedConfReq: lastReceived };
  const initial = getAvp(m, 'InitialReceivedLcpConfreq');
  if (initial) p.initialReceivedConfReq = initial;
  const type = getAvp(m, 'ProxyAuthenType');
  if (type !== undefined) {
    const name = getAvp(m, 'ProxyAuthenName');
    const challenge = getAvp(m, 'ProxyAuthenChallenge');
    const id = getAvp(m, 'ProxyAuthenId');
    const response = getAvp(m, 'ProxyAuthenResponse');
    p.proxyAuth = { type, ...(name !== undefined ? { name } : {}), ...(challenge ? { challenge } : {}), ...(id !== undefined ? { id } : {}), ...(response ? { response } : {}) };
  }
  return p;
}

export function pppPseudowire(o: PppPseudowireOptions): PseudowireFactory {
  /** One session's link: a new engine, or (`saved`) the engine of a restored session resumed Opened. */
  const link = (pw: PseudowireSession, saved?: PppPseudowireState): PseudowireHandler | undefined => {
    if (pw.data.pseudowire !== 'ppp') return undefined;
    const so = o.optionsFor(pw.data);
    if (!so) return undefined;
    let lowerGone = false;
    const log = o.log.child({ tunnel: pw.data.localTunnelId, session: pw.data.localSessionId });
    const up: PppUpLink = {
      close: (message) => engine.close('admin', message),
      idleSeconds: () => pw.idleSeconds?.(),
      stateChanged: () => pw.stateChanged?.(),
    };
    const networkUp = (info: PppUpInfo) => {
      // Kernel data plane: the PPP unit's interface gets our side and the subscriber's side of the link.
      const [local, peer] = o.role === 'server' ? [info.gateway, info.address] : [info.address, info.gateway];
      const routes = o.routesFor?.(info) ?? [];
      pw.networkUp?.({ ...(local ? { local } : {}), ...(peer ? { peer } : {}), mtu: info.peerMru, ...(routes.length ? { routes } : {}) });
    };
    const config: PppEngineConfig = {
      role: o.role,
      clock: o.clock,
      send: (frame) => pw.transmit(frame),
      auth: so.auth,
      ...(o.role === 'server'
        ? { authServer: createAuthServer, ...(so.verifier ? { verifier: so.verifier } : {}) }
        : { authClient: createAuthClient, ...(so.credentials ? { credentials: so.credentials } : {}) }),
      ...(so.allocator ? { allocator: so.allocator as AddressAllocator } : {}),
      ...(so.dns ? { dns: so.dns } : {}),
      ...(so.localAddress ? { localAddress: so.localAddress } : {}),
      ...(so.mru !== undefined ? { mru: so.mru } : {}),
      ...(so.echoIntervalMs !== undefined ? { echoIntervalMs: so.echoIntervalMs } : {}),
      ...(so.echoFailures !== undefined ? { echoFailures: so.echoFailures } : {}),
      ...(pw.echoOffload ? { echoOffload: pw.echoOffload } : {}),
      ...(so.restartMs !== undefined ? { restartMs: so.restartMs } : {}),
      ...(so.maxConfigure !== undefined ? { maxConfigure: so.maxConfigure } : {}),
      ...(so.maxFailure !== undefined ? { maxFailure: so.maxFailure } : {}),
      ipv6cp: so.ipv6cp ?? false,
      proxy: { lcp: so.proxyLcp ?? false, auth: so.proxyLcp ?? false },
      log,
      // Up, down, renegotiation: the session's record follows the phases (never the keepalive).
      onPhase: () => pw.stateChanged?.(),
      onUp: (info) => {
        log.info({ user: info.user, address: info.address, authProtocol: info.authProtocol }, 'ppp up');
        networkUp(info);
        o.onUp?.(pw.data, info, up);
      },
      onDown: (reason) => {
        log.info({ cause: reason.cause, message: reason.message }, 'ppp down');
        o.onDown?.(pw.data, reason);
        // The session ends with PPP, unless the session's end is what brought PPP down.
        if (!lowerGone) pw.disconnect(cdnForPppDown(reason));
      },
    };
    let engine: PppEngine;
    if (saved) {
      // Resumed Opened: keepalive re-armed (first echo jittered), the address reserved again (network-phase.ts).
      engine = PppEngine.restore(config, saved.ppp);
      const info = engine.upInfo();
      log.info({ user: info.user, address: info.address }, 'ppp resumed');
      networkUp(info);
      o.onRestore?.(pw.data, info, saved.service, up);
    } else {
      engine = new PppEngine(config);
      const proxy = o.role === 'server' && so.proxyLcp ? proxyFromIccn(pw.establishingMessage) : undefined;
      if (proxy) {
        const outcome = engine.startWithProxy(proxy);
        if (!outcome.accepted) log.debug({ reason: outcome.reason }, 'proxy LCP not taken: renegotiating');
      } else {
        engine.start();
      }
    }
    return {
      data: (payload) => engine.receive(payload),
      down: (reason) => {
        lowerGone = true;
        engine.lowerDown(reason);
      },
      // Only an Opened link can be resumed; one still negotiating starts over after a restart.
      state: (): PppPseudowireState | undefined => {
        if (engine.phase !== 'opened') return undefined;
        const service = o.stateOf?.(pw.data);
        return { ppp: engine.getState(), ...(service !== undefined ? { service } : {}) };
      },
    };
  };
  const factory: PseudowireFactory = (pw) => link(pw);
  // A state that is not an Opened link of our role (another version's record...) renegotiates instead.
  factory.restore = (pw, state) => link(pw, isPppPseudowireState(state, o.role) ? state : undefined);
  return factory;
}
