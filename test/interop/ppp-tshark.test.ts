/**
 * tshark as an independent decoder of the PPP engine's frames (issue 4): a client and a server PppEngine
 * negotiate LCP, authentication (PAP, CHAP-MD5, MS-CHAPv2), IPCP, then exchange an LCP Echo and close with
 * Terminate; every frame is captured as tshark would see it on the wire — inside an L2TPv2 data message in
 * IPv4/UDP to port 1701, and again inside L2TPv3 data messages (over UDP with a cookie and the default
 * L2-Specific Sublayer, and over IP). tshark must find no malformed packet and no expert error, name the
 * protocols, and read the values we sent in the key fields.
 *
 * L2TPv3: the payload dissector follows the session's Pseudowire Type, learnt from ICRQ/ICRP. With no control
 * messages in the capture tshark 4.0 uses Pseudowire Type 0 for the session, so `-d l2tp.pw_type==0,ppp`
 * (decode-as, measured: any other key leaves the payload as Data) plus the cookie and sublayer preferences
 * make it decode PPP.
 */
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ipv4Pool } from '../../src/aaa/pool/pools.js';
import { createAuthClient, createAuthServer, LocalVerifier } from '../../src/ppp/auth/index.js';
import type { AuthProtocolName } from '../../src/ppp/auth/types.js';
import { PppEngine } from '../../src/ppp/engine.js';
import { decodeControl, decodeFrame, decodeOptions, PppCode, PppProtocol, type ControlPacket } from '../../src/ppp/frame.js';
import type { PppDownReason, PppUpInfo } from '../../src/ppp/types.js';
import { encodeData, type DataMessage } from '../../src/protocol/index.js';
import { VirtualClock } from '../../src/transport/clock.js';
import { buildIpv4L2tpIpFrame, buildIpv4UdpFrame } from '../../src/util/frames.js';
import { LinkType, writePcap } from '../../src/util/pcap.js';
import { expertErrors, fieldValues, tsharkDecode, type TsharkPacket } from '../support/tshark.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

const PAP = 0xc023;
const CHAP = 0xc223;
const USER = 'alice@isp.example';
const PASSWORD = 'secret';
const LAC = '198.18.0.1';
const LNS = '198.18.0.2';
/** L2TPv2 IDs are the receiver's: the LNS's tunnel/session towards it, the LAC's towards the LAC. */
const V2_IDS = { c2s: { tunnelId: 0x1234, sessionId: 0x5678 }, s2c: { tunnelId: 0x0abc, sessionId: 0x0def } } as const;
const V3_SESSION = { c2s: 0x11223344, s2c: 0x55667788 } as const;
const V3_COOKIE = { c2s: Buffer.from('c0c0a1a1', 'hex'), s2c: Buffer.from('d0d0b2b2', 'hex') } as const;

type Dir = 'c2s' | 's2c';

interface Captured {
  run: AuthProtocolName;
  dir: Dir;
  atMs: number;
  frame: Buffer;
  protocol: number;
  /** LCP/IPCP packet, or the PAP/CHAP packet's code and identifier. */
  packet?: ControlPacket;
}

interface Negotiation {
  frames: Captured[];
  serverUp: PppUpInfo[];
  clientUp: PppUpInfo[];
  serverDown: PppDownReason[];
  clientDown: PppDownReason[];
}

/** A seeded PRNG (mulberry32): the same magic numbers on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Client ⇄ server over a link with 2 ms of virtual latency: negotiate, one LCP Echo, then an LCP Terminate. */
async function negotiate(auth: AuthProtocolName, startMs: number): Promise<Negotiation> {
  const clock = new VirtualClock(startMs);
  const out: Negotiation = { frames: [], serverUp: [], clientUp: [], serverDown: [], clientDown: [] };
  const ends = {} as Record<'server' | 'client', PppEngine>;
  const link = (dir: Dir) => (frame: Buffer) => {
    const c: Captured = { run: auth, dir, atMs: clock.now(), frame: Buffer.from(frame), protocol: -1 };
    const f = decodeFrame(frame);
    c.protocol = f.protocol;
    if (f.protocol === PppProtocol.LCP || f.protocol === PppProtocol.IPCP || f.protocol === PAP || f.protocol === CHAP) c.packet = decodeControl(f.payload);
    out.frames.push(c);
    const to = dir === 'c2s' ? ends.server : ends.client;
    clock.setTimeout(() => to.receive(frame), 2);
  };
  ends.server = new PppEngine({
    role: 'server',
    clock,
    send: link('s2c'),
    random: seeded(7),
    auth: [auth],
    authServer: createAuthServer,
    verifier: new LocalVerifier({ [USER]: PASSWORD }),
    allocator: new Ipv4Pool('tshark', ['192.0.2.10-192.0.2.20']),
    localAddress: '192.0.2.1',
    mru: 1460,
    dns: ['198.51.100.53', '198.51.100.54'],
    echoIntervalMs: 0,
    onUp: (i) => out.serverUp.push(i),
    onDown: (r) => out.serverDown.push(r),
  });
  ends.client = new PppEngine({
    role: 'client',
    clock,
    send: link('c2s'),
    random: seeded(99),
    auth: [auth],
    authClient: createAuthClient,
    credentials: { user: USER, password: PASSWORD },
    echoIntervalMs: 10_000,
    onUp: (i) => out.clientUp.push(i),
    onDown: (r) => out.clientDown.push(r),
  });
  const step = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 2) {
      clock.advance(2);
      await new Promise<void>((r) => setImmediate(r)); // the verifier answers from a promise
    }
  };
  ends.server.start();
  ends.client.start();
  await step(500);
  await step(12_000); // the client's first Echo-Request (10 s ± 10 %) and the server's Reply
  ends.server.close('admin', 'tshark test done');
  await step(500);
  return out;
}

