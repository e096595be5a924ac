/**
 * The kernel and initramfs the VM harness boots, cached under `<project>/.cache/vm/`.
 *
 * The hosts run a kernel without L2TP and PPP, so kernel data-plane tests boot Debian's own kernel (which has them as
 * modules) under qemu. This file fetches that kernel with apt, unpacks it, and builds a tiny initramfs: busybox-static,
 * the modules below in dependency order, and `init` (next to this file).
 *
 * Caching: `kernel-<version>/` (vmlinuz + the depmod'ed module tree) and `initrd-<version>-<hash>.gz`, where the hash
 * covers `init`, the module list and busybox. Both are built in a private temporary name and renamed into place, so
 * two processes preparing at once both succeed (the loser's copy is thrown away) and nobody sees half a file.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { ensureDebianPackages, findExecutable, type DebianDependency } from '../support/sysdeps.js';
import { extractPvhVmlinux, isStaticElf } from './elf.js';

/** The checkout: the nearest folder above this file with a package.json (this file also runs compiled, from dist/). */
export const PROJECT_ROOT = projectRoot(path.dirname(fileURLToPath(import.meta.url)));
function projectRoot(from: string): string {
  for (let d = from; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'package.json')) && existsSync(path.join(d, 'test', 'vm', 'init'))) return d;
    if (path.dirname(d) === d) throw new Error(`test/vm: no project root above ${from}`);
  }
}
export const VM_CACHE_DIR = path.join(PROJECT_ROOT, '.cache', 'vm');
const INIT_SCRIPT = path.join(PROJECT_ROOT, 'test', 'vm', 'init');

/**
 * Debian packages the VM tests need on the host. qemu, busybox and kmod build and boot the VM; pppd and ip are not
 * used by the harness itself but by the scripts inside it, which run from the host's root file system.
 */
export const VM_SYSTEM_DEPENDENCIES: readonly DebianDependency[] = [
  { pkg: 'qemu-system-x86', bin: 'qemu-system-x86_64' },
  // Statically linked: the initramfs has no C library. busybox-static replaces the dynamic `busybox` package.
  { pkg: 'busybox-static', bin: 'busybox' },
  { pkg: 'kmod', bin: 'depmod' },
  { pkg: 'kmod', bin: 'modprobe' },
  { pkg: 'xz-utils', bin: 'xz' }, // unpacks the kernel for a faster boot (elf.ts)
  { pkg: 'ppp', bin: 'pppd' },
  { pkg: 'iproute2', bin: 'ip' },
];

/**
 * Modules loaded at boot, before the script runs (their dependencies are added in order). 9p and overlay mount the
 * host root; virtio_rng feeds the entropy pool (node blocks without it); veth joins namespaces; bridge takes
 * Ethernet pseudowires by config (ethernet_profiles.bridge); 8021q makes the VLAN interfaces of Ethernet-VLAN
 * pseudowires (the VM has no modprobe for the kernel to load it on demand); the rest is the L2TP
 * and PPP data plane under test.
 */
export const VM_MODULES: readonly string[] = [
  'virtio_pci', '9pnet_virtio', '9p', 'overlay', 'virtio_rng', 'veth', 'bridge', '8021q',
  'l2tp_netlink', 'l2tp_eth', 'l2tp_ip', 'l2tp_ip6', 'l2tp_ppp',
  'ppp_async', 'ppp_deflate', 'ppp_mppe', 'tun',
];

/** busybox applets linked in the initramfs: what `init` uses. */
const INITRD_APPLETS = ['sh', 'mount', 'umount', 'insmod', 'mkdir', 'echo', 'cat', 'poweroff', 'sleep', 'ls', 'chroot', 'mknod', 'ln', 'cp', 'touch', 'sync'];

/** Bump when the way assets are built changes in a way the hash inputs do not show. */
const BUILD_FORMAT = 1;

export interface VmAssets {
  /** Debian kernel release, e.g. `6.1.0-56-amd64`. */
  kernelVersion: string;
  /** What qemu's -kernel boots: the uncompressed PVH vmlinux when it could be extracted, else the bzImage. */
  kernel: string;
  initrd: string;
  /** The kernel's module tree root (holds lib/modules/<version>), for `modprobe -d`. */
  moduleRoot: string;
}

export class VmAssetsError extends Error {
  override name = 'VmAssetsError';
}

class KernelDownloadError extends VmAssetsError {
  override name = 'KernelDownloadError';
}

let prepared: Promise<VmAssets> | undefined;

/** Downloads the kernel and builds the initramfs when they are not cached yet; cheap afterwards. */
export function prepareVmAssets(): Promise<VmAssets> {
  prepared ??= prepare().catch((e: unknown) => {
    prepared = undefined; // a later call may retry (after apt-get update, a fixed network...)
    throw e;
  });
  return prepared;
}

