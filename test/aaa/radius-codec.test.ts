/**
 * The RADIUS codec against the RFC 2865 §7 example packets (secret "xyzzy5461", octet for octet),
 * against itself (fast-check round trips through every data type), and against hostile bytes.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ATTRIBUTES,
  decodePacket,
  encodePacket,
  getAttr,
  RadiusAuthenticatorError,
  RadiusCode,
  RadiusCodecError,
  saltDecrypt,
  saltEncrypt,
  verifyRequest,
  verifyResponse,
  type AttrSpec,
  type AttrValue,
  type Attribute,
} from '../../src/aaa/index.js';

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');
const SECRET = 'xyzzy5461';

// RFC 2865 §7.1: nemo / arctangent on port 3, and the Access-Accept telling it to telnet 192.168.1.3.
const REQ_7_1 = hex(`01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d
  93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8 01 10 05 06 00 00 00 03`);
const ACCEPT_7_1 = hex(`02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00
  0e 06 c0 a8 01 03`);
// §7.2: flopsy with CHAP; the Request Authenticator doubles as the CHAP challenge.
const REQ_7_2 = hex(`01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e 0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9
  75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75 04 06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00 02 07 06 00 00 00 01`);
const ACCEPT_7_2 = hex(`02 01 00 38 15 ef bc 7d ab 26 cf a3 dc 34 d9 c0 3c 86 01 a4 06 06 00 00 00 02 07 06 00 00 00 01
  08 06 ff ff ff fe 0a 06 00 00 00 02 0d 06 00 00 00 01 0c 06 00 00 05 dc`);
// §7.3: mopsy with a challenge-response card.
const REQ_7_3 = hex(`01 02 00 39 f3 a4 7a 1f 6a 6d 76 71 0b 94 7a b9 30 41 a0 39 01 07 6d 6f 70 73 79 02 12 33 65 75
  73 77 82 89 b5 70 88 5e 15 08 48 25 c5 04 06 c0 a8 01 10 05 06 00 00 00 07`);
const CHALLENGE_7_3 = hex(`0b 02 00 4e 36 f3 c8 76 4a e8 c7 11 57 40 3c 0c 71 ff 9c 45 12 30 43 68 61 6c 6c 65 6e 67 65 20
  33 32 37 36 39 34 33 30 2e 20 20 45 6e 74 65 72 20 72 65 73 70 6f 6e 73 65 20 61 74 20 70 72 6f 6d 70 74 2e
  18 0a 33 32 37 36 39 34 33 30`);
// As printed, this packet's State says length 0x10 but carries 8 octets (packet Length 67 agrees with 10):
// a typo in the RFC, which our framing check refuses. REQ2_7_3_FIXED has the State length corrected.
const REQ2_7_3 = hex(`01 03 00 43 b1 22 55 6d 42 8a 13 d0 d6 25 38 07 c4 57 ec f0 01 07 6d 6f 70 73 79 02 12 69 2c 1f
  20 5f c0 81 b9 19 b9 51 95 f5 61 a5 81 04 06 c0 a8 01 10 05 06 00 00 00 07 18 10 33 32 37 36 39 34 33 30`);
const REQ2_7_3_FIXED = Buffer.from(REQ2_7_3);
REQ2_7_3_FIXED[58] = 0x0a;

const auth = (p: Buffer) => p.subarray(4, 20);

describe('RFC 2865 §7 example packets', () => {
  it('§7.1: decodes the Access-Request and reveals the User-Password', () => {
    const p = decodePacket(REQ_7_1, { secret: SECRET });
    expect(p.code).toBe(RadiusCode.AccessRequest);
    expect(p.attributes).toEqual([
      ['User-Name', 'nemo'],
      ['User-Password', 'arctangent'],
      ['NAS-IP-Address', '192.168.1.16'],
      ['NAS-Port', 3],
    ]);
    // Without the secret the password stays hidden.
    expect(Buffer.isBuffer(getAttr(decodePacket(REQ_7_1).attributes, 'User-Password'))).toBe(true);
  });

  it('§7.1: encodes the same Access-Request octet for octet', () => {
    const { buffer } = encodePacket(
      { code: RadiusCode.AccessRequest, identifier: 0, attributes: decodePacket(REQ_7_1, { secret: SECRET }).attributes },
      { secret: SECRET, authenticator: auth(REQ_7_1), messageAuthenticator: false },
    );
    expect(buffer.toString('hex')).toBe(REQ_7_1.toString('hex'));
  });

  it('§7.1: the Access-Accept verifies and re-encodes identically', () => {
    expect(() => verifyResponse(ACCEPT_7_1, SECRET, auth(REQ_7_1))).not.toThrow();
    const p = decodePacket(ACCEPT_7_1);
    expect(p.attributes).toEqual([
      ['Service-Type', 1],
      ['Login-Service', 0],
      ['Login-IP-Host', '192.168.1.3'],
    ]);
    const { buffer } = encodePacket(
      { code: RadiusCode.AccessAccept, identifier: 0, attributes: [['Service-Type', 'Login-User'], ['Login-Service', 'Telnet'], ['Login-IP-Host', '192.168.1.3']] },
      { secret: SECRET, authenticator: auth(REQ_7_1), messageAuthenticator: false },
    );
    expect(buffer.toString('hex')).toBe(ACCEPT_7_1.toString('hex'));
  });

  it('§7.1: a wrong secret or another request authenticator fails the response check', () => {
    expect(() => verifyResponse(ACCEPT_7_1, 'xyzzy5462', auth(REQ_7_1))).toThrow(RadiusAuthenticatorError);
    expect(() => verifyResponse(ACCEPT_7_1, SECRET, auth(REQ_7_2))).toThrow(RadiusAuthenticatorError);
  });

  it('§7.2: the CHAP Access-Request and its Access-Accept', () => {
    const req = decodePacket(REQ_7_2, { secret: SECRET });
    expect(req.attributes.map(([n]) => n)).toEqual(['User-Name', 'CHAP-Password', 'NAS-IP-Address', 'NAS-Port', 'Service-Type', 'Framed-Protocol']);
    const chap = getAttr(req.attributes, 'CHAP-Password') as Buffer;
    expect(chap.length).toBe(17);
    expect(chap[0]).toBe(22);
    const again = encodePacket(
      {
        code: RadiusCode.AccessRequest,
        identifier: 1,
        attributes: [['User-Name', 'flopsy'], ['CHAP-Password', chap], ['NAS-IP-Address', '192.168.1.16'], ['NAS-Port', 20], ['Service-Type', 'Framed-User'], ['Framed-Protocol', 'PPP']],
      },
      { secret: SECRET, authenticator: auth(REQ_7_2), messageAuthenticator: false },
    );
    expect(again.buffer.toString('hex')).toBe(REQ_7_2.toString('hex'));
    expect(() => verifyResponse(ACCEPT_7_2, SECRET, auth(REQ_7_2))).not.toThrow();
    expect(decodePacket(ACCEPT_7_2).attributes).toEqual([
      ['Service-Type', 2],
      ['Framed-Protocol', 1],
      ['Framed-IP-Address', '255.255.255.254'],
      // The RFC's annotation says "None (0)", but its hex (which the authenticator covers) carries 2.
      ['Framed-Routing', 2],
      ['Framed-Compression', 1],
      ['Framed-MTU', 1500],
    ]);
  });

  it('§7.3: the challenge exchange, including State echoed in the second request', () => {
    expect(getAttr(decodePacket(REQ_7_3, { secret: SECRET }).attributes, 'User-Password')).toBe('challenge');
    expect(() => verifyResponse(CHALLENGE_7_3, SECRET, auth(REQ_7_3))).not.toThrow();
    const ch = decodePacket(CHALLENGE_7_3);
    expect(getAttr(ch.attributes, 'Reply-Message')).toBe('Challenge 32769430.  Enter response at prompt.');
    expect(getAttr(ch.attributes, 'State')).toEqual(Buffer.from('32769430'));
    expect(() => decodePacket(REQ2_7_3)).toThrow(/attribute length 16/);
    const req2 = decodePacket(REQ2_7_3_FIXED, { secret: SECRET });
    expect(getAttr(req2.attributes, 'User-Password')).toBe('99101462');
    expect(getAttr(req2.attributes, 'State')).toEqual(Buffer.from('32769430'));
  });
});

describe('authenticators and Message-Authenticator', () => {
  const attrs: Attribute[] = [['User-Name', 'bob'], ['Acct-Status-Type', 'Start'], ['Acct-Session-Id', 'abc']];

  it('an Accounting-Request carries MD5(packet with zero authenticator + secret) (RFC 2866 §3)', () => {
    const { buffer } = encodePacket({ code: RadiusCode.AccountingRequest, identifier: 9, attributes: attrs }, { secret: 's3', messageAuthenticator: false });
    const zeroed = Buffer.from(buffer);
    zeroed.fill(0, 4, 20);
    const expected = createHash('md5').update(zeroed).update('s3').digest();
    expect(auth(buffer)).toEqual(expected);
    expect(() => verifyRequest(buffer, 's3')).not.toThrow();
    expect(() => verifyRequest(buffer, 's4')).toThrow(RadiusAuthenticatorError);
  });

  it('flipping any octet of a signed request or reply is detected', () => {
    const req = encodePacket({ code: RadiusCode.CoaRequest, identifier: 1, attributes: [['User-Name', 'bob'], ['Session-Timeout', 60]] }, { secret: 'k' }).buffer;
    const reply = encodePacket({ code: RadiusCode.AccessAccept, identifier: 1, attributes: [['Framed-IP-Address', '198.18.1.9']] }, { secret: 'k', authenticator: Buffer.alloc(16, 7) }).buffer;
    for (let i = 0; i < req.length; i++) {
      const t = Buffer.from(req);
      t[i] = (t[i] as number) ^ 0x01;
      expect(() => verifyRequest(t, 'k'), `request octet ${i}`).toThrow(RadiusCodecError);
    }
    for (let i = 0; i < reply.length; i++) {
      const t = Buffer.from(reply);
      t[i] = (t[i] as number) ^ 0x01;
      expect(() => verifyResponse(t, 'k', Buffer.alloc(16, 7)), `reply octet ${i}`).toThrow(RadiusCodecError);
    }
  });

  it('an Access-Request Message-Authenticator is checked, and can be required', () => {
    const signed = encodePacket({ code: RadiusCode.AccessRequest, identifier: 3, attributes: [['User-Name', 'x']] }, { secret: 'k' }).buffer;
    expect(signed[20]).toBe(80); // first attribute
    expect(() => verifyRequest(signed, 'k', { requireMessageAuthenticator: true })).not.toThrow();
    expect(() => verifyRequest(signed, 'q')).toThrow(RadiusAuthenticatorError);
    const bare = encodePacket({ code: RadiusCode.AccessRequest, identifier: 3, attributes: [['User-Name', 'x']] }, { secret: 'k', messageAuthenticator: false }).buffer;
    expect(() => verifyRequest(bare, 'k')).not.toThrow();
    expect(() => verifyRequest(bare, 'k', { requireMessageAuthenticator: true })).toThrow(/missing/);
  });

  it('RFC 2548 salt encryption round-trips and sets the salt high bit', () => {
    const ra = Buffer.alloc(16, 3);
    const key = Buffer.from('0123456789abcdef');
    const enc = saltEncrypt(key, Buffer.from('k'), ra);
    expect((enc[0] as number) & 0x80).toBe(0x80);
    expect(enc.length).toBe(2 + 32);
    expect(saltDecrypt(enc, Buffer.from('k'), ra)).toEqual(key);
    const reply = encodePacket(
      { code: RadiusCode.AccessAccept, identifier: 1, attributes: [['MS-MPPE-Send-Key', key]] },
      { secret: 'k', authenticator: ra },
    ).buffer;
    expect(getAttr(decodePacket(reply, { secret: 'k', requestAuthenticator: ra }).attributes, 'MS-MPPE-Send-Key')).toEqual(key);
  });
});

function valueArb(spec: AttrSpec): fc.Arbitrary<AttrValue> {
  const max = spec.vendor === undefined ? 253 : 247;
  switch (spec.dataType) {
    case 'text':
      return fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: spec.hidden ? 120 : 200 }).filter((s) => !s.endsWith('\0'));
    case 'octets':
      return fc.uint8Array({ minLength: 1, maxLength: spec.hidden === 'salt' ? 200 : max }).map((a) => Buffer.from(a));
    case 'integer':
    case 'date':
      return fc.integer({ min: 0, max: 0xffffffff });
    case 'integer64':
      return fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
    case 'ipaddr':
      return fc.ipV4();
    case 'ipv6addr':
      return fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map((v) => v.toString(16).padStart(32, '0').replace(/(.{4})(?!$)/g, '$1:'));
    case 'ipv6prefix':
      return fc.tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.integer({ min: 0, max: 128 })).map(([v, len]) => {
        const net = len === 0 ? 0n : (v >> BigInt(128 - len)) << BigInt(128 - len);
        return `${net.toString(16).padStart(32, '0').replace(/(.{4})(?!$)/g, '$1:')}/${len}`;
      });
    case 'ifid':
      return fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 4, maxLength: 4 }).map((g) => g.map((x) => x.toString(16)).join(':'));
  }
}

const canonical = ([name, value]: Attribute): Attribute => {
  // Values come back canonical (IPv6 compressed); compare through one more decode.
  const spec = ATTRIBUTES.find((a) => a.name === name)!;
  if (spec.dataType !== 'ipv6addr' && spec.dataType !== 'ipv6prefix') return [name, value];
  const p = encodePacket({ code: RadiusCode.AccountingRequest, identifier: 0, attributes: [[name, value]] }, { secret: 'x', messageAuthenticator: false });
  return decodePacket(p.buffer).attributes[0]!;
};

describe('round trips', () => {
  it('every dictionary attribute survives encode → verify → decode in an Access-Request', () => {
    const specs = ATTRIBUTES.filter((s) => s.name !== 'Message-Authenticator');
    const attrArb = fc.constantFrom(...specs).chain((spec) => valueArb(spec).map((v): Attribute => [spec.name, v]));
    fc.assert(
      fc.property(fc.array(attrArb, { maxLength: 12 }), fc.string({ minLength: 1, maxLength: 20 }), (attrs, secret) => {
        const { buffer, authenticator } = encodePacket({ code: RadiusCode.AccessRequest, identifier: 5, attributes: attrs }, { secret });
        verifyRequest(buffer, secret, { requireMessageAuthenticator: true });
        const p = decodePacket(buffer, { secret, requestAuthenticator: authenticator });
        expect(p.attributes.slice(1)).toEqual(attrs.map(canonical));
      }),
      { numRuns: 300 },
    );
  });

  it('unknown attributes survive as Attr-N / Attr-26.V.N octets', () => {
    const attrs: Attribute[] = [['Attr-200', Buffer.from('a')], ['Attr-26.9.1', Buffer.from('cisco-avpair=x')], ['Attr-26', Buffer.from([0, 0, 0, 9, 1])]];
    const { buffer } = encodePacket({ code: RadiusCode.AccountingRequest, identifier: 1, attributes: attrs }, { secret: 's', messageAuthenticator: false });
    expect(decodePacket(buffer).attributes).toEqual(attrs);
  });

  it('a value of the wrong length for its type becomes a raw attribute, not an error (RFC 6929 §2.8)', () => {
    const pkt = Buffer.concat([hex('05 01 00 19'), Buffer.alloc(16), hex('1b 05 00 00 01')]);
    expect(decodePacket(pkt).attributes).toEqual([['Attr-27', Buffer.from([0, 0, 1])]]);
  });
});

describe('hostile bytes', () => {
  it('anything malformed throws RadiusCodecError and nothing else', () => {
    const good = encodePacket({ code: RadiusCode.AccessAccept, identifier: 1, attributes: [['Framed-IP-Address', '198.18.1.9'], ['MS-CHAP2-Success', Buffer.from('xS=00')]] }, { secret: 'k', authenticator: Buffer.alloc(16) }).buffer;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(good.length), (noise, at) => {
        const bufs = [Buffer.from(noise), Buffer.concat([good.subarray(0, at), Buffer.from(noise)])];
        for (const b of bufs) {
          try {
            decodePacket(b, { secret: 'k', requestAuthenticator: Buffer.alloc(16) });
            verifyResponse(b, 'k', Buffer.alloc(16));
          } catch (e) {
            expect(e).toBeInstanceOf(RadiusCodecError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a Length beyond the datagram, a zero-length attribute and unknown codes', () => {
    expect(() => decodePacket(Buffer.concat([hex('02 01 00 30'), Buffer.alloc(16)]))).toThrow(/Length 48/);
    expect(() => decodePacket(Buffer.concat([hex('02 01 00 16'), Buffer.alloc(16), hex('01 00')]))).toThrow(/attribute length 0/);
    expect(() => decodePacket(Buffer.concat([hex('63 01 00 14'), Buffer.alloc(16)]))).toThrow(/unknown code 99/);
  });
});
