/**
 * MgmtServer and MgmtClient over a real UNIX socket in a temp dir: round trips, pipelining, and every way a
 * client can be wrong (bad JSON, unknown method, bad params, over-long line) answered without the server
 * falling over; error codes of handlers kept; socket file life cycle (stale replaced, live daemon detected).
 */
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MgmtClient, MgmtError, MgmtUnavailableError } from '../../src/mgmt/client.js';
import type { MgmtHandlers } from '../../src/mgmt/protocol.js';
import { MAX_LINE_BYTES, MgmtListenError, MgmtServer } from '../../src/mgmt/server.js';
import { makeTempDir } from '../support/tmp.js';
import { CodedError, fakeDaemon, serve, silentLog, type Running } from './fake-daemon.js';

let running: Running | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

/** Writes `text` on a raw connection and collects `lines` answer lines (or all lines until the server closes). */
function exchange(socket: string, text: string | Buffer, lines = Infinity): Promise<{ answers: Array<Record<string, unknown>>; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socket);
    let buf = '';
    const answers: Array<Record<string, unknown>> = [];
    const done = (closed: boolean) => {
      s.destroy();
      resolve({ answers, closed });
    };
    s.on('data', (d) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        answers.push(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        buf = buf.slice(nl + 1);
      }
      if (answers.length >= lines) done(false);
    });
    s.on('end', () => done(true));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' || e.code === 'EPIPE' ? done(true) : reject(e)));
    s.write(text);
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MgmtServer with MgmtClient', () => {
  it('round-trips typed calls', async () => {
    running = await serve(fakeDaemon().handlers);
    const client = await MgmtClient.connect(running.socket, 1000);
    try {
      const list = await client.call('tunnels.list');
      expect(list.map((t) => t.tunnelId)).toEqual([1, 2]);
      const one = await client.call('tunnels.get', { tunnelId: 1 });
      expect(one.sessions.map((s) => s.sessionId)).toEqual([10, 11]);
      expect((await client.call('system.status')).listen).toEqual(['0.0.0.0:1701', '[::]:1701']);
    } finally {
      client.close();
    }
  });

  it('answers pipelined requests as they complete, each with its id', async () => {
    const fake = fakeDaemon();
    const handlers: MgmtHandlers = {
      ...fake.handlers,
      'tunnels.get': async ({ tunnelId }) => (await delay(tunnelId === 1 ? 80 : 0), fake.handlers['tunnels.get']({ tunnelId })),
    };
    running = await serve(handlers);
    const requests = [
      { id: 5, method: 'tunnels.get', params: { tunnelId: 1 } },
      { id: 6, method: 'tunnels.get', params: { tunnelId: 2 } },
      { id: 7, method: 'config.reload' },
    ];
    const { answers } = await exchange(running.socket, requests.map((r) => JSON.stringify(r)).join('\n') + '\n', 3);
    expect(answers.map((a) => a['id']).sort()).toEqual([5, 6, 7]);
    expect(answers[2]!['id']).toBe(5); // the slow one, answered last although asked first
    expect(answers.find((a) => a['id'] === 5)).toMatchObject({ result: { tunnelId: 1 } });
    expect(answers.find((a) => a['id'] === 7)).toEqual({ id: 7, result: { changed: ['profiles.tunnel.default', 'listen'] } });

    const client = await MgmtClient.connect(running.socket, 1000);
    const [a, b] = await Promise.all([client.call('tunnels.get', { tunnelId: 1 }), client.call('tunnels.get', { tunnelId: 2 })]);
    client.close();
    expect([a.tunnelId, b.tunnelId]).toEqual([1, 2]);
  });

  it('answers bad JSON, non-requests and unknown methods with errors and keeps the connection', async () => {
    running = await serve(fakeDaemon().handlers);
    const lines = ['{"id": 1, "method": ', 'null', '[1]', '{"id": "x", "method": "stats"}', '{"id": 2, "method": 7}', '{"id": 3, "method": "tunnels.frob"}', '{"id": 4, "method": "__proto__"}', '{"id": 5, "method": "stats"}'];
    const { answers } = await exchange(running.socket, lines.join('\r\n') + '\n', lines.length);
    expect(answers.slice(0, 4)).toEqual(Array(4).fill({ id: null, error: { code: 'bad-request', message: expect.any(String) } }));
    expect(answers[0]!['error']).toMatchObject({ message: expect.stringMatching(/^not JSON/) });
    expect(answers[4]).toMatchObject({ id: 2, error: { code: 'bad-request', message: 'request method must be a string' } });
    expect(answers[5]).toEqual({ id: 3, error: { code: 'unknown-method', message: 'no method "tunnels.frob"' } });
    expect(answers[6]).toMatchObject({ id: 4, error: { code: 'unknown-method' } });
    expect(answers[7]).toMatchObject({ id: 5, result: { totals: { packets: 15 } } });
  });

  it('refuses invalid params with bad-request naming the param, before the handler runs', async () => {
    const fake = fakeDaemon();
    running = await serve(fake.handlers);
    const client = await MgmtClient.connect(running.socket, 1000);
    const refusal = (p: Promise<unknown>) => p.then(() => expect.fail('resolved'), (e: unknown) => e as MgmtError);
    try {
      let e = await refusal(client.call('tunnels.get', { tunnelId: '5' as unknown as number }));
      expect(e).toBeInstanceOf(MgmtError);
      expect(e).toMatchObject({ code: 'bad-request', param: 'tunnelId', message: 'param tunnelId: expected an integer 1..4294967295, got "5"' });
      e = await refusal(client.call('tunnels.create', { peer: 'lns.example.net' }));
      expect(e).toMatchObject({ code: 'bad-request', param: 'peer' });
      e = await refusal(client.call('sessions.list', { tunnel: 1 } as never));
      expect(e).toMatchObject({ code: 'bad-request', param: 'tunnel', message: 'param tunnel: unknown param' });
      e = await refusal(client.call('trace.set', { level: 'debug', sessionId: 3 }));
      expect(e).toMatchObject({ code: 'bad-request', param: 'sessionId' });
      expect(fake.calls).toEqual([]);
    } finally {
      client.close();
    }
  });

  it.each([
    ['not-found', new CodedError('no tunnel 9', 'not-found'), 'not-found'],
    ['limit', new CodedError('tunnel limit reached', 'limit'), 'limit'],
    ['refused', new CodedError('tunnel 1 is closing', 'refused'), 'refused'],
    ['a foreign code', Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' }), 'internal'],
    ['a plain Error', new Error('boom'), 'internal'],
    ['a non-Error', 'just a string', 'internal'],
  ])('keeps a handler error code (%s)', async (_name, thrown, code) => {
    running = await serve({ ...fakeDaemon().handlers, 'tunnels.delete': () => Promise.reject(thrown) });
    const client = await MgmtClient.connect(running.socket, 1000);
    const e = await client.call('tunnels.delete', { tunnelId: 9 }).catch((x: unknown) => x);
    client.close();
    expect(e).toBeInstanceOf(MgmtError);
    expect(e).toMatchObject({ code, message: thrown instanceof Error ? thrown.message : thrown });
  });

  it('answers internal when a result cannot be serialized, and carries on', async () => {
    running = await serve({ ...fakeDaemon().handlers, stats: async () => ({ shards: [], totals: { big: 1n as unknown as number } }) });
    const { answers } = await exchange(running.socket, '{"id": 1, "method": "stats"}\n{"id": 2, "method": "tunnels.list"}\n', 2);
    expect(answers.find((a) => a['id'] === 1)).toMatchObject({ error: { code: 'internal', message: expect.stringMatching(/^answer not serializable/) } });
    expect(answers.find((a) => a['id'] === 2)).toMatchObject({ result: [{ tunnelId: 1 }, { tunnelId: 2 }] });
  });

  it('closes a connection whose line passes 1 MiB, and accepts one of exactly 1 MiB', async () => {
    running = await serve(fakeDaemon().handlers);
    const request = '{"id": 1, "method": "stats"}';
    const atLimit = request + ' '.repeat(MAX_LINE_BYTES - request.length) + '\n';
    const ok = await exchange(running.socket, atLimit, 1);
    expect(ok.answers[0]).toMatchObject({ id: 1, result: { totals: { packets: 15 } } });

    const over = await exchange(running.socket, Buffer.alloc(MAX_LINE_BYTES + 10, 'x'));
    expect(over.closed).toBe(true);
    expect(over.answers).toEqual([{ id: null, error: { code: 'limit', message: `request line longer than ${MAX_LINE_BYTES} bytes` } }]);
    // and the server carries on
    const client = await MgmtClient.connect(running.socket, 1000);
    expect((await client.call('stats')).totals['packets']).toBe(15);
    client.close();
  });
});

