/**
 * Link-layer frames that carry L2TP: build them (for captures that tshark should decode) and take them apart
 * (to pull the L2TP bytes out of a capture made by tshark/tcpdump on any interface).
 *
 * Two encapsulations: UDP (L2TPv2, RFC 2661 §8.1, and L2TPv3, RFC 3931 §4.1.2) and L2TPv3 directly over IP,
 * protocol 115 (RFC 3931 §4.1.1). Fragments are not reassembled: a fragmented datagram yields null.
 */
import type { CapturedPacket } from './pcap.js';
import { LinkType } from './pcap.js';

export const IPPROTO_UDP = 17;
/** RFC 3931 §4.1.1: L2TPv3 over IP. */
export const IPPROTO_L2TP = 115;

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;

/** Dummy, locally administered MACs for built Ethernet frames. */
const MAC_SRC = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);
const MAC_DST = Buffer.from([0x02, 0, 0, 0, 0, 0x02]);

/** Address-family values seen in NULL/LOOP headers: Linux, and the BSDs' three IPv6 numbers. */
const AF_INET = 2;
const AF_INET6_VALUES = new Set([10, 24, 28, 30]);
/** What we write for IPv6 in NULL/LOOP headers: the BSD value every decoder knows. */
const AF_INET6_BSD = 24;

export interface Ipv4UdpSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  payload: Uint8Array;
  /** Default 64. */
  ttl?: number;
  /** IPv4 identification, default 0. */
  id?: number;
}

export interface IpProtoSpec {
  src: string;
  dst: string;
  payload: Uint8Array;
  ttl?: number;
  id?: number;
}

export interface ExtractedL2tp {
  src: string;
  dst: string;
  /** Present for UDP only. */
  sport?: number;
  dport?: number;
  transport: 'udp' | 'ip';
  ipVersion: 4 | 6;
  /** The UDP payload, or the IP payload for protocol 115 (starting with the 32-bit Session ID). Shares memory. */
  payload: Buffer;
}

// ---------------------------------------------------------------------------------------------------------------
// Building

export function buildIpv4UdpFrame(spec: Ipv4UdpSpec, linkType: number = LinkType.EN10MB): Buffer {
  const src = parseIpv4(spec.src);
  const dst = parseIpv4(spec.dst);
  const udp = buildUdp(spec.sport, spec.dport, spec.payload, ipv4PseudoHeader(src, dst, IPPROTO_UDP, 8 + spec.payload.length));
  return wrapLinkLayer(buildIpv4Packet(src, dst, IPPROTO_UDP, udp, spec), 4, linkType);
}

/** L2TPv3 over IP: the payload goes right after the IPv4 header, protocol 115. */
export function buildIpv4L2tpIpFrame(spec: IpProtoSpec, linkType: number = LinkType.EN10MB): Buffer {
  const packet = buildIpv4Packet(parseIpv4(spec.src), parseIpv4(spec.dst), IPPROTO_L2TP, Buffer.from(spec.payload), spec);
  return wrapLinkLayer(packet, 4, linkType);
}

export function buildIpv6UdpFrame(spec: Omit<Ipv4UdpSpec, 'id'>, linkType: number = LinkType.EN10MB): Buffer {
  const src = parseIpv6(spec.src);
  const dst = parseIpv6(spec.dst);
  const udp = buildUdp(spec.sport, spec.dport, spec.payload, ipv6PseudoHeader(src, dst, IPPROTO_UDP, 8 + spec.payload.length));
  return wrapLinkLayer(buildIpv6Packet(src, dst, IPPROTO_UDP, udp, spec.ttl), 6, linkType);
}

export function buildIpv6L2tpIpFrame(spec: Omit<IpProtoSpec, 'id'>, linkType: number = LinkType.EN10MB): Buffer {
  const packet = buildIpv6Packet(parseIpv6(spec.src), parseIpv6(spec.dst), IPPROTO_L2TP, Buffer.from(spec.payload), spec.ttl);
  return wrapLinkLayer(packet, 6, linkType);
}

function checkPort(port: number, what: string): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`bad ${what} ${port}`);
}

