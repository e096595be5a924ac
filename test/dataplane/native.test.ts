/**
 * The native addon on a host without L2TP or PPP in its kernel: it builds, loads (main thread and workers),
 * moves frames over a SOCK_SEQPACKET pair the way it will over /dev/ppp and L2TP/IP fds, and every kernel
 * refusal comes back as a NativeError with the errno name. The real kernel paths run in the VM (test/vm).
 * No test skips: an addon that did not build fails them all with the build's own reason.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, openSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as native from '../../src/dataplane/kernel/native.js';
import { NativeAddonUnavailableError, NativeError } from '../../src/dataplane/kernel/native.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const buildScript = join(root, 'native', 'build.mjs');
const addonPath = join(root, 'native', 'build', 'l2tp_native.node');

beforeAll(() => {
  const r = spawnSync(process.execPath, [buildScript, '--strict'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`native/build.mjs failed (exit ${r.status}):\n${r.stderr}${r.stdout}`);
  const status = native.nativeAddonStatus();
  if (!status.available) throw new Error(status.reason);
});

/** fds opened by a test, closed after it whatever happened. */
const opened: number[] = [];
function pair(): [number, number] {
  const p = native.socketPair();
  opened.push(...p);
  return p;
}
afterEach(() => {
  for (const fd of opened.splice(0)) {
    try {
      native.closeFd(fd);
    } catch {
      /* the test closed it */
    }
  }
});

const openFdCount = (): number => readdirSync('/proc/self/fd').length;
const tick = (ms = 0): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await tick(1);
  }
}

function thrown(f: () => unknown): NativeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(NativeError);
    return e as NativeError;
  }
  throw new Error('expected a NativeError, nothing was thrown');
}

/** Frame i: 4-byte sequence number, then (i % 1500) bytes of (i & 0xff). */
function frame(i: number): Buffer {
  const b = Buffer.alloc(4 + (i % 1500), i & 0xff);
  b.writeUInt32BE(i, 0);
  return b;
}

