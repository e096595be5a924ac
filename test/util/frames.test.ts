import { writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildIpv4L2tpIpFrame,
  buildIpv4UdpFrame,
  buildIpv6L2tpIpFrame,
  buildIpv6UdpFrame,
  extractL2tp,
  formatIpv6,
  internetChecksum,
  parseIpv4,
  parseIpv6,
  wrapLinkLayer,
} from '../../src/util/frames.js';
import { LinkType, writePcap } from '../../src/util/pcap.js';
import { expertErrors, fieldValues, tsharkDecode } from '../support/tshark.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

/** L2TPv2 ZLB: flags 0xC802 (T, L, S, version 2), length 12, tunnel 0x1234, session 0, Ns 2, Nr 3. */
const ZLB = Buffer.from('c802000c1234000000020003', 'hex');

const ALL_LINK_TYPES = [
  LinkType.EN10MB,
  LinkType.RAW,
  LinkType.NULL,
  LinkType.LOOP,
  LinkType.LINUX_SLL,
  LinkType.LINUX_SLL2,
] as const;

describe('building frames', () => {
  it('writes a valid IPv4 header checksum and UDP checksum', () => {
    const frame = buildIpv4UdpFrame({ src: '198.18.0.1', dst: '198.18.0.2', sport: 1701, dport: 40000, payload: ZLB }, LinkType.RAW);
    expect(frame.length).toBe(20 + 8 + ZLB.length);
    expect(internetChecksum(frame.subarray(0, 20))).toBe(0);
    const pseudo = Buffer.concat([frame.subarray(12, 20), Buffer.from([0, 17]), frame.subarray(24, 26)]);
    expect(internetChecksum(pseudo, frame.subarray(20))).toBe(0);
    // A known vector: RFC 1071's example words sum to 0xddf2, checksum 0x220d.
    expect(internetChecksum(Buffer.from('0001f203f4f5f6f7', 'hex'))).toBe(0x220d);
  });

  it('puts the right link-layer header in front', () => {
    const ip = buildIpv4UdpFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payload: ZLB }, LinkType.RAW);
    expect(buildIpv4UdpFrame({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payload: ZLB }).toString('hex')).toBe(
      '020000000002' + '020000000001' + '0800' + ip.toString('hex'),
    );
    expect(() => wrapLinkLayer(ip, 4, LinkType.IPV6)).toThrow(RangeError);
    expect(() => wrapLinkLayer(ip, 4, 147)).toThrow(RangeError);
    expect(() => buildIpv4UdpFrame({ src: '10.0.0.256', dst: '10.0.0.2', sport: 1, dport: 2, payload: ZLB })).toThrow(TypeError);
  });
});

