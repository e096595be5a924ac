/**
 * vitest globalSetup (vitest.config.ts): runs once per `vitest run`, before any test file, in the main process.
 * Installs the Debian packages the tests need when they are missing (CI machines start fresh), or fails the
 * whole run saying what is missing — no test silently skips for want of a tool.
 */
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
];

export default async function setup(): Promise<void> {
  await ensureDebianPackages(SYSTEM_DEPENDENCIES);
  // Download Debian's kernel and build the initramfs once, here, rather than in whichever VM test file starts first
  // (prepareVmAssets is safe to race, but each racer would download the kernel again).
  await prepareVmAssets();
}
