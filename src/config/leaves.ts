/**
 * Scalar validators for the schema. Every leaf reports in one voice — "must be <what>, got <value>" —
 * and converts as it validates (durations to ms, endpoints to canonical addresses), so the schema's
 * output type is already the checked value.
 */
import { z } from 'zod';
import { parseDuration, formatDuration } from './duration.js';
import { parseEndpoint, parsePrefix, formatIp, formatPrefix, parseIp } from './ip.js';
import type { Endpoint, IpPrefix } from './ip.js';

/** A check's verdict when the generic "must be X, got Y" would not say enough. */
export class Invalid {
  constructor(readonly message: string) {}
}

/** How a value reads in a message: strings quoted, structures named. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'an empty value';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

export function leaf<T>(expected: string, check: (v: unknown) => T | Invalid | undefined) {
  return z.unknown().transform((v, ctx): T => {
    const r = v === undefined ? undefined : check(v);
    if (r === undefined || r instanceof Invalid) {
      const generic = v === undefined ? `is required (${expected})` : `must be ${expected}, got ${show(v)}`;
      const message = r instanceof Invalid ? r.message : generic;
      ctx.issues.push({ code: 'custom', input: v, message });
      return z.NEVER;
    }
    return r;
  });
}

export function int(min: number, max: number) {
  return leaf(`an integer between ${min} and ${max}`, (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined,
  );
}

function list(values: readonly (string | number)[]): string {
  const words = values.map((v) => String(v));
  return words.length <= 2 ? words.join(' or ') : `${words.slice(0, -1).join(', ')} or ${words.at(-1)}`;
}

export function oneOf<const T extends readonly (string | number)[]>(values: T) {
  return leaf(list(values), (v) => (values.includes(v as T[number]) ? (v as T[number]) : undefined));
}

export const bool = leaf('true or false', (v) => (typeof v === 'boolean' ? v : undefined));

/** Non-empty text without control characters. A YAML number is refused: `0123` would lose its zero. */
export function text(maxLength = 255) {
  return leaf(`a non-empty string of at most ${maxLength} characters`, (v) => {
    if (typeof v === 'number') return new Invalid(`must be a string, got the number ${v} (put it in quotes)`);
    if (typeof v !== 'string' || v === '' || v.length > maxLength) return undefined;
    // eslint-disable-next-line no-control-regex
    return /[\x00-\x1f\x7f]/.test(v) ? new Invalid('must not contain control characters') : v;
  });
}

/**
 * Profile and tunnel names: they appear in key paths, logs and `l2tpctl` arguments, so no dots or
 * spaces. All-digit names are refused because JavaScript objects list integer-like keys first, which
 * would silently reorder peer profiles (matched in file order).
 */
