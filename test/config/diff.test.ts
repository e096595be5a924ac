import { describe, expect, it } from 'vitest';
import { diffConfig, formatDiff } from '../../src/config/index.js';
import { load, yaml } from './helpers.js';

const before = yaml(
  'system: { log_level: info, workers: 2 }',
  'tunnel_profiles:',
  '  base: { hello_interval: 30s }',
  '  child: { inherit: base }',
  '  other: {}',
  'peer_profiles:',
  '  a: { match: { host_name: "a*" } }',
  '  b: { match: { host_name: "b*" } }',
  'tunnels:',
  '  - { name: t1, peer: 192.0.2.1 }',
  '  - { name: t2, peer: 192.0.2.2 }',
);

describe('diffConfig', () => {
  it('finds nothing between equal files', () => {
    const d = diffConfig(load(before), load(before));
    expect(d.empty).toBe(true);
    expect(formatDiff(d)).toEqual(['no changes']);
  });

  it('reports a parent change on every profile it reaches, by resolved value', () => {
    const after = before.replace('base: { hello_interval: 30s }', 'base: { hello_interval: 20s }');
    const d = diffConfig(load(before), load(after));
    expect(d.profiles.tunnel).toEqual({ added: [], removed: [], changed: ['base', 'child'] });
    expect(d.empty).toBe(false);
  });

  it('reports added, removed and changed tunnels and profiles', () => {
    const after = before
      .replace('  other: {}\n', '  newer: {}\n')
      .replace('{ name: t1, peer: 192.0.2.1 }', '{ name: t1, peer: 192.0.2.9 }')
      .replace('{ name: t2, peer: 192.0.2.2 }', '{ name: t3, peer: 192.0.2.3, persistent: true }');
    const d = diffConfig(load(before), load(after));
    expect(d.profiles.tunnel).toEqual({ added: ['newer'], removed: ['other'], changed: [] });
    expect(d.tunnels).toEqual({ added: ['t3'], removed: ['t2'], changed: ['t1'] });
    expect(formatDiff(d)).toEqual([
      'tunnel profiles added: newer',
      'tunnel profiles removed: other',
      'tunnels added: t3',
      'tunnels removed: t2',
      'tunnels changed: t1',
    ]);
  });

  it('names changed system keys in the file\'s terms and flags those needing a restart', () => {
    const after = before.replace('system: { log_level: info, workers: 2 }', 'system: { log_level: debug, workers: 4, limits: { max_sessions: 10 } }');
    const d = diffConfig(load(before), load(after));
    expect(d.system).toEqual(['workers', 'log_level', 'limits.max_sessions']);
    expect(d.restartRequired).toEqual(['workers']);
    expect(formatDiff(d).slice(0, 2)).toEqual(['system changed: workers, log_level, limits.max_sessions', 'restart required to apply: workers']);
  });

  it('notices reordered peer profiles, since matching is first match in file order', () => {
    const after = before.replace('  a: { match: { host_name: "a*" } }\n  b: { match: { host_name: "b*" } }', '  b: { match: { host_name: "b*" } }\n  a: { match: { host_name: "a*" } }');
    expect(after).not.toBe(before);
    const d = diffConfig(load(before), load(after));
    expect(d.peerOrderChanged).toBe(true);
    expect(d.profiles.peer.changed).toEqual([]);
    expect(d.empty).toBe(false);
  });
});

describe('diffConfig: pools and aaa', () => {
  const base = yaml(
    'aaa:',
    '  local_users: /etc/l2tpd/users',
    '  radius:',
    '    servers: [{ address: 10.0.0.1, secret: s }]',
    '    timeout: 3s',
    'pools:',
    '  gold: { ipv4: [198.18.1.0/24] }',
    '  silver: { ipv4: [198.18.2.0/24] }',
    'ppp_profiles:',
    '  sub: { pool: gold, aaa: radius }',
  );

  it('finds nothing when nothing moved', () => {
    const d = diffConfig(load(base), load(base));
    expect(d.pools).toEqual({ added: [], removed: [], changed: [] });
    expect(d.aaa).toEqual([]);
    expect(d.empty).toBe(true);
  });

  it('reports pools added, removed and changed by resolved value, and says they apply to new sessions', () => {
    const after = base
      .replace('gold: { ipv4: [198.18.1.0/24] }', 'gold: { ipv4: ["198.18.1.0/24"], ipv4_exclude: [198.18.1.1] }')
      .replace('silver: { ipv4: [198.18.2.0/24] }', 'bronze: { ipv4: [198.18.3.0/24] }');
    const d = diffConfig(load(base), load(after));
    expect(d.pools).toEqual({ added: ['bronze'], removed: ['silver'], changed: ['gold'] });
    expect(d.empty).toBe(false);
    expect(formatDiff(d)).toEqual([
      'pools added: bronze (applies to new sessions; running sessions keep their addresses)',
      'pools removed: silver (applies to new sessions; running sessions keep their addresses)',
      'pools changed: gold (applies to new sessions; running sessions keep their addresses)',
    ]);
    // The same ranges written differently are no change.
    expect(diffConfig(load(base), load(base.replace('[198.18.1.0/24]', '[" 198.18.1.0/24 "]'))).empty).toBe(true);
  });

  it('names changed aaa keys in the file\'s terms, and says they apply to new sessions', () => {
    const after = base
      .replace('local_users: /etc/l2tpd/users', 'local_users: /etc/l2tpd/users2')
      .replace('timeout: 3s', 'timeout: 5s\n    interim_interval: 10m')
      .replace('[{ address: 10.0.0.1, secret: s }]', '[{ address: 10.0.0.1, secret: s, accounting_address: null }]');
    const d = diffConfig(load(base), load(after));
    expect(d.aaa).toEqual(['local_users', 'radius.servers', 'radius.timeout', 'radius.interim_interval']);
    expect(d.profiles.ppp.changed).toEqual([]);
    expect(formatDiff(d)).toEqual(['aaa changed: local_users, radius.servers, radius.timeout, radius.interim_interval (applies to new sessions; running sessions keep theirs)']);
  });

  it('reports a section appearing or going as a whole', () => {
    const withDynAuth = base.replace('pools:', '  dynamic_authorization: { clients: [{ address: 10.0.0.1, secret: c }] }\npools:');
    expect(diffConfig(load(base), load(withDynAuth)).aaa).toEqual(['dynamic_authorization']);
    const moved = withDynAuth.replace('clients:', 'listen: "127.0.0.1:3799", clients:');
    expect(diffConfig(load(withDynAuth), load(moved)).aaa).toEqual(['dynamic_authorization.listen']);
    const local = yaml('aaa: { local_users: /etc/l2tpd/users }');
    expect(diffConfig(load(local), load(base)).aaa).toEqual(['radius']);
  });

  it('reports a ppp profile whose new keys changed', () => {
    const d = diffConfig(load(base), load(base.replace('sub: { pool: gold, aaa: radius }', 'sub: { pool: silver, aaa: radius, dns: [192.0.2.53] }')));
    expect(d.profiles.ppp.changed).toEqual(['sub']);
    expect(d.pools.changed).toEqual([]);
  });
});
