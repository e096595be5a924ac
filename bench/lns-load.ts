/**
 * Over the wire (issue 6): l2tpd (null data plane, 2 shard workers) driven by l2tp-load, both on this machine,
 * reported side by side in one run. Each run gets a fresh l2tpd on its own loopback address (127.0.150.N, sources
 * 127.0.(150+N).x; other 127.0.x ranges belong to the tests):
 * 1. set-up rate without PPP (`ppp_profiles.default.terminate: false`): sessions/s and sessions per l2tpd CPU-second;
 * 2. set-up rate with PPP (LCP + PAP + IPCP against a local users file and a pool; 100,000 subscribers), per-phase
 *    latencies, then the l2tpd CPU while those subscribers sit idle (LCP echo every 30 s, HELLO every 60 s): the
 *    idle target is for 1,000,000 of them, so its note carries the cost per echo and a labelled extrapolation;
 * 3. call set-up latency at half the rate measured in 1 (and again with l2tpd's ack_delay 0, to show its share);
 * 4. N tunnels × M sessions held (without PPP: PPP set-up is too slow here for that scale): l2tpd RSS, then
 * 5. l2tpd CPU while they sit idle (/proc/PID/stat utime + stime: all threads of the process), beside the same
 *    l2tpd before it had any tunnel.
 * l2tp-load runs without --hold, bounded by --duration; once l2tpd's log shows every session up (or the count stops
 * moving) the bench measures, then SIGINT makes l2tp-load send StopCCN and write its report. Sizes: env knobs below.
 * BENCH_LOAD_CHARTS=DIR also writes SVG charts of the runs there (bench/lns-load-charts.ts), listed in `charts`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readProcCpu } from '../load/cpu.js';
import type { LatencySummary, LoadReport } from '../load/report.js';
import { MgmtClient } from '../src/mgmt/client.js';
import { lnsLoadCharts, type ChartFile } from './lns-load-charts.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** The checkout: two levels up from dist/bench, one from bench/ (vitest runs the source). */
const ROOT = path.basename(path.dirname(HERE)) === 'dist' ? path.resolve(HERE, '../..') : path.resolve(HERE, '..');
const L2TPD = path.join(ROOT, 'dist/src/daemon/l2tpd.js');
const LOAD = path.join(ROOT, 'dist/load/l2tp-load.js');
/** Set-ups in flight at most, as in docs/benchmarks.md. */
const MAX_OUTSTANDING = 1000;
/** No session came up for this long: the rest are failing (l2tp-load clears calls after --setup-timeout 30). */
const PLATEAU_MS = 15_000;
const SETUP_TIMEOUT_S = 30;
/** After the last session is up: its ICCN acknowledgement (l2tpd delays acks up to 100 ms) must reach l2tp-load. */
const SETTLE_MS = 2000;
const GIB = 2 ** 30;
/** A fresh l2tpd is left alone this long before the load (its workers finish starting; a daemon in service is warm). */
const WARM_MS = 3000;

export interface LnsLoadSizes {
  /** Runs 1 and 3 (BENCH_LOAD_RATE_TUNNELS, BENCH_LOAD_RATE_SESSIONS_PER_TUNNEL). */
  rateTunnels: number;
  rateSessionsPerTunnel: number;
  /** Run 2 (BENCH_LOAD_PPP_TUNNELS, BENCH_LOAD_PPP_SESSIONS_PER_TUNNEL, BENCH_LOAD_PPP_RATE). */
  pppTunnels: number;
  pppSessionsPerTunnel: number;
  pppRate: number;
  /** Runs 4 and 5 (BENCH_LOAD_TUNNELS, BENCH_LOAD_SESSIONS_PER_TUNNEL). */
  heldTunnels: number;
  heldSessionsPerTunnel: number;
  /** Idle windows of runs 2 and 5 (BENCH_LOAD_IDLE_SECONDS; 0 skips them). */
  idleSeconds: number;
  /** How long any one run may take to set its sessions up (BENCH_LOAD_SETUP_BOUND_SECONDS). */
  setupBoundSeconds: number;
  /**
   * Calls set up and cleared against l2tpd before runs 1 and 3 measure (BENCH_LOAD_WARMUP_SESSIONS; 0: none):
   * a daemon in service runs optimised code, a fresh one interprets its first thousands of calls.
   */
  warmupSessions?: number;
}

