/**
 * The PPP engine's contract with its users: the L2TP session (LNS side), the load generator
 * (subscriber side), AAA (verifier, address pools) and the state store (getState/restore).
 */
import type { EchoOffload } from './keepalive.js';
import type { Logger } from 'pino';
import type { Clock } from '../transport/clock.js';
import type { AuthClient, AuthProtocolName, AuthResult, AuthServer, CredentialVerifier, SendAuthPacket } from './auth/types.js';
import type { FsmStateName } from './fsm.js';
import type { IpcpNegotiated } from './ipcp.js';
import type { Ipv6cpNegotiated } from './ipv6cp.js';
import type { LcpNegotiated } from './lcp.js';

export type PppRole = 'server' | 'client';

/** RFC 1661 §3.2 phases; `opened` = Network phase with the network layer up (onUp fired). */
export type PppPhase = 'dead' | 'establish' | 'authenticate' | 'network' | 'opened' | 'terminate';

/** IPv4 pool (src/aaa). `allocate` returns undefined when exhausted; every allocation is released once. */
export interface AddressAllocator {
  allocate(hint?: string): string | undefined;
  release(address: string): void;
  /** Take exactly `address` (a restored link's, after a restart); false when it is taken or not in the pool. */
  reserve?(address: string): boolean;
}

/** Matches `createAuthServer` in src/ppp/auth (extra trailing options are allowed). */
export type AuthServerFactory = (name: AuthProtocolName, send: SendAuthPacket, verifier: CredentialVerifier, onResult: (r: AuthResult) => void) => AuthServer;
/** Matches `createAuthClient` in src/ppp/auth. */
export type AuthClientFactory = (
  name: AuthProtocolName,
  send: SendAuthPacket,
  credentials: { readonly user: string; readonly password: string },
  onResult: (r: AuthResult) => void,
) => AuthClient;

export interface PppUpInfo {
  role: PppRole;
  /** The subscriber's IPv4 address (server: assigned to the peer; client: ours). */
  address?: string;
  /** The other end's IPv4 address, if it announced one. */
  gateway?: string;
  dns: string[];
  /** The subscriber's IPv6 interface identifier (`xxxx:xxxx:xxxx:xxxx`), if IPv6CP opened. */
  interfaceId?: string;
  /** The LNS's interface identifier. */
  gatewayInterfaceId?: string;
  user?: string;
  /** What the verifier returned (RADIUS attributes...), passed through. */
  attributes?: Record<string, unknown>;
  authProtocol?: AuthProtocolName;
  /** Our MRU as agreed (what the peer may send us). */
  mru: number;
  /** The peer's MRU: the MTU of the link towards it. */
  peerMru: number;
  magic: number;
  peerMagic: number;
  /** The subscriber's ACCM, for the LAC (SLI, RFC 2661 §6.14). */
  peerAccm?: number;
}

export type PppDownCause =
  | 'admin' // close() called
  | 'lower-down' // the L2TP session went away (lowerDown)
  | 'peer-terminate' // the peer sent LCP Terminate-Request
  | 'negotiation-failed' // LCP did not converge or the peer stopped answering
  | 'auth-failed'
  | 'auth-timeout'
  | 'auth-refused' // the peer will not authenticate with anything we offer
  | 'echo-timeout'
  | 'loopback'
  | 'no-network' // every NCP failed
  | 'address-exhausted'
  | 'renegotiation'; // LCP renegotiated after the session was up

/** The control protocols of a link, as `onLayer` names them. */
export type PppLayerName = 'LCP' | 'IPCP' | 'IPv6CP';
/** RFC 1661 §4.4 This-Layer-Up, -Down, -Started, -Finished. */
export type PppLayerSignal = 'up' | 'down' | 'started' | 'finished';

export interface PppDownReason {
  cause: PppDownCause;
  message: string;
}

