/**
 * The main thread of a load run: splits the tunnels over worker threads, adds up their reports
 * every 250 ms (timeline, progress line, CPU of generator and target), decides when the run ends,
 * stops the workers (StopCCN everywhere) and writes the reports — also after SIGINT/SIGTERM.
 *
 * A run always ends by itself: when the work is done, at --duration, when no tunnel can be
 * established (--abort-after failed attempts and none up), on a fatal worker error, or at a time
 * limit computed from the plan (a bug elsewhere cannot make it run forever).
 */
import { writeFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { CpuMeter } from './cpu.js';
import { renderHtml } from './html.js';
import type { LoadOptions } from './options.js';
import { Progress } from './progress.js';
import { buildReport, describeCause, oneSecondRate, type LoadReport, type Outcome, type Timeline } from './report.js';
import { PPP_STAGES, sumStats, type Totals, type WorkerStats } from './stats.js';
import { REPORT_INTERVAL_MS, type FromLoadWorker, type TunnelPlan, type WorkerPlan } from './thread-messages.js';

/** How long workers get to have their StopCCNs acknowledged. */
const STOP_GRACE_MS = 3000;

export interface RunResult {
  report: LoadReport;
  exitCode: number;
  /** One line for stderr when the run failed as a whole. */
  error: string | null;
}

/** Tunnel i: source address i mod A; with a fixed port, all tunnels of one address stay in one worker. */
export function planWorkers(o: LoadOptions): WorkerPlan[] {
  const fixed = o.sourcePort !== 'auto';
  const count = Math.max(1, Math.min(o.workers, fixed ? o.sources.length : o.tunnels));
  const shares: TunnelPlan[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < o.tunnels; i++) {
    const a = o.sources.length ? i % o.sources.length : 0;
    const w = fixed ? a % count : i % count;
    shares[w]!.push({ index: i, source: o.sources[a], port: fixed ? (o.sourcePort as number) : 0, calls: o.sessionsPerTunnel });
  }
  const total = o.tunnels * o.sessionsPerTunnel;
  return shares.map((tunnels, worker) => {
    const calls = tunnels.length * o.sessionsPerTunnel;
    const f = total > 0 ? calls / total : tunnels.length / o.tunnels;
    const ft = tunnels.length / o.tunnels;
    return {
      worker,
      options: { ...o, workers: count },
      tunnels,
      callRate: o.rate * f,
      tunnelRate: o.tunnelRate * ft,
      teardownRate: o.teardownRate * f,
      maxOutstanding: Math.max(1, Math.round(o.maxOutstanding * f)),
    };
  });
}

/** Upper bound on a run without --duration: generous, but finite whatever happens. */
export function timeLimitMs(o: LoadOptions): number {
  let cycle = 0;
  for (let i = 0; i <= o.maxRetransmits; i++) cycle += Math.min(1000 * 2 ** i, 8000);
  const calls = o.tunnels * o.sessionsPerTunnel;
  const setup = (o.tunnels / o.tunnelRate + calls / o.rate) * 1000;
  const hold = o.holdMs === null ? 0 : o.holdMs + (calls / o.teardownRate) * 1000;
  const retries = (o.tunnelRetries + 1) * (Math.max(cycle, o.setupTimeoutMs) + 30_000);
  return Math.round(2 * (setup + hold) + retries + o.setupTimeoutMs + 60_000);
}

const emptyTimeline = (): Timeline => ({ t: [], established: [], active: [], inProgress: [], failed: [], tunnelsUp: [], setupRate: [], generatorCpu: [], targetCpu: [], steal: [] });

export async function runLoad(o: LoadOptions): Promise<RunResult> {
  const plans = planWorkers(o);
  const options = plans[0]!.options;
  const startedAt = Date.now();
  const cpu = new CpuMeter(o.targetPid);
  const latest: (WorkerStats | undefined)[] = plans.map(() => undefined);
  const maxElu = plans.map(() => 0);
  const timeline = emptyTimeline();
  const progress = new Progress(o.progress, o.tunnels * o.sessionsPerTunnel);
  const limit = o.durationMs ?? timeLimitMs(o);
  let outcome: Outcome | null = null;
  let reason: string | null = null;

  const workers = plans.map((plan) => {
    const w = new Worker(new URL('./worker.js', import.meta.url));
    w.on('message', (m: FromLoadWorker) => {
      if (m.type === 'stats' || m.type === 'stopped') {
        latest[plan.worker] = m.stats;
        if (m.type === 'stats') maxElu[plan.worker] = Math.max(maxElu[plan.worker]!, m.stats.elu);
      } else if (m.type === 'fatal') {
        end('aborted', m.message);
      }
    });
    w.on('error', (e) => end('aborted', `worker ${plan.worker} failed: ${e.message}`));
    w.postMessage({ type: 'start', plan });
    return w;
  });

  let ending: (() => void) | null = null;
  const ended = new Promise<void>((resolve) => (ending = resolve));
  function end(why: Outcome, text: string | null = null): void {
    if (outcome !== null) return;
    outcome = why;
    reason = text;
    ending!();
  }

  let totals: Totals = sumStats([]);
  /** `final`: the totals for the report, histograms included. */
  const sample = (final = false): void => {
    totals = sumStats(latest.filter((s): s is WorkerStats => s !== undefined), final);
    const c = totals.counters;
    const cs = cpu.sample();
    const t = (Date.now() - startedAt) / 1000;
    timeline.t.push(Math.round(t * 1000) / 1000);
    timeline.established.push(c.callsUp);
    timeline.active.push(c.callsActive);
    timeline.inProgress.push(c.callsInProgress);
    timeline.failed.push(c.callsFailed);
    timeline.tunnelsUp.push(c.tunnelsUp - c.tunnelsLost);
    timeline.setupRate.push(oneSecondRate(timeline.t, timeline.established, timeline.t.length - 1));
    timeline.generatorCpu.push(cs.generator);
    timeline.targetCpu.push(cs.target);
    timeline.steal.push(cs.steal);
    progress.update({
      settled: c.callsUp + c.callsFailed,
      up: c.callsUp,
      active: c.callsActive,
      failed: c.callsFailed,
      inProgress: c.callsInProgress,
      tunnelsUp: c.tunnelsUp - c.tunnelsLost,
      rate: timeline.setupRate[timeline.setupRate.length - 1]!,
      ...(o.ping ? { data: ` | echo ${c.pingRequests} sent ${c.pingReplies} back ${c.pingLost} lost` } : {}),
    });
  };

  const check = (): void => {
    sample();
    const c = totals.counters;
    const all = latest.every((s) => s !== undefined);
    if (c.tunnelsUp === 0 && c.tunnelAttemptsFailed >= o.abortAfter) {
      return end('aborted', `no tunnel could be established after ${c.tunnelAttemptsFailed} attempts: ${totals.failures[0] ? describeCause(totals.failures[0]) : 'unknown cause'}`);
    }
    if (all && latest.every((s) => s!.settled)) {
      if (o.holdMs === null ? o.durationMs === null : latest.every((s) => s!.done)) return end('completed');
    }
    if (Date.now() - startedAt >= limit) end(o.durationMs !== null ? 'duration' : 'time-limit', o.durationMs === null ? `time limit of ${Math.round(limit / 1000)} s reached` : null);
  };
  const sampler = setInterval(check, REPORT_INTERVAL_MS);

  let signals = 0;
  let forced: (() => void) | null = null;
  const forcedP = new Promise<void>((r) => (forced = r));
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) end('interrupted', `${sig} received`);
    else forced!(); // a second Ctrl-C: do not wait for StopCCN acknowledgements
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  await ended;
  clearInterval(sampler);
  // StopCCN everywhere; wait for every worker's final totals (bounded).
  const stopped = workers.map(
    (w) =>
      new Promise<void>((resolve) => {
        w.on('message', (m: FromLoadWorker) => m.type === 'stopped' && resolve());
        w.on('exit', () => resolve());
        w.postMessage({ type: 'stop', graceMs: STOP_GRACE_MS });
      }),
  );
  const timeout = new Promise<void>((r) => setTimeout(r, STOP_GRACE_MS + 2000).unref());
  await Promise.race([Promise.all(stopped), timeout, forcedP]);
  await Promise.all(workers.map((w) => w.terminate().catch(() => undefined)));
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  sample(true);
  progress.stop();

  const finalOutcome = outcome as Outcome | null ?? 'completed';
  const cpuTotals = cpu.totals();
  const report = buildReport({
    options,
    totals,
    timeline,
    startedAt,
    endedAt: Date.now(),
    outcome: finalOutcome,
    reason,
    cpu: { ...cpuTotals, targetRssMaxBytes: cpu.targetRssMaxBytes },
    maxElu,
  });
  if (o.json) writeFileSync(o.json, JSON.stringify(report, null, 2) + '\n');
  if (o.html) writeFileSync(o.html, renderHtml(report));
  return { report, ...verdict(report) };
}

