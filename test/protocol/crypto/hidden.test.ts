import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  deriveV3HidingKey,
  hideAvpValue,
  HIDING_BLOCK_OCTETS,
  MAX_AVP_VALUE_OCTETS,
  MAX_HIDDEN_VALUE_OCTETS,
  randomPadding,
  unhideAvpValue,
} from '../../../src/protocol/hidden.js';
import { EncodeError, HiddenAvpError } from '../../../src/protocol/errors.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
const SECRET = Buffer.from('sesame');
const RV = hex('101112131415161718191a1b1c1d1e1f');

/**
 * Golden vectors derived independently of this code, with a one-off python3 script written from the RFC 2661 §4.3
 * text (hashlib.md5):
 *     sub = struct.pack('!H', len(value)) + value + padding; prev = None
 *     for each 16-octet chunk p: b = md5(struct.pack('!H', attr) + secret + rv) if prev is None else md5(secret + prev)
 *                                c = p xor b (only the octets present); prev = c      # chain over CIPHERTEXT
 * secret = b'sesame', rv = bytes(range(0x10, 0x20)).
 */
const GOLDEN: ReadonlyArray<{ name: string; attr: number; value: string; padding: string; hidden: string }> = [
  { name: 'empty value (subformat 2)', attr: 30, value: '', padding: '', hidden: '8964' },
  { name: '1-octet value, no padding (subformat 3)', attr: 13, value: '42', padding: '', hidden: 'c47908' },
  {
    name: '1-octet value + 13 padding (subformat 16)',
    attr: 13,
    value: '42',
    padding: 'aa'.repeat(13),
    hidden: 'c4790868229fd18c7e725228335cde5f',
  },
  {
    name: '14-octet value (subformat exactly one block)',
    attr: 11,
    value: Buffer.from('0123456789abcd').toString('hex'),
    padding: '',
    hidden: '6b9d16bd7ceb8d0cad55e2ded227f92c',
  },
  {
    name: '15-octet value (subformat 17: second block of 1 octet)',
    attr: 30,
    value: Buffer.from('0123456789abcde').toString('hex'),
    padding: '',
    hidden: '896b2ba835841709468425266163dbb94f',
  },
  {
    name: '40-octet value (three blocks, last partial)',
    attr: 32,
    value: Buffer.from(Array.from({ length: 40 }, (_, i) => i)).toString('hex'),
    padding: '',
    hidden:
      'fa0fa54c8dc2117d071289b1751505c353e05e35f0c43f90a96b895edf3badf52b084fdc209165158018',
  },
  {
    name: '45-octet value + 5 padding (four blocks)',
    attr: 31,
    value: '41'.repeat(45),
    padding: '0102030405',
    hidden:
      'b61613d1a1083c51326678e6f0a3c3719eb2073e6d80ca614e8680cf8c60522daa36df71b116ed22df601e691a5423d54da44aed',
  },
];

describe('hideAvpValue / unhideAvpValue golden vectors (RFC 2661 §4.3)', () => {
  for (const g of GOLDEN) {
    it(`hides: ${g.name}`, () => {
      const hidden = hideAvpValue({
        attributeType: g.attr,
        secret: SECRET,
        randomVector: RV,
        value: hex(g.value),
        padding: hex(g.padding),
      });
      expect(hidden.toString('hex')).toBe(g.hidden);
    });
    it(`unhides: ${g.name}`, () => {
      const value = unhideAvpValue({ attributeType: g.attr, secret: SECRET, randomVector: RV, ciphertext: hex(g.hidden) });
      expect(value.toString('hex')).toBe(g.value);
    });
  }

  it('chains over the previous ciphertext block, not the plaintext', () => {
    // Same python script, but with `prev = p` (plaintext chaining): agrees on block 1 only.
    const plaintextChained =
      'fa0fa54c8dc2117d071289b1751505c34bf943f3a2aa78fb9a7d52c9aac410924fe7258c4b7a966bd289';
    const ours = hideAvpValue({
      attributeType: 32,
      secret: SECRET,
      randomVector: RV,
      value: Buffer.from(Array.from({ length: 40 }, (_, i) => i)),
      padding: Buffer.alloc(0),
    }).toString('hex');
    expect(ours.slice(0, 32)).toBe(plaintextChained.slice(0, 32));
    expect(ours.slice(32)).not.toBe(plaintextChained.slice(32));
  });

  it('keys the first block with the attribute type', () => {
    const a = hideAvpValue({ attributeType: 13, secret: SECRET, randomVector: RV, value: hex('42'), padding: hex('') });
    const b = hideAvpValue({ attributeType: 14, secret: SECRET, randomVector: RV, value: hex('42'), padding: hex('') });
    expect(a.equals(b)).toBe(false);
  });
});

