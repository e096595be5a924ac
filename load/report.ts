/**
 * The final report: one JSON document (schema below, field names stable) from the workers' totals,
 * the main thread's timeline and the CPU meter. The HTML report is drawn from the same document.
 */
import { bucketLow, histogramCount, mean, quantile, PHASES, type Cause, type Histogram, type Phase, type Totals } from './stats.js';
import { intToIpv4, type LoadOptions, type PppLoadOptions } from './options.js';
import type { Counters, PingTally } from './stats.js';
import { type MachineCpuTotals, STEAL_WARNING_PERCENT } from './cpu.js';

export type Outcome = 'completed' | 'duration' | 'interrupted' | 'aborted' | 'time-limit';

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
}

/** Sampled every 250 ms by the main thread; parallel arrays, `t` in seconds since the start. */
export interface Timeline {
  t: number[];
  /** Calls established so far (cumulative). */
  established: number[];
  /** Calls up at that moment. */
  active: number[];
  inProgress: number[];
  failed: number[];
  tunnelsUp: number[];
  /** Calls established per second over the preceding second. */
  setupRate: number[];
  /** Percent of one core. */
  generatorCpu: number[];
  targetCpu: (number | null)[];
  /** The hypervisor's steal on this machine, percent of one core (null: not measured). */
  steal: (number | null)[];
}

export interface LoadReport {
  tool: 'l2tp-load';
  /** control: L2TP only; ppp: each call carries a subscriber and is established when its PPP is up. */
  mode: 'control' | 'ppp';
  startedAt: string;
  endedAt: string;
  wallSeconds: number;
  outcome: Outcome;
  /** Why the run was aborted (outcome 'aborted'), or why it ended early. */
  reason: string | null;
  options: Omit<LoadOptions, 'secret' | 'ppp'> & { secret: '(set)' | null; ppp: (Omit<PppLoadOptions, 'password'> & { password: '(set)' }) | null };
  tunnels: { planned: number; attempts: number; attemptsFailed: number; established: number; failed: number; lost: number; connectingAtEnd: number };
  calls: {
    planned: number;
    attempted: number;
    notAttempted: number;
    established: number;
    failed: number;
    /** Set-up still under way when the run stopped: neither established nor failed. */
    inProgressAtEnd: number;
    /** Established and still up when the run stopped (then cleared by StopCCN). */
    activeAtEnd: number;
    clearedByPeer: number;
    tornDown: number;
    tearingDownAtEnd: number;
  };
  setupRate: {
    /** Calls established per second between the first ICRQ and the last establishment. */
    sustained: number | null;
    /** Best one-second window. */
    peak: number | null;
    tunnelsPerSecond: number | null;
    windowSeconds: number | null;
  };
  latencyMs: Record<Phase, LatencySummary>;
  /** Set-up failures by cause; `resultCode`/`errorCode` are the peer's (StopCCN or CDN) when it sent some. */
  failures: Cause[];
  /** Established tunnels and calls the peer cleared (not set-up failures). */
  clearedByPeer: Cause[];
  cpu: {
    generator: { cpuSeconds: number; percentOfOneCore: number; workers: number; socketIo: 'native' | 'node'; maxEventLoopUtilization: number[] };
    target: { pid: number; cpuSeconds: number | null; percentOfOneCore: number | null; setupCpuSeconds: number | null; callsPerCpuSecond: number | null; rssMaxBytes: number } | null;
    /** Set when a generator worker was saturated: the rate measured may be the generator's limit. */
    warning: string | null;
    /**
     * The machine both ran on (this host, /proc/stat): on a virtual machine the hypervisor's steal time. Rates and
     * latencies measured while it took much are not a dedicated machine's; `warning` says so past 5%.
     */
    machine: (MachineCpuTotals & { setupStealSeconds: number | null; setupStealPercent: number | null; warning: string | null }) | null;
  };
  /** PPP mode: what the subscribers got (their addresses as a range; every one came from the LNS's IPCP). */
  ppp: { addressesAssigned: number; lowestAddress: string | null; highestAddress: string | null; lcpEchoRequestsAnswered: number; proxyLcpRefused: number } | null;
  /**
   * --ping-rate: ICMP echo through the sessions. `lossPercent` is lost / (requestsSent − outstandingAtEnd):
   * requests still within their timeout when their session ended or the run stopped are left out.
   */
  data: DataReport | null;
  packets: { sent: number; received: number; retransmits: number; data: number; dataSent: number; stray: number; malformed: number; sendErrors: number };
  timeline: Timeline;
  /** Latency histograms: counts per bucket; bucket i spans [bucketLowMs[i], bucketLowMs[i+1]). */
  histograms: { bucketLowMs: number[] } & Record<Phase, number[]>;
}

