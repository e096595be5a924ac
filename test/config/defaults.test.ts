import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { load, yaml } from './helpers.js';

describe('built-in defaults', () => {
  const expectWorkingLns = (c: ReturnType<typeof load>): void => {
    expect(c.system.listen).toEqual([{ address: '0.0.0.0', family: 4, port: 1701 }]);
    expect(c.system.listenIp).toEqual([]);
    expect(c.system.dataplane).toBe('auto');
    expect(c.system.mgmtSocket).toBe('/run/l2tpd/l2tpd.sock');
    expect(c.system.logLevel).toBe('info');
    expect(c.system.hostname).toBe(os.hostname());
    expect(c.system.workers).toBe(os.availableParallelism());
    expect(c.system.limits).toEqual({ maxTunnels: 65535, maxSessionsPerTunnel: 65535, maxHalfOpenTunnels: 1000, maxSessions: 1_000_000 });
    expect(c.tunnels).toEqual([]);
    expect(c.matchPeer({ address: '192.0.2.7', hostName: 'anything' }).name).toBe('default');
  };

  it('an empty file is a working LNS', () => {
    expectWorkingLns(load(''));
  });

  it('no file at all is the same working LNS', () => {
    const c = loadConfig(undefined);
    expect(c.file).toBeUndefined();
    expectWorkingLns(c);
  });

  it('a file with only comments, or empty sections, is too', () => {
    expectWorkingLns(load(yaml('# nothing here', '---')));
    expectWorkingLns(load(yaml('system:', 'tunnel_profiles:', 'peer_profiles:', 'tunnels:')));
  });

  it('has a complete default profile of every type', () => {
    const c = load('');
    expect(c.tunnelProfile('default')).toEqual({
      name: 'default', version: 2, encapsulation: 'udp', authMode: 'none', secret: undefined, hideAvps: false,
      digest: 'hmac-md5', receiveWindowSize: 16, helloIntervalMs: 60_000, retransmitInitialMs: 1_000,
      retransmitCapMs: 8_000, maxRetransmits: 5, ackDelayMs: 100, ackDelayUnansweredMs: 20, hostName: os.hostname(),
    });
    expect(c.sessionProfile('default')).toEqual({
      name: 'default', sequencing: 'none', pseudowire: 'ppp', pseudowireType: 0x0007, cookieLength: 0,
      l2SpecificSublayer: 'none', pppProfile: 'default', ethernetProfile: 'default',
    });
    expect(c.pppProfile('default')).toEqual({
      name: 'default', mru: 1500, lcpEchoIntervalMs: 30_000, lcpEchoFailures: 3, auth: ['chap', 'pap'],
      pool: 'default', dns: [], localAddress: null, ipv6: false, aaa: 'local', restartTimerMs: 3_000, maxConfigure: 10, maxFailure: 5, proxyLcp: true, terminate: true, client: null,
    });
    expect(c.ethernetProfile('default')).toEqual({ name: 'default', interfaceName: 'l2tpeth%d', mtu: 1500, bridge: null, vlanId: null });
    expect(c.peerProfile('default')).toEqual({
      name: 'default', match: undefined, accept: true, tunnelProfile: 'default', sessionProfile: 'default',
      pppProfile: null, lac: true, lns: false,
    });
  });

  it('has one pool, default, and it is empty; no AAA is configured', () => {
    const c = load('');
    expect([...c.pools.values()]).toEqual([{ name: 'default', ipv4: [], ipv4Exclude: [], ipv6Prefix: null, ipv6PrefixLength: 64 }]);
    expect(c.pool('default')).toBe(c.pools.get('default'));
    expect(c.pool('nope')).toBeUndefined();
    expect(c.aaa).toEqual({ localUsers: null, radius: null, dynamicAuthorization: null });
    expect(Object.isFrozen(c.pools.get('default')?.ipv4)).toBe(true);
    expect(Object.isFrozen(c.aaa)).toBe(true);
  });

  it('derives a stable, non-zero Router ID from the host name', () => {
    const a = load(yaml('system: { hostname: lns1 }')).system.routerId;
    expect(a).toBe(load(yaml('system: { hostname: lns1 }')).system.routerId);
    expect(a).not.toBe(load(yaml('system: { hostname: lns2 }')).system.routerId);
    expect(a).toBeGreaterThan(0);
    expect(a).toBeLessThanOrEqual(0xffffffff);
  });

  it('takes the Router ID as a dotted quad or an integer', () => {
    expect(load(yaml('system: { router_id: 198.18.0.1 }')).system.routerId).toBe(0xc6120001);
    expect(load(yaml('system: { router_id: 42 }')).system.routerId).toBe(42);
  });

  it('uses system.hostname as every tunnel profile\'s Host Name unless one overrides it', () => {
    const c = load(yaml('system: { hostname: lns1 }', 'tunnel_profiles:', '  a: {}', '  b: { host_name: other }'));
    expect(c.tunnelProfile('default').hostName).toBe('lns1');
    expect(c.tunnelProfile('a').hostName).toBe('lns1');
    expect(c.tunnelProfile('b').hostName).toBe('other');
  });

  it('accepts YAML null for the null data plane, and IPv6 listen addresses', () => {
    const c = load(yaml('system:', '  dataplane: null', '  listen: ["[::]:1701", "192.0.2.1", "[2001:DB8:0:0::1]:17010"]', '  workers: 3'));
    expect(c.system.dataplane).toBe('null');
    expect(c.system.workers).toBe(3);
    expect(c.system.listen).toEqual([
      { address: '::', family: 6, port: 1701 },
      { address: '192.0.2.1', family: 4, port: 1701 },
      { address: '2001:db8::1', family: 6, port: 17010 },
    ]);
    expect(load(yaml('system: { dataplane: "null" }')).system.dataplane).toBe('null');
  });

  it('returns frozen objects, so a running tunnel cannot corrupt the shared config', () => {
    const c = load('');
    expect(Object.isFrozen(c.tunnelProfile('default'))).toBe(true);
    expect(Object.isFrozen(c.system.listen)).toBe(true);
    expect(() => c.tunnelProfile('nope')).toThrow(/no tunnel profile named "nope"/);
  });
});
