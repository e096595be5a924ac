/**
 * The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched) that a
 * browser opens offline. The JSON report is embedded too, so the page is the whole record.
 */
import { describeCause, type DataReport, type LoadReport } from './report.js';
import { PHASES, PPP_STAGES, type Phase } from './stats.js';
import { esc, histogramChart, lineChart } from './svg.js';

const COLORS = { up: '#2b7bb9', active: '#3aa655', inProgress: '#e8a33d', failed: '#d0453b', tunnels: '#7d5ba6', gen: '#2b7bb9', target: '#d0453b' };
const PHASE_COLOR: Record<Phase, string> = { tunnel: '#7d5ba6', call: '#2b7bb9', lcp: '#e8a33d', auth: '#c4572a', ipcp: '#1f9e89', ipv6cp: '#5b8c2a', teardown: '#3aa655' };
const PHASE_TEXT: Record<Phase, string> = {
  tunnel: 'SCCRQ until the SCCCN is acknowledged',
  call: 'ICRQ until the ICCN is acknowledged',
  lcp: 'PPP start (ICCN) until LCP Opened',
  auth: 'LCP Opened until authentication passed',
  ipcp: 'Network phase until IPCP Opened',
  ipv6cp: 'Network phase until IPv6CP Opened',
  teardown: 'CDN until acknowledged',
};

/** The phases this run measures: the PPP ones only in PPP mode (IPv6CP only when asked for). */
function phasesOf(r: LoadReport): Phase[] {
  const ppp = r.options.ppp;
  return PHASES.filter((p) => ((PPP_STAGES as readonly string[]).includes(p) ? ppp !== null && (p !== 'ipv6cp' || ppp.ipv6cp) : true));
}

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:820px;color:#222}
h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.warn{color:#b00;font-weight:600}.muted{color:#777}
svg.chart{display:block;margin:12px 0;max-width:100%;height:auto}
`;

const n = (v: number | null | undefined, unit = ''): string => (v === null || v === undefined ? '—' : `${v.toLocaleString('en-US')}${unit}`);

function rows(pairs: [string, string][]): string {
  return `<table>${pairs.map(([k, v]) => `<tr><th>${esc(k)}</th><td class="n">${esc(v)}</td></tr>`).join('')}</table>`;
}

export function renderHtml(r: LoadReport): string {
  const tl = r.timeline;
  const o = r.options;
  const title = `l2tp-load: ${o.tunnels} tunnels × ${o.sessionsPerTunnel} sessions → ${o.target.address}:${o.target.port}`;
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${CSS}</style></head><body>`);
  parts.push(`<h1>${esc(title)}</h1>`);
  const ppp = o.ppp ? ` · PPP subscribers: ${o.ppp.auth.toUpperCase()}, IPCP${o.ppp.ipv6cp ? ' + IPv6CP' : ''}${o.ppp.proxyLcp ? `, proxy LCP${o.ppp.proxyAuth ? ' + authentication' : ''}` : ''}` : ' · control plane only';
  parts.push(`<p class="muted">${esc(r.startedAt)} – ${esc(r.endedAt)} · ${r.wallSeconds} s · outcome <b>${esc(r.outcome)}</b>${r.reason ? ` (${esc(r.reason)})` : ''} · L2TPv${o.version}, rate ${o.rate}/s, max outstanding ${o.maxOutstanding}, ${o.workers} worker(s)${esc(ppp)}</p>`);
  if (r.cpu.warning) parts.push(`<p class="warn">${esc(r.cpu.warning)}</p>`);
  if (r.cpu.machine?.warning) parts.push(`<p class="warn">${esc(r.cpu.machine.warning)}</p>`);

  parts.push('<h2>Summary</h2>');
  parts.push(
    rows([
      ['Sessions established', `${n(r.calls.established)} of ${n(r.calls.planned)}`],
      ['Sessions failed', n(r.calls.failed)],
      ['Sessions cleared by the LNS after set-up', n(r.calls.clearedByPeer)],
      ['Sessions cleared by us (hold time over)', n(r.calls.tornDown)],
      ['In progress / up when the run stopped', `${n(r.calls.inProgressAtEnd)} / ${n(r.calls.activeAtEnd)}`],
      ['Tunnels established', `${n(r.tunnels.established)} of ${n(r.tunnels.planned)} (${n(r.tunnels.attemptsFailed)} failed attempts)`],
      ['Setup rate sustained', n(r.setupRate.sustained, ' sessions/s')],
      ['Setup rate peak (1 s)', n(r.setupRate.peak, ' sessions/s')],
      ['Generator CPU', `${n(r.cpu.generator.cpuSeconds, ' s')} (${n(r.cpu.generator.percentOfOneCore, '% of one core')})`],
      ['Target CPU', r.cpu.target ? `${n(r.cpu.target.cpuSeconds, ' s')} (${n(r.cpu.target.percentOfOneCore, '% of one core')})` : 'not measured (--target-pid)'],
      ['Sessions per target CPU-second', r.cpu.target ? n(r.cpu.target.callsPerCpuSecond) : '—'],
      ['Hypervisor steal', r.cpu.machine ? `${n(r.cpu.machine.stealSeconds, ' s')} (${n(r.cpu.machine.stealPercent, '% of the machine')}; ${r.cpu.machine.setupStealPercent === null ? '—' : n(r.cpu.machine.setupStealPercent, '%')} while calls were set up)` : 'not measured'],
      ...(r.ppp
        ? ([
            ['Subscriber addresses (IPCP)', `${n(r.ppp.addressesAssigned)}: ${r.ppp.lowestAddress ?? '—'} – ${r.ppp.highestAddress ?? '—'}`],
            ['LCP Echo-Requests answered', n(r.ppp.lcpEchoRequestsAnswered)],
            ...(o.ppp?.proxyLcp ? ([['Proxy LCP renegotiated by the LNS', n(r.ppp.proxyLcpRefused)]] as [string, string][]) : []),
          ] as [string, string][])
        : []),
    ]),
  );

  parts.push('<h2>Latency (ms)</h2>');
  parts.push('<table><tr><th>phase</th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>mean</th></tr>');
  const phases = phasesOf(r);
  for (const p of phases) {
    const l = r.latencyMs[p];
    parts.push(`<tr><td>${p}</td><td class="n">${n(l.count)}</td><td class="n">${n(l.p50)}</td><td class="n">${n(l.p95)}</td><td class="n">${n(l.p99)}</td><td class="n">${n(l.mean)}</td></tr>`);
  }
  parts.push(`</table><p class="muted">${esc(phases.map((p) => `${p}: ${PHASE_TEXT[p]}`).join('; '))}.</p>`);
  if (r.data && o.ping) parts.push(dataSection(r.data, o.ping));

  parts.push('<h2>Over time</h2>');
  parts.push(
    lineChart({
      id: 'chart-sessions',
      title: 'Sessions over time',
      xs: tl.t,
      yLabel: 'sessions',
      series: [
        { name: 'established (total)', color: COLORS.up, ys: tl.established },
        { name: 'up now', color: COLORS.active, ys: tl.active },
        { name: 'in progress', color: COLORS.inProgress, ys: tl.inProgress },
        { name: 'failed (total)', color: COLORS.failed, ys: tl.failed },
      ],
    }),
  );
  parts.push(lineChart({ id: 'chart-rate', title: 'Setup rate over time', xs: tl.t, yLabel: 'sessions/s', series: [{ name: 'established per second', color: COLORS.up, ys: tl.setupRate }] }));
  const cpuSeries = [{ name: 'generator', color: COLORS.gen, ys: tl.generatorCpu }];
  if (r.cpu.target) cpuSeries.push({ name: `target (pid ${r.cpu.target.pid})`, color: COLORS.target, ys: tl.targetCpu as number[] });
  parts.push(lineChart({ id: 'chart-cpu', title: 'CPU over time', xs: tl.t, yLabel: '% of one core', series: cpuSeries }));

  parts.push('<h2>Latency histograms</h2>');
  for (const p of phases) {
    parts.push(histogramChart({ id: `chart-latency-${p}`, title: `${p} latency`, lows: r.histograms.bucketLowMs, counts: r.histograms[p], color: PHASE_COLOR[p] }));
  }

  parts.push('<h2>Failures by cause</h2>');
  parts.push(causeTable(r.failures, 'no set-up failed'));
  parts.push('<h2>Cleared by the LNS after set-up</h2>');
  parts.push(causeTable(r.clearedByPeer, 'nothing was cleared by the LNS'));

  parts.push('<h2>Packets</h2>');
  parts.push(rows(Object.entries(r.packets).map(([k, v]) => [k, n(v)])));
  parts.push(`<h2>Raw report</h2><details><summary>JSON</summary><pre>${esc(JSON.stringify({ ...r, timeline: '(above)' }, null, 1))}</pre></details>`);
  parts.push('</body></html>\n');
  return parts.join('\n');
}

