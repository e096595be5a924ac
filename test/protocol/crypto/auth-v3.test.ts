import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  computeV3MessageDigest,
  deriveV3AuthKey,
  v3DigestAlgorithmOf,
  v3DigestNonces,
  verifyV3MessageDigest,
  withV3MessageDigest,
  type V3MessageDigestInput,
} from '../../../src/protocol/auth.js';
import { EncodeError, MalformedAvpError } from '../../../src/protocol/errors.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const SECRET = Buffer.from('sesame');
const KEY = deriveV3AuthKey(SECRET);
/** Nonce advertised by LCCE 1 in its SCCRQ and by LCCE 2 in its SCCRP (20 octets: nonces need not be 16). */
const NONCE_1 = hex('303132333435363738393a3b3c3d3e3f');
const NONCE_2 = hex('505152535455565758595a5b5c5d5e5f60616263');
/** Control header (12 octets) + Message Type AVP (8) + Message Digest AVP header (6) + Digest Type (1). */
const DIGEST_OFFSET = 27;

/**
 * Messages and digests derived independently with a one-off python3 script (struct, hmac, hashlib) written from
 * RFC 3931 §3.2.1 (control header: 0xC803, Length, Control Connection ID, Ns, Nr) and §5.4.1:
 *     key = hmac.new(b'sesame', b'\x02', hashlib.md5).digest()
 *     SCCRQ:  hmac.new(key, msg, md5)                              (digest octets zero in msg)
 *     others: hmac.new(key, sender_nonce + receiver_nonce + msg, md5|sha1)
 * The digest value octets in the hex below are the zeros the digest was computed over.
 */
const SCCRQ = hex(
  'c803004f0000000000000000800800000000000180170000003b0000000000000000000000000000000000' +
    '801600000049303132333435363738393a3b3c3d3e3f800e000000076c6363652d6f6e65',
);
const SCCRP = hex(
  'c803005daabbccdd00000001800800000000000280170000003b0000000000000000000000000000000000' +
    '801a00000049505152535455565758595a5b5c5d5e5f60616263800e000000076c6363652d74776f800a0000003d01020304',
);
const SCCCN = hex(
  'c803002f11223344000100018008000000000003801b0000003b010000000000000000000000000000000000000000',
);
/** A Hello from LCCE 2 with two Message Digest AVPs: MD5 (value at 27) then SHA-1 (value at 50). */
const HELLO = hex(
  'c80300461122334400050007800800000000000680170000003b0000000000000000000000000000000000' +
    '801b0000003b010000000000000000000000000000000000000000',
);

describe('RFC 3931 §5.4.1 key derivation', () => {
  it('shared_key = HMAC_MD5(secret, 0x02)', () => {
    expect(KEY.toString('hex')).toBe('552d92e4a7a06609c4250b8d34613d98');
    expect(deriveV3AuthKey(new Uint8Array(0)).toString('hex')).toBe('7b6085fbf45933670abcb07a27fcea5e');
  });
});

