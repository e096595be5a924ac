/**
 * Encode and decode rates per message type and version, on representative messages: every
 * required AVP, the optional ones a real peer sends, no hidden AVPs; plus one case with hidden
 * AVPs (MD5 per 16 octets is the expensive part) and one signed L2TPv3 message.
 */
import {
  avp,
  controlMessage,
  decodeControl,
  deriveV3AuthKey,
  encodeControl,
  MESSAGES,
  type ControlMessage,
} from '../src/protocol/index.js';
import { measure } from './measure.js';
import fc from 'fast-check';
import { controlMessageArb } from '../test/protocol/arbitraries.js';

export interface CodecResult {
  message: string;
  version: 2 | 3;
  octets: number;
  encodePerSec: number;
  decodePerSec: number;
  encodeNs: number;
  decodeNs: number;
}

const SECRET = Buffer.from('bench-secret');

function bench(label: string, version: 2 | 3, m: ControlMessage, opts: Parameters<typeof encodeControl>[1] = {}): CodecResult {
  const wire = encodeControl(m, opts);
  const enc = measure(() => encodeControl(m, opts));
  const dec = measure(() => decodeControl(wire, { secret: SECRET }));
  return { message: label, version, octets: wire.length, encodePerSec: enc.opsPerSec, decodePerSec: dec.opsPerSec, encodeNs: enc.nsPerOp, decodeNs: dec.nsPerOp };
}

export function runCodecBench(): CodecResult[] {
  const out: CodecResult[] = [];
  for (const spec of MESSAGES) {
    for (const version of [2, 3] as const) {
      if (!(version === 2 ? spec.v2 : spec.v3)) continue;
      // A fixed seed keeps the message (and so the numbers) the same from run to run.
      const [m] = fc.sample(controlMessageArb(spec.type, version, { hide: false }), { numRuns: 1, seed: 42 });
      out.push(bench(spec.key, version, { ...m!, avps: m!.avps.filter((a) => a.vendorId === 0) }));
    }
  }
  const iccnHidden = controlMessage(2, 12, { tunnelId: 1, sessionId: 2 }, [
    avp('RandomVector', Buffer.alloc(16, 7)),
    avp('TxConnectSpeed', 100_000_000, { hidden: true }),
    avp('FramingType', 1, { hidden: true }),
    avp('ProxyAuthenType', 2, { hidden: true }),
    avp('ProxyAuthenName', 'subscriber-000001@isp.example', { hidden: true }),
    avp('ProxyAuthenChallenge', Buffer.alloc(16, 3), { hidden: true }),
    avp('ProxyAuthenId', 1, { hidden: true }),
    avp('ProxyAuthenResponse', Buffer.alloc(16, 4), { hidden: true }),
  ]);
  out.push(bench('ICCN+hidden-proxy-auth', 2, iccnHidden, { secret: SECRET }));
  const hello = controlMessage(3, 6, { tunnelId: 1 });
  const digest = { algorithm: 'hmac-md5' as const, key: deriveV3AuthKey(SECRET), nonces: { kind: 'exchanged' as const, senderNonce: Buffer.alloc(16, 1), receiverNonce: Buffer.alloc(16, 2) } };
  out.push(bench('HELLO+message-digest', 3, hello, { digest }));
  return out;
}
