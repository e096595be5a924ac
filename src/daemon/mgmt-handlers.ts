/**
 * The management API's methods, answered by fanning out to the shards (lists, stats) or by routing
 * to the one shard that owns a tunnel ID (its residue). Shard errors keep their codes, so
 * `l2tpctl` can tell "not found" from "refused".
 */
import type { DataPlaneCounters } from '../dataplane/types.js';
import { MgmtError, parseEndpoint, type MgmtHandlers, type SessionInfo, type TunnelInfo } from '../mgmt/protocol.js';
import type { Daemon } from './daemon.js';
import { shardOfPeer, VERSION } from './daemon.js';
import { ShardCallError, type ShardHost } from './shard-host.js';

function mapError(e: unknown): never {
  if (e instanceof ShardCallError) {
    const code = (['bad-request', 'not-found', 'refused', 'limit', 'internal'] as const).find((c) => c === e.code) ?? 'internal';
    throw new MgmtError(code, e.message);
  }
  throw e;
}

async function all<T>(d: Daemon, method: string, params: unknown = {}): Promise<T[]> {
  return Promise.all(d.shards.map((s) => s.call(method, params).catch(mapError) as Promise<T>));
}

function owner(d: Daemon, tunnelId: number): ShardHost {
  return d.shards[tunnelId % d.shards.length]!;
}

export function managementHandlers(d: Daemon): MgmtHandlers {
  return {
    'system.status': async () => {
      const stats = await all<Record<string, number>>(d, 'stats');
      return {
        version: VERSION,
        pid: process.pid,
        uptimeSeconds: Math.round((Date.now() - d.startedAt) / 1000),
        dataPlane: { kind: d.dataPlaneKind, reason: d.dataPlaneReason },
        shards: d.shards.length,
        tunnels: stats.reduce((n, s) => n + (s['tunnels'] ?? 0), 0),
        sessions: stats.reduce((n, s) => n + (s['sessions'] ?? 0), 0),
        configFile: d.o.configFile ?? null,
        listen: d.config.system.listen.map((e) => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`)),
      };
    },
    'tunnels.list': async () => (await all<TunnelInfo[]>(d, 'tunnels.list')).flat().sort((a, b) => a.tunnelId - b.tunnelId),
    'tunnels.get': async (p) => (await owner(d, p.tunnelId).call('tunnels.get', p).catch(mapError)) as TunnelInfo & { counters: DataPlaneCounters | null; sessions: SessionInfo[] },
    'tunnels.create': async (p) => {
      const peer = parseEndpoint(p.peer);
      if (!peer) throw new MgmtError('bad-request', `peer ${p.peer} is not ADDR[:PORT]`, 'peer');
      const local = p.local === undefined ? undefined : parseEndpoint(p.local, 0);
      if (p.local !== undefined && !local) throw new MgmtError('bad-request', `local ${p.local} is not an address`, 'local');
      // The shard that also receives this peer's SCCRQs (tie breakers meet there).
      const shard = d.shards[shardOfPeer(peer.address, d.shards.length)]!;
      return (await shard
        .call('tunnels.create', { peer, profile: p.profile ?? 'default', persistent: p.persistent ?? false, ...(p.version ? { version: p.version } : {}), ...(p.name ? { name: p.name } : {}), ...(local ? { local } : {}) })
        .catch(mapError)) as TunnelInfo;
    },
    'tunnels.delete': async (p) => (await owner(d, p.tunnelId).call('tunnels.delete', p).catch(mapError)) as { ok: true },
    'sessions.list': async (p) =>
      p.tunnelId !== undefined
        ? ((await owner(d, p.tunnelId).call('sessions.list', p).catch(mapError)) as SessionInfo[])
        : (await all<SessionInfo[]>(d, 'sessions.list')).flat(),
    'sessions.get': async (p) => (await owner(d, p.tunnelId).call('sessions.get', p).catch(mapError)) as SessionInfo & { counters: DataPlaneCounters | null },
    'sessions.create': async (p) => (await owner(d, p.tunnelId).call('sessions.create', p).catch(mapError)) as SessionInfo,
    'sessions.delete': async (p) => (await owner(d, p.tunnelId).call('sessions.delete', p).catch(mapError)) as { ok: true },
    'trace.set': async (p) => {
      if (p.tunnelId === undefined) {
        d.log.level = p.level;
        await all(d, 'trace.set', p);
      } else {
        await owner(d, p.tunnelId).call('trace.set', p).catch(mapError);
      }
      return { ok: true };
    },
    stats: async () => {
      const shards = await all<Record<string, number>>(d, 'stats');
      const totals: Record<string, number> = { ...d.stats };
      for (const s of shards) for (const [k, v] of Object.entries(s)) totals[k] = (totals[k] ?? 0) + v;
      return { shards, totals };
    },
    'shard.restart': async (p) => {
      const shard = d.shards[p.shard];
      if (!shard) throw new MgmtError('not-found', `no shard ${p.shard} (there are ${d.shards.length})`, 'shard');
      if (!p.crash) await shard.call('flush').catch(() => undefined);
      const restored = await shard.restart();
      return { ok: true, restored };
    },
    'config.reload': async () => {
      try {
        return { changed: d.reload() };
      } catch (e) {
        throw new MgmtError('refused', e instanceof Error ? e.message : String(e));
      }
    },
  };
}
