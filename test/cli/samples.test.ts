/**
 * The shipped captures in samples/, decoded through l2tpctl's `main` in-process with --json: what the README
 * promises an operator will see. The xl2tpd capture is real (scripts/make-samples.ts records it), so its IDs
 * and challenges are whatever that run produced; the assertions stick to what any such run shows.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/l2tpctl.js';
import { bufferedIo } from '../../src/cli/io.js';
import { buildHiddenAvpsSample, HIDDEN_SAMPLE, SAMPLE_SECRET } from '../../scripts/make-samples.js';
import { runTool } from '../support/run.js';
import { makeTempDir } from '../support/tmp.js';
import { expertErrors, tsharkDecode } from '../support/tshark.js';

const XL2TPD = 'samples/xl2tpd-lac-lns.pcap';
const HIDDEN = 'samples/hidden-avps.pcap';

interface JsonAvp {
  index: number;
  vendorId: number;
  type: number;
  name: string;
  mandatory: boolean;
  hidden: boolean;
  value: unknown;
  text: string;
  undecoded: string | null;
  raw: string | null;
  verified: boolean | null;
}
interface JsonPacket {
  index: number;
  timeNs: string | null;
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  transport: string;
  version: number | null;
  kind: string | null;
  messageType: number | null;
  messageName: string | null;
  tunnelId: number | null;
  sessionId: number | null;
  ns: number | null;
  nr: number | null;
  avps: JsonAvp[];
  violation: unknown;
  unexpected: JsonAvp[];
  data: Record<string, unknown> | null;
  error: { name: string; message: string; field: string | null; offset: number | null } | null;
}
interface JsonReport {
  input: { kind: string; format?: string; frames?: number; skipped?: number };
  packets: JsonPacket[];
  summary: { packets: number; decoded: number; failed: number };
}

async function decodeJson(...args: string[]): Promise<{ code: number; json: JsonReport; stderr: string }> {
  const io = bufferedIo();
  const code = await main(['decode', '--json', ...args], io);
  return { code, json: JSON.parse(io.out()) as JsonReport, stderr: io.err() };
}

function avpOf(p: JsonPacket | undefined, name: string): JsonAvp | undefined {
  return p?.avps.find((a) => a.name === name);
}

describe('samples/xl2tpd-lac-lns.pcap (real xl2tpd LAC → LNS)', () => {
  it('decodes every packet: tunnel, session, CDN, StopCCN, with ZLB acknowledgements', async () => {
    const { code, json } = await decodeJson(XL2TPD);
    expect(code).toBe(0);
    expect(json.input).toMatchObject({ kind: 'capture', format: 'pcap', skipped: 0 });
    expect(json.summary.failed).toBe(0);
    const names = json.packets.map((p) => p.messageName);
    const messages = names.filter((n) => n !== 'ZLB');
    expect(messages.slice(0, 6)).toEqual(['SCCRQ', 'SCCRP', 'SCCCN', 'ICRQ', 'ICRP', 'ICCN']);
    expect(messages).toContain('CDN');
    expect(messages[messages.length - 1]).toBe('StopCCN');
    expect(names).toContain('ZLB');
    for (const p of json.packets) {
      expect(p).toMatchObject({ version: 2, kind: 'control', transport: 'udp', sport: 1701, dport: 1701, error: null, violation: null });
      expect(p.timeNs).toMatch(/^\d{19}$/);
    }
  });

  it('shows the peers by address and host name, and the tunnel IDs they assigned', async () => {
    const { json } = await decodeJson(XL2TPD);
    const sccrq = json.packets.find((p) => p.messageName === 'SCCRQ')!;
    const sccrp = json.packets.find((p) => p.messageName === 'SCCRP')!;
    expect(sccrq).toMatchObject({ src: '127.0.0.3', dst: '127.0.0.2', tunnelId: 0, ns: 0, nr: 0 });
    expect(avpOf(sccrq, 'Host Name')?.value).toBe('peer-lac');
    expect(avpOf(sccrp, 'Host Name')?.value).toBe('peer-lns');
    expect(avpOf(sccrq, 'Protocol Version')?.text).toBe('1.0');
    expect(avpOf(sccrq, 'Vendor Name')?.value).toBe('xelerance.com');
    // The SCCRP goes to the tunnel ID the SCCRQ assigned.
    expect(sccrp.tunnelId).toBe(avpOf(sccrq, 'Assigned Tunnel ID')?.value);
    const cdn = json.packets.find((p) => p.messageName === 'CDN')!;
    expect(avpOf(cdn, 'Result Code')?.text).toMatch(/^1 \(Call disconnected due to loss of carrier\)/);
    const stop = json.packets.find((p) => p.messageName === 'StopCCN')!;
    expect(avpOf(stop, 'Result Code')?.value).toEqual({ result: 1, error: 0, message: 'Goodbye!' });
  });

  it('carries Challenge and Challenge Response, verified with --secret', async () => {
    const byName = (r: JsonReport, n: string): JsonPacket => r.packets.find((p) => p.messageName === n)!;
    const plain = (await decodeJson(XL2TPD)).json;
    expect(avpOf(byName(plain, 'SCCRQ'), 'Challenge')?.value).toMatch(/^[0-9a-f]{32}$/);
    expect(avpOf(byName(plain, 'SCCRP'), 'Challenge Response')).toMatchObject({ verified: null, value: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(avpOf(byName(plain, 'SCCCN'), 'Challenge Response')?.verified).toBeNull();

    const right = (await decodeJson('--secret', SAMPLE_SECRET, XL2TPD)).json;
    expect(avpOf(byName(right, 'SCCRP'), 'Challenge Response')?.verified).toBe(true);
    expect(avpOf(byName(right, 'SCCCN'), 'Challenge Response')?.verified).toBe(true);

    const wrong = await decodeJson('--secret', 'not-the-secret', XL2TPD);
    expect(wrong.code).toBe(0); // nothing is hidden, so everything still decodes
    expect(avpOf(byName(wrong.json, 'SCCRP'), 'Challenge Response')?.verified).toBe(false);
  });

  it('reads the same capture as pcapng', async () => {
    const tmp = await makeTempDir('l2tpctl-pcapng-');
    try {
      const ng = tmp.file('x.pcapng');
      await runTool('editcap', ['-F', 'pcapng', XL2TPD, ng]);
      const a = (await decodeJson(XL2TPD)).json;
      const b = (await decodeJson(ng)).json;
      expect(b.input.format).toBe('pcapng');
      expect(b.packets.map((p) => [p.index, p.timeNs, p.messageName])).toEqual(a.packets.map((p) => [p.index, p.timeNs, p.messageName]));
    } finally {
      await tmp.cleanup();
    }
  });

  it('finds nothing on another --port, and says so', async () => {
    const { code, json, stderr } = await decodeJson('--port', '1702', XL2TPD);
    expect(code).toBe(0);
    expect(json.packets).toEqual([]);
    expect(stderr).toContain('no L2TP packets (UDP port 1702 or IP protocol 115)');
  });
});

describe('samples/hidden-avps.pcap (our encoder)', () => {
  it('is what scripts/make-samples.ts builds, byte for byte', async () => {
    expect((await readFile(HIDDEN)).equals(buildHiddenAvpsSample())).toBe(true);
  });

  it('shows hidden AVPs as <hidden> without the secret, and still decodes every packet', async () => {
    const { code, json } = await decodeJson(HIDDEN);
    expect(code).toBe(0);
    expect(json.packets.map((p) => p.messageName ?? 'data')).toEqual([
      'SCCRQ', 'SCCRP', 'SCCCN', 'ICRQ', 'ICRP', 'ICCN', 'ZLB', 'data', 'data',
      'SCCRQ', 'SCCRP', 'SCCCN', 'ICRQ', 'ICRP', 'ICCN', 'ZLB', 'data', 'data',
    ]);
    const calling = avpOf(json.packets[3], 'Calling Number')!;
    expect(calling).toMatchObject({ type: 22, mandatory: true, hidden: true, value: null, undecoded: 'hidden', verified: null });
    expect(calling.text).toMatch(/^<hidden, \d+ octets; give --secret>$/);
    expect(calling.raw).toMatch(/^[0-9a-f]+$/);
    // Unhidden AVPs of the same message are there as usual.
    expect(avpOf(json.packets[3], 'Bearer Type')?.text).toBe('0x00000002 (Analog)');
  });

  it('unhides them with --secret, long values included', async () => {
    const { code, json } = await decodeJson('--secret', SAMPLE_SECRET, HIDDEN);
    expect(code).toBe(0);
    const [sccrq, sccrp, sccn, icrq, , iccn] = json.packets;
    expect(avpOf(sccrq, 'Assigned Tunnel ID')).toMatchObject({ hidden: true, value: HIDDEN_SAMPLE.lac.tunnelId, undecoded: null });
    expect(avpOf(sccrq, 'Vendor Name')?.value).toBe(HIDDEN_SAMPLE.vendorName);
    expect(avpOf(sccrq, 'Host Name')?.value).toBe('sample-lac');
    expect(avpOf(icrq, 'Calling Number')).toMatchObject({ hidden: true, value: HIDDEN_SAMPLE.callingNumber });
    expect(HIDDEN_SAMPLE.callingNumber.length).toBeGreaterThan(14); // spans two MD5 blocks of the key stream
    expect(avpOf(icrq, 'Called Number')?.value).toBe(HIDDEN_SAMPLE.calledNumber);
    expect(avpOf(iccn, 'Proxy Authen Name')?.value).toBe(HIDDEN_SAMPLE.proxyAuthenName);
    expect(avpOf(iccn, 'Proxy Authen Type')?.text).toBe('2 (PPP CHAP) (was hidden)');
    // The hidden Challenge Response and the plain one both answer their Challenge.
    expect(avpOf(sccrp, 'Challenge Response')).toMatchObject({ hidden: true, verified: true });
    expect(avpOf(sccn, 'Challenge Response')).toMatchObject({ hidden: false, verified: true });
  });

  it('shows the v2 data as PPP LCP echoes', async () => {
    const { json } = await decodeJson(HIDDEN);
    expect(json.packets[7]).toMatchObject({ kind: 'data', tunnelId: HIDDEN_SAMPLE.lns.tunnelId, sessionId: HIDDEN_SAMPLE.lns.sessionId, avps: [] });
    expect(json.packets[7]!.data).toMatchObject({ payloadLength: 12, priority: true, ppp: { protocol: 0xc021, protocolName: 'LCP', codeName: 'Echo-Request' } });
    expect(json.packets[8]!.data).toMatchObject({ ppp: { protocolName: 'LCP', codeName: 'Echo-Reply' } });
  });

  it('decodes the L2TPv3 pseudowire: IP transport, digests, hidden u64, cookies learnt from ICRQ/ICRP', async () => {
    const { json } = await decodeJson('--secret', SAMPLE_SECRET, HIDDEN);
    const v3 = json.packets.slice(9);
    const { a, b } = HIDDEN_SAMPLE.v3;
    for (const p of v3) expect(p).toMatchObject({ version: 3, transport: 'ip', sport: null, dport: null, error: null });
    for (const p of v3.filter((x) => x.kind === 'control' && x.messageName !== 'ZLB')) {
      expect(avpOf(p, 'Message Digest'), `${p.messageName}`).toMatchObject({ verified: true });
    }
    const [sccrq, sccrp, , icrq] = v3;
    expect(avpOf(sccrq, 'Assigned Control Connection ID')).toMatchObject({ hidden: true, value: a.ccid });
    expect(sccrp!.tunnelId).toBe(a.ccid);
    expect(avpOf(sccrq, 'Router ID')?.text).toBe('3323068419 (198.18.0.3)');
    expect(avpOf(icrq, 'Tx Connect Speed')).toMatchObject({ hidden: true, value: HIDDEN_SAMPLE.v3.txConnectSpeed.toString() });
    expect(avpOf(icrq, 'Remote End ID')?.value).toBe(Buffer.from(HIDDEN_SAMPLE.v3.remoteEndId).toString('hex'));
    expect(avpOf(icrq, 'Serial Number')).toMatchObject({ hidden: true, value: 1 });
    const [toB, toA] = v3.slice(7);
    expect(toB).toMatchObject({ kind: 'data', src: a.addr, dst: b.addr, sessionId: b.sessionId });
    expect(toB!.data).toMatchObject({ framing: 'capture', cookie: b.cookie, pseudowireType: 5, l2SpecificSublayer: { sequenced: false, sequence: 0 }, ethernet: { ethertype: 0x0800, vlans: [] } });
    expect(toA!.data).toMatchObject({ framing: 'capture', cookie: a.cookie, payloadLength: 42 });

    // A wrong secret: digests fail, hidden AVPs cannot be unhidden (exit 1), but every packet is still shown.
    const wrong = await decodeJson('--secret', 'wrong', HIDDEN);
    expect(wrong.code).toBe(1);
    expect(avpOf(wrong.json.packets[9], 'Message Digest')?.verified).toBe(false);
    expect(wrong.json.packets[9]!.error).toMatchObject({ name: 'HiddenAvpError', field: 'avp[5].value' });
    expect(avpOf(wrong.json.packets[9], 'Host Name')?.value).toBe('sample-lcce-a');
  });

  it('is decoded by tshark without malformed packets or bad digests', async () => {
    const packets = await tsharkDecode(HIDDEN, { prefs: { 'l2tp.shared_secret': SAMPLE_SECRET } });
    expect(packets).toHaveLength(18);
    for (const p of packets) {
      expect(p.malformed, `frame ${p.number}`).toBe(false);
      expect(expertErrors(p), `frame ${p.number}`).toEqual([]);
      expect(p.experts.filter((e) => /digest/i.test(e.message)), `frame ${p.number}`).toEqual([]);
    }
  });
});
