/**
 * Charts of the lns-load bench for docs/benchmarks.md (issue 6 asks for results "with the command that produced
 * them, and a chart"): standalone SVG documents drawn from the l2tp-load reports of the bench's runs. Pure: reports
 * in, file names and SVG text out. A run that is missing or recorded nothing is left out; a chart with no run left
 * is not drawn.
 */
import type { LoadReport, Timeline } from '../load/report.js';
import { bucketLow, HIST_BUCKETS } from '../load/stats.js';
import { chartDocument, histogramChart, lineChart, type Series } from '../load/svg.js';

/** What the charts read of an l2tp-load report (a whole LoadReport is one). */
export interface ChartReport {
  options: Pick<LoadReport['options'], 'tunnels' | 'sessionsPerTunnel' | 'rate'>;
  timeline: Pick<Timeline, 't' | 'active' | 'failed' | 'setupRate' | 'targetCpu'>;
  histograms: Pick<LoadReport['histograms'], 'bucketLowMs' | 'call'>;
  latencyMs?: { call: { p99: number | null } };
}

/** The bench's runs by name (bench/lns-load.ts): 1 rate, 3 half-rate (twice), 2 ppp, 4 and 5 held. */
export interface LnsLoadRuns {
  rate?: ChartReport | null;
  halfRate?: ChartReport | null;
  halfRateAckDelay0?: ChartReport | null;
  ppp?: ChartReport | null;
  held?: ChartReport | null;
}

export interface ChartFile {
  file: string;
  svg: string;
}

/** Issue 6: call set-up p99 at half the sustained rate. */
export const CALL_TARGET_MS = 50;
/** l2tp-load samples its timeline every 250 ms: the common x axis of runs that started at different moments. */
const STEP_S = 0.25;

export function lnsLoadCharts(runs: LnsLoadRuns): ChartFile[] {
  return [setupRateChart(runs), sessionsChart(runs), callLatencyChart(runs)].filter((c): c is ChartFile => c !== null);
}

const count = (n: number): string => (n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 100 === 0 ? `${n / 1e3}k` : String(n));
const sessions = (r: ChartReport): number => r.options.tunnels * r.options.sessionsPerTunnel;
const hasTimeline = (r: ChartReport | null | undefined): r is ChartReport => !!r && r.timeline.t.length > 0;
const hasCalls = (r: ChartReport | null | undefined): r is ChartReport => !!r && r.histograms.bucketLowMs.length > 0 && r.histograms.call.some((c) => c > 0);

/** `ys` sampled at `t`, linearly interpolated onto `xs`; null outside the run and next to a missing sample. */
export function resample(xs: number[], t: number[], ys: (number | null)[]): (number | null)[] {
  let j = 0;
  return xs.map((x) => {
    if (t.length === 0 || x < t[0]! || x > t[t.length - 1]!) return null;
    while (j < t.length - 2 && t[j + 1]! < x) j++;
    const a = ys[j] ?? null;
    if (t.length === 1 || x === t[j]) return a;
    const b = ys[j + 1] ?? null;
    if (a === null || b === null) return null;
    const dt = t[j + 1]! - t[j]!;
    return dt > 0 ? a + ((b - a) * (x - t[j]!)) / dt : b;
  });
}

/** One series of samples at its run's own times. */
interface Line {
  name: string;
  color: string;
  t: number[];
  ys: (number | null)[];
}

/** One x axis (0 to the longest run, every STEP_S) for runs that each have their own sample times. */
function overTime(o: { id: string; title: string; yLabel: string; lines: Line[] }): string {
  const end = Math.max(...o.lines.map((l) => l.t[l.t.length - 1] ?? 0));
  const xs = Array.from({ length: Math.floor(end / STEP_S) + 1 }, (_, i) => Math.round(i * STEP_S * 1000) / 1000);
  const series: Series[] = o.lines.map((l) => ({ name: l.name, color: l.color, ys: resample(xs, l.t, l.ys) }));
  return lineChart({ id: o.id, title: o.title, xs, yLabel: o.yLabel, xLabel: 'seconds since l2tp-load started', series });
}

