/**
 * LCP Echo keepalive (RFC 1661 §5.8), on the fast path beside the automata: one counter and one
 * timer on the injected Clock (the worker's timer wheel), no XState event per echo, so a hibernated
 * session stays hibernated (DESIGN.md: 1M XState timers blocked the loop for 34 s).
 *
 * Every period is jittered (±10 %, and the first one anywhere in [0, interval) after a restore) so
 * sessions restored together do not all send their echoes in the same tick.
 */
import type { Clock, TimerHandle } from '../transport/clock.js';

/**
 * Someone below the engine that can run a link's keepalive without JavaScript per echo (the native addon, for
 * sessions carried in userspace on a native tunnel socket): it sends the Echo-Requests with our Magic-Number, takes
 * the Echo-Replies itself, and calls `dead` once `failures` requests in a row went unanswered. start() returns
 * undefined when it cannot take this link; the keepalive then runs here as before.
 */
export interface EchoOffload {
  start(o: { magic: number; intervalMs: number; failures: number; firstMs?: number; dead(): void }): { stop(): void } | undefined;
}

export interface KeepaliveOptions {
  clock: Clock;
  intervalMs: number;
  /** Unanswered Echo-Requests before the link is declared dead. */
  failures: number;
  random: () => number;
  sendEcho(): void;
  dead(): void;
  /** Hands the keepalive to an EchoOffload (the engine binds our Magic-Number); undefined: not taken. */
  offload?(o: { intervalMs: number; failures: number; firstMs?: number; dead(): void }): { stop(): void } | undefined;
}

export class Keepalive {
  /** Echo-Requests sent since the last Echo-Reply. */
  outstanding = 0;
  private timer: TimerHandle | undefined;
  /** The last timer, kept for the Clock to reuse (rearm) so an echo period allocates nothing. */
  private spare: TimerHandle | undefined;
  private readonly onTick = (): void => this.tick();
  /** Set while an EchoOffload runs this link's keepalive. */
  private offloaded: { stop(): void } | undefined;

  constructor(private readonly o: KeepaliveOptions) {}

  get running(): boolean {
    return this.timer !== undefined || this.offloaded !== undefined;
  }

  start(restored = false): void {
    if (this.o.intervalMs <= 0) return;
    this.stop();
    this.outstanding = 0;
    const first = restored ? this.o.random() * this.o.intervalMs : undefined;
    const handle = this.o.offload?.({
      intervalMs: this.o.intervalMs,
      failures: this.o.failures,
      ...(first !== undefined ? { firstMs: Math.round(first) } : {}),
      dead: () => {
        if (this.offloaded !== handle) return;
        this.offloaded = undefined;
        this.o.dead();
      },
    });
    if (handle) {
      this.offloaded = handle;
      return;
    }
    this.arm(first ?? this.jittered());
  }

  stop(): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const off = this.offloaded;
    this.offloaded = undefined;
    off?.stop();
  }

  replied(): void {
    this.outstanding = 0;
  }

  private jittered(): number {
    return this.o.intervalMs * (0.9 + 0.2 * this.o.random());
  }

  private arm(ms: number): void {
    const c = this.o.clock;
    this.timer = this.spare = c.rearm ? c.rearm(this.spare, this.onTick, ms) : c.setTimeout(this.onTick, ms);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.outstanding >= this.o.failures) return this.o.dead();
    this.outstanding++;
    this.o.sendEcho();
    this.arm(this.jittered());
  }
}