describe('socket file life cycle', () => {
  it('creates the directory, sets mode 0660, and removes the file on close', async () => {
    running = await serve(fakeDaemon().handlers);
    expect((await stat(running.socket)).mode & 0o777).toBe(0o660);
    await running.server.close();
    await expect(stat(running.socket)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('replaces a stale socket file that nothing answers on', async () => {
    const tmp = await makeTempDir('l2tpd-mgmt-');
    const socket = tmp.file('l2tpd.sock');
    // A bound socket file whose server is gone: what a daemon killed with SIGKILL leaves behind.
    const dead = net.createServer();
    await new Promise<void>((r) => dead.listen(tmp.file('old.sock'), r));
    await rename(tmp.file('old.sock'), socket);
    await new Promise((r) => dead.close(r));
    expect((await stat(socket)).isSocket()).toBe(true);
    await expect(MgmtClient.connect(socket, 1000)).rejects.toMatchObject({ name: 'MgmtUnavailableError', reason: 'ECONNREFUSED' });

    const server = new MgmtServer(fakeDaemon().handlers, silentLog);
    await server.listen(socket);
    const client = await MgmtClient.connect(socket, 1000);
    expect((await client.call('system.status')).pid).toBe(4242);
    client.close();
    await server.close();
    await tmp.cleanup();
  });

  it('refuses to start while another daemon answers on the socket, or when the path is not a socket', async () => {
    running = await serve(fakeDaemon().handlers);
    const second = new MgmtServer(fakeDaemon().handlers, silentLog);
    await expect(second.listen(running.socket)).rejects.toThrow(MgmtListenError);
    await expect(second.listen(running.socket)).rejects.toThrow(`another l2tpd is running: ${running.socket} answers`);
    const client = await MgmtClient.connect(running.socket, 1000); // the first one is untouched
    expect((await client.call('tunnels.list')).length).toBe(2);
    client.close();

    const file = path.join(running.tmp.dir, 'plain');
    await writeFile(file, 'not a socket');
    await expect(second.listen(file)).rejects.toThrow(/exists and is not a socket/);
  });
});

describe('MgmtClient failures', () => {
  it('names the path when there is no socket', async () => {
    const tmp = await makeTempDir('l2tpd-mgmt-');
    const socket = tmp.file('none.sock');
    const e = await MgmtClient.connect(socket, 1000).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MgmtUnavailableError);
    expect(e).toMatchObject({ reason: 'ENOENT', socketPath: socket, message: `cannot reach l2tpd at ${socket}: no such socket (is l2tpd running?)` });
    await tmp.cleanup();
  });

  it('fails calls when the daemon does not answer in time or goes away', async () => {
    const tmp = await makeTempDir('l2tpd-mgmt-');
    await mkdir(tmp.dir, { recursive: true });
    const conns: net.Socket[] = [];
    const mute = net.createServer((c) => void conns.push(c)); // accepts, never answers
    await new Promise<void>((r) => mute.listen(tmp.file('mute.sock'), r));
    const client = await MgmtClient.connect(tmp.file('mute.sock'), 1000, { callTimeoutMs: 50 });
    await expect(client.call('stats')).rejects.toMatchObject({ name: 'MgmtUnavailableError', reason: 'timeout' });
    const pending = client.call('stats');
    for (const c of conns) c.destroy();
    await expect(pending).rejects.toThrow(new RegExp(`^lost the management connection to l2tpd at ${tmp.file('mute.sock')}`));
    await expect(client.call('stats')).rejects.toBeInstanceOf(MgmtUnavailableError);
    client.close();
    await new Promise((r) => mute.close(r));
    await tmp.cleanup();
  });
});