/** Runs 1, 2 and 4: set-up rate, then l2tpd's CPU (the idle windows of runs 2 and 4 are at their ends). */
function setupRateChart(runs: LnsLoadRuns): ChartFile | null {
  const named: [ChartReport | null | undefined, string, string][] = [
    [runs.rate, 'without PPP', '#2b7bb9'],
    [runs.ppp, 'with PPP', '#e8a33d'],
    [runs.held, 'held (no PPP)', '#3aa655'],
  ];
  const present = named.filter((n): n is [ChartReport, string, string] => hasTimeline(n[0]));
  if (present.length === 0) return null;
  const line = (ys: (r: ChartReport) => (number | null)[]) => ([r, name, color]: [ChartReport, string, string]): Line => ({ name: `${name}, ${count(sessions(r))}`, color, t: r.timeline.t, ys: ys(r) });
  const panels = [
    overTime({ id: 'lns-load-setup-rate', title: 'Set-up rate over time (sessions/s established, 1 s window), one l2tpd per run', yLabel: 'sessions/s', lines: present.map(line((r) => r.timeline.setupRate)) }),
  ];
  const cpu = present.filter(([r]) => r.timeline.targetCpu.some((c) => c !== null && c !== undefined));
  if (cpu.length > 0) {
    const title = 'l2tpd CPU over time (% of one core, all its threads), set-up then idle';
    panels.push(overTime({ id: 'lns-load-l2tpd-cpu', title, yLabel: '% of one core', lines: cpu.map(line((r) => r.timeline.targetCpu)) }));
  }
  return { file: 'lns-load-setup-rate.svg', svg: chartDocument('lns-load bench: set-up rate and l2tpd CPU over time', panels) };
}

/** Runs 4 and 5: the sessions held, as they come up and while they sit idle. */
function sessionsChart(runs: LnsLoadRuns): ChartFile | null {
  const r = runs.held;
  if (!hasTimeline(r)) return null;
  const title = `Sessions up over time, held run (${r.options.tunnels} tunnels × ${r.options.sessionsPerTunnel} sessions, no PPP)`;
  const lines: Line[] = [
    { name: 'up', color: '#3aa655', t: r.timeline.t, ys: r.timeline.active },
    { name: 'failed (total)', color: '#d0453b', t: r.timeline.t, ys: r.timeline.failed },
  ];
  return { file: 'lns-load-sessions.svg', svg: chartDocument(`lns-load bench: ${title}`, [overTime({ id: 'lns-load-sessions', title, yLabel: 'sessions', lines })]) };
}

/** A bucket's lower bound as reports write it (load/report.ts rounds to 0.1 µs), and the bucket of such a bound. */
const roundedLow = (i: number): number => Math.round(bucketLow(i) * 10000) / 10000;
const BUCKET_OF = new Map(Array.from({ length: HIST_BUCKETS + 1 }, (_, i) => [roundedLow(i), i]));

interface Hist {
  lows: number[];
  counts: number[];
}

/**
 * The histograms on one bucket range that also reaches `ms`, so panels stacked one above the other compare at a
 * glance and the target shows; as they are when their bounds are not l2tp-load's buckets.
 */
export function commonBuckets(hs: Hist[], ms: number): Hist[] {
  const first = hs.map((h) => BUCKET_OF.get(h.lows[0]!));
  if (hs.some((h, k) => h.lows.some((low, i) => BUCKET_OF.get(low) !== first[k]! + i))) return hs;
  let at = 0;
  while (at < HIST_BUCKETS - 1 && bucketLow(at + 1) <= ms) at++;
  const lo = Math.min(at, ...(first as number[]));
  const hi = Math.max(at + 1, ...hs.map((h, k) => first[k]! + h.counts.length));
  const lows = Array.from({ length: hi - lo + 1 }, (_, i) => roundedLow(lo + i));
  return hs.map((h, k) => {
    const counts = new Array<number>(hi - lo).fill(0);
    h.counts.forEach((c, i) => (counts[first[k]! - lo + i] = c));
    return { lows, counts };
  });
}

/** Run 3: call set-up latency at half the sustained rate, with l2tpd's default ack_delay and with 0. */
function callLatencyChart(runs: LnsLoadRuns): ChartFile | null {
  const named: [ChartReport | null | undefined, string, string][] = [
    [runs.halfRate, 'default ack_delay', '#2b7bb9'],
    [runs.halfRateAckDelay0, 'ack_delay 0', '#1f9e89'],
  ];
  const present = named.filter((n): n is [ChartReport, string, string] => hasCalls(n[0]));
  if (present.length === 0) return null;
  const hists = commonBuckets(present.map(([r]) => ({ lows: r.histograms.bucketLowMs, counts: r.histograms.call })), CALL_TARGET_MS);
  const panels = present.map(([r, name, color], k) => {
    const p99 = r.latencyMs?.call.p99 ?? null;
    const marks = [{ ms: CALL_TARGET_MS, label: `target p99 ≤ ${CALL_TARGET_MS} ms`, color: '#d0453b' }, ...(p99 === null ? [] : [{ ms: p99, label: `p99 ${Number(p99.toPrecision(3))} ms`, color: '#333' }])];
    const title = `Call set-up latency (ICRQ to ICCN acked), ${r.options.rate} calls/s offered, ${name}`;
    return histogramChart({ id: `lns-load-call-latency-${k}`, title, lows: hists[k]!.lows, counts: hists[k]!.counts, color, marks });
  });
  const title = `lns-load bench: call set-up latency at half the sustained rate, ms (target p99 ≤ ${CALL_TARGET_MS} ms)`;
  return { file: 'lns-load-call-latency.svg', svg: chartDocument(title, panels) };
}