describe('RFC 3931 §5.3 hiding key', () => {
  // python3: hmac.new(b'sesame', b'\x01', hashlib.md5).hexdigest(); same with b''.
  it('is HMAC-MD5(secret, 0x01)', () => {
    expect(deriveV3HidingKey(SECRET).toString('hex')).toBe('a69f0bd446c6e1d18d7d0d6b2bf976eb');
    expect(deriveV3HidingKey(new Uint8Array(0)).toString('hex')).toBe('b41153dc48510aeee089ee50d9574434');
  });
  it('round-trips with the derived key', () => {
    const key = deriveV3HidingKey(SECRET);
    const hidden = hideAvpValue({ attributeType: 7, secret: key, randomVector: RV, value: Buffer.from('lcce-host') });
    expect(unhideAvpValue({ attributeType: 7, secret: key, randomVector: RV, ciphertext: hidden }).toString()).toBe(
      'lcce-host',
    );
  });
});

describe('random padding', () => {
  it('rounds the subformat to whole blocks, plus 0..2 extra blocks', () => {
    for (let len = 0; len < 100; len++) {
      const sub = 2 + len + randomPadding(len).length;
      expect(sub % HIDING_BLOCK_OCTETS).toBe(0);
      expect(sub - (2 + len)).toBeLessThan(HIDING_BLOCK_OCTETS * 3);
    }
  });
  it('never pushes the AVP past its 10-bit length', () => {
    for (const len of [MAX_HIDDEN_VALUE_OCTETS, MAX_HIDDEN_VALUE_OCTETS - 1, 1000]) {
      expect(2 + len + randomPadding(len).length).toBeLessThanOrEqual(MAX_AVP_VALUE_OCTETS);
    }
  });
  it('is used when padding is omitted, and hides the exact length', () => {
    const hidden = hideAvpValue({ attributeType: 30, secret: SECRET, randomVector: RV, value: Buffer.from('bob') });
    expect(hidden.length % HIDING_BLOCK_OCTETS).toBe(0);
    expect(unhideAvpValue({ attributeType: 30, secret: SECRET, randomVector: RV, ciphertext: hidden }).toString()).toBe(
      'bob',
    );
  });
});