export const NAME_PATTERN = /^(?!\d+$)[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const NAME_RULE = 'a name of up to 64 letters, digits, "_" and "-" (not only digits)';
export const name = leaf(NAME_RULE, (v) =>
  typeof v === 'string' && NAME_PATTERN.test(v) ? v : undefined,
);

export function duration(minMs: number, maxMs: number) {
  const range = `between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`;
  return leaf(`a duration ${range} (seconds, or a string like "500ms", "30s", "2m")`, (v) => {
    const ms = parseDuration(v);
    return ms !== undefined && ms >= minMs && ms <= maxMs ? ms : undefined;
  });
}

export function endpoint(defaultPort: number) {
  return leaf<Endpoint>('an IP address with an optional port', (v) => {
    if (typeof v !== 'string') return undefined;
    const e = parseEndpoint(v.trim(), defaultPort);
    return 'error' in e ? new Invalid(e.error) : e;
  });
}

/** Canonical prefix text; the matcher parses it again (once, at load). */
export const prefix = leaf('an IPv4 or IPv6 prefix like "198.18.0.0/15" or "2001:db8::/32"', (v) => {
  if (typeof v !== 'string') return undefined;
  const p = parsePrefix(v.trim());
  return 'error' in p ? new Invalid(p.error) : formatPrefix(p);
});

/** Host name globs: `*` and `?` wildcards over the characters a host name may contain. */
export const glob = leaf('a host name pattern like "bras*" (wildcards * and ?)', (v) =>
  typeof v === 'string' && /^[A-Za-z0-9._*?-]{1,255}$/.test(v) ? v : undefined,
);

/** RFC 3931 §5.4.3: a 32-bit value, customarily written like an IPv4 address; 0 would mean "unset". */
export const routerId = leaf('an IPv4-style dotted quad or an integer between 1 and 4294967295', (v) => {
  if (typeof v === 'number') return Number.isInteger(v) && v >= 1 && v <= 0xffffffff ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const ip = parseIp(v);
  return ip?.family === 4 && ip.value !== 0n && !v.includes(':') ? Number(ip.value) : undefined;
});

export const workers = leaf('"auto" or an integer between 1 and 256', (v) =>
  v === 'auto' || (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 256) ? v : undefined,
);

/** `dataplane: null` is YAML's null, so it is accepted as the name of the null data plane too. */
export const dataplane = leaf('auto, kernel or null', (v) =>
  v === null ? ('null' as const) : v === 'auto' || v === 'kernel' || v === 'null' ? v : undefined,
);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const absolutePath = leaf('an absolute path', (v) =>
  typeof v === 'string' && v.startsWith('/') && !v.includes('\0') ? v : undefined,
);

/** Linux IFNAMSIZ is 16 including the NUL; a `%d` template must leave room for the digits. */
export const interfaceTemplate = leaf('an interface name of at most 15 characters, optionally with one "%d"', (v) => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9_.%-]{1,15}$/.test(v)) return undefined;
  const holes = v.split('%').length - 1;
  if (holes > 1 || (holes === 1 && !v.includes('%d'))) return new Invalid(`must contain at most one "%d" and no other "%", got ${show(v)}`);
  return holes === 1 && v.length > 13 ? new Invalid(`is too long: "${v}" leaves too few characters for the number`) : v;
});

export const interfaceName = leaf('an interface name of at most 15 characters, or null', (v) =>
  v === null ? null : typeof v === 'string' && /^[A-Za-z0-9_.-]{1,15}$/.test(v) ? v : undefined,
);

export const vlanId = leaf('an integer between 1 and 4094, or null', (v) =>
  v === null ? null : typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 4094 ? v : undefined,
);

/**
 * Sessions the daemon places itself. The other two of RFC 2661's four call types are answered, not
 * placed: they are allowed per peer by `peer_profiles.*.lac` / `lns`.
 */
export const sessionType = leaf('lac_incoming or lns_outgoing', (v) => {
  if (v === 'lac_incoming' || v === 'lns_outgoing') return v;
  if (v === 'lac_outgoing' || v === 'lns_incoming') {
    const who = v === 'lac_outgoing' ? 'LNS peer (OCRQ); allow it with lns: true' : 'LAC peer (ICRQ); allow it with lac: true';
    return new Invalid(`cannot be ${v}: such sessions are placed by the ${who} in its peer profile`);
  }
  return undefined;
});

/** An endpoint, or null (an explicit "none", e.g. `accounting_address: null`). */
export function endpointOrNull(defaultPort: number) {
  const e = endpoint(defaultPort);
  return leaf<Endpoint | null>('an IP address with an optional port, or null', (v) => {
    if (v === null) return null;
    const r = e.safeParse(v);
    return r.success ? r.data : new Invalid(r.error.issues[0]?.message ?? 'is not an endpoint');
  });
}

/**
 * A dotted-quad IPv4 literal as a 32-bit number. Stricter than `parseIp`: no zone and no IPv4-mapped
 * IPv6 spelling, which would only hide a mistake in an IPv4-only setting.
 */
export function parseIpv4(text: string): number | undefined {
  if (text.includes(':') || text.includes('%')) return undefined;
  const a = parseIp(text);
  return a?.family === 4 ? Number(a.value) : undefined;
}

export const formatIpv4 = (v: number): string => formatIp({ family: 4, value: BigInt(v) });

export const ipv4Address = leaf('an IPv4 address like "198.18.1.1"', (v) => {
  const n = typeof v === 'string' ? parseIpv4(v.trim()) : undefined;
  return n === undefined ? undefined : formatIpv4(n);
});

