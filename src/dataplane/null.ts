/**
 * The null data plane: keeps the same books as the kernel would (which tunnels and sessions exist,
 * with counters) and refuses the same mistakes (duplicates, unknown IDs), so tests of the control
 * plane catch what would fail against the kernel. Data messages arrive in userspace and are counted.
 *
 * Counters live in one growable Float64Array per tunnel indexed by local session ID (IDs are
 * allocated densely from 1): counting a packet touches one cache line, not a Map bucket, an entry
 * object and a counters object, so the per-packet cost does not grow with the number of sessions
 * (bench: shard-scale).
 */
import { DataPlaneError, type DataPlane, type DataPlaneCounters, type SessionSpec, type TunnelSpec } from './types.js';

/** Slots per session in the counter array. */
const RX_PACKETS = 0;
const RX_BYTES = 1;
const TX_PACKETS = 2;
const TX_BYTES = 3;
const PRESENT = 4;
const SLOTS = 5;
/** Above this, session IDs are too sparse for an array: they fall back to a Map. */
const DENSE_LIMIT = 1 << 20;

interface TunnelEntry {
  spec: TunnelSpec;
  rxPackets: number;
  rxBytes: number;
  rxErrors: number;
  counters: Float64Array;
  sparse: Map<number, Float64Array>;
  specs: Map<number, SessionSpec>;
}

export class NullDataPlane implements DataPlane {
  readonly kind = 'null' as const;
  private readonly tunnels = new Map<number, TunnelEntry>();

  async createTunnel(spec: TunnelSpec): Promise<void> {
    if (this.tunnels.has(spec.localTunnelId)) throw new DataPlaneError(`tunnel ${spec.localTunnelId} exists`, 'createTunnel', 'EEXIST');
    this.tunnels.set(spec.localTunnelId, { spec, rxPackets: 0, rxBytes: 0, rxErrors: 0, counters: new Float64Array(64 * SLOTS), sparse: new Map(), specs: new Map() });
  }

  async deleteTunnel(localTunnelId: number): Promise<void> {
    // Like the kernel, deleting a tunnel takes its sessions with it.
    if (!this.tunnels.delete(localTunnelId)) throw new DataPlaneError(`tunnel ${localTunnelId} does not exist`, 'deleteTunnel', 'ENOENT');
  }

  private slot(t: TunnelEntry, sid: number, create: boolean): { arr: Float64Array; at: number } | undefined {
    if (sid < DENSE_LIMIT) {
      if (sid * SLOTS >= t.counters.length) {
        if (!create) return undefined;
        let n = t.counters.length;
        while (sid * SLOTS >= n) n *= 2;
        const grown = new Float64Array(n);
        grown.set(t.counters);
        t.counters = grown;
      }
      return { arr: t.counters, at: sid * SLOTS };
    }
    let a = t.sparse.get(sid);
    if (!a && create) t.sparse.set(sid, (a = new Float64Array(SLOTS)));
    return a ? { arr: a, at: 0 } : undefined;
  }

  async createSession(spec: SessionSpec): Promise<void> {
    const t = this.tunnels.get(spec.localTunnelId);
    if (!t) throw new DataPlaneError(`tunnel ${spec.localTunnelId} does not exist`, 'createSession', 'ENOENT');
    if (t.specs.has(spec.localSessionId)) throw new DataPlaneError(`session ${spec.localSessionId} exists`, 'createSession', 'EEXIST');
    const s = this.slot(t, spec.localSessionId, true)!;
    s.arr.fill(0, s.at, s.at + SLOTS);
    s.arr[s.at + PRESENT] = 1;
    t.specs.set(spec.localSessionId, spec);
  }

  async deleteSession(localTunnelId: number, localSessionId: number): Promise<void> {
    const t = this.tunnels.get(localTunnelId);
    if (!t?.specs.delete(localSessionId)) {
      throw new DataPlaneError(`session ${localTunnelId}/${localSessionId} does not exist`, 'deleteSession', 'ENOENT');
    }
    const s = this.slot(t, localSessionId, false);
    if (s) s.arr[s.at + PRESENT] = 0;
    t.sparse.delete(localSessionId);
  }

  async counters(localTunnelId: number, localSessionId?: number): Promise<DataPlaneCounters | undefined> {
    const t = this.tunnels.get(localTunnelId);
    if (!t) return undefined;
    const base = { txErrors: 0, rxSeqDiscards: 0 };
    if (localSessionId === undefined) {
      return { ...base, txPackets: 0, txBytes: 0, rxPackets: t.rxPackets, rxBytes: t.rxBytes, rxErrors: t.rxErrors };
    }
    const s = this.slot(t, localSessionId, false);
    if (!s || s.arr[s.at + PRESENT] !== 1) return undefined;
    const a = s.arr;
    return { ...base, rxPackets: a[s.at + RX_PACKETS]!, rxBytes: a[s.at + RX_BYTES]!, txPackets: a[s.at + TX_PACKETS]!, txBytes: a[s.at + TX_BYTES]!, rxErrors: 0 };
  }

  accountRx(localTunnelId: number, localSessionId: number, bytes: number): void {
    const t = this.tunnels.get(localTunnelId);
    if (!t) return;
    t.rxPackets++;
    t.rxBytes += bytes;
    if (localSessionId < DENSE_LIMIT) {
      const a = t.counters;
      const at = localSessionId * SLOTS;
      if (at < a.length && a[at + PRESENT] === 1) {
        a[at + RX_PACKETS]!++;
        a[at + RX_BYTES]! += bytes;
        return;
      }
    } else {
      const a = t.sparse.get(localSessionId);
      if (a) {
        a[RX_PACKETS]!++;
        a[RX_BYTES]! += bytes;
        return;
      }
    }
    t.rxErrors++;
  }

  /** For tests and `l2tpctl`: what exists. */
  snapshot(): { tunnels: number[]; sessions: [number, number][] } {
    const sessions: [number, number][] = [];
    for (const [tid, t] of this.tunnels) for (const sid of t.specs.keys()) sessions.push([tid, sid]);
    return { tunnels: [...this.tunnels.keys()], sessions };
  }

  async close(): Promise<void> {
    this.tunnels.clear();
  }
}