function buildUdp(sport: number, dport: number, payload: Uint8Array, pseudo: Buffer): Buffer {
  checkPort(sport, 'source port');
  checkPort(dport, 'destination port');
  const len = 8 + payload.length;
  if (len > 0xffff) throw new RangeError(`UDP payload too long (${payload.length} bytes)`);
  const udp = Buffer.alloc(len);
  udp.writeUInt16BE(sport, 0);
  udp.writeUInt16BE(dport, 2);
  udp.writeUInt16BE(len, 4);
  udp.set(payload, 8);
  // RFC 768: a computed checksum of 0 is sent as all ones (0 means "no checksum").
  udp.writeUInt16BE(internetChecksum(pseudo, udp) || 0xffff, 6);
  return udp;
}

function buildIpv4Packet(src: Buffer, dst: Buffer, protocol: number, body: Buffer, opts: { ttl?: number; id?: number }): Buffer {
  const total = 20 + body.length;
  if (total > 0xffff) throw new RangeError(`IPv4 packet too long (${total} bytes)`);
  const ip = Buffer.alloc(total);
  ip[0] = 0x45; // version 4, IHL 5
  ip.writeUInt16BE(total, 2);
  ip.writeUInt16BE((opts.id ?? 0) & 0xffff, 4);
  ip.writeUInt16BE(0x4000, 6); // DF, as Linux sends L2TP
  ip[8] = opts.ttl ?? 64;
  ip[9] = protocol;
  src.copy(ip, 12);
  dst.copy(ip, 16);
  ip.writeUInt16BE(internetChecksum(ip.subarray(0, 20)), 10);
  body.copy(ip, 20);
  return ip;
}

function buildIpv6Packet(src: Buffer, dst: Buffer, nextHeader: number, body: Buffer, hopLimit = 64): Buffer {
  if (body.length > 0xffff) throw new RangeError(`IPv6 payload too long (${body.length} bytes)`);
  const ip = Buffer.alloc(40 + body.length);
  ip.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
  ip.writeUInt16BE(body.length, 4);
  ip[6] = nextHeader;
  ip[7] = hopLimit;
  src.copy(ip, 8);
  dst.copy(ip, 24);
  body.copy(ip, 40);
  return ip;
}

function ipv4PseudoHeader(src: Buffer, dst: Buffer, protocol: number, length: number): Buffer {
  const p = Buffer.alloc(12);
  src.copy(p, 0);
  dst.copy(p, 4);
  p[9] = protocol;
  p.writeUInt16BE(length & 0xffff, 10);
  return p;
}

function ipv6PseudoHeader(src: Buffer, dst: Buffer, nextHeader: number, length: number): Buffer {
  const p = Buffer.alloc(40);
  src.copy(p, 0);
  dst.copy(p, 16);
  p.writeUInt32BE(length, 32);
  p[39] = nextHeader;
  return p;
}

