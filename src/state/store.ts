/**
 * The state store: where tunnel records (tunnel data, control channel snapshot, machine snapshots,
 * sessions) live so that a restarted worker (and, with Redis, a surviving node) can bring tunnels
 * back. The memory store is the embedded default; it lives in the main thread, so it survives a
 * worker crash but not the process.
 */
import type { TunnelRecord } from '../workers/thread-protocol.js';
import { mergeChannelDelta } from '../transport/channel-delta.js';
import type { ControlChannelState } from '../transport/control-channel-config.js';

export interface StateStore {
  readonly kind: 'memory' | 'redis';
  apply(shard: number, upserts: TunnelRecord[], deletes: number[]): Promise<void>;
  loadShard(shard: number): Promise<TunnelRecord[]>;
  close(): Promise<void>;
}

interface StoredTunnel {
  record: TunnelRecord;
  sessions: Map<number, TunnelRecord['sessions'][number]>;
}

const sessionIdOf = (s: { data: unknown }) => (s.data as { localSessionId: number }).localSessionId;

export class MemoryStateStore implements StateStore {
  readonly kind = 'memory' as const;
  private readonly shards = new Map<number, Map<number, StoredTunnel>>();

  async apply(shard: number, upserts: TunnelRecord[], deletes: number[]): Promise<void> {
    let m = this.shards.get(shard);
    if (!m) this.shards.set(shard, (m = new Map()));
    for (const id of deletes) m.delete(id);
    const errors: string[] = [];
    for (const r of upserts) {
      let t = m.get(r.localTunnelId);
      const previous = t && r.partial ? t.record : undefined;
      if (!t || !r.partial) m.set(r.localTunnelId, (t = { record: r, sessions: new Map() }));
      // A delta: the tunnel's parts replace the stored ones (its options only when it carries them, its channel's
      // unacknowledged messages merged: channel-delta.ts), its sessions merge.
      let channel: unknown;
      try {
        channel = mergeChannelDelta(previous?.channel as ControlChannelState<unknown> | undefined, r.channel as ControlChannelState<unknown>);
      } catch (e) {
        // Kept as it came: the tunnel's restore refuses it (its unacknowledged messages do not add up) and says so.
        channel = r.channel;
        errors.push(`tunnel ${r.localTunnelId}: ${(e as Error).message}`);
      }
      t.record = { ...r, channel, ...(r.options === undefined && previous?.options !== undefined ? { options: previous.options } : {}) };
      for (const s of r.sessions) t.sessions.set(sessionIdOf(s), s);
      for (const id of r.sessionDeletes ?? []) t.sessions.delete(id);
    }
    if (errors.length > 0) throw new Error(`state store: ${errors.join('; ')}`);
  }

  async loadShard(shard: number): Promise<TunnelRecord[]> {
    return [...(this.shards.get(shard)?.values() ?? [])].map((t) => {
      const { partial: _p, sessionDeletes: _d, ...rest } = t.record;
      return { ...rest, sessions: [...t.sessions.values()] };
    });
  }

  get size(): number {
    let n = 0;
    for (const m of this.shards.values()) n += m.size;
    return n;
  }

  async close(): Promise<void> {
    this.shards.clear();
  }
}
