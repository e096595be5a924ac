import { readFile, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CaptureFormatError, LinkType, readCapture, writePcap } from '../../src/util/pcap.js';
import { buildIpv4UdpFrame } from '../../src/util/frames.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';
import { runTool } from '../support/run.js';

// ---------------------------------------------------------------------------------------------------------------
// Hand-built pcapng pieces (draft-ietf-opsawg-pcapng), in either byte order.

function u16(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(2);
  if (le) b.writeUInt16LE(v);
  else b.writeUInt16BE(v);
  return b;
}
function u32(le: boolean, v: number): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
}
function pad4(b: Buffer): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}
function block(le: boolean, type: number, body: Buffer): Buffer {
  const padded = pad4(body);
  const total = 12 + padded.length;
  return Buffer.concat([u32(le, type), u32(le, total), padded, u32(le, total)]);
}
function option(le: boolean, code: number, value: Buffer): Buffer {
  return Buffer.concat([u16(le, code), u16(le, value.length), pad4(value)]);
}
const endOfOptions = (le: boolean): Buffer => Buffer.concat([u16(le, 0), u16(le, 0)]);
function shb(le: boolean): Buffer {
  return block(le, 0x0a0d0d0a, Buffer.concat([u32(le, 0x1a2b3c4d), u16(le, 1), u16(le, 0), Buffer.alloc(8, 0xff)]));
}
function idb(le: boolean, linkType: number, snapLen: number, options: Buffer[] = []): Buffer {
  const opts = options.length ? Buffer.concat([...options, endOfOptions(le)]) : Buffer.alloc(0);
  return block(le, 1, Buffer.concat([u16(le, linkType), u16(le, 0), u32(le, snapLen), opts]));
}
function epb(le: boolean, ifId: number, units: bigint, data: Buffer, origLen = data.length): Buffer {
  const ts = Buffer.concat([u32(le, Number(units >> 32n)), u32(le, Number(units & 0xffffffffn))]);
  return block(le, 6, Buffer.concat([u32(le, ifId), ts, u32(le, data.length), u32(le, origLen), pad4(data)]));
}
function spb(le: boolean, data: Buffer, origLen = data.length): Buffer {
  return block(le, 3, Buffer.concat([u32(le, origLen), pad4(data)]));
}
/** Obsolete Packet Block: 16-bit interface id and drops count. */
function pb(le: boolean, ifId: number, units: bigint, data: Buffer): Buffer {
  const ts = Buffer.concat([u32(le, Number(units >> 32n)), u32(le, Number(units & 0xffffffffn))]);
  return block(le, 2, Buffer.concat([u16(le, ifId), u16(le, 0), ts, u32(le, data.length), u32(le, data.length), pad4(data)]));
}

const A = Buffer.from('aaaaaaaaaa', 'hex');
const B = Buffer.from('bbbbbbbbbbbbbb', 'hex');
const C = Buffer.from('cccccccccccccccc', 'hex');
const D = Buffer.from('dd', 'hex');
const E = Buffer.from('eeee', 'hex');

/** Two sections (big- then little-endian), three interfaces, every packet block kind, unknown blocks between. */
function sampleNg(): Buffer {
  return Buffer.concat([
    shb(false),
    idb(false, LinkType.EN10MB, 65535), // default resolution: microseconds
    idb(false, LinkType.RAW, 65535, [
      option(false, 9, Buffer.from([9])), // if_tsresol: 10^-9
      option(false, 14, Buffer.from('000000000000000a', 'hex')), // if_tsoffset: +10 s (big-endian i64)
    ]),
    block(false, 0x0bad0bad, Buffer.from('unknown block')),
    epb(false, 1, 123n, A),
    epb(false, 0, 1_500_000n, B, 1000),
    block(false, 4, Buffer.alloc(8)), // Name Resolution Block: skipped
    shb(true), // new section: interfaces start over
    idb(true, LinkType.LINUX_SLL, 4, [option(true, 9, Buffer.from([0x80 | 20]))]), // 2^-20 s units, snaplen 4
    spb(true, C, 8), // cut to the snap length 4
    pb(true, 0, (3n << 20n) | (1n << 19n), D),
    epb(true, 0, 0n, E),
  ]);
}

