import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ipv4Pool, Ipv6PrefixPool } from '../../src/aaa/index.js';
import { ConfigError, parseConfig } from '../../src/config/index.js';
import type { PoolConfig } from '../../src/config/index.js';
import { FILE, issueAt, issuesOf, load, positionOf, yaml } from './helpers.js';

describe('pools', () => {
  const valid = yaml(
    'pools:',
    '  residential:',
    '    ipv4: ["198.18.1.10-198.18.1.250", "198.18.2.0/24", 198.18.3.7]',
    '    ipv4_exclude: [198.18.1.20, 198.18.2.1]',
    '    ipv6_prefix: "2001:db8::/48"',
    '  business:',
    '    ipv4: [" 198.18.4.1 - 198.18.4.9 ", "198.18.5.0/31"]',
    '    ipv6_prefix: "2001:DB8:1:0::/56"',
    '    ipv6_prefix_length: 60',
    '  v6only: { ipv6_prefix: "2001:db8:2::/112", ipv6_prefix_length: 128 }',
  );

  it('resolve to canonical text, default first, then in file order', () => {
    const c = load(valid);
    expect([...c.pools.keys()]).toEqual(['default', 'residential', 'business', 'v6only']);
    expect(c.pools.get('residential')).toEqual({
      name: 'residential', ipv4: ['198.18.1.10-198.18.1.250', '198.18.2.0/24', '198.18.3.7'],
      ipv4Exclude: ['198.18.1.20', '198.18.2.1'], ipv6Prefix: '2001:db8::/48', ipv6PrefixLength: 64,
    });
    expect(c.pool('business')).toEqual({
      name: 'business', ipv4: ['198.18.4.1-198.18.4.9', '198.18.5.0/31'], ipv4Exclude: [],
      ipv6Prefix: '2001:db8:1::/56', ipv6PrefixLength: 60,
    });
    expect(c.pool('v6only')).toMatchObject({ ipv4: [], ipv6Prefix: '2001:db8:2::/112', ipv6PrefixLength: 128 });
    expect(Object.isFrozen(c.pool('residential')?.ipv4)).toBe(true);
  });

  it('build the AAA layer\'s pools as they are', () => {
    const c = load(valid);
    const p = c.pool('residential') as PoolConfig;
    const v4 = new Ipv4Pool(p.name, p.ipv4, { exclude: p.ipv4Exclude });
    // 241 + 254 (network and broadcast left out) + 1, minus 2 excluded.
    expect(v4.size).toBe(241 + 254 + 1 - 2);
    expect(new Ipv6PrefixPool(p.name, p.ipv6Prefix as string, p.ipv6PrefixLength).size).toBe(65536);
  });

  it('the built-in default pool is empty; the file\'s default replaces it, wherever it is written', () => {
    expect(load('').pool('default')).toEqual({ name: 'default', ipv4: [], ipv4Exclude: [], ipv6Prefix: null, ipv6PrefixLength: 64 });
    const c = load(yaml('pools:', '  other: { ipv4: [198.18.9.0/24] }', '  default: { ipv4: [198.18.8.0/24] }'));
    expect([...c.pools.keys()]).toEqual(['default', 'other']);
    expect(c.pool('default')?.ipv4).toEqual(['198.18.8.0/24']);
    expect(load(yaml('pools:', '  empty:')).pool('empty')?.ipv4).toEqual([]);
  });

  describe('refuse', () => {
    it.each([
      ['pools: { p: { ipv4: ["198.18.1.250-198.18.1.10"] } }', 'pools.p.ipv4[0]', 'range "198.18.1.250-198.18.1.10" ends before it starts'],
      ['pools: { p: { ipv4: ["198.18.1.10-"] } }', 'pools.p.ipv4[0]', '"198.18.1.10-" is not an IPv4 range ("198.18.1.10-198.18.1.250"), prefix ("198.18.2.0/24") or address'],
      ['pools: { p: { ipv4: ["198.18.1.256"] } }', 'pools.p.ipv4[0]', '"198.18.1.256" is not an IPv4 range ("198.18.1.10-198.18.1.250"), prefix ("198.18.2.0/24") or address'],
      ['pools: { p: { ipv4: ["198.18.2.1/24"] } }', 'pools.p.ipv4[0]', '"198.18.2.1/24" has host bits set (did you mean 198.18.2.0/24?)'],
      ['pools: { p: { ipv4: ["198.18.2.0/33"] } }', 'pools.p.ipv4[0]', '"198.18.2.0/33": prefix length must be 0..32'],
      ['pools: { p: { ipv4: ["2001:db8::/64"] } }', 'pools.p.ipv4[0]', '"2001:db8::/64" is not an IPv4 range ("198.18.1.10-198.18.1.250"), prefix ("198.18.2.0/24") or address'],
      ['pools: { p: { ipv4: [42] } }', 'pools.p.ipv4[0]', 'must be an IPv4 range like "198.18.1.10-198.18.1.250", a prefix like "198.18.2.0/24", or one address, got 42'],
      ['pools: { p: { ipv4: "198.18.2.0/24" } }', 'pools.p.ipv4', 'must be a list, got "198.18.2.0/24"'],
      ['pools: { p: { ipv4: ["10.0.0.0/7"] } }', 'pools.p.ipv4', 'holds 33554430 addresses; a pool holds at most 16777216 (split the ranges over several pools)'],
      ['pools: { p: { ipv4: [198.18.2.0/24], ipv4_exclude: [198.18.3.1] } }', 'pools.p.ipv4_exclude[0]', '"198.18.3.1" is not in this pool\'s ipv4 ranges, so there is nothing to exclude'],
      // The network address of a /24 is never handed out, so it cannot be excluded either.
      ['pools: { p: { ipv4: [198.18.2.0/24], ipv4_exclude: [198.18.2.0] } }', 'pools.p.ipv4_exclude[0]', '"198.18.2.0" is not in this pool\'s ipv4 ranges, so there is nothing to exclude'],
      ['pools: { p: { ipv4: [198.18.2.0/24], ipv4_exclude: [198.18.2.0/30] } }', 'pools.p.ipv4_exclude[0]', 'must be an IPv4 address like "198.18.1.1", got "198.18.2.0/30"'],
      ['pools: { p: { ipv6_prefix: "198.18.0.0/15" } }', 'pools.p.ipv6_prefix', 'must be an IPv6 prefix like "2001:db8::/48", got "198.18.0.0/15"'],
      ['pools: { p: { ipv6_prefix: "2001:db8::1/48" } }', 'pools.p.ipv6_prefix', '"2001:db8::1/48" has host bits set (did you mean 2001:db8::/48?)'],
      ['pools: { p: { ipv6_prefix: "::ffff:0:0/96" } }', 'pools.p.ipv6_prefix', '"::ffff:0:0/96" is IPv4-mapped space, not an IPv6 prefix'],
      ['pools: { p: { ipv6_prefix: "2001:db8::/48", ipv6_prefix_length: 129 } }', 'pools.p.ipv6_prefix_length', 'must be an integer between 1 and 128, got 129'],
      ['pools: { p: { ipv6_prefix: "2001:db8::/48", ipv6_prefix_length: 40 } }', 'pools.p.ipv6_prefix_length', 'ipv6_prefix_length 40 is shorter than ipv6_prefix 2001:db8::/48 itself (must be 48..128)'],
      ['pools: { p: { ipv6_prefix: "2001:db8::/32" } }', 'pools.p.ipv6_prefix', '2001:db8::/32 split into /64s gives 2^32 prefixes; a pool holds at most 2^24 (use a longer ipv6_prefix or a shorter ipv6_prefix_length)'],
      ['pools: { p: { ipv6_prefix: "2001:db8::/40", ipv6_prefix_length: 65 } }', 'pools.p.ipv6_prefix_length', '2001:db8::/40 split into /65s gives 2^25 prefixes; a pool holds at most 2^24 (use a longer ipv6_prefix or a shorter ipv6_prefix_length)'],
      ['pools: { p: { ipv6_prefix_length: 64 } }', 'pools.p.ipv6_prefix_length', 'has no effect without ipv6_prefix'],
      ['pools: { p: { ipv4s: [] } }', 'pools.p.ipv4s', 'unknown key "ipv4s" (did you mean "ipv4"?)'],
      ['pools: { "a.b": {} }', 'pools.a.b', 'must be a name of up to 64 letters, digits, "_" and "-" (not only digits), got "a.b"'],
    ])('%s', (text, path, message) => {
      expect(issueAt(`${text}\n`, path).message).toBe(message);
    });

    it('a bad range at its line and column', () => {
      const text = yaml('pools:', '  p:', '    ipv4:', '      - 198.18.1.10-198.18.1.20', '      - 198.18.1.30-198.18.1.25');
      expect(issueAt(text, 'pools.p.ipv4[1]')).toEqual({
        file: FILE, line: 5, column: 9, path: 'pools.p.ipv4[1]', message: 'range "198.18.1.30-198.18.1.25" ends before it starts',
      });
    });

    it('an excluded address listed twice', () => {
      const text = yaml('pools:', '  p:', '    ipv4: [198.18.2.0/24]', '    ipv4_exclude:', '      - 198.18.2.9', '      - 198.18.2.9');
      expect(issueAt(text, 'pools.p.ipv4_exclude[1]')).toMatchObject({ line: 6, column: 9, message: '"198.18.2.9" is listed twice (first at line 5)' });
    });
  });

  describe('overlap', () => {
    it('between two pools is refused, naming both pools and their lines, at the later one', () => {
      const text = yaml(
        'pools:',
        '  a:',
        '    ipv4:',
        '      - 198.18.1.10-198.18.1.250',
        '  b:',
        '    ipv4:',
        '      - 198.18.9.0/24',
        '      - 198.18.1.250-198.18.1.254',
      );
      expect(issuesOf(text)).toEqual([{
        file: FILE, line: 8, column: 9, path: 'pools.b.ipv4[1]',
        message: '"198.18.1.250-198.18.1.254" (pool "b", line 8) overlaps "198.18.1.10-198.18.1.250" (pool "a", line 4): no address may be in two pools',
      }]);
    });

    it('is reported at the later pool in the file even when its range starts lower', () => {
      const text = yaml('pools:', '  a: { ipv4: [198.18.1.100-198.18.1.200] }', '  b: { ipv4: [198.18.1.0/24] }');
      const issue = issueAt(text, 'pools.b.ipv4[0]');
      expect(issue.message).toBe('"198.18.1.0/24" (pool "b", line 3) overlaps "198.18.1.100-198.18.1.200" (pool "a", line 2): no address may be in two pools');
      expect(issue).toMatchObject(positionOf(text, '198.18.1.0/24'));
    });

    it('within one pool is refused too (the pool would refuse it)', () => {
      const text = yaml('pools:', '  a:', '    ipv4: [198.18.1.0/24, 198.18.1.255, 198.18.1.200]');
      expect(issueAt(text, 'pools.a.ipv4[2]').message).toBe('"198.18.1.200" (pool "a", line 3) overlaps "198.18.1.0/24" (pool "a", line 3): an address may be listed only once');
      expect(() => new Ipv4Pool('a', ['198.18.1.0/24', '198.18.1.255', '198.18.1.200'])).toThrow(/overlap/);
    });

    it('counts only the addresses a pool hands out: adjacent ranges, and a /24 next to its own network address, are fine', () => {
      const c = load(yaml('pools:', '  a: { ipv4: [198.18.1.0/24, 198.18.2.0-198.18.2.9] }', '  b: { ipv4: [198.18.1.255, 198.18.2.10-198.18.2.20] }', '  c: { ipv4: [198.18.1.0] }'));
      expect(c.pools.size).toBe(4);
    });

    it('of IPv6 prefixes between pools is refused', () => {
      const text = yaml('pools:', '  a: { ipv6_prefix: "2001:db8::/48" }', '  b: { ipv6_prefix: "2001:db8::/56" }', '  c: { ipv6_prefix: "2001:db8:1::/48" }');
      expect(issuesOf(text)).toEqual([{
        file: FILE, line: 3, column: 21, path: 'pools.b.ipv6_prefix',
        message: '"2001:db8::/56" (pool "b", line 3) overlaps "2001:db8::/48" (pool "a", line 2): no address may be in two pools',
      }]);
    });

    it('reports every overlapping range once', () => {
      const text = yaml('pools:', '  a: { ipv4: [198.18.0.0/16] }', '  b: { ipv4: [198.18.1.1, 198.18.2.1, 198.19.0.1] }', '  c: { ipv4: [198.18.3.1] }');
      expect(issuesOf(text).map((i) => i.path)).toEqual(['pools.b.ipv4[0]', 'pools.b.ipv4[1]', 'pools.c.ipv4[0]']);
    });

    it('is still checked in the pass that finds a schema error elsewhere', () => {
      const text = yaml('pools:', '  a: { ipv4: [198.18.1.0/24] }', '  b: { ipv4: [198.18.1.7] }', '  c: { ipv4: [nonsense] }');
      expect(issuesOf(text).map((i) => i.path)).toEqual(['pools.b.ipv4[0]', 'pools.c.ipv4[0]']);
    });
  });

  describe('references from ppp profiles', () => {
    it('must name a pool', () => {
      const text = yaml('pools:', '  gold: {}', 'ppp_profiles:', '  p:', '    pool: glod');
      expect(issueAt(text, 'ppp_profiles.p.pool')).toMatchObject({ line: 5, column: 11, message: 'unknown pool "glod" (did you mean "gold"?)' });
      expect(issueAt(yaml('ppp_profiles: { p: { pool: x } }'), 'ppp_profiles.p.pool').message).toBe('unknown pool "x" (defined: default)');
    });

    it('default is always there, and pools and profiles are separate namespaces', () => {
      expect(load(yaml('ppp_profiles: { p: { pool: default } }')).pppProfile('p').pool).toBe('default');
      expect(issueAt(yaml('ppp_profiles: { gold: {}, p: { pool: gold } }'), 'ppp_profiles.p.pool').message).toMatch(/unknown pool "gold"/);
    });
  });
});

