import { describe, expect, it } from 'vitest';
import { chapMd5Response, LocalVerifier, mschapv2 } from '../../../src/ppp/auth/index.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const v = new LocalVerifier(
  new Map<string, string | { password: string; attributes?: Record<string, unknown> }>([
    ['alice', 'secret'],
    ['User', { password: 'clientPass', attributes: { sessionTimeout: 3600 } }],
  ]),
);

describe('LocalVerifier', () => {
  it('PAP: the right password only; an unknown user looks like a wrong password', async () => {
    expect(await v.verify({ protocol: 'pap', user: 'alice', password: 'secret' })).toEqual({ ok: true });
    expect(await v.verify({ protocol: 'pap', user: 'alice', password: 'secret ' })).toEqual({ ok: false });
    expect(await v.verify({ protocol: 'pap', user: 'alice', password: '' })).toEqual({ ok: false });
    expect(await v.verify({ protocol: 'pap', user: 'Alice', password: 'secret' })).toEqual({ ok: false });
    expect(await v.verify({ protocol: 'pap', user: 'User', password: 'clientPass' })).toEqual({ ok: true, attributes: { sessionTimeout: 3600 } });
  });

  it('CHAP-MD5: checks MD5(id ‖ secret ‖ challenge); the id and the challenge matter', async () => {
    const challenge = hex('00112233445566778899aabbccddeeff');
    const response = chapMd5Response(9, Buffer.from('secret'), challenge);
    expect(await v.verify({ protocol: 'chap', user: 'alice', id: 9, challenge, response })).toEqual({ ok: true });
    expect(await v.verify({ protocol: 'chap', user: 'alice', id: 10, challenge, response })).toEqual({ ok: false });
    expect(await v.verify({ protocol: 'chap', user: 'alice', id: 9, challenge: Buffer.from(challenge).reverse(), response })).toEqual({ ok: false });
    expect(await v.verify({ protocol: 'chap', user: 'alice', id: 9, challenge, response: response.subarray(0, 15) })).toEqual({ ok: false });
    expect(await v.verify({ protocol: 'chap', user: 'bob', id: 9, challenge, response })).toEqual({ ok: false });
  });

  it('MS-CHAPv2: RFC 2759 §9.2 accepted with its authenticator response', async () => {
    const req = {
      protocol: 'mschapv2' as const,
      user: 'User',
      id: 1,
      authenticatorChallenge: hex('5B5D7C7D7B3F2F3E3C2C602132262628'),
      peerChallenge: hex('21402324255E262A28295F2B3A337C7E'),
      ntResponse: hex('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF'),
      flags: 0,
    };
    expect(await v.verify(req)).toEqual({ ok: true, authenticatorResponse: 'S=407A5589115FD0D6209F510FE9C04566932CDA56', attributes: { sessionTimeout: 3600 } });
    expect(await v.verify({ ...req, user: 'DOMAIN\\User' })).toMatchObject({ ok: true, authenticatorResponse: 'S=407A5589115FD0D6209F510FE9C04566932CDA56' });
    const flipped = Buffer.from(req.ntResponse);
    flipped[23]! ^= 1;
    expect(await v.verify({ ...req, ntResponse: flipped })).toEqual({ ok: false });
    expect(await v.verify({ ...req, peerChallenge: hex('21402324255E262A28295F2B3A337C7F') })).toEqual({ ok: false });
    expect(await v.verify({ ...req, user: 'user' })).toEqual({ ok: false });
  });

  it('MS-CHAPv2: fields of the wrong size are refused, not thrown', async () => {
    const base = { protocol: 'mschapv2' as const, user: 'alice', id: 1, authenticatorChallenge: Buffer.alloc(16), peerChallenge: Buffer.alloc(16), ntResponse: Buffer.alloc(24), flags: 0 };
    expect(await v.verify({ ...base, authenticatorChallenge: Buffer.alloc(8) })).toEqual({ ok: false });
    expect(await v.verify({ ...base, peerChallenge: Buffer.alloc(0) })).toEqual({ ok: false });
    expect(await v.verify({ ...base, ntResponse: Buffer.alloc(25) })).toEqual({ ok: false });
    const right = mschapv2.generateNtResponse(base.authenticatorChallenge, base.peerChallenge, 'alice', 'secret');
    expect(await v.verify({ ...base, ntResponse: right })).toMatchObject({ ok: true });
  });

  it('a configured failure message is used; a plain object works as the users table', async () => {
    const w = new LocalVerifier({ carol: 'pw' }, { failureMessage: 'Go away' });
    expect(await w.verify({ protocol: 'pap', user: 'carol', password: 'pw' })).toEqual({ ok: true });
    expect(await w.verify({ protocol: 'pap', user: 'carol', password: 'no' })).toEqual({ ok: false, message: 'Go away' });
  });
});
