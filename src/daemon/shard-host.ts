/**
 * The main thread's side of one shard worker: starts it, batches packets to it, routes management
 * calls and their answers, stores its records, and restarts it with its tunnels when it dies.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { StateStore } from '../state/store.js';
import type { DataPlane } from '../dataplane/types.js';
import { executeDataPlaneCall, type DataPlaneReply } from '../dataplane/remote.js';
import { Batcher, type FromWorker, type PacketItem, type ShardInit, type ToWorker } from '../workers/thread-protocol.js';

export class ShardCallError extends Error {
  override readonly name = 'ShardCallError';
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface ShardHostOptions {
  init: Omit<ShardInit, 'restore'>;
  store: StateStore;
  log: Logger;
  /** A packet the worker could not keep (another shard owns its tunnel). */
  onForward(shard: number, item: PacketItem): void;
  workerUrl: URL;
  /** The data plane the worker's kernel calls run against (main thread). */
  dataPlane?: DataPlane;
}

export class ShardHost {
  private worker: Worker | undefined;
  private readonly packets: Batcher<PacketItem>;
  private readonly dataPlaneReplies: Batcher<DataPlaneReply>;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;
  private stopping = false;
  private readyPromise: Promise<void> | undefined;
  restarts = 0;

  constructor(private readonly o: ShardHostOptions) {
    this.packets = new Batcher((items) => this.post({ type: 'packets', items }));
    this.dataPlaneReplies = new Batcher((replies) => this.post({ type: 'dataplane-results', replies }));
  }

  get index(): number {
    return this.o.init.index;
  }

  /** The worker's thread ID (tests kill it to prove restarts restore its tunnels). */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  async start(): Promise<void> {
    const records = await this.o.store.loadShard(this.index);
    const init: ShardInit = { ...this.o.init, ...(records.length > 0 ? { restore: { tunnels: records } } : {}) };
    const w = new Worker(this.o.workerUrl, { workerData: init });
    this.worker = w;
    this.readyPromise = new Promise((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`shard ${this.index} exited during start (code ${code})`));
      w.once('exit', onExit);
      w.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          w.off('exit', onExit);
          if (m.restored > 0) this.o.log.info({ shard: this.index, restored: m.restored }, 'shard restored its tunnels');
          const cb = this.onRestarted;
          this.onRestarted = undefined;
          cb?.(m.restored);
          resolve();
        }
        this.onMessage(m);
      });
    });
    w.on('error', (e) => this.o.log.error({ shard: this.index, err: e.stack ?? String(e) }, 'shard worker error'));
    w.on('exit', (code) => this.onExit(w, code));
    await this.readyPromise;
  }

  private onMessage(m: FromWorker): void {
    switch (m.type) {
      case 'forward':
        for (const it of m.items) this.o.onForward(it.shard, it);
        return;
      case 'rpc-result': {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.error) p.reject(new ShardCallError(m.error.message, m.error.code));
        else p.resolve(m.result);
        return;
      }
      case 'dataplane': {
        const dp = this.o.dataPlane;
        for (const { id, call } of m.calls) {
          if (!dp) {
            this.dataPlaneReplies.push({ id, error: { message: 'no data plane in the main thread', operation: call.op } });
            continue;
          }
          void executeDataPlaneCall(dp, id, call).then((r) => {
            if (r.error) this.o.log.warn({ shard: this.index, op: call.op, err: r.error.message }, 'data plane call failed');
            else this.o.log.debug({ shard: this.index, op: call.op }, 'data plane call done');
            this.dataPlaneReplies.push(r);
          });
        }
        return;
      }
      case 'records':
        this.o.store.apply(this.index, m.upserts, m.deletes).catch((e: unknown) => this.o.log.error({ err: String(e) }, 'state store write failed'));
        return;
      default:
        return;
    }
  }

  private onExit(w: Worker, code: number): void {
    if (w !== this.worker) return;
    this.worker = undefined;
    for (const p of this.pending.values()) p.reject(new ShardCallError(`shard ${this.index} stopped`, 'internal'));
    this.pending.clear();
    if (this.stopping) return;
    this.restarts++;
    this.o.log.error({ shard: this.index, code, restarts: this.restarts }, 'shard worker died: restarting it with its tunnels');
    // Back off a little when a worker keeps dying, so a crash loop does not spin.
    const delay = Math.min(5000, 50 * 2 ** Math.min(this.restarts - 1, 6));
    setTimeout(() => {
      if (!this.stopping) this.start().catch((e: unknown) => this.o.log.error({ shard: this.index, err: String(e) }, 'shard restart failed'));
    }, delay);
  }

  private post(m: ToWorker): void {
    this.worker?.postMessage(m);
  }

  deliver(item: PacketItem): void {
    this.packets.push(item);
  }

  call(method: string, params: unknown = {}, timeoutMs = 10_000): Promise<unknown> {
    if (!this.worker) return Promise.reject(new ShardCallError(`shard ${this.index} is restarting`, 'refused'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ShardCallError(`shard ${this.index} did not answer ${method}`, 'internal'));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.post({ type: 'rpc', id, method, params });
    });
  }

  reconfigure(configText: string | null, configFile: string | null, overrides: Record<string, unknown>): void {
    this.post({ type: 'config', configText, configFile, overrides });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.worker?.terminate();
  }

  /**
   * Kill the worker as a crash would and wait until its replacement is up with the tunnels the
   * store held. Resolves to the number of tunnels restored.
   */
  async restart(): Promise<number> {
    const before = this.restarts;
    const w = this.worker;
    const restored = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`shard ${this.index} did not come back`)), 15_000);
      this.onRestarted = (n) => {
        clearTimeout(timer);
        resolve(n);
      };
    });
    await w?.terminate();
    if (this.restarts === before) throw new Error(`shard ${this.index} was not running`);
    return restored;
  }

  private onRestarted: ((restored: number) => void) | undefined;
}
