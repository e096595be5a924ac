import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hmac } from '../../../src/protocol/hmac.js';

describe('hmac (RFC 2104 from two hashes)', () => {
  it('equals node:crypto createHmac for MD5 and SHA-1, any key length (incl. > 64 octets) and split input', () => {
    fc.assert(
      fc.property(fc.constantFrom('md5' as const, 'sha1' as const), fc.uint8Array({ maxLength: 100 }), fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 4 }), (alg, key, parts) => {
        const want = createHmac(alg, key);
        for (const p of parts) want.update(p);
        expect(hmac(alg, key, ...parts).toString('hex')).toBe(want.digest('hex'));
      }),
      { numRuns: 2000 },
    );
  });

  it('RFC 2202 test case 2 (HMAC-MD5, key "Jefe")', () => {
    expect(hmac('md5', Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?')).toString('hex')).toBe('750c783e6ab0b503eaa86e310a5db738');
  });
});
