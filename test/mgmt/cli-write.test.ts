/**
 * The commands of l2tpctl that change things (tunnel, session, trace, reload) against a fake daemon: what they
 * send, what they print, and exit codes 1 (daemon refused), 2 (usage, or params the daemon rejects), 3 (not found).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ctl, fakeDaemon, serve, type FakeDaemon, type Running } from './fake-daemon.js';

let fake: FakeDaemon;
let running: Running;
beforeAll(async () => {
  fake = fakeDaemon();
  running = await serve(fake.handlers);
});
afterAll(() => running.stop());
beforeEach(() => void (fake.calls.length = 0));

const run = (...argv: string[]) => ctl(running.socket, ...argv);
const sent = () => fake.calls.map((c) => [c.method, c.params]);

describe('l2tpctl tunnel', () => {
  it('tunnel create sends every option and says what it did', async () => {
    const r = await run('tunnel', 'create', '--peer', '192.0.2.9:1702', '--profile', 'lac', '--persistent', '--version', '3', '--name', 'to-isp', '--local', '192.0.2.1');
    expect(r).toEqual({ code: 0, out: 'created tunnel 7 to 192.0.2.9:1702 (L2TPv3, profile lac, state wait-ctl-reply)\n', err: '' });
    expect(sent()).toEqual([['tunnels.create', { peer: '192.0.2.9:1702', profile: 'lac', persistent: true, version: 3, name: 'to-isp', local: '192.0.2.1' }]]);
  });

  it('tunnel create with only a peer sends only the peer; --json prints the new tunnel', async () => {
    const r = await run('--json', 'tunnel', 'create', '--peer', '[2001:db8::9]');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ tunnelId: 7, peerAddress: '[2001:db8::9]', state: 'wait-ctl-reply' });
    expect(sent()).toEqual([['tunnels.create', { peer: '[2001:db8::9]' }]]);
  });

  it('still answers -V/--version with the program version', async () => {
    expect((await run('--version')).out).toMatch(/^\d+\.\d+\.\d+\n$/);
    expect(sent()).toEqual([]);
  });

  it.each([
    [['--profile', 'missing'], 2, 'l2tpctl tunnel create: no tunnel profile named missing (bad-request)\n'],
    [['--profile', 'full'], 1, 'l2tpctl tunnel create: tunnel limit reached (limit)\n'],
  ])('tunnel create %j: exit %i when the daemon says no', async (extra, code, err) => {
    expect(await run('tunnel', 'create', '--peer', '192.0.2.9', ...extra)).toEqual({ code, out: '', err });
  });

  it.each([
    [['tunnel', 'create'], /required option '--peer <addr\[:port\]>' not specified/],
    [['tunnel', 'create', '--peer', 'lns.example.net'], /expected ADDR\[:PORT\] with an IP address/],
    [['tunnel', 'create', '--peer', '2001:db8::1:1701x'], /expected ADDR\[:PORT\]/],
    [['tunnel', 'create', '--peer', '192.0.2.9', '--version', '4'], /option '--version <2\|3>' argument '4' is invalid\. must be 2 or 3/],
    [['tunnel', 'create', '--peer', '192.0.2.9', '--local', '192.0.2.1:1701'], /expected an IP address \(no port\)/],
    [['tunnel', 'delete'], /missing required argument 'id'/],
    [['tunnel', 'delete', 'all'], /tunnel ID must be an integer/],
  ])('exits 2 for %j without asking the daemon', async (argv, err) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(err);
    expect(sent()).toEqual([]);
  });

  it('tunnel delete: exit 0, or 3 for no such tunnel', async () => {
    expect(await run('tunnel', 'delete', '2')).toEqual({ code: 0, out: 'closing tunnel 2\n', err: '' });
    expect(JSON.parse((await run('tunnel', 'delete', '2', '--json')).out)).toEqual({ ok: true });
    expect(await run('tunnel', 'delete', '99')).toEqual({ code: 3, out: '', err: 'l2tpctl tunnel delete: no tunnel 99 (not-found)\n' });
    expect(sent()).toEqual([
      ['tunnels.delete', { tunnelId: 2 }],
      ['tunnels.delete', { tunnelId: 2 }],
      ['tunnels.delete', { tunnelId: 99 }],
    ]);
  });
});

describe('l2tpctl session', () => {
  it('session create: lac-incoming by default, numbers passed on', async () => {
    const r = await run('session', 'create', '1', '--calling', '5550000', '--called', '5551111');
    expect(r).toEqual({ code: 0, out: 'created session 1/12 (lacIncoming, state wait-reply)\n', err: '' });
    expect(sent()).toEqual([['sessions.create', { tunnelId: 1, type: 'lac-incoming', callingNumber: '5550000', calledNumber: '5551111' }]]);
    const json = await run('session', 'create', '1', '--type', 'lns-outgoing', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ tunnelId: 1, sessionId: 12, callType: 'lnsOutgoing' });
  });

  it('session create: exit 1 when refused, 3 for no such tunnel, 2 for a bad type', async () => {
    expect(await run('session', 'create', '2')).toEqual({ code: 1, out: '', err: 'l2tpctl session create: tunnel 2 is not established (refused)\n' });
    expect((await run('session', 'create', '42')).code).toBe(3);
    const bad = await run('session', 'create', '1', '--type', 'lac');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/Allowed choices are lac-incoming, lns-outgoing/);
  });

  it('session delete: exit 0, or 3 for no such session', async () => {
    expect(await run('session', 'delete', '1', '10')).toEqual({ code: 0, out: 'disconnecting session 1/10\n', err: '' });
    expect(await run('session', 'delete', '1', '77')).toEqual({ code: 3, out: '', err: 'l2tpctl session delete: no session 1/77 (not-found)\n' });
    expect((await run('session', 'delete', '1')).code).toBe(2);
  });
});

describe('l2tpctl trace and reload', () => {
  it.each([
    [['trace', 'debug'], { level: 'debug' }, 'trace level debug system-wide\n'],
    [['trace', 'trace', '--tunnel', '1'], { level: 'trace', tunnelId: 1 }, 'trace level trace tunnel 1\n'],
    [['trace', 'info', '--tunnel', '1', '--session', '10'], { level: 'info', tunnelId: 1, sessionId: 10 }, 'trace level info session 1/10\n'],
  ])('%j', async (argv, params, out) => {
    expect(await run(...argv)).toEqual({ code: 0, out, err: '' });
    expect(sent()).toEqual([['trace.set', params]]);
  });

  it('trace: usage errors before any call', async () => {
    const noTunnel = await run('trace', 'debug', '--session', '3');
    expect(noTunnel).toEqual({ code: 2, out: '', err: 'l2tpctl trace: --session needs --tunnel\n' });
    const level = await run('trace', 'loud');
    expect(level.code).toBe(2);
    expect(level.err).toMatch(/Allowed choices are fatal, error, warn, info, debug, trace/);
    expect(sent()).toEqual([]);
  });

  it('reload lists what changed; --json prints the answer', async () => {
    expect(await run('reload')).toEqual({ code: 0, out: 'configuration reloaded: 2 changed\n  profiles.tunnel.default\n  listen\n', err: '' });
    expect(JSON.parse((await run('reload', '--json')).out)).toEqual({ changed: ['profiles.tunnel.default', 'listen'] });
  });

  it('exit 4 for a write command when the daemon is not there', async () => {
    const socket = `${running.tmp.dir}/gone.sock`;
    const r = await ctl(socket, 'tunnel', 'delete', '1');
    expect(r).toEqual({ code: 4, out: '', err: `l2tpctl tunnel delete: cannot reach l2tpd at ${socket}: no such socket (is l2tpd running?)\n` });
  });
});
