/** What only some of the protocols do: PAP Identifiers, CHAP Identifiers and re-challenges, MS-CHAPv2 proofs. */
import { describe, expect, it, vi } from 'vitest';
import {
  ChapCode,
  createAuthClient,
  createAuthServer,
  decodeChap,
  decodePap,
  encodeChap,
  LocalVerifier,
  PPP_CHAP,
  type AuthProtocolName,
  type CredentialVerifier,
} from '../../../src/ppp/auth/index.js';
import { begin, challengeOf, heldVerifier, link, replyOf, settle, USERS } from './harness.js';

const PROTOCOLS: readonly AuthProtocolName[] = ['pap', 'chap', 'mschapv2'];
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('PAP specifics', () => {
  it('PAP: a retransmission while the verifier is thinking is the one answered (RFC 1334 §2.2.2 copies its Id)', async () => {
    const verifier = heldVerifier();
    const l = link('pap', { verifier });
    begin(l);
    l.deliverOne('client');
    l.client.auth.timeout();
    l.deliverOne('client');
    expect(verifier.calls).toBe(1);
    verifier.release({ ok: true });
    await settle();
    expect(l.server.outbox.map((p) => decodePap(p).id)).toEqual([decodePap(l.client.sent[1]!).id]);
  });
});

describe('CHAP and MS-CHAPv2 specifics', () => {
  it.each(['chap', 'mschapv2'] as const)('%s: a client that failed or gave up ignores later Challenges', async (name) => {
    const l = link(name, { maxTransmissions: 2 });
    begin(l);
    const challenge = l.server.outbox.shift()!;
    l.client.auth.timeout();
    l.client.auth.timeout();
    expect(l.client.results).toEqual([{ ok: false, user: 'alice', message: 'No Challenge from the authenticator' }]);
    l.client.auth.receive(challenge);
    expect(l.client.outbox).toEqual([]);

    const f = link(name, { password: 'wrong' });
    begin(f);
    await f.run();
    expect(f.client.results.map((r) => r.ok)).toEqual([false]);
    f.server.auth.start();
    f.deliverOne('server');
    expect(f.client.outbox).toEqual([]);
  });

  it.each(['chap', 'mschapv2'] as const)('%s: a Response to another Identifier is discarded, not answered', async (name) => {
    const l = link(name);
    begin(l);
    l.deliverOne('server');
    const response = Buffer.from(l.client.outbox.shift()!);
    response[1] = (response[1]! + 1) & 0xff;
    l.server.auth.receive(response);
    await settle();
    expect(l.server.outbox).toEqual([]);
    expect(l.server.discards.map((e) => e.field)).toEqual(['chap.identifier']);
  });

  it.each(['chap', 'mschapv2'] as const)('%s: a re-challenge after success uses a new Identifier and Value and gives a new result', async (name) => {
    const l = link(name);
    begin(l);
    await l.run();
    l.server.auth.start();
    await l.run();
    const [c1, c2] = [challengeOf(l.server.sent[0]!), challengeOf(l.server.sent[2]!)];
    expect(c2.id).toBe((c1.id + 1) & 0xff);
    expect(c2.value.equals(c1.value)).toBe(false);
    expect(l.server.results.map((r) => r.ok)).toEqual([true, true]);
    expect(l.client.results.map((r) => r.ok)).toEqual([true, true]);
  });

  it.each(['chap', 'mschapv2'] as const)('%s: a Response of the wrong size gets a Failure (§4.1: every Response gets an answer)', async (name) => {
    const l = link(name);
    begin(l);
    const c = challengeOf(l.server.outbox.shift()!);
    l.server.auth.receive(encodeChap({ code: ChapCode.Response, id: c.id, value: Buffer.alloc(name === 'chap' ? 15 : 48), name: Buffer.from('alice') }));
    await settle();
    expect(replyOf(name, l.server.outbox[0]!).ok).toBe(false);
    expect(l.server.results).toEqual([{ ok: false, user: 'alice', message: expect.stringMatching(/^Malformed Response: .*Value is/) }]);
  });

  it('CHAP-MD5 Response on the wire: MD5(Identifier ‖ secret ‖ Challenge), vector from python3 hashlib', () => {
    const sent: Buffer[] = [];
    const results: unknown[] = [];
    const client = createAuthClient('chap', (_p, b) => sent.push(b), { user: 'alice', password: 'correct horse' }, (r) => results.push(r));
    client.start();
    // hashlib.md5(bytes([0x2a]) + b'correct horse' + bytes(range(16))).hexdigest()
    // Length 0x1a = 4 header + 1 Value-Size + 16 Value + 5 Name.
    client.receive(encodeChap({ code: ChapCode.Challenge, id: 0x2a, value: Buffer.from([...Array(16).keys()]), name: Buffer.from('lns') }));
    expect(sent).toHaveLength(1);
    expect(sent[0]!.toString('hex')).toBe(`02 2a 001a 10 fc73c22f9704f64cbb0c3fa1b242791e ${Buffer.from('alice').toString('hex')}`.replace(/\s+/g, ''));
  });

  it('MS-CHAPv2 on the wire reproduces RFC 2759 §9.2 (Response value, Success message)', async () => {
    const script = (chunks: Buffer[]) => (n: number): Buffer => {
      const next = chunks.shift();
      if (next?.length !== n) throw new Error(`random(${n}) not scripted`);
      return next;
    };
    const sent = { client: [] as Buffer[], server: [] as Buffer[] };
    const results = { client: [] as unknown[], server: [] as unknown[] };
    const server = createAuthServer('mschapv2', (_p, b) => sent.server.push(b), new LocalVerifier({ User: 'clientPass' }), (r) => results.server.push(r), {
      random: script([Buffer.of(7), hex('5B5D7C7D7B3F2F3E3C2C602132262628')]),
      name: '',
    });
    const client = createAuthClient('mschapv2', (_p, b) => sent.client.push(b), { user: 'User', password: 'clientPass' }, (r) => results.client.push(r), {
      random: script([hex('21402324255E262A28295F2B3A337C7E')]),
    });
    server.start();
    client.start();
    client.receive(sent.server[0]!);
    const response = decodeChap(sent.client[0]!);
    expect(response).toEqual({
      code: ChapCode.Response,
      id: 7,
      value: hex('21402324255E262A28295F2B3A337C7E' + '00'.repeat(8) + '82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF' + '00'),
      name: Buffer.from('User'),
    });
    server.receive(sent.client[0]!);
    await settle();
    expect(replyOf('mschapv2', sent.server[1]!)).toEqual({ ok: true, id: 7, message: 'S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted' });
    client.receive(sent.server[1]!);
    expect(results.client).toEqual([{ ok: true, user: 'User', message: 'S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted' }]);
    expect(results.server).toEqual([{ ok: true, user: 'User', message: 'Access granted' }]);
  });

  it('MS-CHAPv2 with a Windows domain before the user name', async () => {
    const l = link('mschapv2', { user: 'CORP\\alice' });
    begin(l);
    await l.run();
    expect(l.server.results[0]).toMatchObject({ ok: true, user: 'CORP\\alice' });
    expect(l.client.results[0]?.ok).toBe(true);
  });
});

