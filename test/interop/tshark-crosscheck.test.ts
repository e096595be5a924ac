/**
 * tshark as an independent decoder of what the codec emits: every message type in both versions
 * (several random instances each, hidden AVPs included), ZLBs and data messages are written to one
 * pcap; tshark must find no malformed packet and no expert error, and the header fields, the AVP
 * list (type, vendor, M, H, length) and the AVP values it reports must equal ours.
 */
import fc from 'fast-check';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Avp,
  encodeControl,
  encodeData,
  type AvpInstance,
  type AvpKey,
  type ControlMessage,
  type DataMessage,
} from '../../src/protocol/index.js';
import { buildIpv4L2tpIpFrame, buildIpv4UdpFrame } from '../../src/util/frames.js';
import { LinkType, writePcap } from '../../src/util/pcap.js';
import { controlMessageArb, MESSAGE_CASES } from '../protocol/arbitraries.js';
import { expertErrors, fieldValues, l2tpAvps, tsharkDecode, type TsharkPacket } from '../support/tshark.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

const SECRET = Buffer.from('crosscheck');
// Vendors tshark has dissectors for would parse our random vendor octets as their own AVPs.
const TSHARK_VENDORS = new Set([9, 193, 3561, 4491]);

interface Sent {
  label: string;
  kind: 'control' | 'data';
  transport: 'udp' | 'ip';
  control?: ControlMessage;
  data?: DataMessage;
  octets: Buffer;
}

function controlCases(): Sent[] {
  const out: Sent[] = [];
  for (const c of MESSAGE_CASES) {
    const samples = fc.sample(controlMessageArb(c.type, c.version, { hide: true }), { numRuns: 6, seed: 1000 + c.type * 4 + c.version });
    samples.forEach((m, i) => {
      m.avps = m.avps.filter((a) => !TSHARK_VENDORS.has(a.vendorId));
      const transport = c.version === 3 && i % 2 === 1 ? 'ip' : 'udp';
      out.push({ label: `${c.key} v${c.version} #${i} ${transport}`, kind: 'control', transport, control: m, octets: encodeControl(m, { secret: SECRET, transport }) });
    });
  }
  for (const version of [2, 3] as const) {
    const zlb: ControlMessage = { version, tunnelId: 77, sessionId: 0, ns: 3, nr: 9, messageType: undefined, messageTypeMandatory: true, avps: [] };
    out.push({ label: `ZLB v${version}`, kind: 'control', transport: 'udp', control: zlb, octets: encodeControl(zlb) });
  }
  const lcp = Buffer.from('ff03c0210101000e010405dc05060a0b0c0d', 'hex'); // LCP Configure-Request: MRU 1500, magic
  const v2data: DataMessage = { version: 2, tunnelId: 5, sessionId: 6, ns: 1, nr: 2, priority: true, lengthPresent: true, offsetSize: 2, payload: lcp };
  out.push({ label: 'v2 data with L/S/O/P', kind: 'data', transport: 'udp', data: v2data, octets: encodeData(v2data) });
  const v2plain: DataMessage = { version: 2, tunnelId: 5, sessionId: 6, priority: false, lengthPresent: false, payload: lcp };
  out.push({ label: 'v2 data, no options', kind: 'data', transport: 'udp', data: v2plain, octets: encodeData(v2plain) });
  return out;
}

