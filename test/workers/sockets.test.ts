/** The tunnels' UDP sockets: a send that fails is counted, never thrown, with no per-send callback. */
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { UdpSocketFactory } from '../../src/workers/sockets.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('UdpSocketFactory', () => {
  it('delivers to the connected peer, and counts sends refused by an ICMP port unreachable', async () => {
    const peer = dgram.createSocket('udp4');
    await new Promise<void>((r) => peer.bind(0, '127.0.112.2', () => r()));
    const port = peer.address().port;
    const got: string[] = [];
    peer.on('message', (b) => got.push(b.toString()));

    const f = new UdpSocketFactory();
    const s = await f.open({ address: '127.0.112.1', port: 0 }, { address: '127.0.112.2', port }, () => undefined);
    s.send(Buffer.from('one'));
    for (let i = 0; i < 50 && got.length === 0; i++) await sleep(10);
    expect(got).toEqual(['one']);
    expect(f.sendErrors).toBe(0);

    peer.close(); // the port is closed now: the kernel answers with port unreachable, the next send fails
    for (let i = 0; i < 100 && f.sendErrors === 0; i++) {
      s.send(Buffer.from('lost'));
      await sleep(10);
    }
    expect(f.sendErrors).toBeGreaterThan(0);
    s.close();
  });
});
