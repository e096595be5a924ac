/**
 * Hand-assembled packets, octet by octet from the RFC figures, so the codec is checked against
 * the RFC and not only against itself.
 */
import { describe, expect, it } from 'vitest';
import {
  avp,
  controlMessage,
  decodeControl,
  decodeData,
  decodePacket,
  encodeControl,
  encodeData,
  getAvp,
  HiddenAvpError,
  MalformedAvpError,
  MalformedHeaderError,
  MalformedMessageError,
  MessageTypes,
  peekHeader,
} from '../../src/protocol/index.js';

const hex = (s: string) => Buffer.from(s.replace(/[^0-9a-f]/gi, ''), 'hex');

// RFC 2661 §3.1 header (T,L,S, ver 2), then §4.1 AVPs: M bit, length, vendor 0, type, value.
const SCCRQ_V2 = hex(`
  c802 0040 0000 0000 0000 0000
  8008 0000 0000 0001
  8008 0000 0002 0100
  800a 0000 0003 0000 0003
  800a 0000 0007 6c61 6331
  8008 0000 0009 1234
  8008 0000 000a 0010`);

describe('golden L2TPv2 packets', () => {
  it('decodes a hand-built SCCRQ', () => {
    const d = decodeControl(SCCRQ_V2);
    const m = d.message;
    expect(m).toMatchObject({ version: 2, tunnelId: 0, sessionId: 0, ns: 0, nr: 0, messageType: MessageTypes.SCCRQ });
    expect(getAvp(m, 'ProtocolVersion')).toEqual({ version: 1, revision: 0 });
    expect(getAvp(m, 'FramingCapabilities')).toBe(3);
    expect(getAvp(m, 'HostName')).toBe('lac1');
    expect(getAvp(m, 'AssignedTunnelId')).toBe(0x1234);
    expect(getAvp(m, 'ReceiveWindowSize')).toBe(16);
    expect(d.unexpected).toEqual([]);
    expect(d.violation).toBeUndefined();
  });

  it('encodes the same SCCRQ octet for octet', () => {
    const m = controlMessage(2, MessageTypes.SCCRQ, { tunnelId: 0 }, [
      avp('ProtocolVersion', { version: 1, revision: 0 }),
      avp('FramingCapabilities', 3),
      avp('HostName', 'lac1'),
      avp('AssignedTunnelId', 0x1234),
      avp('ReceiveWindowSize', 16),
    ]);
    expect(encodeControl(m).toString('hex')).toBe(SCCRQ_V2.toString('hex'));
  });

  it('a ZLB is a 12-octet header with no AVPs', () => {
    const zlb = hex('c802 000c 1234 0000 0005 0007');
    const d = decodeControl(zlb);
    expect(d.message).toMatchObject({ messageType: undefined, tunnelId: 0x1234, ns: 5, nr: 7, avps: [] });
    expect(encodeControl(d.message)).toEqual(zlb);
  });

  it('StopCCN Result Code with error code and message', () => {
    const m = controlMessage(2, MessageTypes.StopCCN, { tunnelId: 9 }, [
      avp('AssignedTunnelId', 3),
      avp('ResultCode', { result: 2, error: 8, message: 'unknown AVP 99' }),
    ]);
    const b = encodeControl(m);
    // Result Code AVP: M, length 6+4+14, type 1, result 2, error 8, text.
    expect(b.subarray(28).toString('hex')).toBe('8018' + '0000' + '0001' + '0002' + '0008' + Buffer.from('unknown AVP 99').toString('hex'));
  });

  it('an unknown AVP with M set in a session message asks for a CDN (RFC 2661 §4.1)', () => {
    const m = controlMessage(2, MessageTypes.ICRQ, { tunnelId: 1, sessionId: 0 }, [
      avp('AssignedSessionId', 7),
      avp('CallSerialNumber', 1),
      { vendorId: 0, type: 999, mandatory: true, hidden: false, value: Buffer.of(1) },
    ]);
    const d = decodeControl(encodeControl(m));
    expect(d.violation).toEqual({ scope: 'session', resultCode: 2, errorCode: 8, errorMessage: 'unknown mandatory AVP vendor 0 type 999' });
  });

  it('an unknown AVP with M set in SCCRQ asks for a StopCCN; without M it is ignored but kept', () => {
    const mk = (mandatory: boolean) =>
      decodeControl(encodeControl(controlMessage(2, 1, { tunnelId: 0 }, [
        avp('ProtocolVersion', { version: 1, revision: 0 }), avp('HostName', 'x'), avp('FramingCapabilities', 1), avp('AssignedTunnelId', 1),
        { vendorId: 9, type: 3, mandatory, hidden: false, value: Buffer.of(1, 2) },
      ])));
    expect(mk(true).violation?.scope).toBe('tunnel');
    const lax = mk(false);
    expect(lax.violation).toBeUndefined();
    expect(lax.ignored).toHaveLength(1);
    expect(lax.message.avps.at(-1)).toEqual({ vendorId: 9, type: 3, mandatory: false, hidden: false, value: Buffer.of(1, 2) });
  });

  it('reserved AVP header bits make an AVP unrecognised (RFC 2661 §4.1)', () => {
    const b = Buffer.from(SCCRQ_V2);
    b[56] = 0x88; // Receive Window Size AVP: set a reserved bit beside M
    const d = decodeControl(b);
    expect(d.message.avps.at(-1)?.undecoded).toBe('reserved-bits');
    expect(d.violation).toMatchObject({ scope: 'tunnel', errorCode: 8 });
  });

  it('a missing required AVP is a MalformedMessageError naming it', () => {
    // Cut the Assigned Tunnel ID AVP (octets 48..55) out and fix the Length.
    const cut = Buffer.concat([SCCRQ_V2.subarray(0, 48), SCCRQ_V2.subarray(56)]);
    cut.writeUInt16BE(cut.length, 2);
    const e = catchErr(() => decodeControl(cut));
    expect(e).toBeInstanceOf(MalformedMessageError);
    expect(e).toMatchObject({ field: 'avp:AssignedTunnelId', messageType: 1 });
  });

  it('names the field and offset of a bad AVP length', () => {
    const b = Buffer.from(SCCRQ_V2);
    b[29] = 0x04; // Framing Capabilities AVP length 4 (< 6)
    const e = catchErr(() => decodeControl(b));
    expect(e).toBeInstanceOf(MalformedAvpError);
    expect(e).toMatchObject({ field: 'avp[2].length', offset: 28 });
  });

  it('rejects control headers that break RFC 2661 §3.1', () => {
    const noS = Buffer.from(SCCRQ_V2);
    noS[0] = 0xc0;
    expect(catchErr(() => decodeControl(noS))).toMatchObject({ name: 'MalformedHeaderError', field: 'header.flags.S' });
    const longLen = Buffer.from(SCCRQ_V2);
    longLen.writeUInt16BE(0x41, 2);
    expect(catchErr(() => decodeControl(longLen))).toMatchObject({ field: 'header.length', offset: 2 });
    const v1 = Buffer.from(SCCRQ_V2);
    v1[1] = 0x01;
    expect(catchErr(() => decodeControl(v1))).toBeInstanceOf(MalformedHeaderError);
  });

  it('a hidden AVP without a secret is a HiddenAvpError, or kept undecoded on request', () => {
    const m = controlMessage(2, MessageTypes.ICRQ, { tunnelId: 1 }, [
      avp('RandomVector', Buffer.alloc(16, 1)),
      avp('AssignedSessionId', 7, { hidden: true }),
      avp('CallSerialNumber', 1),
    ]);
    const b = encodeControl(m, { secret: Buffer.from('s') });
    expect(catchErr(() => decodeControl(b))).toBeInstanceOf(HiddenAvpError);
    const kept = decodeControl(b, { keepHidden: true });
    expect(kept.message.avps[1]).toMatchObject({ type: 14, hidden: true, undecoded: 'hidden' });
    expect(getAvp(decodeControl(b, { secret: Buffer.from('s') }).message, 'AssignedSessionId')).toBe(7);
  });

  it('hides a 20-octet Calling Number over two MD5 blocks chained on ciphertext (RFC 2661 §4.3)', () => {
    // Expected octets computed independently in python: b1 = MD5(00 16 | "sesame" | RV), c1 = p1 ^ b1,
    // b2 = MD5("sesame" | c1), c2 = p2 ^ b2, where p = 00 14 | "0123456789abcdefghij" (no padding).
    const rv = Buffer.from([...Array(16).keys()].map((i) => 0x10 + i));
    const m = controlMessage(2, MessageTypes.ICRQ, { tunnelId: 1 }, [
      avp('RandomVector', rv),
      avp('AssignedSessionId', 7),
      avp('CallSerialNumber', 1),
      avp('CallingNumber', '0123456789abcdefghij', { hidden: true }),
    ]);
    const secret = Buffer.from('sesame');
    const b = encodeControl(m, { secret, hiddenPadding: () => Buffer.alloc(0) });
    const calling = b.subarray(b.length - 28);
    expect(calling.subarray(0, 6).toString('hex')).toBe('c01c00000016'); // M, H, length 28, type 22
    expect(calling.subarray(6).toString('hex')).toBe('780206b8dec17297a2cc42da03a496289c6572187f89');
    expect(getAvp(decodeControl(b, { secret }).message, 'CallingNumber')).toBe('0123456789abcdefghij');
  });

  it('refuses to hide an AVP the RFC says must not be hidden', () => {
    const m = controlMessage(2, 6, { tunnelId: 1 }, [avp('RandomVector', Buffer.alloc(4)), avp('HostName', 'x', { hidden: true })]);
    expect(catchErr(() => encodeControl(m, { secret: Buffer.from('s') }))).toMatchObject({ name: 'EncodeError' });
  });
});

