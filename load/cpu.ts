/**
 * CPU of the generator (process.cpuUsage: every thread of this process) and of the target
 * (/proc/PID/stat utime + stime, in clock ticks), sampled side by side so a report shows whether the
 * generator or the LNS was the one working hard.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim()) || 100;
    } catch {
      clockTicks = 100; // USER_HZ on every Linux architecture that matters
    }
  }
  return clockTicks;
}

export interface ProcCpu {
  /** CPU seconds (user + system) since the process started. */
  cpuSeconds: number;
  rssBytes: number;
}

/** undefined when the process does not exist (or this is not Linux). */
export function readProcCpu(pid: number): ProcCpu | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state): utime is field 14, stime 15, rss (pages) 24.
    const utime = Number(f[11]);
    const stime = Number(f[12]);
    const rssPages = Number(f[21]);
    return { cpuSeconds: (utime + stime) / ticksPerSecond(), rssBytes: rssPages * 4096 };
  } catch {
    return undefined;
  }
}

/** This machine's CPU time from /proc/stat's first line, in clock ticks; undefined when not Linux. */
export interface MachineCpu {
  cores: number;
  /** All time (user to steal), summed over the cores. */
  totalTicks: number;
  /** Time the hypervisor ran something else while a virtual CPU of this machine wanted to run. */
  stealTicks: number;
}

export function readMachineCpu(text?: string): MachineCpu | undefined {
  try {
    const stat = text ?? readFileSync('/proc/stat', 'utf8');
    const first = stat.slice(0, stat.indexOf('\n')).trim().split(/\s+/);
    if (first[0] !== 'cpu' || first.length < 9) return undefined;
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const f = first.slice(1, 9).map(Number);
    if (f.some((x) => !Number.isFinite(x))) return undefined;
    const cores = (stat.match(/^cpu\d+ /gm) ?? []).length || 1;
    return { cores, totalTicks: f.reduce((a, b) => a + b, 0), stealTicks: f[7]! };
  } catch {
    return undefined;
  }
}

/** Past this share of the machine's CPU time taken by the hypervisor, a report says its numbers are not a dedicated machine's. */
export const STEAL_WARNING_PERCENT = 5;

export interface MachineCpuTotals {
  cores: number;
  stealSeconds: number;
  /** Steal as a share of all the machine's CPU time over the run. */
  stealPercent: number;
}

export interface CpuSample {
  /** Seconds since the run started. */
  t: number;
  /** Percent of one core over the last interval. */
  generator: number;
  target: number | null;
  /** The hypervisor's steal over the last interval, in percent of one core; null without /proc/stat. */
  steal: number | null;
}

export class CpuMeter {
  private readonly start = process.cpuUsage();
  private last = process.cpuUsage();
  private lastWall = performance.now();
  private readonly startWall = performance.now();
  private readonly targetStart: ProcCpu | undefined;
  private targetLast: ProcCpu | undefined;
  targetRssMaxBytes = 0;
  targetGone = false;
  private readonly machineStart = readMachineCpu();
  private machineLast = this.machineStart;

  constructor(readonly targetPid: number | undefined) {
    this.targetStart = targetPid !== undefined ? readProcCpu(targetPid) : undefined;
    this.targetLast = this.targetStart;
    if (this.targetStart) this.targetRssMaxBytes = this.targetStart.rssBytes;
  }

  get targetFound(): boolean {
    return this.targetStart !== undefined;
  }

  sample(): CpuSample {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const wallUs = Math.max(1, (now - this.lastWall) * 1000);
    const generator = ((cpu.user - this.last.user + cpu.system - this.last.system) / wallUs) * 100;
    let target: number | null = null;
    if (this.targetPid !== undefined && this.targetLast) {
      const t = readProcCpu(this.targetPid);
      if (t) {
        target = ((t.cpuSeconds - this.targetLast.cpuSeconds) * 1e8) / wallUs;
        this.targetLast = t;
        this.targetRssMaxBytes = Math.max(this.targetRssMaxBytes, t.rssBytes);
      } else {
        this.targetGone = true;
      }
    }
    let steal: number | null = null;
    const m = this.machineLast ? readMachineCpu() : undefined;
    if (m && this.machineLast) {
      steal = ((m.stealTicks - this.machineLast.stealTicks) / ticksPerSecond()) * 1e8 / wallUs;
      this.machineLast = m;
    }
    this.last = cpu;
    this.lastWall = now;
    return { t: (now - this.startWall) / 1000, generator: round1(generator), target: target === null ? null : round1(target), steal: steal === null ? null : round1(steal) };
  }

  /** Totals since construction; `machine` is null where /proc/stat is not there. */
  totals(): { generatorCpuSeconds: number; targetCpuSeconds: number | null; wallSeconds: number; machine: MachineCpuTotals | null } {
    const cpu = process.cpuUsage(this.start);
    const t = this.targetLast && this.targetStart ? this.targetLast.cpuSeconds - this.targetStart.cpuSeconds : null;
    return {
      generatorCpuSeconds: round3((cpu.user + cpu.system) / 1e6),
      targetCpuSeconds: t === null ? null : round3(t),
      wallSeconds: round3((performance.now() - this.startWall) / 1000),
      machine: machineTotals(this.machineStart, readMachineCpu()),
    };
  }
}

export function machineTotals(from: MachineCpu | undefined, to: MachineCpu | undefined): MachineCpuTotals | null {
  if (!from || !to) return null;
  const total = to.totalTicks - from.totalTicks;
  const steal = to.stealTicks - from.stealTicks;
  return { cores: to.cores, stealSeconds: round3(steal / ticksPerSecond()), stealPercent: total > 0 ? round1((steal / total) * 100) : 0 };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
