/**
 * From the validated file to the resolved configuration: system defaults, address pools (pools.ts),
 * AAA (aaa.ts), profiles (profiles.ts) and the tunnels we originate, with the checks that need
 * resolved profiles.
 */
import {
  cpuCount, DEFAULT_LIMITS, DEFAULT_LISTEN, DEFAULT_SOCKET_BUFFER, DEFAULT_MGMT_SOCKET, defaultHostname, routerIdFromHostname,
} from './defaults.js';
import type { ConfigIssue } from './errors.js';
import { deepFreeze } from './inherit.js';
import { parseEndpoint } from './ip.js';
import type { Endpoint } from './ip.js';
import { resolveAaa } from './aaa.js';
import { resolvePools } from './pools.js';
import { resolveProfiles } from './profiles.js';
import type { ProfileMaps } from './profiles.js';
import type { ConfigFile } from './schema.js';
import type { ConfigSource } from './source.js';
import type { AaaConfig, PoolConfig, SessionConfig, SystemConfig, TunnelConfig } from './types.js';

export interface ResolvedParts {
  readonly system: SystemConfig;
  readonly profiles: ProfileMaps;
  readonly tunnels: readonly TunnelConfig[];
  readonly pools: ReadonlyMap<string, PoolConfig>;
  readonly aaa: AaaConfig;
}

/** `overrides` (command-line flags, already validated) win over the file's `system` section. */
export function resolveConfig(
  file: ConfigFile,
  source: ConfigSource,
  overrides: Partial<SystemConfig> = {},
): { parts: ResolvedParts; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const system = { ...resolveSystem(file, source, issues), ...overrides };
  const pools = resolvePools(file, source, issues);
  const aaa = resolveAaa(file, system.hostname, source, issues);
  const profiles = resolveProfiles(file, system.hostname, aaa, source, issues);
  const tunnels = resolveTunnels(file, profiles, source, issues);
  return { parts: deepFreeze({ system, profiles, tunnels, pools, aaa }), issues };
}

function resolveSystem(file: ConfigFile, source: ConfigSource, issues: ConfigIssue[]): SystemConfig {
  const s = file.system ?? {};
  const hostname = s.hostname ?? defaultHostname();
  const listen = s.listen ?? [parseEndpoint(DEFAULT_LISTEN, 1701) as Endpoint];
  duplicates(listen.map(endpointKey), (i, first) =>
    issues.push(source.issue(['system', 'listen', i], `listed twice (first at line ${source.position(['system', 'listen', first]).line})`)),
  );
  const listenIp = s.listen_ip ?? [];
  duplicates(listenIp, (i, first) =>
    issues.push(source.issue(['system', 'listen_ip', i], `listed twice (first at line ${source.position(['system', 'listen_ip', first]).line})`)),
  );
  if (listenIp.length > 0 && s.dataplane === 'null') {
    // IP protocol 115 sockets come from the kernel data plane's native addon.
    issues.push(source.issue(['system', 'listen_ip'], 'L2TPv3 over IP needs the kernel data plane: set dataplane: kernel (or auto), or listen_ip: []'));
  }
  const limits = { ...DEFAULT_LIMITS, ...definedOnly(s.limits ?? {}) };
  return {
    hostname,
    listen,
    listenIp,
    dataplane: s.dataplane ?? 'auto',
    mgmtSocket: s.mgmt_socket ?? DEFAULT_MGMT_SOCKET,
    workers: s.workers === undefined || s.workers === 'auto' ? cpuCount() : s.workers,
    logLevel: s.log_level ?? 'info',
    routerId: s.router_id ?? routerIdFromHostname(hostname),
    socketBuffer: s.socket_buffer ?? DEFAULT_SOCKET_BUFFER,
    socketIo: s.socket_io ?? 'auto',
    limits: {
      maxTunnels: limits.max_tunnels,
      maxSessionsPerTunnel: limits.max_sessions_per_tunnel,
      maxHalfOpenTunnels: limits.max_half_open_tunnels,
      maxSessions: limits.max_sessions,
    },
  };
}

function resolveTunnels(file: ConfigFile, profiles: ProfileMaps, source: ConfigSource, issues: ConfigIssue[]): TunnelConfig[] {
  const raw = file.tunnels ?? [];
  duplicates(raw.map((t) => t.name), (i, first) =>
    issues.push(source.issue(['tunnels', i, 'name'], `duplicate tunnel name "${raw[i]?.name}" (first at line ${source.position(['tunnels', first, 'name']).line})`)),
  );
  return raw.map((t, i): TunnelConfig => {
    const at = (...rest: (string | number)[]): (string | number)[] => ['tunnels', i, ...rest];
    const tunnelProfile = t.tunnel_profile ?? 'default';
    const profile = profiles.tunnel.get(tunnelProfile);
    if (t.local !== undefined && t.local.family !== t.peer.family) {
      issues.push(source.issue(at('local'), `is IPv${t.local.family} but peer ${t.peer.address} is IPv${t.peer.family}`));
    }
    const sessions = t.sessions ?? [];
    duplicates(sessions.map((s) => s.name), (j, first) =>
      issues.push(source.issue(at('sessions', j, 'name'), `duplicate session name "${sessions[j]?.name}" in this tunnel (first at line ${source.position(at('sessions', first, 'name')).line})`)),
    );
    return {
      name: t.name,
      peer: t.peer,
      local: t.local,
      tunnelProfile,
      persistent: t.persistent ?? false,
      sessions: sessions.map((s, j): SessionConfig => {
        const sessionProfile = s.session_profile ?? 'default';
        const pseudowire = s.pseudowire ?? profiles.session.get(sessionProfile)?.pseudowire ?? 'ppp';
        const where = (...keys: string[]): (string | number)[] => {
          const k = keys.find((key) => source.has(at('sessions', j, key)));
          return k === undefined ? at('sessions', j) : at('sessions', j, k);
        };
        if (profile?.version === 2 && pseudowire !== 'ppp') {
          issues.push(source.issue(where('pseudowire', 'session_profile'),
            `pseudowire ${pseudowire} needs an L2TPv3 tunnel, but tunnel profile "${tunnelProfile}" has version 2`));
        }
        if (profile?.version === 3 && s.remote_end_id === undefined) {
          issues.push(source.issue(at('sessions', j),
            `needs remote_end_id: tunnel profile "${tunnelProfile}" is L2TPv3, whose ICRQ/OCRQ must carry a Remote End ID (RFC 3931 §5.4.4)`));
        }
        return {
          name: s.name,
          type: s.type ?? 'lac_incoming',
          sessionProfile,
          pseudowire,
          calledNumber: s.called_number,
          callingNumber: s.calling_number,
          remoteEndId: s.remote_end_id,
        };
      }),
    };
  });
}

function endpointKey(e: Endpoint): string {
  return `${e.address}|${e.port}`;
}

/** Calls `report(index, firstIndex)` for every repeated value. */
function duplicates(values: readonly unknown[], report: (i: number, first: number) => void): void {
  const seen = new Map<unknown, number>();
  values.forEach((v, i) => {
    const first = seen.get(v);
    if (first === undefined) seen.set(v, i);
    else report(i, first);
  });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