describe('golden data packets', () => {
  it('v2 data with L, S and O bits', () => {
    // flags: L S O, ver 2; length; tunnel 1; session 2; Ns 3; Nr 4; offset size 2 + 2 pad; PPP LCP
    const b = hex('4a02 0014 0001 0002 0003 0004 0002 0000 ff03 c021');
    const d = decodeData(b);
    expect(d).toEqual({ version: 2, tunnelId: 1, sessionId: 2, ns: 3, nr: 4, priority: false, lengthPresent: true, offsetSize: 2, payload: hex('ff03c021') });
    expect(encodeData(d)).toEqual(b);
  });

  it('v2 data with no optional fields', () => {
    const b = hex('0002 0001 0002 ff03 c021 0102');
    expect(decodeData(b)).toMatchObject({ tunnelId: 1, sessionId: 2, lengthPresent: false, payload: hex('ff03c0210102') });
  });

  it('L2TPv3 over UDP data with an 8-octet cookie and the default L2-Specific Sublayer', () => {
    const b = hex('0003 0000 1122 3344 0102030405060708 4000 0005 deadbeef');
    const d = decodeData(b, 'udp', { cookieLength: 8, defaultL2SpecificSublayer: true });
    expect(d).toEqual({ version: 3, sessionId: 0x11223344, cookie: hex('0102030405060708'), l2SpecificSublayer: { sequenced: true, sequence: 5 }, payload: hex('deadbeef') });
    expect(encodeData(d, 'udp')).toEqual(b);
  });

  it('L2TPv3 over IP: a non-zero Session ID is data, zero is control', () => {
    expect(peekHeader(hex('0000 0007 aabb'), 'ip')).toMatchObject({ isControl: false, sessionId: 7, headerLength: 4 });
    const ctl = hex('0000 0000 c803 000c 0000 0042 0001 0002');
    expect(decodePacket(ctl, { transport: 'ip' })).toMatchObject({ kind: 'control', message: { version: 3, tunnelId: 0x42, ns: 1, nr: 2, messageType: undefined } });
  });
});

function catchErr(f: () => unknown): Error & Record<string, unknown> {
  try {
    f();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected an error');
}
