/**
 * Regenerates the captures in samples/ (run through scripts/make-samples.sh, which compiles this file):
 *
 *   hidden-avps.pcap     built with our own encoder, byte for byte reproducible (fixed Random Vectors, nonces,
 *                        padding and timestamps): an L2TPv2 tunnel and session whose AVPs are hidden with the
 *                        secret "samplesecret" (RFC 2661 §4.3), and an L2TPv3-over-IP Ethernet pseudowire with
 *                        cookies, the default L2-Specific Sublayer, hidden AVPs (RFC 3931 §5.3) and HMAC-MD5
 *                        Message Digests (§4.3), plus a data packet each way for both.
 *   xl2tpd-lac-lns.pcap  a real capture of xl2tpd as LAC (127.0.0.3, "peer-lac") dialing xl2tpd as LNS
 *                        (127.0.0.2, "peer-lns") on loopback with challenge authentication: tunnel and session
 *                        come up, pppd fails on this host so a CDN follows, then "d t1" sends StopCCN.
 *                        Needs root (capture on lo), xl2tpd and tshark (see /work/shared/reference/peers.md).
 *
 * Usage: node dist/scripts/make-samples.js [hidden|xl2tpd|all] [OUTDIR]   (default: all, samples)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  avp,
  challengeResponse,
  controlMessage,
  deriveV3AuthKey,
  encodeControl,
  encodeData,
  type AvpInstance,
  type ControlMessage,
  type V3Authentication,
} from '../src/protocol/index.js';
import { buildIpv4L2tpIpFrame, buildIpv4UdpFrame, internetChecksum, parseIpv4 } from '../src/util/frames.js';
import { LinkType, writePcap } from '../src/util/pcap.js';
import { decodeCapture } from '../src/cli/decode.js';

export const SAMPLE_SECRET = 'samplesecret';

/** What the hidden-AVP sample puts in its hidden AVPs (the tests compare the unhidden values with these). */
export const HIDDEN_SAMPLE = {
  lac: { addr: '198.18.0.1', hostName: 'sample-lac', tunnelId: 4711, sessionId: 17 },
  lns: { addr: '198.18.0.2', hostName: 'sample-lns', tunnelId: 815, sessionId: 42 },
  callingNumber: '+49 30 1234567890 ext. 4711',
  calledNumber: '0800 555 0199',
  proxyAuthenName: 'subscriber-0042@isp.example',
  vendorName: 'l2tpd sample generator',
  v3: {
    a: { addr: '198.18.0.3', hostName: 'sample-lcce-a', ccid: 0x0001_0001, sessionId: 0x2000_0001, cookie: 'a1b2c3d4e5f60718' },
    b: { addr: '198.18.0.4', hostName: 'sample-lcce-b', ccid: 0x0002_0002, sessionId: 0x3000_0001, cookie: 'c0ffee01' },
    remoteEndId: 'pw:customer-0042/vlan-100',
    txConnectSpeed: 10_000_000_000n,
  },
} as const;

/** 2026-01-01T00:00:00Z: fixed, so the file is reproducible. */
const BASE_NS = 1_767_225_600n * 1_000_000_000n;

/** Fixed "random" octets: the sample must be reproducible, and nobody should mistake them for real randomness. */
function pattern(seed: number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => (seed * 37 + i * 11) & 0xff));
}

/** Padding that rounds the hidden subformat up to whole MD5 blocks (RFC 2661 §4.3), deterministically. */
function padding(_type: number, valueLength: number): Buffer {
  return Buffer.alloc((16 - ((2 + valueLength) % 16)) % 16, 0x5a);
}

function msg(version: 2 | 3, type: number | undefined, tunnelId: number, sessionId: number, ns: number, nr: number, avps: AvpInstance[] = []): ControlMessage {
  return { ...controlMessage(version, type, { tunnelId, sessionId }, avps), ns, nr };
}

const H = { hidden: true } as const;

