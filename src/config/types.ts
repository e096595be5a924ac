/**
 * The resolved configuration: plain camelCase objects, every profile fully inherited, durations in
 * milliseconds, addresses canonical. This is what the daemon uses; the file's snake_case shape stays
 * in `schema.ts`. docs/configuration.md documents every field.
 */
import type { Endpoint } from './ip.js';

export type { Endpoint } from './ip.js';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
export type DataplaneKind = 'auto' | 'kernel' | 'null';
export type TunnelAuthMode = 'none' | 'simple' | 'challenge';
export type DigestAlgorithm = 'hmac-md5' | 'hmac-sha1';
export type Encapsulation = 'udp' | 'ip';
export type PseudowireName = 'ppp' | 'ethernet' | 'ethernet_vlan';
export type PppAuthProtocol = 'pap' | 'chap' | 'mschapv2';
/** Sessions we originate: an incoming call we place as LAC (ICRQ; also every L2TPv3 pseudowire) or an outgoing call we place as LNS (OCRQ). */
export type LocalSessionType = 'lac_incoming' | 'lns_outgoing';

export interface Limits {
  readonly maxTunnels: number;
  readonly maxSessionsPerTunnel: number;
  /** Tunnels between SCCRQ and SCCCN at once: bounds the work an SCCRQ flood can cause. */
  readonly maxHalfOpenTunnels: number;
  readonly maxSessions: number;
}

export interface SystemConfig {
  /** Host Name AVP we send unless a tunnel profile overrides it. */
  readonly hostname: string;
  /** Where we accept tunnels; empty = accept none (a pure LAC). */
  readonly listen: readonly Endpoint[];
  readonly dataplane: DataplaneKind;
  readonly mgmtSocket: string;
  /** Shard worker threads (`auto` resolved to the CPU count). */
  readonly workers: number;
  readonly logLevel: LogLevel;
  /** RFC 3931 §5.4.3 Router ID, a 32-bit value. */
  readonly routerId: number;
  readonly limits: Limits;
}

/** Field names match `ControlChannelConfig` (src/transport) so a profile can be handed to a channel as is. */
export interface TunnelProfile {
  readonly name: string;
  readonly version: 2 | 3;
  readonly encapsulation: Encapsulation;
  readonly authMode: TunnelAuthMode;
  readonly secret: string | undefined;
  readonly hideAvps: boolean;
  readonly digest: DigestAlgorithm;
  readonly receiveWindowSize: number;
  /** 0 = never send HELLO. */
  readonly helloIntervalMs: number;
  readonly retransmitInitialMs: number;
  readonly retransmitCapMs: number;
  readonly maxRetransmits: number;
  readonly ackDelayMs: number;
  /** Host Name AVP for tunnels of this profile (the system hostname unless overridden). */
  readonly hostName: string;
}

export interface SessionProfile {
  readonly name: string;
  readonly sequencing: 'none' | 'required';
  readonly pseudowire: PseudowireName;
  /** RFC 3931 §5.4.4 / IANA Pseudowire Type for `pseudowire`. */
  readonly pseudowireType: number;
  readonly cookieLength: 0 | 4 | 8;
  readonly l2SpecificSublayer: 'none' | 'default';
  readonly pppProfile: string;
  readonly ethernetProfile: string;
}

export interface PppProfile {
  readonly name: string;
  readonly mru: number;
  /** 0 = no LCP echo. */
  readonly lcpEchoIntervalMs: number;
  readonly lcpEchoFailures: number;
  /** Protocols we offer, most preferred first; empty = no authentication. */
  readonly auth: readonly PppAuthProtocol[];
}

export interface EthernetProfile {
  readonly name: string;
  /** Interface name template; `%d` becomes a number. */
  readonly interfaceName: string;
  readonly mtu: number;
  readonly bridge: string | null;
  readonly vlanId: number | null;
}

export interface PeerMatch {
  /** Case-insensitive glob (`*`, `?`) on the peer's Host Name AVP. */
  readonly hostName?: string;
  /** Canonical prefix, e.g. `198.18.0.0/15`. */
  readonly address?: string;
}

export interface PeerProfile {
  readonly name: string;
  /** Undefined for `default` (matches every peer) and for profiles that only serve as parents. */
  readonly match: PeerMatch | undefined;
  /** false: tunnels from matching peers are refused (StopCCN). */
  readonly accept: boolean;
  readonly tunnelProfile: string;
  readonly sessionProfile: string;
  /** Overrides the session profile's `ppp_profile` for this peer; null = use the session profile's. */
  readonly pppProfile: string | null;
  /** The peer may act as LAC toward us: we accept its incoming calls (ICRQ). */
  readonly lac: boolean;
  /** The peer may act as LNS toward us: we accept its outgoing calls (OCRQ). */
  readonly lns: boolean;
}
export type ResolvedPeerProfile = PeerProfile;

export interface SessionConfig {
  readonly name: string;
  readonly type: LocalSessionType;
  readonly sessionProfile: string;
  /** The session profile's pseudowire unless overridden here. */
  readonly pseudowire: PseudowireName;
  readonly calledNumber: string | undefined;
  readonly callingNumber: string | undefined;
  /** RFC 3931 §5.4.4 Remote End ID (required on L2TPv3 tunnels). */
  readonly remoteEndId: string | undefined;
}

export interface TunnelConfig {
  readonly name: string;
  readonly peer: Endpoint;
  /** Local address to bind; port 0 = any. */
  readonly local: Endpoint | undefined;
  readonly tunnelProfile: string;
  /** Re-established with back-off whenever it fails or is closed by the peer. */
  readonly persistent: boolean;
  readonly sessions: readonly SessionConfig[];
}

export type ProfileKind = 'tunnel' | 'session' | 'ppp' | 'ethernet' | 'peer';

export interface ProfileTypes {
  readonly tunnel: TunnelProfile;
  readonly session: SessionProfile;
  readonly ppp: PppProfile;
  readonly ethernet: EthernetProfile;
  readonly peer: PeerProfile;
}

/** Command-line flags that win over the file. */
export interface ConfigOverrides {
  listen?: string[];
  mgmtSocket?: string;
  dataplane?: DataplaneKind;
  logLevel?: string;
}
