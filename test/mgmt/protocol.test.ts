/** The method table's run-time side: param validators and the peer "ADDR[:PORT]" syntax. */
import { describe, expect, it } from 'vitest';
import { formatEndpoint, MgmtError, parseEndpoint, PARAM_VALIDATORS, validateParams, type MethodName } from '../../src/mgmt/protocol.js';

describe('parseEndpoint', () => {
  it.each([
    ['192.0.2.1', { address: '192.0.2.1', port: 1701 }],
    ['192.0.2.1:1702', { address: '192.0.2.1', port: 1702 }],
    ['::1', { address: '::1', port: 1701 }],
    ['2001:db8::7', { address: '2001:db8::7', port: 1701 }],
    ['[::1]', { address: '::1', port: 1701 }],
    ['[2001:db8::7]:65535', { address: '2001:db8::7', port: 65535 }],
  ])('%s', (text, endpoint) => {
    expect(parseEndpoint(text)).toEqual(endpoint);
    expect(parseEndpoint(formatEndpoint(endpoint))).toEqual(endpoint);
  });

  it.each(['', 'lns.example.net', '192.0.2.1:0', '192.0.2.1:65536', '192.0.2.1:', '192.0.2.1:x', '192.0.2', '[192.0.2.1]:1701', '[::1]:', '[::1', '1.2.3.4:1:2', '::1]:1701'])(
    'refuses %j',
    (text) => expect(parseEndpoint(text)).toBeUndefined(),
  );
});

function refusal(method: MethodName, params: unknown): MgmtError {
  try {
    validateParams(method, params);
  } catch (e) {
    expect(e).toBeInstanceOf(MgmtError);
    return e as MgmtError;
  }
  return expect.fail(`${method} accepted ${JSON.stringify(params)}`);
}

describe('param validators', () => {
  it('has one per method and takes absent params as {}', () => {
    expect(Object.keys(PARAM_VALIDATORS)).toHaveLength(13);
    expect(validateParams('shard.restart', { shard: 1, crash: true })).toEqual({ shard: 1, crash: true });
    expect(() => validateParams('shard.restart', { shard: -1 })).toThrow(/param shard/);
    expect(validateParams('tunnels.list', undefined)).toEqual({});
    expect(validateParams('sessions.list', null)).toEqual({});
  });

  it('passes valid params, dropping optional ones given as null', () => {
    expect(validateParams('tunnels.create', { peer: '[::1]:1701', version: 3, persistent: true, name: null, local: '::1' })).toEqual({
      peer: '[::1]:1701',
      version: 3,
      persistent: true,
      local: '::1',
    });
    expect(validateParams('trace.set', { level: 'trace', tunnelId: 5, sessionId: 6 })).toEqual({ level: 'trace', tunnelId: 5, sessionId: 6 });
    expect(validateParams('sessions.create', { tunnelId: 0xffffffff, type: 'lns-outgoing' })).toEqual({ tunnelId: 0xffffffff, type: 'lns-outgoing' });
  });

  it.each<[MethodName, unknown, string, RegExp]>([
    ['tunnels.get', {}, 'tunnelId', /expected an integer 1\.\.4294967295, got undefined/],
    ['tunnels.get', { tunnelId: 0 }, 'tunnelId', /got 0/],
    ['tunnels.get', { tunnelId: 1.5 }, 'tunnelId', /got 1.5/],
    ['tunnels.get', { tunnelId: 2 ** 32 }, 'tunnelId', /expected an integer/],
    ['sessions.get', { tunnelId: 1, sessionId: '2' }, 'sessionId', /got "2"/],
    ['tunnels.create', { peer: 'lns.example.net' }, 'peer', /expected "ADDR\[:PORT\]"/],
    ['tunnels.create', { peer: '192.0.2.1', version: 4 }, 'version', /expected one of 2, 3, got 4/],
    ['tunnels.create', { peer: '192.0.2.1', version: '3' }, 'version', /got "3"/],
    ['tunnels.create', { peer: '192.0.2.1', persistent: 'yes' }, 'persistent', /expected true or false/],
    ['tunnels.create', { peer: '192.0.2.1', local: '192.0.2.2:1701' }, 'local', /expected an IP address/],
    ['tunnels.create', { peer: '192.0.2.1', profile: '' }, 'profile', /expected a string of 1\.\.256 characters/],
    ['sessions.create', { tunnelId: 1, type: 'lac' }, 'type', /expected one of "lac-incoming", "lns-outgoing"/],
    ['trace.set', { level: 'verbose' }, 'level', /expected one of "fatal"/],
    ['trace.set', { level: 'info', sessionId: 3 }, 'sessionId', /needs tunnelId/],
    ['stats', { shard: 1 }, 'shard', /unknown param/],
    ['tunnels.list', { constructor: 1 }, 'constructor', /unknown param/],
  ])('%s %j: bad-request naming %s', (method, params, param, message) => {
    const e = refusal(method, params);
    expect(e.code).toBe('bad-request');
    expect(e.param).toBe(param);
    expect(e.message).toMatch(new RegExp(`^param ${param}: `));
    expect(e.message).toMatch(message);
  });

  it.each([[[]], ['x'], [5]])('refuses params that are not an object: %j', (params) => {
    expect(refusal('stats', params)).toMatchObject({ code: 'bad-request', message: 'params must be an object' });
  });
});