/** Puts a link-layer header in front of an IP packet. Throws RangeError for link types we do not build. */
export function wrapLinkLayer(ip: Buffer, ipVersion: 4 | 6, linkType: number): Buffer {
  const ethertype = ipVersion === 4 ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
  const af = ipVersion === 4 ? AF_INET : AF_INET6_BSD;
  switch (linkType) {
    case LinkType.EN10MB: {
      const h = Buffer.alloc(14);
      MAC_DST.copy(h, 0);
      MAC_SRC.copy(h, 6);
      h.writeUInt16BE(ethertype, 12);
      return Buffer.concat([h, ip]);
    }
    case LinkType.RAW:
      return ip;
    case LinkType.IPV4:
    case LinkType.IPV6:
      if ((linkType === LinkType.IPV4) !== (ipVersion === 4)) {
        throw new RangeError(`link type ${linkType} cannot carry IPv${ipVersion}`);
      }
      return ip;
    case LinkType.NULL: {
      // Host byte order of the capturing machine; little-endian is what nearly every capture has.
      const h = Buffer.alloc(4);
      h.writeUInt32LE(af, 0);
      return Buffer.concat([h, ip]);
    }
    case LinkType.LOOP: {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(af, 0);
      return Buffer.concat([h, ip]);
    }
    case LinkType.LINUX_SLL: {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0, 0); // packet type: to us
      h.writeUInt16BE(1, 2); // ARPHRD_ETHER
      h.writeUInt16BE(6, 4);
      MAC_SRC.copy(h, 6);
      h.writeUInt16BE(ethertype, 14);
      return Buffer.concat([h, ip]);
    }
    case LinkType.LINUX_SLL2: {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(ethertype, 0);
      h.writeUInt32BE(1, 4); // interface index
      h.writeUInt16BE(1, 8); // ARPHRD_ETHER
      h[10] = 0; // packet type: to us
      h[11] = 6;
      MAC_SRC.copy(h, 12);
      return Buffer.concat([h, ip]);
    }
    default:
      throw new RangeError(`cannot build frames for link type ${linkType}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Taking apart

/**
 * Finds the UDP payload (any port: the caller filters) or the IP-protocol-115 payload in a captured frame.
 * Returns null for other link types, non-IP, other protocols, fragments and truncated or inconsistent headers.
 * Never throws.
 */
export function extractL2tp(packet: Pick<CapturedPacket, 'linkType' | 'data'>): ExtractedL2tp | null {
  const d = packet.data;
  const ip = findIp(packet.linkType, d);
  if (!ip) return null;
  return ip.version === 4 ? fromIpv4(ip.bytes) : fromIpv6(ip.bytes);
}

function findIp(linkType: number, d: Buffer): { version: 4 | 6; bytes: Buffer } | null {
  switch (linkType) {
    case LinkType.EN10MB: {
      if (d.length < 14) return null;
      let off = 12;
      let type = d.readUInt16BE(off);
      // One 802.1Q tag, or two (802.1ad QinQ).
      for (let tags = 0; tags < 2 && (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD); tags++) {
        off += 4;
        if (d.length < off + 2) return null;
        type = d.readUInt16BE(off);
      }
      return byEthertype(type, d.subarray(off + 2));
    }
    case LinkType.LINUX_SLL:
      return d.length < 16 ? null : byEthertype(d.readUInt16BE(14), d.subarray(16));
    case LinkType.LINUX_SLL2:
      return d.length < 20 ? null : byEthertype(d.readUInt16BE(0), d.subarray(20));
    case LinkType.RAW:
      return d.length < 1 ? null : byVersion(d);
    case LinkType.IPV4:
      return d.length >= 1 && d[0]! >> 4 === 4 ? { version: 4, bytes: d } : null;
    case LinkType.IPV6:
      return d.length >= 1 && d[0]! >> 4 === 6 ? { version: 6, bytes: d } : null;
    case LinkType.NULL:
    case LinkType.LOOP: {
      if (d.length < 4) return null;
      // NULL is in the capturing host's byte order, LOOP in network order; accept either for both.
      const afs = [d.readUInt32LE(0), d.readUInt32BE(0)];
      const rest = d.subarray(4);
      if (afs.includes(AF_INET)) return { version: 4, bytes: rest };
      if (afs.some((af) => AF_INET6_VALUES.has(af))) return { version: 6, bytes: rest };
      return null;
    }
    default:
      return null;
  }
}

function byEthertype(type: number, rest: Buffer): { version: 4 | 6; bytes: Buffer } | null {
  if (type === ETHERTYPE_IPV4) return { version: 4, bytes: rest };
  if (type === ETHERTYPE_IPV6) return { version: 6, bytes: rest };
  return null;
}

function byVersion(d: Buffer): { version: 4 | 6; bytes: Buffer } | null {
  const v = d[0]! >> 4;
  return v === 4 ? { version: 4, bytes: d } : v === 6 ? { version: 6, bytes: d } : null;
}

function fromIpv4(ip: Buffer): ExtractedL2tp | null {
  if (ip.length < 20 || ip[0]! >> 4 !== 4) return null;
  const ihl = (ip[0]! & 0x0f) * 4;
  if (ihl < 20 || ip.length < ihl) return null;
  let total = ip.readUInt16BE(2);
  // Total length 0: TSO/GSO super-packets captured on the sending host; use what was captured.
  if (total === 0) total = ip.length;
  if (total < ihl || total > ip.length) return null; // truncated capture, or garbage
  const fragment = ip.readUInt16BE(6);
  if (fragment & 0x3fff) return null; // MF set or non-zero offset
  const src = formatIpv4(ip.subarray(12, 16));
  const dst = formatIpv4(ip.subarray(16, 20));
  // Trim the Ethernet minimum-frame padding.
  return fromTransport(ip[9]!, ip.subarray(ihl, total), src, dst, 4);
}

function fromIpv6(ip: Buffer): ExtractedL2tp | null {
  if (ip.length < 40 || ip[0]! >> 4 !== 6) return null;
  const payloadLen = ip.readUInt16BE(4);
  if (40 + payloadLen > ip.length) return null; // truncated
  if (payloadLen === 0 && ip[6] === 0) return null; // RFC 2675 jumbogram: length in a hop-by-hop option
  const src = formatIpv6(ip.subarray(8, 24));
  const dst = formatIpv6(ip.subarray(24, 40));
  let next = ip[6]!;
  let body = ip.subarray(40, 40 + payloadLen);
  // Walk the extension headers (RFC 8200 §4).
  for (;;) {
    if (next === 0 || next === 43 || next === 60) {
      // Hop-by-hop, Routing, Destination Options: length in 8-octet units, not counting the first 8.
      if (body.length < 8) return null;
      const len = (body[1]! + 1) * 8;
      if (body.length < len) return null;
      next = body[0]!;
      body = body.subarray(len);
    } else if (next === 44) {
      if (body.length < 8) return null;
      const offsetAndM = body.readUInt16BE(2);
      if (offsetAndM & 0xfff9) return null; // offset != 0 or M set: a real fragment (atomic ones pass)
      next = body[0]!;
      body = body.subarray(8);
    } else if (next === 51) {
      // Authentication Header: length in 4-octet units, not counting the first 2.
      if (body.length < 8) return null;
      const len = (body[1]! + 2) * 4;
      if (body.length < len) return null;
      next = body[0]!;
      body = body.subarray(len);
    } else {
      break;
    }
  }
  return fromTransport(next, body, src, dst, 6);
}

function fromTransport(protocol: number, body: Buffer, src: string, dst: string, ipVersion: 4 | 6): ExtractedL2tp | null {
  if (protocol === IPPROTO_L2TP) return { src, dst, transport: 'ip', ipVersion, payload: body };
  if (protocol !== IPPROTO_UDP || body.length < 8) return null;
  const len = body.readUInt16BE(4);
  if (len < 8 || len > body.length) return null;
  return {
    src,
    dst,
    sport: body.readUInt16BE(0),
    dport: body.readUInt16BE(2),
    transport: 'udp',
    ipVersion,
    payload: body.subarray(8, len),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Checksums and addresses

/** RFC 1071 one's-complement checksum over the concatenation of the parts. */
export function internetChecksum(...parts: Uint8Array[]): number {
  const b = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  let sum = 0;
  const even = b.length & ~1;
  for (let i = 0; i < even; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length & 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** Dotted quad to 4 bytes; throws TypeError on anything else. */
export function parseIpv4(s: string): Buffer {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) {
    throw new TypeError(`not an IPv4 address: ${JSON.stringify(s)}`);
  }
  return Buffer.from(parts.map(Number));
}

export function formatIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** RFC 4291 §2.2 text (with `::` and an optional dotted-quad tail) to 16 bytes; throws TypeError otherwise. */
export function parseIpv6(s: string): Buffer {
  const bad = (): never => {
    throw new TypeError(`not an IPv6 address: ${JSON.stringify(s)}`);
  };
  const group = (g: string): number => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : bad());
  const groupsOf = (h: string): number[] => (h === '' ? [] : h.split(':').map(group));
  let text = s;
  let tail: number[] = [];
  if (text.includes('.')) {
    const i = text.lastIndexOf(':');
    const v4 = i < 0 ? null : parseIpv4OrNull(text.slice(i + 1));
    if (!v4) return bad();
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    text = text.slice(0, i + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1); // "1:2:3:4:5:6:" -> "1:2:3:4:5:6"
  }
  const halves = text.split('::');
  let groups: number[];
  if (halves.length === 1) {
    groups = [...groupsOf(text), ...tail];
    if (groups.length !== 8) bad();
  } else if (halves.length === 2) {
    const head = groupsOf(halves[0]!);
    const rest = groupsOf(halves[1]!);
    const n = head.length + rest.length + tail.length;
    if (n > 7) bad();
    groups = [...head, ...new Array<number>(8 - n).fill(0), ...rest, ...tail];
  } else {
    return bad();
  }
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function parseIpv4OrNull(s: string): Buffer | null {
  try {
    return parseIpv4(s);
  } catch {
    return null;
  }
}

/** RFC 5952 canonical text: lowercase, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i] ?? 0) << 8) | (b[i + 1] ?? 0));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}