export interface DataReport {
  /** Sessions that sent echo requests; sessions that could not (no --ping-target and no LNS address from IPCP). */
  sessions: number;
  sessionsWithoutTarget: number;
  requestsSent: number;
  /** Replies within the timeout. */
  repliesReceived: number;
  /** Requests without a reply within the timeout. */
  lost: number;
  /** Requests still within their timeout when their session ended or the run stopped: not counted as lost. */
  outstandingAtEnd: number;
  lossPercent: number | null;
  /** Replies of ours for no outstanding request: after the timeout (counted lost) or duplicated. */
  lateReplies: number;
  /** IPv4 frames that were not an echo reply for the subscriber (other protocols, ICMP errors...). */
  unexpected: number;
  /** IPv4 frames that did not parse or failed a checksum. */
  malformed: number;
  rttMs: { count: number; p50: number | null; p95: number | null; p99: number | null; max: number | null; mean: number | null };
  /** Round-trip histogram: counts per bucket; bucket i spans [bucketLowMs[i], bucketLowMs[i+1]). */
  histogram: { bucketLowMs: number[]; counts: number[] };
}

const r3 = (x: number | null | undefined): number | null => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 1000) / 1000);

const perPhase = <T>(f: (p: Phase) => T): Record<Phase, T> => Object.fromEntries(PHASES.map((p) => [p, f(p)])) as Record<Phase, T>;

function latency(h: Histogram): LatencySummary {
  return { count: histogramCount(h), p50: r3(quantile(h, 0.5)), p95: r3(quantile(h, 0.95)), p99: r3(quantile(h, 0.99)), mean: r3(mean(h)) };
}

/** Only the bucket range that holds something (plus one on each side), so the JSON stays small. */
function trimHistograms<K extends string>(hist: Record<K, Histogram>, keys: readonly K[]): { bucketLowMs: number[] } & Record<K, number[]> {
  let lo = Number.POSITIVE_INFINITY;
  let hi = -1;
  for (const p of keys) {
    hist[p].forEach((c, i) => {
      if (c > 0) {
        lo = Math.min(lo, i);
        hi = Math.max(hi, i);
      }
    });
  }
  const bucketLowMs = [];
  if (hi >= 0) {
    lo = Math.max(0, lo - 1);
    hi = Math.min(hist[keys[0]!].length - 1, hi + 1);
    for (let i = lo; i <= hi + 1; i++) bucketLowMs.push(Math.round(bucketLow(i) * 10000) / 10000);
  }
  const counts = Object.fromEntries(keys.map((p) => [p, hi < 0 ? [] : hist[p].slice(lo, hi + 1)])) as Record<K, number[]>;
  return { bucketLowMs, ...counts };
}

/** The data section (--ping-rate), from the counters and the round-trip tally. */
export function dataReport(c: Counters, t: PingTally): DataReport {
  const judged = c.pingRequests - c.pingOutstandingAtEnd - c.pingOutstanding;
  const rtt = latency(t.rtt);
  const { bucketLowMs, ping } = trimHistograms({ ping: t.rtt }, ['ping']);
  return {
    sessions: c.pingSessions,
    sessionsWithoutTarget: c.pingNoTarget,
    requestsSent: c.pingRequests,
    repliesReceived: c.pingReplies,
    lost: c.pingLost,
    // Still pending in a report taken before the end (no session stopped yet): outstanding all the same.
    outstandingAtEnd: c.pingOutstandingAtEnd + c.pingOutstanding,
    lossPercent: judged > 0 ? Math.round((c.pingLost / judged) * 100_000) / 1000 : null,
    lateReplies: c.pingLate,
    unexpected: c.ipUnexpected,
    malformed: c.ipMalformed,
    rttMs: { count: rtt.count, p50: rtt.p50, p95: rtt.p95, p99: rtt.p99, max: r3(t.maxMs), mean: rtt.mean },
    histogram: { bucketLowMs, counts: ping },
  };
}

