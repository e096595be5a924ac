/**
 * RadiusClient and Accounting against scripted in-process servers: retransmission of identical bytes,
 * forged and misaddressed replies discarded, Message-Authenticator required on demand, Identifier
 * exhaustion spilling onto a second socket, close(), and the accounting backlog.
 */
import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Accounting,
  decodePacket,
  encodePacket,
  getAttr,
  RadiusClient,
  RadiusClosedError,
  RadiusCode,
  RadiusEncodeError,
  RadiusTimeoutError,
  splitCounter,
  type Attribute,
  type RadiusPacket,
} from '../../src/aaa/index.js';

interface FakeServer {
  port: number;
  received: Buffer[];
  /** Replies with `code` and `attrs`, signed with `secret` (or tampered by `mangle`). */
  reply(to: Buffer, rinfo: dgram.RemoteInfo, code: number, attrs?: Attribute[], opts?: { secret?: string; mangle?: (b: Buffer) => void; messageAuthenticator?: boolean }): void;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function fakeServer(secret: string, onRequest: (s: FakeServer, msg: Buffer, rinfo: dgram.RemoteInfo, p: RadiusPacket) => void): Promise<FakeServer> {
  // The default receive buffer holds 256 small datagrams (212992 / 832 octets): double it for the burst test.
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 212_992 });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const server: FakeServer = {
    port: sock.address().port,
    received: [],
    reply(to, rinfo, code, attrs = [], opts = {}) {
      const { buffer } = encodePacket({ code, identifier: to[1]!, attributes: attrs }, { secret: opts.secret ?? secret, authenticator: to.subarray(4, 20), messageAuthenticator: opts.messageAuthenticator ?? true });
      opts.mangle?.(buffer);
      sock.send(buffer, rinfo.port, rinfo.address);
    },
    close: () => new Promise((r) => sock.close(() => r())),
  };
  sock.on('message', (msg, rinfo) => {
    server.received.push(msg);
    onRequest(server, msg, rinfo, decodePacket(msg, { secret }));
  });
  cleanups.push(() => server.close());
  return server;
}

function client(ports: number[], opts: Partial<ConstructorParameters<typeof RadiusClient>[0]> = {}): RadiusClient {
  const c = new RadiusClient({ servers: ports.map((port) => ({ host: '127.0.0.1', port, secret: 's' })), timeoutMs: 100, retries: 2, ...opts });
  cleanups.push(() => c.close());
  return c;
}