/** Not 0.0.0.0/8 (IPCP reads 0.0.0.0 as "please assign"), multicast, reserved or broadcast. */
export const ipv4Unicast = leaf('an IPv4 unicast address like "192.0.2.53"', (v) => {
  const n = typeof v === 'string' ? parseIpv4(v.trim()) : undefined;
  if (n === undefined) return undefined;
  return n < 0x01000000 || n >= 0xe0000000 ? new Invalid(`must be an IPv4 unicast address, got ${show(v)}`) : formatIpv4(n);
});

/** An IPv4 or IPv6 literal without port or zone, canonical (an IPv4-mapped IPv6 address as the IPv4 one). */
export const ipAddress = leaf('an IP address like "192.0.2.1" or "2001:db8::1"', (v) => {
  if (typeof v !== 'string' || v.includes('%')) return undefined;
  const a = parseIp(v.trim());
  return a === undefined ? undefined : formatIp(a);
});

/** One item of a pool's `ipv4`: its canonical text and the first and last address the pool hands out. */
export interface Ipv4Range {
  readonly text: string;
  readonly first: number;
  readonly last: number;
}

/**
 * The syntax `Ipv4Pool` (src/aaa/pool/pools.ts) takes, with its meaning: `A-B` (spaces around the dash
 * allowed), `A/len` (the network and broadcast addresses left out below /31), or one address `A`.
 * test/config/pools.test.ts checks that this accepts exactly what the pool accepts.
 */
export function parseIpv4Range(input: string): Ipv4Range | { readonly error: string } {
  const t = input.trim();
  const bad = { error: `"${t}" is not an IPv4 range ("198.18.1.10-198.18.1.250"), prefix ("198.18.2.0/24") or address` };
  const dash = t.indexOf('-');
  if (dash >= 0) {
    const [first, last] = [parseIpv4(t.slice(0, dash).trim()), parseIpv4(t.slice(dash + 1).trim())];
    if (first === undefined || last === undefined) return bad;
    if (last < first) return { error: `range "${t}" ends before it starts` };
    return { text: `${formatIpv4(first)}-${formatIpv4(last)}`, first, last };
  }
  if (!t.includes('/')) {
    const a = parseIpv4(t);
    return a === undefined ? bad : { text: formatIpv4(a), first: a, last: a };
  }
  if (t.includes(':')) return bad;
  const p = parsePrefix(t);
  if ('error' in p) return p;
  if (p.family !== 4) return bad;
  const start = Number(p.value);
  const count = 2 ** (32 - p.length);
  const [first, last] = count > 2 ? [start + 1, start + count - 2] : [start, start + count - 1];
  return { text: formatPrefix(p), first, last };
}

export const ipv4Range = leaf<Ipv4Range>('an IPv4 range like "198.18.1.10-198.18.1.250", a prefix like "198.18.2.0/24", or one address', (v) => {
  if (typeof v !== 'string') return undefined;
  const r = parseIpv4Range(v);
  return 'error' in r ? new Invalid(r.error) : r;
});

/** An IPv6 prefix written with its length; not IPv4-mapped space. */
export const ipv6Prefix = leaf<IpPrefix>('an IPv6 prefix like "2001:db8::/48"', (v) => {
  if (typeof v !== 'string' || !v.includes('/') || !v.includes(':')) return undefined;
  const p = parsePrefix(v.trim());
  if ('error' in p) return new Invalid(p.error);
  return p.family === 6 ? p : new Invalid(`"${v}" is IPv4-mapped space, not an IPv6 prefix`);
});

/** A file path, absolute or relative (resolve.ts says against what). */
export const filePath = leaf('a file path', (v) => {
  if (typeof v !== 'string' || v.trim() === '' || v.length > 4096) return undefined;
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f]/.test(v) ? new Invalid('must not contain control characters') : v;
});

/** RFC 2869 §5.16: an interim interval "MUST NOT be smaller than 60" seconds; 0 turns interim updates off. */
export const interimInterval = leaf('0 (off) or a duration between 1m and 24h (seconds, or a string like "5m", "1h")', (v) => {
  const ms = parseDuration(v);
  return ms !== undefined && (ms === 0 || (ms >= 60_000 && ms <= 86_400_000)) ? ms : undefined;
});
