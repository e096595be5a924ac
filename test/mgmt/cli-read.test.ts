/**
 * The read commands of l2tpctl (status, show, stats) run in-process with `main(argv, io)` against a fake
 * daemon on a temp socket: their text, their --json (the daemon's answer as it is), and exit codes 3 and 4.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bufferedIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/l2tpctl.js';
import { ctl, fakeDaemon, serve, type FakeDaemon, type Running } from './fake-daemon.js';

let fake: FakeDaemon;
let running: Running;
beforeAll(async () => {
  fake = fakeDaemon();
  running = await serve(fake.handlers);
});
afterAll(() => running.stop());

const run = (...argv: string[]) => ctl(running.socket, ...argv);

describe('l2tpctl status and stats', () => {
  it('status: a key: value block', async () => {
    const r = await run('status');
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe(
      [
        'version:      0.1.0',
        'pid:          4242',
        'uptime:       1d 2h 3m 4s',
        'data plane:   null (no CAP_NET_ADMIN)',
        'shards:       2',
        'tunnels:      2',
        'sessions:     2',
        'config file:  /etc/l2tpd/l2tpd.yaml',
        'listen:       0.0.0.0:1701, [::]:1701',
        '',
      ].join('\n'),
    );
  });

  it('--json prints the answer as it is, before or after the command', async () => {
    const before = await run('--json', 'status');
    const after = await run('status', '--json');
    expect(after.out).toBe(before.out);
    expect(JSON.parse(before.out)).toEqual(await fake.handlers['system.status']({}));
    expect(before.out).toMatch(/^\{\n {2}"version": "0\.1\.0",\n/); // pretty-printed
  });

  it('stats: one row per counter, total then each shard', async () => {
    const r = await run('stats');
    expect(r.code).toBe(0);
    expect(r.out).toBe('COUNTER    TOTAL  SHARD0  SHARD1\npackets    15     10      5\nmalformed  1      1       0\n');
    expect(JSON.parse((await run('stats', '--json')).out)).toEqual({ shards: [{ packets: 10, malformed: 1 }, { packets: 5, malformed: 0 }], totals: { packets: 15, malformed: 1 } });
  });
});

describe('l2tpctl show', () => {
  it('show tunnels: an aligned table, IPv6 peers in brackets, "-" for what is unknown', async () => {
    const r = await run('show', 'tunnels');
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      [
        'ID  PEER-ID  PEER                HOST     VER  STATE           SESSIONS',
        '1   101      198.51.100.7:1701   lac-one  2    established     2',
        '2   102      [2001:db8::7]:1701  -        3    wait-ctl-reply  0',
        '',
      ].join('\n'),
    );
    const json = JSON.parse((await run('show', 'tunnels', '--json')).out) as unknown[];
    expect(json).toEqual([...fake.tunnels.values()]);
  });

  it('show tunnel ID: the tunnel and a table of its sessions', async () => {
    const r = await run('show', 'tunnel', '1');
    expect(r.code).toBe(0);
    expect(r.out).toContain('tunnel:       1\npeer tunnel:  101\nversion:      2\nstate:        established\n');
    expect(r.out).toContain('peer:         198.51.100.7:1701\npeer host:    lac-one\n');
    expect(r.out).toContain('control:      Ns 3  Nr 4  unacked 0  sent 3  retransmitted 1  received 4  duplicates 0  ZLB sent 2\n');
    expect(r.out).toMatch(/\n\nTUNNEL {2}SESSION {2}PEER-SESSION {2}TYPE {9}STATE {8}CALLING {2}CALLED\n1 {7}10 /);
    const json = JSON.parse((await run('--json', 'show', 'tunnel', '1')).out) as { tunnelId: number; sessions: Array<{ sessionId: number }> };
    expect(json.tunnelId).toBe(1);
    expect(json.sessions.map((s) => s.sessionId)).toEqual([10, 11]);
  });

  it('show sessions [--tunnel ID]', async () => {
    const all = await run('show', 'sessions');
    expect(all.out).toBe(
      [
        'TUNNEL  SESSION  PEER-SESSION  TYPE         STATE        CALLING  CALLED',
        '1       10       210           lacIncoming  established  5551234  -',
        '1       11       211           lnsOutgoing  wait-reply   -        5559876',
        '',
      ].join('\n'),
    );
    expect((await run('show', 'sessions', '--tunnel', '2')).out).toBe('no sessions\n');
    expect(fake.calls.filter((c) => c.method === 'sessions.list').map((c) => c.params)).toEqual([{}, { tunnelId: 2 }]);
    expect(JSON.parse((await run('show', 'sessions', '--tunnel', '1', '--json')).out)).toEqual(fake.sessions);
  });

  it('show session TID SID', async () => {
    const r = await run('show', 'session', '1', '11');
    expect(r.code).toBe(0);
    expect(r.out).toContain('tunnel:        1\nsession:       11\npeer tunnel:   101\npeer session:  211\ntype:          lnsOutgoing\n');
    expect(r.out).toContain('calling:       -\ncalled:        5559876\n');
    expect(r.out).toContain('data:          rx 12 packets 3400 bytes (0 errors, 0 seq discards)  tx 10 packets 2900 bytes (0 errors)\n');
    expect(JSON.parse((await run('show', 'session', '1', '10', '--json')).out)).toEqual({
      ...fake.sessions[0],
      counters: { rxPackets: 12, rxBytes: 3400, rxErrors: 0, rxSeqDiscards: 0, txPackets: 10, txBytes: 2900, txErrors: 0 },
    });
  });

  it.each([
    [['show', 'tunnel', '9'], 'l2tpctl show tunnel: no tunnel 9 (not-found)\n'],
    [['show', 'session', '1', '99'], 'l2tpctl show session: no session 1/99 (not-found)\n'],
    [['--json', 'show', 'session', '5', '1'], 'l2tpctl show session: no session 5/1 (not-found)\n'],
  ])('exits 3 when the daemon has no such thing: %j', async (argv, err) => {
    expect(await run(...argv)).toEqual({ code: 3, out: '', err });
  });

  it.each([
    [['show', 'tunnel', 'x'], /tunnel ID must be an integer 1\.\.4294967295/],
    [['show', 'tunnel', '0'], /tunnel ID must be an integer/],
    [['show', 'session', '1'], /missing required argument 'session-id'/],
    [['show', 'sessions', '--tunnel', '-1'], /--tunnel/],
    [['show', 'tunnelz'], /unknown command 'tunnelz'/],
    [['show'], /Usage: l2tpctl show/],
  ])('exits 2 for a usage error, without asking the daemon: %j', async (argv, err) => {
    const before = fake.calls.length;
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(err);
    expect(fake.calls.length).toBe(before);
  });
});

describe('reaching the daemon', () => {
  it('exits 4 naming the socket when no daemon listens there', async () => {
    const socket = `${running.tmp.dir}/nobody.sock`;
    for (const argv of [['status'], ['show', 'tunnels', '--json'], ['stats']]) {
      const r = await ctl(socket, ...argv);
      expect(r).toEqual({ code: 4, out: '', err: `l2tpctl ${argv.slice(0, argv[0] === 'show' ? 2 : 1).join(' ')}: cannot reach l2tpd at ${socket}: no such socket (is l2tpd running?)\n` });
    }
  });

  it('takes the socket from $L2TPD_MGMT_SOCKET, and --mgmt-socket over it', async () => {
    vi.stubEnv('L2TPD_MGMT_SOCKET', running.socket);
    try {
      const io = bufferedIo();
      expect(await main(['status'], io)).toBe(0);
      expect(io.out()).toContain('pid:          4242');
      const other = bufferedIo();
      expect(await main(['--mgmt-socket', '/nonexistent/l2tpd.sock', 'status'], other)).toBe(4);
      expect(other.err()).toContain('/nonexistent/l2tpd.sock');
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('defaults to /run/l2tpd/l2tpd.sock and documents the exit codes in --help', async () => {
    const io = bufferedIo();
    expect(await main(['--help'], io)).toBe(0);
    expect(io.out()).toContain('$L2TPD_MGMT_SOCKET, else /run/l2tpd/l2tpd.sock');
    expect(io.out()).toMatch(/Exit codes:\n {2}0 {2}success\n {2}1 .*\n {2}2 .*usage error.*\n {2}3 {2}not found.*\n {2}4 {2}cannot reach the daemon/);
  });
});
