/**
 * l2tp-load's PPP data mode (--ping-rate): the IPv4/ICMP codec against known-good bytes, the
 * pinger's accounting (replies, loss after the timeout, late and duplicate replies, what is still
 * outstanding at the end) in virtual time, and a subscriber end to end: our PPP engine's client side
 * (the subscriber, as l2tp-load runs it) against its server side playing the LNS, its frames carried
 * in L2TP data messages of one session both ways, and an in-test responder on the LNS's data path
 * that answers echo requests (l2tpd's null data plane does not). Nothing depends on real time.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeData, peekHeader } from '../../src/protocol/index.js';
import { createAuthServer } from '../../src/ppp/auth/index.js';
import { PppEngine } from '../../src/ppp/engine.js';
import { VirtualClock } from '../../src/transport/clock.js';
import {
  EchoRequestWriter,
  internetChecksum,
  ipv4Offset,
  IpVerdict,
  newEchoFields,
  onesSum,
  readIcmpEcho,
  writeIcmpEcho,
  ICMP_ECHO_REPLY,
} from '../../load/icmp.js';
import { LoadOptionError, readConfigFile, resolveOptions, type LoadOptions, type PingLoadOptions } from '../../load/options.js';
import { Pinger, type PingHost } from '../../load/ping.js';
import { PppSubscriber, type CauseIn, type SubscriberCall } from '../../load/ppp-subscriber.js';
import type { LacHost } from '../../load/lac-tunnel.js';
import { buildReport, dataReport, type DataReport } from '../../load/report.js';
import { renderHtml } from '../../load/html.js';
import { CauseTable, newCounters, newHistograms, newPingTally, recordLatency, sumStats, type WorkerStats } from '../../load/stats.js';
import { makeTempDir } from '../support/tmp.js';
import { FakePool, run, seeded } from '../ppp/support/link.js';
import { MapVerifier } from '../ppp/support/fake-pap.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ip4 = (a: string): number => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);

/** 198.18.0.2 → 198.18.0.1, echo request, identifier 0x1234, sequence 1, data 00..07: computed independently (Python, RFC 1071). */
const KNOWN_REQUEST = hex('45000024 00010000 4001eeb0 c6120002 c6120001   0800d9ba 12340001 0001020304050607');