describe('RadiusClient', () => {
  it('retransmits the identical packet, then answers with the first valid reply', async () => {
    const srv = await fakeServer('s', (s, msg, rinfo) => {
      if (s.received.length === 3) s.reply(msg, rinfo, RadiusCode.AccessAccept, [['Session-Timeout', 5]]);
    });
    const r = await client([srv.port]).request(RadiusCode.AccessRequest, [['User-Name', 'u'], ['User-Password', 'p']]);
    expect(r.transmissions).toBe(3);
    expect(srv.received[1]).toEqual(srv.received[0]);
    expect(srv.received[2]).toEqual(srv.received[0]);
    expect(getAttr(r.packet.attributes, 'Session-Timeout')).toBe(5);
  });

  it('discards forged replies, wrong codes and wrong Identifiers, and keeps waiting for the real one', async () => {
    const srv = await fakeServer('s', (s, msg, rinfo) => {
      s.reply(msg, rinfo, RadiusCode.AccessAccept, [], { secret: 'forger' });
      s.reply(msg, rinfo, RadiusCode.AccessAccept, [], { mangle: (b) => (b[b.length - 1]! ^= 1) });
      s.reply(msg, rinfo, RadiusCode.AccountingResponse);
      s.reply(msg, rinfo, RadiusCode.AccessAccept, [], { mangle: (b) => (b[1] = (b[1]! + 1) & 0xff) });
      setTimeout(() => s.reply(msg, rinfo, RadiusCode.AccessReject, [['Reply-Message', 'no']]), 20);
    });
    const c = client([srv.port], { timeoutMs: 500 });
    const r = await c.request(RadiusCode.AccessRequest, [['User-Name', 'u']]);
    expect(r.packet.code).toBe(RadiusCode.AccessReject);
    expect(c.stats()[0]).toMatchObject({ replies: 1, discarded: 4 });
  });

  it('with requireMessageAuthenticator, a reply without one is discarded', async () => {
    const srv = await fakeServer('s', (s, msg, rinfo) => s.reply(msg, rinfo, RadiusCode.AccessAccept, [], { messageAuthenticator: false }));
    const lax = client([srv.port]);
    expect((await lax.request(RadiusCode.AccessRequest, [['User-Name', 'u']])).packet.code).toBe(RadiusCode.AccessAccept);
    const strict = client([srv.port], { requireMessageAuthenticator: true, retries: 0 });
    await expect(strict.request(RadiusCode.AccessRequest, [['User-Name', 'u']])).rejects.toThrow(RadiusTimeoutError);
    expect(strict.stats()[0]!.discarded).toBe(1);
  });

  it('every request carries a Message-Authenticator first; failover re-encodes with the next server', async () => {
    const silent = await fakeServer('s', () => undefined);
    const srv = await fakeServer('s', (s, msg, rinfo) => s.reply(msg, rinfo, RadiusCode.AccountingResponse));
    const c = client([silent.port, srv.port], { retries: 0 });
    const r = await c.request(RadiusCode.AccountingRequest, [['Acct-Status-Type', 'Start'], ['Acct-Session-Id', 'x']]);
    expect(r.server).toBe(`127.0.0.1:${srv.port}`);
    for (const m of [...silent.received, ...srv.received]) expect(m[20]).toBe(80);
    await expect(client([silent.port], { retries: 1 }).request(RadiusCode.AccessRequest, [['User-Name', 'u']])).rejects.toMatchObject({
      name: 'RadiusTimeoutError',
      tried: [`127.0.0.1:${silent.port}`],
    });
  });

  it('more than 256 requests in flight to one server spill onto another socket, with unique Identifiers per socket', async () => {
    const pending: Array<() => void> = [];
    const seen = new Map<string, Set<number>>();
    const srv = await fakeServer('s', (s, msg, rinfo) => {
      const ids = seen.get(String(rinfo.port)) ?? new Set<number>();
      expect(ids.has(msg[1]!)).toBe(false);
      ids.add(msg[1]!);
      seen.set(String(rinfo.port), ids);
      pending.push(() => s.reply(msg, rinfo, RadiusCode.AccessAccept));
      if (pending.length === 300) for (const p of pending) p();
    });
    const c = client([srv.port], { timeoutMs: 5000 });
    // All 300 in one tick, from cold: Identifiers must be taken when allocated, not when the packet is sent.
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => c.request(RadiusCode.AccessRequest, [['User-Name', `u${i}`]])));
    expect(replies.every((r) => r.packet.code === RadiusCode.AccessAccept && r.transmissions === 1)).toBe(true);
    expect(seen.size).toBe(2);
  });

  it('an unencodable request fails with RadiusEncodeError and gives its Identifier back', async () => {
    const srv = await fakeServer('s', (s, msg, rinfo) => s.reply(msg, rinfo, RadiusCode.AccessAccept));
    const c = client([srv.port], { maxSockets: 1 });
    for (let i = 0; i < 300; i++) {
      await expect(c.request(RadiusCode.AccessRequest, [['User-Name', 'x'.repeat(300)]])).rejects.toThrow(RadiusEncodeError);
    }
    expect((await c.request(RadiusCode.AccessRequest, [['User-Name', 'ok']])).packet.code).toBe(RadiusCode.AccessAccept);
  });

  it('close() fails outstanding requests with RadiusClosedError', async () => {
    const srv = await fakeServer('s', () => undefined);
    const c = client([srv.port], { timeoutMs: 5000 });
    const p = c.request(RadiusCode.AccessRequest, [['User-Name', 'u']]);
    await new Promise((r) => setTimeout(r, 20));
    await c.close();
    await expect(p).rejects.toThrow(RadiusClosedError);
    expect(c.stats()[0]!.dead).toBe(false);
  });
});

describe('Accounting', () => {
  it('splits counters into low 32 bits and Gigawords', () => {
    expect(splitCounter(2 ** 32 * 3 + 5)).toEqual({ low: 5, giga: 3 });
    expect(splitCounter(0xffffffffn)).toEqual({ low: 0xffffffff, giga: 0 });
  });

  it('keeps records no server acknowledged, in order, and delivers them later with Acct-Delay-Time', async () => {
    let up = false;
    const got: RadiusPacket[] = [];
    const srv = await fakeServer('s', (s, msg, rinfo, p) => {
      if (!up) return;
      got.push(p);
      s.reply(msg, rinfo, RadiusCode.AccountingResponse);
    });
    const c = client([srv.port], { timeoutMs: 50, retries: 0, deadTimeMs: 10 });
    const acct = new Accounting(c, { nas: { identifier: 'n' }, backlogRetryMs: 1200 });
    const s = { acctSessionId: 'a1', user: 'u', startedAt: Date.now() - 10_000, sessionId: 9 };
    try {
      expect(await acct.start(s)).toBe(false);
      expect(await acct.stop(s, { inputOctets: 1, outputOctets: 2, inputPackets: 3, outputPackets: 4 }, 'User-Request')).toBe(false);
      expect(acct.pending).toBe(2);
      up = true;
      await new Promise((r) => setTimeout(r, 1500));
      expect(acct.pending).toBe(0);
      expect(got.map((p) => getAttr(p.attributes, 'Acct-Status-Type'))).toEqual([1, 2]);
      for (const p of got) expect(getAttr(p.attributes, 'Acct-Delay-Time')).toBeGreaterThanOrEqual(1);
      const stop = got[1]!.attributes;
      expect(getAttr(stop, 'Acct-Session-Time')).toBe(10); // measured at the event, not at delivery
      expect(getAttr(stop, 'Acct-Terminate-Cause')).toBe(1);
      expect(getAttr(stop, 'NAS-Port')).toBe(9);
    } finally {
      acct.close();
    }
  });
});