/** Peak: the best one-second difference of the cumulative count (samples every 250 ms). */
export function oneSecondRate(t: number[], cumulative: number[], i: number): number {
  let j = i;
  while (j > 0 && t[i]! - t[j - 1]! <= 1.0001) j--;
  const dt = t[i]! - t[j]!;
  if (j === i || dt <= 0) return 0;
  return Math.round(((cumulative[i]! - cumulative[j]!) / dt) * 10) / 10;
}

/** CPU seconds of the target within [from, to] seconds of the timeline (sum of percent × interval). */
function cpuWithin(tl: Timeline, from: number, to: number, series: (number | null)[]): number | null {
  let s = 0;
  let any = false;
  for (let i = 1; i < tl.t.length; i++) {
    const a = tl.t[i - 1]!;
    const b = tl.t[i]!;
    const v = series[i];
    if (v === null || v === undefined) continue;
    const overlap = Math.min(b, to) - Math.max(a, from);
    if (overlap > 0) {
      s += (v / 100) * overlap;
      any = true;
    }
  }
  return any ? s : null;
}

export interface ReportInput {
  options: LoadOptions;
  totals: Totals;
  timeline: Timeline;
  startedAt: number;
  endedAt: number;
  outcome: Outcome;
  reason: string | null;
  cpu: { generatorCpuSeconds: number; targetCpuSeconds: number | null; wallSeconds: number; targetRssMaxBytes: number; machine: MachineCpuTotals | null };
  maxElu: number[];
}

