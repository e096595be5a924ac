/**
 * The file's shape (snake_case, as operators write it). Every object is strict — an unknown key is an
 * error, so a typo never silently falls back to a default — and every profile field is optional,
 * because inheritance (resolve.ts) fills the rest. Cross-field rules live in resolve.ts too.
 */
import { z } from 'zod';
import { DYNAUTH_PORT, RADIUS_ACCT_PORT, RADIUS_AUTH_PORT } from './defaults.js';
import {
  absolutePath, bool, dataplane, duration, endpoint, endpointOrNull, filePath, glob, int, interfaceName,
  interfaceTemplate, interimInterval, ipAddress, ipv4Address, ipv4Range, ipv4Unicast, ipv6Prefix, LOG_LEVELS,
  name, NAME_PATTERN, NAME_RULE, oneOf, prefix, show, routerId, sessionType, text, vlanId, workers,
} from './leaves.js';

/** An empty YAML value (`system:` with nothing under it) reads as null: treat it as an empty section. */
function section<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.preprocess((v) => (v === null ? {} : v), z.strictObject(shape));
}

function profiles<P extends z.ZodType>(profile: P) {
  const key = z.string().regex(NAME_PATTERN, { error: (iss) => `must be ${NAME_RULE}, got ${show(iss.input)}` });
  return z.preprocess((v) => (v === null ? {} : v), z.record(key, profile));
}

function list<I extends z.ZodType>(item: I) {
  return z.preprocess((v) => (v === null ? [] : v), z.array(item));
}

/** A list of `min`..`max` items; `what` names one item in the message ("address", "server"). */
function boundedList<I extends z.ZodType>(item: I, min: number, max: number, what: string, why = '') {
  const error = (iss: { input?: unknown }): string => {
    const n = Array.isArray(iss.input) ? iss.input.length : 0;
    const bound = n < min ? min : max;
    const noun = bound === 1 ? what : what.endsWith('s') ? `${what}es` : `${what}s`;
    return `must list ${n < min ? 'at least' : 'at most'} ${bound} ${noun}${why}, got ${n}`;
  };
  return z.preprocess((v) => (v === null ? [] : v), z.array(item).superRefine((items, ctx) => {
    if (items.length < min || items.length > max) ctx.addIssue({ code: 'custom', input: items, message: error({ input: items }) });
  }));
}

/** RFC 2661 §5.8 receive window; above 32767 sequence comparison breaks (transport MAX_WINDOW). */
const MAX_WINDOW = 32767;

export const PSEUDOWIRES = ['ppp', 'ethernet', 'ethernet_vlan'] as const;

const systemSchema = section({
  hostname: text().optional(),
  listen: list(endpoint(1701)).optional(),
  listen_ip: list(ipAddress).optional(),
  dataplane: dataplane.optional(),
  mgmt_socket: absolutePath.optional(),
  workers: workers.optional(),
  log_level: oneOf(LOG_LEVELS).optional(),
  router_id: routerId.optional(),
  socket_buffer: int(65_536, 1 << 30).optional(),
  socket_io: oneOf(['auto', 'native', 'node']).optional(),
  limits: section({
    max_tunnels: int(1, 1_000_000).optional(),
    max_sessions_per_tunnel: int(1, 65535).optional(),
    max_half_open_tunnels: int(1, 1_000_000).optional(),
    max_sessions: int(1, 16_000_000).optional(),
  }).optional(),
});

const tunnelProfileSchema = section({
  inherit: name.optional(),
  version: oneOf([2, 3]).optional(),
  encapsulation: oneOf(['udp', 'ip']).optional(),
  auth_mode: oneOf(['none', 'simple', 'challenge']).optional(),
  secret: text(1024).optional(),
  hide_avps: bool.optional(),
  digest: oneOf(['hmac-md5', 'hmac-sha1']).optional(),
  receive_window_size: int(1, MAX_WINDOW).optional(),
  hello_interval: duration(0, 3_600_000).optional(),
  retransmit: section({
    initial: duration(10, 60_000).optional(),
    // RFC 2661 §5.8: the cap "MUST be no less than 8 seconds per retransmission".
    cap: duration(8_000, 3_600_000).optional(),
    max_retries: int(0, 1000).optional(),
  }).optional(),
  // RFC 2661 §5.8 forbids withholding acks; half a second stays far below the peer's 1 s timer.
  ack_delay: duration(0, 500).optional(),
  // Acks of messages we do not answer (ICCN, SCCCN, CDN, HELLO...): capped by ack_delay.
  ack_delay_unanswered: duration(0, 500).optional(),
  host_name: text().optional(),
});

const sessionProfileSchema = section({
  inherit: name.optional(),
  sequencing: oneOf(['none', 'required']).optional(),
  pseudowire: oneOf(PSEUDOWIRES).optional(),
  cookie_length: oneOf([0, 4, 8]).optional(),
  l2_specific_sublayer: oneOf(['none', 'default']).optional(),
  ppp_profile: name.optional(),
  ethernet_profile: name.optional(),
});

