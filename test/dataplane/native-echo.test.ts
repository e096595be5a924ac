/**
 * LCP echo keepalive in the addon (native/echo.c): Echo-Requests go out on the tunnel socket as L2TPv2 data messages
 * without JavaScript, Echo-Replies are taken out of the socket's batches, a peer that stops answering is reported
 * dead, and removed entries send nothing more. A dgram socket plays the LAC and its subscriber.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeFd, echoAdd, echoStats, udpSocket, watchBatch, type EchoHandle } from '../../src/dataplane/kernel/native.js';
import { until as waitFor } from '../support/daemon.js';

const until = (done: () => boolean, what: string, ms = 5_000): Promise<true> => waitFor(() => done() || undefined, ms, what);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dead: EchoHandle[] = [];
let peer: dgram.Socket;
let sock: { fd: number; port: number };
const delivered: Buffer[] = [];
const requests: Buffer[] = [];
let answer = true;
/** Our session ID for a request the peer got (its header carries the peer's): test 1 maps 11 to 7, test 2 keeps it. */
let ourSession = (req: Buffer): number => (req.readUInt16BE(4) === 11 ? 7 : req.readUInt16BE(4));

/** The subscriber's Echo-Reply to a request: our IDs in the L2TP header, its own Magic-Number. */
function replyTo(req: Buffer, magic = 0xaabbccdd): Buffer {
  const b = Buffer.from([0x00, 0x02, 0x00, 0x05, 0x00, 0x00, 0xff, 0x03, 0xc0, 0x21, 0x0a, req[11]!, 0x00, 0x08, 0, 0, 0, 0]);
  b.writeUInt16BE(ourSession(req), 4);
  b.writeUInt32BE(magic, 14);
  return b;
}

beforeAll(async () => {
  peer = dgram.createSocket('udp4');
  await new Promise<void>((r) => peer.bind(0, '127.0.112.31', () => r()));
  sock = udpSocket({ localAddress: '127.0.112.30', localPort: 0, peerAddress: '127.0.112.31', peerPort: peer.address().port });
  watchBatch(sock.fd, (data, ends) => {
    let start = 0;
    for (const end of ends) {
      delivered.push(Buffer.from(data.subarray(start, end)));
      start = end;
    }
  });
  peer.on('message', (b) => {
    requests.push(b);
    if (answer) peer.send(replyTo(b), sock.port, '127.0.112.30');
  });
});

afterAll(() => {
  closeFd(sock.fd);
  peer.close();
});

describe('LCP echo in the addon', () => {
  it('sends Echo-Requests as L2TPv2 data messages, takes the replies before JavaScript, and reports a silent peer', async () => {
    const before = echoStats();
    const id: EchoHandle = echoAdd({ fd: sock.fd, localTunnelId: 5, localSessionId: 7, peerTunnelId: 9, peerSessionId: 11, magic: 0x01020304, intervalMs: 200, failures: 3, firstMs: 0 }, () => dead.push(id));
    await until(() => requests.length >= 3, 'three Echo-Requests');
    const r = requests[0]!;
    // L2TPv2 data header to the peer's IDs (no Length, no sequencing), FF 03, LCP Echo-Request, length 8, our magic.
    expect([...r.subarray(0, 11)]).toEqual([0x00, 0x02, 0x00, 0x09, 0x00, 0x0b, 0xff, 0x03, 0xc0, 0x21, 0x09]);
    expect([...r.subarray(12)]).toEqual([0x00, 0x08, 0x01, 0x02, 0x03, 0x04]);
    expect(requests[1]![11]).toBe((r[11]! + 1) & 0xff); // a new identifier each time
    await until(() => echoStats().replies - before.replies >= 3, 'the replies counted');
    expect(delivered).toEqual([]); // none of them reached JavaScript
    expect(dead).toEqual([]);

    // Anything else from the peer still does: its own Echo-Request, and a reply carrying OUR magic (a looped link,
    // which the PPP engine judges).
    const theirs = Buffer.from([0x00, 0x02, 0x00, 0x05, 0x00, 0x07, 0xff, 0x03, 0xc0, 0x21, 0x09, 0x42, 0x00, 0x08, 0xaa, 0xbb, 0xcc, 0xdd]);
    peer.send(theirs, sock.port, '127.0.112.30');
    peer.send(replyTo(r, 0x01020304), sock.port, '127.0.112.30');
    // A reply for a session that has no entry.
    const other = replyTo(r);
    other[5] = 0x08;
    peer.send(other, sock.port, '127.0.112.30');
    await until(() => delivered.length === 3, 'three datagrams for JavaScript');
    expect(delivered[0]!.equals(theirs)).toBe(true);

    // The peer goes silent: after 3 unanswered requests the entry is reported dead, once, and sends no more.
    answer = false;
    await until(() => dead.length === 1, 'the dead report', 3_000);
    expect(dead).toEqual([id]);
    const sent = requests.length;
    await sleep(500);
    expect(requests.length).toBe(sent);
    expect(echoStats().dead - before.dead).toBe(1);
    expect(echoStats().entries).toBe(before.entries); // removed before onDead ran
  });

  it('many entries on one socket each get theirs and their replies; a removed entry sends nothing more', async () => {
    answer = true;
    requests.length = 0;
    const before = echoStats();
    const ids = Array.from({ length: 50 }, (_, i) => echoAdd({ fd: sock.fd, localTunnelId: 5, localSessionId: 100 + i, peerTunnelId: 9, peerSessionId: 100 + i, magic: 7, intervalMs: 200, failures: 2, firstMs: 0 }));
    // Each answered: none goes dead over several periods (2 unanswered would be enough).
    await until(() => requests.filter((b) => b.readUInt16BE(4) === 149).length >= 4, 'four rounds');
    expect(new Set(requests.map((b) => b.readUInt16BE(4))).size).toBe(50);
    await until(() => echoStats().replies - before.replies >= 150, 'their replies taken');
    expect(dead).toHaveLength(1);
    expect(delivered).toHaveLength(3);
    for (const id of ids) id.stop();
    await sleep(150); // one tick may still be in flight
    const n = requests.length;
    await sleep(700);
    expect(requests.length).toBe(n);
    expect(echoStats().entries).toBe(0);
  });
});
