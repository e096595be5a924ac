/**
 * The tunnels' UDP sockets, through Node's dgram and through the native addon (recvmmsg batches): both deliver
 * the connected peer's datagrams in order with their boundaries, and a send that fails is counted, never thrown.
 */
import dgram from 'node:dgram';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { until as waitFor } from '../support/daemon.js';
import { NativeUdpSocketFactory, tunnelSocketFactory, UdpSocketFactory, type Endpoint, type SocketFactory } from '../../src/workers/sockets.js';
import { closeFd, echoStats, NativeError, socketPair, udpSocket, watchBatch } from '../../src/dataplane/kernel/native.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done()` holds (test/support/daemon.ts until, for a boolean condition). */
const until = (done: () => boolean, what: string, ms = 5_000): Promise<true> => waitFor(() => done() || undefined, ms, what);

async function peerSocket(address: string, port = 0): Promise<dgram.Socket> {
  const peer = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => peer.bind(port, address, () => r()));
  return peer;
}

const factories: [string, () => SocketFactory & { sendErrors: number; receiveErrors?: number }][] = [
  ['dgram', () => new UdpSocketFactory()],
  ['native', () => new NativeUdpSocketFactory()],
];

describe.each(factories)('%s tunnel sockets', (_name, make) => {
  it('delivers to the connected peer, and counts sends refused by an ICMP port unreachable', async () => {
    const peer = await peerSocket('127.0.112.2');
    const port = peer.address().port;
    const got: string[] = [];
    peer.on('message', (b) => got.push(b.toString()));

    const f = make();
    const s = await f.open({ address: '127.0.112.1', port: 0 }, { address: '127.0.112.2', port }, () => undefined);
    expect(s.local.address).toBe('127.0.112.1');
    expect(s.local.port).toBeGreaterThan(0);
    s.send(Buffer.from('one'));
    await until(() => got.length > 0, 'the first datagram');
    expect(got).toEqual(['one']);
    expect(f.sendErrors).toBe(0);

    peer.close(); // the port is closed now: the kernel answers with port unreachable, the next send fails
    for (let i = 0; i < 100 && f.sendErrors + (f.receiveErrors ?? 0) === 0; i++) {
      s.send(Buffer.from('lost'));
      await sleep(10);
    }
    // The refusal is the socket's pending error: whichever comes first, the next write or the native reader's
    // read, takes it (dgram's reader never reports it).
    expect(f.sendErrors + (f.receiveErrors ?? 0)).toBeGreaterThan(0);
    s.close();
  });

  it("hands over each of the peer's datagrams whole and in order, a burst of many sizes included", async () => {
    const peer = await peerSocket('127.0.112.4');
    const f = make();
    const got: Buffer[] = [];
    const froms: Endpoint[] = [];
    const s = await f.open({ address: '127.0.112.3', port: 0 }, { address: '127.0.112.4', port: peer.address().port }, (buf, from, via) => {
      got.push(Buffer.from(buf)); // a copy: the handler may not keep what it is given beyond the call
      froms.push(from);
      expect(via.local.port).toBeGreaterThan(0);
    });
    // 0 bytes, 1..1500 bytes, and one near the largest UDP payload: more than one batch of 32 arrives at once.
    const sizes = [0, 60_000, ...Array.from({ length: 200 }, (_, i) => 1 + ((i * 37) % 1500))];
    const sent = sizes.map((n, i) => Buffer.alloc(n, i & 0xff));
    // Chunks of 40 sent in one turn of the loop (more than one batch of 32), each small enough for the default
    // receive buffer (rmem_max may keep it at 208 KB): the kernel must not drop what this test counts.
    for (let at = 0; at < sent.length; at += 40) {
      for (const b of sent.slice(at, at + 40)) peer.send(b, s.local.port, '127.0.112.3');
      const want = Math.min(sent.length, at + 40);
      await until(() => got.length === want, `${want} datagrams (got ${got.length})`);
    }
    expect(got.map((b) => b.length)).toEqual(sizes);
    got.forEach((b, i) => expect(b.equals(sent[i]!), `datagram ${i}`).toBe(true));
    expect(new Set(froms.map((e) => `${e.address}:${e.port}`))).toEqual(new Set([`127.0.112.4:${peer.address().port}`]));
    s.close();
    peer.close();
  });

  it('shares the listening port (SO_REUSEADDR): the connected socket gets its peer, the listener the rest', async () => {
    const listener = await peerSocket('127.0.112.5');
    const port = listener.address().port;
    const atListener: string[] = [];
    listener.on('message', (b) => atListener.push(b.toString()));
    const peer = await peerSocket('127.0.112.6');
    const other = await peerSocket('127.0.112.7');
    const got: string[] = [];
    const f = make();
    const s = await f.open({ address: '127.0.112.5', port }, { address: '127.0.112.6', port: peer.address().port }, (b) => got.push(b.toString()));
    expect(s.local).toEqual({ address: '127.0.112.5', port });
    peer.send('to the tunnel', port, '127.0.112.5');
    other.send('to the listener', port, '127.0.112.5');
    await until(() => got.length === 1 && atListener.length === 1, 'both datagrams');
    expect(got).toEqual(['to the tunnel']);
    expect(atListener).toEqual(['to the listener']);
    s.close();
    for (const x of [listener, peer, other]) x.close();
  });

  it('refuses an address that is not on this host, with the errno, and leaves no descriptor behind', async () => {
    const before = readdirSync('/proc/self/fd').length;
    const f = make();
    // Only bound, never sent to: 198.18.0.1 is not configured here, so bind() fails.
    await expect(f.open({ address: '198.18.0.1', port: 0 }, { address: '127.0.112.2', port: 9 }, () => undefined)).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
    await sleep(20);
    expect(readdirSync('/proc/self/fd').length).toBe(before);
  });
});

