import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  challengeResponse,
  CHALLENGE_RESPONSE_MESSAGE_TYPE,
  DEFAULT_CHALLENGE_OCTETS,
  newChallenge,
  verifyChallengeResponse,
} from '../../../src/protocol/auth.js';
import { EncodeError, MalformedAvpError } from '../../../src/protocol/errors.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const SECRET = Buffer.from('sesame');
const CHALLENGE = hex('a0a1a2a3a4a5a6a7a8a9aaabacadaeaf');

/**
 * Vectors derived independently with python3 from RFC 2661 §4.4.3 + RFC 1994 §4.1 (Identifier ‖ secret ‖ challenge):
 *     hashlib.md5(bytes([message_type]) + b'sesame' + bytes(range(0xa0, 0xb0))).hexdigest()
 *     hashlib.md5(bytes([2]) + b'x' + b'\x00').hexdigest()
 */
describe('L2TPv2 Challenge Response (RFC 2661 §4.4.3, §5.1.1)', () => {
  it('SCCRP response uses Identifier 2', () => {
    expect(challengeResponse(CHALLENGE_RESPONSE_MESSAGE_TYPE.SCCRP, SECRET, CHALLENGE).toString('hex')).toBe(
      '2d768a9d636e7a576896d9308d35f153',
    );
  });
  it('SCCCN response uses Identifier 3', () => {
    expect(challengeResponse(CHALLENGE_RESPONSE_MESSAGE_TYPE.SCCCN, SECRET, CHALLENGE).toString('hex')).toBe(
      '93cc3eedf9d4016a76d37a542ecfb2b7',
    );
  });
  it('a one-octet challenge is allowed', () => {
    expect(challengeResponse(2, Buffer.from('x'), hex('00')).toString('hex')).toBe('bea9f9d2ab6b793f96685c33585ac99a');
  });

  it('verifies a right response and refuses wrong ones', () => {
    const response = hex('2d768a9d636e7a576896d9308d35f153');
    const ok = { messageType: 2, secret: SECRET, challenge: CHALLENGE, response };
    expect(verifyChallengeResponse(ok)).toBe(true);
    expect(verifyChallengeResponse({ ...ok, messageType: 3 })).toBe(false);
    expect(verifyChallengeResponse({ ...ok, secret: Buffer.from('sesamf') })).toBe(false);
    expect(verifyChallengeResponse({ ...ok, response: response.subarray(0, 15) })).toBe(false);
    expect(verifyChallengeResponse({ ...ok, response: Buffer.concat([response, hex('00')]) })).toBe(false);
    expect(verifyChallengeResponse({ ...ok, response: hex('') })).toBe(false);
  });

  it('any single bit flip of the response is refused', () => {
    const response = challengeResponse(3, SECRET, CHALLENGE);
    for (let bit = 0; bit < response.length * 8; bit++) {
      const bad = Buffer.from(response);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(verifyChallengeResponse({ messageType: 3, secret: SECRET, challenge: CHALLENGE, response: bad })).toBe(false);
    }
  });

  it('refuses bad inputs with typed errors', () => {
    expect(() => challengeResponse(256, SECRET, CHALLENGE)).toThrow(EncodeError);
    expect(() => challengeResponse(2.5, SECRET, CHALLENGE)).toThrow(EncodeError);
    expect(() => challengeResponse(2, hex(''), CHALLENGE)).toThrow(EncodeError);
    expect(() => challengeResponse(2, SECRET, hex(''))).toThrow(MalformedAvpError);
  });

  it('property: verify(challengeResponse(x)) and only the right message type', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        fc.uint8Array({ minLength: 1, maxLength: 64 }),
        (mt, secret, challenge) => {
          const response = challengeResponse(mt, secret, challenge);
          expect(response.length).toBe(16);
          expect(verifyChallengeResponse({ messageType: mt, secret, challenge, response })).toBe(true);
          expect(verifyChallengeResponse({ messageType: (mt + 1) % 256, secret, challenge, response })).toBe(false);
        },
      ),
    );
  });
});

describe('newChallenge', () => {
  it('is 16 random octets by default', () => {
    const a = newChallenge();
    const b = newChallenge();
    expect(a.length).toBe(DEFAULT_CHALLENGE_OCTETS);
    expect(a.equals(b)).toBe(false);
  });
  it('accepts any non-zero length up to the AVP limit', () => {
    expect(newChallenge(1).length).toBe(1);
    expect(newChallenge(1017).length).toBe(1017);
    for (const bad of [0, -1, 1.5, 1018, Number.NaN]) expect(() => newChallenge(bad)).toThrow(EncodeError);
  });
});