/** The L2TPv2 half: SCCRQ/SCCRP/SCCCN with challenge authentication, ICRQ/ICRP/ICCN with hidden AVPs, PPP data. */
function v2Frames(secret: Buffer): { from: 'lac' | 'lns'; payload: Buffer }[] {
  const S = HIDDEN_SAMPLE;
  const challengeLac = pattern(1, 16);
  const challengeLns = pattern(2, 16);
  const m = (from: 'lac' | 'lns', c: ControlMessage) => ({ from, payload: encodeControl(c, { secret, hiddenPadding: padding }) });
  return [
    m('lac', msg(2, 1, 0, 0, 0, 0, [
      avp('RandomVector', pattern(3, 16)),
      avp('ProtocolVersion', { version: 1, revision: 0 }),
      avp('HostName', S.lac.hostName),
      avp('FramingCapabilities', 0x3, H),
      avp('BearerCapabilities', 0x3, H),
      avp('AssignedTunnelId', S.lac.tunnelId, H),
      avp('ReceiveWindowSize', 8),
      avp('Challenge', challengeLac, H),
      avp('VendorName', S.vendorName, H),
    ])),
    m('lns', msg(2, 2, S.lac.tunnelId, 0, 0, 1, [
      avp('RandomVector', pattern(4, 16)),
      avp('ProtocolVersion', { version: 1, revision: 0 }),
      avp('FramingCapabilities', 0x3),
      avp('HostName', S.lns.hostName),
      avp('AssignedTunnelId', S.lns.tunnelId, H),
      avp('ChallengeResponse', challengeResponse(2, secret, challengeLac), H),
      avp('Challenge', challengeLns),
    ])),
    m('lac', msg(2, 3, S.lns.tunnelId, 0, 1, 1, [avp('ChallengeResponse', challengeResponse(3, secret, challengeLns))])),
    m('lac', msg(2, 10, S.lns.tunnelId, 0, 2, 1, [
      avp('RandomVector', pattern(5, 16)),
      avp('AssignedSessionId', S.lac.sessionId, H),
      avp('CallSerialNumber', 1, H),
      avp('BearerType', 0x2),
      avp('CallingNumber', S.callingNumber, H),
      avp('CalledNumber', S.calledNumber, H),
    ])),
    m('lns', msg(2, 11, S.lac.tunnelId, S.lac.sessionId, 1, 3, [avp('RandomVector', pattern(6, 16)), avp('AssignedSessionId', S.lns.sessionId, H)])),
    m('lac', msg(2, 12, S.lns.tunnelId, S.lns.sessionId, 3, 2, [
      avp('RandomVector', pattern(7, 16)),
      avp('TxConnectSpeed', 100_000_000),
      avp('FramingType', 0x1),
      avp('ProxyAuthenType', 2, H),
      avp('ProxyAuthenName', S.proxyAuthenName, H),
      avp('ProxyAuthenChallenge', pattern(8, 16), H),
      avp('ProxyAuthenId', 1, H),
      avp('ProxyAuthenResponse', pattern(9, 16), H),
      avp('RxConnectSpeed', 100_000_000),
    ])),
    m('lns', msg(2, undefined, S.lac.tunnelId, 0, 2, 4)),
    // PPP over the session: LCP Echo-Request and Echo-Reply (RFC 1661 §5.8) with ff 03 in front.
    {
      from: 'lac',
      payload: encodeData({
        version: 2, tunnelId: S.lns.tunnelId, sessionId: S.lns.sessionId, priority: true, lengthPresent: true,
        payload: Buffer.from('ff03c02109010008' + '1a2b3c4d', 'hex'),
      }),
    },
    {
      from: 'lns',
      payload: encodeData({
        version: 2, tunnelId: S.lac.tunnelId, sessionId: S.lac.sessionId, priority: true, lengthPresent: false,
        payload: Buffer.from('ff03c0210a010008' + '5e6f7081', 'hex'),
      }),
    },
  ];
}

