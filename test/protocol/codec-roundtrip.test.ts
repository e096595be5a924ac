import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeControl, decodePacket, encodeControl, L2tpCodecError } from '../../src/protocol/index.js';
import { anyControlMessageArb, controlMessageArb, MESSAGE_CASES } from './arbitraries.js';

const SECRET = Buffer.from('tunnel-secret');

describe('control message round trip: decode(encode(m)) == m', () => {
  it.each(MESSAGE_CASES)('$key (v$version) with every AVP of its table', ({ type, version }) => {
    fc.assert(
      fc.property(controlMessageArb(type, version, { hide: true }), (m) => {
        const wire = encodeControl(m, { secret: SECRET });
        const d = decodeControl(wire, { secret: SECRET });
        expect(d.message).toEqual(m);
        expect(d.length).toBe(wire.length);
        expect(d.violation).toBeUndefined();
        expect(d.known).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('holds over L2TPv3 IP encapsulation too', () => {
    fc.assert(
      fc.property(anyControlMessageArb({ hide: false }).filter((m) => m.version === 3), (m) => {
        const wire = encodeControl(m, { transport: 'ip' });
        expect(wire.readUInt32BE(0)).toBe(0); // RFC 3931 §4.1.1.2: Session ID 0 marks control
        expect(decodeControl(wire, { transport: 'ip' }).message).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('100k random messages of every type round-trip', () => {
    fc.assert(
      fc.property(anyControlMessageArb({ hide: true }), (m) => {
        expect(decodeControl(encodeControl(m, { secret: SECRET }), { secret: SECRET }).message).toEqual(m);
      }),
      { numRuns: 100_000 },
    );
  }, 300_000);
});

/** Decoding untrusted bytes only ever yields a result or the codec's typed error. */
function decodeSafely(b: Uint8Array, transport: 'udp' | 'ip'): 'ok' | 'typed-error' {
  try {
    decodePacket(b, { transport, secret: SECRET });
    return 'ok';
  } catch (e) {
    if (e instanceof L2tpCodecError) {
      expect(typeof e.field).toBe('string');
      expect(Number.isInteger(e.offset)).toBe(true);
      return 'typed-error';
    }
    throw e;
  }
}

describe('hostile input gives only the typed error', () => {
  it('100k random byte strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('udp' as const, 'ip' as const), (b, t) => {
        decodeSafely(b, t);
      }),
      { numRuns: 100_000 },
    );
  }, 300_000);

  it('100k mutated valid packets (bit flips, truncation, extension); what still decodes re-encodes identically', () => {
    const mutation = fc.record({
      flips: fc.array(fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }), { maxLength: 4 }),
      cut: fc.option(fc.nat()),
      extra: fc.uint8Array({ maxLength: 8 }),
    });
    let decoded = 0;
    fc.assert(
      fc.property(anyControlMessageArb({ hide: true }), mutation, (m, mu) => {
        let b = Buffer.from(encodeControl(m, { secret: SECRET }));
        for (const f of mu.flips) b[f.at % b.length]! ^= 1 << f.bit;
        if (mu.cut !== null) b = b.subarray(0, mu.cut % (b.length + 1));
        b = Buffer.concat([b, mu.extra]);
        if (decodeSafely(b, 'udp') !== 'ok') return;
        decoded++;
        const first = decodePacket(b, { secret: SECRET });
        if (first.kind !== 'control' || first.message.avps.some((a) => a.undecoded)) return;
        const again = decodeControl(encodeControl(first.message, { secret: SECRET }), { secret: SECRET });
        expect(again.message).toEqual(first.message);
      }),
      { numRuns: 100_000 },
    );
    expect(decoded).toBeGreaterThan(1000);
  }, 300_000);
});
