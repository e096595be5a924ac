/**
 * Which tunnels of a shard changed since the last flush to the state store, and the flush itself:
 * at most one write per tunnel per `intervalMs` (the durability point, docs/architecture.md).
 */
import type { Tunnel } from '../actors/tunnel.js';
import type { TunnelRecord } from './thread-protocol.js';

export class RecordKeeper {
  private readonly dirty = new Set<number>();
  private readonly removed = new Set<number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly tunnels: ReadonlyMap<number, Tunnel>,
    private readonly persist: ((upserts: TunnelRecord[], deletes: number[]) => void) | undefined,
    private readonly intervalMs = 50,
  ) {}

  changed(id: number): void {
    if (!this.persist || !this.tunnels.has(id)) return;
    this.dirty.add(id);
    this.schedule();
  }

  gone(id: number): void {
    if (!this.persist) return;
    this.dirty.delete(id);
    this.removed.add(id);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }

  /** Send every changed tunnel's record to the store now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.persist || (this.dirty.size === 0 && this.removed.size === 0)) return;
    const upserts: TunnelRecord[] = [];
    for (const id of this.dirty) {
      const t = this.tunnels.get(id);
      if (t && t.state !== 'closed') upserts.push({ localTunnelId: id, ...t.record() });
    }
    const deletes = [...this.removed];
    this.dirty.clear();
    this.removed.clear();
    this.persist(upserts, deletes);
  }
}