describe('typed errors', () => {
  const base = { attributeType: 30, secret: SECRET, randomVector: RV };
  it('unhide: empty or 1-octet ciphertext', () => {
    for (const c of [hex(''), hex('89')]) {
      expect(() => unhideAvpValue({ ...base, ciphertext: c })).toThrow(HiddenAvpError);
    }
  });
  it('unhide: Original Length beyond the data carries field, offset, vendor and type', () => {
    // '8964' decrypts to Original Length 0; flipping a bit of the first octet makes it 256 with nothing behind it.
    try {
      unhideAvpValue({ ...base, ciphertext: hex('8864'), field: 'avp[3].value', offset: 42, vendorId: 9 });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(HiddenAvpError);
      const err = e as HiddenAvpError;
      expect([err.field, err.offset, err.vendorId, err.attributeType]).toEqual(['avp[3].value', 42, 9, 30]);
    }
  });
  it('unhide: no secret', () => {
    expect(() => unhideAvpValue({ ...base, secret: hex(''), ciphertext: hex('8964') })).toThrow(HiddenAvpError);
  });
  it('unhide: attribute type out of range', () => {
    expect(() => unhideAvpValue({ ...base, attributeType: 0x10000, ciphertext: hex('8964') })).toThrow(HiddenAvpError);
  });
  it('hide: no secret, empty RV, bad type, too long', () => {
    const v = Buffer.from('x');
    expect(() => hideAvpValue({ ...base, secret: hex(''), value: v })).toThrow(EncodeError);
    expect(() => hideAvpValue({ ...base, randomVector: hex(''), value: v })).toThrow(EncodeError);
    expect(() => hideAvpValue({ ...base, attributeType: -1, value: v })).toThrow(EncodeError);
    expect(() => hideAvpValue({ ...base, value: Buffer.alloc(MAX_HIDDEN_VALUE_OCTETS + 1) })).toThrow(EncodeError);
    expect(() =>
      hideAvpValue({ ...base, value: Buffer.alloc(MAX_HIDDEN_VALUE_OCTETS), padding: Buffer.alloc(1) }),
    ).toThrow(EncodeError);
  });
  it('hide: the largest value fits exactly', () => {
    const v = Buffer.alloc(MAX_HIDDEN_VALUE_OCTETS, 7);
    const hidden = hideAvpValue({ ...base, value: v });
    expect(hidden.length).toBe(MAX_AVP_VALUE_OCTETS);
    expect(unhideAvpValue({ ...base, ciphertext: hidden }).equals(v)).toBe(true);
  });
});

describe('properties', () => {
  const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
  const attr = fc.integer({ min: 0, max: 0xffff });

  it('unhide(hide(x)) == x for any secret, RV, value and padding', () => {
    fc.assert(
      fc.property(attr, bytes(1, 64), bytes(1, 40), bytes(0, 200), bytes(0, 64), (a, secret, rv, value, padding) => {
        const ciphertext = hideAvpValue({ attributeType: a, secret, randomVector: rv, value, padding });
        expect(ciphertext.length).toBe(2 + value.length + padding.length);
        const back = unhideAvpValue({ attributeType: a, secret, randomVector: rv, ciphertext });
        expect(Buffer.from(back).equals(Buffer.from(value))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips with the default random padding', () => {
    fc.assert(
      fc.property(attr, bytes(1, 32), bytes(1, 32), bytes(0, 300), (a, secret, rv, value) => {
        const ciphertext = hideAvpValue({ attributeType: a, secret, randomVector: rv, value });
        const back = unhideAvpValue({ attributeType: a, secret, randomVector: rv, ciphertext });
        expect(Buffer.from(back).equals(Buffer.from(value))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a wrong secret never yields the original value; it fails only with HiddenAvpError', () => {
    fc.assert(
      fc.property(attr, bytes(1, 32), bytes(1, 32), bytes(1, 32), bytes(1, 100), bytes(0, 32), (a, s1, s2, rv, value, padding) => {
        fc.pre(!Buffer.from(s1).equals(Buffer.from(s2)));
        const ciphertext = hideAvpValue({ attributeType: a, secret: s1, randomVector: rv, value, padding });
        try {
          const got = unhideAvpValue({ attributeType: a, secret: s2, randomVector: rv, ciphertext });
          expect(Buffer.from(got).equals(Buffer.from(value))).toBe(false);
        } catch (e) {
          expect(e).toBeInstanceOf(HiddenAvpError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('random ciphertext never throws anything but HiddenAvpError', () => {
    fc.assert(
      fc.property(attr, bytes(0, 32), bytes(0, 32), bytes(0, 120), (a, secret, rv, ciphertext) => {
        try {
          const got = unhideAvpValue({ attributeType: a, secret, randomVector: rv, ciphertext });
          expect(got.length).toBeLessThanOrEqual(Math.max(0, ciphertext.length - 2));
        } catch (e) {
          expect(e).toBeInstanceOf(HiddenAvpError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
