/**
 * IP addresses, prefixes and `address:port` endpoints, with prefix math on BigInt so IPv4 and IPv6
 * share one code path. An IPv4-mapped IPv6 address (`::ffff:198.18.0.1`, what a dual-stack socket
 * reports for an IPv4 peer) is treated as the IPv4 address it carries.
 */
import { isIP } from 'node:net';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** 32 bits for IPv4, 128 bits for IPv6. */
  readonly value: bigint;
}

export interface IpPrefix extends IpAddress {
  readonly length: number;
}

const BITS: Readonly<Record<IpFamily, number>> = { 4: 32, 6: 128 };

/** Parses a literal address (no brackets); a zone (`fe80::1%eth0`) is accepted and ignored. */
export function parseIp(text: string): IpAddress | undefined {
  const zone = text.indexOf('%');
  const s = zone >= 0 ? text.slice(0, zone) : text;
  const family = isIP(s);
  if (family === 4) return { family: 4, value: v4Value(s) };
  if (family !== 6) return undefined;
  const value = v6Value(s);
  return value >> 32n === 0xffffn ? { family: 4, value: value & 0xffffffffn } : { family: 6, value };
}

function v4Value(s: string): bigint {
  return s.split('.').reduce((acc, part) => (acc << 8n) | BigInt(part), 0n);
}

/** Expands `::` and a trailing dotted quad. Only called on text `net.isIP` accepted as IPv6. */
function v6Value(s: string): bigint {
  const groups = (half: string): number[] => {
    if (half === '') return [];
    return half.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const v = Number(v4Value(g));
      return [v >>> 16, v & 0xffff];
    });
  };
  const gap = s.indexOf('::');
  const head = groups(gap >= 0 ? s.slice(0, gap) : s);
  const tail = gap >= 0 ? groups(s.slice(gap + 2)) : [];
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export type PrefixResult = IpPrefix | { readonly error: string };

/**
 * `198.18.0.0/15`, `2001:db8::/32`, or a bare address (a host prefix). Host bits set below the prefix
 * length are refused: `198.18.0.1/15` is far more often a typo than an intent.
 */
export function parsePrefix(text: string): PrefixResult {
  const slash = text.indexOf('/');
  const addr = parseIp(slash >= 0 ? text.slice(0, slash) : text);
  if (addr === undefined) return { error: `"${text}" is not an IPv4 or IPv6 address or prefix` };
  const mapped = slash >= 0 && addr.family === 4 && isIP(text.slice(0, slash)) === 6;
  const lenText = slash >= 0 ? text.slice(slash + 1) : undefined;
  const max = mapped ? 128 : BITS[addr.family];
  if (lenText !== undefined && !/^\d{1,3}$/.test(lenText)) return { error: `"${text}" has no valid prefix length` };
  let length = lenText === undefined ? max : Number(lenText);
  if (length > max) return { error: `"${text}": prefix length must be 0..${max}` };
  if (mapped) {
    if (length < 96) return { error: `"${text}": an IPv4-mapped prefix must be at least /96` };
    length -= 96;
  }
  const prefix = { family: addr.family, value: addr.value, length };
  if (addr.value !== networkOf(prefix)) {
    const net = formatPrefix({ ...prefix, value: networkOf(prefix) });
    return { error: `"${text}" has host bits set (did you mean ${net}?)` };
  }
  return prefix;
}

function networkOf(p: IpPrefix): bigint {
  const hostBits = BigInt(BITS[p.family] - p.length);
  return (p.value >> hostBits) << hostBits;
}

export function prefixContains(p: IpPrefix, a: IpAddress): boolean {
  return p.family === a.family && networkOf({ ...a, length: p.length }) === p.value;
}

export function formatIp(a: IpAddress): string {
  if (a.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((a.value >> s) & 0xffn)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((a.value >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952 §4.2: compress the longest run (of two or more) of zero groups, the first if tied.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function formatPrefix(p: IpPrefix): string {
  return `${formatIp(p)}/${p.length}`;
}

export interface Endpoint {
  /** Canonical text of the address (RFC 5952 for IPv6). */
  readonly address: string;
  readonly family: IpFamily;
  readonly port: number;
}

export type EndpointResult = Endpoint | { readonly error: string };

/**
 * `198.18.0.1:1701`, `[2001:db8::1]:1701`, or an address alone (then `defaultPort`, which may be 0 = any). A bare IPv6
 * address has no port: `2001:db8::1:1701` is an address, so the brackets are needed to give one.
 */
export function parseEndpoint(text: string, defaultPort: number): EndpointResult {
  let host = text;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracket !== null) {
    host = bracket[1] as string;
    portText = bracket[2];
  } else if (text.split(':').length === 2) {
    [host, portText] = text.split(':') as [string, string];
  }
  const addr = parseIp(host);
  if (addr === undefined || (bracket !== null && isIP(host.split('%')[0] as string) !== 6)) {
    return { error: `"${text}" is not an IP address with an optional port (e.g. "192.0.2.1:1701" or "[2001:db8::1]:1701")` };
  }
  const port = portText === undefined ? defaultPort : /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (portText !== undefined && !(port >= 1 && port <= 65535)) return { error: `"${text}": port must be 1..65535` };
  // A link-local address needs its zone (`fe80::1%eth0`) to be bound or reached.
  const zone = addr.family === 6 && host.includes('%') ? host.slice(host.indexOf('%')) : '';
  return { address: formatIp(addr) + zone, family: addr.family, port };
}
