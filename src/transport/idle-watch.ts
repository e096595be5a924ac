/**
 * The keepalive trigger of RFC 2661 §6.5 / RFC 3931 §6.5: "sending a HELLO if a period of time ...
 * has passed without receiving any message (data or control) from the peer". `touch()` on every
 * received packet only stores a time; the single timer re-checks it when it fires, so a busy
 * tunnel costs one timer per interval rather than one cancel + re-arm per packet.
 */
import type { Clock, TimerHandle } from './clock.js';

export class IdleWatch {
  /** Start of the current silence: last receipt, or the last idle notification. */
  quietSince: number;
  private timer: TimerHandle | null = null;
  private running = false;
  private readonly onTimer = (): void => this.expired();

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    /** Random extra delay per deadline, so tunnels restored together do not all say HELLO at once. */
    private readonly jitterMs: number,
    private readonly onIdle: () => void,
  ) {
    this.quietSince = clock.now();
  }

  /** Arms the timer (no-op when the interval is 0). */
  start(): void {
    if (this.intervalMs === 0 || this.timer !== null) return;
    this.running = true;
    const jitter = this.jitterMs > 0 ? Math.random() * this.jitterMs : 0;
    this.timer = this.clock.setTimeout(this.onTimer, this.quietSince + this.intervalMs - this.clock.now() + jitter);
  }

  touch(now: number): void {
    this.quietSince = now;
  }

  stop(): void {
    this.running = false;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private expired(): void {
    this.timer = null;
    const now = this.clock.now();
    if (now >= this.quietSince + this.intervalMs) {
      // Measure the next silence from here, so a peer that stays quiet gets one HELLO per interval.
      this.quietSince = now;
      this.onIdle();
      if (!this.running) return; // the owner closed the channel from inside the hook
    }
    this.start();
  }
}
