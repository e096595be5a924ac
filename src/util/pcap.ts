/**
 * Capture files: read classic pcap and pcapng, write classic pcap.
 *
 * Formats: classic pcap is https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcap/ (magic 0xA1B2C3D4 for
 * microsecond and 0xA1B23C4D for nanosecond timestamps, either byte order; also the "modified" 0xA1B2CD34
 * variant whose records carry 8 more bytes). pcapng is https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/
 * (sections with their own byte order, several interfaces with their own link type, timestamp resolution and
 * offset). Only packet-carrying blocks (EPB, SPB and the obsolete Packet Block) yield packets; every other block
 * is skipped by its length.
 *
 * Capture files come from tools and from the network, so reading is total: any input either parses or
 * throws a CaptureFormatError naming the byte offset where it went wrong — never a RangeError from a Buffer read.
 */

/** Link-layer header types (https://www.tcpdump.org/linktypes.html) that L2TP captures use. */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the capturing host's byte order. */
  NULL: 0,
  /** Ethernet (DLT_EN10MB). */
  EN10MB: 1,
  /** Raw IP, version from the first nibble (DLT_RAW is 12 or 14 in the API, but 101 in files). */
  RAW: 101,
  /** OpenBSD loopback: 4-byte address family in network byte order. */
  LOOP: 108,
  /** Linux "cooked" capture v1 (`tcpdump -i any`). */
  LINUX_SLL: 113,
  /** Raw IPv4. */
  IPV4: 228,
  /** Raw IPv6. */
  IPV6: 229,
  /** Linux "cooked" capture v2 (`tshark -i any` since libpcap 1.10). */
  LINUX_SLL2: 276,
} as const;

export interface CapturedPacket {
  /** Nanoseconds since the Unix epoch (pcapng interface offsets applied). */
  timestampNs: bigint;
  /** Link type of the interface the packet was captured on. */
  linkType: number;
  /** Captured bytes (possibly fewer than originalLength when the snap length cut them). Shares the input's memory. */
  data: Buffer;
  /** Length of the packet on the wire. */
  originalLength: number;
}

export interface Capture {
  format: 'pcap' | 'pcapng';
  packets: CapturedPacket[];
}

/** The input is not a well-formed capture file; `offset` is where in the input the problem sits. */
export class CaptureFormatError extends Error {
  override readonly name = 'CaptureFormatError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} (at offset ${offset})`);
  }
}

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Alexey Kuznetzov's patched libpcap: microseconds, and 8 more bytes per record header. */
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
const PCAP_HEADER_LEN = 24;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_PB = 0x00000002; // obsolete Packet Block
const PCAPNG_SPB = 0x00000003;
const PCAPNG_EPB = 0x00000006;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;

const NS_PER_S = 1_000_000_000n;

/** Parses a classic pcap or pcapng file held entirely in memory. */
export function readCapture(buf: Uint8Array): Capture {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 4) throw new CaptureFormatError(`file too short for a magic number (${b.length} bytes)`, 0);
  const be = b.readUInt32BE(0);
  const le = b.readUInt32LE(0);
  if (be === PCAPNG_SHB) return { format: 'pcapng', packets: readPcapng(b) };
  for (const [magic, littleEndian] of [
    [be, false],
    [le, true],
  ] as const) {
    if (magic === PCAP_MAGIC_US || magic === PCAP_MAGIC_NS || magic === PCAP_MAGIC_MODIFIED) {
      return { format: 'pcap', packets: readPcap(b, littleEndian, magic) };
    }
  }
  throw new CaptureFormatError(`unknown magic number 0x${be.toString(16).padStart(8, '0')}`, 0);
}

/** A bounds-checked, byte-order-aware view; every read names its offset in the error. */
class Reader {
  constructor(
    readonly b: Buffer,
    public le: boolean,
  ) {}
  need(offset: number, len: number, what: string): void {
    if (offset < 0 || len < 0 || offset + len > this.b.length) {
      throw new CaptureFormatError(`truncated ${what}: need ${len} bytes, ${Math.max(0, this.b.length - offset)} left`, offset);
    }
  }
  u16(offset: number, what: string): number {
    this.need(offset, 2, what);
    return this.le ? this.b.readUInt16LE(offset) : this.b.readUInt16BE(offset);
  }
  u32(offset: number, what: string): number {
    this.need(offset, 4, what);
    return this.le ? this.b.readUInt32LE(offset) : this.b.readUInt32BE(offset);
  }
  i64(offset: number, what: string): bigint {
    this.need(offset, 8, what);
    return this.le ? this.b.readBigInt64LE(offset) : this.b.readBigInt64BE(offset);
  }
}

