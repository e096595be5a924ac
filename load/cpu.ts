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

export interface CpuSample {
  /** Seconds since the run started. */
  t: number;
  /** Percent of one core over the last interval. */
  generator: number;
  target: number | null;
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
    this.last = cpu;
    this.lastWall = now;
    return { t: (now - this.startWall) / 1000, generator: round1(generator), target: target === null ? null : round1(target) };
  }

  /** Totals since construction. */
  totals(): { generatorCpuSeconds: number; targetCpuSeconds: number | null; wallSeconds: number } {
    const cpu = process.cpuUsage(this.start);
    const t = this.targetLast && this.targetStart ? this.targetLast.cpuSeconds - this.targetStart.cpuSeconds : null;
    return {
      generatorCpuSeconds: round3((cpu.user + cpu.system) / 1e6),
      targetCpuSeconds: t === null ? null : round3(t),
      wallSeconds: round3((performance.now() - this.startWall) / 1000),
    };
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