/** tshark field name and the value we expect in its `value` (raw hex), for AVPs tshark decodes as fields. */
const hex16 = (n: number) => n.toString(16).padStart(4, '0');
const hex32 = (n: number) => n.toString(16).padStart(8, '0');
// tshark adds no value field for an empty string.
const str = (field: string) => (v: string): [string, string][] => (v === '' ? [] : [[field, Buffer.from(v).toString('hex')]]);
const VALUE_FIELDS: Partial<Record<AvpKey, (v: never) => [string, string][]>> = {
  HostName: str('l2tp.avp.host_name'),
  VendorName: str('l2tp.avp.vendor_name'),
  AssignedTunnelId: (v: number) => [['l2tp.avp.assigned_tunnel_id', hex16(v)]],
  ReceiveWindowSize: (v: number) => [['l2tp.avp.receive_window_size', hex16(v)]],
  AssignedSessionId: (v: number) => [['l2tp.avp.assigned_session_id', hex16(v)]],
  CallSerialNumber: (v: number) => [['l2tp.avp.call_serial_number', hex32(v)]],
  MinimumBps: (v: number) => [['l2tp.avp.minimum_bps', hex32(v)]],
  MaximumBps: (v: number) => [['l2tp.avp.maximum_bps', hex32(v)]],
  TxConnectSpeed: (v: number) => [['l2tp.avp.connect_speed', hex32(v)]],
  RxConnectSpeed: (v: number) => [['l2tp.avp.rx_connect_speed', hex32(v)]],
  PhysicalChannelId: (v: number) => [['l2tp.avp.physical_channel', hex32(v)]],
  FirmwareRevision: (v: number) => [['l2tp.avp.firmware_revision', hex16(v)]],
  ProtocolVersion: (v: { version: number; revision: number }) => [
    ['l2tp.avp.protocol_version', v.version.toString(16).padStart(2, '0')],
    ['l2tp.avp.protocol_revision', v.revision.toString(16).padStart(2, '0')],
  ],
  ResultCode: (v: { result: number; error?: number }) => [
    ['l2tp.result_code', hex16(v.result)],
    ...(v.error !== undefined ? ([['l2tp.avp.error_code', hex16(v.error)]] as [string, string][]) : []),
  ],
  Challenge: (v: Buffer) => [['l2tp.avp.chap_challenge', v.toString('hex')]],
  ChallengeResponse: (v: Buffer) => [['l2tp.avp.chap_challenge_response', v.toString('hex')]],
  RandomVector: (v: Buffer) => [['l2tp.avp.random_vector', v.toString('hex')]],
  CalledNumber: str('l2tp.avp.called_number'),
  CallingNumber: str('l2tp.avp.calling_number'),
  AssignedControlConnectionId: (v: number) => [['l2tp.avp.assigned_control_conn_id', hex32(v)]],
  LocalSessionId: (v: number) => [['l2tp.avp.local_session_id', hex32(v)]],
  RemoteSessionId: (v: number) => [['l2tp.avp.remote_session_id', hex32(v)]],
  RouterId: (v: number) => [['l2tp.avp.router_id', hex32(v)]],
  PseudowireType: (v: number) => [['l2tp.avp.pseudowire_type', hex16(v)]],
};

let tmp: TempDir;
let sent: Sent[];
let decoded: TsharkPacket[];

beforeAll(async () => {
  tmp = await makeTempDir();
  sent = controlCases();
  const frames = sent.map((s, i) => ({
    data:
      s.transport === 'udp'
        ? buildIpv4UdpFrame({ src: '198.18.0.1', dst: '198.18.0.2', sport: 1701, dport: 1701, payload: s.octets, id: i })
        : buildIpv4L2tpIpFrame({ src: '198.18.0.1', dst: '198.18.0.2', payload: s.octets, id: i }),
  }));
  await writeFile(tmp.file('codec.pcap'), writePcap(frames, LinkType.EN10MB));
  decoded = await tsharkDecode(tmp.file('codec.pcap'), { checksums: true });
});
afterAll(async () => tmp?.cleanup());

