/**
 * What workers count and how the main thread adds it up. Workers send absolute totals (not deltas)
 * a few times a second, so a lost or late report never skews the sum: the main thread keeps each
 * worker's latest and adds those.
 *
 * Latencies go into a log-bucketed histogram (8 buckets per octave, ±4.5% per bucket, 10 µs to
 * ~100 s): recording is one Math.log2 and an increment, it merges by adding arrays, and the same
 * buckets draw the HTML histograms.
 */

export const HIST_MIN_MS = 0.01;
const PER_OCTAVE = 8;
export const HIST_BUCKETS = PER_OCTAVE * 24; // 0.01 ms · 2^24 ≈ 168 s

export type Histogram = number[];
export const newHistogram = (): Histogram => new Array<number>(HIST_BUCKETS).fill(0);

export function recordLatency(h: Histogram, ms: number): void {
  const i = ms <= HIST_MIN_MS ? 0 : Math.min(HIST_BUCKETS - 1, Math.floor(Math.log2(ms / HIST_MIN_MS) * PER_OCTAVE));
  h[i]!++;
}

/** Lower bound of bucket i in ms. */
export const bucketLow = (i: number): number => HIST_MIN_MS * 2 ** (i / PER_OCTAVE);

export function histogramCount(h: Histogram): number {
  let n = 0;
  for (const c of h) n += c;
  return n;
}

/** The q-quantile (0..1), as the geometric middle of its bucket; undefined when empty. */
export function quantile(h: Histogram, q: number): number | undefined {
  const n = histogramCount(h);
  if (n === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * n));
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i]!;
    if (seen >= rank) return Math.sqrt(bucketLow(i) * bucketLow(i + 1));
  }
  return undefined;
}

export function mean(h: Histogram): number | undefined {
  const n = histogramCount(h);
  if (n === 0) return undefined;
  let s = 0;
  h.forEach((c, i) => (s += c * Math.sqrt(bucketLow(i) * bucketLow(i + 1))));
  return s / n;
}

/** The PPP set-up phases of a subscriber (PPP mode), in the order they run. */
export const PPP_STAGES = ['lcp', 'auth', 'ipcp', 'ipv6cp'] as const;
export type PppStage = (typeof PPP_STAGES)[number];

/** Latency phases: the L2TP ones, the PPP ones (PPP mode), and clearing. */
export const PHASES = ['tunnel', 'call', ...PPP_STAGES, 'teardown'] as const;
export type Phase = (typeof PHASES)[number];

export const newHistograms = (): Record<Phase, Histogram> => Object.fromEntries(PHASES.map((p) => [p, newHistogram()])) as Record<Phase, Histogram>;

export interface Counters {
  tunnelsPlanned: number;
  /** SCCRQs sent for a new attempt (first attempts and retries). */
  tunnelAttempts: number;
  tunnelAttemptsFailed: number;
  tunnelsUp: number;
  /** Tunnels given up on after every retry. */
  tunnelsFailed: number;
  tunnelsConnecting: number;
  /** Established tunnels cleared by the LNS (StopCCN) or dead (no acknowledgement) before the end. */
  tunnelsLost: number;
  callsPlanned: number;
  callsAttempted: number;
  /** Calls whose ICCN the LNS acknowledged: established. */
  callsUp: number;
  callsFailed: number;
  callsInProgress: number;
  /** Established and not yet cleared. */
  callsActive: number;
  /** Established, then cleared by the LNS (CDN, or StopCCN of the tunnel). Not a set-up failure. */
  callsClearedByPeer: number;
  /** Established, then cleared by us (CDN acknowledged). */
  callsTornDown: number;
  callsTearingDown: number;
  packetsSent: number;
  packetsReceived: number;
  retransmits: number;
  /** Data packets (PPP) received: control-plane mode does not answer them. */
  dataPackets: number;
  /** Data packets (PPP frames of our subscribers) sent. */
  dataSent: number;
  /** PPP mode: subscribers that came up with an IPv4 address, and the LNS's LCP Echo-Requests (the engine answers them). */
  addressesAssigned: number;
  lcpEchoRequests: number;
  /** PPP mode with proxy LCP: calls whose LNS negotiated LCP anew instead of taking ours. */
  proxyLcpRefused: number;
  /** --ping-rate: sessions that started sending echo requests, and those that could not (no target address). */
  pingSessions: number;
  pingNoTarget: number;
  /** Echo requests sent; replies within the timeout; requests unanswered after it. */
  pingRequests: number;
  pingReplies: number;
  pingLost: number;
  /** Requests awaiting their reply right now (a gauge), and those still awaiting one, within the timeout, when their session ended or the run stopped. */
  pingOutstanding: number;
  pingOutstandingAtEnd: number;
  /** Echo replies of ours for no outstanding request: after the timeout (already lost) or duplicated. */
  pingLate: number;
  /** IPv4 frames to a subscriber that are not an echo reply for it (other protocols, ICMP errors, another identifier or address). */
  ipUnexpected: number;
  /** IPv4 frames that do not parse or fail a checksum. */
  ipMalformed: number;
  /** Packets for no tunnel of ours, or that would not decode. */
  strayPackets: number;
  malformed: number;
  sendErrors: number;
}

