/**
 * Built-in values: the `default` profile of each type before the file overrides it, and the system
 * defaults. With these alone (an empty or absent file) the daemon is a working LNS on 0.0.0.0:1701.
 * Written in the file's own snake_case with durations in ms, so they read like docs/configuration.md.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';

export const BUILTIN_TUNNEL = {
  version: 2 as 2 | 3,
  encapsulation: 'udp' as 'udp' | 'ip',
  auth_mode: 'none' as 'none' | 'simple' | 'challenge',
  secret: undefined as string | undefined,
  hide_avps: false,
  digest: 'hmac-md5' as 'hmac-md5' | 'hmac-sha1',
  receive_window_size: 16,
  // RFC 2661 §6.5: a keepalive after 60 s of silence is the recommended practice.
  hello_interval: 60_000,
  // RFC 2661 §5.8: 1 s initial, cap no less than 8 s, 5 retries recommended.
  retransmit: { initial: 1_000, cap: 8_000, max_retries: 5 },
  ack_delay: 100,
  ack_delay_unanswered: 20,
  host_name: undefined as string | undefined,
};

export const BUILTIN_SESSION = {
  sequencing: 'none' as 'none' | 'required',
  pseudowire: 'ppp' as 'ppp' | 'ethernet' | 'ethernet_vlan',
  cookie_length: 0 as 0 | 4 | 8,
  l2_specific_sublayer: 'none' as 'none' | 'default',
  ppp_profile: 'default',
  ethernet_profile: 'default',
};

export const BUILTIN_PPP = {
  mru: 1500,
  lcp_echo_interval: 30_000,
  lcp_echo_failures: 3,
  // CHAP first: offering PAP first invites clients to send passwords in clear text.
  auth: ['chap', 'pap'] as ('pap' | 'chap' | 'mschapv2')[],
  pool: 'default',
  dns: [] as string[],
  // Our side of each PPP link, announced in IPCP; none: the LNS announces no address (a route per subscriber).
  local_address: null as string | null,
  ipv6: false,
  aaa: 'local' as 'local' | 'radius',
  // RFC 1661 §4.6: Restart timer 3 s, Max-Configure 10, Max-Failure 5.
  restart_timer: 3_000,
  max_configure: 10,
  max_failure: 5,
  proxy_lcp: true,
  terminate: true,
  // Calls we place as LAC: run PPP as the subscriber with these credentials (like xl2tpd's LAC + pppd).
  user: null as string | null,
  password: null as string | null,
};

/** The built-in `default` pool is empty: addresses are handed out only from pools the file configures. */
export const BUILTIN_POOL = {
  ipv4: [] as string[],
  ipv4_exclude: [] as string[],
  ipv6_prefix: null as string | null,
  ipv6_prefix_length: 64,
};

/** RFC 2865 §3 / RFC 2866 §3 / RFC 5176 §2.3 ports; the client timers match RadiusClient's defaults. */
export const RADIUS_AUTH_PORT = 1812;
export const RADIUS_ACCT_PORT = 1813;
export const DYNAUTH_PORT = 3799;
export const DEFAULT_DYNAUTH_LISTEN = '0.0.0.0:3799';
export const DEFAULT_RADIUS = {
  timeout: 3_000,
  retries: 2,
  dead_time: 30_000,
  interim_interval: 0,
  require_message_authenticator: false,
};

export const BUILTIN_ETHERNET = {
  interface_name: 'l2tpeth%d',
  mtu: 1500,
  bridge: null as string | null,
  vlan_id: null as number | null,
};

export const BUILTIN_PEER = {
  accept: true,
  tunnel_profile: 'default',
  session_profile: 'default',
  /** Unset: the session profile's ppp_profile applies. */
  ppp_profile: undefined as string | undefined,
  lac: true,
  lns: false,
};

export const DEFAULT_LISTEN = '0.0.0.0:1701';
export const DEFAULT_MGMT_SOCKET = '/run/l2tpd/l2tpd.sock';

/** Receive and send buffer of every UDP socket (bytes): bursts of a few thousand messages without drops. */
export const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;

export const DEFAULT_LIMITS = {
  max_tunnels: 65535,
  max_sessions_per_tunnel: 65535,
  max_half_open_tunnels: 1000,
  max_sessions: 1_000_000,
};

export function defaultHostname(): string {
  return os.hostname() || 'l2tpd';
}

export function cpuCount(): number {
  return os.availableParallelism();
}

/**
 * A Router ID that is stable for a host name and differs between hosts with high probability: the
 * first 32 bits of SHA-256(hostname), never 0. Nodes of a cluster should still set theirs explicitly.
 */
export function routerIdFromHostname(hostname: string): number {
  const id = createHash('sha256').update(hostname).digest().readUInt32BE(0);
  return id === 0 ? 1 : id;
}
