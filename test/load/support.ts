/**
 * Runs the built l2tp-load (dist/, built by `npm test` before vitest) as a real process, as an
 * operator would, and reads back the JSON report it wrote.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadReport } from '../../load/report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const L2TP_LOAD = path.join(ROOT, 'dist/load/l2tp-load.js');

export interface LoadRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  report: LoadReport | undefined;
}

export interface RunOptions {
  /** Where the JSON report goes (read back into `report`). */
  json?: string;
  /** Send this signal once stdout/stderr or the clock says so. */
  signal?: { name: NodeJS.Signals; when: (out: string, elapsedMs: number) => boolean };
  /** Called every 100 ms while the process runs (e.g. to look at the LNS meanwhile). */
  during?: () => Promise<void>;
  timeoutMs?: number;
}

export function runL2tpLoad(args: string[], o: RunOptions = {}): Promise<LoadRun> {
  if (!existsSync(L2TP_LOAD)) throw new Error(`l2tp-load is not built (${L2TP_LOAD}); run the tests with "npm test"`);
  const full = [L2TP_LOAD, ...args, ...(o.json ? ['--json', o.json] : [])];
  const p = spawn(process.execPath, full, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const t0 = Date.now();
  let signalled = false;
  let probing: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (o.signal && !signalled && o.signal.when(stdout + stderr, Date.now() - t0)) {
      signalled = true;
      p.kill(o.signal.name);
    }
    if (o.during && !probing) {
      // A probe may fail while the peer is being stopped: that probe then simply saw nothing.
      probing = o.during().catch(() => undefined).finally(() => (probing = null));
    }
  }, 100);
  const kill = setTimeout(() => p.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  return new Promise((resolve) => {
    p.on('close', async (code, signal) => {
      clearInterval(timer);
      clearTimeout(kill);
      await probing;
      const report = o.json && existsSync(o.json) ? (JSON.parse(readFileSync(o.json, 'utf8')) as LoadReport) : undefined;
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, report });
    });
  });
}