describe('Internet checksum and ICMP echo (RFC 1071, 791, 792)', () => {
  it('the RFC 1071 §3 example and a textbook IPv4 header', () => {
    // RFC 1071: 0001 f203 f4f5 f6f7 sums to ddf2; the checksum is its complement.
    expect(internetChecksum(hex('0001f203f4f5f6f7'))).toBe(0x220d);
    // An odd length pads with a zero octet.
    expect(internetChecksum(hex('0001f203f4f5f6'))).toBe(internetChecksum(hex('0001f203f4f5f600')));
    // 192.168.0.1 → 192.168.0.199, UDP: header checksum b861 (checksum field zeroed), and 0 over the whole header.
    const header = hex('45000073 00004000 40110000 c0a80001 c0a800c7');
    expect(internetChecksum(header)).toBe(0xb861);
    header.writeUInt16BE(0xb861, 10);
    expect(internetChecksum(header)).toBe(0);
  });

  it('an echo request is written byte for byte as the known packet, in a PPP frame (ff 03 00 21)', () => {
    const w = new EchoRequestWriter(8);
    const frame = w.frame(ip4('198.18.0.2'), ip4('198.18.0.1'), 0x1234, 1);
    expect(frame.subarray(0, 4)).toEqual(hex('ff030021'));
    expect(frame.subarray(4)).toEqual(KNOWN_REQUEST);
    // The buffer is reused: the next request rewrites every field that changes, checksums included.
    const again = Buffer.from(w.frame(ip4('10.0.0.9'), ip4('10.0.0.1'), 0xfffe, 0xffff));
    expect(internetChecksum(again, 4, 20)).toBe(0);
    expect(internetChecksum(again, 24)).toBe(0);
    expect(Buffer.from(w.frame(ip4('198.18.0.2'), ip4('198.18.0.1'), 0x1234, 1)).subarray(4)).toEqual(KNOWN_REQUEST);
  });

  it('reads the known packet back; a reply built from it checks too', () => {
    const f = newEchoFields();
    expect(readIcmpEcho(KNOWN_REQUEST, 0, f)).toBe(IpVerdict.EchoRequest);
    expect(f).toEqual({ src: ip4('198.18.0.2'), dst: ip4('198.18.0.1'), ident: 0x1234, seq: 1, dataOffset: 28, dataLength: 8 });
    const reply = Buffer.alloc(KNOWN_REQUEST.length);
    KNOWN_REQUEST.copy(reply, 28, 28);
    writeIcmpEcho(reply, 0, ICMP_ECHO_REPLY, f.dst, f.src, f.ident, f.seq, 8, onesSum(reply, 28, 8));
    expect(readIcmpEcho(reply, 0, f)).toBe(IpVerdict.EchoReply);
    expect(f).toMatchObject({ src: ip4('198.18.0.1'), dst: ip4('198.18.0.2'), ident: 0x1234, seq: 1 });
    // Link padding after the IP Total Length is not part of the packet.
    expect(readIcmpEcho(Buffer.concat([reply, hex('0000')]), 0, f)).toBe(IpVerdict.EchoReply);
  });

  it('bad packets are judged, never thrown: malformed (length, version, checksums) or other (protocol, type, fragment)', () => {
    const f = newEchoFields();
    const bad = (edit: (b: Buffer) => void, fixHeader = false): Buffer => {
      const b = Buffer.from(KNOWN_REQUEST);
      edit(b);
      if (fixHeader) {
        b.writeUInt16BE(0, 10);
        b.writeUInt16BE(internetChecksum(b, 0, 20), 10);
      }
      return b;
    };
    expect(readIcmpEcho(KNOWN_REQUEST.subarray(0, 19), 0, f)).toBe(IpVerdict.Malformed);
    expect(readIcmpEcho(KNOWN_REQUEST.subarray(0, 30), 0, f)).toBe(IpVerdict.Malformed); // Total Length beyond the frame
    expect(readIcmpEcho(bad((b) => (b[0] = 0x65), true), 0, f)).toBe(IpVerdict.Malformed); // version 6
    expect(readIcmpEcho(bad((b) => (b[0] = 0x44), true), 0, f)).toBe(IpVerdict.Malformed); // IHL 4
    expect(readIcmpEcho(bad((b) => (b[8] = 63)), 0, f)).toBe(IpVerdict.Malformed); // header checksum
    expect(readIcmpEcho(bad((b) => (b[35] = b[35]! ^ 1)), 0, f)).toBe(IpVerdict.Malformed); // ICMP checksum
    expect(readIcmpEcho(bad((b) => (b[9] = 17), true), 0, f)).toBe(IpVerdict.Other); // UDP
    expect(readIcmpEcho(bad((b) => (b[6] = 0x20), true), 0, f)).toBe(IpVerdict.Other); // More Fragments
    const unreachable = Buffer.from(KNOWN_REQUEST);
    writeIcmpEcho(unreachable, 0, 3, 1, 2, 0, 0, 8, onesSum(unreachable, 28, 8));
    expect(readIcmpEcho(unreachable, 0, f)).toBe(IpVerdict.Other);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const b = Buffer.from(bytes);
        expect([IpVerdict.Malformed, IpVerdict.Other, IpVerdict.EchoReply, IpVerdict.EchoRequest]).toContain(readIcmpEcho(b, 0, f));
        ipv4Offset(b);
      }),
    );
  });

  it('finds IPv4 in PPP frames with or without Address/Control and with a compressed Protocol', () => {
    expect(ipv4Offset(hex('ff03002145'))).toBe(4);
    expect(ipv4Offset(hex('002145'))).toBe(2);
    expect(ipv4Offset(hex('2145'))).toBe(1);
    expect(ipv4Offset(hex('ff0321'))).toBe(3);
    expect(ipv4Offset(hex('ff03c021'))).toBe(-1);
    expect(ipv4Offset(hex('ff02002145'))).toBe(-1);
    expect(ipv4Offset(hex('0057'))).toBe(-1);
    expect(ipv4Offset(Buffer.alloc(0))).toBe(-1);
  });
});

