/**
 * vitest globalSetup (vitest.config.ts): runs once per `vitest run`, before any test file, in the main process.
 * Installs the Debian packages the tests need when they are missing (CI machines start fresh), or fails the
 * whole run saying what is missing — no test silently skips for want of a tool.
 */
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
];

export default async function setup(): Promise<void> {
  await ensureDebianPackages(SYSTEM_DEPENDENCIES);
}
