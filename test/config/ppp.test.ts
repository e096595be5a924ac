import { describe, expect, it } from 'vitest';
import { FILE, issueAt, load, yaml } from './helpers.js';

const users = 'aaa: { local_users: /etc/l2tpd/users, radius: { servers: [{ address: 10.0.0.1, secret: s }] } }';

describe('ppp profile keys for PPP termination and AAA', () => {
  it('have RFC 1661 / safe defaults', () => {
    expect(load('').pppProfile('default')).toMatchObject({
      pool: 'default', dns: [], ipv6: false, aaa: 'local', restartTimerMs: 3_000, maxConfigure: 10, maxFailure: 5, proxyLcp: true,
    });
  });

  it('take every value', () => {
    const c = load(yaml(
      users,
      'pools: { gold: { ipv4: [198.18.1.0/24] } }',
      'ppp_profiles:',
      '  p:',
      '    pool: gold',
      '    dns: [192.0.2.53, "198.51.100.53"]',
      '    ipv6: true',
      '    aaa: radius',
      '    restart_timer: 500ms',
      '    max_configure: 20',
      '    max_failure: 3',
      '    proxy_lcp: false',
    ));
    expect(c.pppProfile('p')).toMatchObject({
      pool: 'gold', dns: ['192.0.2.53', '198.51.100.53'], ipv6: true, aaa: 'radius', restartTimerMs: 500,
      maxConfigure: 20, maxFailure: 3, proxyLcp: false,
    });
    expect(c.pool(c.pppProfile('p').pool)?.ipv4).toEqual(['198.18.1.0/24']);
  });

  it('inherit like the existing keys: nearest value wins, lists replace', () => {
    const c = load(yaml(
      users,
      'pools: { gold: {}, silver: {} }',
      'ppp_profiles:',
      '  default: { dns: [192.0.2.53], restart_timer: 2s }',
      '  base: { pool: gold, aaa: radius, ipv6: true, max_configure: 4, proxy_lcp: false }',
      '  child: { inherit: base, pool: silver, dns: [192.0.2.54, 192.0.2.55] }',
      '  grandchild: { inherit: child, max_failure: 9, dns: [] }',
      '  sibling: { mru: 1400 }',
    ));
    expect(c.pppProfile('base')).toMatchObject({ pool: 'gold', dns: ['192.0.2.53'], aaa: 'radius', ipv6: true, restartTimerMs: 2_000, maxConfigure: 4, maxFailure: 5, proxyLcp: false });
    expect(c.pppProfile('child')).toMatchObject({ pool: 'silver', dns: ['192.0.2.54', '192.0.2.55'], aaa: 'radius', ipv6: true, maxConfigure: 4, proxyLcp: false });
    expect(c.pppProfile('grandchild')).toMatchObject({ pool: 'silver', dns: [], aaa: 'radius', ipv6: true, restartTimerMs: 2_000, maxConfigure: 4, maxFailure: 9, proxyLcp: false });
    expect(c.pppProfile('sibling')).toMatchObject({ pool: 'default', dns: ['192.0.2.53'], aaa: 'local', ipv6: false, restartTimerMs: 2_000, maxConfigure: 10, proxyLcp: true });
  });

  it.each([
    ['ppp_profiles: { p: { dns: [192.0.2.1, 192.0.2.2, 192.0.2.3] } }', 'ppp_profiles.p.dns', 'must list at most 2 addresses (primary and secondary, RFC 1877), got 3'],
    ['ppp_profiles: { p: { dns: 192.0.2.1 } }', 'ppp_profiles.p.dns', 'must be a list, got "192.0.2.1"'],
    ['ppp_profiles: { p: { dns: [dns.example.net] } }', 'ppp_profiles.p.dns[0]', 'must be an IPv4 unicast address like "192.0.2.53", got "dns.example.net"'],
    ['ppp_profiles: { p: { dns: ["2001:db8::53"] } }', 'ppp_profiles.p.dns[0]', 'must be an IPv4 unicast address like "192.0.2.53", got "2001:db8::53"'],
    ['ppp_profiles: { p: { dns: [0.0.0.0] } }', 'ppp_profiles.p.dns[0]', 'must be an IPv4 unicast address, got "0.0.0.0"'],
    ['ppp_profiles: { p: { dns: [224.0.0.53] } }', 'ppp_profiles.p.dns[0]', 'must be an IPv4 unicast address, got "224.0.0.53"'],
    ['ppp_profiles: { p: { ipv6: yes } }', 'ppp_profiles.p.ipv6', 'must be true or false, got "yes"'],
    ['ppp_profiles: { p: { aaa: ldap } }', 'ppp_profiles.p.aaa', 'must be local or radius, got "ldap"'],
    ['ppp_profiles: { p: { restart_timer: 50ms } }', 'ppp_profiles.p.restart_timer', 'must be a duration between 100ms and 1m (seconds, or a string like "500ms", "30s", "2m"), got "50ms"'],
    ['ppp_profiles: { p: { max_configure: 0 } }', 'ppp_profiles.p.max_configure', 'must be an integer between 1 and 255, got 0'],
    ['ppp_profiles: { p: { max_failure: 2.5 } }', 'ppp_profiles.p.max_failure', 'must be an integer between 1 and 255, got 2.5'],
    ['ppp_profiles: { p: { proxy_lcp: "true" } }', 'ppp_profiles.p.proxy_lcp', 'must be true or false, got "true"'],
    ['ppp_profiles: { p: { pool: "a b" } }', 'ppp_profiles.p.pool', 'must be a name of up to 64 letters, digits, "_" and "-" (not only digits), got "a b"'],
    ['ppp_profiles: { p: { proxylcp: true } }', 'ppp_profiles.p.proxylcp', 'unknown key "proxylcp" (did you mean "proxy_lcp"?)'],
  ])('%s', (text, path, message) => {
    expect(issueAt(`${text}\n`, path).message).toBe(message);
  });

  it('locates a DNS server listed twice', () => {
    const text = yaml('ppp_profiles:', '  p:', '    dns:', '      - 192.0.2.53', '      - 192.0.2.53');
    expect(issueAt(text, 'ppp_profiles.p.dns[1]')).toEqual({ file: FILE, line: 5, column: 9, path: 'ppp_profiles.p.dns[1]', message: '"192.0.2.53" is listed twice' });
  });
});

describe('ppp_profiles.terminate', () => {
  it('defaults to true, inherits, and can be turned off', async () => {
    const { parseConfig } = await import('../../src/config/index.js');
    const c = parseConfig('ppp_profiles:\n  l2tp-only:\n    terminate: false\n  child:\n    inherit: l2tp-only\n', 'test.yaml');
    expect(c.pppProfile('default').terminate).toBe(true);
    expect(c.pppProfile('l2tp-only').terminate).toBe(false);
    expect(c.pppProfile('child').terminate).toBe(false);
  });
});