describe('build and load', () => {
  it('builds with the system compiler, loads, and agrees with the kernel headers', () => {
    expect(native.nativeAddonStatus()).toEqual({ available: true });
    const k = native.kernelConstants();
    for (const [name, value] of Object.entries(native.PPP_FLAGS)) expect(k[name], name).toBe(value);
    for (const [name, value] of Object.entries(native.NP_MODE)) expect(k[`NPMODE_${name}`], name).toBe(value);
    expect(k.PPP_IP).toBe(native.PPP_PROTOCOL.IP);
    expect(k.PPP_IPV6).toBe(native.PPP_PROTOCOL.IPV6);
    expect(k).toMatchObject({ AF_PPPOX: 24, PX_PROTO_OL2TP: 1, IPPROTO_L2TP: 115 });
  });

  it('without a compiler: one warning line, exit 0, and the loader says why', () => {
    const out = mkdtempSync(join(tmpdir(), 'l2tp-native-'));
    try {
      const env = { ...process.env, CC: '/nonexistent/cc' };
      const r = spawnSync(process.execPath, [buildScript, '--out', out], { env, encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/not built: \/nonexistent\/cc not found: apt-get install gcc/)]);
      expect(() => native.loadNativeAddonFrom(out)).toThrow(/not built: \/nonexistent\/cc not found: apt-get install gcc/);
      const strict = spawnSync(process.execPath, [buildScript, '--out', out, '--strict'], { env, encoding: 'utf8' });
      expect(strict.status).toBe(1);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('the loader refuses a missing or stale addon, saying what to run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'l2tp-native-'));
    try {
      const build = join(dir, 'build');
      mkdirSync(build);
      expect(() => native.loadNativeAddonFrom(build)).toThrow(NativeAddonUnavailableError);
      expect(() => native.loadNativeAddonFrom(build)).toThrow(/not built: run `node native\/build.mjs`/);
      copyFileSync(addonPath, join(build, 'l2tp_native.node'));
      writeFileSync(join(dir, 'l2tp_native.c'), '/* edited after the build */\n');
      const later = new Date(Date.now() + 60_000);
      utimesSync(join(dir, 'l2tp_native.c'), later, later);
      expect(() => native.loadNativeAddonFrom(build)).toThrow(/stale: native\/l2tp_native.c is newer/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('watch and writeFrame over an AF_UNIX SOCK_SEQPACKET pair', () => {
  it('delivers frames whole and in order, up to 65535 bytes', async () => {
    const [a, b] = pair();
    const got: Buffer[] = [];
    const w = native.watch(b, (f) => got.push(f));
    const sent = [frame(1), frame(2), Buffer.from([0xc0, 0x21, 1, 2, 3]), Buffer.alloc(65535, 7), frame(1499)];
    for (const f of sent) native.writeFrame(a, f);
    await until(() => got.length === sent.length, 'five frames');
    expect(got).toEqual(sent);
    expect(w.active).toBe(true);
    w.close();
    expect(w.active).toBe(false);
    w.close(); // idempotent
  });

  it('10,000 frames without loss, with the writer backing off on EAGAIN', async () => {
    const [a, b] = pair();
    const N = 10_000;
    let next = 0;
    let eagain = 0;
    const bad: string[] = [];
    const w = native.watch(b, (f) => {
      const i = f.readUInt32BE(0);
      if (i !== next || !f.equals(frame(i))) bad.push(`frame ${next}: got ${i} (${f.length} bytes)`);
      next = i + 1;
    });
    for (let i = 0; i < N; ) {
      try {
        native.writeFrame(a, frame(i));
        i++;
      } catch (e) {
        if (!(e instanceof NativeError) || e.code !== 'EAGAIN') throw e;
        eagain++;
        await tick();
      }
    }
    await until(() => next === N || bad.length > 0, `${N} frames`);
    expect(bad).toEqual([]);
    expect(next).toBe(N);
    expect(eagain).toBeGreaterThan(0); // the socket buffer did fill: the backpressure path ran
    w.close();
  });

  it('close() from inside the callback stops at once; the rest stays queued for the next reader', async () => {
    const [a, b] = pair();
    for (let i = 0; i < 100; i++) native.writeFrame(a, frame(i));
    const first: number[] = [];
    const w = native.watch(b, (f) => {
      first.push(f.readUInt32BE(0));
      w.close();
    });
    await until(() => first.length > 0, 'the first frame');
    await tick(20);
    expect(first).toEqual([0]);
    expect(w.active).toBe(false);
    const rest: number[] = [];
    const w2 = native.watch(b, (f) => rest.push(f.readUInt32BE(0)));
    await until(() => rest.length === 99, 'the other 99 frames');
    expect(rest).toEqual(Array.from({ length: 99 }, (_, i) => i + 1));
    w2.close();
  });

  it('closeFd on a watched, readable fd stops the watch first: no callback, no error, no crash', async () => {
    const [a, b] = pair();
    for (let i = 0; i < 50; i++) native.writeFrame(a, frame(i));
    const events: string[] = [];
    const w = native.watch(
      b,
      () => events.push('frame'),
      (e) => events.push(e.code),
    );
    native.closeFd(b);
    expect(w.active).toBe(false);
    await tick(20);
    expect(events).toEqual([]);
    expect(thrown(() => native.writeFrame(b, frame(0))).code).toBe('EBADF');
  });

  it('closeFd from inside the callback ends the batch without a read error', async () => {
    const [a, b] = pair();
    for (let i = 0; i < 50; i++) native.writeFrame(a, frame(i));
    const events: string[] = [];
    const w = native.watch(
      b,
      () => {
        events.push('frame');
        native.closeFd(b);
      },
      (e) => events.push(e.code),
    );
    await until(() => events.length > 0, 'a frame');
    await tick(20);
    expect(events).toEqual(['frame']);
    expect(w.active).toBe(false);
  });

  it('the peer closing ends the watch with EOF', async () => {
    const [a, b] = pair();
    const errors: NativeError[] = [];
    const got: Buffer[] = [];
    const w = native.watch(b, (f) => got.push(f), (e) => errors.push(e));
    native.writeFrame(a, frame(7));
    native.closeFd(a);
    await until(() => errors.length > 0, 'EOF');
    expect(got).toEqual([frame(7)]);
    expect(errors[0]).toBeInstanceOf(NativeError);
    expect(errors[0]).toMatchObject({ code: 'EOF', syscall: 'read' });
    expect(w.active).toBe(false);
  });

  it('a full socket buffer throws EAGAIN the caller can count', () => {
    const [a] = pair();
    let written = 0;
    let err: NativeError | undefined;
    while (!err && written < 1_000_000) {
      try {
        native.writeFrame(a, frame(1000));
        written++;
      } catch (e) {
        err = e as NativeError;
      }
    }
    expect(written).toBeGreaterThan(0);
    expect(err).toBeInstanceOf(NativeError);
    expect(err).toMatchObject({ code: 'EAGAIN', syscall: 'write', errno: expect.any(Number) });
    expect(err!.errno).toBeLessThan(0);
  });

  it('watchFrom reads with recvfrom: frames whole and in order, with no source for an unnamed AF_UNIX peer', async () => {
    const [a, b] = pair();
    const got: [Buffer, string | undefined][] = [];
    const w = native.watchFrom(b, (f, source) => got.push([f, source]));
    const sent = [frame(1), frame(1499), Buffer.alloc(65535, 3)];
    for (const f of sent) native.writeFrame(a, f);
    await until(() => got.length === sent.length, 'three frames');
    expect(got).toEqual(sent.map((f) => [f, undefined]));
    w.close();
  });

  it('watchFrom refuses a descriptor that is not a socket: ENOTSOCK', () => {
    const fd = openSync('/dev/null', 'r');
    try {
      expect(thrown(() => native.watchFrom(fd, () => {}))).toMatchObject({ code: 'ENOTSOCK' });
    } finally {
      closeSync(fd);
    }
  });

  it('refuses an fd it cannot poll and a second watch on the same fd', () => {
    expect(thrown(() => native.watch(1_000_000, () => {})).code).toBe('EBADF');
    const [, b] = pair();
    const w = native.watch(b, () => {});
    expect(thrown(() => native.watch(b, () => {})).code).toBe('EEXIST');
    w.close();
  });
});

describe('kernel refusals are NativeErrors with the errno name (no L2TP, no PPP on this host)', () => {
  it('pppOpenChannel and pppNewUnit: ENOENT from open(/dev/ppp)', () => {
    const e = thrown(() => native.pppOpenChannel(0));
    expect(e).toMatchObject({ code: 'ENOENT', syscall: 'open', errno: -2 });
    expect(e.message).toMatch(/^pppOpenChannel: open\(\/dev\/ppp\): .*\(ENOENT\); is the ppp_generic module loaded\?$/);
    expect(thrown(() => native.pppNewUnit()).code).toBe('ENOENT');
  });

  it('pppol2tpConnect: the PPPoX family is not there, for v2 and v3, IPv4 and IPv6', () => {
    const [a] = pair();
    for (const version of [2, 3] as const) {
      for (const ipv6 of [false, true]) {
        const ids = { localTunnelId: 1, localSessionId: 2, peerTunnelId: 3, peerSessionId: 4 };
        const e = thrown(() => native.pppol2tpConnect({ tunnelFd: a, version, ipv6, ...ids }));
        expect(['EAFNOSUPPORT', 'EPROTONOSUPPORT']).toContain(e.code);
        expect(e.syscall).toBe('socket');
        expect(e.message).toMatch(/^pppol2tpConnect: socket\(AF_PPPOX/);
      }
    }
  });

  it('l2tpIpSocket: IPPROTO_L2TP is not there', () => {
    const e = thrown(() =>
      native.l2tpIpSocket({ family: 4, localAddress: '127.0.0.1', localConnId: 1, peerAddress: '127.0.0.1', peerConnId: 2 }),
    );
    expect(['EPROTONOSUPPORT', 'ESOCKTNOSUPPORT', 'EAFNOSUPPORT']).toContain(e.code);
    expect(e.syscall).toBe('socket');
    // Without a peer it is a listener (connection ID 0 takes the SCCRQs): the same refusal, from socket().
    expect(thrown(() => native.l2tpIpSocket({ family: 4, localAddress: '127.0.0.1', localConnId: 0 })).syscall).toBe('socket');
  });

  it('the ioctls on a descriptor that is not PPP: ENOTTY', () => {
    const [a] = pair();
    const calls: Array<[string, () => unknown]> = [
      ['pppChannelIndex', () => native.pppChannelIndex(a)],
      ['pppConnectChannel', () => native.pppConnectChannel(a, 0)],
      ['pppDisconnectChannel', () => native.pppDisconnectChannel(a)],
      ['pppSetMru', () => native.pppSetMru(a, 1500)],
      ['pppSetFlags', () => native.pppSetFlags(a, native.PPP_FLAGS.SC_ENABLE_IP)],
      ['pppGetFlags', () => native.pppGetFlags(a)],
      ['pppGetIdle', () => native.pppGetIdle(a)],
      ['pppSetNpMode', () => native.pppSetNpMode(a, native.PPP_PROTOCOL.IP, native.NP_MODE.PASS)],
    ];
    for (const [name, call] of calls) {
      const e = thrown(call);
      expect(e, name).toMatchObject({ code: 'ENOTTY', syscall: 'ioctl' });
      expect(e.message.startsWith(`${name}: `), e.message).toBe(true);
    }
  });

  it('closeFd(-1) and writeFrame on a closed fd: EBADF', () => {
    expect(thrown(() => native.closeFd(-1))).toMatchObject({ code: 'EBADF', syscall: 'close' });
    const [a] = pair();
    native.closeFd(a);
    expect(thrown(() => native.writeFrame(a, Buffer.from([1])))).toMatchObject({ code: 'EBADF', syscall: 'write' });
  });

  it('bad arguments are TypeErrors and RangeErrors thrown before any fd is opened', () => {
    const [a] = pair();
    const before = openFdCount();
    const ids = { tunnelFd: a, localTunnelId: 70_000, localSessionId: 1, peerTunnelId: 1, peerSessionId: 1 };
    expect(() => native.pppol2tpConnect({ ...ids, version: 2 })).toThrow(RangeError); // L2TPv2 ids are 16 bits
    expect(() => native.pppSetNpMode(a, 0x21, 9 as native.NpMode)).toThrow(RangeError);
    expect(() => native.writeFrame(a, 'text' as unknown as Buffer)).toThrow(TypeError);
    const ip = { family: 4 as const, localConnId: 1, peerAddress: '127.0.0.1', peerConnId: 2 };
    expect(() => native.l2tpIpSocket({ ...ip, localAddress: 'not-an-address' })).toThrow(TypeError);
    expect(() => native.l2tpIpSocket({ family: 4, localAddress: '127.0.0.1', localConnId: 1, peerConnId: 2 })).toThrow(TypeError); // no peerAddress
    expect(() => native.pppNewUnit(1.5)).toThrow(RangeError);
    expect(openFdCount()).toBe(before);
  });

  it('failing calls leak no descriptor', () => {
    const [a] = pair();
    const before = openFdCount();
    for (let i = 0; i < 100; i++) {
      thrown(() => native.pppOpenChannel(i));
      thrown(() => native.pppNewUnit(-1));
      thrown(() => native.pppol2tpConnect({ tunnelFd: a, localTunnelId: 1, localSessionId: 1, peerTunnelId: 1, peerSessionId: 1, version: 3 }));
      thrown(() => native.l2tpIpSocket({ family: 6, localAddress: '::1', localConnId: 1, peerAddress: '::1', peerConnId: 2 }));
    }
    expect(openFdCount()).toBe(before);
  });
});

/** Plain CommonJS for the workers: they load the .node directly, several at once. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const addon = require(workerData.addonPath);
const { mode, fd, frames } = workerData;
if (mode === 'roundtrip') {
  const [a, b] = addon.socketPair();
  let next = 0;
  const id = addon.watchStart(b, (f) => {
    if (f.readUInt32BE(0) !== next) parentPort.postMessage({ error: 'out of order at ' + next });
    if (++next === frames) {
      addon.watchStop(id);
      addon.closeFd(a);
      addon.closeFd(b);
      parentPort.postMessage({ received: next });
    }
  });
  let i = 0;
  const pump = () => {
    for (; i < frames; i++) {
      const buf = Buffer.alloc(64);
      buf.writeUInt32BE(i, 0);
      try { addon.writeFrame(a, buf); } catch (e) { if (e.code === 'EAGAIN') return setImmediate(pump); throw e; }
    }
  };
  pump();
} else {
  // 'linger': watch an fd the main thread floods, and stay until terminated or told to exit mid-callback.
  let n = 0;
  addon.watchStart(fd, () => {
    if (++n === 100) parentPort.postMessage({ reading: true });
    if (mode === 'exit-in-callback' && n === 200) process.exit(7);
  });
}
`;

function startWorker(data: Record<string, unknown>): Worker {
  return new Worker(WORKER, { eval: true, workerData: { addonPath, ...data } });
}

function flood(fd: number, stop: () => boolean): Promise<void> {
  return new Promise((done) => {
    const pump = (): void => {
      if (stop()) return done();
      for (let i = 0; i < 64; i++) {
        try {
          native.writeFrame(fd, frame(i));
        } catch (e) {
          if ((e as NativeError).code !== 'EAGAIN') return done();
          break;
        }
      }
      setImmediate(pump);
    };
    pump();
  });
}

describe('worker threads', () => {
  it('loads in four workers at once, each moving its own frames', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const w = startWorker({ mode: 'roundtrip', frames: 5000 });
        const msg = await new Promise<{ received?: number; error?: string }>((res, rej) => {
          w.once('message', res);
          w.once('error', rej);
        });
        await w.terminate();
        return msg;
      }),
    );
    expect(results).toEqual(Array(4).fill({ received: 5000 }));
  });

  it('terminating a worker mid-flood stops its poll; the fd is then readable from the main thread', async () => {
    const [a, b] = pair();
    const w = startWorker({ mode: 'linger', fd: b });
    let stopped = false;
    const flooding = flood(a, () => stopped);
    await new Promise((res, rej) => {
      w.once('message', res);
      w.once('error', rej);
    });
    await w.terminate();
    stopped = true;
    await flooding;
    // The worker's uv_poll is gone (else two readers would race): the main thread now reads what the flood left.
    try {
      native.writeFrame(a, frame(1)); // in case the worker had drained it all
    } catch (e) {
      expect((e as NativeError).code).toBe('EAGAIN'); // or the flood left the buffer full
    }
    let got = 0;
    const mine = native.watch(b, () => got++);
    await until(() => got > 0, 'frames on the main thread');
    mine.close();
  });

  it('process.exit() inside a frame callback ends the worker cleanly', async () => {
    const [a, b] = pair();
    const w = startWorker({ mode: 'exit-in-callback', fd: b });
    let stopped = false;
    const flooding = flood(a, () => stopped);
    const code = await new Promise<number>((res, rej) => {
      w.once('exit', res);
      w.once('error', rej);
    });
    stopped = true;
    await flooding;
    expect(code).toBe(7);
  });
});
