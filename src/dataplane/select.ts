/**
 * `dataplane: auto` picks the kernel when the generic netlink family `l2tp` can be used and the
 * null data plane otherwise, and says which and why in one log line (README promise).
 */
import { existsSync, readFileSync } from 'node:fs';
import { NullDataPlane } from './null.js';
import type { DataPlane } from './types.js';
import { KernelDataPlane } from './kernel/kernel.js';
import { nativeAddonStatus } from './kernel/native.js';

export interface DataPlaneChoice {
  dataPlane: DataPlane;
  reason: string;
}

/** Whether the running kernel has L2TP netlink support loaded (module or built in). */
export function kernelL2tpPresent(): { present: boolean; detail: string } {
  if (existsSync('/sys/module/l2tp_netlink')) return { present: true, detail: 'module l2tp_netlink is loaded' };
  try {
    const families = readFileSync('/proc/net/genetlink', 'utf8'); // absent on most kernels; best effort
    if (/\bl2tp\b/.test(families)) return { present: true, detail: 'generic netlink family l2tp registered' };
  } catch {
    /* not available: fall through */
  }
  return { present: false, detail: 'the kernel has no l2tp_netlink (generic netlink family l2tp not found)' };
}

/**
 * Opens the data plane the configuration asks for. `auto` never fails: when the kernel cannot be
 * used (no l2tp family, netlink refused, PPP addon not built) it says why and runs the null plane.
 * `kernel` fails with the reason, before anything has started.
 */
export async function selectDataPlane(wanted: 'auto' | 'kernel' | 'null'): Promise<DataPlaneChoice> {
  if (wanted === 'null') return { dataPlane: new NullDataPlane(), reason: 'null data plane: forced by configuration' };
  const k = kernelL2tpPresent();
  if (!k.present) {
    if (wanted === 'kernel') throw new Error(`dataplane: kernel was requested but ${k.detail}`);
    return { dataPlane: new NullDataPlane(), reason: `null data plane: ${k.detail}; control plane only, data messages go through userspace` };
  }
  let problem: string;
  try {
    const addon = nativeAddonStatus();
    if (!addon.available) throw new Error(`the PPP addon is not usable: ${addon.reason}`);
    const dataPlane = await KernelDataPlane.open();
    return { dataPlane, reason: `kernel data plane: ${k.detail}; tunnels and sessions are programmed over generic netlink` };
  } catch (e) {
    problem = e instanceof Error ? e.message : String(e);
  }
  if (wanted === 'kernel') throw new Error(`dataplane: kernel was requested but it cannot be used: ${problem}`);
  return { dataPlane: new NullDataPlane(), reason: `null data plane: ${k.detail}, but the kernel data plane cannot be used: ${problem}` };
}
