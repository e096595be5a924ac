import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  authPacketRecipient,
  authProtocolOfOptionData,
  authProtocolOptionData,
  ChapCode,
  decodeChap,
  decodePap,
  encodeChap,
  encodePap,
  PapCode,
  PppAuthError,
  type ChapPacket,
  type PapPacket,
} from '../../../src/ppp/auth/index.js';
import { messageOctets } from '../../../src/ppp/auth/packets.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const octets = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));

const papPacket: fc.Arbitrary<PapPacket> = fc.oneof(
  fc.record({ code: fc.constant(PapCode.AuthenticateRequest), id: fc.integer({ min: 0, max: 255 }), peerId: octets(255), password: octets(255) }),
  fc.record({ code: fc.constantFrom(PapCode.AuthenticateAck, PapCode.AuthenticateNak), id: fc.integer({ min: 0, max: 255 }), message: octets(255) }),
);
const chapPacket: fc.Arbitrary<ChapPacket> = fc.oneof(
  fc.record({
    code: fc.constantFrom(ChapCode.Challenge, ChapCode.Response),
    id: fc.integer({ min: 0, max: 255 }),
    value: fc.uint8Array({ minLength: 1, maxLength: 255 }).map((a) => Buffer.from(a)),
    name: octets(300),
  }),
  fc.record({ code: fc.constantFrom(ChapCode.Success, ChapCode.Failure), id: fc.integer({ min: 0, max: 255 }), message: octets(300) }),
);

