/**
 * PPP over L2TP, bytes ⇄ typed values and nothing else (STYLE.md: the parser seam).
 *
 * Frame (RFC 1661 §2, RFC 1662 §3.1): an L2TP data message carries the PPP frame without HDLC
 * flags, FCS or byte stuffing (RFC 2661 §5.3). The Address/Control octets `ff 03` are optional on
 * receive (ACFC, RFC 1661 §6.6) and sent by default, as Linux's pppol2tp does; the Protocol field is
 * one octet when compressed (PFC, RFC 1661 §6.5) or two.
 *
 * Control packets (RFC 1661 §5): Code, Identifier, Length, Data; octets past Length are link padding
 * and ignored. Configuration Options (RFC 1661 §6): Type, Length, Data.
 *
 * Decoding untrusted bytes throws `PppCodecError` and never anything else.
 */

export const PppProtocol = {
  IPv4: 0x0021,
  IPv6: 0x0057,
  IPCP: 0x8021,
  IPV6CP: 0x8057,
  CCP: 0x80fd,
  LCP: 0xc021,
  PAP: 0xc023,
  LQR: 0xc025,
  CHAP: 0xc223,
} as const;

/** RFC 1661 §5 Code values; 1–7 are common to every control protocol, 8–11 are LCP only. */
export const PppCode = {
  ConfigureRequest: 1,
  ConfigureAck: 2,
  ConfigureNak: 3,
  ConfigureReject: 4,
  TerminateRequest: 5,
  TerminateAck: 6,
  CodeReject: 7,
  ProtocolReject: 8,
  EchoRequest: 9,
  EchoReply: 10,
  DiscardRequest: 11,
} as const;

export class PppCodecError extends Error {
  override readonly name = 'PppCodecError';
  constructor(
    message: string,
    /** The offending field, e.g. `frame.protocol`, `packet.length`, `option[2].length`. */
    readonly field: string,
    /** Byte offset of the field in what was being decoded, or -1. */
    readonly offset: number,
  ) {
    super(`${message} (field ${field} at offset ${offset})`);
  }
}

export interface PppFrame {
  protocol: number;
  /** The Information field (a view into the received buffer). */
  payload: Buffer;
}

export interface ControlPacket {
  code: number;
  identifier: number;
  /** Octets after the 4-octet header, up to Length (a view). */
  data: Buffer;
}

export interface PppOption {
  type: number;
  /** Octets after the Type and Length octets. */
  data: Buffer;
}

const ADDRESS = 0xff;
const CONTROL = 0x03;

/** RFC 1661 §2: the Protocol field's low octet is odd and its high octet even (ISO 3309 extension). */
export function isValidProtocol(p: number): boolean {
  return Number.isInteger(p) && p > 0 && p <= 0xffff && (p & 0x01) === 1 && (p & 0x0100) === 0;
}

export function decodeFrame(buf: Buffer): PppFrame {
  let off = 0;
  if (buf.length >= 1 && buf[0] === ADDRESS) {
    if (buf.length < 2 || buf[1] !== CONTROL) throw new PppCodecError('Address 0xff without Control 0x03', 'frame.control', 1);
    off = 2;
  }
  const first = buf[off];
  if (first === undefined) throw new PppCodecError('frame has no Protocol field', 'frame.protocol', off);
  let protocol: number;
  if (first & 0x01) {
    protocol = first; // PFC: a one-octet protocol (RFC 1661 §6.5)
    off += 1;
  } else {
    const second = buf[off + 1];
    if (second === undefined) throw new PppCodecError('Protocol field truncated', 'frame.protocol', off);
    protocol = (first << 8) | second;
    if (!(second & 0x01)) throw new PppCodecError(`Protocol 0x${protocol.toString(16)} has an even low octet`, 'frame.protocol', off);
    off += 2;
  }
  return { protocol, payload: buf.subarray(off) };
}

export interface EncodeFrameOptions {
  /** Prepend `ff 03` (default true: RFC 1661 §6.6, LCP frames always carry it). */
  addressControl?: boolean;
}

export function encodeFrame(protocol: number, payload: Buffer, o: EncodeFrameOptions = {}): Buffer {
  if (!isValidProtocol(protocol)) throw new PppCodecError(`invalid protocol 0x${protocol.toString(16)}`, 'frame.protocol', -1);
  const ac = o.addressControl ?? true;
  const head = ac ? 4 : 2;
  const out = Buffer.allocUnsafe(head + payload.length);
  if (ac) {
    out[0] = ADDRESS;
    out[1] = CONTROL;
  }
  out.writeUInt16BE(protocol, head - 2);
  payload.copy(out, head);
  return out;
}

export function decodeControl(payload: Buffer): ControlPacket {
  if (payload.length < 4) throw new PppCodecError(`control packet of ${payload.length} octets`, 'packet.length', 0);
  const length = payload.readUInt16BE(2);
  if (length < 4) throw new PppCodecError(`Length ${length} below the 4-octet header`, 'packet.length', 2);
  if (length > payload.length) throw new PppCodecError(`Length ${length} beyond the ${payload.length} octets received`, 'packet.length', 2);
  return { code: payload[0]!, identifier: payload[1]!, data: payload.subarray(4, length) };
}

