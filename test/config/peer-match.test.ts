import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp, parseIp, parsePrefix, prefixContains } from '../../src/config/ip.js';
import type { IpPrefix } from '../../src/config/ip.js';
import { globToRegExp } from '../../src/config/match.js';
import { load, yaml } from './helpers.js';

const config = load(yaml(
  'peer_profiles:',
  '  default: { accept: false }',
  '  bras: { match: { host_name: "bras*" }, lns: true }',
  '  lab: { match: { address: 198.18.0.0/15 } }',
  '  both: { match: { host_name: "lac-?", address: "2001:db8:10::/48" } }',
  '  v6: { match: { address: "2001:db8::/32" } }',
  '  host: { match: { address: 192.0.2.9 } }',
  '  late-bras: { match: { host_name: "bras-1" } }',
));
const matched = (address: string, hostName?: string): string =>
  config.matchPeer(hostName === undefined ? { address } : { address, hostName }).name;

describe('peer matching', () => {
  it('falls back to default when nothing matches', () => {
    expect(matched('203.0.113.1', 'someone')).toBe('default');
    expect(config.matchPeer({ address: '203.0.113.1' }).accept).toBe(false);
  });

  it('matches host name globs, case-insensitively, the first profile in file order winning', () => {
    expect(matched('203.0.113.1', 'bras-1')).toBe('bras');
    expect(matched('203.0.113.1', 'BRAS7.pop.example.net')).toBe('bras');
    expect(matched('203.0.113.1', 'xbras')).toBe('default');
    expect(matched('203.0.113.1')).toBe('default');
  });

  it('matches IPv4 prefixes at their edges', () => {
    expect(matched('198.18.0.0')).toBe('lab');
    expect(matched('198.19.255.255')).toBe('lab');
    expect(matched('198.17.255.255')).toBe('default');
    expect(matched('198.20.0.0')).toBe('default');
    expect(matched('192.0.2.9')).toBe('host');
    expect(matched('192.0.2.10')).toBe('default');
  });

  it('treats IPv4-mapped IPv6 peers as IPv4 (dual-stack sockets report them so)', () => {
    expect(matched('::ffff:198.18.4.4')).toBe('lab');
    expect(matched('::ffff:c612:0404')).toBe('lab');
  });

  it('matches IPv6 prefixes, and requires both conditions when both are given', () => {
    expect(matched('2001:db8:10::1', 'lac-a')).toBe('both');
    expect(matched('2001:db8:10::1', 'lac-ab')).toBe('v6');
    expect(matched('2001:db8:11::1', 'lac-a')).toBe('v6');
    expect(matched('2001:DB8:0010:0000::fe80%eth0', 'LAC-Z')).toBe('both');
    expect(matched('2001:db9::1')).toBe('default');
  });

  it('does not crash on an address it cannot parse: only host names can match then', () => {
    expect(matched('not-an-ip', 'bras1')).toBe('bras');
    expect(matched('not-an-ip')).toBe('default');
  });

  it('compiles globs literally apart from * and ?', () => {
    expect(globToRegExp('a.b*').test('axb')).toBe(false);
    expect(globToRegExp('a.b*').test('a.bcd')).toBe(true);
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(globToRegExp('a?c').test('ac')).toBe(false);
  });
});

/** The reference: compare the first `length` bits of two byte strings, one bit at a time. */
function referenceContains(prefixBytes: number[], length: number, addrBytes: number[]): boolean {
  const bits = (bytes: number[]): string => bytes.map((b) => b.toString(2).padStart(8, '0')).join('');
  return bits(prefixBytes).slice(0, length) === bits(addrBytes).slice(0, length);
}

const v4Text = (b: number[]): string => b.join('.');
const v6Full = (b: number[]): string =>
  Array.from({ length: 8 }, (_, i) => (((b[2 * i] as number) << 8) | (b[2 * i + 1] as number)).toString(16)).join(':');
