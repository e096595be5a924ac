/**
 * The dynamic authorization server (RFC 3576/5176): Disconnect-Request and CoA-Request sent by
 * FreeRADIUS's own `radclient` reach the handler and get the right ACK/NAK and Error-Cause; the RFC's
 * discard and NAK rules are checked with packets built here.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  decodePacket,
  DynAuthServer,
  encodePacket,
  getAttr,
  RadiusCode,
  verifyResponse,
  type Attribute,
  type CoaOutcome,
  type DynAuthHandler,
  type SessionSelector,
} from '../../src/aaa/index.js';
import { findExecutable } from '../support/sysdeps.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

const SECRET = 'dm-secret';
const NAS = { identifier: 'l2tpd-test', ipAddress: '127.0.0.1' };

interface Call {
  kind: 'disconnect' | 'coa';
  selector: SessionSelector;
  changes?: readonly Attribute[];
}
const calls: Call[] = [];
/** The one session the handler knows. */
const SESSION = { acctSessionId: 'sess-1', user: 'testuser', framedIpAddress: '198.18.1.77', nasPort: 4242 };
const matches = (s: SessionSelector): boolean =>
  (s.acctSessionId === undefined || s.acctSessionId === SESSION.acctSessionId) &&
  (s.user === undefined || s.user === SESSION.user) &&
  (s.framedIpAddress === undefined || s.framedIpAddress === SESSION.framedIpAddress) &&
  (s.nasPort === undefined || s.nasPort === SESSION.nasPort);

let failNext = false;
const handler: DynAuthHandler = {
  disconnect: async (selector) => {
    calls.push({ kind: 'disconnect', selector });
    if (failNext) throw new Error('boom');
    return matches(selector);
  },
  coa: (selector, changes): CoaOutcome => {
    calls.push({ kind: 'coa', selector, changes });
    if (!matches(selector)) return { found: false };
    // This NAS can change the session timeout and nothing else.
    return { found: true, applied: changes.filter(([n]) => n === 'Session-Timeout').map(([n]) => n) };
  },
};

let server: DynAuthServer;
let port: number;
let tmp: TempDir;

beforeAll(async () => {
  server = new DynAuthServer({ clients: [{ address: '127.0.0.1', secret: SECRET }], nas: NAS, port: 0, bindAddress: '127.0.0.1' }, handler);
  port = (await server.listen()).port;
  tmp = await makeTempDir();
});
afterAll(async () => {
  await server?.close();
  await tmp?.cleanup();
});
beforeEach(() => {
  calls.length = 0;
  failNext = false;
});

/** radclient with the attributes in a file; resolves with its output whatever its exit code. */
async function radclient(command: 'disconnect' | 'coa', attrs: string[]): Promise<string> {
  const bin = findExecutable('radclient');
  if (bin === undefined) throw new Error('radclient (freeradius-utils) is not installed');
  const file = tmp.file(`req-${Date.now()}-${Math.random()}`);
  await writeFile(file, attrs.join('\n') + '\n');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-x', '-r', '2', '-t', '2', '-f', file, `127.0.0.1:${port}`, command, SECRET], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

describe('with radclient', () => {
  it('a Disconnect-Request for a known session reaches the handler and gets a Disconnect-ACK', async () => {
    const out = await radclient('disconnect', ['Acct-Session-Id = "sess-1"', 'User-Name = "testuser"', 'NAS-IP-Address = 127.0.0.1']);
    expect(out).toMatch(/Received Disconnect-ACK/);
    expect(calls).toEqual([{ kind: 'disconnect', selector: { acctSessionId: 'sess-1', user: 'testuser' } }]);
  });

  it('an unknown session gets a Disconnect-NAK with Error-Cause Session-Context-Not-Found', async () => {
    const out = await radclient('disconnect', ['Acct-Session-Id = "nope"']);
    expect(out).toMatch(/Received Disconnect-NAK/);
    expect(out).toMatch(/Error-Cause = Session-Context-Not-Found/);
  });

  it('a CoA with an attribute this NAS cannot apply gets a CoA-NAK (Unsupported-Attribute)', async () => {
    const out = await radclient('coa', ['Framed-IP-Address = 198.18.1.77', 'Session-Timeout = 120', 'Filter-Id = "gold"']);
    expect(out).toMatch(/Received CoA-NAK/);
    expect(out).toMatch(/Error-Cause = Unsupported-Attribute/);
    expect(calls[0]).toMatchObject({ kind: 'coa', selector: { framedIpAddress: '198.18.1.77' }, changes: [['Session-Timeout', 120], ['Filter-Id', 'gold']] });
  });

  it('a CoA it can apply fully gets a CoA-ACK', async () => {
    const out = await radclient('coa', ['User-Name = "testuser"', 'Session-Timeout = 120']);
    expect(out).toMatch(/Received CoA-ACK/);
  });
});

/** Sends one request from 127.0.0.1 and resolves with the decoded answer, or undefined after 300 ms of silence. */
async function ask(code: number, attrs: Attribute[], opts: { secret?: string; identifier?: number; raw?: Buffer; socket?: dgram.Socket } = {}) {
  const sock = opts.socket ?? dgram.createSocket('udp4');
  if (opts.socket === undefined) await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const { buffer, authenticator } =
    opts.raw !== undefined
      ? { buffer: opts.raw, authenticator: opts.raw.subarray(4, 20) }
      : encodePacket({ code, identifier: opts.identifier ?? 7, attributes: attrs }, { secret: opts.secret ?? SECRET, authenticator: Buffer.alloc(16) });
  try {
    return await new Promise<{ code: number; attributes: Attribute[]; buffer: Buffer; request: Buffer } | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), 300);
      sock.on('message', (msg) => {
        clearTimeout(timer);
        verifyResponse(msg, SECRET, authenticator, { requireMessageAuthenticator: true });
        resolve({ code: msg[0]!, attributes: decodePacket(msg).attributes, buffer: msg, request: buffer });
      });
      sock.send(buffer, port, '127.0.0.1');
    });
  } finally {
    sock.removeAllListeners('message');
    if (opts.socket === undefined) sock.close();
  }
}