describe('readCapture: pcapng', () => {
  it('reads sections of both byte orders, several interfaces, EPB/SPB/PB, and skips unknown blocks', () => {
    const cap = readCapture(sampleNg());
    expect(cap.format).toBe('pcapng');
    expect(cap.packets.map((p) => [p.linkType, p.data.toString('hex'), p.originalLength, p.timestampNs])).toEqual([
      [LinkType.RAW, A.toString('hex'), A.length, 10_000_000_123n],
      [LinkType.EN10MB, B.toString('hex'), 1000, 1_500_000_000n],
      [LinkType.LINUX_SLL, 'cccccccc', 8, 0n],
      [LinkType.LINUX_SLL, 'dd', 1, 3_500_000_000n],
      [LinkType.LINUX_SLL, 'eeee', 2, 0n],
    ]);
  });

  it('rejects a packet on an undeclared interface, with the offset of the interface id', () => {
    const head = Buffer.concat([shb(true), idb(true, 1, 0)]);
    const bad = Buffer.concat([head, epb(true, 1, 0n, A)]);
    const err = catchError(() => readCapture(bad));
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect((err as CaptureFormatError).offset).toBe(head.length + 8);
  });

  it('rejects a block whose trailing length differs', () => {
    const good = Buffer.concat([shb(true), idb(true, 1, 0)]);
    const bad = Buffer.from(good);
    bad.writeUInt32LE(999, bad.length - 4);
    const err = catchError(() => readCapture(bad));
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect((err as CaptureFormatError).offset).toBe(bad.length - 4);
  });

  it('rejects a truncated file', () => {
    const full = sampleNg();
    const err = catchError(() => readCapture(full.subarray(0, full.length - 3)));
    expect(err).toBeInstanceOf(CaptureFormatError);
  });
});

describe('readCapture: classic pcap', () => {
  /** A classic pcap written by hand in the given byte order. */
  function classic(le: boolean, magic: number, linkTypeField: number, records: [number, number, Buffer, number][]): Buffer {
    const header = Buffer.concat([u32(le, magic), u16(le, 2), u16(le, 4), u32(le, 0), u32(le, 0), u32(le, 65535), u32(le, linkTypeField)]);
    const extra = magic === 0xa1b2cd34 ? Buffer.alloc(8, 0x77) : Buffer.alloc(0);
    const recs = records.map(([sec, frac, data, orig]) =>
      Buffer.concat([u32(le, sec), u32(le, frac), u32(le, data.length), u32(le, orig), extra, data]),
    );
    return Buffer.concat([header, ...recs]);
  }

  it.each([
    ['big-endian microseconds', false, 0xa1b2c3d4, 1_000n],
    ['little-endian microseconds', true, 0xa1b2c3d4, 1_000n],
    ['big-endian nanoseconds', false, 0xa1b23c4d, 1n],
    ['little-endian nanoseconds', true, 0xa1b23c4d, 1n],
    ['modified (Kuznetzov) pcap', true, 0xa1b2cd34, 1_000n],
  ])('reads %s', (_name, le, magic, fracUnit) => {
    // FCS bits in the upper part of the link-type field (draft-ietf-opsawg-pcap §4) must not leak into linkType.
    const buf = classic(le, magic, 0x10000000 | LinkType.RAW, [
      [1_700_000_000, 999, A, A.length],
      [5, 0, B, 1500],
    ]);
    const cap = readCapture(buf);
    expect(cap.format).toBe('pcap');
    expect(cap.packets).toEqual([
      { timestampNs: 1_700_000_000n * 1_000_000_000n + 999n * fracUnit, linkType: LinkType.RAW, data: A, originalLength: A.length },
      { timestampNs: 5_000_000_000n, linkType: LinkType.RAW, data: B, originalLength: 1500 },
    ]);
  });

  it.each([
    ['empty input', Buffer.alloc(0), 0],
    ['unknown magic', Buffer.from('00112233445566778899', 'hex'), 0],
    ['short file header', writePcap([], 1).subarray(0, 20), 0],
    ['truncated record data', Buffer.concat([writePcap([{ data: A }], 1).subarray(0, 24 + 16), Buffer.from([1])]), 40],
    ['truncated record header', Buffer.concat([writePcap([], 1), Buffer.alloc(7)]), 24],
  ])('rejects %s with a CaptureFormatError at the right offset', (_name, buf, offset) => {
    const err = catchError(() => readCapture(buf));
    expect(err).toBeInstanceOf(CaptureFormatError);
    expect((err as CaptureFormatError).offset).toBe(offset);
  });
});