export function sizesFromEnv(env: NodeJS.ProcessEnv = process.env): LnsLoadSizes {
  const n = (key: string, dflt: number) => {
    const v = Number(env[key] ?? dflt);
    if (!Number.isFinite(v) || v < 0) throw new Error(`${key} must be a number >= 0, got ${env[key]}`);
    return v;
  };
  return {
    rateTunnels: n('BENCH_LOAD_RATE_TUNNELS', 100),
    rateSessionsPerTunnel: n('BENCH_LOAD_RATE_SESSIONS_PER_TUNNEL', 500),
    pppTunnels: n('BENCH_LOAD_PPP_TUNNELS', 100),
    pppSessionsPerTunnel: n('BENCH_LOAD_PPP_SESSIONS_PER_TUNNEL', 1000),
    pppRate: n('BENCH_LOAD_PPP_RATE', 5000),
    heldTunnels: n('BENCH_LOAD_TUNNELS', 1000),
    heldSessionsPerTunnel: n('BENCH_LOAD_SESSIONS_PER_TUNNEL', 1000),
    idleSeconds: n('BENCH_LOAD_IDLE_SECONDS', 60),
    setupBoundSeconds: n('BENCH_LOAD_SETUP_BOUND_SECONDS', 600),
    warmupSessions: n('BENCH_LOAD_WARMUP_SESSIONS', 5000),
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref())]);
const shellWord = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`);
/** The command as one would type it from the checkout. */
const commandLine = (argv: string[]) => ['node', ...argv.map((a) => (a.startsWith(ROOT + '/') ? path.relative(ROOT, a) : a))].map(shellWord).join(' ');

interface Memory {
  rssBytes: number;
  hwmBytes: number;
}
function procMemory(pid: number): Memory | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1]) * 1024;
    return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Counts a marker in a growing log, reading only what was appended since the last poll. */
class LogTail {
  private offset = 0;
  private rest = '';
  private count = 0;
  private readonly buf = Buffer.alloc(1 << 20);
  constructor(
    private readonly file: string,
    private readonly marker: string,
  ) {}
  poll(): number {
    const fd = openSync(this.file, 'r');
    try {
      for (let n; (n = readSync(fd, this.buf, 0, this.buf.length, this.offset)) > 0; ) {
        this.offset += n;
        const text = this.rest + this.buf.toString('latin1', 0, n);
        const cut = text.lastIndexOf('\n') + 1;
        for (let i = text.indexOf(this.marker); i >= 0 && i < cut; i = text.indexOf(this.marker, i + 1)) this.count++;
        this.rest = text.slice(cut);
      }
    } finally {
      closeSync(fd);
    }
    return this.count;
  }
}

/** A child process stopped by its PID: `signal`, then SIGKILL when it has not exited after `ms`. */
async function stopChild(p: ChildProcess, exited: Promise<unknown>, signal: NodeJS.Signals, ms: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  p.kill(signal);
  if ((await within(exited, ms)) === 'timeout') {
    p.kill('SIGKILL');
    await exited;
  }
}

interface Lns {
  pid: number;
  command: string;
  log: string;
  socket: string;
  /** VmRSS / VmHWM just after start, no tunnel yet. */
  baseline: Memory | null;
  stop(): Promise<void>;
}

async function startLns(dir: string, name: string, listen: string, config: string): Promise<Lns> {
  const file = path.join(dir, `${name}.yaml`);
  const log = path.join(dir, `${name}.log`);
  const socket = path.join(dir, `${name}.sock`);
  await writeFile(file, config);
  const argv = [L2TPD, '--config', file, '--listen', listen, '--mgmt-socket', socket, '--dataplane', 'null', '--workers', '2'];
  const fd = openSync(log, 'w');
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise((r) => proc.once('exit', r));
  const stop = () => stopChild(proc, exited, 'SIGTERM', 15_000);
  const started = new LogTail(log, '"msg":"l2tpd started"');
  const t0 = Date.now();
  while (started.poll() === 0) {
    if (proc.exitCode !== null || Date.now() - t0 > 20_000) {
      await stop();
      throw new Error(`l2tpd (${name}) did not start: ${(await readFile(log, 'utf8')).slice(-2000)}`);
    }
    await sleep(100);
  }
  return { pid: proc.pid!, command: commandLine(argv), log, socket, baseline: procMemory(proc.pid!), stop };
}

/** Control messages l2tpd has sent on all its tunnels (HELLOs, once the sessions are up). */
async function controlSent(socket: string): Promise<number | null> {
  const c = await MgmtClient.connect(socket).catch(() => null);
  if (!c) return null;
  try {
    return (await c.call('tunnels.list')).reduce((n, t) => n + t.control.sent, 0);
  } catch {
    return null;
  } finally {
    c.close();
  }
}

interface Idle {
  seconds: number;
  l2tpdCpuSeconds: number | null;
  percentOfOneCore: number | null;
  /** Control messages l2tpd sent meanwhile: HELLOs (every hello_interval of silence per tunnel). */
  l2tpdControlMessagesSent: number | null;
}

/** l2tpd's CPU (every thread) over a window in which nothing is set up or torn down. */
async function idleCpu(lns: Lns, seconds: number): Promise<Idle> {
  const sent0 = await controlSent(lns.socket);
  const a = readProcCpu(lns.pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const b = readProcCpu(lns.pid);
  const wall = (performance.now() - t0) / 1000;
  const sent1 = await controlSent(lns.socket);
  const cpu = a && b ? Math.round((b.cpuSeconds - a.cpuSeconds) * 1000) / 1000 : null;
  return {
    seconds: Math.round(wall * 10) / 10,
    l2tpdCpuSeconds: cpu,
    percentOfOneCore: cpu === null ? null : Math.round((cpu / wall) * 10000) / 100,
    l2tpdControlMessagesSent: sent0 !== null && sent1 !== null ? sent1 - sent0 : null,
  };
}

interface Drive {
  command: string;
  /** How waiting for the set-ups ended. */
  settled: 'all up' | 'plateau' | 'generator exited' | 'time bound';
  /** l2tpd's count of the marker (sessions or PPP subscribers up) when the bench stopped waiting. */
  upAtL2tpd: number;
  memory: Memory | null;
  idle: Idle | null;
  report: LoadReport;
}

/**
 * Runs l2tp-load against `lns` until l2tpd has logged `marker` for every planned session (or no more come up),
 * measures memory and optionally an idle window, then SIGINTs it (StopCCN, report) and reads its report.
 */
async function drive(lns: Lns, args: string[], o: { json: string; marker: string; planned: number; sizes: LnsLoadSizes; idleSeconds: number }): Promise<Drive> {
  const duration = o.sizes.setupBoundSeconds + o.idleSeconds + 30;
  const argv = [LOAD, ...args, '--setup-timeout', String(SETUP_TIMEOUT_S), '--duration', String(duration), '--target-pid', String(lns.pid), '--json', o.json, '--no-progress'];
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  proc.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const running = () => proc.exitCode === null && proc.signalCode === null;
  try {
    const up = new LogTail(lns.log, o.marker);
    // What a warm-up run logged before this one is not this run's.
    const before = up.poll();
    const t0 = Date.now();
    let settled: Drive['settled'] = 'time bound';
    let last = -1;
    let lastChange = t0;
    for (; Date.now() - t0 < o.sizes.setupBoundSeconds * 1000; await sleep(500)) {
      const n = up.poll() - before;
      if (n >= o.planned) settled = 'all up';
      else if (!running()) settled = 'generator exited';
      else if (n !== last) [last, lastChange] = [n, Date.now()];
      else if (Date.now() - lastChange > PLATEAU_MS) settled = 'plateau';
      if (settled !== 'time bound') break;
    }
    await sleep(SETTLE_MS);
    const memory = procMemory(lns.pid);
    const idle = o.idleSeconds > 0 && running() ? await idleCpu(lns, o.idleSeconds) : null;
    await stopChild(proc, exited, 'SIGINT', 60_000);
    const report = JSON.parse(await readFile(o.json, 'utf8').catch(() => 'null')) as LoadReport | null;
    if (!report) throw new Error(`l2tp-load wrote no report (${commandLine(argv)}): ${out}`);
    return { command: commandLine(argv), settled, upAtL2tpd: up.poll() - before, memory, idle, report };
  } finally {
    await stopChild(proc, exited, 'SIGKILL', 10_000);
  }
}

/**
 * Sets up and clears `sessions` calls (10 tunnels from other source addresses than the measured run's) and
 * waits until l2tp-load has stopped them all: the code paths of a call are optimised before measuring.
 */
async function warmUp(lns: Lns, target: string, n: number, sessions: number, json: string): Promise<{ command: string; established: number }> {
  const tunnels = 10;
  const argv = [LOAD, '--target', target, '--tunnels', String(tunnels), '--sessions-per-tunnel', String(Math.ceil(sessions / tunnels)), '--rate', '100000',
    '--max-outstanding', String(MAX_OUTSTANDING), '--source', `127.0.${150 + n}.201-127.0.${150 + n}.${200 + tunnels}`, '--hold', '1', '--duration', '120', '--json', json, '--no-progress'];
  const proc = spawn(process.execPath, argv, { stdio: 'ignore' });
  const exited = new Promise<unknown>((r) => proc.once('exit', r));
  if ((await within(exited, 150_000)) === 'timeout') await stopChild(proc, exited, 'SIGINT', 30_000);
  const report = JSON.parse(await readFile(json, 'utf8').catch(() => 'null')) as LoadReport | null;
  await sleep(WARM_MS); // its StopCCNs acknowledged, its tunnels freed
  return { command: commandLine(argv), established: report?.calls.established ?? 0 };
}

const latency = (l: LatencySummary) => ({ p50: l.p50, p95: l.p95, p99: l.p99 });

/** What every run reports about its set-up phase. */
function setup(d: Drive) {
  const r = d.report;
  return {
    outcome: r.outcome,
    settled: d.settled,
    sessions: { planned: r.calls.planned, established: r.calls.established, failed: r.calls.failed, inProgressAtEnd: r.calls.inProgressAtEnd, upAtL2tpd: d.upAtL2tpd },
    sustainedPerSecond: r.setupRate.sustained,
    peakPerSecond: r.setupRate.peak,
    windowSeconds: r.setupRate.windowSeconds,
    callLatencyMs: latency(r.latencyMs.call),
    l2tpdSetup: { cpuSeconds: r.cpu.target?.setupCpuSeconds ?? null, sessionsPerCpuSecond: r.cpu.target?.callsPerCpuSecond ?? null, rssMaxBytes: r.cpu.target?.rssMaxBytes ?? null },
    generator: { cpuSeconds: r.cpu.generator.cpuSeconds, maxEventLoopUtilization: r.cpu.generator.maxEventLoopUtilization, warning: r.cpu.warning },
    // This machine is a VM: the hypervisor's steal during the run moves the rates and, most, the latency tail.
    machineSteal: r.cpu.machine ? { seconds: r.cpu.machine.stealSeconds, percent: r.cpu.machine.stealPercent, setupPercent: r.cpu.machine.setupStealPercent } : null,
    retransmits: r.packets.retransmits,
    failures: r.failures.slice(0, 5),
  };
}

/** This machine is a VM: how much of its CPU the hypervisor took while the run's calls were set up. */
const stealNote = (r: { machineSteal: { setupPercent: number | null } | null } | null): string =>
  `hypervisor steal while calls were set up: ${r?.machineSteal?.setupPercent ?? '-'}% of the machine`;

interface Target {
  name: string;
  target: string;
  measured: number | null;
  met: boolean;
  note?: string;
}
const atLeast = (name: string, measured: number | null, min: number, unit: string): Target => ({ name, target: `>= ${min} ${unit}`, measured, met: measured !== null && measured >= min });
const atMost = (name: string, measured: number | null, max: number, unit: string): Target => ({ name, target: `<= ${max} ${unit}`, measured, met: measured !== null && measured <= max });

/** lcp_echo_interval of run 2 (seconds). */
const LCP_ECHO_SECONDS = 30;
const HELLO = 'tunnel_profiles:\n  default:\n    hello_interval: 60s\n';
/** Control plane only: l2tpd leaves PPP to the peer. */
const L2TP_ONLY = `${HELLO}ppp_profiles:\n  default:\n    terminate: false\n`;
const ESTABLISHED = '"msg":"session established"';

interface RunSpec {
  name: string;
  /** l2tpd listens on 127.0.150.N:1701; l2tp-load's sources are 127.0.(150+N).1-100. */
  n: number;
  config: string;
  tunnels: number;
  perTunnel: number;
  rate: number;
  /** l2tpd's log line for one session up. */
  marker?: string;
  idleSeconds?: number;
  /** l2tpd's CPU over this long before the load starts: the idle cost of an l2tpd without tunnels. */
  emptyIdleSeconds?: number;
  /** Warm l2tpd up first (LnsLoadSizes.warmupSessions). */
  warmup?: boolean;
  extraArgs?: string[];
}

interface Ctx {
  dir: string;
  sizes: LnsLoadSizes;
  progress: (line: string) => void;
}

/** One fresh l2tpd, one l2tp-load run against it; l2tpd stopped (by PID) whatever happens. */
async function run({ dir, sizes, progress }: Ctx, s: RunSpec) {
  progress(`  lns-load ${s.name}...\n`);
  const target = `127.0.150.${s.n}`;
  const lns = await startLns(dir, s.name, `${target}:1701`, s.config);
  try {
    const empty = s.emptyIdleSeconds ? await idleCpu(lns, s.emptyIdleSeconds) : await sleep(WARM_MS).then(() => null);
    const warmup = s.warmup && sizes.warmupSessions ? await warmUp(lns, target, s.n, sizes.warmupSessions, path.join(dir, `${s.name}-warmup.json`)) : null;
    const args = ['--target', target, '--tunnels', String(s.tunnels), '--sessions-per-tunnel', String(s.perTunnel), '--rate', String(s.rate),
      '--max-outstanding', String(MAX_OUTSTANDING), '--source', `127.0.${150 + s.n}.1-127.0.${150 + s.n}.${Math.min(s.tunnels, 100)}`, ...(s.extraArgs ?? [])];
    const d = await drive(lns, args, { json: path.join(dir, `${s.name}.json`), marker: s.marker ?? ESTABLISHED, planned: s.tunnels * s.perTunnel, sizes, idleSeconds: s.idleSeconds ?? 0 });
    return { d, empty, out: { load: d.command, ...setup(d), l2tpd: { command: lns.command, config: s.config, baselineRss: lns.baseline }, warmup } };
  } finally {
    await lns.stop();
  }
}

/** Writes the charts into `dir` (created); their paths, relative to the checkout when inside it. */
async function writeCharts(dir: string, charts: ChartFile[]): Promise<string[]> {
  const abs = path.resolve(dir);
  await mkdir(abs, { recursive: true });
  const written: string[] = [];
  for (const c of charts) {
    const file = path.join(abs, c.file);
    await writeFile(file, c.svg);
    written.push(file.startsWith(ROOT + path.sep) ? path.relative(ROOT, file) : file);
  }
  return written;
}

export async function runLnsLoadBench(
  sizes: LnsLoadSizes = sizesFromEnv(),
  progress = (line: string) => void process.stderr.write(line),
  chartsDir: string | undefined = process.env['BENCH_LOAD_CHARTS'] || undefined,
): Promise<unknown> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-lns-load-'));
  const ctx = { dir, sizes, progress };
  try {
    const { rateTunnels: tunnels, rateSessionsPerTunnel: perTunnel } = sizes;
    // 1. Set-up rate without PPP, offered faster than l2tpd can go (the bound is --max-outstanding).
    const rateRun = await run(ctx, { name: 'rate', n: 1, config: L2TP_ONLY, tunnels, perTunnel, rate: 100_000, warmup: true });
    const rate = rateRun.out;

    // 3. Call set-up latency at half that rate, l2tpd's defaults (the ICCN's ack waits ack_delay_unanswered, 20 ms);
    // and the same with ack_delay 0, so that answered messages (ICRQ) wait for nothing either (RFC 2661 §5.8).
    const half = rate.sustainedPerSecond ? Math.max(1, Math.round(rate.sustainedPerSecond / 2)) : null;
    // Latency of an LNS in service: the calls start once the 100 tunnels are up (--calls-after-tunnels), not while
    // l2tpd is still bringing them up (that burst is run 1's).
    const inService = ['--calls-after-tunnels'];
    const halfRun = half === null ? null : await run(ctx, { name: 'half-rate', n: 2, config: L2TP_ONLY, tunnels, perTunnel, rate: half, warmup: true, extraArgs: inService });
    const halfRate = half === null || !halfRun ? null : { rate: half, ...halfRun.out };
    const noDelay = L2TP_ONLY.replace('hello_interval: 60s\n', 'hello_interval: 60s\n    ack_delay: 0ms\n');
    const halfAck0Run = half === null ? null : await run(ctx, { name: 'half-rate-ack-delay-0', n: 3, config: noDelay, tunnels, perTunnel, rate: half, warmup: true, extraArgs: inService });
    const halfRateAck0 = half === null || !halfAck0Run ? null : { rate: half, ...halfAck0Run.out };

    // 2. With PPP: LCP + PAP + IPCP, users from a local file, addresses from a pool; then idle with LCP echoes.
    const pppPlanned = sizes.pppTunnels * sizes.pppSessionsPerTunnel;
    const users = path.join(dir, 'users');
    await writeFile(users, Array.from({ length: pppPlanned }, (_, n) => `user${n}@realm pw${n}\n`).join(''), { mode: 0o600 });
    const prefix = pppPlanned < 60_000 ? '100.64.0.0/16' : '100.64.0.0/10';
    const pppConfig = `${HELLO}ppp_profiles:\n  default:\n    auth: [pap, chap]\n    aaa: local\n    pool: subscribers\n    lcp_echo_interval: ${LCP_ECHO_SECONDS}s\npools:\n  subscribers:\n    ipv4: ["${prefix}"]\naaa:\n  local_users: ${users}\n`;
    const ppp = await run(ctx, {
      name: 'ppp', n: 4, config: pppConfig, tunnels: sizes.pppTunnels, perTunnel: sizes.pppSessionsPerTunnel, rate: sizes.pppRate,
      marker: '"msg":"ppp up"', idleSeconds: sizes.idleSeconds, extraArgs: ['--ppp', '--auth', 'pap', '--user', 'user{n}@realm', '--password', 'pw{n}'],
    });
    const l = ppp.d.report.latencyMs;
    const withPpp = {
      ...ppp.out,
      phasesMs: { lcp: latency(l.lcp), auth: latency(l.auth), ipcp: latency(l.ipcp) },
      idle: ppp.d.idle && { ...ppp.d.idle, sessions: ppp.d.report.calls.established, lcpEchoRequestsAnswered: ppp.d.report.ppp?.lcpEchoRequestsAnswered ?? null },
    };

    // 4 and 5. Sessions held (no PPP), RSS, then l2tpd's CPU while they sit idle.
    const h = await run(ctx, {
      name: 'held', n: 5, config: L2TP_ONLY, tunnels: sizes.heldTunnels, perTunnel: sizes.heldSessionsPerTunnel, rate: 100_000,
      idleSeconds: sizes.idleSeconds, emptyIdleSeconds: Math.min(10, sizes.idleSeconds),
    });
    const n = h.d.report.calls.established;
    const base = h.out.l2tpd.baselineRss?.rssBytes ?? null;
    const perSession = h.d.memory && base !== null && n > 0 ? Math.round((h.d.memory.rssBytes - base) / n) : null;
    const at1M = perSession !== null && base !== null ? base + perSession * 1_000_000 : null;
    const held = {
      tunnels: sizes.heldTunnels,
      sessionsPerTunnel: sizes.heldSessionsPerTunnel,
      ...h.out,
      rss: { baselineBytes: base, heldBytes: h.d.memory?.rssBytes ?? null, hwmBytes: h.d.memory?.hwmBytes ?? null, bytesPerSession: perSession },
      extrapolationTo1M: { what: 'an extrapolation, not a measurement: baseline RSS + (held RSS - baseline) / sessions × 1,000,000', rssBytes: at1M, rssGiB: at1M === null ? null : Math.round((at1M / GIB) * 100) / 100 },
      idle: h.d.idle && { ...h.d.idle, sessions: n },
      idleWithoutTunnels: h.empty,
    };

    // Target 5 is for 1M PPP subscribers; run 2 holds fewer (PPP set-up here runs at ~1,500/s and both processes
    // would need ~10 KB per subscriber): the note gives the measurement, the cost per echo and the extrapolation.
    const pppIdle = withPpp.idle;
    const basePercent = h.empty?.percentOfOneCore ?? null;
    const subscribers = pppIdle?.sessions ?? 0;
    const echoesPerSecond = subscribers / LCP_ECHO_SECONDS;
    const perEchoUs = pppIdle?.percentOfOneCore != null && basePercent !== null && echoesPerSecond > 0
      ? Math.round(((pppIdle.percentOfOneCore - basePercent) / 100 / echoesPerSecond) * 1e6 * 10) / 10 : null;
    const idleAt1M = perEchoUs !== null && basePercent !== null ? Math.round((basePercent + (perEchoUs * 1e6 / LCP_ECHO_SECONDS) / 1e4) * 10) / 10 : null;
    const idlePpp = { subscribers, echoRequestsPerSecond: Math.round(echoesPerSecond), percentOfOneCore: pppIdle?.percentOfOneCore ?? null, emptyL2tpdPercent: basePercent, cpuMicrosecondsPerEcho: perEchoUs,
      extrapolationTo1M: { what: 'an extrapolation, not a measurement: empty l2tpd + cost per echo × 1,000,000 / 30 s', percentOfOneCore: idleAt1M } };

    const targets: Target[] = [
      { ...atLeast('1. sustained set-up rate without PPP', rate.sustainedPerSecond, 18_000, 'sessions/s'), note: stealNote(rate) },
      atLeast('1. sessions per l2tpd CPU-second without PPP', rate.l2tpdSetup.sessionsPerCpuSecond, 10_000, 'sessions'),
      { ...atLeast('2. sustained set-up rate with PPP (LCP + PAP + IPCP)', withPpp.sustainedPerSecond, 5_000, 'sessions/s'), note: stealNote(withPpp) },
      {
        ...atMost('3. call set-up p99 at 50% of the sustained rate without PPP', halfRate?.callLatencyMs.p99 ?? null, 50, 'ms'),
        note: `l2tpd's defaults (ack_delay 100 ms, ack_delay_unanswered 20 ms); with ack_delay 0: p99 ${halfRateAck0?.callLatencyMs.p99 ?? '-'} ms (latencyAtHalfRateAckDelay0); ${stealNote(halfRate)}`,
      },
      {
        ...atMost('4. 1,000,000 sessions held with l2tpd RSS', n >= 1_000_000 ? held.rss.hwmBytes : null, 4 * GIB, 'bytes'),
        ...(n < 1_000_000 ? { note: `not measured at 1,000,000: ${n} held (BENCH_LOAD_TUNNELS × BENCH_LOAD_SESSIONS_PER_TUNNEL); the extrapolation says ${held.extrapolationTo1M.rssGiB} GiB` } : {}),
      },
      {
        ...atMost('5. l2tpd CPU idle at 1,000,000 PPP subscribers, LCP echo every 30 s and HELLO every 60 s', subscribers >= 1_000_000 ? idlePpp.percentOfOneCore : null, 25, '% of one core'),
        note: `measured with ${subscribers} subscribers (run 2): ${idlePpp.percentOfOneCore ?? '-'}% of one core (empty l2tpd ${basePercent ?? '-'}%), ${perEchoUs ?? '-'} µs of l2tpd CPU per echo (request sent, reply taken); at 1,000,000 that extrapolates to ${idleAt1M ?? '-'}% (idlePpp)`,
      },
    ];
    const conditions = [
      `l2tpd: null data plane, 2 shard workers, log level info to a file; l2tp-load: 1 worker; both on this machine, a fresh l2tpd per run, left alone 3 s (10 s in run 4) before the load; runs 1 and 3 first warm it up with ${sizes.warmupSessions ?? 0} calls set up and cleared (10 other tunnels)`,
      `runs 1 and 3: ${tunnels} tunnels × ${perTunnel} sessions, ppp_profiles.default.terminate: false, no teardown during set-up (StopCCN at the end); run 3's calls start once its tunnels are up (--calls-after-tunnels)`,
      `run 2: ${sizes.pppTunnels} × ${sizes.pppSessionsPerTunnel} PPP subscribers, --rate ${sizes.pppRate}; idle ${sizes.idleSeconds} s with lcp_echo_interval ${LCP_ECHO_SECONDS}s and hello_interval 60s (target 5 is measured here, at this size)`,
      `runs 4 and 5: ${sizes.heldTunnels} × ${sizes.heldSessionsPerTunnel} sessions WITHOUT PPP (PPP set-up is several times slower than L2TP alone, too slow for that scale here): idle ${sizes.idleSeconds} s with hello_interval 60s, no LCP echo`,
    ];
    // Drawn from the reports in memory: the temporary directory that holds their files goes below.
    const runs = { rate: rateRun.d.report, halfRate: halfRun?.d.report, halfRateAckDelay0: halfAck0Run?.d.report, ppp: ppp.d.report, held: h.d.report };
    const charts = chartsDir ? await writeCharts(chartsDir, lnsLoadCharts(runs)) : null;
    return { conditions, targets, withoutPpp: rate, withPpp, idlePpp, latencyAtHalfRate: halfRate, latencyAtHalfRateAckDelay0: halfRateAck0, held, ...(charts ? { charts } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
