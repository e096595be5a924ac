/**
 * System (Debian) packages the tests need: tshark, xl2tpd, later redis-server, freeradius...
 *
 * CI machines start fresh, so the test run installs what is missing itself (as root, with apt-get). It never skips
 * a test silently: when a binary cannot be had, it throws and says which one and how to install it.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export interface DebianDependency {
  /** Debian package name, e.g. `tshark`. */
  pkg: string;
  /** A binary the package provides, looked up on PATH (and in the sbin directories), e.g. `tshark`. */
  bin: string;
}

/** Packages whose postinst asks whether non-root users may capture; answer "no" up front so apt never prompts. */
const WIRESHARK_PACKAGES = new Set(['tshark', 'wireshark', 'wireshark-common', 'wireshark-qt']);
const WIRESHARK_PRESEED = 'wireshark-common wireshark-common/install-setuid boolean false\n';

/**
 * Directories searched after PATH: Debian puts daemons (xl2tpd, freeradius) in /usr/sbin, which is not on a
 * non-root user's PATH.
 */
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** Absolute path of an executable named `bin`, or undefined. */
export function findExecutable(bin: string): string | undefined {
  if (bin.includes('/')) return isExecutable(bin) ? bin : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, bin);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

let aptUpdated: Promise<void> | undefined;
/** Serialises installs within this process (dpkg takes a lock anyway; this gives clear errors instead). */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Makes sure every `bin` is available, installing the missing packages with apt-get when running as root.
 * Resolves to the absolute path of each binary. Throws naming the missing binaries, their packages and the
 * command that installs them.
 */
export function ensureDebianPackages(
  deps: readonly DebianDependency[],
  opts: { /** Set false to only check (what a non-root run does). */ install?: boolean } = {},
): Promise<Record<string, string>> {
  const run = queue.then(() => ensure(deps, opts.install ?? true));
  queue = run.catch(() => undefined);
  return run;
}

async function ensure(deps: readonly DebianDependency[], install: boolean): Promise<Record<string, string>> {
  let missing = deps.filter((d) => !findExecutable(d.bin));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((d) => d.pkg))];
    if (!install) throw missingError(missing, 'automatic installation is off');
    if (!isRoot()) throw missingError(missing, 'not running as root, so they cannot be installed automatically');
    try {
      aptUpdated ??= runCommand('apt-get', ['update'], { DEBIAN_FRONTEND: 'noninteractive' }).catch((e: unknown) => {
        aptUpdated = undefined; // let a later call retry
        throw e;
      });
      await aptUpdated;
      if (pkgs.some((p) => WIRESHARK_PACKAGES.has(p))) {
        await runCommand('debconf-set-selections', [], {}, WIRESHARK_PRESEED);
      }
      await runCommand('apt-get', ['install', '-y', ...pkgs], { DEBIAN_FRONTEND: 'noninteractive' });
    } catch (e) {
      throw missingError(missing, `installing failed: ${(e as Error).message}`);
    }
    missing = missing.filter((d) => !findExecutable(d.bin));
    if (missing.length > 0) throw missingError(missing, 'still missing after apt-get install');
  }
  const found: Record<string, string> = {};
  for (const d of deps) found[d.bin] = findExecutable(d.bin)!;
  return found;
}

function installCommand(pkgs: string[]): string {
  const sudo = isRoot() ? '' : 'sudo ';
  const preseed = pkgs.some((p) => WIRESHARK_PACKAGES.has(p))
    ? `echo "${WIRESHARK_PRESEED.trim()}" | ${sudo}debconf-set-selections && `
    : '';
  return `${sudo}apt-get update && ${preseed}${sudo}env DEBIAN_FRONTEND=noninteractive apt-get install -y ${pkgs.join(' ')}`;
}

function missingError(missing: readonly DebianDependency[], why: string): Error {
  const pkgs = [...new Set(missing.map((d) => d.pkg))];
  const list = missing.map((d) => `${d.bin} (package ${d.pkg})`).join(', ');
  return new Error(`Missing system dependencies: ${list}; ${why}.\nInstall them with:\n  ${installCommand(pkgs)}`);
}

/** Runs a command to completion; rejects with its exit code and the tail of its output. */
function runCommand(cmd: string, args: string[], env: Record<string, string>, stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer): void => {
      output = (output + d.toString()).slice(-3000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}:\n${output.trim()}`));
    });
    child.stdin.on('error', () => undefined); // EPIPE when the command exits without reading: its exit code tells
    child.stdin.end(stdin ?? '');
  });
}