export const newCounters = (): Counters => ({
  tunnelsPlanned: 0, tunnelAttempts: 0, tunnelAttemptsFailed: 0, tunnelsUp: 0, tunnelsFailed: 0, tunnelsConnecting: 0, tunnelsLost: 0,
  callsPlanned: 0, callsAttempted: 0, callsUp: 0, callsFailed: 0, callsInProgress: 0, callsActive: 0, callsClearedByPeer: 0,
  callsTornDown: 0, callsTearingDown: 0, packetsSent: 0, packetsReceived: 0, retransmits: 0, dataPackets: 0, dataSent: 0,
  addressesAssigned: 0, lcpEchoRequests: 0, proxyLcpRefused: 0, pingSessions: 0, pingNoTarget: 0, pingRequests: 0, pingReplies: 0,
  pingLost: 0, pingOutstanding: 0, pingOutstandingAtEnd: 0, pingLate: 0, ipUnexpected: 0, ipMalformed: 0, strayPackets: 0, malformed: 0,
  sendErrors: 0,
});

/** Echo round trips of one worker (--ping-rate): the histogram and the exact maximum. */
export interface PingTally {
  rtt: Histogram;
  maxMs: number | null;
}

export const newPingTally = (): PingTally => ({ rtt: newHistogram(), maxMs: null });

/** One cause of failure (or of clearing by the peer), with the peer's codes where it gave some. */
export interface Cause {
  /**
   * Set-up failures: the phase that failed (PPP mode: the PPP phase a subscriber was in).
   * Clearings: what was cleared (an established tunnel or call).
   */
  phase: 'tunnel' | 'call' | PppStage;
  /** Short machine-readable kind: stopccn, cdn, timeout, tunnel-down, socket..., or the PPP engine's cause (auth-failed...). */
  kind: string;
  resultCode?: number;
  errorCode?: number;
  /** The peer's Error Message or our own explanation (the first one seen for this key). */
  message?: string;
  count: number;
}

export const causeKey = (c: Omit<Cause, 'count' | 'message'>): string => `${c.phase}|${c.kind}|${c.resultCode ?? ''}|${c.errorCode ?? ''}`;

export class CauseTable {
  readonly byKey = new Map<string, Cause>();

  add(c: Omit<Cause, 'count'>, n = 1): void {
    const k = causeKey(c);
    const e = this.byKey.get(k);
    if (e) e.count += n;
    else this.byKey.set(k, { ...c, count: n });
  }

  list(): Cause[] {
    return [...this.byKey.values()].sort((a, b) => b.count - a.count);
  }
}

/** What one worker reports, absolute since its start. */
export interface WorkerStats {
  worker: number;
  counters: Counters;
  hist: Record<Phase, Histogram>;
  failures: Cause[];
  cleared: Cause[];
  /** Epoch ms of the first ICRQ and the latest establishment (for the sustained rate). */
  firstCallAt: number | null;
  lastCallUpAt: number | null;
  firstTunnelAt: number | null;
  lastTunnelUpAt: number | null;
  /** PPP mode: the lowest and highest IPv4 address assigned to a subscriber (as 32-bit numbers). */
  addressLow: number | null;
  addressHigh: number | null;
  /** --ping-rate: echo round trips. */
  ping: PingTally;
  /** Event loop utilisation (0..1) since the previous report: near 1 means this worker is saturated. */
  elu: number;
  /** Whether this worker has nothing left to do (see the worker protocol). */
  settled: boolean;
  done: boolean;
}

/** All workers together: the same figures, with each worker's event loop utilisation kept apart. */
export interface Totals extends Omit<WorkerStats, 'worker' | 'elu' | 'settled' | 'done'> {
  elu: number[];
}

const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));

/**
 * With `histograms` false the latency and round-trip histograms stay empty: what the main thread
 * samples four times a second needs only the counters, and the histograms are added up once, for
 * the report.
 */
export function sumStats(all: readonly WorkerStats[], histograms = true): Totals {
  const counters = newCounters();
  const hist = newHistograms();
  const failures = new CauseTable();
  const cleared = new CauseTable();
  const t: Totals = { counters, hist, failures: [], cleared: [], firstCallAt: null, lastCallUpAt: null, firstTunnelAt: null, lastTunnelUpAt: null, addressLow: null, addressHigh: null, ping: newPingTally(), elu: [] };
  for (const w of all) {
    for (const k of Object.keys(counters) as (keyof Counters)[]) counters[k] += w.counters[k];
    if (histograms) for (const p of PHASES) w.hist[p].forEach((c, i) => (hist[p][i]! += c));
    for (const c of w.failures) failures.add(c, c.count);
    for (const c of w.cleared) cleared.add(c, c.count);
    t.firstCallAt = minOf(t.firstCallAt, w.firstCallAt);
    t.lastCallUpAt = maxOf(t.lastCallUpAt, w.lastCallUpAt);
    t.firstTunnelAt = minOf(t.firstTunnelAt, w.firstTunnelAt);
    t.lastTunnelUpAt = maxOf(t.lastTunnelUpAt, w.lastTunnelUpAt);
    t.addressLow = minOf(t.addressLow, w.addressLow);
    t.addressHigh = maxOf(t.addressHigh, w.addressHigh);
    if (histograms) w.ping.rtt.forEach((c, i) => (t.ping.rtt[i]! += c));
    t.ping.maxMs = maxOf(t.ping.maxMs, w.ping.maxMs);
    t.elu[w.worker] = w.elu;
  }
  t.failures = failures.list();
  t.cleared = cleared.list();
  return t;
}