describe('native tunnel sockets', () => {
  it('stop delivering and release the descriptor on close', async () => {
    const peer = await peerSocket('127.0.112.9');
    const before = readdirSync('/proc/self/fd').length;
    const f = new NativeUdpSocketFactory();
    let got = 0;
    const s = await f.open({ address: '127.0.112.8', port: 0 }, { address: '127.0.112.9', port: peer.address().port }, () => got++);
    expect(readdirSync('/proc/self/fd').length).toBe(before + 1);
    peer.send('a', s.local.port, '127.0.112.8');
    await until(() => got === 1, 'the first datagram');
    s.close();
    s.close(); // twice is harmless
    expect(readdirSync('/proc/self/fd').length).toBe(before);
    peer.send('b', s.local.port, '127.0.112.8');
    await sleep(50);
    expect(got).toBe(1);
    s.send(Buffer.from('after close')); // counted, not thrown
    expect(f.sendErrors).toBe(1);
    peer.close();
  });

  it('hears an ICMP error on read without going deaf: the next datagram still arrives', async () => {
    const peer = await peerSocket('127.0.112.11');
    const port = peer.address().port;
    const f = new NativeUdpSocketFactory();
    const got: string[] = [];
    const s = await f.open({ address: '127.0.112.10', port: 0 }, { address: '127.0.112.11', port }, (b) => got.push(b.toString()));
    peer.close();
    for (let i = 0; i < 100 && f.sendErrors + f.receiveErrors === 0; i++) {
      s.send(Buffer.from('lost'));
      await sleep(10);
    }
    expect(f.sendErrors + f.receiveErrors).toBeGreaterThan(0);
    const back = await peerSocket('127.0.112.11', port);
    back.send('again', s.local.port, '127.0.112.10');
    await until(() => got.length === 1, 'a datagram after the error');
    expect(got).toEqual(['again']);
    s.close();
    back.close();
  });

  it('reads up to 32 datagrams per call, and only from datagram sockets', async () => {
    const peer = await peerSocket('127.0.112.14');
    const sock = udpSocket({ localAddress: '127.0.112.13', localPort: 0, peerAddress: '127.0.112.14', peerPort: peer.address().port });
    const batches: number[] = [];
    const seen: number[] = [];
    const w = watchBatch(sock.fd, (data, ends) => {
      batches.push(ends.length);
      let start = 0;
      for (const end of ends) {
        seen.push(data.readUInt16BE(start));
        start = end;
      }
      expect(start).toBe(data.length);
    });
    for (let i = 0; i < 70; i++) peer.send(Buffer.from([i >> 8, i & 0xff, 1, 2, 3]), sock.port, '127.0.112.13');
    await until(() => seen.length === 70, '70 datagrams');
    expect(seen).toEqual(Array.from({ length: 70 }, (_, i) => i));
    expect(Math.max(...batches)).toBe(32); // all 70 were queued before the first read
    expect(batches.length).toBeLessThan(70);
    expect(w.active).toBe(true);
    closeFd(sock.fd);
    expect(w.active).toBe(false);
    peer.close();

    const [a, b] = socketPair(); // SOCK_SEQPACKET: frames, but not datagrams
    try {
      expect(() => watchBatch(a, () => undefined)).toThrow(expect.objectContaining({ code: 'EPROTOTYPE' }));
    } finally {
      closeFd(a);
      closeFd(b);
    }
  });

  it('LCP keepalives on the socket: a dead one is gone, its stale stop() leaves a new one alone, close ends them all', async () => {
    const peer = await peerSocket('127.0.112.16');
    const f = new NativeUdpSocketFactory();
    const s = await f.open({ address: '127.0.112.15', port: 0 }, { address: '127.0.112.16', port: peer.address().port }, () => undefined);
    const got: number[] = []; // peer session IDs of the Echo-Requests the peer saw
    peer.on('message', (b) => got.push(b.readUInt16BE(4)));
    const entry = (session: number, dead: () => void) =>
      s.echo!.add({ localTunnelId: 1, localSessionId: session, peerTunnelId: 2, peerSessionId: session, magic: 9, intervalMs: 100, failures: 1, firstMs: 0, dead });
    let deaths = 0;
    const first = entry(10, () => deaths++);
    await until(() => deaths === 1, 'the silent peer reported dead');
    const second = entry(11, () => deaths++); // may reuse the first one's id
    first.stop(); // stale: must not remove the second
    got.length = 0;
    await until(() => got.includes(11), 'the second entry still sending');
    second.stop();
    const third = entry(12, () => deaths++);
    s.close(); // takes its keepalives with it
    const n = got.length;
    await sleep(400);
    expect(got.length).toBe(n);
    third.stop(); // after close: harmless
    expect(echoStats().entries).toBe(0);
    peer.close();
  });

  it('checks its arguments before any system call', async () => {
    const f = new NativeUdpSocketFactory();
    await expect(f.open({ address: '127.0.112.12', port: 0 }, { address: '::1', port: 9 }, () => undefined)).rejects.toThrow(/different families/);
    await expect(f.open({ address: 'localhost', port: 0 }, { address: '127.0.0.1', port: 9 }, () => undefined)).rejects.toThrow(TypeError);
    await expect(f.open({ address: '127.0.112.12', port: 70_000 }, { address: '127.0.0.1', port: 9 }, () => undefined)).rejects.toThrow(RangeError);
  });

  it('is what auto picks where the addon loads; node picks dgram', () => {
    const auto = tunnelSocketFactory(undefined, 'auto');
    expect(auto.kind).toBe('native');
    expect(auto.factory).toBeInstanceOf(NativeUdpSocketFactory);
    const node = tunnelSocketFactory(undefined, 'node');
    expect(node.kind).toBe('node');
    expect(node.factory).toBeInstanceOf(UdpSocketFactory);
    expect(tunnelSocketFactory(undefined, 'native').kind).toBe('native');
  });

  it('a bind failure is a NativeError naming the call', async () => {
    const f = new NativeUdpSocketFactory();
    const e = await f.open({ address: '198.18.0.1', port: 0 }, { address: '127.0.0.1', port: 9 }, () => undefined).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NativeError);
    expect(e).toMatchObject({ code: 'EADDRNOTAVAIL', syscall: 'bind' });
    expect(String((e as Error).message)).toMatch(/198\.18\.0\.1/);
  });
});
