import { describe, expect, it } from 'vitest';
import {
  ChapCode,
  createAuthServer,
  decodePap,
  encodeChap,
  encodePap,
  LocalVerifier,
  PppAuthError,
  PapCode,
  parseMsChapV2Failure,
  type AuthProtocolName,
  type AuthVerdict,
  type CredentialVerifier,
} from '../../../src/ppp/auth/index.js';
import { begin, challengeOf, heldVerifier, link, replyOf, settle, USERS } from './harness.js';

const PROTOCOLS: readonly AuthProtocolName[] = ['pap', 'chap', 'mschapv2'];

const FAILURE_TEXT: Record<AuthProtocolName, string> = { pap: 'Login incorrect', chap: 'Access denied', mschapv2: 'Access denied' };

describe.each(PROTOCOLS)('%s client ⇄ server with the local verifier', (name) => {
  it('right password: both sides succeed, once', async () => {
    const l = link(name);
    begin(l);
    await l.run();
    expect(l.server.results).toEqual([{ ok: true, user: 'alice', message: expect.any(String) }]);
    expect(l.client.results).toEqual([{ ok: true, user: 'alice', message: expect.any(String) }]);
    expect(l.client.discards).toEqual([]);
    expect(l.server.discards).toEqual([]);
    expect(l.client.sent).toHaveLength(1); // one Authenticate-Request / one Response
    expect(l.server.sent).toHaveLength(name === 'pap' ? 1 : 2); // (Challenge +) Ack / Success
  });

  it('wrong password: refused with the protocol\'s Nak/Failure message', async () => {
    const l = link(name, { password: 'Correct horse' });
    begin(l);
    await l.run();
    const reply = replyOf(name, l.server.sent.at(-1)!);
    expect(reply.ok).toBe(false);
    if (name === 'mschapv2') {
      const challenge = challengeOf(l.server.sent[0]!).value.toString('hex').toUpperCase();
      expect(reply.message).toBe(`E=691 R=0 C=${challenge} V=3 M=Access denied`);
      expect(parseMsChapV2Failure(reply.message)).toEqual({ error: 691, retry: false, challenge, version: 3, message: 'Access denied' });
    } else {
      expect(reply.message).toBe(FAILURE_TEXT[name]);
    }
    expect(l.server.results).toEqual([{ ok: false, user: 'alice', message: FAILURE_TEXT[name] }]);
    expect(l.client.results).toEqual([{ ok: false, user: 'alice', message: reply.message }]);
  });

  it('unknown user: the same answer as a wrong password', async () => {
    const l = link(name, { user: 'mallory', password: USERS.alice });
    begin(l);
    await l.run();
    expect(replyOf(name, l.server.sent.at(-1)!).ok).toBe(false);
    expect(l.server.results).toEqual([{ ok: false, user: 'mallory', message: FAILURE_TEXT[name] }]);
  });

  it('non-ASCII user name and password (UTF-8 on the wire, UTF-16LE for the NT hash)', async () => {
    const l = link(name, { user: 'ünïcødé', password: USERS['ünïcødé'] });
    begin(l);
    await l.run();
    expect(l.server.results[0]).toMatchObject({ ok: true, user: 'ünïcødé' });
    expect(l.client.results[0]?.ok).toBe(true);
  });

  it('the verifier\'s message and attributes reach the reply and the result', async () => {
    const attributes = { framedIpAddress: '198.18.1.10' };
    const accept: CredentialVerifier = {
      verify: async (req) => {
        const inner = await new LocalVerifier(USERS).verify(req);
        return { ...inner, message: 'Welcome', attributes };
      },
    };
    const l = link(name, { verifier: accept });
    begin(l);
    await l.run();
    expect(l.server.results).toEqual([{ ok: true, user: 'alice', message: 'Welcome', attributes }]);
    const reply = replyOf(name, l.server.sent.at(-1)!);
    expect(reply.message.endsWith(name === 'mschapv2' ? ' M=Welcome' : 'Welcome')).toBe(true);

    const refuse: CredentialVerifier = { verify: async () => ({ ok: false, message: 'Account expired' }) };
    const r = link(name, { verifier: refuse });
    begin(r);
    await r.run();
    expect(r.server.results).toEqual([{ ok: false, user: 'alice', message: 'Account expired' }]);
    expect(replyOf(name, r.server.sent.at(-1)!).message).toMatch(/Account expired$/);
  });

  it('a verifier that throws or rejects refuses the peer and is reported', async () => {
    for (const verify of [
      () => {
        throw new Error('database down');
      },
      () => Promise.reject(new Error('RADIUS timeout')),
      () => Promise.resolve(null as unknown as AuthVerdict),
    ]) {
      const errors: unknown[] = [];
      const l = link(name, { verifier: { verify }, onVerifierError: (e) => errors.push(e) });
      begin(l);
      await l.run();
      expect(errors).toHaveLength(1);
      expect(l.server.results).toEqual([{ ok: false, user: 'alice', message: 'Authentication service unavailable' }]);
      expect(l.client.results[0]?.ok).toBe(false);
    }
  });

  it('retransmission: the first packet is lost, the restart timer recovers', async () => {
    const l = link(name);
    begin(l);
    const first = name === 'pap' ? l.client : l.server;
    expect(first.outbox).toHaveLength(1);
    l.dropAll();
    first.auth.timeout();
    await l.run();
    expect(l.server.results.map((r) => r.ok)).toEqual([true]);
    expect(l.client.results.map((r) => r.ok)).toEqual([true]);
    if (name === 'pap') {
      // RFC 1334 §2.2.1: a new Identifier for each Authenticate-Request; the Ack answers the one that arrived.
      const [a, b] = l.client.sent.map((p) => decodePap(p).id);
      expect(b).toBe((a! + 1) & 0xff);
      expect(replyOf(name, l.server.sent[0]!).id).toBe(b);
    } else {
      // The Challenge is repeated as it was (pppd, accel-ppp), so a late Response to it still matches.
      expect(l.server.sent[1]).toEqual(l.server.sent[0]);
    }
  });

  it('lost reply: the client asks again and gets the same answer, with no second verification', async () => {
    for (const password of [USERS.alice, 'wrong']) {
      let calls = 0;
      const counting: CredentialVerifier = { verify: (req) => (calls++, new LocalVerifier(USERS).verify(req)) };
      const l = link(name, { password, verifier: counting });
      begin(l);
      if (name !== 'pap') l.deliverOne('server'); // Challenge
      l.deliverOne('client');
      await settle();
      expect(l.server.outbox).toHaveLength(1);
      const firstReply = l.server.outbox.shift()!; // lost
      expect(l.client.results).toEqual([]);
      l.client.auth.timeout(); // PAP: new Authenticate-Request; CHAP: the Response again
      await l.run();
      expect(calls).toBe(1);
      expect(l.server.results).toHaveLength(1);
      expect(l.client.results.map((r) => r.ok)).toEqual([password === USERS.alice]);
      const again = l.server.sent.at(-1)!;
      if (name === 'pap') {
        expect(replyOf(name, again)).toEqual({ ...replyOf(name, firstReply), id: decodePap(l.client.sent[1]!).id });
      } else {
        expect(again).toEqual(firstReply);
      }
    }
  });

  it('a duplicate request after the decision is answered identically', async () => {
    const l = link(name);
    begin(l);
    await l.run();
    const request = l.client.sent.at(-1)!;
    const reply = l.server.sent.at(-1)!;
    l.server.auth.receive(request);
    l.server.auth.receive(Buffer.from(request));
    expect(l.server.outbox).toEqual([reply, reply]);
    expect(l.server.results).toHaveLength(1);
  });

  it('a duplicate request while the verifier is thinking is not verified twice', async () => {
    const verifier = heldVerifier();
    const l = link(name, { verifier });
    begin(l);
    if (name !== 'pap') l.deliverOne('server');
    const request = l.client.outbox.shift()!;
    l.server.auth.receive(request);
    l.server.auth.receive(request);
    expect(verifier.calls).toBe(1);
    expect(l.server.outbox).toEqual([]);
    l.server.auth.timeout(); // the restart timer may fire meanwhile: no new Challenge, no give-up
    expect(l.server.outbox).toEqual([]);
    expect(l.server.results).toEqual([]);
    verifier.release({ ok: false, message: 'No' });
    await settle();
    expect(l.server.outbox).toHaveLength(1);
    expect(replyOf(name, l.server.outbox[0]!)).toMatchObject({ ok: false, message: expect.stringMatching(/No$/) });
    expect(l.server.results).toHaveLength(1);
  });

  it('stop() during verification: the late verdict is neither sent nor reported', async () => {
    const verifier = heldVerifier();
    const l = link(name, { verifier });
    begin(l);
    if (name !== 'pap') l.deliverOne('server');
    l.deliverOne('client');
    l.server.auth.stop();
    verifier.release({ ok: true, authenticatorResponse: `S=${'0'.repeat(40)}` });
    await settle();
    expect(l.server.outbox).toEqual([]);
    expect(l.server.results).toEqual([]);
    l.server.auth.start(); // stopped is final
    expect(l.server.outbox).toEqual([]);
  });

  it('gives up after maxTransmissions on both sides when the peer is silent', () => {
    const l = link(name, { maxTransmissions: 3 });
    begin(l);
    for (let i = 0; i < 10; i++) {
      l.server.auth.timeout();
      l.client.auth.timeout();
    }
    expect(l.server.results).toEqual([{ ok: false, message: name === 'pap' ? 'No Authenticate-Request from the peer' : 'No Response to the Challenge' }]);
    expect(l.client.results).toEqual([
      { ok: false, user: 'alice', message: name === 'pap' ? 'No reply to Authenticate-Request' : 'No Challenge from the authenticator' },
    ]);
    if (name === 'pap') expect(l.client.sent).toHaveLength(3);
    else expect(l.server.sent).toHaveLength(3);
  });

  it('a request before start() is dropped and reported', () => {
    const sent: Buffer[] = [];
    const discards: PppAuthError[] = [];
    const server = createAuthServer(name, (_p, b) => sent.push(b), new LocalVerifier(USERS), () => {}, { onDiscard: (e) => discards.push(e) });
    server.receive(
      name === 'pap'
        ? encodePap({ code: PapCode.AuthenticateRequest, id: 1, peerId: Buffer.from('alice'), password: Buffer.from(USERS.alice) })
        : encodeChap({ code: ChapCode.Response, id: 1, value: Buffer.alloc(name === 'chap' ? 16 : 49), name: Buffer.from('alice') }),
    );
    expect(sent).toEqual([]);
    expect(discards).toHaveLength(1);
    expect(discards[0]).toBeInstanceOf(PppAuthError);
  });
});
