import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  avp,
  controlMessage,
  decodeControl,
  deriveV3AuthKey,
  encodeControl,
  getAvp,
  MessageTypes,
  v3DigestNonces,
  verifyControlDigest,
} from '../../src/protocol/index.js';

const key = deriveV3AuthKey(Buffer.from('shared'));
const lccA = Buffer.from('nonce-of-A-0123456');
const lccB = Buffer.from('nonce-of-B');

function sccrp() {
  return controlMessage(3, MessageTypes.SCCRP, { tunnelId: 0x01020304 }, [
    avp('HostName', 'lcce-b'),
    avp('RouterId', 0x0a000001),
    avp('AssignedControlConnectionId', 0x11223344),
    avp('PseudowireCapabilitiesList', [5, 4]),
    avp('ControlMessageAuthenticationNonce', lccB),
  ]);
}

describe('L2TPv3 control message authentication through the codec (RFC 3931 §5.4.1)', () => {
  for (const algorithm of ['hmac-md5', 'hmac-sha1'] as const) {
    for (const transport of ['udp', 'ip'] as const) {
      it(`${algorithm} over ${transport}: B signs, A verifies; any flipped bit fails`, () => {
        const send = { algorithm, key, nonces: v3DigestNonces({ messageType: 2, direction: 'send', localNonce: lccB, remoteNonce: lccA }) };
        const recv = { algorithm, key, nonces: v3DigestNonces({ messageType: 2, direction: 'receive', localNonce: lccA, remoteNonce: lccB }) };
        const wire = encodeControl(sccrp(), { transport, digest: send });
        const d = decodeControl(wire, { transport });
        expect(d.message.avps[0]?.type).toBe(59); // right after Message Type
        expect(getAvp(d.message, 'MessageDigest')?.digestType).toBe(algorithm === 'hmac-md5' ? 0 : 1);
        expect(recv).toEqual(send); // receiver's view names the same sender/receiver nonces
        expect(verifyControlDigest(wire, d, recv, transport)).toBe(true);
        // Nonces in the wrong order (a receiver that puts its own first) must not verify.
        const swapped = { ...recv, nonces: { kind: 'exchanged' as const, senderNonce: lccA, receiverNonce: lccB } };
        expect(verifyControlDigest(wire, d, swapped, transport)).toBe(false);
        const start = transport === 'ip' ? 4 : 0;
        fc.assert(
          fc.property(fc.integer({ min: start, max: wire.length * 8 - 1 }).filter((bit) => bit >= start * 8), (bit) => {
            const t = Buffer.from(wire);
            t[bit >> 3]! ^= 1 << (bit & 7);
            let ok = false;
            try {
              const dt = decodeControl(t, { transport });
              ok = verifyControlDigest(t, dt, recv, transport);
            } catch {
              ok = false; // a header or AVP framing error also rejects the message
            }
            expect(ok).toBe(false);
          }),
          { numRuns: 500 },
        );
      });
    }
  }

  it('an SCCRQ is signed without nonces', () => {
    const m = controlMessage(3, MessageTypes.SCCRQ, { tunnelId: 0 }, [
      avp('HostName', 'lcce-a'), avp('RouterId', 1), avp('AssignedControlConnectionId', 7), avp('PseudowireCapabilitiesList', [5]),
      avp('ControlMessageAuthenticationNonce', lccA),
    ]);
    const nonces = v3DigestNonces({ messageType: 1, direction: 'send', localNonce: lccA, remoteNonce: Buffer.alloc(0) });
    expect(nonces).toEqual({ kind: 'sccrq' });
    const wire = encodeControl(m, { digest: { algorithm: 'hmac-md5', key, nonces } });
    expect(verifyControlDigest(wire, decodeControl(wire), { algorithm: 'hmac-md5', key, nonces })).toBe(true);
    expect(verifyControlDigest(wire, decodeControl(wire), { algorithm: 'hmac-md5', key: deriveV3AuthKey(Buffer.from('other')), nonces })).toBe(false);
  });
});
