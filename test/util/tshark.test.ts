import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIpv4L2tpIpFrame, buildIpv4UdpFrame } from '../../src/util/frames.js';
import { LinkType, writePcap } from '../../src/util/pcap.js';
import { expertErrors, fieldValues, l2tpAvps, l2tpFields, parsePdmlPacket, tsharkDecode, type TsharkPacket } from '../support/tshark.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

/** L2TPv2 HELLO (RFC 2661 §3.1, §6.5), written out by hand. */
const HELLO = Buffer.from([
  0xc8, 0x02, // flags: T=1 (control), L=1 (length present), S=1 (Ns/Nr present), version 2
  0x00, 0x14, // length: 20 bytes in all
  0x12, 0x34, // tunnel id 4660
  0x00, 0x00, // session id 0
  0x00, 0x07, // Ns 7
  0x00, 0x09, // Nr 9
  0x80, 0x08, // AVP: M=1, H=0, length 8
  0x00, 0x00, // vendor id 0 (IETF)
  0x00, 0x00, // attribute type 0: Message Type
  0x00, 0x06, // value 6: HELLO
]);

/* ZLB ack (RFC 2661 §5.8): just the 12-byte header, T/L/S set, no AVPs. Tunnel 4660, session 0, Ns 8, Nr 10. */
const ZLB = Buffer.from('c802000c123400000008000a', 'hex');

/** One IETF AVP: M bit, 6-byte header, value. */
function avp(type: number, value: Buffer | string, mandatory = true): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const h = Buffer.alloc(6);
  h.writeUInt16BE((mandatory ? 0x8000 : 0) | (6 + v.length), 0);
  h.writeUInt16BE(type, 4);
  return Buffer.concat([h, v]);
}
const u16 = (v: number): Buffer => Buffer.from([v >> 8, v & 0xff]);
const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
};
/** A control message with T/L/S set: RFC 2661 header for version 2, RFC 3931 §3.2.1 (32-bit CCID) for version 3. */
function control(version: 2 | 3, id: number, session: number, ns: number, nr: number, avps: Buffer[]): Buffer {
  const body = Buffer.concat(avps);
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc800 | version, 0);
  head.writeUInt16BE(12 + body.length, 2);
  if (version === 2) {
    head.writeUInt16BE(id, 4);
    head.writeUInt16BE(session, 6);
  } else {
    head.writeUInt32BE(id, 4);
  }
  head.writeUInt16BE(ns, 8);
  head.writeUInt16BE(nr, 10);
  return Buffer.concat([head, body]);
}

const SCCRQ = control(2, 0, 0, 0, 0, [
  avp(0, u16(1)), // Message Type: SCCRQ
  avp(2, u16(0x0100)), // Protocol Version 1.0
  avp(3, u32(3)), // Framing Capabilities: async + sync
  avp(7, 'lac-"one"<&>'), // Host Name, with characters XML must escape
  avp(8, 'vendor-a', false), // Vendor Name, twice: JSON output would keep only one
  avp(8, 'vendor-b', false),
  avp(9, u16(0x4242)), // Assigned Tunnel ID 16962
  avp(10, u16(4), false), // Receive Window Size
]);

const udp = (payload: Buffer): Buffer => buildIpv4UdpFrame({ src: '198.18.0.1', dst: '198.18.0.2', sport: 1701, dport: 1701, payload });