/** The L2TPv3 half: an Ethernet pseudowire over IP (protocol 115), every control message signed. */
function v3Frames(secret: Buffer): { from: 'a' | 'b'; payload: Buffer }[] {
  const { a, b, remoteEndId, txConnectSpeed } = HIDDEN_SAMPLE.v3;
  const nonceA = pattern(10, 16);
  const nonceB = pattern(11, 16);
  const key = deriveV3AuthKey(secret);
  const auth = (from: 'a' | 'b', type: number): V3Authentication => ({
    algorithm: 'hmac-md5',
    key,
    nonces:
      type === 1
        ? { kind: 'sccrq' }
        : { kind: 'exchanged', senderNonce: from === 'a' ? nonceA : nonceB, receiverNonce: from === 'a' ? nonceB : nonceA },
  });
  const m = (from: 'a' | 'b', c: ControlMessage) => ({
    from,
    payload: encodeControl(c, { transport: 'ip', secret, hiddenPadding: padding, ...(c.messageType !== undefined ? { digest: auth(from, c.messageType) } : {}) }),
  });
  // An ICMP echo between two customer hosts (RFC 5737 documentation addresses), checksums and all.
  const ethernetFrame = (dst: string, src: string, ipSrc: string, ipDst: string, icmpType: 0 | 8): Buffer => {
    const ip = Buffer.from(`4500001c00004000400100000000000000000000${icmpType === 8 ? '08' : '00'}00000000010001`, 'hex');
    parseIpv4(ipSrc).copy(ip, 12);
    parseIpv4(ipDst).copy(ip, 16);
    ip.writeUInt16BE(internetChecksum(ip.subarray(0, 20)), 10);
    ip.writeUInt16BE(internetChecksum(ip.subarray(20)), 22);
    return Buffer.concat([Buffer.from(dst, 'hex'), Buffer.from(src, 'hex'), Buffer.from('0800', 'hex'), ip]);
  };
  return [
    m('a', msg(3, 1, 0, 0, 0, 0, [
      avp('RandomVector', pattern(12, 16)),
      avp('HostName', a.hostName),
      avp('RouterId', 0xc6120003),
      avp('AssignedControlConnectionId', a.ccid, H),
      avp('PseudowireCapabilitiesList', [0x0005, 0x0004]),
      avp('ControlMessageAuthenticationNonce', nonceA),
    ])),
    m('b', msg(3, 2, a.ccid, 0, 0, 1, [
      avp('RandomVector', pattern(13, 16)),
      avp('HostName', b.hostName),
      avp('RouterId', 0xc6120004),
      avp('AssignedControlConnectionId', b.ccid, H),
      avp('PseudowireCapabilitiesList', [0x0005]),
      avp('ControlMessageAuthenticationNonce', nonceB),
    ])),
    m('a', msg(3, 3, b.ccid, 0, 1, 1)),
    m('a', msg(3, 10, b.ccid, 0, 2, 1, [
      avp('RandomVector', pattern(14, 16)),
      avp('LocalSessionId', a.sessionId),
      avp('RemoteSessionId', 0),
      avp('CallSerialNumber', 1, H),
      avp('PseudowireType', 0x0005),
      avp('RemoteEndId', Buffer.from(remoteEndId), H),
      avp('CircuitStatus', 0x3),
      avp('AssignedCookie', Buffer.from(a.cookie, 'hex')),
      avp('L2SpecificSublayer', 1),
      avp('DataSequencing', 0),
      avp('TxConnectSpeedV3', txConnectSpeed, H),
    ])),
    m('b', msg(3, 11, a.ccid, 0, 1, 3, [
      avp('LocalSessionId', b.sessionId),
      avp('RemoteSessionId', a.sessionId),
      avp('CircuitStatus', 0x3),
      avp('AssignedCookie', Buffer.from(b.cookie, 'hex')),
      avp('L2SpecificSublayer', 1),
    ])),
    m('a', msg(3, 12, b.ccid, 0, 3, 2, [avp('LocalSessionId', a.sessionId), avp('RemoteSessionId', b.sessionId)])),
    m('b', msg(3, undefined, a.ccid, 0, 2, 4)),
    // Data to B carries B's session ID and B's cookie, and the sublayer both asked for (RFC 3931 §4.1, §4.6).
    {
      from: 'a',
      payload: encodeData(
        { version: 3, sessionId: b.sessionId, cookie: Buffer.from(b.cookie, 'hex'), l2SpecificSublayer: { sequenced: false, sequence: 0 }, payload: ethernetFrame('020000000b0b', '020000000a0a', '192.0.2.1', '192.0.2.2', 8) },
        'ip',
      ),
    },
    {
      from: 'b',
      payload: encodeData(
        { version: 3, sessionId: a.sessionId, cookie: Buffer.from(a.cookie, 'hex'), l2SpecificSublayer: { sequenced: false, sequence: 0 }, payload: ethernetFrame('020000000a0a', '020000000b0b', '192.0.2.2', '192.0.2.1', 0) },
        'ip',
      ),
    },
  ];
}