describe('tshark decodes every packet the codec builds, and agrees on every field', () => {
  it('covers every message type of the table in both versions', () => {
    expect(decoded).toHaveLength(sent.length);
    const types = new Set(sent.filter((s) => s.control?.messageType !== undefined).map((s) => `${s.control!.messageType}/${s.control!.version}`));
    expect(types.size).toBe(MESSAGE_CASES.length);
  });

  it('no malformed packet and no expert error anywhere', () => {
    const bad = decoded
      .map((p, i) => ({ label: sent[i]!.label, malformed: p.malformed, errors: expertErrors(p).map((e) => e.message) }))
      .filter((x) => x.malformed || x.errors.length > 0);
    expect(bad).toEqual([]);
  });

  it('header fields: version, IDs, Ns/Nr, length', () => {
    sent.forEach((s, i) => {
      const p = decoded[i]!;
      const one = (name: string) => fieldValues(p, name)[0];
      if (s.kind === 'control') {
        const m = s.control!;
        expect(Number(one('l2tp.version')), s.label).toBe(m.version);
        expect(Number(one('l2tp.Ns')), s.label).toBe(m.ns);
        expect(Number(one('l2tp.Nr')), s.label).toBe(m.nr);
        expect(Number(one('l2tp.length')), s.label).toBe(s.transport === 'ip' ? s.octets.length - 4 : s.octets.length);
        if (m.version === 2) {
          expect(Number(one('l2tp.tunnel')), s.label).toBe(m.tunnelId);
          expect(Number(one('l2tp.session')), s.label).toBe(m.sessionId);
        } else {
          expect(Number(one('l2tp.ccid')), s.label).toBe(m.tunnelId);
        }
        if (m.messageType === undefined) expect(fieldValues(p, 'l2tp.avp.type'), s.label).toEqual([]);
        else expect(Number(one('l2tp.avp.message_type')), s.label).toBe(m.messageType);
      } else {
        const d = s.data as Extract<DataMessage, { version: 2 }>;
        expect(Number(one('l2tp.tunnel')), s.label).toBe(d.tunnelId);
        expect(Number(one('l2tp.session')), s.label).toBe(d.sessionId);
        if (d.ns !== undefined) expect(Number(one('l2tp.Ns')), s.label).toBe(d.ns);
        expect(p.protocols, s.label).toContain('lcp');
      }
    });
  });

  it('AVP list: vendor, type, M and H bits, length — in wire order', () => {
    sent.forEach((s, i) => {
      if (!s.control || s.control.messageType === undefined) return;
      // tshark shows no vendor/type for hidden AVPs (it cannot unhide), so those compare by flags only.
      const view = (a: { vendorId: number; attributeType: number; mandatory: boolean; hidden: boolean }) =>
        a.hidden ? { mandatory: a.mandatory, hidden: true } : a;
      const ours = [
        { vendorId: 0, attributeType: 0, mandatory: true, hidden: false },
        ...s.control.avps.map((a) => ({ vendorId: a.vendorId, attributeType: a.type, mandatory: a.mandatory, hidden: a.hidden })),
      ].map(view);
      const theirs = l2tpAvps(decoded[i]!).map(({ vendorId, attributeType, mandatory, hidden }) => view({ vendorId, attributeType, mandatory, hidden }));
      expect(theirs, s.label).toEqual(ours);
      // Lengths: sum of tshark's AVP lengths plus the header is the message length.
      const total = l2tpAvps(decoded[i]!).reduce((n, a) => n + a.length, 12);
      expect(total, s.label).toBe(s.transport === 'ip' ? s.octets.length - 4 : s.octets.length);
    });
  });

  it('AVP values tshark decodes equal ours', () => {
    let checked = 0;
    sent.forEach((s, i) => {
      if (!s.control || s.control.messageType === undefined) return;
      const theirs = l2tpAvps(decoded[i]!).slice(1);
      s.control.avps.forEach((a: AvpInstance, j) => {
        const key = (Object.keys(Avp) as AvpKey[]).find((k) => Avp[k].type === a.type);
        const f = key && a.vendorId === 0 && !a.hidden ? VALUE_FIELDS[key] : undefined;
        if (!f) return;
        const fields = theirs[j]!.fields;
        for (const [name, want] of f(a.value as never)) {
          const got = fields.find((x) => x.name === name)?.value;
          expect(got, `${s.label} ${key} ${name}`).toBe(want);
          checked++;
        }
      });
    });
    expect(checked).toBeGreaterThan(200);
  });
});