describe('MS-CHAPv2 client refuses an authenticator that cannot prove the password (RFC 2759 §5)', () => {
  const cases: [string, (right: string) => string | undefined][] = [
    ['a wrong authenticator response', (right) => `S=${right.slice(2, 41)}${right[41] === '0' ? '1' : '0'}`],
    ['an authenticator response computed for another password', () => undefined],
  ];
  it.each(cases)('%s', async (_title, forge) => {
    // A verifier that accepts but answers with a forged "S=": what a rogue LNS, or a broken RADIUS proxy, does.
    const rogue: CredentialVerifier = {
      async verify(req) {
        const real = await new LocalVerifier({ alice: USERS.alice, eve: 'not the password' }).verify(req);
        if (!real.ok || real.authenticatorResponse === undefined) throw new Error('setup: expected acceptance');
        const forged = forge(real.authenticatorResponse);
        if (forged !== undefined) return { ok: true, authenticatorResponse: forged };
        if (req.protocol !== 'mschapv2') throw new Error('setup');
        const { mschapv2 } = await import('../../../src/ppp/auth/index.js');
        return { ok: true, authenticatorResponse: mschapv2.generateAuthenticatorResponse('not the password', req.ntResponse, req.peerChallenge, req.authenticatorChallenge, req.user) };
      },
    };
    const l = link('mschapv2', { verifier: rogue });
    begin(l);
    await l.run();
    expect(replyOf('mschapv2', l.server.sent.at(-1)!).ok).toBe(true);
    expect(l.server.results[0]?.ok).toBe(true);
    expect(l.client.results).toEqual([{ ok: false, user: 'alice', message: expect.stringMatching(/authenticator response is wrong/) }]);
  });

  it('a Success without "S=" fails the client', () => {
    const results: { ok: boolean; message?: string }[] = [];
    const sent: Buffer[] = [];
    const client = createAuthClient('mschapv2', (_p, b) => sent.push(b), { user: 'alice', password: USERS.alice }, (r) => results.push(r));
    client.start();
    client.receive(encodeChap({ code: ChapCode.Challenge, id: 1, value: Buffer.alloc(16, 1), name: Buffer.alloc(0) }));
    client.receive(encodeChap({ code: ChapCode.Success, id: 1, message: Buffer.from('M=Welcome') }));
    expect(results).toEqual([{ ok: false, user: 'alice', message: expect.stringMatching(/without an authenticator response/) }]);
  });

  it('the server sends Failure when the verifier accepts without an authenticator response', async () => {
    const l = link('mschapv2', { verifier: { verify: async () => ({ ok: true }) } });
    begin(l);
    await l.run();
    expect(replyOf('mschapv2', l.server.sent.at(-1)!).ok).toBe(false);
    expect(l.server.results).toEqual([{ ok: false, user: 'alice', message: expect.stringMatching(/no authenticator response/) }]);
    expect(l.client.results[0]?.ok).toBe(false);
  });
});

describe('factories', () => {
  it('name each object after its protocol and send on the right PPP protocol', () => {
    for (const name of PROTOCOLS) {
      const send = vi.fn();
      const server = createAuthServer(name, send, new LocalVerifier({}), () => {});
      const client = createAuthClient(name, send, { user: 'u', password: 'p' }, () => {});
      expect([server.name, client.name]).toEqual([name, name]);
      server.start();
      client.start();
      for (const [protocol] of send.mock.calls) expect(protocol).toBe(name === 'pap' ? 0xc023 : PPP_CHAP);
    }
  });
});
