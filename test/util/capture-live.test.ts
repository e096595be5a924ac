/**
 * A real capture: dumpcap on `lo` writes pcapng the way the interop tests will (SHB/IDB with options,
 * nanosecond if_tsresol, an Interface Statistics Block at the end), and readCapture + extractL2tp must get back
 * exactly the datagrams we sent. Needs capture rights on lo (root, as the CI runs).
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractL2tp } from '../../src/util/frames.js';
import { LinkType, readCapture } from '../../src/util/pcap.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

describe('dumpcap on lo', () => {
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await makeTempDir('l2tpd-live-');
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  it('reads back the datagrams sent while dumpcap captured', async () => {
    const receiver = dgram.createSocket('udp4');
    const sender = dgram.createSocket('udp4');
    await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', r));
    const port = receiver.address().port;
    const file = tmp.file('live.pcapng');
    // L2TPv2 HELLO (flags 0xC802, length 20, tunnel 7, session 0, Ns n, Nr 0, Message Type AVP = 6).
    const hello = (ns: number): Buffer => Buffer.from(`c80200140007000000${ns.toString(16).padStart(2, '0')}00008008000000000006`, 'hex');
    const count = 3;
    const sent: Buffer[] = [];

    const dumpcap = spawn('dumpcap', ['-i', 'lo', '-f', `udp dst port ${port}`, '-c', String(count), '-w', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    try {
      const exited = new Promise<number | null>((resolve, reject) => {
        dumpcap.on('error', reject);
        dumpcap.on('close', (code) => resolve(code));
      });
      // dumpcap says "Capturing on 'Loopback: lo'" once the filter is attached; packets sent before would be lost.
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`dumpcap did not start capturing:\n${stderr}`)), 15_000);
        dumpcap.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (stderr.includes('Capturing on')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited.then((code) => reject(new Error(`dumpcap exited with ${code} before capturing:\n${stderr}`)));
      });
      // Even after that message the capture takes a moment to see packets, so keep sending (Ns counting up)
      // until dumpcap has its `count` packets and exits; what it caught must be consecutive ones we sent.
      const before = BigInt(Date.now() - 1) * 1_000_000n;
      let done = false;
      const code = exited.finally(() => {
        done = true;
      });
      const deadline = Date.now() + 15_000;
      while (!done && Date.now() < deadline && sent.length < 250) {
        const p = hello(sent.length + 1);
        sent.push(p);
        await new Promise<void>((r, j) => sender.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())));
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(done, `dumpcap did not stop after ${count} packets:\n${stderr}`).toBe(true);
      expect(await code, stderr).toBe(0);
      const after = BigInt(Date.now() + 1) * 1_000_000n;

      const cap = readCapture(await readFile(file));
      expect(cap.format).toBe('pcapng');
      expect(cap.packets).toHaveLength(count);
      const first = sent.findIndex((p) => p.equals(extractL2tp(cap.packets[0]!)?.payload ?? Buffer.alloc(0)));
      expect(first).toBeGreaterThanOrEqual(0);
      const payloads = sent.slice(first, first + count);
      cap.packets.forEach((pkt, i) => {
        expect(pkt.linkType).toBe(LinkType.EN10MB);
        expect(pkt.timestampNs >= before && pkt.timestampNs <= after, `timestamp ${pkt.timestampNs}`).toBe(true);
        expect(extractL2tp(pkt)).toEqual({
          src: '127.0.0.1',
          dst: '127.0.0.1',
          sport: sender.address().port,
          dport: port,
          transport: 'udp',
          ipVersion: 4,
          payload: payloads[i],
        });
      });
    } finally {
      if (dumpcap.exitCode === null && dumpcap.pid !== undefined) dumpcap.kill('SIGKILL');
      receiver.close();
      sender.close();
    }
  });
});
