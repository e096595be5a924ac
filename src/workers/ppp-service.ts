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
import {
  Accounting,
  Ipv4Pool,
  LocalUsersVerifier,
  newAcctSessionId,
  RadiusClient,
  RadiusVerifier,
  type AccountingSession,
  type SessionSelector,
  type TerminateCause,
} from '../aaa/index.js';
import type { DataPlane } from '../dataplane/types.js';
import type { PppDownReason } from '../ppp/types.js';
import type { Config, PppProfile } from '../config/index.js';
import type { PseudowireFactory } from '../actors/pseudowire.js';
import type { SessionData } from '../actors/session-messages.js';
import type { CredentialVerifier } from '../ppp/auth/types.js';
import { pppPseudowire, type PppSessionOptions, type PppUpLink } from '../ppp/l2tp-pseudowire.js';
import type { AddressAllocator } from '../ppp/types.js';
import type { Clock } from '../transport/clock.js';
import { pppServiceRecord, restorePppService } from './ppp-session-state.js';

export interface PppService {
  pseudowire: PseudowireFactory;
  /** Sessions whose PPP is up and match a Disconnect/CoA selector (RFC 5176 §3): tunnel and session IDs. */
  match(selector: SessionSelector): { tunnelId: number; sessionId: number }[];
  /** RFC 5176 CoA: a new Session-Timeout (seconds from now; 0 removes it) for the matching sessions. */
  /** RFC 5176 CoA: new Session-Timeout and/or Idle-Timeout (seconds, 0 = none) for the matching sessions; how many matched. */
  applyCoa(selector: SessionSelector, changes: { sessionTimeout?: number; idleTimeout?: number }): number;
  close(): void;
}

/** RFC 2866 §5.10 Acct-Terminate-Cause for PPP's reason to go down. */
export function terminateCauseOf(r: PppDownReason): TerminateCause {
  switch (r.cause) {
    case 'peer-terminate':
      return 'User-Request';
    case 'echo-timeout':
    case 'lower-down':
      return 'Lost-Carrier';
    case 'admin':
      return 'Admin-Reset';
    default:
      return 'NAS-Error';
  }
}

interface LiveSession {
  tunnelId: number;
  sessionId: number;
  acct: AccountingSession;
  interim?: ReturnType<Clock['setTimeout']>;
  /** RADIUS Session-Timeout (RFC 2865 §5.27): the session ends when it fires. */
  timeout?: ReturnType<Clock['setTimeout']>;
  /** The session and how to ask its data plane for idleness (CoA may change Idle-Timeout later). */
  data?: SessionData;
  idleSeconds?: () => number | undefined;
  /** RADIUS Idle-Timeout (RFC 2865 §5.28): the next idleness check. */
  idle?: ReturnType<Clock['setTimeout']>;
  /** Null data plane: packets seen at the last idleness check, and when they last changed. */
  lastPackets?: number;
  lastActiveAt?: number;
  /** Set when we end the session for a reason accounting names itself. */
  cause?: TerminateCause;
  close: (message: string) => void;
  /** For the session's record (ppp-session-state.ts): the timers still to come, and how to ask for a new write. */
  interimMs?: number;
  timeoutAt?: number;
  timeoutSeconds?: number;
  idleTimeout?: number;
  stateChanged?: () => void;
}

