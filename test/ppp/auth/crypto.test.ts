import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { desEncryptBlock, desKeyFrom56Bits } from '../../../src/ppp/auth/des.js';
import { PppAuthError } from '../../../src/ppp/auth/errors.js';
import { md4 } from '../../../src/ppp/auth/md4.js';
import {
  challengeHash,
  challengeResponse,
  checkAuthenticatorResponse,
  generateAuthenticatorResponse,
  generateNtResponse,
  hashNtPasswordHash,
  ntPasswordHash,
  parseAuthenticatorResponse,
} from '../../../src/ppp/auth/mschapv2.js';
import { legacyOracle, type OracleCase } from './openssl-legacy.js';

/** The cross-check must run, not skip: a Node without the legacy provider fails here, loudly. */
function requireOracle(): NonNullable<typeof legacyOracle> {
  if (!legacyOracle) throw new Error('OpenSSL legacy provider unavailable (node --openssl-legacy-provider): the MD4/DES cross-check cannot run');
  return legacyOracle;
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** RFC 1320 Appendix A.5, "Test suite". */
const RFC1320_SUITE: ReadonlyArray<[string, string]> = [
  ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
  ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
  ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
  ['message digest', 'd9130a8164549fe818874806e1c7014b'],
  ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
  ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
  ['1234567890'.repeat(8), 'e33b4ddc9c38f2199c3e7b164fcc0536'],
];

/** Published DES known answers: [key, plaintext, ciphertext, source]. */
const DES_VECTORS: ReadonlyArray<[string, string, string, string]> = [
  // FIPS PUB 81 (DES Modes of Operation), Appendix B, Table B1: ECB encryption of "Now is the time for all ".
  ['0123456789abcdef', '4e6f772069732074', '3fa40e8a984d4815', 'FIPS 81 Table B1 block 1'],
  ['0123456789abcdef', '68652074696d6520', '6a271787ab8883f9', 'FIPS 81 Table B1 block 2'],
  ['0123456789abcdef', '666f7220616c6c20', '893d51ec4b563b53', 'FIPS 81 Table B1 block 3'],
  // The worked example of J. Orlin Grabbe, "The DES Algorithm Illustrated" (also in Stallings).
  ['133457799bbcdff1', '0123456789abcdef', '85e813540f0ab405', 'Grabbe worked example'],
  // NIST SP 800-20 (after NBS SP 500-20), Table A.1 variable plaintext known answer test, key 01..01.
  ['0101010101010101', '8000000000000000', '95f8a5e5dd31d900', 'SP 800-20 Table A.1 round 1'],
  ['0101010101010101', '4000000000000000', 'dd7f121ca5015619', 'SP 800-20 Table A.1 round 2'],
  ['0101010101010101', '2000000000000000', '2e8653104f3834ea', 'SP 800-20 Table A.1 round 3'],
  ['0101010101010101', '1000000000000000', '4bd388ff6cd81d4f', 'SP 800-20 Table A.1 round 4'],
  ['0101010101010101', '0000000000000001', '166b40b44aba4bd6', 'SP 800-20 Table A.1 round 64'],
  // NIST SP 800-20 Table A.2 variable key known answer test, plaintext 0.
  ['8001010101010101', '0000000000000000', '95a8d72813daa94d', 'SP 800-20 Table A.2 round 1'],
  ['4001010101010101', '0000000000000000', '0eec1487dd8c26d5', 'SP 800-20 Table A.2 round 2'],
];

/** RFC 2759 §9.2 "Hash Example". */
const RFC2759 = {
  user: 'User',
  password: 'clientPass',
  authenticatorChallenge: hex('5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28'),
  peerChallenge: hex('21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E'),
  challenge: 'D02E4386BCE91226',
  passwordHash: '44EBBA8D5312B8D611474411F56989AE',
  ntResponse: '82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF',
  passwordHashHash: '41C00C584BD2D91C4017A2A12FA59F3F',
  authenticatorResponse: 'S=407A5589115FD0D6209F510FE9C04566932CDA56',
};

describe('MD4 (RFC 1320)', () => {
  for (const [input, digest] of RFC1320_SUITE) {
    it(`RFC 1320 A.5: MD4("${input.length > 20 ? `${input.slice(0, 20)}…` : input}")`, () => {
      expect(md4(Buffer.from(input, 'latin1')).toString('hex')).toBe(digest);
    });
  }

  it('hashes the concatenation of its arguments', () => {
    expect(md4(Buffer.from('message '), Buffer.from(''), Buffer.from('digest')).toString('hex')).toBe('d9130a8164549fe818874806e1c7014b');
  });

  it('equals OpenSSL (legacy provider) on random inputs around the padding boundaries', () => {
    const inputs = fc.sample(
      fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 50, max: 140 }).map((n) => new Uint8Array(n).fill(0x61))),
      { numRuns: 400 },
    );
    const cases: OracleCase[] = inputs.map((d) => ({ op: 'md4', data: Buffer.from(d).toString('hex') }));
    const want = requireOracle()(cases);
    inputs.forEach((d, i) => expect(md4(d).toString('hex'), Buffer.from(d).toString('hex')).toBe(want[i]));
  });
});

