/**
 * L2TP headers.
 *
 * L2TPv2 (RFC 2661 §3.1), one header for control and data:
 *   |T|L|x|x|S|x|O|P|x|x|x|x|  Ver  |  Length (opt) | Tunnel ID | Session ID | Ns (opt) | Nr (opt) | Offset Size (opt) | pad
 * L2TPv3 control over UDP (RFC 3931 §3.2.1): |T|L|x|x|S|x|x|x|x|x|x|x| Ver=3 | Length | Control Connection ID (32) | Ns | Nr
 * L2TPv3 data over UDP (§4.1.2.1): |T|x...| Ver=3 | Reserved(16) | Session ID (32) | cookie ...
 * L2TPv3 over IP (§4.1.1.2): Session ID (32); zero means a control message follows (without the UDP-only fields).
 *
 * `peekHeader` is the per-packet routing entry point: it reads only fixed offsets and allocates
 * nothing, so the shard router can find the owning tunnel in O(1) before any AVP is parsed.
 */
import { MalformedHeaderError } from './errors.js';

export type Transport = 'udp' | 'ip';

export const FLAG_T = 0x8000;
export const FLAG_L = 0x4000;
export const FLAG_S = 0x0800;
export const FLAG_O = 0x0200;
export const FLAG_P = 0x0100;
export const VERSION_MASK = 0x000f;

/** What every layer above needs to route and sequence a packet, read from fixed offsets. */
export interface HeaderInfo {
  version: 2 | 3;
  isControl: boolean;
  /** v2: Tunnel ID; v3 control: Control Connection ID; v3 data: 0. */
  tunnelId: number;
  /** v2: Session ID; v3 data: Session ID (32-bit); v3 control: 0. */
  sessionId: number;
  /** Present for control messages and for v2 data with the S bit. */
  ns?: number;
  nr?: number;
  /** Octets from the start of `buf` to the first AVP (control) or the payload (data). */
  headerLength: number;
  /** Octets of the L2TP message counted from the start of `buf` (the Length field where present). */
  messageLength: number;
  /** v2 only. */
  flags: number;
  offsetSize?: number;
}

function fail(msg: string, field: string, offset: number): never {
  throw new MalformedHeaderError(msg, field, offset);
}

/**
 * Parse the header at the start of `buf`. `transport` says how the packet arrived: over UDP the
 * version nibble tells v2 from v3; over IP (protocol 115) it is always v3.
 */
export function peekHeader(buf: Uint8Array, transport: Transport = 'udp'): HeaderInfo {
  const b = buf as Buffer;
  if (transport === 'ip') return peekV3Ip(b);
  if (b.length < 2) fail(`packet of ${b.length} octets has no L2TP header`, 'header.flags', 0);
  const flags = (b[0]! << 8) | b[1]!;
  const version = flags & VERSION_MASK;
  if (version === 2) return peekV2(b, flags);
  if (version === 3) return peekV3Udp(b, flags);
  return fail(`unsupported L2TP version ${version}`, 'header.version', 1);
}

function peekV2(b: Buffer, flags: number): HeaderInfo {
  const isControl = (flags & FLAG_T) !== 0;
  const hasLength = (flags & FLAG_L) !== 0;
  const hasSeq = (flags & FLAG_S) !== 0;
  const hasOffset = (flags & FLAG_O) !== 0;
  if (isControl) {
    // RFC 2661 §3.1: L and S MUST be 1, O and P MUST be 0 on control messages.
    if (!hasLength) fail('control message without the L bit', 'header.flags.L', 0);
    if (!hasSeq) fail('control message without the S bit', 'header.flags.S', 0);
    if (hasOffset) fail('control message with the O bit', 'header.flags.O', 0);
    if ((flags & FLAG_P) !== 0) fail('control message with the P bit', 'header.flags.P', 0);
  }
  let o = 2;
  let messageLength = b.length;
  if (hasLength) {
    if (b.length < 4) fail('header truncated before Length', 'header.length', 2);
    messageLength = b.readUInt16BE(2);
    o = 4;
  }
  if (b.length < o + 4) fail('header truncated before Tunnel ID/Session ID', 'header.tunnelId', o);
  const tunnelId = b.readUInt16BE(o);
  const sessionId = b.readUInt16BE(o + 2);
  o += 4;
  let ns: number | undefined;
  let nr: number | undefined;
  if (hasSeq) {
    if (b.length < o + 4) fail('header truncated before Ns/Nr', 'header.ns', o);
    ns = b.readUInt16BE(o);
    nr = b.readUInt16BE(o + 2);
    o += 4;
  }
  let offsetSize: number | undefined;
  if (hasOffset) {
    if (b.length < o + 2) fail('header truncated before Offset Size', 'header.offsetSize', o);
    offsetSize = b.readUInt16BE(o);
    o += 2 + offsetSize;
  }
  if (hasLength) {
    if (messageLength < o) fail(`Length ${messageLength} is shorter than the header (${o})`, 'header.length', 2);
    if (messageLength > b.length) fail(`Length ${messageLength} exceeds the ${b.length} octets received`, 'header.length', 2);
  } else if (o > b.length) {
    fail(`offset padding of ${offsetSize} octets runs past the packet`, 'header.offsetSize', o - 2 - (offsetSize ?? 0));
  }
  const h: HeaderInfo = { version: 2, isControl, tunnelId, sessionId, headerLength: o, messageLength, flags };
  if (ns !== undefined) {
    h.ns = ns;
    h.nr = nr!;
  }
  if (offsetSize !== undefined) h.offsetSize = offsetSize;
  return h;
}