export interface PppEngineConfig {
  role: PppRole;
  clock: Clock;
  /** A whole PPP frame (with `ff 03`) for the peer; the caller wraps it in an L2TP data message. */
  send(frame: Buffer): void;
  /** Our MRU (default 1500: not requested unless different). */
  mru?: number;
  /** Server: protocols to ask for, in order (default chap, pap). Client: protocols it can do, preferred first. */
  auth?: readonly AuthProtocolName[];
  /** Server side authentication. */
  authServer?: AuthServerFactory;
  verifier?: CredentialVerifier;
  /** Client side authentication. */
  authClient?: AuthClientFactory;
  credentials?: { user: string; password: string };
  /** LCP Echo-Request period in ms (0: no keepalive; default 30 s) and unanswered requests before down (3). */
  echoIntervalMs?: number;
  echoFailures?: number;
  /** Runs the LCP echo keepalive below the engine when it can (keepalive.ts EchoOffload). */
  echoOffload?: EchoOffload;
  ipcp?: boolean;
  ipv6cp?: boolean;
  /** Server: DNS servers offered (RFC 1877), at most two. */
  dns?: readonly string[];
  /** Server: our own IPv4 address in IPCP (omitted if unset). */
  localAddress?: string;
  /**
   * Server: the subscriber's address pool, or a choice of pool from what the verifier authorized
   * (e.g. `attributes.framedPool`). Its hint is `attributes.framedIpAddress` (network-phase.ts).
   */
  allocator?: AddressAllocator | ((attributes: Record<string, unknown> | undefined) => AddressAllocator | undefined);
  /** Client: the IPv4 address to ask for (default 0.0.0.0), and whether to ask for DNS (default true). */
  addressHint?: string;
  requestDns?: boolean;
  /** RFC 1661 §4.6 (defaults 3000 ms, 10, 2, 5). */
  restartMs?: number;
  maxConfigure?: number;
  maxTerminate?: number;
  maxFailure?: number;
  /** Requests with our own Magic-Number before the link counts as looped back (default = maxFailure). */
  maxLoopback?: number;
  /** Proxy LCP / authentication from the LAC (RFC 2661 §4.4.5, §9.5): off unless the profile allows. */
  proxy?: { lcp?: boolean; auth?: boolean };
  /** Report the automata as at rest (`hibernating`) while Opened (default true): a plain automaton is its own compact form. */
  hibernate?: boolean;
  /** Uniform [0, 1): magic numbers, interface identifiers, echo jitter (default Math.random). */
  random?: () => number;
  log?: Logger;
  onUp?(info: PppUpInfo): void;
  onDown?(reason: PppDownReason): void;
  onPhase?(phase: PppPhase): void;
  /**
   * One of the link's control protocols signalled its layer (RFC 1661 §4.4), before the engine acts
   * on it: when LCP, IPCP and IPv6CP each opened or gave up, which phases alone do not tell apart
   * (the load generator's per-protocol set-up latencies and failure causes).
   */
  onLayer?(protocol: PppLayerName, signal: PppLayerSignal): void;
  /** Network-layer packets (IPv4 0x0021, IPv6 0x0057) while their NCP is Opened (null data plane). */
  onData?(protocol: number, payload: Buffer): void;
}

/** RFC 2661 §4.4.5 Proxy Authen Type values. */
export const ProxyAuthenType = { Textual: 1, Chap: 2, Pap: 3, None: 4, MsChapV1: 5 } as const;

export interface ProxyAuth {
  /** Proxy Authen Type AVP (29). */
  type: number;
  /** Proxy Authen Name (30). */
  name?: string;
  /** Proxy Authen Challenge (31). */
  challenge?: Buffer;
  /** Proxy Authen ID (32). */
  id?: number;
  /** Proxy Authen Response (33): CHAP response value, or the cleartext password. */
  response?: Buffer;
}

/** ICCN AVPs 26–28: LCP Configure-Request option bodies ("starting at the first option"). */
export interface ProxyLcp {
  initialReceivedConfReq?: Buffer;
  lastSentConfReq?: Buffer;
  lastReceivedConfReq?: Buffer;
  proxyAuth?: ProxyAuth;
}

export type ProxyOutcome = { accepted: true; proxyAuth: boolean } | { accepted: false; reason: string };

/** Plain data: the hibernated form and the failover record of a session's PPP. */
export interface PppEngineState {
  role: PppRole;
  phase: PppPhase;
  lcp: { fsm: unknown; state: FsmStateName; negotiated: LcpNegotiated };
  ipcp?: { fsm: unknown; state: FsmStateName; negotiated: IpcpNegotiated };
  ipv6cp?: { fsm: unknown; state: FsmStateName; negotiated: Ipv6cpNegotiated };
  /** Server: the address taken from the allocator (released on teardown). */
  address?: string;
  user?: string;
  authProtocol?: AuthProtocolName;
  attributes?: Record<string, unknown>;
}