describe('tsharkDecode', () => {
  let tmp: TempDir;
  let n = 0;
  beforeAll(async () => {
    tmp = await makeTempDir('l2tpd-tshark-');
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });
  async function decode(frames: Buffer[], opts?: Parameters<typeof tsharkDecode>[1], linkType: number = LinkType.EN10MB): Promise<TsharkPacket[]> {
    const file = tmp.file(`c${n++}.pcap`);
    await writeFile(file, writePcap(frames.map((data) => ({ data })), linkType));
    return tsharkDecode(file, opts);
  }

  it('decodes a hand-written HELLO and a ZLB', async () => {
    expect(HELLO.length).toBe(20);
    const [hello, zlb] = await decode([udp(HELLO), udp(ZLB)], { checksums: true });
    expect(hello!.number).toBe(1);
    expect(hello!.protocols).toEqual(['eth', 'ethertype', 'ip', 'udp', 'l2tp']);
    expect(hello!.malformed).toBe(false);
    expect(hello!.experts).toEqual([]);
    const f = (name: string): string[] => fieldValues(hello!, name);
    expect(f('l2tp.type')).toEqual(['1']);
    expect(f('l2tp.version')).toEqual(['2']);
    expect(f('l2tp.length')).toEqual(['20']);
    expect(f('l2tp.tunnel')).toEqual(['4660']);
    expect(f('l2tp.session')).toEqual(['0']);
    expect(f('l2tp.Ns')).toEqual(['7']);
    expect(f('l2tp.Nr')).toEqual(['9']);
    expect(f('l2tp.avp.type')).toEqual(['0']);
    expect(f('l2tp.avp.message_type')).toEqual(['6']);
    expect(l2tpFields(hello!).find((x) => x.name === 'l2tp.avp.message_type')?.showname).toBe('Message Type: Hello (6)');
    expect(l2tpFields(hello!).every((x) => x.protocol === 'l2tp')).toBe(true);

    expect(fieldValues(zlb!, 'l2tp.length')).toEqual(['12']);
    expect(fieldValues(zlb!, 'l2tp.Nr')).toEqual(['10']);
    expect(zlb!.fields.some((x) => x.name === 'l2tp.zero_length_body_message')).toBe(true);
    expect(fieldValues(zlb!, 'l2tp.avp.type')).toEqual([]);
  });

  it('keeps every AVP, repeated ones included, in wire order', async () => {
    const [pkt] = await decode([udp(SCCRQ)]);
    expect(expertErrors(pkt!)).toEqual([]);
    expect(fieldValues(pkt!, 'l2tp.avp.message_type')).toEqual(['1']);
    expect(fieldValues(pkt!, 'l2tp.avp.host_name')).toEqual(['lac-"one"<&>']);
    expect(fieldValues(pkt!, 'l2tp.avp.vendor_name')).toEqual(['vendor-a', 'vendor-b']);
    expect(fieldValues(pkt!, 'l2tp.avp.assigned_tunnel_id')).toEqual(['16962']);
    expect(fieldValues(pkt!, 'l2tp.avp.receive_window_size')).toEqual(['4']);
    expect(fieldValues(pkt!, 'l2tp.avp.protocol_version')).toEqual(['1']);
    expect(fieldValues(pkt!, 'l2tp.avp.protocol_revision')).toEqual(['0']);
    expect(fieldValues(pkt!, 'l2tp.avp.sync_framing_supported')).toEqual(['1']);
    const avps = l2tpAvps(pkt!);
    expect(avps.map((a) => [a.label, a.vendorId, a.attributeType, a.mandatory, a.hidden, a.length])).toEqual([
      ['Control Message AVP', 0, 0, true, false, 8],
      ['Protocol Version AVP', 0, 2, true, false, 8],
      ['Framing Capabilities AVP', 0, 3, true, false, 10],
      ['Host Name AVP', 0, 7, true, false, 18],
      ['Vendor Name AVP', 0, 8, false, false, 14],
      ['Vendor Name AVP', 0, 8, false, false, 14],
      ['Assigned Tunnel ID AVP', 0, 9, true, false, 8],
      ['Receive Window Size AVP', 0, 10, false, false, 8],
    ]);
    expect(avps[5]!.fields.find((x) => x.name === 'l2tp.avp.vendor_name')?.value).toBe(Buffer.from('vendor-b').toString('hex'));
  });

  it('reports malformed packets and expert infos (so checks on them can fail)', async () => {
    // A Message Type AVP whose length (16) runs past the end of the message.
    const overrun = Buffer.from(HELLO);
    overrun.writeUInt16BE(0x8010, 12);
    // An unknown, non-mandatory IETF attribute 200: tshark warns "Undecoded".
    const unknown = control(2, 1, 0, 1, 1, [avp(0, u16(6)), avp(200, 'zz', false)]);
    const [bad, warn] = await decode([udp(overrun), udp(unknown)]);
    expect(bad!.malformed).toBe(true);
    expect(expertErrors(bad!)).toEqual([
      { severity: 'error', group: 'Malformed', message: 'Malformed Packet (Exception occurred)', protocol: '_ws.malformed' },
    ]);
    expect(warn!.malformed).toBe(false);
    expect(expertErrors(warn!)).toEqual([]);
    expect(warn!.experts).toEqual([{ severity: 'warn', group: 'Undecoded', message: 'Vendor-Specific AVP data', protocol: 'l2tp' }]);
  });

  it('decodes L2TPv3 over UDP and over IP (protocol 115) without being told', async () => {
    const sccrq = control(3, 0, 0, 0, 0, [avp(0, u16(1)), avp(2, u16(0x0100)), avp(7, 'lcce-a'), avp(61, u32(0xdeadbeef)), avp(62, u16(5))]);
    const [overUdp, overIp] = await decode([udp(sccrq), buildIpv4L2tpIpFrame({ src: '198.18.0.1', dst: '198.18.0.2', payload: Buffer.concat([u32(0), sccrq]) })]);
    for (const p of [overUdp!, overIp!]) {
      expect(p.malformed).toBe(false);
      expect(expertErrors(p)).toEqual([]);
      expect(fieldValues(p, 'l2tp.version')).toEqual(['3']);
      expect(fieldValues(p, 'l2tp.ccid')).toEqual(['0x00000000']); // hex, unlike v2's decimal l2tp.tunnel
      expect(fieldValues(p, 'l2tp.avp.message_type')).toEqual(['1']);
      expect(fieldValues(p, 'l2tp.avp.assigned_control_conn_id')).toEqual([String(0xdeadbeef)]);
      expect(fieldValues(p, 'l2tp.avp.pw_type')).toEqual(['5']);
    }
    expect(overUdp!.protocols).toEqual(['eth', 'ethertype', 'ip', 'udp', 'l2tp']);
    expect(overIp!.protocols).toEqual(['eth', 'ethertype', 'ip', 'l2tp']);
    expect(fieldValues(overIp!, 'l2tp.sid')).toEqual(['0x00000000']);
  });

  it('needs the cookie size and sublayer as preferences for L2TPv3 data without its control session', async () => {
    // Data over IP: Session ID 0x11223344, 4-byte cookie, default L2-Specific Sublayer (S=1, seq 1), then a payload.
    const data = Buffer.from('11223344' + 'cafebabe' + '40000001' + '0102030405060708', 'hex');
    const frame = buildIpv4L2tpIpFrame({ src: '198.18.0.1', dst: '198.18.0.2', payload: data });
    const [plain] = await decode([frame]);
    expect(fieldValues(plain!, 'l2tp.cookie')).toEqual([]);
    const [told] = await decode([frame], { prefs: { 'l2tp.cookie_size': '4 Byte Cookie', 'l2tp.l2_specific': 'Default L2-Specific' } });
    expect(fieldValues(told!, 'l2tp.sid')).toEqual(['0x11223344']);
    expect(fieldValues(told!, 'l2tp.cookie')).toEqual(['ca:fe:ba:be']);
    expect(fieldValues(told!, 'l2tp.l2_spec_sequence')).toEqual(['1']);
  });

  it('decodes another UDP port as L2TP only when told to', async () => {
    // Neither port may be 1701: tshark tries both ports of a datagram.
    const frame = buildIpv4UdpFrame({ src: '198.18.0.1', dst: '198.18.0.2', sport: 40000, dport: 1702, payload: HELLO });
    const [plain] = await decode([frame]);
    expect(plain!.protocols).not.toContain('l2tp');
    const [told] = await decode([frame], { decodeAs: ['udp.port==1702,l2tp'] });
    expect(told!.protocols).toContain('l2tp');
    expect(fieldValues(told!, 'l2tp.avp.message_type')).toEqual(['6']);
  });

  it('rejects when tshark fails', async () => {
    await expect(tsharkDecode(tmp.file('missing.pcap'))).rejects.toThrow(/exited with/);
    const file = tmp.file('ok.pcap');
    await writeFile(file, writePcap([{ data: udp(ZLB) }], LinkType.EN10MB));
    await expect(tsharkDecode(file, { prefs: { 'l2tp.no_such_pref': '1' } })).rejects.toThrow(/unknown preference/);
    await expect(tsharkDecode(file, { tsharkPath: '/nonexistent/tshark' })).rejects.toThrow(/cannot run tshark/);
  });
});

describe('parsePdmlPacket', () => {
  it('nests elements and decodes entities', () => {
    const tree = parsePdmlPacket(
      '<packet>\n<proto name="l2tp" showname="L2TP" size="2" pos="0">\n' +
        '<field name="" show="Host Name AVP" size="2" pos="0" value="6162">\n' +
        '<field name="l2tp.avp.host_name" showname="Host Name: a&quot;&lt;&amp;&gt;&#x27;&#65;" size="2" pos="0" show="a&quot;&lt;&amp;&gt;&#x27;&#65;\nz" value="6162"/>\n' +
        '</field>\n</proto>\n</packet>',
    );
    expect(tree).toHaveLength(1);
    const field = tree[0]!.children[0]!.children[0]!;
    expect(field.name).toBe('l2tp.avp.host_name');
    expect(field.attrs['show']).toBe(`a"<&>'A\nz`);
  });

  it('refuses mismatched tags', () => {
    expect(() => parsePdmlPacket('<packet><proto name="a"><field name="b"></proto></packet>')).toThrow(/does not close/);
    expect(() => parsePdmlPacket('<packet><proto name="a"></packet>')).toThrow(/left open/);
  });
});