function readPcap(b: Buffer, le: boolean, magic: number): CapturedPacket[] {
  const r = new Reader(b, le);
  r.need(0, PCAP_HEADER_LEN, 'pcap file header');
  const major = r.u16(4, 'version');
  if (major !== 2) throw new CaptureFormatError(`unsupported pcap major version ${major}`, 4);
  // Link type is the low 16 bits; the high bits may carry FCS information (draft-ietf-opsawg-pcap §4).
  const linkType = r.u32(20, 'link type') & 0xffff;
  const nano = magic === PCAP_MAGIC_NS;
  const recordHeaderLen = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
  const packets: CapturedPacket[] = [];
  let off = PCAP_HEADER_LEN;
  while (off < b.length) {
    r.need(off, recordHeaderLen, 'pcap record header');
    const sec = r.u32(off, 'timestamp seconds');
    const frac = r.u32(off + 4, 'timestamp fraction');
    const inclLen = r.u32(off + 8, 'captured length');
    const origLen = r.u32(off + 12, 'original length');
    if (frac >= (nano ? 1_000_000_000 : 1_000_000)) {
      throw new CaptureFormatError(`timestamp fraction ${frac} out of range`, off + 4);
    }
    const dataOff = off + recordHeaderLen;
    r.need(dataOff, inclLen, 'pcap record data');
    packets.push({
      timestampNs: BigInt(sec) * NS_PER_S + BigInt(frac) * (nano ? 1n : 1000n),
      linkType,
      data: b.subarray(dataOff, dataOff + inclLen),
      originalLength: origLen,
    });
    off = dataOff + inclLen;
  }
  return packets;
}

interface PcapngInterface {
  linkType: number;
  snapLen: number;
  /** Timestamp units: ns = units * mul / div. */
  mul: bigint;
  div: bigint;
  offsetNs: bigint;
}

function readPcapng(b: Buffer): CapturedPacket[] {
  const r = new Reader(b, false);
  const packets: CapturedPacket[] = [];
  let interfaces: PcapngInterface[] = [];
  let off = 0;
  let seenShb = false;
  while (off < b.length) {
    r.need(off, 12, 'block header');
    // The SHB type is a palindrome so it can be recognised before the byte order is known.
    if (b.readUInt32BE(off) === PCAPNG_SHB) {
      r.need(off + 8, 4, 'byte-order magic');
      if (b.readUInt32BE(off + 8) === PCAPNG_BYTE_ORDER_MAGIC) r.le = false;
      else if (b.readUInt32LE(off + 8) === PCAPNG_BYTE_ORDER_MAGIC) r.le = true;
      else throw new CaptureFormatError('bad byte-order magic in Section Header Block', off + 8);
      const total = r.u32(off + 4, 'block total length');
      if (total < 28) throw new CaptureFormatError(`Section Header Block too short (${total} bytes)`, off + 4);
      const major = r.u16(off + 12, 'section version');
      if (major !== 1) throw new CaptureFormatError(`unsupported pcapng major version ${major}`, off + 12);
      interfaces = [];
      seenShb = true;
    } else if (!seenShb) {
      throw new CaptureFormatError('pcapng file does not start with a Section Header Block', off);
    }
    const type = r.u32(off, 'block type');
    const total = r.u32(off + 4, 'block total length');
    if (total < 12 || total % 4 !== 0) throw new CaptureFormatError(`bad block total length ${total}`, off + 4);
    r.need(off, total, `block of type 0x${type.toString(16)}`);
    const trailer = r.u32(off + total - 4, 'trailing block total length');
    if (trailer !== total) {
      throw new CaptureFormatError(`trailing block length ${trailer} differs from leading ${total}`, off + total - 4);
    }
    const body = off + 8;
    const bodyEnd = off + total - 4;
    switch (type) {
      case PCAPNG_IDB:
        interfaces.push(readIdb(r, body, bodyEnd));
        break;
      case PCAPNG_EPB:
      case PCAPNG_PB: {
        const epb = type === PCAPNG_EPB;
        if (body + 20 > bodyEnd) throw new CaptureFormatError('packet block too short', off);
        const ifId = epb ? r.u32(body, 'interface id') : r.u16(body, 'interface id');
        const iface = interfaces[ifId];
        if (!iface) throw new CaptureFormatError(`packet refers to undeclared interface ${ifId}`, body);
        const units = (BigInt(r.u32(body + 4, 'timestamp high')) << 32n) | BigInt(r.u32(body + 8, 'timestamp low'));
        const capLen = r.u32(body + 12, 'captured length');
        const origLen = r.u32(body + 16, 'original length');
        const dataOff = body + 20;
        if (capLen > bodyEnd - dataOff) throw new CaptureFormatError(`captured length ${capLen} overruns its block`, body + 12);
        packets.push({
          timestampNs: (units * iface.mul) / iface.div + iface.offsetNs,
          linkType: iface.linkType,
          data: b.subarray(dataOff, dataOff + capLen),
          originalLength: origLen,
        });
        break;
      }
      case PCAPNG_SPB: {
        const iface = interfaces[0];
        if (!iface) throw new CaptureFormatError('Simple Packet Block without interface 0', off);
        if (body + 4 > bodyEnd) throw new CaptureFormatError('Simple Packet Block too short', off);
        const origLen = r.u32(body, 'original length');
        // The captured length is implicit: the original length, cut by the snap length and by the block.
        let capLen = Math.min(origLen, bodyEnd - body - 4);
        if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        packets.push({
          timestampNs: 0n, // SPBs carry no timestamp
          linkType: iface.linkType,
          data: b.subarray(body + 4, body + 4 + capLen),
          originalLength: origLen,
        });
        break;
      }
      default:
        break; // SHB (handled above), NRB, ISB, DSB, custom blocks...: nothing we need
    }
    off += total;
  }
  return packets;
}

