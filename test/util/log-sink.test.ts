import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { TurnBufferedSink } from '../../src/util/log-sink.js';

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('TurnBufferedSink', () => {
  const dirs: string[] = [];
  const fds: number[] = [];
  afterEach(() => {
    for (const fd of fds.splice(0)) closeSync(fd);
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  function file(): { fd: number; read: () => string } {
    const d = mkdtempSync(path.join(os.tmpdir(), 'log-sink-'));
    dirs.push(d);
    const f = path.join(d, 'log');
    const fd = openSync(f, 'w');
    fds.push(fd);
    return { fd, read: () => readFileSync(f, 'utf8') };
  }

  it('writes the lines of one turn together when the turn ends, in order', async () => {
    const { fd, read } = file();
    const sink = new TurnBufferedSink(fd);
    sink.write('one\n');
    sink.write('two\n');
    expect(read()).toBe('');
    await turn();
    expect(read()).toBe('one\ntwo\n');
    sink.write('three\n');
    await turn();
    expect(read()).toBe('one\ntwo\nthree\n');
  });

  it('does not hold a large turn back: past 8 KiB it writes during the turn', () => {
    const { fd, read } = file();
    const sink = new TurnBufferedSink(fd);
    const line = 'x'.repeat(99) + '\n';
    for (let i = 0; i < 100; i++) sink.write(line);
    expect(read().length).toBeGreaterThanOrEqual(8192);
    sink.flushSync();
    expect(read()).toBe(line.repeat(100));
  });

  it('a closed descriptor (EPIPE, EBADF) stops the logging, not the daemon', () => {
    const { fd } = file();
    const sink = new TurnBufferedSink(fd);
    closeSync(fds.pop()!);
    sink.write('lost\n');
    expect(() => sink.flushSync()).not.toThrow();
    expect(() => sink.write('also lost\n')).not.toThrow();
  });

  it('flushSync writes at once (before a worker answers, at exit)', () => {
    const { fd, read } = file();
    const sink = new TurnBufferedSink(fd);
    sink.write('now\n');
    sink.flushSync();
    expect(read()).toBe('now\n');
  });

  it('is a pino destination: JSON lines, one per call', async () => {
    const { fd, read } = file();
    const log = pino({ base: null, timestamp: false }, new TurnBufferedSink(fd));
    log.info({ session: 1 }, 'session established');
    log.info({ session: 2 }, 'session established');
    await turn();
    expect(read().trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { level: 30, session: 1, msg: 'session established' },
      { level: 30, session: 2, msg: 'session established' },
    ]);
  });
});
