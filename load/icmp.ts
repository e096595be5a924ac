/**
 * IPv4 + ICMP echo (RFC 791, RFC 792) for the PPP data mode: the echo requests a subscriber sends
 * through its session and the replies it reads back. Written for a packet path: a request is built
 * into one reused buffer (the L2TP encoder copies it), a reply is judged in place into a reused
 * record, and nothing here allocates per packet or throws on bad input.
 *
 * Checksums are the Internet checksum (RFC 1071): the 16-bit one's complement of the one's
 * complement sum of the 16-bit words, an odd last octet padded with zero.
 */

export const IPV4_HEADER = 20;
export const ICMP_HEADER = 8;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
const PROTO_ICMP = 1;
const TTL = 64;
/** PPP Address, Control and Protocol (IPv4, 0x0021) before the IP header (RFC 1661 §6.6: always accepted). */
const PPP_HEAD = Buffer.from([0xff, 0x03, 0x00, 0x21]);

/** The one's complement sum of `len` octets from `off`, added to `sum` (not yet folded nor complemented). */
export function onesSum(buf: Uint8Array, off: number, len: number, sum = 0): number {
  const end = off + len;
  let i = off;
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/** Fold the carries and complement: the checksum field's value; 0 when checking a region that holds its checksum. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

export const internetChecksum = (buf: Uint8Array, off = 0, len = buf.length - off): number => foldChecksum(onesSum(buf, off, len));

/** Payload octets of our echo requests: 0x00, 0x01, ... (what comes back must be the same). */
export function fillPattern(buf: Buffer, off: number, len: number): void {
  for (let i = 0; i < len; i++) buf[off + i] = i & 0xff;
}

/**
 * Writes an IPv4 packet carrying an ICMP echo message at `off` in `buf` (which must hold
 * IPV4_HEADER + ICMP_HEADER + payloadLength octets), the payload being already in place;
 * `payloadSum` is `onesSum` of that payload (constant across requests: computed once).
 * Returns the IP packet's length.
 */
export function writeIcmpEcho(buf: Buffer, off: number, type: number, src: number, dst: number, ident: number, seq: number, payloadLength: number, payloadSum: number): number {
  const total = IPV4_HEADER + ICMP_HEADER + payloadLength;
  buf[off] = 0x45; // version 4, header of 5 words
  buf[off + 1] = 0;
  buf.writeUInt16BE(total, off + 2);
  buf.writeUInt16BE(seq & 0xffff, off + 4); // Identification: unique enough per source for an unfragmented packet
  buf.writeUInt16BE(0, off + 6); // no flags, no fragment offset
  buf[off + 8] = TTL;
  buf[off + 9] = PROTO_ICMP;
  buf.writeUInt16BE(0, off + 10);
  buf.writeUInt32BE(src >>> 0, off + 12);
  buf.writeUInt32BE(dst >>> 0, off + 16);
  buf.writeUInt16BE(internetChecksum(buf, off, IPV4_HEADER), off + 10);
  const icmp = off + IPV4_HEADER;
  buf[icmp] = type;
  buf[icmp + 1] = 0;
  buf.writeUInt16BE(ident & 0xffff, icmp + 4);
  buf.writeUInt16BE(seq & 0xffff, icmp + 6);
  // The header words (the checksum field still zero) plus the payload's sum.
  const sum = payloadSum + (type << 8) + (ident & 0xffff) + (seq & 0xffff);
  buf.writeUInt16BE(foldChecksum(sum), icmp + 2);
  return total;
}

/**
 * Echo requests of one size: one buffer per worker (per size), `ff 03 00 21` + IPv4 + ICMP + the
 * pattern, rewritten for each request. The frame returned is valid until the next `frame` call: the
 * L2TP data message is a copy (encodeData), so it is never held.
 */
export class EchoRequestWriter {
  private readonly buf: Buffer;
  private readonly payloadSum: number;

  constructor(readonly payloadLength: number) {
    this.buf = Buffer.alloc(PPP_HEAD.length + IPV4_HEADER + ICMP_HEADER + payloadLength);
    PPP_HEAD.copy(this.buf, 0);
    const p = PPP_HEAD.length + IPV4_HEADER + ICMP_HEADER;
    fillPattern(this.buf, p, payloadLength);
    this.payloadSum = onesSum(this.buf, p, payloadLength);
  }

  frame(src: number, dst: number, ident: number, seq: number): Buffer {
    writeIcmpEcho(this.buf, PPP_HEAD.length, ICMP_ECHO_REQUEST, src, dst, ident, seq, this.payloadLength, this.payloadSum);
    return this.buf;
  }
}

/** What `readIcmpEcho` found. */
export const IpVerdict = {
  /** Not a well-formed IPv4 packet, or an ICMP message with a bad checksum. */
  Malformed: 0,
  /** Well-formed, but not an ICMP echo (another protocol, another ICMP type, a fragment). */
  Other: 1,
  EchoReply: 2,
  EchoRequest: 3,
} as const;
export type IpVerdict = (typeof IpVerdict)[keyof typeof IpVerdict];

/** Filled in by `readIcmpEcho` (one record reused for every packet). */
export interface EchoFields {
  src: number;
  dst: number;
  ident: number;
  seq: number;
  /** Offset and length of the echo data in the buffer read. */
  dataOffset: number;
  dataLength: number;
}

export const newEchoFields = (): EchoFields => ({ src: 0, dst: 0, ident: 0, seq: 0, dataOffset: 0, dataLength: 0 });

/**
 * Judges the IPv4 packet at `off` in `buf` (to its end; octets past the IP Total Length are link
 * padding and ignored). Both checksums are verified. Fields are filled for echo requests and replies.
 */
export function readIcmpEcho(buf: Buffer, off: number, out: EchoFields): IpVerdict {
  const avail = buf.length - off;
  if (avail < IPV4_HEADER) return IpVerdict.Malformed;
  const vihl = buf[off]!;
  const ihl = (vihl & 0x0f) * 4;
  if (vihl >> 4 !== 4 || ihl < IPV4_HEADER) return IpVerdict.Malformed;
  const total = buf.readUInt16BE(off + 2);
  if (total < ihl || total > avail) return IpVerdict.Malformed;
  if (internetChecksum(buf, off, ihl) !== 0) return IpVerdict.Malformed;
  // A fragment (More Fragments set or an offset) is not an echo we can judge whole.
  if ((buf.readUInt16BE(off + 6) & 0x3fff) !== 0 || buf[off + 9] !== PROTO_ICMP) return IpVerdict.Other;
  const icmp = off + ihl;
  const icmpLength = total - ihl;
  if (icmpLength < ICMP_HEADER) return IpVerdict.Malformed;
  if (internetChecksum(buf, icmp, icmpLength) !== 0) return IpVerdict.Malformed;
  const type = buf[icmp]!;
  if (buf[icmp + 1] !== 0 || (type !== ICMP_ECHO_REPLY && type !== ICMP_ECHO_REQUEST)) return IpVerdict.Other;
  out.src = buf.readUInt32BE(off + 12);
  out.dst = buf.readUInt32BE(off + 16);
  out.ident = buf.readUInt16BE(icmp + 4);
  out.seq = buf.readUInt16BE(icmp + 6);
  out.dataOffset = icmp + ICMP_HEADER;
  out.dataLength = icmpLength - ICMP_HEADER;
  return type === ICMP_ECHO_REPLY ? IpVerdict.EchoReply : IpVerdict.EchoRequest;
}

/**
 * Where the IPv4 packet starts in a PPP frame (`ff 03` optional, the Protocol field 0x0021 or
 * compressed 0x21), or -1 when the frame is not IPv4.
 */
export function ipv4Offset(frame: Buffer): number {
  let o = 0;
  if (frame[0] === 0xff) {
    if (frame[1] !== 0x03) return -1;
    o = 2;
  }
  if (frame[o] === 0x21) return o + 1;
  if (frame[o] === 0x00 && frame[o + 1] === 0x21) return o + 2;
  return -1;
}