describe('Message Digest golden vectors', () => {
  it('SCCRQ: no nonce prepended (its own nonce is inside the message)', () => {
    const digest = computeV3MessageDigest({
      algorithm: 'hmac-md5',
      key: KEY,
      message: SCCRQ,
      digestOffset: DIGEST_OFFSET,
      nonces: { kind: 'sccrq' },
    });
    expect(digest.toString('hex')).toBe('0bfb69ac6602b65b4c24c69731a6b802');
  });

  it('SCCRP sent by LCCE 2: its own nonce first, then the SCCRQ nonce', () => {
    const nonces = v3DigestNonces({ messageType: 2, direction: 'send', localNonce: NONCE_2, remoteNonce: NONCE_1 });
    const digest = computeV3MessageDigest({ algorithm: 'hmac-md5', key: KEY, message: SCCRP, digestOffset: DIGEST_OFFSET, nonces });
    expect(digest.toString('hex')).toBe('54cdabc5ad6850250dd0d92facadd084');
  });

  it('SCCCN sent by LCCE 1 with HMAC-SHA-1 (still keyed with the 16-octet MD5-derived key)', () => {
    const nonces = v3DigestNonces({ messageType: 3, direction: 'send', localNonce: NONCE_1, remoteNonce: NONCE_2 });
    const digest = computeV3MessageDigest({ algorithm: 'hmac-sha1', key: KEY, message: SCCCN, digestOffset: DIGEST_OFFSET, nonces });
    expect(digest.toString('hex')).toBe('9361e3f534318fd68a2b8a217b9cbedc6ebf516b');
  });

  it('two Message Digest AVPs: both values zeroed for each computation', () => {
    const nonces = { kind: 'exchanged', senderNonce: NONCE_2, receiverNonce: NONCE_1 } as const;
    const md5 = computeV3MessageDigest({
      algorithm: 'hmac-md5',
      key: KEY,
      message: HELLO,
      digestOffset: 27,
      nonces,
      otherDigests: [{ offset: 50, length: 20 }],
    });
    const sha1 = computeV3MessageDigest({
      algorithm: 'hmac-sha1',
      key: KEY,
      message: HELLO,
      digestOffset: 50,
      nonces,
      otherDigests: [{ offset: 27, length: 16 }],
    });
    expect(md5.toString('hex')).toBe('490a718771754d5e92cbe26a5e86cefb');
    expect(sha1.toString('hex')).toBe('63e89a90fcee06f2f157bc9d40533df6a0de1210');
  });

  it('integrity-only mode (§4.3): empty secret and empty nonces', () => {
    const digest = computeV3MessageDigest({
      algorithm: 'hmac-md5',
      key: deriveV3AuthKey(new Uint8Array(0)),
      message: HELLO,
      digestOffset: 27,
      nonces: { kind: 'exchanged', senderNonce: new Uint8Array(0), receiverNonce: new Uint8Array(0) },
      otherDigests: [{ offset: 50, length: 20 }],
    });
    expect(digest.toString('hex')).toBe('33d4570a2f584c91890217137d89334b');
  });
});

