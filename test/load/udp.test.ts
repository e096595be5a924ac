/**
 * The emulated LACs' sockets (load/udp.ts), native and dgram behind one face: an unconnected socket hears every
 * sender with its address and port and sends where it is told; once connected it sends to the peer; a header and
 * a payload go out as one datagram; a foreign address is refused with a hint.
 */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { until as waitFor } from '../support/daemon.js';
import { sourceText, SOURCE_WORDS } from '../../src/dataplane/kernel/native.js';
import { LoadOptionError, resolveOptions } from '../../load/options.js';
import { openSocket, resolveSocketIo, type Sender } from '../../load/udp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until `done()` holds (test/support/daemon.ts until, for a boolean condition). */
const until = (done: () => boolean, what: string, ms = 5_000): Promise<true> => waitFor(() => done() || undefined, ms, what);

async function lns(address: string): Promise<{ sock: dgram.Socket; got: { text: string; port: number }[] }> {
  const sock = dgram.createSocket('udp4');
  const got: { text: string; port: number }[] = [];
  sock.on('message', (b, r) => got.push({ text: b.toString(), port: r.port }));
  await new Promise<void>((r) => sock.bind(0, address, () => r()));
  return { sock, got };
}

describe.each(['native', 'node'] as const)('%s load sockets', (io) => {
  it('unconnected: hears each sender with its address and port, and sends where it is told', async () => {
    const a = await lns('127.0.112.21');
    const b = await lns('127.0.112.22');
    const heard: { text: string; from: Sender }[] = [];
    let errors = 0;
    const s = await openSocket(4, '127.0.112.20', 0, (buf, from) => heard.push({ text: buf.toString(), from: { address: from.address, port: from.port } }), () => errors++, io);
    expect(s.local.address).toBe('127.0.112.20');
    expect(s.connected).toBe(false);
    s.send(Buffer.from('to a'), a.sock.address().port, '127.0.112.21');
    s.send([Buffer.from('to '), Buffer.from('b')], b.sock.address().port, '127.0.112.22');
    await until(() => a.got.length === 1 && b.got.length === 1, 'both sends');
    expect(a.got).toEqual([{ text: 'to a', port: s.local.port }]);
    expect(b.got).toEqual([{ text: 'to b', port: s.local.port }]);
    a.sock.send('from a', s.local.port, '127.0.112.20');
    b.sock.send('from b', s.local.port, '127.0.112.20');
    await until(() => heard.length === 2, 'both replies');
    expect(heard.sort((x, y) => x.text.localeCompare(y.text))).toEqual([
      { text: 'from a', from: { address: '127.0.112.21', port: a.sock.address().port } },
      { text: 'from b', from: { address: '127.0.112.22', port: b.sock.address().port } },
    ]);

    // Connected: the destination given is ignored, the peer gets it; a header and a frame are one datagram.
    expect(s.connect(b.sock.address().port, '127.0.112.22')).toBe(true);
    expect(s.connected).toBe(true);
    s.send([Buffer.from([1, 2]), Buffer.from([3])], a.sock.address().port, '127.0.112.21');
    await until(() => b.got.length === 2, 'the connected send');
    expect(b.got[1]!.text).toBe('\x01\x02\x03');
    expect(a.got.length).toBe(1);
    expect(errors).toBe(0);
    s.close();
    s.close();
    a.sock.close();
    b.sock.close();
  });

  it('refuses an address that is not on this host, saying so', async () => {
    await expect(openSocket(4, '198.18.0.1', 0, () => undefined, () => undefined, io)).rejects.toThrow(/cannot bind a UDP socket to 198\.18\.0\.1:0: .*EADDRNOTAVAIL.*is the address configured on this host/);
  });
});

describe('socket io choice', () => {
  it('auto is native where the addon loads; a bad value names the option', () => {
    expect(resolveSocketIo('auto')).toBe('native');
    expect(resolveSocketIo('node')).toBe('node');
    expect(resolveOptions({ target: '127.0.0.1' }).socketIo).toBe('native');
    expect(resolveOptions({ target: '127.0.0.1', socketIo: 'node' }).socketIo).toBe('node');
    expect(() => resolveOptions({ target: '127.0.0.1', socketIo: 'fast' })).toThrow(LoadOptionError);
    expect(() => resolveOptions({ target: '127.0.0.1', socketIo: 'fast' })).toThrow(/socket-io/);
  });

  it('turns reported senders into text, IPv4 and IPv6', () => {
    const w = new Uint32Array(SOURCE_WORDS * 3);
    w.set([4, (127 << 24) | (0 << 16) | (112 << 8) | 9, 0, 0, 0, 1701], 0);
    w.set([6, 0x20010db8, 0, 0, 1, 1702], SOURCE_WORDS);
    w.set([0, 0, 0, 0, 0, 0], SOURCE_WORDS * 2);
    expect(sourceText(w, 0)).toBe('127.0.112.9');
    expect(sourceText(w, 1)).toBe('2001:db8::1');
    expect(sourceText(w, 2)).toBeUndefined();
  });
});
