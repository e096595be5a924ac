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