describe('sign and verify', () => {
  const sccrpFromLcce2 = (): V3MessageDigestInput => ({
    algorithm: 'hmac-md5',
    key: KEY,
    message: SCCRP,
    digestOffset: DIGEST_OFFSET,
    nonces: v3DigestNonces({ messageType: 2, direction: 'send', localNonce: NONCE_2, remoteNonce: NONCE_1 }),
  });

  it('withV3MessageDigest writes the digest in a copy; the receiver verifies with the nonces reversed', () => {
    const signed = withV3MessageDigest(sccrpFromLcce2());
    expect(signed.subarray(DIGEST_OFFSET, DIGEST_OFFSET + 16).toString('hex')).toBe('54cdabc5ad6850250dd0d92facadd084');
    expect(SCCRP.subarray(DIGEST_OFFSET, DIGEST_OFFSET + 16).every((b) => b === 0)).toBe(true);
    // LCCE 1 receives: its local nonce is NONCE_1, the remote one NONCE_2.
    const nonces = v3DigestNonces({ messageType: 2, direction: 'receive', localNonce: NONCE_1, remoteNonce: NONCE_2 });
    expect(verifyV3MessageDigest({ algorithm: 'hmac-md5', key: KEY, message: signed, digestOffset: DIGEST_OFFSET, nonces })).toBe(true);
    // ... and not with the nonces in the receiver's own order, the classic mistake.
    const wrong = { kind: 'exchanged', senderNonce: NONCE_1, receiverNonce: NONCE_2 } as const;
    expect(verifyV3MessageDigest({ algorithm: 'hmac-md5', key: KEY, message: signed, digestOffset: DIGEST_OFFSET, nonces: wrong })).toBe(false);
  });

  it('signing ignores whatever the digest octets held', () => {
    const dirty = Buffer.from(SCCRP);
    dirty.fill(0xee, DIGEST_OFFSET, DIGEST_OFFSET + 16);
    expect(computeV3MessageDigest({ ...sccrpFromLcce2(), message: dirty }).toString('hex')).toBe(
      '54cdabc5ad6850250dd0d92facadd084',
    );
  });

  it('flipping any single bit of the signed message makes verification fail', () => {
    const input = sccrpFromLcce2();
    const signed = withV3MessageDigest(input);
    const check = { ...input, nonces: { kind: 'exchanged', senderNonce: NONCE_2, receiverNonce: NONCE_1 } as const };
    expect(verifyV3MessageDigest({ ...check, message: signed })).toBe(true);
    for (let bit = 0; bit < signed.length * 8; bit++) {
      const tampered = Buffer.from(signed);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      expect(verifyV3MessageDigest({ ...check, message: tampered })).toBe(false);
    }
  });

  it('a wrong key, nonce or algorithm fails', () => {
    const input = sccrpFromLcce2();
    const signed = withV3MessageDigest(input);
    const ok = { ...input, message: signed };
    expect(verifyV3MessageDigest({ ...ok, key: deriveV3AuthKey(Buffer.from('sesamf')) })).toBe(false);
    expect(verifyV3MessageDigest({ ...ok, nonces: { kind: 'sccrq' } })).toBe(false);
    // The Digest Type octet says MD5: asking for SHA-1 there is a mismatch, not an exception.
    expect(verifyV3MessageDigest({ ...ok, algorithm: 'hmac-sha1' })).toBe(false);
  });

  it('property: sign then verify, and any bit flip fails, for random messages, keys and nonces', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('hmac-md5' as const, 'hmac-sha1' as const),
        fc.uint8Array({ minLength: 0, maxLength: 32 }),
        fc.uint8Array({ minLength: 0, maxLength: 24 }),
        fc.uint8Array({ minLength: 0, maxLength: 24 }),
        fc.uint8Array({ minLength: 0, maxLength: 60 }),
        fc.uint8Array({ minLength: 0, maxLength: 60 }),
        fc.nat(),
        (algorithm, secret, n1, n2, before, after, flip) => {
          const digestLength = algorithm === 'hmac-md5' ? 16 : 20;
          const message = Buffer.concat([
            before,
            Uint8Array.of(algorithm === 'hmac-md5' ? 0 : 1),
            Buffer.alloc(digestLength),
            after,
          ]);
          const input: V3MessageDigestInput = {
            algorithm,
            key: deriveV3AuthKey(secret),
            message,
            digestOffset: before.length + 1,
            nonces: { kind: 'exchanged', senderNonce: n1, receiverNonce: n2 },
          };
          const signed = withV3MessageDigest(input);
          expect(verifyV3MessageDigest({ ...input, message: signed })).toBe(true);
          const tampered = Buffer.from(signed);
          const bit = flip % (tampered.length * 8);
          tampered[bit >> 3]! ^= 1 << (bit & 7);
          expect(verifyV3MessageDigest({ ...input, message: tampered })).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('digest type and errors', () => {
  it('maps Digest Type octets', () => {
    expect(v3DigestAlgorithmOf(0)).toBe('hmac-md5');
    expect(v3DigestAlgorithmOf(1)).toBe('hmac-sha1');
    expect(v3DigestAlgorithmOf(2)).toBeUndefined();
  });

  it('SCCRQ never takes nonces, whatever the direction', () => {
    expect(v3DigestNonces({ messageType: 1, direction: 'receive', localNonce: NONCE_1, remoteNonce: NONCE_2 })).toEqual({
      kind: 'sccrq',
    });
  });

  it('compute: digest range outside the message or Digest Type mismatch is an EncodeError', () => {
    const base = { key: KEY, nonces: { kind: 'sccrq' } as const };
    expect(() => computeV3MessageDigest({ ...base, algorithm: 'hmac-md5', message: SCCRQ, digestOffset: SCCRQ.length - 15 })).toThrow(
      EncodeError,
    );
    expect(() => computeV3MessageDigest({ ...base, algorithm: 'hmac-md5', message: SCCRQ, digestOffset: 0 })).toThrow(EncodeError);
    expect(() => computeV3MessageDigest({ ...base, algorithm: 'hmac-sha1', message: SCCRQ, digestOffset: DIGEST_OFFSET })).toThrow(
      EncodeError,
    );
    expect(() =>
      computeV3MessageDigest({
        ...base,
        algorithm: 'hmac-md5',
        message: SCCRQ,
        digestOffset: DIGEST_OFFSET,
        otherDigests: [{ offset: SCCRQ.length, length: 1 }],
      }),
    ).toThrow(EncodeError);
  });

  it('verify: a digest range outside the message is a MalformedAvpError for AVP 59', () => {
    try {
      verifyV3MessageDigest({ algorithm: 'hmac-md5', key: KEY, message: SCCRQ.subarray(0, 30), digestOffset: DIGEST_OFFSET, nonces: { kind: 'sccrq' } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MalformedAvpError);
      expect((e as MalformedAvpError).attributeType).toBe(59);
    }
  });
});