function readIdb(r: Reader, body: number, bodyEnd: number): PcapngInterface {
  if (body + 8 > bodyEnd) throw new CaptureFormatError('Interface Description Block too short', body);
  const iface: PcapngInterface = {
    linkType: r.u16(body, 'link type'),
    snapLen: r.u32(body + 4, 'snap length'),
    mul: 1000n, // default resolution: microseconds
    div: 1n,
    offsetNs: 0n,
  };
  let o = body + 8;
  while (o + 4 <= bodyEnd) {
    const code = r.u16(o, 'option code');
    const len = r.u16(o + 2, 'option length');
    const v = o + 4;
    if (v + len > bodyEnd) throw new CaptureFormatError(`option ${code} overruns its block`, o + 2);
    if (code === OPT_ENDOFOPT) break;
    if (code === OPT_IF_TSRESOL && len >= 1) {
      const res = r.b[v] ?? 0;
      const exp = BigInt(res & 0x7f);
      // MSB set: negative power of 2, else negative power of 10.
      const unitsPerSecond = res & 0x80 ? 1n << exp : 10n ** exp;
      iface.mul = NS_PER_S;
      iface.div = unitsPerSecond;
    } else if (code === OPT_IF_TSOFFSET && len >= 8) {
      iface.offsetNs = r.i64(v, 'if_tsoffset') * NS_PER_S;
    }
    o = v + ((len + 3) & ~3);
  }
  return iface;
}

export interface PcapWriteOptions {
  /** Write the nanosecond-resolution magic (default true: timestamps round-trip exactly). */
  nanosecond?: boolean;
}

/**
 * Writes a little-endian classic pcap file. A packet without a timestamp gets `index` microseconds, so the
 * output is deterministic (golden files) and still ordered.
 */
export function writePcap(
  packets: readonly { timestampNs?: bigint; data: Uint8Array }[],
  linkType: number,
  opts: PcapWriteOptions = {},
): Buffer {
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) throw new RangeError(`bad link type ${linkType}`);
  const nano = opts.nanosecond ?? true;
  let total = PCAP_HEADER_LEN;
  let maxLen = 0;
  for (const p of packets) {
    total += 16 + p.data.length;
    maxLen = Math.max(maxLen, p.data.length);
  }
  const out = Buffer.alloc(total);
  out.writeUInt32LE(nano ? PCAP_MAGIC_NS : PCAP_MAGIC_US, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  // thiszone and sigfigs stay 0
  out.writeUInt32LE(Math.max(262144, maxLen), 16);
  out.writeUInt32LE(linkType, 20);
  let off = PCAP_HEADER_LEN;
  packets.forEach((p, i) => {
    const ts = p.timestampNs ?? BigInt(i) * 1000n;
    const sec = ts / NS_PER_S;
    if (ts < 0n || sec > 0xffffffffn) throw new RangeError(`packet ${i}: timestamp ${ts} ns does not fit a pcap record`);
    const frac = ts % NS_PER_S;
    out.writeUInt32LE(Number(sec), off);
    out.writeUInt32LE(Number(nano ? frac : frac / 1000n), off + 4);
    out.writeUInt32LE(p.data.length, off + 8);
    out.writeUInt32LE(p.data.length, off + 12);
    out.set(p.data, off + 16);
    off += 16 + p.data.length;
  });
  return out;
}