function v2Frame(c: Captured, i: number): Buffer {
  const m: DataMessage = { version: 2, ...V2_IDS[c.dir], priority: false, lengthPresent: true, payload: c.frame };
  const [src, dst] = c.dir === 'c2s' ? [LAC, LNS] : [LNS, LAC];
  return buildIpv4UdpFrame({ src, dst, sport: 1701, dport: 1701, payload: encodeData(m), id: i });
}

function v3Frame(c: Captured, i: number, transport: 'udp' | 'ip'): Buffer {
  const m: DataMessage = {
    version: 3,
    sessionId: V3_SESSION[c.dir],
    cookie: V3_COOKIE[c.dir],
    l2SpecificSublayer: { sequenced: true, sequence: i },
    payload: c.frame,
  };
  const [src, dst] = c.dir === 'c2s' ? [LAC, LNS] : [LNS, LAC];
  const octets = encodeData(m, transport);
  return transport === 'udp'
    ? buildIpv4UdpFrame({ src, dst, sport: 1701, dport: 1701, payload: octets, id: i })
    : buildIpv4L2tpIpFrame({ src, dst, payload: octets, id: i });
}

const hex = (b: Buffer): string => b.toString('hex');
const hex8 = (n: number): string => n.toString(16).padStart(2, '0');
const hex16 = (n: number): string => n.toString(16).padStart(4, '0');
const hex32 = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

/** Raw `value` of every occurrence of a field, in order. */
function rawValues(p: TsharkPacket, name: string): string[] {
  return p.fields.filter((f) => f.name === name).map((f) => f.value ?? '');
}

let tmp: TempDir;
const runs = new Map<AuthProtocolName, Negotiation>();
let sent: Captured[] = [];
let v2: TsharkPacket[] = [];
let v3udp: TsharkPacket[] = [];
let v3ip: TsharkPacket[] = [];

beforeAll(async () => {
  tmp = await makeTempDir();
  let start = Date.UTC(2026, 0, 1);
  for (const auth of ['pap', 'chap', 'mschapv2'] as const) {
    runs.set(auth, await negotiate(auth, start));
    start += 60_000;
  }
  sent = [...runs.values()].flatMap((r) => r.frames);
  const ts = (c: Captured): bigint => BigInt(Math.round(c.atMs * 1000)) * 1000n; // echo timers are jittered: fractional ms
  await writeFile(tmp.file('ppp-v2.pcap'), writePcap(sent.map((c, i) => ({ timestampNs: ts(c), data: v2Frame(c, i) })), LinkType.EN10MB));
  await writeFile(tmp.file('ppp-v3-udp.pcap'), writePcap(sent.map((c, i) => ({ timestampNs: ts(c), data: v3Frame(c, i, 'udp') })), LinkType.EN10MB));
  await writeFile(tmp.file('ppp-v3-ip.pcap'), writePcap(sent.map((c, i) => ({ timestampNs: ts(c), data: v3Frame(c, i, 'ip') })), LinkType.EN10MB));
  const v3opts = {
    checksums: true,
    prefs: { 'l2tp.cookie_size': '4 Byte Cookie', 'l2tp.l2_specific': 'Default L2-Specific' },
    decodeAs: ['l2tp.pw_type==0,ppp'],
  };
  [v2, v3udp, v3ip] = await Promise.all([
    tsharkDecode(tmp.file('ppp-v2.pcap'), { checksums: true }),
    tsharkDecode(tmp.file('ppp-v3-udp.pcap'), v3opts),
    tsharkDecode(tmp.file('ppp-v3-ip.pcap'), v3opts),
  ]);
});
afterAll(async () => tmp?.cleanup());

