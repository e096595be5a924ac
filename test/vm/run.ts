/**
 * Runs a shell script as root inside a qemu VM booting Debian's kernel, which has the L2TP and PPP modules the
 * hosts lack. The VM's root is the host's / (9p, read-only, tmpfs overlay on top); a fresh out dir is the only
 * writable share, at the same path inside and out. See test/vm/README.md.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findExecutable } from '../support/sysdeps.js';
import { PROJECT_ROOT, prepareVmAssets } from './assets.js';

export interface VmRunOptions {
  /** qemu is killed (by PID) after this long; the result then has rc 99 and `timedOut`. Default 120 s. */
  timeoutMs?: number;
  /** Extra environment for the script (it also gets PROJECT, OUT, and PATH starting with this node's folder). */
  env?: Record<string, string>;
  /** Guest memory, default 1024 MiB. */
  memMb?: number;
  /** Guest CPUs, default 1 (boots fastest); more only for a test that is itself parallel. */
  smp?: number;
}

export interface VmRunResult {
  /** The script's exit status, from `VMTEST_RC=` on the console; 99 when none was printed (crash, timeout). */
  rc: number;
  /** Everything qemu printed: the serial console (kernel, init, the script's stdout and stderr). */
  console: string;
  /** The writable share, kept for the caller to inspect; also holds console.log. */
  outDir: string;
  timedOut: boolean;
  /** Wall-clock time from starting qemu to its exit. */
  durationMs: number;
}

/** The rc reported when the VM printed no status: as vmrun.sh in the recipe this harness comes from. */
export const NO_STATUS_RC = 99;

/** Boots the VM, runs `script` (an absolute path on the host) inside, and resolves once qemu has exited. */
export async function runInVm(script: string, opts: VmRunOptions = {}): Promise<VmRunResult> {
  if (!path.isAbsolute(script)) throw new Error(`runInVm: the script path must be absolute: ${script}`);
  if (!existsSync(script)) throw new Error(`runInVm: no such script: ${script}`);
  const assets = await prepareVmAssets();
  const qemu = findExecutable('qemu-system-x86_64');
  if (!qemu) throw new Error('runInVm: qemu-system-x86_64 is missing (package qemu-system-x86)');
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'l2tpd-vm-'));
  // Kernel command-line words end at a space, and qemu's -virtfs options at a comma.
  if (/[\s,"]/.test(outDir)) throw new Error(`runInVm: the out dir path may not contain spaces, commas or quotes: ${outDir}`);
  const wrapper = path.join(outDir, 'vmtest-run.sh');
  await writeFile(wrapper, wrapperScript(script, outDir, opts.env ?? {}), { mode: 0o755 });

  const smp = opts.smp ?? 1;
  const args = [
    '-accel', smp > 1 ? 'tcg,thread=multi' : 'tcg', // never KVM: -enable-kvm hangs on these hosts
    '-cpu', 'max', '-m', String(opts.memMb ?? 1024), '-smp', String(smp),
    '-kernel', assets.kernel, '-initrd', assets.initrd,
    // mitigations=off: nothing to protect in a throwaway VM, and patching them in costs boot time under TCG.
    '-append', `console=ttyS0 quiet panic=-1 mitigations=off VMSCRIPT=${wrapper} VMOUT=${outDir}`,
    '-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs', `local,path=${outDir},mount_tag=out,security_model=none,multidevs=remap`,
    '-device', 'virtio-rng-pci',
    '-nographic', '-no-reboot', '-nic', 'none',
  ];
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const started = Date.now();
  const child = spawn(qemu, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [];
  const echo = process.env['VMTEST_CONSOLE'] === '1'; // watch a VM live: VMTEST_CONSOLE=1 npx vitest run test/vm
  const collect = (d: Buffer): void => {
    chunks.push(d.toString());
    if (echo) process.stderr.write(d);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  // Never leave a VM behind, whether it hangs or this process exits first.
  const killVm = (): void => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  };
  process.once('exit', killVm);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killVm();
  }, timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('error', (e) => reject(new Error(`runInVm: cannot start ${qemu}: ${e.message}`)));
      child.once('close', () => resolve());
    });
  } finally {
    clearTimeout(timer);
    process.removeListener('exit', killVm);
  }
  const durationMs = Date.now() - started;
  if (timedOut) chunks.push(`\nVMTEST: the host killed qemu (pid ${child.pid}) after ${timeoutMs} ms\n`);
  const consoleLog = chunks.join('').replace(/\r\n/g, '\n');
  await writeFile(path.join(outDir, 'console.log'), consoleLog);
  return { rc: timedOut ? NO_STATUS_RC : exitStatus(consoleLog), console: consoleLog, outDir, timedOut, durationMs };
}

/** The last `VMTEST_RC=<n>` init printed (not anchored: a script's last line may lack its newline). */
function exitStatus(consoleLog: string): number {
  const all = [...consoleLog.matchAll(/VMTEST_RC=(\d+)/g)];
  const last = all.at(-1)?.[1];
  return last === undefined ? NO_STATUS_RC : Number(last);
}

/**
 * init runs the script under `env -i`, and the kernel command line cannot carry values with spaces, so the
 * environment travels in this wrapper, written into the out dir (the one share the VM sees as written by the host).
 */
function wrapperScript(script: string, outDir: string, env: Record<string, string>): string {
  const vars: Record<string, string> = {
    PROJECT: PROJECT_ROOT,
    OUT: outDir,
    ...env,
  };
  const lines = ['#!/bin/sh', '# written by test/vm/run.ts'];
  for (const [name, value] of Object.entries(vars)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`runInVm: not a valid environment variable name: ${name}`);
    lines.push(`export ${name}=${shellQuote(value)}`);
  }
  // The node that runs the tests (the project's, from the npm `node` package) comes first, ahead of the host's.
  lines.push(`export PATH=${shellQuote(path.dirname(process.execPath))}:"$PATH"`);
  lines.push(`cd ${shellQuote(PROJECT_ROOT)}`);
  lines.push(`if [ -x ${shellQuote(script)} ]; then exec ${shellQuote(script)}; fi`);
  lines.push(`exec /bin/sh ${shellQuote(script)}`);
  return lines.join('\n') + '\n';
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