async function prepare(): Promise<VmAssets> {
  await ensureDebianPackages(VM_SYSTEM_DEPENDENCIES, { install: false }).catch((e: unknown) => {
    throw new VmAssetsError(`The kernel VM harness cannot run. ${(e as Error).message}`);
  });
  const busybox = findExecutable('busybox')!;
  if (!(await isStaticElf(busybox))) {
    throw new VmAssetsError(`${busybox} is dynamically linked, so it cannot run in the initramfs; install busybox-static (it replaces busybox).`);
  }
  await mkdir(VM_CACHE_DIR, { recursive: true });
  await removeAbandonedTemporaries();
  let kernelVersion = await debianKernelVersion();
  let kernelDir: string;
  try {
    kernelDir = await ensureKernel(kernelVersion);
  } catch (e) {
    if (!(e instanceof KernelDownloadError) || !isRoot()) throw e;
    await aptGetUpdate(); // stale package lists name a release the mirror has dropped since
    kernelVersion = await debianKernelVersion();
    kernelDir = await ensureKernel(kernelVersion);
  }
  const kernel = await ensureVmlinux(kernelDir);
  const moduleRoot = path.join(kernelDir, 'modroot');
  const initrd = await ensureInitrd(kernelVersion, moduleRoot, busybox);
  return { kernelVersion, kernel, initrd, moduleRoot };
}

/** The release that Debian's `linux-image-amd64` metapackage currently points at. */
async function debianKernelVersion(): Promise<string> {
  const ask = async (): Promise<string | undefined> => {
    const out = await run('apt-cache', ['depends', 'linux-image-amd64']).catch(() => '');
    return /Depends:\s*linux-image-(\d\S*-amd64)\b/.exec(out)?.[1];
  };
  let version = await ask();
  if (!version && isRoot()) {
    await aptGetUpdate(); // a fresh machine has no package lists yet
    version = await ask();
  }
  if (!version) {
    throw new VmAssetsError('Cannot tell which Debian kernel to boot: `apt-cache depends linux-image-amd64` names no linux-image-<version>-amd64 (run `apt-get update`; the harness needs Debian package sources).');
  }
  return version;
}

