/**
 * The lns-load bench's charts from small reports built by hand (only the fields the charts read): standalone SVG
 * documents that name their runs, with a missing or empty run left out.
 */
import { describe, expect, it } from 'vitest';
import { CALL_TARGET_MS, commonBuckets, lnsLoadCharts, resample, type ChartReport } from '../../bench/lns-load-charts.js';
import { bucketLow } from '../../load/stats.js';

const low = (i: number) => Math.round(bucketLow(i) * 10000) / 10000;

/** `seconds` of 250 ms samples, sessions coming up at `perSecond`; call latencies in buckets `first`.. of l2tp-load. */
function report(o: { tunnels: number; perTunnel: number; rate: number; seconds: number; perSecond: number; first: number; counts: number[]; p99?: number }): ChartReport {
  const t = Array.from({ length: o.seconds * 4 }, (_, i) => Math.round((i + 1) * 250 + (i % 3)) / 1000);
  const up = t.map((x) => Math.min(o.tunnels * o.perTunnel, Math.round(x * o.perSecond)));
  return {
    options: { tunnels: o.tunnels, sessionsPerTunnel: o.perTunnel, rate: o.rate },
    timeline: { t, active: up, failed: t.map(() => 0), setupRate: up.map((u, i) => u - (up[i - 4] ?? 0)), targetCpu: t.map((_, i) => (i === 0 ? null : 80)) },
    histograms: { bucketLowMs: Array.from({ length: o.counts.length + 1 }, (_, i) => low(o.first + i)), call: o.counts },
    ...(o.p99 === undefined ? {} : { latencyMs: { call: { p99: o.p99 } } }),
  };
}

const rate = report({ tunnels: 10, perTunnel: 100, rate: 100_000, seconds: 2, perSecond: 600, first: 40, counts: [1, 5, 9, 3] });
const half = report({ tunnels: 10, perTunnel: 100, rate: 300, seconds: 4, perSecond: 300, first: 100, counts: [2, 7, 1], p99: 70 });
const half0 = report({ tunnels: 10, perTunnel: 100, rate: 300, seconds: 4, perSecond: 300, first: 60, counts: [4, 4] });
const ppp = report({ tunnels: 10, perTunnel: 50, rate: 5000, seconds: 3, perSecond: 200, first: 70, counts: [1] });
const held = report({ tunnels: 1000, perTunnel: 1000, rate: 100_000, seconds: 6, perSecond: 200_000, first: 40, counts: [1] });

function expectStandalone(svg: string): void {
  expect(svg.startsWith('<svg ')).toBe(true);
  expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
  expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
  expect(svg).not.toMatch(/<script|href=|url\(/i);
  // Every element opened is closed (self-closing ones aside): what an XML parser would want of it.
  const opened = [...svg.matchAll(/<([a-z]+)\b[^>]*?(\/?)>/g)].filter((m) => m[2] !== '/').map((m) => m[1]);
  const closed = [...svg.matchAll(/<\/([a-z]+)>/g)].map((m) => m[1]);
  expect(closed.sort()).toEqual(opened.sort());
  expect(svg).not.toMatch(/&(?!amp;|lt;|gt;|quot;|#39;)/);
}

describe('lns-load bench charts', () => {
  it('draws set-up rate, sessions held and call latency as standalone SVG documents naming their runs', () => {
    const charts = lnsLoadCharts({ rate, halfRate: half, halfRateAckDelay0: half0, ppp, held });
    expect(charts.map((c) => c.file)).toEqual(['lns-load-setup-rate.svg', 'lns-load-sessions.svg', 'lns-load-call-latency.svg']);
    for (const c of charts) expectStandalone(c.svg);
    const [setup, sessions, latency] = charts.map((c) => c.svg) as [string, string, string];

    for (const name of ['without PPP, 1k', 'with PPP, 500', 'held (no PPP), 1M']) expect(setup).toContain(name);
    expect(setup).toContain('sessions/s');
    expect(setup).toContain('% of one core');
    expect(sessions).toContain('held run (1000 tunnels × 1000 sessions, no PPP)');
    expect(sessions).toContain('>up<');
    expect(latency).toContain('300 calls/s offered, default ack_delay');
    expect(latency).toContain('offered, ack_delay 0');
    expect(latency).toContain(`target p99 ≤ ${CALL_TARGET_MS} ms`);
    // The p99 line of the run that reports one, and no other.
    expect(latency).toContain('p99 70 ms');
    expect(latency.match(/p99 \d+ ms</g)).toHaveLength(1);
  });

  it('leaves out a missing or empty run, and a chart with no run at all', () => {
    const empty: ChartReport = { ...ppp, timeline: { t: [], active: [], failed: [], setupRate: [], targetCpu: [] }, histograms: { bucketLowMs: [], call: [] } };
    const charts = lnsLoadCharts({ rate, halfRate: null, ppp: empty });
    expect(charts.map((c) => c.file)).toEqual(['lns-load-setup-rate.svg']);
    expectStandalone(charts[0]!.svg);
    expect(charts[0]!.svg).toContain('without PPP');
    expect(charts[0]!.svg).not.toContain('with PPP');
    expect(charts[0]!.svg).not.toContain('held');
    expect(lnsLoadCharts({})).toEqual([]);
    // Without CPU samples the set-up rate is drawn alone.
    const noCpu = { ...rate, timeline: { ...rate.timeline, targetCpu: rate.timeline.t.map(() => null) } };
    expect(lnsLoadCharts({ rate: noCpu })[0]!.svg).not.toContain('% of one core');
  });

  it('puts the latency histograms on one bucket range that reaches the target', () => {
    const [a, b] = commonBuckets([{ lows: [low(100), low(101), low(102)], counts: [2, 7] }, { lows: [low(60), low(61)], counts: [4] }], CALL_TARGET_MS);
    expect(a!.lows).toEqual(b!.lows);
    expect(a!.lows[0]).toBe(low(60));
    expect(a!.lows[a!.lows.length - 1]).toBe(low(102));
    expect(a!.counts.reduce((x, y) => x + y)).toBe(9);
    expect(a!.counts[100 - 60]).toBe(2);
    expect(b!.counts[0]).toBe(4);
    // Far below the target: the range is stretched up to it.
    const [c] = commonBuckets([{ lows: [low(10), low(11)], counts: [1] }], CALL_TARGET_MS);
    expect(c!.lows[c!.lows.length - 1]).toBeGreaterThan(CALL_TARGET_MS);
    // Bounds that are not l2tp-load's buckets: drawn as they are.
    const odd = [{ lows: [1, 3, 7], counts: [1, 1] }];
    expect(commonBuckets(odd, CALL_TARGET_MS)).toEqual(odd);
  });

  it('resamples a run onto the common x axis, null outside it and next to a missing sample', () => {
    expect(resample([0, 0.5, 1, 1.5, 2, 3], [0.5, 1.5, 2.5], [10, 20, null])).toEqual([null, 10, 15, 20, null, null]);
    expect(resample([1], [], [])).toEqual([null]);
  });
});
