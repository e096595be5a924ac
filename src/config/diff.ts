/**
 * What a reload changes, for the SIGHUP log line and for the daemon to act on. Profiles are compared
 * by resolved value, so editing a parent shows every child whose effective values moved.
 *
 * Reload semantics (docs/configuration.md): running tunnels and sessions keep the values they started
 * with; changed profiles apply to tunnels and sessions set up afterwards; added tunnels are started;
 * removed tunnels are no longer (re-)established but are not torn down; `restartRequired` settings
 * take effect only when the daemon restarts.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Config } from './config.js';
import { PROFILE_SECTIONS } from './schema.js';
import type { ProfileKind, SystemConfig } from './types.js';

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
  readonly empty: boolean;
}

/** Worker threads own shards and the data plane owns kernel objects: neither is swapped live. */
export const RESTART_REQUIRED: readonly string[] = ['workers', 'dataplane'];

export function diffConfig(old: Config, next: Config): ConfigDiff {
  const system = systemChanges(old.system, next.system);
  const profiles = Object.fromEntries(
    (Object.keys(PROFILE_SECTIONS) as ProfileKind[]).map((k) => [k, named(old.profiles[k], next.profiles[k])]),
  ) as { [K in ProfileKind]: NamedChanges };
  const before = [...old.profiles.peer.keys()].filter((n) => next.profiles.peer.has(n));
  const after = [...next.profiles.peer.keys()].filter((n) => old.profiles.peer.has(n));
  const peerOrderChanged = !isDeepStrictEqual(before, after);
  const tunnels = named(new Map(old.tunnels.map((t) => [t.name, t])), new Map(next.tunnels.map((t) => [t.name, t])));
  const all = [tunnels, ...Object.values(profiles)];
  const empty = system.length === 0 && !peerOrderChanged && all.every((c) => c.added.length + c.removed.length + c.changed.length === 0);
  return { system, restartRequired: system.filter((k) => RESTART_REQUIRED.includes(k)), profiles, peerOrderChanged, tunnels, empty };
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
  return lines;
}
