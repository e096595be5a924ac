/**
 * Resolution of the five profile types: inherit, convert to the camelCase types, and check the rules
 * that span fields. A rule is reported on the profile that sets one of the fields involved: a child
 * that changes none of them has the same values as its nearest ancestor that does, which is
 * reported already, so one mistake gives one error.
 */
import { PseudowireTypes } from '../protocol/avp-table.js';
import {
  BUILTIN_ETHERNET, BUILTIN_PEER, BUILTIN_PPP, BUILTIN_SESSION, BUILTIN_TUNNEL,
} from './defaults.js';
import { formatDuration } from './duration.js';
import type { ConfigIssue } from './errors.js';
import { inheritAll, parentsIn } from './inherit.js';
import { DEFAULT_PROFILE } from './references.js';
import type { ConfigFile } from './schema.js';
import type { ConfigSource } from './source.js';
import type {
  AaaConfig, EthernetProfile, PeerProfile, PppProfile, ProfileKind, ProfileTypes, SessionProfile, TunnelProfile,
} from './types.js';

export type ProfileMaps = { readonly [K in ProfileKind]: ReadonlyMap<string, ProfileTypes[K]> };

const PSEUDOWIRE_TYPE = {
  ppp: PseudowireTypes.Ppp,
  ethernet: PseudowireTypes.Ethernet,
  ethernet_vlan: PseudowireTypes.EthernetVlan,
} as const;

class RuleChecker {
  constructor(
    private readonly source: ConfigSource,
    private readonly issues: ConfigIssue[],
  ) {}

  /** Reports `message` at the first of `fields` that `section.name` sets, if it sets any. */
  rule(broken: boolean, section: string, name: string, fields: readonly string[], message: string): void {
    if (!broken) return;
    const set = fields.find((f) => this.source.has([section, name, f]));
    if (set !== undefined) this.issues.push(this.source.issue([section, name, set], message));
  }
}