/** Node's WHATWG URL parser canonicalises IPv6 (RFC 5952 compression): a second, independent spelling. */
const v6Compressed = (b: number[]): string => new URL(`http://[${v6Full(b)}]/`).hostname.slice(1, -1);
const masked = (b: number[], length: number): number[] =>
  b.map((byte, i) => {
    const keep = Math.max(0, Math.min(8, length - 8 * i));
    return byte & ((0xff << (8 - keep)) & 0xff);
  });
/** Addresses near the prefix as well as random ones, so both outcomes are exercised. */
const nearby = (size: number) =>
  fc.tuple(fc.uint8Array({ minLength: size, maxLength: size }), fc.uint8Array({ minLength: size, maxLength: size }), fc.integer({ min: 0, max: 8 * size }), fc.boolean());

describe('prefix math against a bit-by-bit reference', () => {
  it('IPv4', () => {
    fc.assert(
      fc.property(nearby(4), ([p, a, length, near]) => {
        const net = masked([...p], length);
        const addr = near ? [...p].map((x, i) => (i === 3 ? (a[3] as number) : x)) : [...a];
        const prefix = parsePrefix(`${v4Text(net)}/${length}`) as IpPrefix;
        expect(prefix).not.toHaveProperty('error');
        const ip = parseIp(v4Text(addr));
        expect(ip).toBeDefined();
        expect(prefixContains(prefix, ip!)).toBe(referenceContains(net, length, addr));
      }),
      { numRuns: 2000 },
    );
  });

  it('IPv6, in full and compressed spellings', () => {
    fc.assert(
      fc.property(nearby(16), fc.integer({ min: 0, max: 15 }), ([p, a, length, near], from) => {
        const net = masked([...p], length);
        const addr = near ? [...p].map((x, i) => (i >= from ? (a[i] as number) : x)) : [...a];
        // ::ffff:0:0/96 is IPv4-mapped space, which the matcher deliberately treats as IPv4.
        fc.pre(!(net.slice(0, 10).every((x) => x === 0) && net[10] === 0xff && net[11] === 0xff && length >= 96));
        fc.pre(!(addr.slice(0, 10).every((x) => x === 0) && addr[10] === 0xff && addr[11] === 0xff));
        for (const spell of [v6Full, v6Compressed]) {
          const prefix = parsePrefix(`${spell(net)}/${length}`) as IpPrefix;
          expect(prefix).not.toHaveProperty('error');
          expect(prefixContains(prefix, parseIp(spell(addr))!)).toBe(referenceContains(net, length, addr));
        }
        expect(formatIp(parseIp(v6Full(addr))!)).toBe(v6Compressed(addr));
      }),
      { numRuns: 2000 },
    );
  });

  it('config matching agrees with the reference for random IPv4 prefixes', () => {
    fc.assert(
      fc.property(nearby(4), ([p, a, length, near]) => {
        const net = masked([...p], length);
        const addr = near ? [...p].map((x, i) => (i === 3 ? (a[3] as number) : x)) : [...a];
        const c = load(yaml('peer_profiles:', `  p: { match: { address: "${v4Text(net)}/${length}" } }`));
        expect(c.matchPeer({ address: v4Text(addr) }).name).toBe(referenceContains(net, length, addr) ? 'p' : 'default');
      }),
      { numRuns: 200 },
    );
  });
});

describe('endpoints', () => {
  it('parse addresses with and without ports, canonically', () => {
    const c = load(yaml('system:', '  listen: ["[fe80::1%eth0]:1701", "[::FFFF:192.0.2.1]:9", "2001:db8::1"]'));
    expect(c.system.listen).toEqual([
      { address: 'fe80::1%eth0', family: 6, port: 1701 },
      { address: '192.0.2.1', family: 4, port: 9 },
      { address: '2001:db8::1', family: 6, port: 1701 },
    ]);
  });
});
