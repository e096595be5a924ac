/**
 * xl2tpd (a real L2TPv2 LAC/LNS from Debian) as a test peer: one instance per role with its own
 * config, secrets, pid file and control FIFO in a temp dir. Stopped by PID, never by name.
 * On these hosts pppd cannot run (no /dev/ppp): after ICCN xl2tpd's pppd exits and a CDN follows
 * (shared/reference/peers.md) — tests assert the session came up first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { findExecutable } from './sysdeps.js';
import { makeTempDir, type TempDir } from './tmp.js';

export interface Xl2tpd {
  dir: TempDir;
  proc: ChildProcess;
  /** Everything xl2tpd logged so far. */
  log(): string;
  /** Write a command to the control FIFO, e.g. `c t1` (dial) or `d t1` (hang up). */
  control(cmd: string): Promise<void>;
  stop(): Promise<void>;
}

export interface Xl2tpdLac {
  name: string;
  lns: string;
  port?: number;
  hostname: string;
  challenge?: boolean;
  redial?: boolean;
}

export interface Xl2tpdOptions {
  listenAddr: string;
  port?: number;
  lacs?: Xl2tpdLac[];
  lns?: { hostname: string; challenge?: boolean; ipRange?: string; localIp?: string; accessControl?: boolean };
  /** `* * secret` line for challenge authentication. */
  secret?: string;
  helloInterval?: number;
}

export async function startXl2tpd(o: Xl2tpdOptions): Promise<Xl2tpd> {
  const bin = findExecutable('xl2tpd');
  if (!bin) throw new Error('xl2tpd is not installed (the test set-up should have installed it)');
  const dir = await makeTempDir('xl2tpd-');
  mkdirSync('/var/run/xl2tpd', { recursive: true });
  writeFileSync(dir.file('options'), 'noauth\nnodefaultroute\n');
  const lines = ['[global]', `listen-addr = ${o.listenAddr}`, `port = ${o.port ?? 1701}`, 'access control = no', 'debug avp = yes', 'debug state = yes', 'debug tunnel = yes'];
  for (const lac of o.lacs ?? []) {
    lines.push(`[lac ${lac.name}]`, `lns = ${lac.lns}`, `hostname = ${lac.hostname}`, 'length bit = yes', 'autodial = no', `redial = ${lac.redial ? 'yes' : 'no'}`);
    lines.push(`pppoptfile = ${dir.file('options')}`, `challenge = ${lac.challenge ? 'yes' : 'no'}`, 'require authentication = no');
    if (o.helloInterval !== undefined) lines.push(`hello = ${o.helloInterval}`);
  }
  if (o.lns) {
    lines.push('[lns default]', `ip range = ${o.lns.ipRange ?? '198.18.1.10-198.18.1.20'}`, `local ip = ${o.lns.localIp ?? '198.18.1.1'}`);
    lines.push(`hostname = ${o.lns.hostname}`, 'length bit = yes', 'require authentication = no', `challenge = ${o.lns.challenge ? 'yes' : 'no'}`);
    lines.push(`pppoptfile = ${dir.file('options')}`);
    if (o.helloInterval !== undefined) lines.push(`hello = ${o.helloInterval}`);
  }
  writeFileSync(dir.file('xl2tpd.conf'), lines.join('\n') + '\n');
  writeFileSync(dir.file('secrets'), o.secret ? `* * ${o.secret}\n` : '', { mode: 0o600 });
  const fifo = dir.file('control');
  const proc = spawn(bin, ['-D', '-c', dir.file('xl2tpd.conf'), '-s', dir.file('secrets'), '-p', dir.file('pid'), '-C', fifo], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const started = Date.now();
  while (!/Listening on IP address/.test(out)) {
    if (proc.exitCode !== null) throw new Error(`xl2tpd exited (${proc.exitCode}): ${out}`);
    if (Date.now() - started > 5000) throw new Error(`xl2tpd did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    dir,
    proc,
    log: () => out,
    control: (cmd) => appendFile(fifo, `${cmd}\n`),
    async stop() {
      if (proc.exitCode === null && proc.pid !== undefined) {
        proc.kill('SIGTERM');
        const t0 = Date.now();
        while (proc.exitCode === null && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      await dir.cleanup();
    },
  };
}
