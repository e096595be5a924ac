/**
 * Real `l2tpd` processes for tests: the built daemon (dist/, built by `npm test` before vitest) on
 * a loopback address of the test's own, with its management socket in a temp dir, driven through
 * the real `l2tpctl --json`. Stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach } from 'vitest';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, type TempDir } from './tmp.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const L2TPD = path.join(ROOT, 'dist/src/daemon/l2tpd.js');
export const L2TPCTL = path.join(ROOT, 'dist/src/cli/l2tpctl.js');

export function requireBuild(): void {
  if (!existsSync(L2TPD) || !existsSync(L2TPCTL)) {
    throw new Error(`the daemon is not built (${L2TPD}); run the tests with "npm test", which builds first`);
  }
}

export interface DaemonProc {
  dir: TempDir;
  proc: ChildProcess;
  socket: string;
  logs(): string;
  /** Parsed JSON log lines. */
  logLines(): Record<string, unknown>[];
  ctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** `l2tpctl --json ...` parsed; throws when the command fails. */
  json<T = unknown>(...args: string[]): Promise<T>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface DaemonStart {
  listen?: string;
  config?: string;
  workers?: number;
  extraArgs?: string[];
}

export async function startDaemon(o: DaemonStart): Promise<DaemonProc> {
  requireBuild();
  const dir = await makeTempDir('l2tpd-');
  const socket = dir.file('mgmt.sock');
  const args = [L2TPD, '--mgmt-socket', socket, '--dataplane', 'null', '--workers', String(o.workers ?? 2)];
  if (o.listen) args.push('--listen', o.listen);
  if (o.config !== undefined) {
    writeFileSync(dir.file('l2tpd.yaml'), o.config);
    args.push('--config', dir.file('l2tpd.yaml'));
  }
  args.push(...(o.extraArgs ?? []));
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const ctl = (...a: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [L2TPCTL, '--mgmt-socket', socket, ...a], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      c.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      c.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  const started = Date.now();
  while (!/"l2tpd started"/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`l2tpd exited (${proc.exitCode}): ${out}`);
    if (Date.now() - started > 15_000) throw new Error(`l2tpd did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    dir,
    proc,
    socket,
    logs: () => out,
    logLines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    ctl,
    async json<T>(...a: string[]): Promise<T> {
      const r = await ctl('--json', ...a);
      if (r.code !== 0) throw new Error(`l2tpctl ${a.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
      return JSON.parse(r.stdout) as T;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null) {
        proc.kill(signal);
        const t0 = Date.now();
        while (proc.exitCode === null && proc.signalCode === null && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 25));
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      }
      await dir.cleanup();
      return proc.exitCode;
    },
  };
}

export async function until<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * For a test file whose tests start daemons: `start` runs one (null data plane) and registers it to be
 * stopped after the test, last started first; `onCleanup` registers anything else to stop with them.
 */
export function daemonsPerTest(): { start(listen: string, config: string): Promise<DaemonProc>; onCleanup(stop: () => Promise<unknown>): void } {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });
  return {
    async start(listen, config) {
      const d = await startDaemon({ listen, config });
      stops.push(() => d.stop());
      return d;
    },
    onCleanup: (stop) => void stops.push(stop),
  };
}