/** --ping-rate: what crossed the sessions' data path, and the round trips. */
function dataSection(d: DataReport, p: NonNullable<LoadReport['options']['ping']>): string {
  const to = p.target ?? "the LNS's IPCP address";
  return [
    '<h2>Data: ICMP echo through the sessions</h2>',
    `<p class="muted">${esc(`${p.rate}/s per session, ${p.size} octets of data, to ${to}; a reply later than ${p.timeoutMs} ms is lost; requests still within it when their session ended or the run stopped are left out of the loss.`)}</p>`,
    rows([
      ['Sessions sending (without a target)', `${n(d.sessions)} (${n(d.sessionsWithoutTarget)})`],
      ['Echo requests sent', n(d.requestsSent)],
      ['Replies received', n(d.repliesReceived)],
      ['Lost', `${n(d.lost)} (${n(d.lossPercent, '%')})`],
      ['Outstanding at the end (not counted)', n(d.outstandingAtEnd)],
      ['Late or duplicate replies / unexpected / malformed IP', `${n(d.lateReplies)} / ${n(d.unexpected)} / ${n(d.malformed)}`],
    ]),
    '<table><tr><th>round trip (ms)</th><th>count</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>',
    `<tr><td>echo</td><td class="n">${n(d.rttMs.count)}</td><td class="n">${n(d.rttMs.p50)}</td><td class="n">${n(d.rttMs.p95)}</td><td class="n">${n(d.rttMs.p99)}</td><td class="n">${n(d.rttMs.max)}</td></tr></table>`,
    histogramChart({ id: 'chart-latency-echo', title: 'echo round trip', lows: d.histogram.bucketLowMs, counts: d.histogram.counts, color: '#1f9e89' }),
  ].join('\n');
}

function causeTable(causes: LoadReport['failures'], none: string): string {
  if (causes.length === 0) return `<p class="muted">${esc(none)}</p>`;
  return `<table><tr><th>count</th><th>cause</th></tr>${causes.map((c) => `<tr><td class="n">${n(c.count)}</td><td>${esc(describeCause(c))}</td></tr>`).join('')}</table>`;
}