describe('the engine negotiates what the capture is meant to show', () => {
  it.each(['pap', 'chap', 'mschapv2'] as const)('%s: both ends up with an address, an Echo answered, then Terminate', (auth) => {
    const r = runs.get(auth)!;
    expect(r.serverUp).toHaveLength(1);
    expect(r.clientUp[0]).toMatchObject({ address: '192.0.2.10', authProtocol: auth, dns: ['198.51.100.53', '198.51.100.54'] });
    const codes = (dir: Dir) => r.frames.filter((c) => c.dir === dir && c.protocol === PppProtocol.LCP).map((c) => c.packet!.code);
    expect(codes('c2s')).toContain(PppCode.EchoRequest);
    expect(codes('s2c')).toContain(PppCode.EchoReply);
    expect(codes('s2c')).toContain(PppCode.TerminateRequest);
    expect(codes('c2s')).toContain(PppCode.TerminateAck);
    expect(r.serverDown.map((d) => d.cause)).toEqual(['admin']);
  });
});

// frame.protocols: L2TPv2 hands the payload to the PPP dissector (…:l2tp:ppp:lcp); L2TPv3 to PPP-in-HDLC-like
// framing, which adds the ppp.* fields but no `ppp` entry (…:l2tp:lcp).
describe.each([
  ['L2TPv2 over UDP', () => v2, ['l2tp', 'ppp']],
  ['L2TPv3 over UDP (4-octet cookie, default L2-Specific Sublayer)', () => v3udp, ['l2tp']],
  ['L2TPv3 over IP (4-octet cookie, default L2-Specific Sublayer)', () => v3ip, ['l2tp']],
] as const)('tshark decodes the PPP inside %s', (_label, decoded, carriers) => {
  const label = (i: number): string => {
    const c = sent[i]!;
    return `#${i + 1} ${c.run} ${c.dir} protocol 0x${c.protocol.toString(16)} code ${c.packet?.code}`;
  };

  it('one packet per frame sent, none malformed, no expert error', () => {
    const d = decoded();
    expect(d).toHaveLength(sent.length);
    const bad = d
      .map((p, i) => ({ packet: label(i), malformed: p.malformed, errors: expertErrors(p).map((e) => `${e.protocol}: ${e.message}`) }))
      .filter((x) => x.malformed || x.errors.length > 0);
    expect(bad).toEqual([]);
  });

  it('names the protocols (lcp, pap, chap, ipcp) and reads the PPP Address, Control and Protocol', () => {
    const names: Record<number, string> = { [PppProtocol.LCP]: 'lcp', [PAP]: 'pap', [CHAP]: 'chap', [PppProtocol.IPCP]: 'ipcp' };
    decoded().forEach((p, i) => {
      const want = names[sent[i]!.protocol];
      expect(want, label(i)).toBeDefined();
      expect(p.protocols.slice(-carriers.length - 1), label(i)).toEqual([...carriers, want]);
      expect(rawValues(p, 'ppp.address'), label(i)).toEqual(['ff']);
      expect(rawValues(p, 'ppp.control'), label(i)).toEqual(['03']);
      expect(rawValues(p, 'ppp.protocol'), label(i)).toEqual([hex16(sent[i]!.protocol)]);
    });
    const seen = new Set(decoded().map((p) => p.protocols[p.protocols.length - 1]));
    expect([...seen].sort()).toEqual(['chap', 'ipcp', 'lcp', 'pap']);
  });

  it('LCP and IPCP: code, identifier and length of every packet (tshark: ppp.code, ppp.identifier, ppp.length)', () => {
    let checked = 0;
    decoded().forEach((p, i) => {
      const c = sent[i]!;
      if (c.protocol !== PppProtocol.LCP && c.protocol !== PppProtocol.IPCP) return;
      expect(rawValues(p, 'ppp.code'), label(i)).toEqual([hex8(c.packet!.code)]);
      expect(rawValues(p, 'ppp.identifier'), label(i)).toEqual([hex8(c.packet!.identifier)]);
      expect(rawValues(p, 'ppp.length'), label(i)).toEqual([hex16(4 + c.packet!.data.length)]);
      checked++;
    });
    expect(checked).toBeGreaterThan(20);
  });

  it('LCP options: magic number, MRU and authentication protocol as sent', () => {
    let magics = 0;
    let mrus = 0;
    decoded().forEach((p, i) => {
      const c = sent[i]!;
      if (c.protocol !== PppProtocol.LCP || c.packet!.code > PppCode.ConfigureReject) return;
      const opts = decodeOptions(c.packet!.data);
      const opt = (type: number) => opts.filter((o) => o.type === type).map((o) => hex(o.data));
      expect(rawValues(p, 'lcp.opt.magic_number'), label(i)).toEqual(opt(5));
      expect(rawValues(p, 'lcp.opt.mru'), label(i)).toEqual(opt(1));
      // Authentication-Protocol: the protocol, then for CHAP the algorithm (5 = MD5, 0x81 = MS-CHAPv2).
      const auth = opts.filter((o) => o.type === 3);
      expect(rawValues(p, 'lcp.opt.auth_protocol'), label(i)).toEqual(auth.map((o) => hex(o.data.subarray(0, 2))));
      expect(rawValues(p, 'lcp.opt.algorithm'), label(i)).toEqual(auth.filter((o) => o.data.length > 2).map((o) => hex(o.data.subarray(2, 3))));
      magics += opt(5).length;
      mrus += opt(1).length;
    });
    expect(magics).toBeGreaterThanOrEqual(6);
    expect(mrus).toBeGreaterThanOrEqual(3); // the server asks for MRU 1460
  });

  it('LCP Echo-Request/Reply: the magic number of each end', () => {
    let echoes = 0;
    decoded().forEach((p, i) => {
      const c = sent[i]!;
      if (c.protocol !== PppProtocol.LCP || (c.packet!.code !== PppCode.EchoRequest && c.packet!.code !== PppCode.EchoReply)) return;
      const r = runs.get(c.run)!;
      const magic = c.dir === 'c2s' ? r.clientUp[0]!.magic : r.serverUp[0]!.magic;
      expect(rawValues(p, 'lcp.magic_number'), label(i)).toEqual([hex32(magic)]);
      echoes++;
    });
    expect(echoes).toBe(6);
  });

  it('IPCP: the address and DNS options as sent, and the address the pool gave', () => {
    const acked: string[] = [];
    decoded().forEach((p, i) => {
      const c = sent[i]!;
      if (c.protocol !== PppProtocol.IPCP) return;
      const opts = decodeOptions(c.packet!.data);
      const ip = (type: number) => opts.filter((o) => o.type === type).map((o) => [...o.data].join('.'));
      expect(fieldValues(p, 'ipcp.opt.ip_address'), label(i)).toEqual(ip(3));
      expect(fieldValues(p, 'ipcp.opt.pri_dns_address'), label(i)).toEqual(ip(129));
      expect(fieldValues(p, 'ipcp.opt.sec_dns_address'), label(i)).toEqual(ip(131));
      if (c.packet!.code === PppCode.ConfigureAck) acked.push(...fieldValues(p, 'ipcp.opt.ip_address'));
    });
    // Per run: the LNS's own address acked by the client, the subscriber's acked by the LNS.
    expect(acked.sort()).toEqual(['192.0.2.1', '192.0.2.1', '192.0.2.1', '192.0.2.10', '192.0.2.10', '192.0.2.10']);
  });

  it('PAP: code, identifier, peer-id and password of the request, message of the Ack', () => {
    let checked = 0;
    decoded().forEach((p, i) => {
      const c = sent[i]!;
      if (c.protocol !== PAP) return;
      expect(rawValues(p, 'pap.code'), label(i)).toEqual([hex8(c.packet!.code)]);
      expect(rawValues(p, 'pap.identifier'), label(i)).toEqual([hex8(c.packet!.identifier)]);
      if (c.packet!.code === 1) {
        expect(fieldValues(p, 'pap.peer_id'), label(i)).toEqual([USER]);
        expect(fieldValues(p, 'pap.password'), label(i)).toEqual([PASSWORD]);
      } else {
        const d = c.packet!.data;
        expect(fieldValues(p, 'pap.message'), label(i)).toEqual([d.subarray(1, 1 + d[0]!).toString()]);
      }
      checked++;
    });
    expect(checked).toBe(2);
  });

  it('CHAP and MS-CHAPv2: code, identifier, value and name', () => {
    let checked = 0;
    decoded().forEach((p, i) => {
      const c = sent[i]!;
      if (c.protocol !== CHAP) return;
      const { code, identifier, data } = c.packet!;
      expect(rawValues(p, 'chap.code'), label(i)).toEqual([hex8(code)]);
      expect(rawValues(p, 'chap.identifier'), label(i)).toEqual([hex8(identifier)]);
      if (code === 1 || code === 2) {
        const size = data[0]!;
        expect(rawValues(p, 'chap.value'), label(i)).toEqual([hex(data.subarray(1, 1 + size))]);
        expect(fieldValues(p, 'chap.name'), label(i)).toEqual([data.subarray(1 + size).toString()]);
        if (code === 2) expect(fieldValues(p, 'chap.name'), label(i)).toEqual([USER]);
      } else {
        expect(fieldValues(p, 'chap.message'), label(i)).toEqual([data.toString()]);
      }
      checked++;
    });
    expect(checked).toBe(6);
  });
});