/** samples/hidden-avps.pcap, byte for byte. */
export function buildHiddenAvpsSample(): Buffer {
  const secret = Buffer.from(SAMPLE_SECRET);
  const S = HIDDEN_SAMPLE;
  const frames: Buffer[] = [];
  for (const f of v2Frames(secret)) {
    const [src, dst] = f.from === 'lac' ? [S.lac.addr, S.lns.addr] : [S.lns.addr, S.lac.addr];
    frames.push(buildIpv4UdpFrame({ src, dst, sport: 1701, dport: 1701, payload: f.payload, id: frames.length }));
  }
  for (const f of v3Frames(secret)) {
    const [src, dst] = f.from === 'a' ? [S.v3.a.addr, S.v3.b.addr] : [S.v3.b.addr, S.v3.a.addr];
    frames.push(buildIpv4L2tpIpFrame({ src, dst, payload: f.payload, id: frames.length }));
  }
  return writePcap(frames.map((data, i) => ({ data, timestampNs: BASE_NS + BigInt(i) * 1_000_000n })), LinkType.EN10MB);
}

// ---------------------------------------------------------------------------------------------------------------
// The real capture

const LNS_ADDR = '127.0.0.2';
const LAC_ADDR = '127.0.0.3';

function findBinary(name: string): string {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin']) {
    const p = path.join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  throw new Error(`${name} not found: apt-get install -y ${name === 'xl2tpd' ? 'xl2tpd' : 'tshark'} (see /work/shared/reference/peers.md)`);
}