describe('--ping-* options', () => {
  const base = { target: '127.0.0.1', ppp: true };

  it('off by default; --ping-rate gives 56 octets, the LNS as target, a 2 s timeout', () => {
    expect(resolveOptions(base).ping).toBeNull();
    expect(resolveOptions({ ...base, pingRate: '0' }).ping).toBeNull();
    expect(resolveOptions({ ...base, pingRate: '1' }).ping).toEqual({ rate: 1, size: 56, target: null, timeoutMs: 2000 });
    expect(resolveOptions({ ...base, pingRate: '0.5', pingSize: '1000', pingTarget: '10.1.2.3', pingTimeout: '0.5' }).ping).toEqual({ rate: 0.5, size: 1000, target: '10.1.2.3', timeoutMs: 500 });
  });

  it('from a config file, the command line winning', async () => {
    const t = await makeTempDir('l2tp-load-ping-');
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(t.file('p.yaml'), 'ppp: true\nping-rate: 2\npingSize: 100\nping-target: 198.18.0.1\n');
      expect(resolveOptions({ target: '127.0.0.1', pingSize: '64' }, readConfigFile(t.file('p.yaml'))).ping).toEqual({ rate: 2, size: 64, target: '198.18.0.1', timeoutMs: 2000 });
    } finally {
      await t.cleanup();
    }
  });

  it('refuses what cannot work, naming the option', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ target: '127.0.0.1', pingRate: '1' }, /^--ping-rate: needs --ppp/],
      [{ ...base, pingSize: '100' }, /^--ping-size: needs --ping-rate/],
      [{ ...base, pingRate: '1', pingSize: '1473' }, /^--ping-size: must be an integer from 0 to 1472/],
      [{ ...base, pingRate: '-1' }, /^--ping-rate: must be a number from 0 to 100/],
      [{ ...base, pingRate: '1', pingTarget: '8.8.8.8' }, /^--ping-target: 8\.8\.8\.8: an IPv4 address in 10\/8/],
      [{ ...base, pingRate: '1', pingTarget: 'fe80::1' }, /^--ping-target: /],
    ];
    for (const [o, err] of cases) {
      expect(() => resolveOptions(o), JSON.stringify(o)).toThrow(LoadOptionError);
      expect(() => resolveOptions(o), JSON.stringify(o)).toThrow(err);
    }
  });
});

/** One worker's report with nothing counted, but for `extra`. */
const workerStats = (extra: Partial<WorkerStats> = {}): WorkerStats => ({
  worker: 0, counters: newCounters(), hist: newHistograms(), failures: [], cleared: [], firstCallAt: null, lastCallUpAt: null, firstTunnelAt: null,
  lastTunnelUpAt: null, addressLow: null, addressHigh: null, ping: newPingTally(), elu: 0, settled: true, done: true, ...extra,
});

/** A worker's view for one pinger, in virtual time. */
function pingHost(clock: VirtualClock): PingHost & { tally: ReturnType<typeof newPingTally> } {
  const ping = newPingTally();
  return { clock, counters: newCounters(), ping, tally: ping, now: () => clock.now(), random: seeded(7) };
}

function report(h: PingHost): DataReport {
  return dataReport(h.counters, h.ping);
}

