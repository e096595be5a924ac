/**
 * Persistent tunnels (configured `persistent: true`, or `tunnel create --persistent`): when one
 * closes or is being stopped it is replaced by a new tunnel (new ID) with the same calls, after
 * 1, 2, 4 … 60 s with ±20% jitter so many of them do not retry in step. An operator's delete is final.
 */
import type { Logger } from 'pino';
import type { Tunnel } from '../actors/tunnel.js';

export class PersistentTunnels<R extends { name?: string; peer: unknown }> {
  private readonly byTunnel = new Map<number, { req: R; attempt: number }>();
  private stopped = false;

  constructor(
    private readonly create: (req: R, attempt: number) => Promise<unknown>,
    private readonly log: Logger,
  ) {}

  add(tunnelId: number, req: R, attempt: number): void {
    this.byTunnel.set(tunnelId, { req, attempt });
  }

  /** An operator deleted it: do not bring it back. */
  forget(tunnelId: number): void {
    this.byTunnel.delete(tunnelId);
  }

  /** The tunnel is stopping, draining or closed: schedule its replacement (once). */
  replace(t: Tunnel): void {
    const p = this.byTunnel.get(t.id);
    if (!p) return;
    this.byTunnel.delete(t.id);
    if (!this.stopped) this.retry(p.req, t.data.establishedAt !== undefined ? 0 : p.attempt + 1);
  }

  /** Daemon shutdown: no more replacements. */
  stop(): void {
    this.stopped = true;
  }

  private retry(req: R, attempt: number): void {
    const base = Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.log.info({ name: req.name, peer: req.peer, attempt, delayMs: delay }, 'persistent tunnel: re-establishing');
    const timer = setTimeout(() => {
      if (this.stopped) return;
      this.create(req, attempt).catch((e: unknown) => {
        this.log.warn({ name: req.name, err: String(e) }, 'persistent tunnel: attempt failed');
        this.retry(req, attempt + 1);
      });
    }, delay);
    timer.unref?.();
  }
}