/** This shard's share of a pool: of its free addresses in allocation order, every `shards`-th from `index`. */
export function shardPool(name: string, ranges: readonly string[], exclude: readonly string[], shards: number, index: number): Ipv4Pool {
  const pool = new Ipv4Pool(name, ranges, { exclude });
  pool.keepShare(shards, index);
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
  dataPlane?: DataPlane;
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

  const accountingClient =
    r && r.accountingServers.length > 0
      ? new RadiusClient({ servers: r.accountingServers.map((x) => ({ host: x.host, port: x.port, secret: x.secret })), timeoutMs: r.timeoutMs, retries: r.retries, deadTimeMs: r.deadTimeMs, log: o.log })
      : undefined;
  const accounting = accountingClient
    ? new Accounting(accountingClient, { nas: { identifier: r!.nasIdentifier, ...(r!.nasIpAddress ? { ipAddress: r!.nasIpAddress } : {}) }, log: o.log })
    : undefined;
  const live = new Map<string, LiveSession>();
  const key = (s: SessionData) => `${s.localTunnelId}/${s.localSessionId}`;
  const counters = async (s: SessionData) => {
    const c = await o.dataPlane?.counters(s.localTunnelId, s.localSessionId);
    return { inputOctets: c?.rxBytes ?? 0, outputOctets: c?.txBytes ?? 0, inputPackets: c?.rxPackets ?? 0, outputPackets: c?.txPackets ?? 0 };
  };
  const scheduleInterim = (l: LiveSession, s: SessionData, everyMs: number) => {
    l.interimMs = everyMs;
    // Jittered ±10% so sessions that came up together do not report together (DESIGN.md).
    const delay = Math.round(everyMs * (0.9 + Math.random() * 0.2));
    l.interim = o.clock.setTimeout(() => {
      void counters(s).then((c) => accounting?.interim(l.acct, c));
      scheduleInterim(l, s, everyMs);
    }, delay);
  };
  /**
   * Idle-Timeout: the kernel data plane tells how long the interface has carried no data (PPPIOCGIDLE:
   * data only, LCP echo does not count); the null data plane only has the session's packet counters, where
   * every data message (LCP echo too) is activity. Checked when the limit could next be reached, not polled.
   */
  const armIdleTimeout = (l: LiveSession, s: SessionData, seconds: number, idleSeconds: () => number | undefined) => {
    if (l.idle) o.clock.clearTimeout(l.idle);
    l.idle = undefined;
    l.idleTimeout = seconds > 0 ? seconds : undefined;
    l.stateChanged?.();
    if (seconds <= 0) return;
    const check = async () => {
      l.idle = undefined;
      let idleFor = idleSeconds();
      if (idleFor === undefined) {
        const c = await o.dataPlane?.counters(s.localTunnelId, s.localSessionId).catch(() => undefined);
        const packets = (c?.rxPackets ?? 0) + (c?.txPackets ?? 0);
        const now = o.clock.now();
        if (l.lastPackets !== packets || l.lastActiveAt === undefined) {
          l.lastPackets = packets;
          l.lastActiveAt = now;
        }
        idleFor = (now - l.lastActiveAt) / 1000;
      }
      if (!live.has(key(s))) return;
      if (idleFor >= seconds) {
        l.cause = 'Idle-Timeout';
        l.close(`Idle-Timeout of ${seconds} s reached`);
        return;
      }
      l.idle = o.clock.setTimeout(() => void check(), Math.max(1000, (seconds - idleFor) * 1000));
    };
    l.lastActiveAt = o.clock.now();
    l.idle = o.clock.setTimeout(() => void check(), seconds * 1000);
  };
  const onUp = (
    s: SessionData,
    info: { user?: string; address?: string; attributes?: Record<string, unknown> },
    { close, idleSeconds, stateChanged }: PppUpLink,
  ) => {
    const acct: AccountingSession = {
      acctSessionId: newAcctSessionId(`${o.index.toString(16)}`),
      user: info.user ?? '',
      startedAt: Date.now(),
      sessionId: s.localSessionId,
      tunnelId: s.localTunnelId,
      ...(info.address ? { framedIpAddress: info.address } : {}),
      ...(s.callingNumber !== undefined ? { callingNumber: s.callingNumber } : {}),
      ...(s.calledNumber !== undefined ? { calledNumber: s.calledNumber } : {}),
      ...(Array.isArray(info.attributes?.['class']) ? { class: info.attributes['class'] as Buffer[] } : {}),
      authentic: info.attributes?.['outcome'] !== undefined ? 'RADIUS' : 'Local',
    };
    const l: LiveSession = { tunnelId: s.localTunnelId, sessionId: s.localSessionId, acct, close, data: s, idleSeconds, stateChanged };
    live.set(key(s), l);
    const limit = info.attributes?.['sessionTimeout'];
    if (typeof limit === 'number' && limit > 0) armSessionTimeout(l, limit);
    const idle = info.attributes?.['idleTimeout'];
    if (typeof idle === 'number' && idle > 0) armIdleTimeout(l, s, idle, idleSeconds);
    if (accounting) {
      void accounting.start(acct);
      const every = typeof info.attributes?.['acctInterimInterval'] === 'number' ? (info.attributes['acctInterimInterval'] as number) * 1000 : r!.interimIntervalMs;
      if (every > 0) scheduleInterim(l, s, every);
    }
  };
  /** `at`: a restored session's deadline (Clock time), so it keeps what was left of its limit. */
  const armSessionTimeout = (l: LiveSession, seconds: number, at = o.clock.now() + seconds * 1000) => {
    if (l.timeout) o.clock.clearTimeout(l.timeout);
    l.timeout = l.timeoutAt = l.timeoutSeconds = undefined;
    l.stateChanged?.();
    if (seconds <= 0) return;
    l.timeoutAt = at;
    l.timeoutSeconds = seconds;
    l.timeout = o.clock.setTimeout(() => {
      l.cause = 'Session-Timeout';
      l.close(`Session-Timeout of ${seconds} s reached`);
    }, Math.max(0, at - o.clock.now()));
  };
  /** A session resumed after a worker restart: the same accounting session (no second Start), its timers re-armed. */
  const onRestore = (s: SessionData, info: { user?: string; address?: string; attributes?: Record<string, unknown> }, saved: unknown, link: PppUpLink) => {
    const r = restorePppService(saved);
    if (!r) return onUp(s, info, link); // nothing recorded for it: accounting sees a new session
    const l: LiveSession = { tunnelId: s.localTunnelId, sessionId: s.localSessionId, acct: r.acct, close: link.close, data: s, idleSeconds: link.idleSeconds, stateChanged: link.stateChanged };
    live.set(key(s), l);
    if (r.sessionTimeout) armSessionTimeout(l, r.sessionTimeout.seconds, r.sessionTimeout.at);
    if (r.idleTimeout) armIdleTimeout(l, s, r.idleTimeout, link.idleSeconds);
    if (accounting && r.interimMs) scheduleInterim(l, s, r.interimMs);
  };
  const stateOf = (s: SessionData) => {
    const l = live.get(key(s));
    return l ? pppServiceRecord(l) : undefined;
  };
  const onDown = (s: SessionData, reason: PppDownReason) => {
    const l = live.get(key(s));
    if (!l) return;
    live.delete(key(s));
    if (l.interim) o.clock.clearTimeout(l.interim);
    if (l.timeout) o.clock.clearTimeout(l.timeout);
    if (l.idle) o.clock.clearTimeout(l.idle);
    if (accounting) void counters(s).then((c) => accounting.stop(l.acct, c, l.cause ?? terminateCauseOf(reason)));
  };

  const matchSessions = (sel: SessionSelector): { tunnelId: number; sessionId: number }[] => {
    const out: { tunnelId: number; sessionId: number }[] = [];
    for (const l of live.values()) {
      const a = l.acct;
      const checks: boolean[] = [];
      if (sel.acctSessionId !== undefined) checks.push(sel.acctSessionId === a.acctSessionId);
      if (sel.user !== undefined) checks.push(sel.user === a.user);
      if (sel.framedIpAddress !== undefined) checks.push(sel.framedIpAddress === a.framedIpAddress);
      if (sel.nasPort !== undefined) checks.push(sel.nasPort === l.sessionId);
      if (sel.callingStationId !== undefined) checks.push(sel.callingStationId === a.callingNumber);
      // RFC 5176 §3: every identification attribute given must match; none given matches nothing.
      if (checks.length > 0 && checks.every(Boolean)) out.push({ tunnelId: l.tunnelId, sessionId: l.sessionId });
    }
    return out;
  };

  const verifierFor = (profile: PppProfile, s: SessionData): CredentialVerifier | undefined =>
    profile.aaa === 'radius'
      ? radius?.forSession({
          sessionId: s.localSessionId,
          tunnelId: s.localTunnelId,
          ...(s.callingNumber !== undefined ? { callingNumber: s.callingNumber } : {}),
          ...(s.calledNumber !== undefined ? { calledNumber: s.calledNumber } : {}),
        })
      : local;

  // Calls we placed as LAC with a ppp profile that has credentials: our PPP is the subscriber's.
  const clientOptionsFor = (s: SessionData): PppSessionOptions | undefined => {
    if (s.callType !== 'lacIncoming' && s.callType !== 'lacOutgoing') return undefined;
    const profile = o.pppProfileOf(s);
    if (!profile?.client) return undefined;
    return {
      auth: profile.auth,
      credentials: { user: profile.client.user, password: profile.client.password },
      mru: profile.mru,
      echoIntervalMs: profile.lcpEchoIntervalMs,
      echoFailures: profile.lcpEchoFailures,
      ipv6cp: profile.ipv6,
      restartMs: profile.restartTimerMs,
      maxConfigure: profile.maxConfigure,
      maxFailure: profile.maxFailure,
    };
  };

  const optionsFor = (s: SessionData): PppSessionOptions | undefined => {
    // Only calls the peer placed toward us are ours to terminate; a LAC forwards its subscribers' PPP.
    if (s.callType !== 'lnsIncoming' && s.callType !== 'lnsOutgoing') return undefined;
    const profile = o.pppProfileOf(s);
    if (!profile || !profile.terminate) return undefined;
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
      ...(profile.localAddress ? { localAddress: profile.localAddress } : {}),
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

  // RADIUS Framed-Route / users-file route=: IPv4 prefixes behind the subscriber, routed to its interface.
  const routesFor = (info: { attributes?: Record<string, unknown> }): string[] => {
    const routes = info.attributes?.['framedRoutes'];
    if (!Array.isArray(routes)) return [];
    return (routes as { prefix?: string }[]).flatMap((r) => (r.prefix && !r.prefix.includes(':') ? [r.prefix] : []));
  };
  const server = pppPseudowire({ role: 'server', clock: o.clock, log: o.log, optionsFor, onUp, onRestore, stateOf, onDown, routesFor });
  const client = pppPseudowire({ role: 'client', clock: o.clock, log: o.log, optionsFor: clientOptionsFor });
  const pseudowire: PseudowireFactory = (pw) => server(pw) ?? client(pw);
  pseudowire.restore = (pw, state) => server.restore!(pw, state) ?? client.restore!(pw, state);
  return {
    pseudowire,
    applyCoa(sel, changes) {
      const found = matchSessions(sel);
      for (const m of found) {
        const l = live.get(`${m.tunnelId}/${m.sessionId}`);
        if (!l) continue;
        if (changes.sessionTimeout !== undefined) armSessionTimeout(l, changes.sessionTimeout);
        if (changes.idleTimeout !== undefined && l.data && l.idleSeconds) armIdleTimeout(l, l.data, changes.idleTimeout, l.idleSeconds);
      }
      return found.length;
    },
    match: (sel) => matchSessions(sel),
    close: () => {
      radiusClient?.close();
      accountingClient?.close();
    },
  };
}