/** The config accepts a pool exactly when the AAA layer's pool constructors do (src/aaa/pool/pools.ts). */
describe('pool syntax agrees with src/aaa/pool', () => {
  const accepts = (pool: Record<string, unknown>): PoolConfig | undefined => {
    try {
      return parseConfig(`pools: ${JSON.stringify({ p: pool })}\n`, FILE).pool('p');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return undefined;
    }
  };
  const builds = <T>(make: () => T): T | undefined => {
    try {
      return make();
    } catch {
      return undefined;
    }
  };

  // Addresses near each other so ranges overlap, touch and exclude often; prefixes /16../32 keep pools small
  // (the pool allocates 5 octets per address), /0../7 are refused for size before anything is allocated.
  const addr = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 })).map(([c, d]) => `198.18.${c}.${d}`);
  const v4Item = fc.oneof(
    addr,
    fc.tuple(addr, addr, fc.constantFrom('-', ' - ', '- ')).map(([a, b, dash]) => `${a}${dash}${b}`),
    fc.tuple(addr, fc.integer({ min: 16, max: 32 }), fc.boolean()).map(([a, len, clean]) => {
      if (!clean) return `${a}/${len}`;
      const n = a.split('.').reduce((v, p) => v * 256 + Number(p), 0);
      const net = len === 0 ? 0 : Math.floor(n / 2 ** (32 - len)) * 2 ** (32 - len);
      return `${[24, 16, 8, 0].map((s) => Math.floor(net / 2 ** s) % 256).join('.')}/${len}`;
    }),
    fc.constantFrom('', ' ', '198.18.1', '198.18.1.1/', '198.18.1.1/x', '198.18.1.300', '198.18.1.1-198.18.1.2-198.18.1.3',
      '0.0.0.0/0', '10.0.0.0/7', '198.18.0.0/15/1', ' 198.18.2.3 ', '198.18.2.0 /24', '01.2.3.4', 'abc'),
  );

  it('IPv4 ranges and exclusions', () => {
    fc.assert(
      fc.property(fc.array(v4Item, { maxLength: 5 }), fc.uniqueArray(addr, { maxLength: 3 }), (ranges, exclude) => {
        const resolved = accepts({ ipv4: ranges, ipv4_exclude: exclude });
        const pool = builds(() => new Ipv4Pool('p', ranges, { exclude }));
        expect(resolved !== undefined, `ranges ${JSON.stringify(ranges)} exclude ${JSON.stringify(exclude)}`).toBe(pool !== undefined);
        if (resolved !== undefined) {
          expect(new Ipv4Pool('p', resolved.ipv4, { exclude: resolved.ipv4Exclude }).size).toBe(pool?.size);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('IPv6 prefixes and prefix lengths', () => {
    const base = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), fc.integer({ min: 16, max: 64 }), fc.boolean());
    fc.assert(
      fc.property(base, fc.oneof(fc.integer({ min: -4, max: 12 }), fc.integer({ min: 25, max: 40 })), ([bits, len, clean], delta) => {
        let value = (0x2001_0db8n << 96n) | (bits << 64n);
        if (clean) value &= ~((1n << BigInt(128 - len)) - 1n);
        const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
        const prefix = `${groups.join(':')}/${len}`;
        const length = Math.min(len + delta, 128);
        const resolved = accepts({ ipv6_prefix: prefix, ipv6_prefix_length: length });
        const pool = builds(() => new Ipv6PrefixPool('p', prefix, length));
        expect(resolved !== undefined, `${prefix} → /${length}`).toBe(pool !== undefined);
        if (resolved !== undefined) expect(new Ipv6PrefixPool('p', resolved.ipv6Prefix as string, resolved.ipv6PrefixLength).size).toBe(pool?.size);
      }),
      { numRuns: 1000 },
    );
  });

  it('the size limits meet at the same place', () => {
    expect(accepts({ ipv6_prefix: '2001:db8::/40', ipv6_prefix_length: 64 })).toBeDefined();
    expect(accepts({ ipv6_prefix: '2001:db8::/40', ipv6_prefix_length: 65 })).toBeUndefined();
    expect(() => new Ipv6PrefixPool('p', '2001:db8::/40', 65)).toThrow(/exceed/);
    expect(accepts({ ipv4: ['10.0.0.0/8', '11.0.0.1-11.0.0.2'] })).toBeDefined();
    expect(accepts({ ipv4: ['10.0.0.0/8', '11.0.0.1-11.0.0.3'] })).toBeUndefined();
    expect(() => new Ipv4Pool('p', ['10.0.0.0/8', '11.0.0.1-11.0.0.3'])).toThrow(/exceed/);
  });
});
