/** The machine's steal time (/proc/stat) in l2tp-load's report: a VM's hypervisor taking CPU skews rates and latencies. */
import { describe, expect, it } from 'vitest';
import { machineTotals, readMachineCpu } from '../../load/cpu.js';
import { renderHtml } from '../../load/html.js';
import { resolveOptions } from '../../load/options.js';
import { buildReport } from '../../load/report.js';
import { summary } from '../../load/run.js';
import { newCounters, newHistograms, newPingTally, sumStats } from '../../load/stats.js';

const STAT = (user: number, idle: number, steal: number) =>
  `cpu  ${user} 0 100 ${idle} 5 0 3 ${steal} 0 0\ncpu0 1 0 1 1 0 0 0 0 0 0\ncpu1 1 0 1 1 0 0 0 0 0 0\nintr 123\n`;

describe('machine CPU and steal', () => {
  it('reads /proc/stat: cores, all ticks and steal ticks', () => {
    expect(readMachineCpu(STAT(1000, 5000, 40))).toEqual({ cores: 2, totalTicks: 1000 + 100 + 5000 + 5 + 3 + 40, stealTicks: 40 });
    expect(readMachineCpu('intr 1 2 3\n')).toBeUndefined();
    expect(readMachineCpu('cpu  a b c d e f g h\n')).toBeUndefined();
    // This machine's own file parses (the test host is Linux).
    expect(readMachineCpu()).toMatchObject({ cores: expect.any(Number), stealTicks: expect.any(Number) });
  });

  it('steal over a run as seconds and as a share of all the CPU time', () => {
    const from = readMachineCpu(STAT(1000, 5000, 40))!;
    const to = readMachineCpu(STAT(1600, 5100, 340))!; // 1,000 more ticks, 300 of them stolen
    expect(machineTotals(from, to)).toEqual({ cores: 2, stealSeconds: 3, stealPercent: 30 });
    expect(machineTotals(undefined, to)).toBeNull();
  });

  it('the report warns past 5% steal, in the JSON and in the summary', () => {
    const report = (stealPercent: number, during?: { steal: number[] }) =>
      buildReport({
        options: resolveOptions({ target: '127.0.0.1' }),
        totals: sumStats([{ worker: 0, counters: newCounters(), hist: newHistograms(), failures: [], cleared: [], firstCallAt: during ? 1000 : null, lastCallUpAt: during ? 3000 : null, firstTunnelAt: null, lastTunnelUpAt: null, addressLow: null, addressHigh: null, ping: newPingTally(), elu: 0, settled: true, done: true }]),
        timeline: { t: [0, 1, 2, 3, 4], established: [], active: [], inProgress: [], failed: [], tunnelsUp: [], setupRate: [], generatorCpu: [], targetCpu: [], steal: during?.steal ?? [] },
        startedAt: 0,
        endedAt: 1000,
        outcome: 'completed',
        reason: null,
        cpu: { generatorCpuSeconds: 0, targetCpuSeconds: null, wallSeconds: 1, targetRssMaxBytes: 0, machine: { cores: 2, stealSeconds: 0.2, stealPercent } },
        maxElu: [0],
      });
    expect(report(2).cpu.machine).toEqual({ cores: 2, stealSeconds: 0.2, stealPercent: 2, setupStealSeconds: null, setupStealPercent: null, warning: null });
    const bad = report(12.5);
    expect(bad.cpu.machine!.warning).toMatch(/hypervisor took 12.5% of this machine's CPU time/);
    expect(summary(bad)).toMatch(/machine steal 12.5% \(set-up -%\)[\s\S]*warning: the hypervisor took 12.5%/);
    // Little over the whole run, but 40% of one core while the calls were set up (t 1-3 s): 20% of the 2-core machine.
    const setup = report(2, { steal: [0, 0, 40, 40, 0] });
    expect(setup.cpu.machine).toMatchObject({ setupStealSeconds: 0.8, setupStealPercent: 20 });
    expect(setup.cpu.machine!.warning).toMatch(/20% while calls were set up/);
    // The HTML report says both shares too.
    expect(renderHtml(setup)).toMatch(/Hypervisor steal<\/th><td class="n">0\.2 s \(2% of the machine; 20% while calls were set up\)/);
    expect(renderHtml(report(2))).toMatch(/\(2% of the machine; — while calls were set up\)/);
  });
});