export function buildReport(i: ReportInput): LoadReport {
  const c = i.totals.counters;
  const tl = i.timeline;
  const wall = i.cpu.wallSeconds;
  const window = i.totals.firstCallAt !== null && i.totals.lastCallUpAt !== null ? (i.totals.lastCallUpAt - i.totals.firstCallAt) / 1000 : null;
  const tunnelWindow = i.totals.firstTunnelAt !== null && i.totals.lastTunnelUpAt !== null ? (i.totals.lastTunnelUpAt - i.totals.firstTunnelAt) / 1000 : null;
  const peak = tl.setupRate.length ? Math.max(...tl.setupRate) : null;
  let setupCpu: number | null = null;
  let setupSteal: number | null = null;
  if (window !== null && i.totals.firstCallAt !== null) {
    const from = (i.totals.firstCallAt - i.startedAt) / 1000;
    setupCpu = cpuWithin(tl, from, from + window, tl.targetCpu);
    setupSteal = cpuWithin(tl, from, from + window, tl.steal);
  }
  const m = i.cpu.machine;
  const setupStealPercent = m && setupSteal !== null && window !== null && window > 0 ? Math.round((setupSteal / (window * m.cores)) * 1000) / 10 : null;
  const worstSteal = Math.max(m?.stealPercent ?? 0, setupStealPercent ?? 0);
  const { secret, ppp, ...rest } = i.options;
  const worst = i.maxElu.reduce((m, e, w) => (e > (i.maxElu[m] ?? 0) ? w : m), 0);
  const warning =
    (i.maxElu[worst] ?? 0) >= 0.9
      ? `generator worker ${worst} was saturated (event loop utilisation ${i.maxElu[worst]}): the rate measured may be the generator's limit; use more --workers`
      : null;
  return {
    tool: 'l2tp-load',
    mode: ppp ? 'ppp' : 'control',
    startedAt: new Date(i.startedAt).toISOString(),
    endedAt: new Date(i.endedAt).toISOString(),
    wallSeconds: r3(wall)!,
    outcome: i.outcome,
    reason: i.reason,
    options: { ...rest, secret: secret !== undefined ? '(set)' : null, ppp: ppp ? { ...ppp, password: '(set)' } : null },
    tunnels: {
      planned: c.tunnelsPlanned,
      attempts: c.tunnelAttempts,
      attemptsFailed: c.tunnelAttemptsFailed,
      established: c.tunnelsUp,
      failed: c.tunnelsFailed,
      lost: c.tunnelsLost,
      connectingAtEnd: c.tunnelsConnecting,
    },
    calls: {
      planned: c.callsPlanned,
      attempted: c.callsAttempted,
      notAttempted: c.callsPlanned - c.callsAttempted,
      established: c.callsUp,
      failed: c.callsFailed,
      inProgressAtEnd: c.callsInProgress,
      activeAtEnd: c.callsActive,
      clearedByPeer: c.callsClearedByPeer,
      tornDown: c.callsTornDown,
      tearingDownAtEnd: c.callsTearingDown,
    },
    setupRate: {
      sustained: window !== null && window > 0 && c.callsUp > 1 ? Math.round((c.callsUp / window) * 10) / 10 : null,
      peak,
      tunnelsPerSecond: tunnelWindow !== null && tunnelWindow > 0 && c.tunnelsUp > 1 ? Math.round((c.tunnelsUp / tunnelWindow) * 10) / 10 : null,
      windowSeconds: r3(window),
    },
    latencyMs: perPhase((p) => latency(i.totals.hist[p])),
    failures: i.totals.failures,
    clearedByPeer: i.totals.cleared,
    cpu: {
      generator: {
        cpuSeconds: i.cpu.generatorCpuSeconds,
        percentOfOneCore: wall > 0 ? Math.round((i.cpu.generatorCpuSeconds / wall) * 1000) / 10 : 0,
        workers: i.options.workers,
        socketIo: i.options.socketIo,
        maxEventLoopUtilization: i.maxElu,
      },
      target:
        i.options.targetPid === undefined
          ? null
          : {
              pid: i.options.targetPid,
              cpuSeconds: i.cpu.targetCpuSeconds,
              percentOfOneCore: i.cpu.targetCpuSeconds !== null && wall > 0 ? Math.round((i.cpu.targetCpuSeconds / wall) * 1000) / 10 : null,
              setupCpuSeconds: r3(setupCpu),
              callsPerCpuSecond: setupCpu !== null && setupCpu > 0 ? Math.round(c.callsUp / setupCpu) : null,
              rssMaxBytes: i.cpu.targetRssMaxBytes,
            },
      warning,
      machine: m
        ? {
            ...m,
            setupStealSeconds: r3(setupSteal),
            setupStealPercent,
            warning:
              worstSteal > STEAL_WARNING_PERCENT
                ? `the hypervisor took ${m.stealPercent}% of this machine's CPU time (steal, ${m.stealSeconds} s over ${m.cores} cores; ${setupStealPercent ?? '-'}% while calls were set up): rates and latencies are not a dedicated machine's`
                : null,
          }
        : null,
    },
    ppp: ppp
      ? {
          addressesAssigned: c.addressesAssigned,
          lowestAddress: i.totals.addressLow === null ? null : intToIpv4(i.totals.addressLow),
          highestAddress: i.totals.addressHigh === null ? null : intToIpv4(i.totals.addressHigh),
          lcpEchoRequestsAnswered: c.lcpEchoRequests,
          proxyLcpRefused: c.proxyLcpRefused,
        }
      : null,
    data: i.options.ping ? dataReport(c, i.totals.ping) : null,
    packets: { sent: c.packetsSent, received: c.packetsReceived, retransmits: c.retransmits, data: c.dataPackets, dataSent: c.dataSent, stray: c.strayPackets, malformed: c.malformed, sendErrors: c.sendErrors },
    timeline: tl,
    histograms: trimHistograms(i.totals.hist, PHASES),
  };
}

/** One line per cause, for the terminal and for error messages. */
export function describeCause(c: Cause): string {
  const codes = c.resultCode !== undefined ? ` result ${c.resultCode}${c.errorCode !== undefined ? ` error ${c.errorCode}` : ''}` : '';
  return `${c.phase} ${c.kind}${codes}${c.message ? `: ${c.message}` : ''}`;
}
