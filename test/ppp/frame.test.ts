import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeControl,
  decodeFrame,
  decodeOptions,
  encodeControl,
  encodeControlFrame,
  encodeFrame,
  encodeOptions,
  interfaceIdFromString,
  interfaceIdToString,
  PppCodecError,
  PppProtocol,
} from '../../src/ppp/frame.js';

const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');

describe('PPP frame codec (RFC 1661 §2, RFC 1662 §3.1)', () => {
  it('decodes an LCP Configure-Request with Address/Control, and encodes it back byte for byte', () => {
    const wire = hex('ff03 c021 01 01 000e 0304c023 0506a087eaf2');
    const f = decodeFrame(wire);
    expect(f.protocol).toBe(PppProtocol.LCP);
    const p = decodeControl(f.payload);
    expect(p).toMatchObject({ code: 1, identifier: 1 });
    expect(decodeOptions(p.data)).toEqual([
      { type: 3, data: hex('c023') },
      { type: 5, data: hex('a087eaf2') },
    ]);
    expect(encodeControlFrame(PppProtocol.LCP, p)).toEqual(wire);
  });

  it('accepts frames without Address/Control (ACFC) and with a one-octet Protocol (PFC)', () => {
    expect(decodeFrame(hex('c021 0901 0008 00000000'))).toMatchObject({ protocol: 0xc021 });
    const pfc = decodeFrame(hex('21 4500'));
    expect(pfc.protocol).toBe(PppProtocol.IPv4);
    expect(pfc.payload).toEqual(hex('4500'));
    expect(decodeFrame(hex('ff03 57 6000')).protocol).toBe(PppProtocol.IPv6);
  });

  it('encodes without Address/Control when asked', () => {
    expect(encodeFrame(0x0021, hex('45'), { addressControl: false })).toEqual(hex('0021 45'));
  });

  it.each([
    ['empty', ''],
    ['address without control', 'ff01c021'],
    ['lone address', 'ff'],
    ['even low protocol octet', 'ff03c020'],
    ['truncated two-octet protocol', 'ff03c0'],
  ])('refuses a bad frame: %s', (_n, h) => {
    expect(() => decodeFrame(hex(h))).toThrow(PppCodecError);
  });

  it('ignores padding after Length and refuses a Length beyond the data or below 4', () => {
    expect(decodeControl(hex('0601 0004 deadbeef')).data.length).toBe(0);
    expect(() => decodeControl(hex('0101 0010 0000'))).toThrow(PppCodecError);
    expect(() => decodeControl(hex('0101 0003'))).toThrow(PppCodecError);
    expect(() => decodeControl(hex('01'))).toThrow(PppCodecError);
  });

  it('refuses options with a Length below 2 or past the packet, naming the option', () => {
    const e = (() => {
      try {
        decodeOptions(hex('0104 05dc 0301'));
      } catch (err) {
        return err as PppCodecError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(PppCodecError);
    expect(e!.field).toBe('option[1].length');
    expect(() => decodeOptions(hex('0106 05dc'))).toThrow(PppCodecError);
    expect(() => decodeOptions(hex('01'))).toThrow(PppCodecError);
  });

  it('writes interface identifiers the RFC 4291 way', () => {
    const b = hex('0211 22ff fe33 4455');
    expect(interfaceIdToString(b)).toBe('0211:22ff:fe33:4455');
    expect(interfaceIdFromString('0211:22ff:fe33:4455')).toEqual(b);
  });

  it('property: garbage never throws anything but PppCodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const b = Buffer.from(bytes);
        for (const f of [decodeFrame, decodeControl, decodeOptions]) {
          try {
            f(b);
          } catch (e) {
            if (!(e instanceof PppCodecError)) throw e;
          }
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('property: options and packets round-trip', () => {
    const option = fc.record({ type: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)) });
    fc.assert(
      fc.property(fc.array(option, { maxLength: 8 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 11 }), (opts, id, code) => {
        const data = encodeOptions(opts);
        expect(decodeOptions(data)).toEqual(opts);
        const bytes = encodeControl({ code, identifier: id, data });
        expect(decodeControl(bytes)).toEqual({ code, identifier: id, data });
      }),
    );
  });
});