describe('DES single-block encryption (FIPS 46-3)', () => {
  for (const [key, plain, cipher, source] of DES_VECTORS) {
    it(`${source}: key ${key}, plaintext ${plain}`, () => {
      expect(desEncryptBlock(hex(key), hex(plain)).toString('hex')).toBe(cipher);
    });
  }

  it('ignores the parity bit of each key octet', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.integer({ min: 0, max: 255 }), (key, block, flips) => {
        const flipped = Uint8Array.from(key, (b, i) => b ^ ((flips >> i) & 1));
        expect(desEncryptBlock(flipped, block)).toEqual(desEncryptBlock(key, block));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses keys and blocks of the wrong size with PppAuthError', () => {
    expect(() => desEncryptBlock(new Uint8Array(7), new Uint8Array(8))).toThrow(PppAuthError);
    expect(() => desEncryptBlock(new Uint8Array(8), new Uint8Array(9))).toThrow(PppAuthError);
    expect(() => desKeyFrom56Bits(new Uint8Array(8))).toThrow(PppAuthError);
  });

  it('equals OpenSSL des-ecb (legacy provider) on random keys and blocks', () => {
    const pairs = fc.sample(fc.tuple(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ minLength: 8, maxLength: 8 })), { numRuns: 1000 });
    const cases: OracleCase[] = pairs.map(([k, b]) => ({ op: 'des', key: Buffer.from(k).toString('hex'), block: Buffer.from(b).toString('hex') }));
    const want = requireOracle()(cases);
    pairs.forEach(([k, b], i) => expect(desEncryptBlock(k, b).toString('hex'), cases[i]!.op).toBe(want[i]));
  });
});

