/**
 * PPP termination for one shard, built from configuration: the PPP pseudowire factory with each
 * session's options (its PPP profile via the peer/session profiles), the credential verifier
 * (local users file or RADIUS) and the address pools.
 *
 * Pools are per process but addresses must never be handed out twice: every shard builds the same
 * pool and keeps only its share (the i-th address of the pool's allocation order goes to shard
 * i % shards). A RADIUS Framed-IP-Address outside this shard's share falls back to the next free
 * address of the share.
 */
import type { Logger } from 'pino';
import { Ipv4Pool, LocalUsersVerifier, RadiusClient, RadiusVerifier } from '../aaa/index.js';
import type { Config, PppProfile } from '../config/index.js';
import type { PseudowireFactory } from '../actors/pseudowire.js';
import type { SessionData } from '../actors/session-messages.js';
import type { CredentialVerifier } from '../ppp/auth/types.js';
import { pppPseudowire, type PppSessionOptions } from '../ppp/l2tp-pseudowire.js';
import type { AddressAllocator } from '../ppp/types.js';
import type { Clock } from '../transport/clock.js';

export interface PppService {
  pseudowire: PseudowireFactory;
  close(): void;
}

/** This shard's share of a pool. */
export function shardPool(name: string, ranges: readonly string[], exclude: readonly string[], shards: number, index: number): Ipv4Pool {
  const pool = new Ipv4Pool(name, ranges, { exclude });
  if (shards <= 1) return pool;
  const all: string[] = [];
  for (let a = pool.allocate(); a !== undefined; a = pool.allocate()) all.push(a);
  all.forEach((a, i) => {
    if (i % shards === index) pool.release(a);
  });
  return pool;
}

export async function createPppService(o: {
  config: Config;
  shards: number;
  index: number;
  clock: Clock;
  log: Logger;
  /** Which PPP profile a session uses (from its tunnel's peer profile and session profile). */
  pppProfileOf(session: SessionData): PppProfile | undefined;
}): Promise<PppService> {
  const { config } = o;
  const pools = new Map<string, AddressAllocator>();
  for (const p of config.pools.values()) {
    if (p.ipv4.length > 0) pools.set(p.name, shardPool(p.name, p.ipv4, p.ipv4Exclude, o.shards, o.index));
  }
  // A users file that cannot be read fails authentication of the sessions that use it (said loudly,
  // once) instead of stopping the daemon: tunnels and other profiles keep working.
  let local: LocalUsersVerifier | undefined;
  if (config.aaa.localUsers) {
    try {
      local = await LocalUsersVerifier.fromFile(config.aaa.localUsers);
    } catch (e) {
      o.log.error({ file: config.aaa.localUsers, err: e instanceof Error ? e.message : String(e) }, 'local users file unusable: PPP sessions with aaa: local will fail authentication');
    }
  }
  const r = config.aaa.radius;
  const radiusClient = r
    ? new RadiusClient({
        servers: r.servers.map((s) => ({ host: s.host, port: s.port, secret: s.secret })),
        timeoutMs: r.timeoutMs,
        retries: r.retries,
        deadTimeMs: r.deadTimeMs,
        requireMessageAuthenticator: r.requireMessageAuthenticator,
        log: o.log,
      })
    : undefined;
  const radius = radiusClient
    ? new RadiusVerifier(radiusClient, { nas: { identifier: r!.nasIdentifier, ...(r!.nasIpAddress ? { ipAddress: r!.nasIpAddress } : {}) } })
    : undefined;

  const verifierFor = (profile: PppProfile, s: SessionData): CredentialVerifier | undefined =>
    profile.aaa === 'radius'
      ? radius?.forSession({
          sessionId: s.localSessionId,
          tunnelId: s.localTunnelId,
          ...(s.callingNumber !== undefined ? { callingNumber: s.callingNumber } : {}),
          ...(s.calledNumber !== undefined ? { calledNumber: s.calledNumber } : {}),
        })
      : local;

  const optionsFor = (s: SessionData): PppSessionOptions | undefined => {
    // Only calls the peer placed toward us are ours to terminate; a LAC forwards its subscribers' PPP.
    if (s.callType !== 'lnsIncoming' && s.callType !== 'lnsOutgoing') return undefined;
    const profile = o.pppProfileOf(s);
    if (!profile) return undefined;
    const verifier = verifierFor(profile, s);
    const pool = pools.get(profile.pool);
    return {
      auth: profile.auth,
      ...(verifier ? { verifier } : {}),
      // RADIUS may name another pool (Framed-Pool); the address hint (Framed-IP-Address) the engine passes itself.
      allocator: (attributes) => {
        // RADIUS Framed-IP-Address outside every local pool (a static address): handed out as is.
        const fixed = attributes?.['framedIpAddress'];
        if (typeof fixed === 'string' && ![...pools.values()].some((p) => (p as Ipv4Pool).contains?.(fixed))) {
          return { allocate: () => fixed, release: () => undefined };
        }
        const named = typeof attributes?.['framedPool'] === 'string' ? pools.get(attributes['framedPool'] as string) : undefined;
        return named ?? pool;
      },
      dns: profile.dns,
      mru: profile.mru,
      echoIntervalMs: profile.lcpEchoIntervalMs,
      echoFailures: profile.lcpEchoFailures,
      ipv6cp: profile.ipv6,
      proxyLcp: profile.proxyLcp,
      restartMs: profile.restartTimerMs,
      maxConfigure: profile.maxConfigure,
      maxFailure: profile.maxFailure,
    };
  };

  return {
    pseudowire: pppPseudowire({ role: 'server', clock: o.clock, log: o.log, optionsFor }),
    close: () => radiusClient?.close(),
  };
}
