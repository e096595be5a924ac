/**
 * The null data plane: keeps the same books as the kernel would (which tunnels and sessions exist,
 * with counters) and refuses the same mistakes (duplicates, unknown IDs), so tests of the control
 * plane catch what would fail against the kernel. Data messages arrive in userspace and are counted.
 */
import { DataPlaneError, zeroCounters, type DataPlane, type DataPlaneCounters, type SessionSpec, type TunnelSpec } from './types.js';

interface TunnelEntry {
  spec: TunnelSpec;
  counters: DataPlaneCounters;
  sessions: Map<number, { spec: SessionSpec; counters: DataPlaneCounters }>;
}

export class NullDataPlane implements DataPlane {
  readonly kind = 'null' as const;
  private readonly tunnels = new Map<number, TunnelEntry>();

  async createTunnel(spec: TunnelSpec): Promise<void> {
    if (this.tunnels.has(spec.localTunnelId)) throw new DataPlaneError(`tunnel ${spec.localTunnelId} exists`, 'createTunnel', 'EEXIST');
    this.tunnels.set(spec.localTunnelId, { spec, counters: zeroCounters(), sessions: new Map() });
  }

  async deleteTunnel(localTunnelId: number): Promise<void> {
    // Like the kernel, deleting a tunnel takes its sessions with it.
    if (!this.tunnels.delete(localTunnelId)) throw new DataPlaneError(`tunnel ${localTunnelId} does not exist`, 'deleteTunnel', 'ENOENT');
  }

  async createSession(spec: SessionSpec): Promise<void> {
    const t = this.tunnels.get(spec.localTunnelId);
    if (!t) throw new DataPlaneError(`tunnel ${spec.localTunnelId} does not exist`, 'createSession', 'ENOENT');
    if (t.sessions.has(spec.localSessionId)) throw new DataPlaneError(`session ${spec.localSessionId} exists`, 'createSession', 'EEXIST');
    t.sessions.set(spec.localSessionId, { spec, counters: zeroCounters() });
  }

  async deleteSession(localTunnelId: number, localSessionId: number): Promise<void> {
    const t = this.tunnels.get(localTunnelId);
    if (!t?.sessions.delete(localSessionId)) {
      throw new DataPlaneError(`session ${localTunnelId}/${localSessionId} does not exist`, 'deleteSession', 'ENOENT');
    }
  }

  async counters(localTunnelId: number, localSessionId?: number): Promise<DataPlaneCounters | undefined> {
    const t = this.tunnels.get(localTunnelId);
    if (!t) return undefined;
    if (localSessionId === undefined) return { ...t.counters };
    const s = t.sessions.get(localSessionId);
    return s ? { ...s.counters } : undefined;
  }

  accountRx(localTunnelId: number, localSessionId: number, bytes: number): void {
    const t = this.tunnels.get(localTunnelId);
    if (!t) return;
    t.counters.rxPackets++;
    t.counters.rxBytes += bytes;
    const s = t.sessions.get(localSessionId);
    if (s) {
      s.counters.rxPackets++;
      s.counters.rxBytes += bytes;
    } else {
      t.counters.rxErrors++;
    }
  }

  /** For tests and `l2tpctl`: what exists. */
  snapshot(): { tunnels: number[]; sessions: [number, number][] } {
    const sessions: [number, number][] = [];
    for (const [tid, t] of this.tunnels) for (const sid of t.sessions.keys()) sessions.push([tid, sid]);
    return { tunnels: [...this.tunnels.keys()], sessions };
  }

  async close(): Promise<void> {
    this.tunnels.clear();
  }
}
