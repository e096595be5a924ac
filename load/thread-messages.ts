/**
 * Between the main thread and the load workers. Control goes down rarely (start, stop); counters go
 * up as absolute totals every REPORT_INTERVAL_MS — a batch of everything that happened meanwhile,
 * whatever the packet rate, so reporting costs the workers nothing measurable (DESIGN.md: batch
 * messages between threads).
 */
import type { LoadOptions } from './options.js';
import type { WorkerStats } from './stats.js';

export const REPORT_INTERVAL_MS = 250;

/** One tunnel to emulate. */
export interface TunnelPlan {
  /** Global tunnel number (0-based): names it in `--hostname` templates. */
  index: number;
  /** Source address; undefined: the OS picks. */
  source: string | undefined;
  /** 0: an ephemeral port for this tunnel alone. */
  port: number;
  calls: number;
}

export interface WorkerPlan {
  worker: number;
  options: LoadOptions;
  tunnels: TunnelPlan[];
  /** This worker's share of the rates and of --max-outstanding. */
  callRate: number;
  tunnelRate: number;
  teardownRate: number;
  maxOutstanding: number;
}

export type ToLoadWorker = { type: 'start'; plan: WorkerPlan } | { type: 'stop'; graceMs: number };

export type FromLoadWorker =
  | { type: 'stats'; stats: WorkerStats }
  /** After `stop`: final totals, every tunnel closed. */
  | { type: 'stopped'; stats: WorkerStats }
  /** The worker cannot do its share at all (e.g. a source address that cannot be bound). */
  | { type: 'fatal'; message: string };