interface Running {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(cmd: string, args: string[]): Running {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (d: Buffer): void => {
    output += d.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  return { child, output: () => output, exited };
}

async function waitFor(what: string, r: Running, test: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (r.child.exitCode !== null) throw new Error(`${what}: process exited with ${r.child.exitCode}:\n${r.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${r.output()}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Stops a process we started, by its PID, and waits for it. */
async function stop(r: Running | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!r || r.child.exitCode !== null || r.child.signalCode !== null || r.child.pid === undefined) return;
  process.kill(r.child.pid, signal);
  const timer = setTimeout(() => r.child.pid !== undefined && r.child.exitCode === null && process.kill(r.child.pid, 'SIGKILL'), 5000);
  await r.exited.catch(() => undefined);
  clearTimeout(timer);
}

function xl2tpdConf(role: 'lns' | 'lac', dir: string): string {
  const common = ['[global]', `listen-addr = ${role === 'lns' ? LNS_ADDR : LAC_ADDR}`, 'port = 1701', 'debug avp = yes', 'debug state = yes', 'debug tunnel = yes'];
  if (role === 'lns') {
    return [
      ...common, 'access control = no', '[lns default]', 'ip range = 198.18.1.10-198.18.1.20', 'local ip = 198.18.1.1',
      'hostname = peer-lns', 'length bit = yes', 'challenge = yes', 'require authentication = no', `pppoptfile = ${dir}/options`,
    ].join('\n') + '\n';
  }
  return [
    ...common, '[lac t1]', `lns = ${LNS_ADDR}`, 'hostname = peer-lac', 'length bit = yes', 'challenge = yes',
    'autodial = no', 'redial = no', `pppoptfile = ${dir}/options`,
  ].join('\n') + '\n';
}

/** Captures xl2tpd LAC → LNS on loopback into `outFile` (see the file comment). */
export async function captureXl2tpd(outFile: string): Promise<void> {
  const xl2tpd = findBinary('xl2tpd');
  const tsharkBin = findBinary('tshark');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'l2tpd-samples-'));
  let tshark: Running | undefined;
  let lns: Running | undefined;
  let lac: Running | undefined;
  try {
    await writeFile(path.join(dir, 'secrets'), `* * ${SAMPLE_SECRET}\n`);
    await writeFile(path.join(dir, 'options'), 'noauth\n');
    for (const role of ['lns', 'lac'] as const) await writeFile(path.join(dir, `${role}.conf`), xl2tpdConf(role, dir));
    const pcap = path.join(dir, 'capture.pcap');

    tshark = start(tsharkBin, ['-i', 'lo', '-f', 'udp port 1701', '-w', pcap, '-F', 'pcap']);
    await waitFor('tshark to start capturing', tshark, () => tshark!.output().includes('Capturing on'));
    // The filter takes a moment after "Capturing on" before packets are seen.
    await new Promise((r) => setTimeout(r, 1000));

    const run = (role: 'lns' | 'lac'): Running =>
      start(xl2tpd, ['-D', '-c', path.join(dir, `${role}.conf`), '-s', path.join(dir, 'secrets'), '-p', path.join(dir, `${role}.pid`), '-C', path.join(dir, `${role}.ctl`)]);
    lns = run('lns');
    lac = run('lac');
    const lacCtl = path.join(dir, 'lac.ctl');
    await waitFor('the LNS control pipe', lns, () => existsSync(path.join(dir, 'lns.ctl')));
    await waitFor('the LAC control pipe', lac, () => existsSync(lacCtl));

    await writeFile(lacCtl, 'c t1\n');
    // Tunnel, session, pppd failing (no /dev/ppp here), CDN: the LAC logs the closed call.
    await waitFor('the session to come up', lac, () => /Call established with/.test(lac!.output()));
    await waitFor('the CDN', lac, () => /Connection closed to|call_close/.test(lac!.output()));
    await new Promise((r) => setTimeout(r, 500));
    await writeFile(lacCtl, 'd t1\n');
    await waitFor('the StopCCN', lac, () => /Connection \d+ closed to .*port 1701/.test(lac!.output()));
    // Let the acknowledgements (and xl2tpd's StopCCN retransmission) land in the capture.
    await new Promise((r) => setTimeout(r, 2000));

    await stop(lac);
    await stop(lns);
    await stop(tshark, 'SIGINT');
    await copyFile(pcap, outFile);
  } finally {
    await stop(lac);
    await stop(lns);
    await stop(tshark, 'SIGINT');
    await rm(dir, { recursive: true, force: true });
  }
}

/** The message names of a capture, in order, to check a regenerated sample before keeping it. */
async function messageNames(file: string): Promise<string[]> {
  const report = decodeCapture(await readFile(file), { secret: SAMPLE_SECRET });
  const failed = report.packets.filter((p) => p.error);
  if (failed.length) throw new Error(`${file}: ${failed.length} packets fail to decode: ${failed[0]!.error!.message}`);
  return report.packets.map((p) => p.messageName ?? 'data');
}

async function mainCli(argv: string[]): Promise<void> {
  const what = argv[0] ?? 'all';
  const outDir = argv[1] ?? 'samples';
  if (!['hidden', 'xl2tpd', 'all'].includes(what)) throw new Error(`usage: make-samples [hidden|xl2tpd|all] [OUTDIR]`);
  await mkdir(outDir, { recursive: true });
  if (what !== 'xl2tpd') {
    const file = path.join(outDir, 'hidden-avps.pcap');
    await writeFile(file, buildHiddenAvpsSample());
    console.log(`${file}: ${(await messageNames(file)).join(' ')}`);
  }
  if (what !== 'hidden') {
    const file = path.join(outDir, 'xl2tpd-lac-lns.pcap');
    const tmp = `${file}.new`;
    await captureXl2tpd(tmp);
    const names = await messageNames(tmp);
    const want = ['SCCRQ', 'SCCRP', 'SCCCN', 'ICRQ', 'ICRP', 'ICCN', 'CDN', 'StopCCN'];
    const missing = want.filter((n) => !names.includes(n));
    if (missing.length) {
      await rm(tmp, { force: true });
      throw new Error(`the capture lacks ${missing.join(', ')}: ${names.join(' ')}`);
    }
    await copyFile(tmp, file);
    await chmod(file, 0o644); // tshark writes 0600
    await rm(tmp, { force: true });
    console.log(`${file}: ${names.join(' ')}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  mainCli(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