describe('MS-CHAPv2 computations (RFC 2759 §8)', () => {
  const v = RFC2759;
  it('§9.2 intermediate values: ChallengeHash, NtPasswordHash, HashNtPasswordHash', () => {
    expect(challengeHash(v.peerChallenge, v.authenticatorChallenge, v.user).toString('hex').toUpperCase()).toBe(v.challenge);
    expect(ntPasswordHash(v.password).toString('hex').toUpperCase()).toBe(v.passwordHash);
    expect(hashNtPasswordHash(hex(v.passwordHash)).toString('hex').toUpperCase()).toBe(v.passwordHashHash);
    expect(challengeResponse(hex(v.challenge), hex(v.passwordHash)).toString('hex').toUpperCase()).toBe(v.ntResponse);
  });

  it('§9.2 GenerateNTResponse and GenerateAuthenticatorResponse', () => {
    const nt = generateNtResponse(v.authenticatorChallenge, v.peerChallenge, v.user, v.password);
    expect(nt.toString('hex').toUpperCase()).toBe(v.ntResponse);
    expect(generateAuthenticatorResponse(v.password, nt, v.peerChallenge, v.authenticatorChallenge, v.user)).toBe(v.authenticatorResponse);
  });

  it('accepts the NT password hash in place of the cleartext password', () => {
    const secret = { ntPasswordHash: hex(v.passwordHash) };
    const nt = generateNtResponse(v.authenticatorChallenge, v.peerChallenge, v.user, secret);
    expect(nt.toString('hex').toUpperCase()).toBe(v.ntResponse);
    expect(generateAuthenticatorResponse(secret, nt, v.peerChallenge, v.authenticatorChallenge, v.user)).toBe(v.authenticatorResponse);
  });

  it('§9.3 DES key generation: NtPasswordHash("MyPw") and the parity-corrected keys', () => {
    const hash = ntPasswordHash('MyPw');
    expect(hash.toString('hex').toUpperCase()).toBe('FC156AF7EDCD6C0EDDE3337D427F4EAC');
    expect(desKeyFrom56Bits(hash.subarray(0, 7)).toString('hex').toUpperCase()).toBe('FD0B5B5E7F6E34D9');
    expect(desKeyFrom56Bits(hash.subarray(7, 14)).toString('hex').toUpperCase()).toBe('0E6E796737EA08FE');
  });

  it('§4: a Windows NT domain before the user name is left out of ChallengeHash', () => {
    const nt = generateNtResponse(v.authenticatorChallenge, v.peerChallenge, 'BIGCO\\User', v.password);
    expect(nt.toString('hex').toUpperCase()).toBe(v.ntResponse);
  });

  it('§8.8 CheckAuthenticatorResponse: the right string passes; any other, or a malformed one, fails', () => {
    const nt = hex(v.ntResponse);
    const check = (s: string, password = v.password): boolean =>
      checkAuthenticatorResponse(password, nt, v.peerChallenge, v.authenticatorChallenge, v.user, s);
    expect(check(v.authenticatorResponse)).toBe(true);
    expect(check(v.authenticatorResponse.toLowerCase().replace('s=', 'S='))).toBe(true);
    expect(check(v.authenticatorResponse, 'clientpass')).toBe(false);
    expect(check(`${v.authenticatorResponse.slice(0, -1)}7`)).toBe(false);
    for (const bad of ['', 'S=', v.authenticatorResponse.slice(0, -1), `${v.authenticatorResponse}0`, ` ${v.authenticatorResponse}`, v.authenticatorResponse.replace('S=', 's=')]) {
      expect(check(bad), bad).toBe(false);
      expect(parseAuthenticatorResponse(bad)).toBeUndefined();
    }
  });

  it('refuses challenges and responses of the wrong size with PppAuthError', () => {
    expect(() => generateNtResponse(Buffer.alloc(15), v.peerChallenge, v.user, v.password)).toThrow(PppAuthError);
    expect(() => generateNtResponse(v.authenticatorChallenge, Buffer.alloc(17), v.user, v.password)).toThrow(PppAuthError);
    expect(() => generateNtResponse(v.authenticatorChallenge, v.peerChallenge, v.user, { ntPasswordHash: Buffer.alloc(15) })).toThrow(PppAuthError);
    expect(() => generateAuthenticatorResponse(v.password, Buffer.alloc(23), v.peerChallenge, v.authenticatorChallenge, v.user)).toThrow(PppAuthError);
  });

  it('GenerateNTResponse equals an OpenSSL (md4, des-ecb) composition on random inputs', () => {
    const inputs = fc.sample(
      fc.record({
        authenticatorChallenge: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        peerChallenge: fc.uint8Array({ minLength: 16, maxLength: 16 }),
        user: fc.oneof(fc.string({ maxLength: 30 }), fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 })).map(([d, u]) => `${d}\\${u}`)),
        password: fc.string({ unit: 'grapheme', maxLength: 30 }),
      }),
      { numRuns: 300 },
    );
    const cases: OracleCase[] = inputs.map((x) => ({
      op: 'ntResponse',
      authenticatorChallenge: Buffer.from(x.authenticatorChallenge).toString('hex'),
      peerChallenge: Buffer.from(x.peerChallenge).toString('hex'),
      user: x.user,
      password: x.password,
    }));
    const want = requireOracle()(cases);
    inputs.forEach((x, i) =>
      expect(generateNtResponse(x.authenticatorChallenge, x.peerChallenge, x.user, x.password).toString('hex'), JSON.stringify(cases[i])).toBe(want[i]),
    );
  });
});