/** v3 control header without the IP prefix; `base` is where it starts inside `b`. */
function peekV3Control(b: Buffer, base: number): HeaderInfo {
  if (b.length < base + 12) fail('L2TPv3 control header truncated', 'header', base);
  const flags = b.readUInt16BE(base);
  if ((flags & VERSION_MASK) !== 3) fail(`L2TPv3 control header with version ${flags & VERSION_MASK}`, 'header.version', base + 1);
  // RFC 3931 §3.2.1: T, L and S MUST be set.
  if ((flags & FLAG_T) === 0) fail('L2TPv3 control header without the T bit', 'header.flags.T', base);
  if ((flags & FLAG_L) === 0) fail('L2TPv3 control header without the L bit', 'header.flags.L', base);
  if ((flags & FLAG_S) === 0) fail('L2TPv3 control header without the S bit', 'header.flags.S', base);
  const length = b.readUInt16BE(base + 2);
  if (length < 12) fail(`Length ${length} is shorter than the control header`, 'header.length', base + 2);
  if (base + length > b.length) fail(`Length ${length} exceeds the ${b.length - base} octets received`, 'header.length', base + 2);
  return {
    version: 3,
    isControl: true,
    tunnelId: b.readUInt32BE(base + 4),
    sessionId: 0,
    ns: b.readUInt16BE(base + 8),
    nr: b.readUInt16BE(base + 10),
    headerLength: base + 12,
    messageLength: base + length,
    flags,
  };
}

function peekV3Udp(b: Buffer, flags: number): HeaderInfo {
  if ((flags & FLAG_T) !== 0) return peekV3Control(b, 0);
  // RFC 3931 §4.1.2.1: T=0, reserved, Ver=3, 16 reserved bits, then the 32-bit Session ID.
  if (b.length < 8) fail('L2TPv3 UDP data header truncated', 'header.sessionId', 4);
  const sessionId = b.readUInt32BE(4);
  if (sessionId === 0) fail('L2TPv3 data message with Session ID 0', 'header.sessionId', 4);
  return { version: 3, isControl: false, tunnelId: 0, sessionId, headerLength: 8, messageLength: b.length, flags };
}

function peekV3Ip(b: Buffer): HeaderInfo {
  if (b.length < 4) fail('L2TPv3 over IP packet shorter than a Session ID', 'header.sessionId', 0);
  const sessionId = b.readUInt32BE(0);
  // RFC 3931 §4.1.1.2: a Session ID of zero marks a control message.
  if (sessionId === 0) return peekV3Control(b, 4);
  return { version: 3, isControl: false, tunnelId: 0, sessionId, headerLength: 4, messageLength: b.length, flags: 0 };
}

/**
 * The data fast path (userspace data plane): for a well-formed L2TPv2 data message, the Tunnel ID
 * in the high and the Session ID in the low 16 bits of the result, and the payload offset in
 * `out[0]`; -1 for anything else (control, v3, malformed: take `peekHeader`'s path for a typed
 * answer). No allocation, so a busy userspace data path makes no garbage per packet.
 */
export function peekV2DataIds(b: Uint8Array, out: Int32Array): number {
  const n = b.length;
  if (n < 6) return -1;
  const f0 = b[0]!;
  if ((f0 & 0x80) !== 0 || (b[1]! & 0x0f) !== 2) return -1;
  let o = 2;
  if ((f0 & 0x40) !== 0) {
    if (n < 8) return -1;
    const len = (b[2]! << 8) | b[3]!;
    if (len > n) return -1;
    o = 4;
  }
  const ids = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  o += 4;
  if ((f0 & 0x08) !== 0) o += 4;
  if ((f0 & 0x02) !== 0) {
    if (n < o + 2) return -1;
    o += 2 + ((b[o]! << 8) | b[o + 1]!);
  }
  if (o > n) return -1;
  out[0] = o;
  return ids;
}

/** Write an L2TPv2 control header into `b` (12 octets). */
export function writeV2ControlHeader(b: Buffer, length: number, tunnelId: number, sessionId: number, ns: number, nr: number): void {
  b.writeUInt16BE(FLAG_T | FLAG_L | FLAG_S | 2, 0);
  b.writeUInt16BE(length, 2);
  b.writeUInt16BE(tunnelId, 4);
  b.writeUInt16BE(sessionId, 6);
  b.writeUInt16BE(ns, 8);
  b.writeUInt16BE(nr, 10);
}

/** Write an L2TPv3 control header at `base` (12 octets; preceded by 4 zero octets over IP). */
export function writeV3ControlHeader(b: Buffer, base: number, length: number, ccid: number, ns: number, nr: number): void {
  b.writeUInt16BE(FLAG_T | FLAG_L | FLAG_S | 3, base);
  b.writeUInt16BE(length, base + 2);
  b.writeUInt32BE(ccid, base + 4);
  b.writeUInt16BE(ns, base + 8);
  b.writeUInt16BE(nr, base + 10);
}