describe('writePcap', () => {
  const packetsArb = fc.array(
    fc.record({ timestampNs: fc.bigInt({ min: 0n, max: 0xffffffffn * 1_000_000_000n + 999_999_999n }), data: fc.uint8Array({ maxLength: 200 }) }),
    { maxLength: 20 },
  );

  it('round-trips through readCapture (nanosecond magic by default)', () => {
    fc.assert(
      fc.property(packetsArb, fc.integer({ min: 0, max: 0xffff }), (packets, linkType) => {
        const cap = readCapture(writePcap(packets, linkType));
        expect(cap.format).toBe('pcap');
        expect(cap.packets.map((p) => [p.timestampNs, p.linkType, [...p.data], p.originalLength])).toEqual(
          packets.map((p) => [p.timestampNs, linkType, [...p.data], p.data.length]),
        );
      }),
    );
  });

  it('truncates to microseconds with the microsecond magic', () => {
    fc.assert(
      fc.property(packetsArb, (packets) => {
        const cap = readCapture(writePcap(packets, LinkType.EN10MB, { nanosecond: false }));
        expect(cap.packets.map((p) => p.timestampNs)).toEqual(packets.map((p) => (p.timestampNs / 1000n) * 1000n));
      }),
    );
  });

  it('gives packets without a timestamp index microseconds', () => {
    const cap = readCapture(writePcap([{ data: A }, { data: B }, { timestampNs: 7n, data: C }], 1));
    expect(cap.packets.map((p) => p.timestampNs)).toEqual([0n, 1000n, 7n]);
  });

  it('refuses timestamps a pcap record cannot hold', () => {
    expect(() => writePcap([{ timestampNs: -1n, data: A }], 1)).toThrow(RangeError);
    expect(() => writePcap([{ timestampNs: 1n << 33n << 30n, data: A }], 1)).toThrow(RangeError);
  });
});