/** Decoding only ever throws PppAuthError. */
function decodeOrTypedError<T>(decode: (b: Buffer) => T, bytes: Buffer): T | PppAuthError {
  try {
    return decode(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(PppAuthError);
    return error as PppAuthError;
  }
}

describe('PAP packets (RFC 1334 §2.2)', () => {
  it('encodes an Authenticate-Request and an Ack byte for byte', () => {
    expect(encodePap({ code: 1, id: 5, peerId: Buffer.from('alice'), password: Buffer.from('pass') })).toEqual(hex('01 05 000f 05 616c696365 04 70617373'));
    expect(encodePap({ code: 2, id: 5, message: Buffer.from('ok') })).toEqual(hex('02 05 0007 02 6f6b'));
    expect(encodePap({ code: 3, id: 9, message: Buffer.alloc(0) })).toEqual(hex('03 09 0005 00'));
  });

  it('decodes what it encodes; octets after Length are padding', () => {
    fc.assert(
      fc.property(papPacket, octets(8), (p, padding) => {
        expect(decodePap(Buffer.concat([encodePap(p), padding]))).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });

  it('takes an Ack or Nak without a Msg-Length octet as an empty message', () => {
    expect(decodePap(hex('02 07 0004'))).toEqual({ code: 2, id: 7, message: Buffer.alloc(0) });
  });

  it.each([
    ['shorter than the header', '01 05 00', 'pap.length', 0],
    ['Length below 4', '01 05 0003 00', 'pap.length', 2],
    ['Length beyond the octets received', '01 05 0010 05 616c696365', 'pap.length', 2],
    ['Peer-ID-Length missing', '01 05 0004', 'pap.peerIdLength', 4],
    ['Peer-ID-Length runs past Length', '01 05 0008 05 616c6963 65', 'pap.peerIdLength', 4],
    ['Passwd-Length missing', '01 05 000a 05 616c696365', 'pap.passwdLength', 10],
    ['Passwd-Length runs past Length', '01 05 000c 05 616c696365 04 70', 'pap.passwdLength', 10],
    ['Msg-Length runs past Length', '02 05 0006 05 6f', 'pap.msgLength', 4],
    ['unknown code', '04 05 0004', 'pap.code', 0],
  ])('refuses %s with PppAuthError naming the field', (_t, bytes, field, offset) => {
    const e = decodeOrTypedError(decodePap, hex(bytes));
    expect(e).toBeInstanceOf(PppAuthError);
    expect(e).toMatchObject({ field, offset });
  });

  it('refuses to encode fields longer than their one-octet length allows', () => {
    expect(() => encodePap({ code: 1, id: 1, peerId: Buffer.alloc(256), password: Buffer.alloc(0) })).toThrow(PppAuthError);
    expect(() => encodePap({ code: 2, id: 1, message: Buffer.alloc(256) })).toThrow(PppAuthError);
    expect(() => encodePap({ code: 2, id: 256, message: Buffer.alloc(0) })).toThrow(PppAuthError);
  });
});

describe('CHAP packets (RFC 1994 §4)', () => {
  it('encodes a Challenge and a Failure byte for byte', () => {
    expect(encodeChap({ code: 1, id: 0x11, value: hex('0102'), name: Buffer.from('lns') })).toEqual(hex('01 11 000a 02 0102 6c6e73'));
    expect(encodeChap({ code: 4, id: 0x11, message: Buffer.from('no') })).toEqual(hex('04 11 0006 6e6f'));
  });

  it('decodes what it encodes; octets after Length are padding', () => {
    fc.assert(
      fc.property(chapPacket, octets(8), (p, padding) => {
        expect(decodeChap(Buffer.concat([encodeChap(p), padding]))).toEqual(p);
      }),
      { numRuns: 500 },
    );
  });

  it.each([
    ['Value-Size 0', '01 01 0005 00', 'chap.valueSize', 4],
    ['Value-Size missing', '02 01 0004', 'chap.valueSize', 4],
    ['Value-Size runs past Length', '02 01 0007 10 0102 03', 'chap.valueSize', 4],
    ['unknown code', '05 01 0004', 'chap.code', 0],
    ['Length beyond the octets received', '03 01 0009 6f6b', 'chap.length', 2],
  ])('refuses %s with PppAuthError naming the field', (_t, bytes, field, offset) => {
    const e = decodeOrTypedError(decodeChap, hex(bytes));
    expect(e).toBeInstanceOf(PppAuthError);
    expect(e).toMatchObject({ field, offset });
  });

  it('copies fields out of the input: reusing the receive buffer does not change a decoded packet', () => {
    const wire = encodeChap({ code: 1, id: 1, value: hex('aabbcc'), name: Buffer.from('n') });
    const p = decodeChap(wire);
    wire.fill(0);
    expect(p).toEqual({ code: 1, id: 1, value: hex('aabbcc'), name: Buffer.from('n') });
  });
});

describe('decoding arbitrary octets', () => {
  it('throws nothing but PppAuthError, for PAP and CHAP', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        decodeOrTypedError(decodePap, Buffer.from(bytes));
        decodeOrTypedError(decodeChap, Buffer.from(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('throws nothing but PppAuthError for valid packets with bytes flipped or cut', () => {
    fc.assert(
      fc.property(fc.oneof(papPacket.map(encodePap), chapPacket.map(encodeChap)), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), (wire, at, xor, cut) => {
        const t = Buffer.from(wire);
        t[at % t.length]! ^= xor;
        const cutTo = t.subarray(0, cut % (t.length + 1));
        for (const b of [t, cutTo]) {
          decodeOrTypedError(decodePap, b);
          decodeOrTypedError(decodeChap, b);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('helpers for the engine', () => {
  it('authPacketRecipient: requests and responses to the server, the rest to the client', () => {
    expect(authPacketRecipient(0xc023, hex('01 01 0006 00 00'))).toBe('server');
    expect(authPacketRecipient(0xc023, hex('02 01 0005 00'))).toBe('client');
    expect(authPacketRecipient(0xc023, hex('03 01 0005 00'))).toBe('client');
    expect(authPacketRecipient(0xc223, hex('01 01 0006 01 00'))).toBe('client');
    expect(authPacketRecipient(0xc223, hex('02 01 0006 01 00'))).toBe('server');
    expect(authPacketRecipient(0xc223, hex('03 01 0004'))).toBe('client');
    expect(authPacketRecipient(0xc223, hex('04 01 0004'))).toBe('client');
    expect(authPacketRecipient(0xc223, hex('05 01 0004'))).toBeUndefined();
    expect(authPacketRecipient(0xc223, hex('02 01'))).toBeUndefined();
    expect(authPacketRecipient(0xc021, hex('01 01 0004'))).toBeUndefined();
  });

  it('LCP Authentication-Protocol option data (RFC 1334 §2.1, RFC 1994 §3, RFC 2759 §2)', () => {
    expect(authProtocolOptionData('pap')).toEqual(hex('c023'));
    expect(authProtocolOptionData('chap')).toEqual(hex('c223 05'));
    expect(authProtocolOptionData('mschapv2')).toEqual(hex('c223 81'));
    for (const name of ['pap', 'chap', 'mschapv2'] as const) expect(authProtocolOfOptionData(authProtocolOptionData(name))).toBe(name);
    expect(authProtocolOfOptionData(hex('c223 80'))).toBeUndefined(); // MS-CHAPv1: not done
    expect(authProtocolOfOptionData(hex('c227'))).toBeUndefined(); // EAP
    expect(authProtocolOfOptionData(hex('c023 00'))).toBeUndefined();
  });

  it('messageOctets cuts long text without splitting a UTF-8 sequence', () => {
    expect(messageOctets('ok', 255)).toEqual(Buffer.from('ok'));
    expect(messageOctets('aé', 2)).toEqual(Buffer.from('a'));
    expect(messageOctets('é'.repeat(200), 255).toString('utf8')).toBe('é'.repeat(127));
  });
});
