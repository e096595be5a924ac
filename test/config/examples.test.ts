import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');

describe('shipped examples', () => {
  it('lns.yaml: an LNS with a challenge-auth profile for 198.18.0.0/15 and a default one', () => {
    const c = loadConfig(path.join(examples, 'lns.yaml'));
    expect(c.tunnels).toEqual([]);
    expect(c.system.listen.map((l) => `${l.address}:${l.port}`)).toEqual(['0.0.0.0:1701', ':::1701']);
    const bras = c.matchPeer({ address: '198.19.7.1', hostName: 'bras7' });
    expect(bras.name).toBe('bras-lab');
    expect(c.tunnelProfile(bras.tunnelProfile)).toMatchObject({ authMode: 'challenge', hideAvps: true });
    expect(c.tunnelProfile(bras.tunnelProfile).secret).toBeTruthy();
    expect(c.pppProfile(bras.pppProfile ?? 'default').auth).toEqual(['chap']);
    const other = c.matchPeer({ address: '203.0.113.5' });
    expect(other.name).toBe('default');
    expect(c.tunnelProfile(other.tunnelProfile).authMode).toBe('none');
  });

  it('lns.yaml: local users for its own subscribers, RADIUS and a pool of their own for the BRAS\'s', () => {
    const c = loadConfig(path.join(examples, 'lns.yaml'));
    const own = c.pppProfile('default');
    expect(own).toMatchObject({ aaa: 'local', pool: 'subscribers', dns: ['192.0.2.53', '198.51.100.53'], restartTimerMs: 3_000 });
    expect(c.pool(own.pool)).toMatchObject({ ipv4: ['100.64.0.0/22', '100.64.4.10-100.64.4.250'], ipv4Exclude: ['100.64.0.1'], ipv6Prefix: '2001:db8:100::/48' });
    const bras = c.pppProfile(c.matchPeer({ address: '198.19.7.1' }).pppProfile ?? 'default');
    expect(bras).toMatchObject({ aaa: 'radius', pool: 'bras', proxyLcp: true, dns: own.dns });
    expect(c.aaa.localUsers).toBe('/etc/l2tpd/users');
    expect(c.aaa.radius).toMatchObject({
      servers: [{ host: '127.0.0.1', port: 1812 }], accountingServers: [{ host: '127.0.0.1', port: 1813 }],
      nasIdentifier: 'lns1', interimIntervalMs: 600_000,
    });
    expect(c.aaa.dynamicAuthorization?.listen).toEqual({ address: '127.0.0.1', family: 4, port: 3799 });
  });

  it('lac.yaml: one persistent tunnel to 127.0.0.2:1701 with one incoming-call session', () => {
    const c = loadConfig(path.join(examples, 'lac.yaml'));
    expect(c.system.listen).toEqual([]);
    expect(c.tunnels).toHaveLength(1);
    const t = c.tunnels[0]!;
    expect(t).toMatchObject({ name: 'to-lns1', peer: { address: '127.0.0.2', port: 1701 }, persistent: true });
    expect(t.sessions).toEqual([
      expect.objectContaining({ name: 's1', type: 'lac_incoming', pseudowire: 'ppp', callingNumber: '5550100' }),
    ]);
    expect(c.tunnelProfile(t.tunnelProfile).authMode).toBe('challenge');
  });
});
