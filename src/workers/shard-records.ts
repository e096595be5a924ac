/**
 * Which tunnels and sessions of a shard changed since the last flush to the state store, and the
 * flush itself: at most one write per tunnel per `intervalMs` (the durability point,
 * docs/architecture.md). A flush carries the tunnel's control connection and only its changed
 * sessions, so a busy tunnel with thousands of calls costs per change, not per call it holds.
 */
import type { Tunnel } from '../actors/tunnel.js';
import { type ChannelDeltaBase, channelDelta } from '../transport/channel-delta.js';
import type { ControlChannelState } from '../transport/control-channel-config.js';
import type { TunnelRecord } from './thread-protocol.js';

export class RecordKeeper {
  /** Tunnels whose control connection changed, each with the sessions that changed or ended. */
  private readonly dirty = new Map<number, { changed: Set<number>; ended: Set<number> }>();
  private readonly removed = new Set<number>();
  /**
   * The options object each tunnel last sent to the store: later deltas leave it out while the tunnel keeps the
   * same object (a tunnel that changes its options replaces the object, e.g. the L2TPv2 fallback).
   */
  private readonly optionsSent = new Map<number, unknown>();
  /** Per tunnel, the channel whose snapshot went last and its delta base (a replaced channel starts whole again). */
  private readonly channelSent = new Map<number, { channel: unknown; base: ChannelDeltaBase }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly tunnels: ReadonlyMap<number, Tunnel>,
    private readonly persist: ((upserts: TunnelRecord[], deletes: number[]) => void) | undefined,
    private readonly intervalMs = 50,
  ) {}

  private entry(id: number): { changed: Set<number>; ended: Set<number> } | undefined {
    if (!this.persist || !this.tunnels.has(id)) return undefined;
    let e = this.dirty.get(id);
    if (!e) this.dirty.set(id, (e = { changed: new Set(), ended: new Set() }));
    this.schedule();
    return e;
  }

  /** The tunnel's control connection changed (state, Ns/Nr). */
  changed(id: number): void {
    this.entry(id);
  }

  sessionChanged(tunnelId: number, sessionId: number): void {
    this.entry(tunnelId)?.changed.add(sessionId);
  }

  sessionEnded(tunnelId: number, sessionId: number): void {
    const e = this.entry(tunnelId);
    if (!e) return;
    e.changed.delete(sessionId);
    e.ended.add(sessionId);
  }

  gone(id: number): void {
    if (!this.persist) return;
    this.dirty.delete(id);
    this.optionsSent.delete(id);
    this.channelSent.delete(id);
    this.removed.add(id);
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.intervalMs);
  }

  /** Send every change to the store now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.persist || (this.dirty.size === 0 && this.removed.size === 0)) return;
    const upserts: TunnelRecord[] = [];
    for (const [id, e] of this.dirty) {
      const t = this.tunnels.get(id);
      if (!t || t.state === 'closed') continue;
      const { options, channel, ...rest } = t.record(e.changed);
      const fresh = this.optionsSent.get(id) !== options;
      if (fresh) this.optionsSent.set(id, options);
      const last = this.channelSent.get(id);
      const delta = channelDelta(channel as ControlChannelState<unknown>, last?.channel === t.channel ? last.base : undefined);
      this.channelSent.set(id, { channel: t.channel, base: delta.base });
      upserts.push({ localTunnelId: id, ...rest, channel: delta.send, ...(fresh ? { options } : {}), partial: true, sessionDeletes: [...e.ended] });
    }
    const deletes = [...this.removed];
    this.dirty.clear();
    this.removed.clear();
    this.persist(upserts, deletes);
  }
}
