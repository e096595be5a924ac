/**
 * Address pools: each pool checked as `Ipv4Pool` / `Ipv6PrefixPool` (src/aaa/pool) would check it when
 * the daemon builds it — ranges well formed (leaves.ts), no overlap, excluded addresses inside, size
 * within `MAX_POOL_SIZE` — so a file the config accepts never fails there. Across pools, no address or
 * IPv6 prefix may be in two of them: it could be handed out twice.
 *
 * Pools do not inherit. The built-in `default` pool is empty; the file's `default` replaces it.
 */
import { MAX_POOL_SIZE } from '../aaa/pool/index-pool.js';
import { BUILTIN_POOL } from './defaults.js';
import type { ConfigIssue } from './errors.js';
import { formatPrefix } from './ip.js';
import { DEFAULT_PROFILE } from './references.js';
import type { ConfigFile, RawPool } from './schema.js';
import type { ConfigSource, KeyPath } from './source.js';
import type { PoolConfig } from './types.js';

/** A stretch of addresses (IPv4) or of IPv6 space that a pool hands out from. */
interface Span {
  readonly first: bigint;
  readonly last: bigint;
  readonly pool: string;
  readonly path: KeyPath;
  readonly text: string;
  /** File order, to report an overlap at the later of the two. */
  readonly order: number;
}

export function resolvePools(file: ConfigFile, source: ConfigSource, issues: ConfigIssue[]): Map<string, PoolConfig> {
  const raw: Readonly<Record<string, RawPool>> = file.pools ?? {};
  const names = [DEFAULT_PROFILE, ...Object.keys(raw).filter((n) => n !== DEFAULT_PROFILE)];
  const v4: Span[] = [];
  const v6: Span[] = [];
  const pools = new Map<string, PoolConfig>();
  // File order (where `default` is written, if it is), for "later" in overlap reports.
  const order = [...Object.keys(raw), ...(DEFAULT_PROFILE in raw ? [] : [DEFAULT_PROFILE])];
  for (const name of names) {
    const p = raw[name] ?? {};
    const at = (...rest: (string | number)[]): KeyPath => ['pools', name, ...rest];
    const rank = order.indexOf(name) * 1_000_000;
    const ranges = p.ipv4 ?? [];
    ranges.forEach((r, i) => v4.push({ first: BigInt(r.first), last: BigInt(r.last), pool: name, path: at('ipv4', i), text: r.text, order: rank + i }));

    const size = ranges.reduce((n, r) => n + (r.last - r.first + 1), 0);
    if (size > MAX_POOL_SIZE) {
      issues.push(source.issue(at('ipv4'), `holds ${size} addresses; a pool holds at most ${MAX_POOL_SIZE} (split the ranges over several pools)`));
    }

    const exclude = p.ipv4_exclude ?? [];
    const seen = new Map<string, number>();
    exclude.forEach((e, i) => {
      const first = seen.get(e);
      if (first !== undefined) {
        issues.push(source.issue(at('ipv4_exclude', i), `"${e}" is listed twice (first at line ${source.position(at('ipv4_exclude', first)).line})`));
        return;
      }
      seen.set(e, i);
      const n = BigInt(ipv4Number(e));
      if (!ranges.some((r) => n >= BigInt(r.first) && n <= BigInt(r.last))) {
        issues.push(source.issue(at('ipv4_exclude', i), `"${e}" is not in this pool's ipv4 ranges, so there is nothing to exclude`));
      }
    });

    const base = p.ipv6_prefix;
    const length = p.ipv6_prefix_length ?? BUILTIN_POOL.ipv6_prefix_length;
    if (base === undefined) {
      if (p.ipv6_prefix_length !== undefined) issues.push(source.issue(at('ipv6_prefix_length'), 'has no effect without ipv6_prefix'));
    } else {
      const where = p.ipv6_prefix_length === undefined ? at('ipv6_prefix') : at('ipv6_prefix_length');
      const text = formatPrefix(base);
      if (length < base.length) {
        issues.push(source.issue(where, `ipv6_prefix_length ${length} is shorter than ipv6_prefix ${text} itself (must be ${base.length}..128)`));
      } else if (length - base.length > 24) {
        issues.push(source.issue(where, `${text} split into /${length}s gives 2^${length - base.length} prefixes; a pool holds at most 2^24 (use a longer ipv6_prefix or a shorter ipv6_prefix_length)`));
      }
      const last = base.value + (1n << BigInt(128 - base.length)) - 1n;
      v6.push({ first: base.value, last, pool: name, path: at('ipv6_prefix'), text, order: rank });
    }

    pools.set(name, {
      name,
      ipv4: ranges.map((r) => r.text),
      ipv4Exclude: [...exclude],
      ipv6Prefix: base === undefined ? null : formatPrefix(base),
      ipv6PrefixLength: length,
    });
  }

  for (const spans of [v4, v6]) {
    overlaps(spans, (later, earlier) => {
      const where = (s: Span): string => `pool "${s.pool}", line ${source.position(s.path).line}`;
      const why = later.pool === earlier.pool ? 'an address may be listed only once' : 'no address may be in two pools';
      issues.push(source.issue(later.path, `"${later.text}" (${where(later)}) overlaps "${earlier.text}" (${where(earlier)}): ${why}`));
    });
  }
  return pools;
}

/** Reports each span that overlaps one before it (in address order), at whichever of the two comes later in the file. */
function overlaps(spans: readonly Span[], report: (later: Span, earlier: Span) => void): void {
  const sorted = [...spans].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : a.order - b.order));
  const reported = new Set<Span>();
  let reach: Span | undefined;
  for (const s of sorted) {
    if (reach !== undefined && s.first <= reach.last) {
      const [later, earlier] = s.order > reach.order ? [s, reach] : [reach, s];
      if (!reported.has(later)) {
        reported.add(later);
        report(later, earlier);
      }
    }
    if (reach === undefined || s.last > reach.last) reach = s;
  }
}

/** `a.b.c.d` (already canonical: the schema checked it) as a number. */
function ipv4Number(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}
