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
/** Where a PPP profile's credentials are checked: the local users file or RADIUS. */
export type PppAaaMode = 'local' | 'radius';
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
  /** Where we accept L2TPv3 tunnels over IP (protocol 115, kernel data plane only); empty = none. */
  readonly listenIp: readonly string[];
  readonly dataplane: DataplaneKind;
  readonly mgmtSocket: string;
  /** Shard worker threads (`auto` resolved to the CPU count). */
  readonly workers: number;
  readonly logLevel: LogLevel;
  /** RFC 3931 §5.4.3 Router ID, a 32-bit value. */
  readonly routerId: number;
  /** SO_RCVBUF / SO_SNDBUF of every UDP socket, bytes (the kernel caps it at net.core.rmem_max / wmem_max). */
  readonly socketBuffer: number;
  /** How tunnel sockets are read and written: the native addon (batched reads), Node's dgram, or auto (native where it loads). */
  readonly socketIo: 'auto' | 'native' | 'node';
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
  readonly ackDelayUnansweredMs: number;
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
  /** Name of the pool (`Config.pools`) IPCP addresses come from unless AAA names another or an address. */
  readonly pool: string;
  /** DNS servers offered in IPCP (RFC 1877): primary, then secondary; at most two, canonical IPv4. */
  readonly dns: readonly string[];
  /** Our IPv4 address in IPCP, and the local address of each PPP interface (kernel data plane); null: none. */
  readonly localAddress: string | null;
  /** Negotiate IPv6CP (RFC 5072). */
  readonly ipv6: boolean;
  /** Where credentials are checked: `aaa.local_users` or `aaa.radius`. */
  readonly aaa: PppAaaMode;
  /** RFC 1661 §4.6 Restart timer (the engine's `restartMs`). */
  readonly restartTimerMs: number;
  /** RFC 1661 §4.6 Max-Configure. */
  readonly maxConfigure: number;
  /** RFC 1661 §4.6 Max-Failure. */
  readonly maxFailure: number;
  /** Accept the LAC's proxy LCP and proxy authentication AVPs (RFC 2661 §4.4.5) when acceptable, instead of renegotiating. */
  readonly proxyLcp: boolean;
  /** Terminate PPP here (the LNS's job); false leaves the session's PPP to the peer (L2TP-only tests, a LAC forwarding it). */
  readonly terminate: boolean;
  /**
   * Calls this node places as LAC (lac_incoming, and lac_outgoing answered by us): run PPP here as the
   * subscriber with these credentials, the interface getting the address the LNS assigns. null: the
   * session only carries PPP (a LAC forwarding its subscribers').
   */
  readonly client: { readonly user: string; readonly password: string } | null;
}

/**
 * An address pool, in the terms `Ipv4Pool` / `Ipv6PrefixPool` (src/aaa/pool) take: `new Ipv4Pool(name,
 * ipv4, { exclude: ipv4Exclude })`, and `new Ipv6PrefixPool(name, ipv6Prefix, ipv6PrefixLength)` when
 * `ipv6Prefix` is set. Every text is canonical. No address or prefix is in two pools.
 */
export interface PoolConfig {
  readonly name: string;
  /** `198.18.1.10-198.18.1.250`, `198.18.2.0/24` (network and broadcast addresses left out below /31), or `198.18.3.7`. */
  readonly ipv4: readonly string[];
  /** Single addresses of `ipv4` never handed out. */
  readonly ipv4Exclude: readonly string[];
  /** Prefix the IPv6 prefixes are carved from, e.g. `2001:db8::/48`; null = no IPv6 prefixes. */
  readonly ipv6Prefix: string | null;
  /** Length of each prefix handed out (64: /64s out of `ipv6Prefix`). */
  readonly ipv6PrefixLength: number;
}

/** Field names match `RadiusServer` (src/aaa/radius/client.ts). */
export interface RadiusServerConfig {
  /** IP literal, canonical. */
  readonly host: string;
  readonly port: number;
  readonly secret: string;
}

/** Timer and flag names match `RadiusClientOptions`, so one options object serves both clients. */
export interface RadiusConfig {
  /** Authentication servers (Access-Request), in failover order: primary first. */
  readonly servers: readonly RadiusServerConfig[];
  /** Accounting servers, in the same order: each server's `accounting_address` (default its address on port 1813); servers with `accounting_address: null` are left out. */
  readonly accountingServers: readonly RadiusServerConfig[];
  readonly timeoutMs: number;
  /** Retransmissions per server before failing over to the next. */
  readonly retries: number;
  readonly deadTimeMs: number;
  /** NAS-Identifier (`system.hostname` unless set). */
  readonly nasIdentifier: string;
  /** NAS-IP-Address; null = not sent. */
  readonly nasIpAddress: string | null;
  /** Accounting Interim-Update period unless RADIUS sends Acct-Interim-Interval; 0 = none. */
  readonly interimIntervalMs: number;
  readonly requireMessageAuthenticator: boolean;
}

/** Field names match `DynAuthPeer` (src/aaa/radius/dynauth.ts). */
export interface DynAuthClientConfig {
  /** Source address of the Dynamic Authorization Client, canonical IP literal. */
  readonly address: string;
  readonly secret: string;
}

export interface DynAuthConfig {
  /** Address and port of the Disconnect/CoA server (RFC 5176; port 3799 unless given). */
  readonly listen: Endpoint;
  readonly clients: readonly DynAuthClientConfig[];
}

export interface AaaConfig {
  /** Absolute path of the local users file (a relative one in the file is resolved against the config file's directory); null = none. */
  readonly localUsers: string | null;
  /** null: no RADIUS. */
  readonly radius: RadiusConfig | null;
  /** null: no Disconnect/CoA server. */
  readonly dynamicAuthorization: DynAuthConfig | null;
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