export function resolveProfiles(file: ConfigFile, hostname: string, aaa: AaaConfig, source: ConfigSource, issues: ConfigIssue[]): ProfileMaps {
  const check = new RuleChecker(source, issues);
  const convert = <F extends object, T>(m: Map<string, F>, f: (name: string, p: F) => T): Map<string, T> =>
    new Map([...m].map(([n, p]) => [n, f(n, p)]));

  const tunnel = convert(inheritAll(file.tunnel_profiles, BUILTIN_TUNNEL), (name, p): TunnelProfile => {
    const s = 'tunnel_profiles';
    const noSecret = p.secret === undefined;
    check.rule(p.auth_mode === 'challenge' && noSecret, s, name, ['auth_mode'],
      'challenge needs a secret (set secret here or in a profile this one inherits from)');
    check.rule(p.hide_avps && noSecret, s, name, ['hide_avps'], 'hiding AVPs needs a secret: they are hidden with the shared secret (RFC 2661 §4.3)');
    check.rule(p.encapsulation === 'ip' && p.version !== 3, s, name, ['encapsulation', 'version'],
      'IP encapsulation exists only in L2TPv3 (RFC 3931 §4.1.1): set version: 3 or encapsulation: udp');
    check.rule(p.retransmit.initial > p.retransmit.cap, s, name, ['retransmit'],
      `retransmit.initial (${formatDuration(p.retransmit.initial)}) must not exceed retransmit.cap (${formatDuration(p.retransmit.cap)})`);
    return {
      name, version: p.version, encapsulation: p.encapsulation, authMode: p.auth_mode, secret: p.secret,
      hideAvps: p.hide_avps, digest: p.digest, receiveWindowSize: p.receive_window_size,
      helloIntervalMs: p.hello_interval, retransmitInitialMs: p.retransmit.initial,
      retransmitCapMs: p.retransmit.cap, maxRetransmits: p.retransmit.max_retries,
      ackDelayMs: p.ack_delay, ackDelayUnansweredMs: p.ack_delay_unanswered, hostName: p.host_name ?? hostname,
    };
  });

  const session = convert(inheritAll(file.session_profiles, BUILTIN_SESSION), (name, p): SessionProfile => ({
    name, sequencing: p.sequencing, pseudowire: p.pseudowire, pseudowireType: PSEUDOWIRE_TYPE[p.pseudowire],
    cookieLength: p.cookie_length, l2SpecificSublayer: p.l2_specific_sublayer,
    pppProfile: p.ppp_profile, ethernetProfile: p.ethernet_profile,
  }));

  const ppp = convert(inheritAll(file.ppp_profiles, BUILTIN_PPP), (name, p): PppProfile => {
    const dup = p.auth.findIndex((a, i) => p.auth.indexOf(a) !== i);
    if (dup >= 0 && source.has(['ppp_profiles', name, 'auth'])) {
      issues.push(source.issue(['ppp_profiles', name, 'auth', dup], `"${p.auth[dup]}" is listed twice`));
    }
    const dupDns = p.dns.findIndex((a, i) => p.dns.indexOf(a) !== i);
    if (dupDns >= 0 && source.has(['ppp_profiles', name, 'dns'])) {
      issues.push(source.issue(['ppp_profiles', name, 'dns', dupDns], `"${p.dns[dupDns]}" is listed twice`));
    }
    // Only on a profile that sets `aaa` itself: the built-in `local` with no users file is a working
    // tunnel endpoint whose PPP authenticates nobody, and the empty file must stay valid.
    check.rule(p.aaa === 'radius' && aaa.radius === null, 'ppp_profiles', name, ['aaa'],
      'aaa: radius needs RADIUS servers (set aaa.radius.servers)');
    check.rule(p.aaa === 'local' && aaa.localUsers === null, 'ppp_profiles', name, ['aaa'],
      'aaa: local needs a users file (set aaa.local_users)');
    check.rule((p.user === null) !== (p.password === null), 'ppp_profiles', name, ['user', 'password'],
      'user and password go together: the subscriber side needs both');
    return {
      name, mru: p.mru, lcpEchoIntervalMs: p.lcp_echo_interval, lcpEchoFailures: p.lcp_echo_failures, auth: [...new Set(p.auth)],
      pool: p.pool, dns: [...new Set(p.dns)], localAddress: p.local_address, ipv6: p.ipv6, aaa: p.aaa, restartTimerMs: p.restart_timer,
      maxConfigure: p.max_configure, maxFailure: p.max_failure, proxyLcp: p.proxy_lcp, terminate: p.terminate,
      client: p.user !== null && p.password !== null ? { user: p.user, password: p.password } : null,
    };
  });

  const ethernet = convert(inheritAll(file.ethernet_profiles, BUILTIN_ETHERNET), (name, p): EthernetProfile => ({
    name, interfaceName: p.interface_name, mtu: p.mtu, bridge: p.bridge, vlanId: p.vlan_id,
  }));

  const parents = parentsIn(file.peer_profiles);
  const peer = convert(inheritAll(file.peer_profiles, BUILTIN_PEER), (name, p): PeerProfile => {
    const own = file.peer_profiles?.[name]?.match;
    const path = ['peer_profiles', name];
    if (name === DEFAULT_PROFILE && own !== undefined) {
      issues.push(source.issue([...path, 'match'], 'the default peer profile applies to every peer that no other profile matches, so it takes no match', { key: true }));
    } else if (own !== undefined && own.host_name === undefined && own.address === undefined) {
      issues.push(source.issue([...path, 'match'], 'match needs host_name, address, or both'));
    } else if (name !== DEFAULT_PROFILE && own === undefined && !parents.has(name)) {
      issues.push(source.issue(path, 'has no match, so no peer would ever use it (add match: { host_name: ... } and/or { address: ... })', { key: true }));
    }
    const match = name === DEFAULT_PROFILE || own === undefined ? undefined : {
      ...(own.host_name === undefined ? {} : { hostName: own.host_name }),
      ...(own.address === undefined ? {} : { address: own.address }),
    };
    return {
      name, match, accept: p.accept, tunnelProfile: p.tunnel_profile, sessionProfile: p.session_profile,
      pppProfile: p.ppp_profile ?? null, lac: p.lac, lns: p.lns,
    };
  });

  // RFC 4719: an Ethernet-VLAN pseudowire carries one VLAN, so its interface needs the VLAN ID.
  for (const [name, sp] of session) {
    const ep = ethernet.get(sp.ethernetProfile);
    check.rule(sp.pseudowire === 'ethernet_vlan' && ep !== undefined && ep.vlanId === null, 'session_profiles', name, ['pseudowire', 'ethernet_profile'],
      `pseudowire ethernet_vlan needs vlan_id in ethernet profile ${sp.ethernetProfile}`);
  }
  return { tunnel, session, ppp, ethernet, peer };
}