const pppProfileSchema = section({
  inherit: name.optional(),
  mru: int(128, 65535).optional(),
  lcp_echo_interval: duration(0, 3_600_000).optional(),
  lcp_echo_failures: int(1, 100).optional(),
  auth: list(oneOf(['pap', 'chap', 'mschapv2'])).optional(),
  pool: name.optional(),
  dns: boundedList(ipv4Unicast, 0, 2, 'address', ' (primary and secondary, RFC 1877)').optional(),
  local_address: ipv4Unicast.optional(),
  ipv6: bool.optional(),
  aaa: oneOf(['local', 'radius']).optional(),
  restart_timer: duration(100, 60_000).optional(),
  max_configure: int(1, 255).optional(),
  max_failure: int(1, 255).optional(),
  proxy_lcp: bool.optional(),
  terminate: bool.optional(),
  user: text(253).optional(),
  password: text(253).optional(),
});

const ethernetProfileSchema = section({
  inherit: name.optional(),
  interface_name: interfaceTemplate.optional(),
  mtu: int(68, 65535).optional(),
  bridge: interfaceName.optional(),
  vlan_id: vlanId.optional(),
});

const peerProfileSchema = section({
  inherit: name.optional(),
  match: section({ host_name: glob.optional(), address: prefix.optional() }).optional(),
  accept: bool.optional(),
  tunnel_profile: name.optional(),
  session_profile: name.optional(),
  ppp_profile: name.optional(),
  lac: bool.optional(),
  lns: bool.optional(),
});

const sessionSchema = section({
  name,
  type: sessionType.optional(),
  session_profile: name.optional(),
  pseudowire: oneOf(PSEUDOWIRES).optional(),
  called_number: text().optional(),
  calling_number: text().optional(),
  remote_end_id: text().optional(),
});

const tunnelSchema = section({
  name,
  peer: endpoint(1701),
  local: endpoint(0).optional(),
  tunnel_profile: name.optional(),
  persistent: bool.optional(),
  sessions: list(sessionSchema).optional(),
});

/** Pools are not profiles: no inheritance; the file's `default` replaces the built-in (empty) one. */
const poolSchema = section({
  ipv4: list(ipv4Range).optional(),
  ipv4_exclude: list(ipv4Address).optional(),
  ipv6_prefix: ipv6Prefix.optional(),
  ipv6_prefix_length: int(1, 128).optional(),
});

const radiusServerSchema = section({
  address: endpoint(RADIUS_AUTH_PORT),
  secret: text(1024),
  accounting_address: endpointOrNull(RADIUS_ACCT_PORT).optional(),
});

const aaaSchema = section({
  local_users: filePath.optional(),
  radius: section({
    servers: boundedList(radiusServerSchema, 1, 16, 'server'),
    timeout: duration(100, 60_000).optional(),
    retries: int(0, 10).optional(),
    dead_time: duration(0, 3_600_000).optional(),
    nas_identifier: text(253).optional(),
    nas_ip_address: ipv4Unicast.optional(),
    interim_interval: interimInterval.optional(),
    require_message_authenticator: bool.optional(),
  }).optional(),
  dynamic_authorization: section({
    listen: endpoint(DYNAUTH_PORT).optional(),
    clients: boundedList(section({ address: ipAddress, secret: text(1024) }), 1, 64, 'client'),
  }).optional(),
});

export const configFileSchema = section({
  system: systemSchema.optional(),
  tunnel_profiles: profiles(tunnelProfileSchema).optional(),
  session_profiles: profiles(sessionProfileSchema).optional(),
  ppp_profiles: profiles(pppProfileSchema).optional(),
  ethernet_profiles: profiles(ethernetProfileSchema).optional(),
  peer_profiles: profiles(peerProfileSchema).optional(),
  tunnels: list(tunnelSchema).optional(),
  pools: profiles(poolSchema).optional(),
  aaa: aaaSchema.optional(),
});

/** The validated file, before inheritance and defaults. */
export type ConfigFile = z.output<typeof configFileSchema>;
export type RawTunnelProfile = z.output<typeof tunnelProfileSchema>;
export type RawSessionProfile = z.output<typeof sessionProfileSchema>;
export type RawPppProfile = z.output<typeof pppProfileSchema>;
export type RawEthernetProfile = z.output<typeof ethernetProfileSchema>;
export type RawPeerProfile = z.output<typeof peerProfileSchema>;
export type RawTunnel = z.output<typeof tunnelSchema>;
export type RawPool = z.output<typeof poolSchema>;
export type RawAaa = z.output<typeof aaaSchema>;

/** The profile sections, in the order the file documents them. */
export const PROFILE_SECTIONS = {
  tunnel: 'tunnel_profiles',
  session: 'session_profiles',
  ppp: 'ppp_profiles',
  ethernet: 'ethernet_profiles',
  peer: 'peer_profiles',
} as const;