function verdict(r: LoadReport): { exitCode: number; error: string | null } {
  if (r.outcome === 'aborted') return { exitCode: 3, error: r.reason };
  if (r.outcome === 'interrupted') return { exitCode: 130, error: null };
  if (r.tunnels.established === 0 && r.tunnels.planned > 0) {
    return { exitCode: 3, error: `no tunnel could be established: ${r.failures[0] ? describeCause(r.failures[0]) : 'unknown cause'}` };
  }
  if (r.tunnels.failed > 0 || r.calls.failed > 0 || r.outcome === 'time-limit') return { exitCode: 1, error: null };
  return { exitCode: 0, error: null };
}

/** The end-of-run summary for the terminal. */
export function summary(r: LoadReport): string {
  const l = r.latencyMs;
  const lines = [
    `l2tp-load ${r.outcome}${r.reason ? ` (${r.reason})` : ''} after ${r.wallSeconds} s`,
    `  tunnels  ${r.tunnels.established}/${r.tunnels.planned} established, ${r.tunnels.failed} failed (${r.tunnels.attemptsFailed} failed attempts), ${r.tunnels.lost} lost`,
    `  sessions ${r.calls.established}/${r.calls.planned} established, ${r.calls.failed} failed, ${r.calls.clearedByPeer} cleared by peer, ${r.calls.tornDown} torn down, ${r.calls.inProgressAtEnd} in progress at end`,
    `  setup rate ${r.setupRate.sustained ?? '-'}/s sustained, ${r.setupRate.peak ?? '-'}/s peak`,
    `  latency ms  tunnel p50 ${l.tunnel.p50 ?? '-'} p99 ${l.tunnel.p99 ?? '-'} | call p50 ${l.call.p50 ?? '-'} p95 ${l.call.p95 ?? '-'} p99 ${l.call.p99 ?? '-'}` +
      PPP_STAGES.filter((p) => r.mode === 'ppp' && l[p].count > 0).map((p) => ` | ${p} p50 ${l[p].p50} p99 ${l[p].p99}`).join(''),
    `  cpu  generator ${r.cpu.generator.cpuSeconds} s (${r.cpu.generator.percentOfOneCore}%)` +
      (r.cpu.target ? ` | target ${r.cpu.target.cpuSeconds ?? '-'} s (${r.cpu.target.percentOfOneCore ?? '-'}%), ${r.cpu.target.callsPerCpuSecond ?? '-'} sessions per CPU-second` : '') +
      (r.cpu.machine ? ` | machine steal ${r.cpu.machine.stealPercent}% (set-up ${r.cpu.machine.setupStealPercent ?? '-'}%)` : ''),
  ];
  if (r.ppp) lines.push(`  ppp  ${r.ppp.addressesAssigned} addresses (${r.ppp.lowestAddress ?? '-'} – ${r.ppp.highestAddress ?? '-'}), ${r.ppp.lcpEchoRequestsAnswered} LCP echoes answered`);
  if (r.data) {
    const d = r.data;
    lines.push(
      `  data  ${d.requestsSent} echo requests, ${d.repliesReceived} replies, ${d.lost} lost (${d.lossPercent ?? '-'}%), ${d.outstandingAtEnd} outstanding at end | rtt ms p50 ${d.rttMs.p50 ?? '-'} p95 ${d.rttMs.p95 ?? '-'} p99 ${d.rttMs.p99 ?? '-'} max ${d.rttMs.max ?? '-'}`,
    );
  }
  for (const c of r.failures.slice(0, 5)) lines.push(`  failure ×${c.count}: ${describeCause(c)}`);
  if (r.cpu.warning) lines.push(`  warning: ${r.cpu.warning}`);
  if (r.cpu.machine?.warning) lines.push(`  warning: ${r.cpu.machine.warning}`);
  return lines.join('\n');
}