describe('the pinger: rate, jitter, loss after the timeout, late and duplicate replies', () => {
  const o: PingLoadOptions = { rate: 2, size: 56, target: null, timeoutMs: 2000 };
  const US = ip4('198.18.1.10');
  const LNS = ip4('198.18.1.1');

  /** Answers request `seq` after `delay(seq)` ms (undefined: never), `copies` times. */
  function echo(clock: VirtualClock, p: () => Pinger, delay: (seq: number) => number | undefined, copies = 1) {
    const f = newEchoFields();
    const sent: number[] = [];
    const send = (frame: Buffer): void => {
      const ipOff = ipv4Offset(frame);
      expect(readIcmpEcho(frame, ipOff, f)).toBe(IpVerdict.EchoRequest);
      expect(f).toMatchObject({ src: US, dst: LNS, ident: 77, dataLength: 56 });
      sent.push(clock.now());
      const d = delay(f.seq);
      if (d === undefined) return;
      const reply = Buffer.from(frame);
      writeIcmpEcho(reply, ipOff, ICMP_ECHO_REPLY, f.dst, f.src, f.ident, f.seq, f.dataLength, onesSum(reply, f.dataOffset, f.dataLength));
      for (let i = 0; i < copies; i++) clock.setTimeout(() => p().receive(reply, ipOff), d);
    };
    return { send, sent };
  }

  it('every request answered in 5 ms: no loss, round trips of 5 ms, intervals jittered around 1/rate', () => {
    const clock = new VirtualClock(1000);
    const h = pingHost(clock);
    let p!: Pinger;
    const e = echo(clock, () => p, () => 5);
    p = new Pinger(h, o, e.send, US, LNS, 77);
    p.start();
    clock.advance(60_000);
    p.stop();
    const n = e.sent.length;
    expect(n).toBeGreaterThanOrEqual(100); // 2/s for 60 s
    expect(n).toBeLessThanOrEqual(140);
    const gaps = e.sent.slice(1).map((t, i) => t - e.sent[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(250);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(750);
    expect(new Set(gaps).size).toBeGreaterThan(10); // jittered, not a fixed period
    const d = report(h);
    expect(d).toMatchObject({ sessions: 1, requestsSent: n, lost: 0, lossPercent: 0, lateReplies: 0, unexpected: 0, malformed: 0 });
    // The last request may still be within its 5 ms when the session stops.
    expect(d.repliesReceived + d.outstandingAtEnd).toBe(n);
    expect(d.rttMs.count).toBe(d.repliesReceived);
    expect(d.rttMs.max).toBe(5);
    expect(d.rttMs.p50! / 5).toBeGreaterThan(0.95);
    expect(d.rttMs.p99! / 5).toBeLessThan(1.05);
    expect(h.counters.pingOutstanding).toBe(0);
  });

  it('unanswered requests are lost after the timeout; a reply after it is late (and stays lost); duplicates are late', () => {
    const clock = new VirtualClock(1000);
    const h = pingHost(clock);
    let p!: Pinger;
    // By seq % 4: answered in 10 ms; never; after 3 s (past the 2 s timeout); in 20 ms and again at 25 ms.
    const DELAY = [10, undefined, 3000, 20] as const;
    const e = echo(clock, () => p, (s) => DELAY[s % 4]);
    const dup = echo(clock, () => p, (s) => (s % 4 === 3 ? 25 : undefined));
    p = new Pinger(h, o, (f) => (e.send(f), dup.send(f)), US, LNS, 77);
    p.start();
    clock.advance(100_000);
    const stopAt = clock.now();
    p.stop();
    clock.advance(5000); // what was still in flight arrives after the stop: late
    // What each request must have become, from when it left.
    const want = { replies: 0, lost: 0, outstanding: 0, late: 0 };
    e.sent.forEach((t, s) => {
      const d = DELAY[s % 4];
      if (d !== undefined && d < o.timeoutMs && t + d <= stopAt) want.replies++;
      else if (stopAt - t >= o.timeoutMs) want.lost++;
      else want.outstanding++;
      if (d !== undefined && (d >= o.timeoutMs || t + d > stopAt)) want.late++;
      if (s % 4 === 3) want.late++; // the duplicate
    });
    const d = report(h);
    expect(d.requestsSent).toBe(e.sent.length);
    expect(d).toMatchObject({ repliesReceived: want.replies, lost: want.lost, outstandingAtEnd: want.outstanding, lateReplies: want.late });
    expect(want.lost).toBeGreaterThan(0.45 * e.sent.length);
    expect(d.lossPercent).toBeCloseTo((want.lost / (e.sent.length - want.outstanding)) * 100, 2);
    expect(d.rttMs.max).toBe(20);
    expect(d.rttMs.count).toBe(want.replies);
    expect(h.counters.pingOutstanding).toBe(0);
  });

  it('replies not for this pinger are unexpected, broken ones malformed; neither counts as a reply', () => {
    const clock = new VirtualClock(1000);
    const h = pingHost(clock);
    const frames: Buffer[] = [];
    const p = new Pinger(h, o, (f) => frames.push(Buffer.from(f)), US, LNS, 77);
    p.start();
    clock.advance(600);
    expect(frames.length).toBeGreaterThan(0);
    const req = frames[0]!;
    const f = newEchoFields();
    readIcmpEcho(req, 4, f);
    const reply = (src: number, dst: number, ident: number, size = 56): Buffer => {
      const b = Buffer.alloc(4 + 28 + size);
      req.copy(b, 0, 0, Math.min(req.length, b.length));
      writeIcmpEcho(b, 4, ICMP_ECHO_REPLY, src, dst, ident, f.seq, size, onesSum(b, 32, size));
      return b;
    };
    p.receive(reply(LNS, US, 78), 4); // another identifier
    p.receive(reply(ip4('198.18.1.2'), US, 77), 4); // from elsewhere
    p.receive(reply(LNS, US, 77, 20), 4); // other data
    p.receive(req, 4); // our own request looped back
    p.receive(hex('4500'), 0);
    const corrupt = reply(LNS, US, 77);
    corrupt[40] = corrupt[40]! ^ 0xff;
    p.receive(corrupt, 4);
    expect(h.counters).toMatchObject({ ipUnexpected: 4, ipMalformed: 2, pingReplies: 0 });
    p.receive(reply(LNS, US, 77), 4);
    expect(h.counters.pingReplies).toBe(1);
    p.stop();
  });

  it('workers\' round trips add up: histograms summed, the maximum kept', () => {
    const a = newPingTally();
    const b = newPingTally();
    a.rtt[10] = 2;
    a.maxMs = 3;
    b.rtt[10] = 1;
    b.maxMs = 7;
    const t = sumStats([workerStats({ ping: a }), workerStats({ worker: 1, ping: b })]);
    expect(t.ping.rtt[10]).toBe(3);
    expect(t.ping.maxMs).toBe(7);
  });
});

describe('the report: a data section with --ping-rate, null without', () => {
  const reportFor = (ping: Record<string, string>, stats?: Partial<WorkerStats>) => {
    const options = resolveOptions({ target: '127.0.0.1', ppp: true, ...ping });
    const w = workerStats(stats);
    const timeline = { t: [], established: [], active: [], inProgress: [], failed: [], tunnelsUp: [], setupRate: [], generatorCpu: [], targetCpu: [], steal: [] };
    return buildReport({
      options, totals: sumStats([w]), timeline, startedAt: 0, endedAt: 1000, outcome: 'completed', reason: null,
      cpu: { generatorCpuSeconds: 0, targetCpuSeconds: null, wallSeconds: 1, targetRssMaxBytes: 0, machine: null }, maxElu: [0],
    });
  };

  it('counts, loss over what was judged, round trips; drawn as a table and a histogram', () => {
    const counters = { ...newCounters(), pingSessions: 3, pingRequests: 100, pingReplies: 90, pingLost: 5, pingOutstandingAtEnd: 4, pingOutstanding: 1, pingLate: 2, ipUnexpected: 1 };
    const ping = newPingTally();
    for (let i = 0; i < 90; i++) recordLatency(ping.rtt, 1 + i / 10);
    ping.maxMs = 9.9;
    const r = reportFor({ pingRate: '1' }, { counters, ping });
    expect(r.data).toMatchObject({ sessions: 3, requestsSent: 100, repliesReceived: 90, lost: 5, outstandingAtEnd: 5, lossPercent: 5.263, lateReplies: 2, unexpected: 1, malformed: 0 });
    expect(r.data!.rttMs).toMatchObject({ count: 90, max: 9.9 });
    expect(r.data!.rttMs.p50!).toBeGreaterThan(4.5);
    expect(r.data!.rttMs.p50!).toBeLessThan(6);
    expect(r.data!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(90);
    expect(r.data!.histogram.bucketLowMs).toHaveLength(r.data!.histogram.counts.length + 1);
    const page = renderHtml(r);
    expect(page).toContain('<h2>Data: ICMP echo through the sessions</h2>');
    expect(page).toContain('<svg id="chart-latency-echo"');
    expect(r.options.ping).toEqual({ rate: 1, size: 56, target: null, timeoutMs: 2000 });
  });

  it('without --ping-rate: data null, no data section', () => {
    const r = reportFor({});
    expect(r.data).toBeNull();
    expect(r.options.ping).toBeNull();
    expect(renderHtml(r)).not.toContain('Data: ICMP');
  });
});

/**
 * The LNS for one session, in the test: our PPP engine's server side (PAP, a pool, its own address
 * 198.18.9.1) behind an L2TP data path — frames arrive and leave as L2TPv2 data messages of tunnel
 * 9 / session 5 — and a responder on that data path that answers ICMP echo requests to any address,
 * as a Linux LNS with a kernel data plane answers for its own. `lose(seq)` drops requests.
 */
function fakeLns(clock: VirtualClock, deliver: (l2tp: Buffer) => void, lose: (seq: number) => boolean) {
  const f = newEchoFields();
  const stats = { requests: 0, answered: 0, wrongSession: 0 };
  const toSubscriber = (frame: Buffer): void => {
    const msg = encodeData({ version: 2, tunnelId: 1, sessionId: 1, priority: false, lengthPresent: false, payload: frame });
    clock.setTimeout(() => deliver(msg), 2);
  };
  const engine: PppEngine = new PppEngine({
    role: 'server',
    clock,
    send: toSubscriber,
    random: seeded(3),
    auth: ['pap'],
    authServer: createAuthServer,
    verifier: new MapVerifier({ user0: { password: 'pw0' } }),
    allocator: new FakePool(['198.18.9.10']),
    localAddress: '198.18.9.1',
    echoIntervalMs: 0,
    onData: (protocol, ip) => {
      if (protocol !== 0x21 || readIcmpEcho(ip, 0, f) !== IpVerdict.EchoRequest) return;
      stats.requests++;
      if (lose(f.seq)) return;
      stats.answered++;
      const frame = Buffer.alloc(4 + ip.length);
      frame.writeUInt32BE(0xff030021, 0);
      ip.copy(frame, 4);
      writeIcmpEcho(frame, 4, ICMP_ECHO_REPLY, f.dst, f.src, f.ident, f.seq, f.dataLength, onesSum(frame, 4 + 28, f.dataLength));
      toSubscriber(frame);
    },
  });
  /** An L2TP data message from the subscriber's side. */
  const receive = (l2tp: Buffer): void => {
    const h = peekHeader(l2tp);
    if (h.isControl || h.tunnelId !== 9 || h.sessionId !== 5) {
      stats.wrongSession++;
      return;
    }
    engine.receive(l2tp.subarray(h.headerLength, h.messageLength));
  };
  return { engine, receive, stats };
}

describe('a subscriber pings through its session (PPP in L2TP data messages) against an LNS that answers', () => {
  function subscriberRun(ping: Record<string, string>, lose: (seq: number) => boolean = () => false) {
    const clock = new VirtualClock(1_000_000);
    const options: LoadOptions = resolveOptions({ target: '127.0.0.1', ppp: true, ...ping });
    const tally = newPingTally();
    const host = {
      clock,
      options,
      counters: newCounters(),
      hist: newHistograms(),
      failures: new CauseTable(),
      cleared: new CauseTable(),
      ping: tally,
      now: () => clock.now(),
      random: seeded(11),
    } as unknown as LacHost;
    const events: string[] = [];
    let sub!: PppSubscriber;
    // The worker's routing: a data message's payload goes to the call by Session ID.
    const lns = fakeLns(
      clock,
      (msg) => {
        const h = peekHeader(msg);
        if (!h.isControl && h.sessionId === 1) sub.receive(msg.subarray(h.headerLength, h.messageLength));
      },
      lose,
    );
    const call: SubscriberCall = {
      host,
      // LacTunnel.sendData: the frame in an L2TPv2 data message to the LNS's tunnel and session.
      sendFrame: (frame) => {
        host.counters.dataSent++;
        const msg = encodeData({ version: 2, tunnelId: 9, sessionId: 5, priority: false, lengthPresent: false, payload: frame });
        clock.setTimeout(() => lns.receive(msg), 2);
      },
      connect: () => queueMicrotask(() => sub.lnsReady()),
      up: (info) => events.push(`up ${info.address} via ${info.gateway}`),
      failed: (phase, cause: CauseIn) => events.push(`failed ${phase} ${cause.kind}`),
      down: (cause: CauseIn) => events.push(`down ${cause.kind}`),
    };
    sub = new PppSubscriber(call, 0);
    return { clock, host, sub, lns, events };
  }

  it('up with an address, then echo requests to the LNS\'s IPCP address, answered: no loss, round trips of 4 ms', async () => {
    const { clock, host, sub, lns, events } = subscriberRun({ pingRate: '5' });
    lns.engine.start();
    sub.start();
    await run(clock, 1000);
    expect(events).toEqual(['up 198.18.9.10 via 198.18.9.1']);
    // IPv4 that is not a reply for us is counted and dropped, as is what does not parse.
    sub.receive(Buffer.concat([hex('ff030021'), KNOWN_REQUEST]));
    sub.receive(hex('ff030021 4500'));
    sub.receive(hex('21 4500'));
    expect(host.counters).toMatchObject({ ipUnexpected: 1, ipMalformed: 2 });
    await run(clock, 20_000, 50);
    sub.stop();
    const d = dataReport(host.counters, host.ping);
    expect(lns.stats.wrongSession).toBe(0);
    expect(d.sessions).toBe(1);
    expect(d.requestsSent).toBe(lns.stats.requests);
    expect(d.requestsSent).toBeGreaterThanOrEqual(80); // 5/s for ~20 s
    expect(d).toMatchObject({ lost: 0, lossPercent: 0, lateReplies: 0, unexpected: 1, malformed: 2, sessionsWithoutTarget: 0 });
    expect(d.repliesReceived + d.outstandingAtEnd).toBe(d.requestsSent);
    // 2 ms each way in virtual time.
    expect(d.rttMs.max).toBe(4);
    expect(d.rttMs.count).toBe(d.repliesReceived);
    expect(d.histogram.counts.reduce((a, b) => a + b, 0)).toBe(d.repliesReceived);
    expect(host.counters).toMatchObject({ ipUnexpected: 1, ipMalformed: 2 });
  });

  it('requests the LNS drops are lost (counted after the timeout), the rest answered; an explicit --ping-target is used', async () => {
    const { clock, host, sub, lns } = subscriberRun({ pingRate: '10', pingTarget: '10.20.30.40', pingTimeout: '1', pingSize: '200' }, (seq) => seq % 5 === 0);
    const f = newEchoFields();
    const seen = new Set<number>();
    const receive = lns.engine.receive.bind(lns.engine);
    lns.engine.receive = (frame: Buffer) => {
      const off = ipv4Offset(frame);
      if (off >= 0 && readIcmpEcho(frame, off, f) === IpVerdict.EchoRequest) {
        seen.add(f.dst);
        expect(f.dataLength).toBe(200);
      }
      receive(frame);
    };
    lns.engine.start();
    sub.start();
    await run(clock, 30_000, 50);
    sub.stop();
    expect([...seen]).toEqual([ip4('10.20.30.40')]);
    const d = dataReport(host.counters, host.ping);
    const dropped = lns.stats.requests - lns.stats.answered;
    expect(dropped).toBeGreaterThan(0);
    // Lost after the 1 s timeout, unless the session ended within it.
    expect(d.lost + d.outstandingAtEnd).toBeGreaterThanOrEqual(dropped);
    expect(d.lost).toBeGreaterThanOrEqual(dropped - 10);
    expect(d.repliesReceived + d.lost + d.outstandingAtEnd).toBe(d.requestsSent);
    expect(d.lossPercent!).toBeGreaterThan(15);
    expect(d.lossPercent!).toBeLessThan(25);
  });

  it('no pinging without --ping-rate: IPv4 frames go to the engine as before', async () => {
    const { clock, host, sub, lns } = subscriberRun({});
    lns.engine.start();
    sub.start();
    await run(clock, 5000);
    sub.receive(Buffer.concat([hex('ff030021'), KNOWN_REQUEST])); // to the engine, which has no data handler
    sub.stop();
    expect(host.counters).toMatchObject({ pingRequests: 0, pingSessions: 0, ipUnexpected: 0, ipMalformed: 0 });
    expect(lns.stats.requests).toBe(0);
  });
});

