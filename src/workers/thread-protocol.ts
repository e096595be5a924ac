/**
 * Messages between the main thread and shard workers. Packets travel in batches (DESIGN.md: 1.5M
 * msg/s batched vs 48k/s one at a time): everything queued for a worker during one turn of the
 * event loop goes in one postMessage.
 */
import type { Endpoint } from './sockets.js';
import type { DataPlaneCall, DataPlaneReply } from '../dataplane/remote.js';

export interface PacketItem {
  buf: Uint8Array;
  from: Endpoint;
  to: Endpoint;
  /** L2TPv3 over IP (as on the wire, with its zero Session ID); absent: UDP. */
  transport?: 'ip';
}

/** Everything a worker needs to build its shard; config is passed as text so all threads parse the same bytes. */
export interface ShardInit {
  index: number;
  count: number;
  configText: string | null;
  configFile: string | null;
  overrides: Record<string, unknown>;
  dataPlane: 'null' | 'kernel';
  logLevel: string;
  /**
   * One Int32 per worker, shared by all of them: each worker's live session count, so `limits.max_sessions` holds
   * for the node whichever workers the tunnels landed on.
   */
  sessionCounts?: SharedArrayBuffer;
  /** Records to restore (a restarted worker gets its predecessor's tunnels back). */
  restore?: StoredShardState;
}

/** The failover/restart record of one tunnel, as the state store keeps it. */
export interface TunnelRecord {
  localTunnelId: number;
  data: unknown;
  /**
   * The tunnel's options: a delta carries them only when they are new (the tunnel's first record from this worker,
   * or after the tunnel replaced them); they were a third of what a busy shard copied to the store. A stored
   * record always has them.
   */
  options?: unknown;
  channel: unknown;
  machine: unknown;
  /** Each session's data, machine snapshot and pseudowire state (e.g. its PPP engine's; opaque here). */
  sessions: { data: unknown; machine: unknown; pseudowire?: unknown }[];
  /**
   * A delta (what a shard sends): `sessions` holds only the sessions that changed and
   * `sessionDeletes` those that ended; the store merges it into the tunnel's full record.
   */
  partial?: boolean;
  sessionDeletes?: number[];
}

export interface StoredShardState {
  tunnels: TunnelRecord[];
}

export type ToWorker =
  | { type: 'init'; init: ShardInit }
  | { type: 'packets'; items: PacketItem[] }
  | { type: 'rpc'; id: number; method: string; params: unknown }
  | { type: 'config'; configText: string | null; configFile: string | null; overrides: Record<string, unknown> }
  | { type: 'dataplane-results'; replies: DataPlaneReply[] };

export type FromWorker =
  | { type: 'ready'; index: number; restored: number }
  | { type: 'forward'; items: (PacketItem & { shard: number })[] }
  | { type: 'rpc-result'; id: number; result?: unknown; error?: { code: string; message: string } }
  | { type: 'records'; upserts: TunnelRecord[]; deletes: number[] }
  | { type: 'log'; line: string }
  /** Kernel data plane calls (main thread owns the netlink socket). */
  | { type: 'dataplane'; calls: { id: number; call: DataPlaneCall }[] };

/** Collects items and hands them over once per event-loop turn. */
export class Batcher<T> {
  private items: T[] = [];
  private scheduled = false;

  constructor(private readonly flush: (items: T[]) => void) {}

  push(item: T): void {
    this.items.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const batch = this.items;
        this.items = [];
        if (batch.length > 0) this.flush(batch);
      });
    }
  }
}
