/**
 * From configuration to what the shard asks: which tunnel options an incoming SCCRQ gets (ProL2TP's
 * peer profiles, matched by host name or address) and the options of a named tunnel profile.
 */
import os from 'node:os';
import type { EthernetOptions, SessionOptions, TunnelOptions } from '../actors/options.js';
import type { Config } from '../config/index.js';
import type { PeerDecision, PeerPolicy, ShardLimits } from '../workers/shard.js';

const VENDOR = 'l2tpd (TypeScript L2TP concentrator)';

export function tunnelOptions(
  config: Config,
  tunnelProfile: string,
  sessionProfile: string,
  calls = { incoming: true, outgoing: true },
  pppProfile?: string | null,
): TunnelOptions {
  const tp = config.tunnelProfile(tunnelProfile);
  const sp = config.sessionProfile(sessionProfile);
  return {
    version: tp.version,
    encapsulation: tp.encapsulation,
    authMode: tp.authMode,
    secret: tp.secret === undefined ? undefined : Buffer.from(tp.secret, 'utf8'),
    hideAvps: tp.hideAvps,
    digest: tp.digest,
    receiveWindowSize: tp.receiveWindowSize,
    helloIntervalMs: tp.helloIntervalMs,
    retransmitInitialMs: tp.retransmitInitialMs,
    retransmitCapMs: tp.retransmitCapMs,
    maxRetransmits: tp.maxRetransmits,
    ackDelayMs: tp.ackDelayMs,
    ackDelayUnansweredMs: tp.ackDelayUnansweredMs,
    hostName: tp.hostName || config.system.hostname || os.hostname(),
    vendorName: VENDOR,
    routerId: config.system.routerId,
    maxSessions: config.system.limits.maxSessionsPerTunnel,
    acceptIncomingCalls: calls.incoming,
    acceptOutgoingCalls: calls.outgoing,
    session: sessionOptions(config, sessionProfile),
    pppProfile: pppProfile ?? sp.pppProfile,
  };
}

/** A session profile as the actors use it (a tunnel's default, or a configured session's own). */
export function sessionOptions(config: Config, sessionProfile: string): SessionOptions {
  const sp = config.sessionProfile(sessionProfile);
  return {
    pseudowire: sp.pseudowire,
    sequencing: sp.sequencing === 'required',
    cookieLength: sp.cookieLength,
    l2SpecificSublayer: sp.l2SpecificSublayer,
    ...(sp.pseudowire !== 'ppp' ? { ethernet: ethernetOf(config, sp.ethernetProfile) } : {}),
  };
}

/**
 * What a configured session takes from its own session profile, as session data: sequencing, sublayer,
 * cookie length and Ethernet interface (its pseudowire and PPP profile are set beside).
 */
export function ownSessionOptions(
  config: Config,
  sessionProfile: string,
  pseudowire: SessionOptions['pseudowire'],
): { sequencing: boolean; l2SpecificSublayer: 'none' | 'default'; cookieLength: 0 | 4 | 8; ethernet?: EthernetOptions } {
  const sp = config.sessionProfile(sessionProfile);
  return {
    sequencing: sp.sequencing === 'required',
    l2SpecificSublayer: sp.l2SpecificSublayer,
    cookieLength: sp.cookieLength,
    // The session's pseudowire may differ from its profile's: its Ethernet interface still comes from the profile.
    ...(pseudowire !== 'ppp' ? { ethernet: ethernetOf(config, sp.ethernetProfile) } : {}),
  };
}

function ethernetOf(config: Config, name: string): EthernetOptions {
  const ep = config.ethernetProfile(name);
  return { interfaceName: ep.interfaceName, mtu: ep.mtu, bridge: ep.bridge, vlanId: ep.vlanId };
}

export function policyFromConfig(config: Config): PeerPolicy {
  return {
    incoming({ hostName, address }): PeerDecision {
      const peer = config.matchPeer({ ...(hostName !== undefined ? { hostName } : {}), address });
      const options = tunnelOptions(config, peer.tunnelProfile, peer.sessionProfile, { incoming: peer.lac, outgoing: peer.lns }, peer.pppProfile);
      const profile = peer.tunnelProfile;
      if (!peer.accept) return { accept: false, profile, options, reason: `peer profile ${peer.name} does not accept tunnels` };
      // auth_mode simple: the peer must be known by a peer profile of its own (host name or address match).
      if (options.authMode === 'simple' && peer.match === undefined) {
        return { accept: false, profile, options, reason: `host name ${hostName ?? '(none)'} is not a configured peer` };
      }
      if (options.authMode === 'challenge' && !options.secret) {
        return { accept: false, profile, options, reason: `tunnel profile ${profile} requires a secret` };
      }
      return { accept: true, profile, options };
    },
    profile(name) {
      try {
        return tunnelOptions(config, name, 'default');
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * A worker's limits: `limits.max_sessions` is the node's (the workers count their sessions in one shared array, so
 * it holds however unevenly tunnels landed on them); `max_tunnels` and `max_half_open_tunnels` apply per worker.
 */
export function shardLimits(config: Config): ShardLimits {
  const l = config.system.limits;
  return { maxTunnels: l.maxTunnels, maxHalfOpenTunnels: l.maxHalfOpenTunnels, maxSessions: l.maxSessions };
}