/** `kernel-<version>/` with vmlinuz and modroot/lib/modules/<version> (depmod'ed). */
async function ensureKernel(version: string): Promise<string> {
  const dir = path.join(VM_CACHE_DIR, `kernel-${version}`);
  if (existsSync(dir)) return dir;
  const pkg = `linux-image-${version}`;
  process.stderr.write(`VM harness: downloading and unpacking ${pkg} into ${dir}\n`);
  const tmp = await mkdtemp(path.join(VM_CACHE_DIR, '.tmp-kernel-'));
  try {
    await run('apt-get', ['download', pkg], { cwd: tmp, timeoutMs: 600_000 }).catch((e: unknown) => {
      throw new KernelDownloadError(`apt-get download ${pkg} failed: ${(e as Error).message}`);
    });
    const deb = (await readdir(tmp)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new VmAssetsError(`apt-get download ${pkg} left no .deb in ${tmp}`);
    const unpacked = path.join(tmp, 'unpacked');
    await run('dpkg-deb', ['-x', path.join(tmp, deb), unpacked], { timeoutMs: 300_000 });
    await rm(path.join(tmp, deb));
    const built = path.join(tmp, 'kernel');
    await mkdir(built);
    await rename(path.join(unpacked, 'boot', `vmlinuz-${version}`), path.join(built, 'vmlinuz'));
    // Debian 12 ships /lib/modules; later releases /usr/lib/modules. depmod -b and modprobe -d want <root>/lib/modules.
    const modules = ['lib/modules', 'usr/lib/modules'].map((m) => path.join(unpacked, m, version)).find((m) => existsSync(m));
    if (!modules) throw new VmAssetsError(`${pkg} holds no lib/modules/${version}`);
    await mkdir(path.join(built, 'modroot', 'lib', 'modules'), { recursive: true });
    await rename(modules, path.join(built, 'modroot', 'lib', 'modules', version));
    await run(findExecutable('depmod')!, ['-b', path.join(built, 'modroot'), version], { timeoutMs: 300_000 });
    await renameIntoPlace(built, dir);
    return dir;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** `kernel-<version>/vmlinux` (see elf.ts), or the bzImage when this kernel cannot be booted uncompressed. */
async function ensureVmlinux(kernelDir: string): Promise<string> {
  const vmlinux = path.join(kernelDir, 'vmlinux');
  if (existsSync(vmlinux)) return vmlinux;
  const tmp = path.join(VM_CACHE_DIR, `.tmp-vmlinux-${process.pid}-${Date.now()}`);
  if (!(await extractPvhVmlinux(path.join(kernelDir, 'vmlinuz'), tmp))) {
    process.stderr.write(`VM harness: cannot extract a PVH vmlinux from ${kernelDir}/vmlinuz; booting the bzImage (slower)\n`);
    return path.join(kernelDir, 'vmlinuz');
  }
  await renameIntoPlace(tmp, vmlinux);
  return vmlinux;
}

/** `initrd-<version>-<hash>.gz`: busybox, the modules with their dependencies, /mods/order and /init. */
async function ensureInitrd(version: string, moduleRoot: string, busybox: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`format ${BUILD_FORMAT}\nmodules ${VM_MODULES.join(' ')}\napplets ${INITRD_APPLETS.join(' ')}\n`);
  hash.update(await readFile(INIT_SCRIPT));
  hash.update(await readFile(busybox));
  const file = path.join(VM_CACHE_DIR, `initrd-${version}-${hash.digest('hex').slice(0, 16)}.gz`);
  if (existsSync(file)) return file;
  const tmp = await mkdtemp(path.join(VM_CACHE_DIR, '.tmp-initrd-'));
  try {
    const tree = path.join(tmp, 'tree');
    for (const d of ['bin', 'mods', 'proc', 'sys', 'dev', 'newroot', 'lower', 'rw']) await mkdir(path.join(tree, d), { recursive: true });
    await copyFile(busybox, path.join(tree, 'bin', 'busybox'));
    await chmod(path.join(tree, 'bin', 'busybox'), 0o755);
    for (const a of INITRD_APPLETS) await symlink('busybox', path.join(tree, 'bin', a));
    const order: string[] = [];
    for (const ko of await modulesInLoadOrder(version, moduleRoot)) {
      const name = path.basename(ko);
      if (!name.endsWith('.ko')) throw new VmAssetsError(`${ko}: compressed modules are not supported by busybox insmod`);
      await copyFile(ko, path.join(tree, 'mods', name));
      order.push(name);
    }
    await writeFile(path.join(tree, 'mods', 'order'), order.join('\n') + '\n');
    await copyFile(INIT_SCRIPT, path.join(tree, 'init'));
    await chmod(path.join(tree, 'init'), 0o755);
    const out = path.join(tmp, 'initrd.gz');
    await writeCpioGz(tree, out);
    await renameIntoPlace(out, file);
    return file;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Every .ko VM_MODULES needs, dependencies first, each once (modprobe --show-depends prints `insmod <path>` lines). */
async function modulesInLoadOrder(version: string, moduleRoot: string): Promise<string[]> {
  const seen = new Set<string>();
  for (const m of VM_MODULES) {
    const out = await run(findExecutable('modprobe')!, ['-d', moduleRoot, '-S', version, '--show-depends', m]).catch((e: unknown) => {
      throw new VmAssetsError(`module ${m} not found in kernel ${version}: ${(e as Error).message}`);
    });
    for (const line of out.split('\n')) {
      const [verb, file] = line.trim().split(/\s+/);
      if (verb === 'insmod' && file) seen.add(file);
    }
  }
  return [...seen];
}

/** The initramfs: a newc cpio archive (busybox's cpio applet, so no cpio package), gzip -1. */
async function writeCpioGz(tree: string, out: string): Promise<void> {
  const entries = ['.', ...(await readdir(tree, { recursive: true })).map((e) => `./${e}`)].sort();
  const cpio = spawn(findExecutable('busybox')!, ['cpio', '-o', '-H', 'newc'], { cwd: tree, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  cpio.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve, reject) => {
    cpio.on('error', reject);
    cpio.on('close', (code) => (code === 0 ? resolve() : reject(new VmAssetsError(`busybox cpio exited with ${code}: ${stderr}`))));
  });
  cpio.stdin.end(entries.join('\n') + '\n');
  await Promise.all([pipeline(cpio.stdout, createGzip({ level: 1 }), createWriteStream(out)), exited]);
}

/**
 * `.tmp-*` left by a process killed while building (a kernel tree is 400 MB). An hour is far longer than a build
 * takes, so an older one belongs to nobody.
 */
async function removeAbandonedTemporaries(): Promise<void> {
  for (const name of await readdir(VM_CACHE_DIR)) {
    if (!name.startsWith('.tmp-')) continue;
    const file = path.join(VM_CACHE_DIR, name);
    const modified = await stat(file).then((s) => s.mtimeMs, () => Date.now());
    if (Date.now() - modified > 3_600_000) await rm(file, { recursive: true, force: true });
  }
}

/** Renames `from` to `to` unless another process got there first, in which case theirs is as good as ours. */
async function renameIntoPlace(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!(code === 'ENOTEMPTY' || code === 'EEXIST') || !existsSync(to)) throw e;
  }
}

function aptGetUpdate(): Promise<string> {
  return run('apt-get', ['update'], { timeoutMs: 300_000 });
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Runs a command to completion; resolves with stdout, rejects with the exit status and the tail of the output. */
function run(cmd: string, args: string[], o: { cwd?: string; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'], timeout: o.timeoutMs ?? 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-3000)));
    child.on('error', (e) => reject(new VmAssetsError(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new VmAssetsError(`${cmd} ${args.join(' ')} exited with ${code ?? signal}: ${stderr.trim() || stdout.slice(-3000).trim()}`));
    });
  });
}
