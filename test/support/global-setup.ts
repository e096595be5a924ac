/**
 * vitest globalSetup (vitest.config.ts): runs once per `vitest run`, before any test file, in the main process.
 * Installs the Debian packages the tests need when they are missing (CI machines start fresh), or fails the
 * whole run saying what is missing — no test silently skips for want of a tool.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareVmAssets, VM_SYSTEM_DEPENDENCIES } from '../vm/assets.js';
import type { DebianDependency } from './sysdeps.js';
import { ensureDebianPackages } from './sysdeps.js';

/** Every system dependency of the test suite. Add to this list (redis-server, freeradius, keepalived...). */
export const SYSTEM_DEPENDENCIES: readonly DebianDependency[] = [
  { pkg: 'tshark', bin: 'tshark' },
  // editcap (pcapng conversion in test/util) comes with tshark's dependency wireshark-common.
  { pkg: 'wireshark-common', bin: 'editcap' },
  { pkg: 'xl2tpd', bin: 'xl2tpd' },
  { pkg: 'freeradius', bin: 'freeradius' },
  { pkg: 'freeradius-utils', bin: 'radclient' },
  // The kernel VM harness (test/vm): qemu-system-x86, busybox-static, kmod, xz-utils, and ppp + iproute2 for
  // the scripts that run inside the VM from the host's root file system.
  ...VM_SYSTEM_DEPENDENCIES,
  // The native addon of the kernel data plane (native/build.mjs, run by npm ci) is compiled with cc.
  { pkg: 'gcc', bin: 'cc' },
];

/**
 * npm ci builds the addon but only warns when it cannot (the daemon still runs on the null data plane); the
 * tests need it, so build it again here (after gcc was installed; a second, seconds at most) and fail loudly
 * if that fails. Also picks up changed C sources.
 */
function ensureNativeAddon(): void {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const r = spawnSync(process.execPath, [path.join(root, 'native/build.mjs'), '--strict'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the native addon (native/) does not build: ${r.stderr || r.stdout}`);
}

export default async function setup(): Promise<void> {
  await ensureDebianPackages(SYSTEM_DEPENDENCIES);
  ensureNativeAddon();
  // Download Debian's kernel and build the initramfs once, here, rather than in whichever VM test file starts first
  // (prepareVmAssets is safe to race, but each racer would download the kernel again).
  await prepareVmAssets();
}
