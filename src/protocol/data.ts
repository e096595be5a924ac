/**
 * Data messages. In steady state the kernel carries them; userspace sees them with the null data
 * plane (PPP negotiation over the userspace socket), in the load generator and in `l2tpctl decode`.
 * RFC 2661 §3.1 (v2 header with optional L, S, O, P), RFC 3931 §4.1 (v3 session header, cookie,
 * L2-Specific Sublayer §4.6).
 */
import { EncodeError, MalformedHeaderError } from './errors.js';
import { FLAG_L, FLAG_O, FLAG_P, FLAG_S, peekHeader, type HeaderInfo, type Transport } from './header.js';

export interface DataMessageV2 {
  version: 2;
  tunnelId: number;
  sessionId: number;
  /** Present when the S bit is set (sequencing required for this session). */
  ns?: number;
  nr?: number;
  /** P bit: the receiver should give this packet preferential treatment (e.g. LCP echo). */
  priority: boolean;
  /** L bit. */
  lengthPresent: boolean;
  /** O bit with this many octets of padding before the payload. */
  offsetSize?: number;
  payload: Buffer;
}

export interface DataMessageV3 {
  version: 3;
  sessionId: number;
  cookie: Buffer;
  /** RFC 3931 §4.6 default L2-Specific Sublayer: S bit and 24-bit sequence number. */
  l2SpecificSublayer?: { sequenced: boolean; sequence: number };
  payload: Buffer;
}

export type DataMessage = DataMessageV2 | DataMessageV3;

export interface V3SessionFraming {
  /** 0, 4 or 8: the cookie the peer's Assigned Cookie AVP said it sends. */
  cookieLength: number;
  /** Whether the session negotiated the default L2-Specific Sublayer (type 1). */
  defaultL2SpecificSublayer: boolean;
}

export function decodeDataBody(buf: Buffer, h: HeaderInfo, v3?: V3SessionFraming): DataMessage {
  if (h.version === 2) {
    const m: DataMessageV2 = {
      version: 2,
      tunnelId: h.tunnelId,
      sessionId: h.sessionId,
      priority: (h.flags & FLAG_P) !== 0,
      lengthPresent: (h.flags & FLAG_L) !== 0,
      payload: Buffer.from(buf.subarray(h.headerLength, h.messageLength)),
    };
    if (h.ns !== undefined) {
      m.ns = h.ns;
      m.nr = h.nr!;
    }
    if (h.offsetSize !== undefined) m.offsetSize = h.offsetSize;
    return m;
  }
  const cookieLength = v3?.cookieLength ?? 0;
  let o = h.headerLength;
  const need = cookieLength + (v3?.defaultL2SpecificSublayer ? 4 : 0);
  if (buf.length < o + need) throw new MalformedHeaderError('data message shorter than its cookie and sublayer', 'data.cookie', o);
  const m: DataMessageV3 = { version: 3, sessionId: h.sessionId, cookie: Buffer.from(buf.subarray(o, o + cookieLength)), payload: Buffer.alloc(0) };
  o += cookieLength;
  if (v3?.defaultL2SpecificSublayer) {
    const w = buf.readUInt32BE(o);
    m.l2SpecificSublayer = { sequenced: (w & 0x40000000) !== 0, sequence: w & 0xffffff };
    o += 4;
  }
  m.payload = Buffer.from(buf.subarray(o));
  return m;
}

export function decodeData(buf: Uint8Array, transport: Transport = 'udp', v3?: V3SessionFraming): DataMessage {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const h = peekHeader(b, transport);
  if (h.isControl) throw new MalformedHeaderError('a control message where a data message was expected', 'header.flags.T', 0);
  return decodeDataBody(b, h, v3);
}

export function encodeData(m: DataMessage, transport: Transport = 'udp'): Buffer {
  if (m.version === 2) return encodeV2Data(m);
  const sub = m.l2SpecificSublayer;
  const head = transport === 'udp' ? 8 : 4;
  const out = Buffer.alloc(head + m.cookie.length + (sub ? 4 : 0) + m.payload.length);
  if (m.sessionId <= 0 || m.sessionId > 0xffffffff) throw new EncodeError('L2TPv3 data Session ID must be 1..2^32-1', 'sessionId', -1);
  if (transport === 'udp') {
    out.writeUInt16BE(3, 0); // T=0, version 3; then 16 reserved bits
    out.writeUInt32BE(m.sessionId, 4);
  } else {
    out.writeUInt32BE(m.sessionId, 0);
  }
  let o = head;
  m.cookie.copy(out, o);
  o += m.cookie.length;
  if (sub) {
    out.writeUInt32BE((sub.sequenced ? 0x40000000 : 0) | (sub.sequence & 0xffffff), o);
    o += 4;
  }
  m.payload.copy(out, o);
  return out;
}

function encodeV2Data(m: DataMessageV2): Buffer {
  const seq = m.ns !== undefined;
  const off = m.offsetSize !== undefined;
  const headerLength = 6 + (m.lengthPresent ? 2 : 0) + (seq ? 4 : 0) + (off ? 2 + m.offsetSize! : 0);
  const length = headerLength + m.payload.length;
  if (m.lengthPresent && length > 0xffff) throw new EncodeError(`data message of ${length} octets exceeds the Length field`, 'length', -1);
  const out = Buffer.alloc(length);
  out.writeUInt16BE((m.lengthPresent ? FLAG_L : 0) | (seq ? FLAG_S : 0) | (off ? FLAG_O : 0) | (m.priority ? FLAG_P : 0) | 2, 0);
  let o = 2;
  if (m.lengthPresent) {
    out.writeUInt16BE(length, 2);
    o = 4;
  }
  out.writeUInt16BE(m.tunnelId, o);
  out.writeUInt16BE(m.sessionId, o + 2);
  o += 4;
  if (seq) {
    out.writeUInt16BE(m.ns!, o);
    out.writeUInt16BE(m.nr ?? 0, o + 2);
    o += 4;
  }
  if (off) {
    out.writeUInt16BE(m.offsetSize!, o);
    o += 2 + m.offsetSize!;
  }
  m.payload.copy(out, o);
  return out;
}