describe('readCapture on hostile input', () => {
  const isCaptureErrorOrOk = (buf: Uint8Array): boolean => {
    try {
      readCapture(buf);
      return true;
    } catch (e) {
      if (e instanceof CaptureFormatError) return true;
      throw e; // any other exception fails the property and is shown with its input
    }
  };
  const magics = [
    Buffer.from('a1b2c3d4', 'hex'),
    Buffer.from('d4c3b2a1', 'hex'),
    Buffer.from('a1b23c4d', 'hex'),
    Buffer.from('4d3cb2a1', 'hex'),
    Buffer.from('34cdb2a1', 'hex'),
    Buffer.from('0a0d0d0a', 'hex'),
  ];

  it('throws nothing but CaptureFormatError on random bytes, with or without a valid magic', () => {
    fc.assert(
      fc.property(fc.constantFrom(Buffer.alloc(0), ...magics), fc.uint8Array({ maxLength: 300 }), (magic, rest) =>
        isCaptureErrorOrOk(Buffer.concat([magic, rest])),
      ),
      { numRuns: 2000 },
    );
  });

  it('throws nothing but CaptureFormatError on mutated and truncated valid files', () => {
    const valid = [
      sampleNg(),
      writePcap([{ data: A }, { data: B, timestampNs: 5n }], LinkType.EN10MB),
      writePcap([{ data: C }], LinkType.RAW, { nanosecond: false }),
    ];
    const mutation = fc.record({
      file: fc.constantFrom(...valid),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      cut: fc.option(fc.nat()),
    });
    fc.assert(
      fc.property(mutation, ({ file, flips, cut }) => {
        const b = Buffer.from(file);
        for (const [at, v] of flips) b[at % b.length] = v;
        return isCaptureErrorOrOk(cut === null ? b : b.subarray(0, cut % (b.length + 1)));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('files written by Wireshark tools', () => {
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await makeTempDir('l2tpd-pcap-');
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  const frame = (n: number): Buffer =>
    buildIpv4UdpFrame({ src: '198.18.0.1', dst: '198.18.0.2', sport: 1701, dport: 1701, payload: Buffer.from(`l2tp-${n}`) });
  const packets = [0, 1, 2].map((n) => ({ timestampNs: 1_700_000_000_123_456_789n + BigInt(n) * 1_000_001n, data: frame(n) }));

  it.each([
    ['tshark -F pcapng', (inp: string, out: string) => runTool('tshark', ['-r', inp, '-F', 'pcapng', '-w', out])],
    ['editcap -F pcapng', (inp: string, out: string) => runTool('editcap', ['-F', 'pcapng', inp, out])],
  ])('reads the pcapng that %s writes from our pcap', async (name, convert) => {
    const inp = tmp.file(`${name.split(' ')[0]}-in.pcap`);
    const out = tmp.file(`${name.split(' ')[0]}-out.pcapng`);
    await writeFile(inp, writePcap(packets, LinkType.EN10MB));
    await convert(inp, out);
    const cap = readCapture(await readFile(out));
    expect(cap.format).toBe('pcapng');
    expect(cap.packets.map((p) => [p.timestampNs, p.linkType, p.data.toString('hex'), p.originalLength])).toEqual(
      packets.map((p) => [p.timestampNs, LinkType.EN10MB, p.data.toString('hex'), p.data.length]),
    );
  });

  it('reads a pcapng that mergecap writes from two link types (two interfaces)', async () => {
    const eth = tmp.file('eth.pcap');
    const raw = tmp.file('raw.pcap');
    const merged = tmp.file('merged.pcapng');
    const rawPacket = { timestampNs: 1_700_000_000_123_456_789n + 500_000n, data: frame(9).subarray(14) };
    await writeFile(eth, writePcap(packets, LinkType.EN10MB));
    await writeFile(raw, writePcap([rawPacket], LinkType.RAW));
    await runTool('mergecap', ['-F', 'pcapng', '-w', merged, eth, raw]);
    const cap = readCapture(await readFile(merged));
    expect(cap.format).toBe('pcapng');
    // mergecap interleaves by time
    expect(cap.packets.map((p) => [p.timestampNs, p.linkType, p.data.toString('hex')])).toEqual(
      [packets[0]!, rawPacket, packets[1]!, packets[2]!].map((p) => [
        p.timestampNs,
        p === rawPacket ? LinkType.RAW : LinkType.EN10MB,
        p.data.toString('hex'),
      ]),
    );
  });

  it('writes a pcap that tshark reads back identically (pcapng → pcap via editcap too)', async () => {
    const ours = tmp.file('ours.pcap');
    const ng = tmp.file('ours.pcapng');
    const back = tmp.file('back.pcap');
    await writeFile(ours, writePcap(packets, LinkType.EN10MB));
    await runTool('editcap', ['-F', 'pcapng', ours, ng]);
    await runTool('editcap', ['-F', 'nsecpcap', ng, back]);
    expect(readCapture(await readFile(back)).packets).toEqual(readCapture(await readFile(ours)).packets);
    const text = await runTool('tshark', ['-n', '-r', ours, '-T', 'fields', '-e', 'frame.time_epoch', '-e', 'udp.length']);
    expect(text.trim().split('\n')).toEqual([
      '1700000000.123456789\t14',
      '1700000000.124456790\t14',
      '1700000000.125456791\t14',
    ]);
  });
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}