describe('IPv6 text', () => {
  it.each([
    ['::', '::'],
    ['::1', '::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:0db8:0000:0001:0001:0001:0001:0001', '2001:db8:0:1:1:1:1:1'],
    ['fe80::1:2:3:4:5:6', 'fe80:0:1:2:3:4:5:6'],
    ['::ffff:198.18.0.1', '::ffff:c612:1'],
    ['64:ff9b::198.18.0.1', '64:ff9b::c612:1'],
    ['1:2:3:4:5:6:198.18.0.1', '1:2:3:4:5:6:c612:1'],
  ])('%s is %s (RFC 5952)', (text, canonical) => {
    expect(formatIpv6(parseIpv6(text))).toBe(canonical);
  });

  it.each(['', ':', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::', '::1.2.3', '1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4'])(
    'rejects %j',
    (text) => {
      expect(() => parseIpv6(text)).toThrow(TypeError);
    },
  );

  it('formats like the WHATWG URL serializer and parses back', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (bytes, sparse) => {
        const b = Buffer.from(bytes);
        if (sparse) for (let i = 0; i < 16; i++) if (b[i]! & 1) b[i] = 0; // make zero runs likely
        const text = formatIpv6(b);
        expect(new URL(`http://[${text}]/`).hostname).toBe(`[${text}]`);
        expect(parseIpv6(text).equals(b)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('parses what IPv4 text it should', () => {
    expect([...parseIpv4('198.18.0.255')]).toEqual([198, 18, 0, 255]);
    for (const bad of ['1.2.3', '01.2.3.4', '1.2.3.4.5', '256.0.0.1', ' 1.2.3.4', '1.2.3.-4']) {
      expect(() => parseIpv4(bad)).toThrow(TypeError);
    }
  });
});

describe('extractL2tp', () => {
  const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join('.'));
  const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6(b));
  const port = fc.integer({ min: 0, max: 0xffff });
  const payload = fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b));

  it('takes apart every frame it builds, on every link type', () => {
    const cases = fc.oneof(
      fc.record({ v: fc.constant(4 as const), udp: fc.boolean(), src: v4, dst: v4, sport: port, dport: port, payload }),
      fc.record({ v: fc.constant(6 as const), udp: fc.boolean(), src: v6, dst: v6, sport: port, dport: port, payload }),
    );
    fc.assert(
      fc.property(cases, fc.constantFrom(...ALL_LINK_TYPES, LinkType.IPV4), (c, linkType) => {
        const lt = linkType === LinkType.IPV4 && c.v === 6 ? LinkType.IPV6 : linkType;
        const data =
          c.v === 4
            ? c.udp
              ? buildIpv4UdpFrame(c, lt)
              : buildIpv4L2tpIpFrame(c, lt)
            : c.udp
              ? buildIpv6UdpFrame(c, lt)
              : buildIpv6L2tpIpFrame(c, lt);
        const expected = c.udp
          ? { src: c.src, dst: c.dst, sport: c.sport, dport: c.dport, transport: 'udp', ipVersion: c.v, payload: c.payload }
          : { src: c.src, dst: c.dst, transport: 'ip', ipVersion: c.v, payload: c.payload };
        expect(extractL2tp({ linkType: lt, data })).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  const udpFrame = (): Buffer => buildIpv4UdpFrame({ src: '198.18.0.1', dst: '198.18.0.2', sport: 1701, dport: 1701, payload: ZLB });
  const expectedZlb = { src: '198.18.0.1', dst: '198.18.0.2', sport: 1701, dport: 1701, transport: 'udp', ipVersion: 4, payload: ZLB };

  it('looks through one or two VLAN tags and drops Ethernet padding', () => {
    const f = udpFrame();
    const tagged = Buffer.concat([f.subarray(0, 12), Buffer.from('81000064', 'hex'), f.subarray(12)]);
    expect(extractL2tp({ linkType: LinkType.EN10MB, data: tagged })).toEqual(expectedZlb);
    const qinq = Buffer.concat([f.subarray(0, 12), Buffer.from('88a8000a81000064', 'hex'), f.subarray(12)]);
    expect(extractL2tp({ linkType: LinkType.EN10MB, data: qinq })).toEqual(expectedZlb);
    const padded = Buffer.concat([f, Buffer.alloc(60 - f.length)]);
    expect(padded.length).toBe(60);
    expect(extractL2tp({ linkType: LinkType.EN10MB, data: padded })).toEqual(expectedZlb);
  });

  it('skips IPv4 options and IPv6 extension headers', () => {
    const ip = buildIpv4UdpFrame({ src: '198.18.0.1', dst: '198.18.0.2', sport: 1701, dport: 1701, payload: ZLB }, LinkType.RAW);
    const withOptions = Buffer.concat([ip.subarray(0, 20), Buffer.from('01010100', 'hex'), ip.subarray(20)]); // NOP NOP NOP EOL
    withOptions[0] = 0x46;
    withOptions.writeUInt16BE(withOptions.length, 2);
    expect(extractL2tp({ linkType: LinkType.RAW, data: withOptions })).toEqual(expectedZlb);

    const ip6 = buildIpv6UdpFrame({ src: 'fd00::1', dst: 'fd00::2', sport: 1701, dport: 1701, payload: ZLB }, LinkType.RAW);
    // Hop-by-hop (8 bytes: next=Fragment) then an atomic Fragment header (offset 0, M=0, next=UDP).
    const hbh = Buffer.from('2c00010400000000', 'hex');
    const frag = Buffer.from('1100000000000001', 'hex');
    const ext = Buffer.concat([ip6.subarray(0, 40), hbh, frag, ip6.subarray(40)]);
    ext[6] = 0; // next header: hop-by-hop
    ext.writeUInt16BE(ext.length - 40, 4);
    expect(extractL2tp({ linkType: LinkType.RAW, data: ext })).toEqual({ ...expectedZlb, src: 'fd00::1', dst: 'fd00::2', ipVersion: 6 });
    const realFragment = Buffer.from(ext);
    realFragment.writeUInt16BE(0x0001, 40 + 8 + 2); // M bit
    expect(extractL2tp({ linkType: LinkType.RAW, data: realFragment })).toBeNull();
  });

  it('returns null for what is not L2TP-carrying IP', () => {
    const f = udpFrame();
    const tcp = Buffer.from(f);
    tcp[14 + 9] = 6;
    const fragment = Buffer.from(f);
    fragment.writeUInt16BE(0x2000, 14 + 6); // MF
    const arp = Buffer.from(f);
    arp.writeUInt16BE(0x0806, 12);
    const truncated = f.subarray(0, f.length - 1);
    const badUdpLength = Buffer.from(f);
    badUdpLength.writeUInt16BE(7, 14 + 20 + 4);
    for (const data of [tcp, fragment, arp, truncated, badUdpLength, Buffer.alloc(0)]) {
      expect(extractL2tp({ linkType: LinkType.EN10MB, data })).toBeNull();
    }
    expect(extractL2tp({ linkType: 147, data: f })).toBeNull();
    expect(extractL2tp({ linkType: LinkType.IPV6, data: f.subarray(14) })).toBeNull();
  });

  it('never throws on garbage or mutated frames', () => {
    const linkTypes = fc.constantFrom(...ALL_LINK_TYPES, LinkType.IPV4, LinkType.IPV6, 147);
    const seeds = [
      udpFrame(),
      buildIpv6UdpFrame({ src: 'fd00::1', dst: 'fd00::2', sport: 1701, dport: 1701, payload: ZLB }),
      buildIpv4L2tpIpFrame({ src: '198.18.0.1', dst: '198.18.0.2', payload: ZLB }, LinkType.RAW),
    ];
    const mutated = fc
      .record({ seed: fc.constantFrom(...seeds), flips: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }), cut: fc.nat(200) })
      .map(({ seed, flips, cut }) => {
        const b = Buffer.from(seed);
        for (const [at, v] of flips) b[at % b.length] = v;
        return b.subarray(0, Math.max(0, b.length - (cut % 20)));
      });
    const data = fc.oneof(mutated, fc.uint8Array({ maxLength: 120 }).map((b) => Buffer.from(b)));
    fc.assert(
      fc.property(linkTypes, data, (linkType, d) => {
        const r = extractL2tp({ linkType, data: d });
        if (r) expect(r.payload.length).toBeLessThanOrEqual(d.length);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('tshark agrees with the frames we build', () => {
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await makeTempDir('l2tpd-frames-');
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  it.each(ALL_LINK_TYPES)('link type %i: checksums good, L2TP found, addresses and ports as built', async (linkType) => {
    const frames = [
      buildIpv4UdpFrame({ src: '198.18.0.1', dst: '198.18.0.2', sport: 1701, dport: 50123, payload: ZLB }, linkType),
      buildIpv6UdpFrame({ src: 'fd00::1:0:0:1', dst: 'fd00::2', sport: 50123, dport: 1701, payload: ZLB }, linkType),
      // L2TPv3 over IP, control message: Session ID 0, then a v3 ZLB (flags 0xC803, length 12, CCID 0xdeadbeef, Ns, Nr).
      buildIpv4L2tpIpFrame({ src: '198.18.0.1', dst: '198.18.0.2', payload: Buffer.from('00000000c803000cdeadbeef00050006', 'hex') }, linkType),
    ];
    const file = tmp.file(`lt${linkType}.pcap`);
    await writeFile(file, writePcap(frames.map((data) => ({ data })), linkType));
    const pkts = await tsharkDecode(file, { checksums: true });
    expect(pkts).toHaveLength(3);
    for (const p of pkts) {
      expect(expertErrors(p)).toEqual([]);
      expect(p.malformed).toBe(false);
      expect(p.protocols).toContain('l2tp');
    }
    expect(fieldValues(pkts[0]!, 'ip.checksum.status')).toEqual(['1']); // 1 = Good
    expect(fieldValues(pkts[0]!, 'udp.checksum.status')).toEqual(['1']);
    expect(fieldValues(pkts[0]!, 'ip.src')).toEqual(['198.18.0.1']);
    expect(fieldValues(pkts[0]!, 'udp.dstport')).toEqual(['50123']);
    expect(fieldValues(pkts[0]!, 'l2tp.tunnel')).toEqual(['4660']);
    expect(fieldValues(pkts[1]!, 'udp.checksum.status')).toEqual(['1']);
    expect(fieldValues(pkts[1]!, 'ipv6.src')).toEqual(['fd00::1:0:0:1']);
    expect(fieldValues(pkts[1]!, 'udp.srcport')).toEqual(['50123']);
    expect(fieldValues(pkts[2]!, 'ip.proto')).toEqual(['115']);
    expect(fieldValues(pkts[2]!, 'l2tp.ccid')).toEqual(['0xdeadbeef']);
  });

  it('tshark reports a bad UDP checksum when one byte is off (the check can fail)', async () => {
    const frame = buildIpv4UdpFrame({ src: '198.18.0.1', dst: '198.18.0.2', sport: 1701, dport: 1701, payload: ZLB });
    frame[frame.length - 1]! ^= 0x01;
    const file = tmp.file('bad-checksum.pcap');
    await writeFile(file, writePcap([{ data: frame }], LinkType.EN10MB));
    const [pkt] = await tsharkDecode(file, { checksums: true });
    expect(expertErrors(pkt!).map((e) => [e.protocol, e.group])).toEqual([['udp', 'Checksum']]);
  });
});