export function encodeControl(p: ControlPacket): Buffer {
  const length = 4 + p.data.length;
  if (length > 0xffff) throw new PppCodecError(`packet of ${length} octets`, 'packet.length', -1);
  const out = Buffer.allocUnsafe(length);
  out[0] = p.code & 0xff;
  out[1] = p.identifier & 0xff;
  out.writeUInt16BE(length, 2);
  p.data.copy(out, 4);
  return out;
}

/**
 * A frame carrying one control packet: the common case of every send, written in one buffer (the
 * same octets as `encodeFrame(protocol, encodeControl(p), o)` without the intermediate packet).
 */
export function encodeControlFrame(protocol: number, p: ControlPacket, o?: EncodeFrameOptions): Buffer {
  const length = 4 + p.data.length;
  if (length > 0xffff) throw new PppCodecError(`packet of ${length} octets`, 'packet.length', -1);
  if (!isValidProtocol(protocol)) throw new PppCodecError(`invalid protocol 0x${protocol.toString(16)}`, 'frame.protocol', -1);
  const head = (o?.addressControl ?? true) ? 4 : 2;
  const out = Buffer.allocUnsafe(head + length);
  if (head === 4) {
    out[0] = ADDRESS;
    out[1] = CONTROL;
  }
  out[head - 2] = protocol >> 8;
  out[head - 1] = protocol & 0xff;
  out[head] = p.code & 0xff;
  out[head + 1] = p.identifier & 0xff;
  out[head + 2] = length >> 8;
  out[head + 3] = length & 0xff;
  p.data.copy(out, head + 4);
  return out;
}

export function decodeOptions(data: Buffer): PppOption[] {
  const out: PppOption[] = [];
  let off = 0;
  while (off < data.length) {
    const i = out.length;
    if (off + 2 > data.length) throw new PppCodecError('option header truncated', `option[${i}].length`, off);
    const len = data[off + 1]!;
    if (len < 2) throw new PppCodecError(`option Length ${len} below 2`, `option[${i}].length`, off + 1);
    if (off + len > data.length) throw new PppCodecError(`option Length ${len} overruns the packet`, `option[${i}].length`, off + 1);
    out.push({ type: data[off]!, data: data.subarray(off + 2, off + len) });
    off += len;
  }
  return out;
}

export function encodeOptions(opts: readonly PppOption[]): Buffer {
  let total = 0;
  for (const o of opts) {
    if (o.data.length > 253) throw new PppCodecError(`option ${o.type} of ${o.data.length} octets`, 'option.length', -1);
    total += 2 + o.data.length;
  }
  const out = Buffer.allocUnsafe(total);
  let off = 0;
  for (const o of opts) {
    out[off] = o.type & 0xff;
    out[off + 1] = 2 + o.data.length;
    o.data.copy(out, off + 2);
    off += 2 + o.data.length;
  }
  return out;
}

export function optionEquals(a: PppOption, b: PppOption): boolean {
  return a.type === b.type && a.data.equals(b.data);
}

// Option data helpers: builders for what we send, readers that check the length they need.

export const u8Option = (type: number, v: number): PppOption => ({ type, data: Buffer.from([v & 0xff]) });
export function u16Option(type: number, v: number, extra?: Buffer): PppOption {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(v & 0xffff);
  return { type, data: extra ? Buffer.concat([b, extra]) : b };
}
export function u32Option(type: number, v: number): PppOption {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v >>> 0);
  return { type, data: b };
}
export const emptyOption = (type: number): PppOption => ({ type, data: Buffer.alloc(0) });

/** Dotted quad → 4 octets: four groups of 1–3 decimal digits, each at most 255. */
export function ipv4ToBuffer(addr: string): Buffer {
  const b = Buffer.allocUnsafe(4); // every octet is written, or we throw
  let part = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i <= addr.length; i++) {
    const c = i < addr.length ? addr.charCodeAt(i) : 0x2e;
    if (c >= 0x30 && c <= 0x39 && digits < 3) {
      n = n * 10 + (c - 0x30);
      digits++;
    } else if (c === 0x2e && digits > 0 && n <= 255 && part < 4) {
      b[part++] = n;
      n = digits = 0;
    } else {
      throw new PppCodecError(`not an IPv4 address: ${addr}`, 'ipv4', -1);
    }
  }
  if (part !== 4) throw new PppCodecError(`not an IPv4 address: ${addr}`, 'ipv4', -1);
  return b;
}

export function bufferToIpv4(b: Buffer): string {
  if (b.length !== 4) throw new PppCodecError(`IPv4 address of ${b.length} octets`, 'ipv4', -1);
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

export function ipv4Option(type: number, addr: string): PppOption {
  return { type, data: ipv4ToBuffer(addr) };
}

/** An Interface-Identifier as RFC 4291 writes the low 64 bits: `xxxx:xxxx:xxxx:xxxx`. */
export function interfaceIdToString(b: Buffer): string {
  if (b.length !== 8) throw new PppCodecError(`interface identifier of ${b.length} octets`, 'interfaceId', -1);
  const h = b.toString('hex');
  return `${h.slice(0, 4)}:${h.slice(4, 8)}:${h.slice(8, 12)}:${h.slice(12, 16)}`;
}

export function interfaceIdFromString(s: string): Buffer {
  const hex = s.replace(/:/g, '');
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) throw new PppCodecError(`not an interface identifier: ${s}`, 'interfaceId', -1);
  return Buffer.from(hex, 'hex');
}
