/**
 * Management calls a shard answers (the main thread fans out or routes them by tunnel ID).
 */
import { echoStatsIfUsed } from '../dataplane/kernel/native.js';
import type { Logger } from 'pino';
import { Shard, ShardError } from './shard.js';
import { tunnelInfo } from './views.js';
import type { PppService } from './ppp-service.js';
import type { SessionSelector } from '../aaa/index.js';

type Params = Record<string, unknown>;

const num = (p: Params, k: string): number => {
  const v = p[k];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ShardError(`parameter ${k} must be an integer`, 'bad-request');
  return v;
};
const optStr = (p: Params, k: string): string | undefined => (typeof p[k] === 'string' ? (p[k] as string) : undefined);

export async function handleShardRpc(shard: Shard, method: string, params: unknown, log: Logger, ppp?: PppService): Promise<unknown> {
  const p = (params ?? {}) as Params;
  switch (method) {
    case 'tunnels.list':
      return shard.listTunnels();
    case 'tunnels.get': {
      const id = num(p, 'tunnelId');
      const t = shard.tunnels.get(id);
      if (!t) throw new ShardError(`no tunnel ${id}`, 'not-found');
      const counters = (await shard.o.dataPlane.counters(id).catch(() => undefined)) ?? null;
      return { ...tunnelInfo(t, shard.o.index), counters, sessions: shard.listSessions(id) };
    }
    case 'tunnels.create': {
      const peer = p['peer'] as { address: string; port: number };
      const local = p['local'] as { address: string; port: number } | undefined;
      const version = p['version'] as 2 | 3 | undefined;
      return shard.createTunnel({
        peer,
        profile: optStr(p, 'profile') ?? 'default',
        ...(local ? { local } : {}),
        ...(version ? { version } : {}),
        ...(optStr(p, 'name') ? { name: optStr(p, 'name')! } : {}),
        persistent: p['persistent'] === true,
        ...(Array.isArray(p['sessions']) ? { sessions: p['sessions'] as NonNullable<Parameters<Shard['createTunnel']>[0]['sessions']> } : {}),
      });
    }
    case 'tunnels.delete':
      shard.deleteTunnel(num(p, 'tunnelId'));
      return { ok: true };
    case 'sessions.list':
      return shard.listSessions(p['tunnelId'] === undefined ? undefined : num(p, 'tunnelId'));
    case 'sessions.get': {
      const s = shard.session(num(p, 'tunnelId'), num(p, 'sessionId'));
      if (!s) throw new ShardError(`no session ${String(p['tunnelId'])}/${String(p['sessionId'])}`, 'not-found');
      const info = shard.listSessions(s.data.localTunnelId).find((x) => x.sessionId === s.localSessionId);
      // Data counters (the kernel's per-session statistics, or the null plane's userspace count).
      const counters = (await shard.o.dataPlane.counters(s.data.localTunnelId, s.localSessionId).catch(() => undefined)) ?? null;
      return { ...info, counters };
    }
    case 'sessions.create': {
      const type = p['type'] === 'lns-outgoing' ? 'lnsOutgoing' : 'lacIncoming';
      const extra: Record<string, string> = {};
      if (optStr(p, 'callingNumber')) extra['callingNumber'] = optStr(p, 'callingNumber')!;
      if (optStr(p, 'calledNumber')) extra['calledNumber'] = optStr(p, 'calledNumber')!;
      return shard.createSession(num(p, 'tunnelId'), type, extra);
    }
    case 'sessions.delete':
      shard.deleteSession(num(p, 'tunnelId'), num(p, 'sessionId'));
      return { ok: true };
    case 'trace.set': {
      const level = optStr(p, 'level') ?? 'info';
      if (p['tunnelId'] === undefined) {
        log.level = level;
        return { ok: true };
      }
      const t = shard.tunnels.get(num(p, 'tunnelId'));
      if (!t) throw new ShardError(`no tunnel ${String(p['tunnelId'])}`, 'not-found');
      t.setTrace(level, p['sessionId'] === undefined ? undefined : num(p, 'sessionId'));
      return { ok: true };
    }
    case 'dataplane.lost': {
      // The kernel object was deleted behind our back (ip l2tp del): tear down properly, tell the peer.
      const tunnelId = num(p, 'tunnelId');
      if (p['sessionId'] === undefined) {
        if (!shard.tunnels.has(tunnelId)) return { ok: false };
        shard.deleteTunnel(tunnelId, 'kernel tunnel deleted outside l2tpd');
        return { ok: true };
      }
      if (!shard.tunnels.get(tunnelId)?.sessions.has(num(p, 'sessionId'))) return { ok: false };
      shard.deleteSession(tunnelId, num(p, 'sessionId'), 'kernel session deleted outside l2tpd');
      return { ok: true };
    }
    case 'sessions.disconnect': {
      // RFC 5176 Disconnect-Request: every matching PPP session of this shard gets a CDN.
      const found = ppp?.match((p['selector'] ?? {}) as SessionSelector) ?? [];
      for (const m of found) shard.deleteSession(m.tunnelId, m.sessionId, 'disconnected by the RADIUS server');
      return { count: found.length };
    }
    case 'sessions.coa': {
      const num = (k: string) => (typeof p[k] === 'number' ? { [k]: p[k] as number } : {});
      return { count: ppp?.applyCoa((p['selector'] ?? {}) as SessionSelector, { ...num('sessionTimeout'), ...num('idleTimeout') }) ?? 0 };
    }
    case 'sessions.match':
      return { count: (ppp?.match((p['selector'] ?? {}) as SessionSelector) ?? []).length };
    case 'stats':
      return { ...shard.stats, tunnels: shard.tunnels.size, sessions: shard.sessionCount(), ...nativeEchoStats() };
    case 'shutdown':
      await shard.closeAll(typeof p['ms'] === 'number' ? (p['ms'] as number) : 3000);
      shard.flush();
      return { ok: true };
    case 'flush':
      shard.flush();
      return { ok: true };
    default:
      throw new ShardError(`unknown shard method ${method}`, 'bad-request');
  }
}

/** LCP keepalives run by the addon in this worker (null data plane, native sockets): l2tpctl stats shows them. */
function nativeEchoStats(): Record<string, number> {
  const e = echoStatsIfUsed();
  return e ? { nativeEchoKeepalives: e.entries, nativeEchoRequestsSent: e.sent, nativeEchoRepliesTaken: e.replies, nativeEchoDeadLinks: e.dead, nativeEchoSendErrors: e.sendErrors } : {};
}
