/**
 * What a reload changes, for the SIGHUP log line and for the daemon to act on. Profiles are compared
 * by resolved value, so editing a parent shows every child whose effective values moved.
 *
 * Reload semantics (docs/configuration.md): running tunnels and sessions keep the values they started
 * with; changed profiles apply to tunnels and sessions set up afterwards; added tunnels are started;
 * removed tunnels are no longer (re-)established but are not torn down; pools and `aaa` apply to
 * sessions set up afterwards (running sessions keep their address and AAA); `restartRequired`
 * settings take effect only when the daemon restarts.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Config } from './config.js';
import { PROFILE_SECTIONS } from './schema.js';
import type { AaaConfig, ProfileKind, SystemConfig } from './types.js';

export interface NamedChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export interface ConfigDiff {
  /** Changed `system` keys in the file's terms, e.g. `log_level`, `limits.max_sessions`. */
  readonly system: readonly string[];
  /** The subset of `system` that the running daemon cannot apply. */
  readonly restartRequired: readonly string[];
  readonly profiles: { readonly [K in ProfileKind]: NamedChanges };
  /** Peer profiles are matched in file order, so reordering them changes behaviour too. */
  readonly peerOrderChanged: boolean;
  readonly tunnels: NamedChanges;
  /** Address pools, compared by resolved value. Apply to sessions set up afterwards. */
  readonly pools: NamedChanges;
  /** Changed `aaa` keys in the file's terms, e.g. `local_users`, `radius.timeout`, `dynamic_authorization`. Apply to sessions set up afterwards. */
  readonly aaa: readonly string[];
  readonly empty: boolean;
}

/** Worker threads own shards and the data plane owns kernel objects: neither is swapped live. */
export const RESTART_REQUIRED: readonly string[] = ['workers', 'dataplane', 'socket_buffer', 'socket_io'];

export function diffConfig(old: Config, next: Config): ConfigDiff {
  const system = systemChanges(old.system, next.system);
  const profiles = Object.fromEntries(
    (Object.keys(PROFILE_SECTIONS) as ProfileKind[]).map((k) => [k, named(old.profiles[k], next.profiles[k])]),
  ) as { [K in ProfileKind]: NamedChanges };
  const before = [...old.profiles.peer.keys()].filter((n) => next.profiles.peer.has(n));
  const after = [...next.profiles.peer.keys()].filter((n) => old.profiles.peer.has(n));
  const peerOrderChanged = !isDeepStrictEqual(before, after);
  const tunnels = named(new Map(old.tunnels.map((t) => [t.name, t])), new Map(next.tunnels.map((t) => [t.name, t])));
  const pools = named(old.pools, next.pools);
  const aaa = aaaChanges(old.aaa, next.aaa);
  const all = [tunnels, pools, ...Object.values(profiles)];
  const empty = system.length === 0 && aaa.length === 0 && !peerOrderChanged && all.every((c) => c.added.length + c.removed.length + c.changed.length === 0);
  return { system, restartRequired: system.filter((k) => RESTART_REQUIRED.includes(k)), profiles, peerOrderChanged, tunnels, pools, aaa, empty };
}

function named(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): NamedChanges {
  return {
    added: [...b.keys()].filter((n) => !a.has(n)),
    removed: [...a.keys()].filter((n) => !b.has(n)),
    changed: [...b.keys()].filter((n) => a.has(n) && !isDeepStrictEqual(a.get(n), b.get(n))),
  };
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

function systemChanges(a: SystemConfig, b: SystemConfig): string[] {
  const out: string[] = [];
  for (const key of Object.keys(b) as (keyof SystemConfig)[]) {
    if (key === 'limits') {
      for (const l of Object.keys(b.limits) as (keyof SystemConfig['limits'])[]) {
        if (a.limits[l] !== b.limits[l]) out.push(`limits.${snake(l)}`);
      }
    } else if (!isDeepStrictEqual(a[key], b[key])) {
      out.push(snake(key));
    }
  }
  return out;
}

/** The resolved fields under the file key each comes from. */
const RADIUS_KEYS: readonly (readonly [string, readonly (keyof NonNullable<AaaConfig['radius']>)[]])[] = [
  ['servers', ['servers', 'accountingServers']],
  ['timeout', ['timeoutMs']],
  ['retries', ['retries']],
  ['dead_time', ['deadTimeMs']],
  ['nas_identifier', ['nasIdentifier']],
  ['nas_ip_address', ['nasIpAddress']],
  ['interim_interval', ['interimIntervalMs']],
  ['require_message_authenticator', ['requireMessageAuthenticator']],
];

function aaaChanges(a: AaaConfig, b: AaaConfig): string[] {
  const out: string[] = [];
  if (a.localUsers !== b.localUsers) out.push('local_users');
  if (a.radius === null || b.radius === null) {
    if (a.radius !== b.radius) out.push('radius');
  } else {
    const [ra, rb] = [a.radius, b.radius];
    for (const [key, fields] of RADIUS_KEYS) {
      if (fields.some((f) => !isDeepStrictEqual(ra[f], rb[f]))) out.push(`radius.${key}`);
    }
  }
  const [da, db] = [a.dynamicAuthorization, b.dynamicAuthorization];
  if (da === null || db === null) {
    if (da !== db) out.push('dynamic_authorization');
  } else {
    if (!isDeepStrictEqual(da.listen, db.listen)) out.push('dynamic_authorization.listen');
    if (!isDeepStrictEqual(da.clients, db.clients)) out.push('dynamic_authorization.clients');
  }
  return out;
}

/** One line per kind of change, for the reload log; `["no changes"]` when nothing moved. */
export function formatDiff(d: ConfigDiff): string[] {
  if (d.empty) return ['no changes'];
  const lines: string[] = [];
  if (d.system.length > 0) lines.push(`system changed: ${d.system.join(', ')}`);
  if (d.restartRequired.length > 0) lines.push(`restart required to apply: ${d.restartRequired.join(', ')}`);
  const describe = (what: string, c: NamedChanges): void => {
    for (const verb of ['added', 'removed', 'changed'] as const) {
      if (c[verb].length > 0) lines.push(`${what} ${verb}: ${c[verb].join(', ')}`);
    }
  };
  for (const [kind, c] of Object.entries(d.profiles)) describe(`${kind} profiles`, c);
  if (d.peerOrderChanged) lines.push('peer profile order changed (matching is first match in file order)');
  describe('tunnels', d.tunnels);
  const before = lines.length;
  describe('pools', d.pools);
  for (let i = before; i < lines.length; i++) lines[i] += ' (applies to new sessions; running sessions keep their addresses)';
  if (d.aaa.length > 0) lines.push(`aaa changed: ${d.aaa.join(', ')} (applies to new sessions; running sessions keep theirs)`);
  return lines;
}
