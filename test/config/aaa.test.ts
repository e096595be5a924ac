import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../../src/config/index.js';
import { makeTempDir } from '../support/tmp.js';
import type { TempDir } from '../support/tmp.js';
import { FILE, issueAt, issuesOf, load, positionOf, yaml } from './helpers.js';

const full = yaml(
  'system: { hostname: lns1 }',
  'aaa:',
  '  local_users: /etc/l2tpd/users',
  '  radius:',
  '    servers:',
  '      - { address: "127.0.0.1:1812", secret: s3cret, accounting_address: "127.0.0.1:1813" }',
  '      - { address: "[2001:DB8::2]", secret: other }',
  '      - { address: 192.0.2.3:11812, secret: third, accounting_address: null }',
  '    timeout: 2s',
  '    retries: 1',
  '    dead_time: 1m',
  '    nas_identifier: lns1.example.net',
  '    nas_ip_address: 192.0.2.1',
  '    interim_interval: 5m',
  '    require_message_authenticator: true',
  '  dynamic_authorization:',
  '    listen: "127.0.0.1:3799"',
  '    clients:',
  '      - { address: 127.0.0.1, secret: coa-secret }',
  '      - { address: "2001:db8:0::9", secret: other }',
);

describe('aaa', () => {
  it('is empty by default: no users file, no RADIUS, no Disconnect/CoA server', () => {
    expect(load('').aaa).toEqual({ localUsers: null, radius: null, dynamicAuthorization: null });
    expect(load(yaml('aaa:')).aaa).toEqual({ localUsers: null, radius: null, dynamicAuthorization: null });
  });

  it('resolves a full section into the shapes RadiusClient and DynAuthServer take', () => {
    const c = load(full);
    expect(c.aaa).toEqual({
      localUsers: '/etc/l2tpd/users',
      radius: {
        servers: [
          { host: '127.0.0.1', port: 1812, secret: 's3cret' },
          { host: '2001:db8::2', port: 1812, secret: 'other' },
          { host: '192.0.2.3', port: 11812, secret: 'third' },
        ],
        accountingServers: [
          { host: '127.0.0.1', port: 1813, secret: 's3cret' },
          { host: '2001:db8::2', port: 1813, secret: 'other' },
        ],
        timeoutMs: 2_000,
        retries: 1,
        deadTimeMs: 60_000,
        nasIdentifier: 'lns1.example.net',
        nasIpAddress: '192.0.2.1',
        interimIntervalMs: 300_000,
        requireMessageAuthenticator: true,
      },
      dynamicAuthorization: {
        listen: { address: '127.0.0.1', family: 4, port: 3799 },
        clients: [{ address: '127.0.0.1', secret: 'coa-secret' }, { address: '2001:db8::9', secret: 'other' }],
      },
    });
    expect(Object.isFrozen(c.aaa.radius?.servers[0])).toBe(true);
  });

  it('has RADIUS defaults: 3s timeout, 2 retries, 30s dead time, NAS-Identifier = system.hostname, no interim updates', () => {
    const c = load(yaml('system: { hostname: lns7 }', 'aaa:', '  radius:', '    servers: [{ address: 10.0.0.1, secret: s }]'));
    expect(c.aaa.radius).toEqual({
      servers: [{ host: '10.0.0.1', port: 1812, secret: 's' }],
      accountingServers: [{ host: '10.0.0.1', port: 1813, secret: 's' }],
      timeoutMs: 3_000, retries: 2, deadTimeMs: 30_000, nasIdentifier: 'lns7', nasIpAddress: null,
      interimIntervalMs: 0, requireMessageAuthenticator: false,
    });
  });

  it('listens for Disconnect/CoA on 0.0.0.0:3799 unless told otherwise', () => {
    const c = load(yaml('aaa:', '  dynamic_authorization:', '    clients: [{ address: "::ffff:10.0.0.1", secret: s }]'));
    expect(c.aaa.dynamicAuthorization).toEqual({
      listen: { address: '0.0.0.0', family: 4, port: 3799 },
      clients: [{ address: '10.0.0.1', secret: 's' }],
    });
    expect(load(yaml('aaa: { dynamic_authorization: { listen: "[::1]", clients: [{ address: "::1", secret: s }] } }')).aaa.dynamicAuthorization?.listen)
      .toEqual({ address: '::1', family: 6, port: 3799 });
  });

  describe('local_users', () => {
    it('resolves a relative path against the config file\'s directory', () => {
      const text = yaml('aaa: { local_users: users.txt }');
      expect(parseConfig(text, '/etc/l2tpd/l2tpd.yaml').aaa.localUsers).toBe('/etc/l2tpd/users.txt');
      expect(parseConfig(yaml('aaa: { local_users: ../shared/users }'), '/etc/l2tpd/l2tpd.yaml').aaa.localUsers).toBe('/etc/shared/users');
      expect(parseConfig(yaml('aaa: { local_users: /srv/users }'), '/etc/l2tpd/l2tpd.yaml').aaa.localUsers).toBe('/srv/users');
      // A config file named relatively is itself relative to the working directory.
      expect(parseConfig(text, 'conf/l2tpd.yaml').aaa.localUsers).toBe(path.resolve('conf', 'users.txt'));
    });

    describe('through loadConfig', () => {
      let tmp: TempDir;
      beforeAll(async () => {
        tmp = await makeTempDir();
      });
      afterAll(() => tmp.cleanup());

      it('is relative to the file that was loaded, wherever the daemon runs', async () => {
        await mkdir(tmp.file('etc'));
        const file = tmp.file('etc/l2tpd.yaml');
        await writeFile(file, yaml('aaa:', '  local_users: ./users', 'ppp_profiles:', '  default: { aaa: local }'));
        expect(loadConfig(file).aaa.localUsers).toBe(path.join(path.dirname(file), 'users'));
      });
    });
  });

  describe('refuses', () => {
    it.each([
      ['aaa: { local_users: "" }', 'aaa.local_users', 'must be a file path, got ""'],
      ['aaa: { local_users: 42 }', 'aaa.local_users', 'must be a file path, got 42'],
      ['aaa: { radius: { servers: [] } }', 'aaa.radius.servers', 'must list at least 1 server, got 0'],
      ['aaa: { radius: {} }', 'aaa.radius.servers', 'is required (a list)'],
      ['aaa: { radius: { servers: [{ address: radius.example.net, secret: s }] } }', 'aaa.radius.servers[0].address',
        '"radius.example.net" is not an IP address with an optional port (e.g. "192.0.2.1:1701" or "[2001:db8::1]:1701")'],
      ['aaa: { radius: { servers: [{ address: "10.0.0.1:0", secret: s }] } }', 'aaa.radius.servers[0].address', '"10.0.0.1:0": port must be 1..65535'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1 }] } }', 'aaa.radius.servers[0].secret', 'is required (a non-empty string of at most 1024 characters)'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1, secret: s, accounting_address: "10.0.0.1:99999" }] } }', 'aaa.radius.servers[0].accounting_address', '"10.0.0.1:99999": port must be 1..65535'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1, secret: s, acct: x }] } }', 'aaa.radius.servers[0].acct', 'unknown key "acct" (allowed here: address, secret, accounting_address)'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1, secret: s }], timeout: 0 } }', 'aaa.radius.timeout', 'must be a duration between 100ms and 1m (seconds, or a string like "500ms", "30s", "2m"), got 0'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1, secret: s }], retries: 11 } }', 'aaa.radius.retries', 'must be an integer between 0 and 10, got 11'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1, secret: s }], dead_time: 2h } }', 'aaa.radius.dead_time', 'must be a duration between 0s and 1h (seconds, or a string like "500ms", "30s", "2m"), got "2h"'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1, secret: s }], nas_ip_address: "2001:db8::1" } }', 'aaa.radius.nas_ip_address', 'must be an IPv4 unicast address like "192.0.2.53", got "2001:db8::1"'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1, secret: s }], nas_ip_address: 0.0.0.0 } }', 'aaa.radius.nas_ip_address', 'must be an IPv4 unicast address, got "0.0.0.0"'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1, secret: s }], interim_interval: 30s } }', 'aaa.radius.interim_interval',
        'must be 0 (off) or a duration between 1m and 24h (seconds, or a string like "5m", "1h"), got "30s"'],
      ['aaa: { radius: { servers: [{ address: 10.0.0.1, secret: s }], require_message_authenticator: 1 } }', 'aaa.radius.require_message_authenticator', 'must be true or false, got 1'],
      ['aaa: { dynamic_authorization: { clients: [] } }', 'aaa.dynamic_authorization.clients', 'must list at least 1 client, got 0'],
      ['aaa: { dynamic_authorization: { clients: [{ address: "10.0.0.1:3799", secret: s }] } }', 'aaa.dynamic_authorization.clients[0].address',
        'must be an IP address like "192.0.2.1" or "2001:db8::1", got "10.0.0.1:3799"'],
      ['aaa: { dynamic_authorization: { listen: nowhere, clients: [{ address: 10.0.0.1, secret: s }] } }', 'aaa.dynamic_authorization.listen',
        '"nowhere" is not an IP address with an optional port (e.g. "192.0.2.1:1701" or "[2001:db8::1]:1701")'],
      ['aaa: { raidus: {} }', 'aaa.raidus', 'unknown key "raidus" (did you mean "radius"?)'],
      ['aaa: [radius]', 'aaa', 'must be a mapping of keys to values, got a list'],
    ])('%s', (text, at, message) => {
      expect(issueAt(`${text}\n`, at).message).toBe(message);
    });

    it('a RADIUS server listed twice, at the second, with the first one\'s line', () => {
      const text = yaml('aaa:', '  radius:', '    servers:', '      - { address: 10.0.0.1, secret: a }', '      - { address: "10.0.0.1:1812", secret: b }');
      expect(issueAt(text, 'aaa.radius.servers[1].address')).toEqual({
        file: FILE, line: 5, column: 20, path: 'aaa.radius.servers[1].address', message: 'server "10.0.0.1:1812" is listed twice (first at line 4)',
      });
    });

    it('a Disconnect/CoA client listed twice, however spelled', () => {
      const text = yaml('aaa:', '  dynamic_authorization:', '    clients:', '      - { address: "2001:db8::1", secret: a }', '      - { address: "2001:DB8:0::1", secret: b }');
      expect(issueAt(text, 'aaa.dynamic_authorization.clients[1].address')).toMatchObject({
        line: 5, column: 20, message: 'client "2001:db8::1" is listed twice (first at line 4)',
      });
    });
  });

  describe('what ppp profiles need', () => {
    it('aaa: radius needs RADIUS servers, reported at that profile\'s aaa key', () => {
      const text = yaml('ppp_profiles:', '  subscribers:', '    auth: [chap]', '    aaa: radius');
      expect(issuesOf(text)).toEqual([{
        file: FILE, line: 4, column: 10, path: 'ppp_profiles.subscribers.aaa', message: 'aaa: radius needs RADIUS servers (set aaa.radius.servers)',
      }]);
    });

    it('aaa: local needs a users file, reported likewise', () => {
      const text = yaml('ppp_profiles:', '  default:', '    aaa: local');
      expect(issueAt(text, 'ppp_profiles.default.aaa')).toMatchObject({
        line: 3, column: 10, message: 'aaa: local needs a users file (set aaa.local_users)',
      });
    });

    it('is satisfied by the aaa section', () => {
      const c = load(yaml(
        'aaa:',
        '  local_users: /etc/l2tpd/users',
        '  radius: { servers: [{ address: 10.0.0.1, secret: s }] }',
        'ppp_profiles:',
        '  default: { aaa: local }',
        '  carrier: { aaa: radius }',
      ));
      expect([c.pppProfile('default').aaa, c.pppProfile('carrier').aaa]).toEqual(['local', 'radius']);
    });

    it('leaves the built-in local alone, so an empty file (or one that only sets auth) stays valid', () => {
      expect(load('').pppProfile('default').aaa).toBe('local');
      expect(load(yaml('ppp_profiles: { open: { auth: [] }, pap: { auth: [pap] } }')).pppProfile('pap').aaa).toBe('local');
    });

    it('reports once, on the profile that sets aaa, not on every child', () => {
      const text = yaml('ppp_profiles:', '  base: { aaa: radius }', '  a: { inherit: base, mru: 1400 }', '  b: { inherit: a, auth: [pap] }');
      expect(issuesOf(text).map((i) => i.path)).toEqual(['ppp_profiles.base.aaa']);
    });

    it('is not reported when the aaa section itself has an error (it would mislead)', () => {
      const text = yaml('aaa:', '  radius: { servers: [{ address: 10.0.0.1, secret: s }], timeout: forever }', 'ppp_profiles:', '  p: { aaa: radius }', '  q: { aaa: local }');
      expect(issuesOf(text).map((i) => i.path)).toEqual(['aaa.radius.timeout']);
      // With a clean aaa section, the missing users file is found in the same pass as other errors.
      const other = yaml('aaa:', '  radius: { servers: [{ address: 10.0.0.1, secret: s }] }', 'ppp_profiles:', '  p: { aaa: radius, mru: 1 }', '  q: { aaa: local }');
      expect(issuesOf(other).map((i) => i.path)).toEqual(['ppp_profiles.p.mru', 'ppp_profiles.q.aaa']);
      expect(issueAt(other, 'ppp_profiles.q.aaa')).toMatchObject(positionOf(other, 'local'));
    });
  });
});
