/**
 * `dataplane: auto` picks the kernel when the generic netlink family `l2tp` can be used and the
 * null data plane otherwise, and says which and why in one log line (README promise).
 */
import { existsSync, readFileSync } from 'node:fs';
import { NullDataPlane } from './null.js';
import type { DataPlane } from './types.js';

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

export function selectDataPlane(wanted: 'auto' | 'kernel' | 'null'): DataPlaneChoice {
  if (wanted === 'null') return { dataPlane: new NullDataPlane(), reason: 'null data plane: forced by configuration' };
  const k = kernelL2tpPresent();
  if (wanted === 'kernel') {
    throw new Error(
      k.present
        ? 'dataplane: kernel was requested but the kernel data plane is not built yet in this version; use auto or null'
        : `dataplane: kernel was requested but ${k.detail}`,
    );
  }
  return {
    dataPlane: new NullDataPlane(),
    reason: k.present
      ? `null data plane: ${k.detail}, but this version has no kernel data plane yet`
      : `null data plane: ${k.detail}; control plane only, data messages go through userspace`,
  };
}
