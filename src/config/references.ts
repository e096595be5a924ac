/**
 * Cross-references between profiles: every named reference must exist, `inherit` chains must end
 * (at `default`) without cycles. Works on the raw parsed YAML, defensively, so these errors are
 * reported together with schema errors instead of in a second round.
 */
import type { ConfigIssue } from './errors.js';
import { NAME_PATTERN } from './leaves.js';
import { PROFILE_SECTIONS } from './schema.js';
import type { ConfigSource, KeyPath } from './source.js';
import type { ProfileKind } from './types.js';
import { editDistance } from './validate.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Which fields of which section name a profile of which kind. */
const REFERENCES: Readonly<Record<ProfileKind, readonly (readonly [field: string, target: ProfileKind])[]>> = {
  tunnel: [],
  session: [['ppp_profile', 'ppp'], ['ethernet_profile', 'ethernet']],
  ppp: [],
  ethernet: [],
  peer: [['tunnel_profile', 'tunnel'], ['session_profile', 'session'], ['ppp_profile', 'ppp']],
};

export const DEFAULT_PROFILE = 'default';

export function checkReferences(raw: unknown, source: ConfigSource): ConfigIssue[] {
  const root = isObj(raw) ? raw : {};
  const issues: ConfigIssue[] = [];
  const names = {} as Record<ProfileKind, string[]>;
  for (const [kind, section] of Object.entries(PROFILE_SECTIONS) as [ProfileKind, string][]) {
    const s = root[section];
    names[kind] = [DEFAULT_PROFILE, ...(isObj(s) ? Object.keys(s).filter((n) => n !== DEFAULT_PROFILE) : [])];
  }
  const ref = (path: KeyPath, value: unknown, kind: ProfileKind): void => {
    if (typeof value !== 'string' || names[kind].includes(value)) return;
    issues.push(source.issue(path, `unknown ${kind} profile "${value}"${closest(value, names[kind])}`));
  };

  for (const [kind, section] of Object.entries(PROFILE_SECTIONS) as [ProfileKind, string][]) {
    const profiles = root[section];
    if (!isObj(profiles)) continue;
    for (const [name, p] of Object.entries(profiles)) {
      if (!isObj(p)) continue;
      if (p['inherit'] !== undefined && name === DEFAULT_PROFILE) {
        issues.push(source.issue([section, name, 'inherit'], 'the default profile is the root of inheritance and cannot inherit', { key: true }));
      } else {
        ref([section, name, 'inherit'], p['inherit'], kind);
      }
      for (const [field, target] of REFERENCES[kind]) ref([section, name, field], p[field], target);
    }
    issues.push(...findCycles(section, profiles, source));
  }

  // Pools are a namespace of their own, with a built-in (empty) `default`.
  const pools = [DEFAULT_PROFILE, ...(isObj(root['pools']) ? Object.keys(root['pools']).filter((n) => n !== DEFAULT_PROFILE) : [])];
  const pppProfiles = root[PROFILE_SECTIONS.ppp];
  for (const [name, p] of Object.entries(isObj(pppProfiles) ? pppProfiles : {})) {
    const pool = isObj(p) ? p['pool'] : undefined;
    // A malformed name is the schema's to report.
    if (typeof pool === 'string' && NAME_PATTERN.test(pool) && !pools.includes(pool)) {
      issues.push(source.issue([PROFILE_SECTIONS.ppp, name, 'pool'], `unknown pool "${pool}"${closest(pool, pools)}`));
    }
  }

  const tunnels = Array.isArray(root['tunnels']) ? (root['tunnels'] as unknown[]) : [];
  for (const [i, t] of tunnels.entries()) {
    if (!isObj(t)) continue;
    ref(['tunnels', i, 'tunnel_profile'], t['tunnel_profile'], 'tunnel');
    const sessions = Array.isArray(t['sessions']) ? (t['sessions'] as unknown[]) : [];
    for (const [j, s] of sessions.entries()) {
      if (isObj(s)) ref(['tunnels', i, 'sessions', j, 'session_profile'], s['session_profile'], 'session');
    }
  }
  return issues;
}

/** Each cycle is reported once, at the `inherit` of its member that comes first in the file. */
function findCycles(section: string, profiles: Obj, source: ConfigSource): ConfigIssue[] {
  const parentOf = (n: string): string | undefined => {
    const p = profiles[n];
    const parent = isObj(p) ? p['inherit'] : undefined;
    return typeof parent === 'string' && parent !== DEFAULT_PROFILE && n !== DEFAULT_PROFILE ? parent : undefined;
  };
  const reported = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const start of Object.keys(profiles)) {
    const chain: string[] = [];
    let n: string | undefined = start;
    while (n !== undefined && !chain.includes(n)) {
      chain.push(n);
      n = parentOf(n);
    }
    if (n === undefined) continue;
    const cycle = chain.slice(chain.indexOf(n));
    if (cycle.some((m) => reported.has(m))) continue;
    cycle.forEach((m) => reported.add(m));
    const first = Object.keys(profiles).find((k) => cycle.includes(k)) as string;
    const loop = [...cycle.slice(cycle.indexOf(first)), ...cycle.slice(0, cycle.indexOf(first)), first];
    issues.push(source.issue([section, first, 'inherit'], `inheritance cycle: ${loop.join(' → ')}`));
  }
  return issues;
}

function closest(value: string, names: readonly string[]): string {
  const near = names.filter((n) => editDistance(value, n) <= 2);
  return near.length > 0 ? ` (did you mean "${near[0]}"?)` : ` (defined: ${names.join(', ')})`;
}