describe('RFC 5176 rules', () => {
  const who: Attribute[] = [['Acct-Session-Id', 'sess-1']];

  it('a wrong secret, or a reply code sent as a request, is silently discarded', async () => {
    const before = server.stats.discarded;
    expect(await ask(RadiusCode.DisconnectRequest, who, { secret: 'wrong' })).toBeUndefined();
    expect(await ask(RadiusCode.DisconnectAck, who)).toBeUndefined();
    expect(server.stats.discarded).toBe(before + 2);
    expect(calls).toEqual([]);
  });

  it('a retransmission gets the same answer without a second teardown; Proxy-State is echoed in order', async () => {
    const attrs: Attribute[] = [...who, ['Proxy-State', Buffer.from('p1')], ['Proxy-State', Buffer.from('p2')]];
    // RFC 5176 §2.3: a retransmission has the same source port, Identifier and Request Authenticator.
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    try {
      const first = await ask(RadiusCode.DisconnectRequest, attrs, { identifier: 99, socket });
      expect(first?.code).toBe(RadiusCode.DisconnectAck);
      expect(first!.attributes.filter(([n]) => n === 'Proxy-State').map(([, v]) => String(v))).toEqual(['p1', 'p2']);
      const again = await ask(RadiusCode.DisconnectRequest, [], { raw: first!.request, socket });
      expect(again?.buffer).toEqual(first!.buffer);
      expect(calls.length).toBe(1);
      // The same request from another port is another request.
      expect((await ask(RadiusCode.DisconnectRequest, [], { raw: first!.request }))?.code).toBe(RadiusCode.DisconnectAck);
      expect(calls.length).toBe(2);
    } finally {
      socket.close();
    }
  });

  const naks: Array<[string, number, Attribute[], string]> = [
    ['NAS-Identifier of another NAS', RadiusCode.DisconnectRequest, [...who, ['NAS-Identifier', 'other-nas']], 'NAS-Identification-Mismatch'],
    ['no session identification', RadiusCode.DisconnectRequest, [['NAS-Identifier', 'l2tpd-test']], 'Missing-Attribute'],
    ['Service-Type Authorize-Only', RadiusCode.CoaRequest, [...who, ['Service-Type', 'Authorize-Only']], 'Unsupported-Service'],
    ['an authorization change in a Disconnect-Request', RadiusCode.DisconnectRequest, [...who, ['Session-Timeout', 5]], 'Unsupported-Attribute'],
    ['a CoA for an unknown session', RadiusCode.CoaRequest, [['User-Name', 'ghost'], ['Session-Timeout', 5]], 'Session-Context-Not-Found'],
  ];
  for (const [what, code, attrs, cause] of naks) {
    it(`NAK for ${what}: ${cause}`, async () => {
      const r = await ask(code, attrs);
      expect(r?.code).toBe(code === RadiusCode.DisconnectRequest ? RadiusCode.DisconnectNak : RadiusCode.CoaNak);
      expect(getAttr(r!.attributes, 'Error-Cause')).toBe(
        { 'NAS-Identification-Mismatch': 403, 'Missing-Attribute': 402, 'Unsupported-Service': 405, 'Unsupported-Attribute': 401, 'Session-Context-Not-Found': 503 }[cause],
      );
    });
  }

  it('a handler that throws gives a NAK with Resources-Unavailable, not a crash', async () => {
    failNext = true;
    const r = await ask(RadiusCode.DisconnectRequest, who);
    expect(r?.code).toBe(RadiusCode.DisconnectNak);
    expect(getAttr(r!.attributes, 'Error-Cause')).toBe(506);
  });

  it('an Event-Timestamp outside the window is discarded (replay protection)', async () => {
    expect(await ask(RadiusCode.DisconnectRequest, [...who, ['Event-Timestamp', Math.floor(Date.now() / 1000) - 3600]])).toBeUndefined();
    expect((await ask(RadiusCode.DisconnectRequest, [...who, ['Event-Timestamp', Math.floor(Date.now() / 1000)]]))?.code).toBe(RadiusCode.DisconnectAck);
  });

  it('a request from an address that is not a configured client is discarded', async () => {
    const other = new DynAuthServer({ clients: [{ address: '127.0.0.2', secret: SECRET }], nas: NAS, port: 0, bindAddress: '127.0.0.1' }, handler);
    const otherPort = (await other.listen()).port;
    try {
      const sock = dgram.createSocket('udp4');
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      sock.send(encodePacket({ code: RadiusCode.DisconnectRequest, identifier: 1, attributes: who }, { secret: SECRET }).buffer, otherPort, '127.0.0.1');
      await new Promise((r) => setTimeout(r, 200));
      sock.close();
      expect(other.stats).toMatchObject({ discarded: 1, requests: 0 });
    } finally {
      await other.close();
    }
  });
});
