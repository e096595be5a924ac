/**
 * The load of one worker thread: its share of the tunnels, opened and filled with calls at its share
 * of the rates, held, cleared, and stopped with StopCCN at the end.
 *
 * Pacing: token buckets refilled by one 5 ms interval timer (tunnels, calls and teardowns), capped at
 * 100 ms worth of tokens so a stall never turns into a burst, and never more than --max-outstanding
 * set-ups in flight. Calls are spread round-robin over the established tunnels that still have calls
 * to place and room in their control window (a call queued behind a full window would time our own
 * queue). Protocol timers (retransmission, HELLO, call set-up timeouts) live on one hashed timer
 * wheel; hold times are a FIFO (every call is held equally long, so calls come due in the order they
 * came up) and need no timer at all; set-up deadlines likewise (calls in the order placed).
 */
import { MalformedHeaderError, peekHeader } from '../src/protocol/index.js';
import { TimerWheel } from '../src/workers/timer-wheel.js';
import type { LacCall } from './lac-call.js';
import { LacTunnel, type LacHost, type TunnelCause } from './lac-tunnel.js';
import type { LoadOptions } from './options.js';
import { CauseTable, newCounters, newHistograms, newPingTally, PHASES, type Counters, type Histogram, type Phase, type PingTally, type WorkerStats } from './stats.js';
import { ipv4ToInt } from './template.js';
import type { TunnelPlan, WorkerPlan } from './thread-messages.js';
import { closeSocket, familyOf, openSocket, resolveSocketIo, type LoadSocket, type Sender } from './udp.js';

const TICK_MS = 5;
/** When nothing is waiting to be paced, only set-up deadlines are swept: a few wake-ups a second suffice. */
const IDLE_TICK_MS = 100;
const BURST_MS = 100;
/** Calls placed in one tick at most, so replies keep being read between bursts. */
const MAX_PER_TICK = 2000;

class Bucket {
  private tokens = 1;
  private readonly cap: number;
  constructor(private readonly rate: number) {
    this.cap = Math.max(1, (rate * BURST_MS) / 1000);
  }
  refill(dtMs: number): void {
    this.tokens = Math.min(this.cap, this.tokens + (this.rate * dtMs) / 1000);
  }
  take(): boolean {
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

interface Attempt {
  plan: TunnelPlan;
  attempt: number;
}

/** A tunnel's socket: its own (automatic source port) or shared by the tunnels of one source address and port. */
interface TunnelLink {
  /**
   * An own socket is connected to the LNS once the tunnel learned the port it answers from
   * (`sock.connected`): the kernel then keeps the route and the peer's address, and a send names no
   * destination (measured: a quarter less CPU per datagram sent than an unconnected send).
   */
  readonly sock: LoadSocket;
  readonly own: boolean;
}

export class LoadEngine implements LacHost {
  // Protocol timers here are retransmissions (≥ 1 s), HELLO (60 s) and retry back-off: 50 ms ticks
  // are precise enough and wake the worker 20 times a second, not 200, while tunnels sit idle.
  readonly clock = new TimerWheel({ tickMs: 50 });
  readonly options: LoadOptions;
  readonly counters: Counters = newCounters();
  readonly hist: Record<Phase, Histogram> = newHistograms();
  readonly failures = new CauseTable();
  readonly cleared = new CauseTable();
  readonly ping: PingTally = newPingTally();
  readonly now = (): number => performance.now();
  readonly random = Math.random;
  firstCallAt: number | null = null;
  lastCallUpAt: number | null = null;
  firstTunnelAt: number | null = null;
  lastTunnelUpAt: number | null = null;
  addressLow: number | null = null;
  addressHigh: number | null = null;

  private readonly tunnels = new Map<number, LacTunnel>();
  private readonly attempts = new Map<LacTunnel, Attempt>();
  private readonly links = new Map<LacTunnel, TunnelLink>();
  private readonly sharedSockets = new Map<string, Promise<LoadSocket>>();
  private readonly toOpen: Attempt[] = [];
  private openHead = 0;
  /** Tunnels being bound or waiting for a retry. */
  private opening = 0;
  private retriesPending = 0;
  private readonly ready: LacTunnel[] = [];
  private rr = 0;
  private readonly held: { call: LacCall; due: number }[] = [];
  private heldHead = 0;
  /** Calls in the order placed: their set-up deadlines come due in the same order. */
  private readonly placed: LacCall[] = [];
  private placedHead = 0;
  private nextTunnelId = 1;
  private readonly tunnelBucket: Bucket;
  private readonly callBucket: Bucket;
  private readonly teardownBucket: Bucket;
  private ticker: NodeJS.Timeout | null = null;
  private tickerMs = 0;
  private lastTick = performance.now();
  private stopping = false;
  private closedRetransmits = 0;

  constructor(
    private readonly plan: WorkerPlan,
    private readonly fatal: (message: string) => void,
  ) {
    this.options = plan.options;
    this.tunnelBucket = new Bucket(plan.tunnelRate);
    this.callBucket = new Bucket(plan.callRate);
    this.teardownBucket = new Bucket(plan.teardownRate);
    for (const t of plan.tunnels) {
      this.toOpen.push({ plan: t, attempt: 1 });
      this.counters.tunnelsPlanned++;
      this.counters.callsPlanned += t.calls;
    }
  }

  start(): void {
    this.lastTick = performance.now();
    this.tick();
  }

  /** Tunnels still to open, being opened, connecting, or waiting to try again. */
  private get tunnelsComing(): boolean {
    return this.openHead < this.toOpen.length || this.opening > 0 || this.retriesPending > 0 || this.counters.tunnelsConnecting > 0;
  }

  /** Whether anything waits for a token: tunnels to open, calls to place, held calls to clear. */
  private get pacing(): boolean {
    const heldDue = this.heldHead < this.held.length && this.held[this.heldHead]!.due <= Date.now() + IDLE_TICK_MS;
    return this.openHead < this.toOpen.length || this.ready.length > 0 || heldDue || this.opening > 0 || this.counters.tunnelsConnecting > 0;
  }

  /** Calls whose set-up deadline is still to be checked, or held calls still to be cleared. */
  private get sweeping(): boolean {
    return this.placedHead < this.placed.length || this.heldHead < this.held.length;
  }

  /**
   * The ticker runs fast while anything is paced, slowly while there are deadlines or hold times to
   * watch, and not at all once everything has settled (a run holding its sessions to the end): what
   * could start work again (a tunnel up, a call up, a retry) schedules it anew.
   */
  private schedule(): void {
    if (this.stopping) return;
    const ms = this.pacing ? TICK_MS : this.sweeping ? IDLE_TICK_MS : 0;
    if (ms === this.tickerMs && (ms === 0 || this.ticker !== null)) return;
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
    this.tickerMs = ms;
    if (ms > 0) this.ticker = setInterval(() => this.tick(), ms);
  }

  // ---- pacing ------------------------------------------------------------------------------

  private tick(): void {
    const now = performance.now();
    const dt = now - this.lastTick;
    this.lastTick = now;
    if (this.stopping) return;
    this.pace(now, dt);
    this.schedule();
  }

  private pace(now: number, dt: number): void {
    const K = this.plan.maxOutstanding;

    this.tunnelBucket.refill(dt);
    while (this.openHead < this.toOpen.length && this.counters.tunnelsConnecting + this.opening < K && this.tunnelBucket.take()) {
      void this.open(this.toOpen[this.openHead++]!);
    }
    if (this.openHead > 1024 && this.openHead * 2 > this.toOpen.length) {
      this.toOpen.splice(0, this.openHead);
      this.openHead = 0;
    }

    // --calls-after-tunnels: no call until no tunnel is still coming up, and no tokens saved up meanwhile (the first
    // calls would go out as a burst of 100 ms worth).
    const callsWait = this.plan.options.callsAfterTunnels && this.tunnelsComing;
    if (!callsWait) this.callBucket.refill(dt);
    let placed = 0;
    // A tunnel whose control window is full would hold the ICRQ back in our own queue, and that wait would be
    // counted as the LNS's latency: such tunnels are skipped until their window opens (it does as acks come).
    let skipped = 0;
    while (!callsWait && this.ready.length > 0 && placed < MAX_PER_TICK && this.counters.callsInProgress < K) {
      if (this.rr >= this.ready.length) this.rr = 0;
      const t = this.ready[this.rr]!;
      // (One that went down still goes to placeCall, which refuses, so that it leaves `ready`.)
      if (t.state === 'established' && !t.channel.canSendNow()) {
        this.rr++;
        if (++skipped >= this.ready.length) break;
        continue;
      }
      if (!this.callBucket.take()) break;
      skipped = 0;
      const call = t.placeCall();
      if (call) this.placed.push(call);
      if (call === undefined || t.callsLeft === 0) {
        // Done with this tunnel (or it went down): swap-remove keeps the round robin O(1).
        this.ready[this.rr] = this.ready[this.ready.length - 1]!;
        this.ready.pop();
      } else {
        this.rr++;
      }
      placed++;
    }

    while (this.placedHead < this.placed.length) {
      const c = this.placed[this.placedHead]!;
      if (c.settingUp) {
        if (c.deadline > now) break;
        c.setupTimedOut();
      }
      this.placedHead++;
    }
    if (this.placedHead > 4096 && this.placedHead * 2 > this.placed.length) {
      this.placed.splice(0, this.placedHead);
      this.placedHead = 0;
    }

    if (this.options.holdMs !== null) {
      this.teardownBucket.refill(dt);
      const wall = Date.now();
      while (this.heldHead < this.held.length && this.held[this.heldHead]!.due <= wall) {
        const h = this.held[this.heldHead]!;
        if (h.call.state === 'up') {
          if (!this.teardownBucket.take()) break;
          h.call.clear();
        }
        this.heldHead++;
      }
      if (this.heldHead > 4096 && this.heldHead * 2 > this.held.length) {
        this.held.splice(0, this.heldHead);
        this.heldHead = 0;
      }
    }
  }

  /** Everything placed and answered (established or failed); nothing more will start. */
  get settled(): boolean {
    return !this.tunnelsComing && this.ready.length === 0 && this.counters.callsInProgress === 0;
  }

  /** Settled, and (with a hold time) every call cleared again. */
  get done(): boolean {
    return this.settled && this.options.holdMs !== null && this.counters.callsActive === 0 && this.counters.callsTearingDown === 0;
  }

  // ---- tunnels -----------------------------------------------------------------------------

  private allocateTunnelId(): number {
    const max = this.options.version === 2 ? 0xffff : 0xffffffff;
    for (;;) {
      const id = this.nextTunnelId;
      this.nextTunnelId = id >= max ? 1 : id + 1;
      if (!this.tunnels.has(id)) return id;
    }
  }

  private async open(a: Attempt): Promise<void> {
    this.opening++;
    let sock: LoadSocket;
    try {
      sock = await this.socketFor(a.plan);
    } catch (e) {
      this.opening--;
      if (!this.stopping) this.fatal((e as Error).message);
      return;
    }
    this.opening--;
    if (this.stopping) {
      if (a.plan.port === 0) closeSocket(sock);
      return;
    }
    const t = new LacTunnel(this, this.allocateTunnelId(), a.plan.index, { ...sock.local }, a.plan.calls);
    this.tunnels.set(t.id, t);
    this.attempts.set(t, a);
    this.links.set(t, { sock, own: a.plan.port === 0 });
    this.firstTunnelAt ??= Date.now();
    t.start();
  }

  private socketFor(p: TunnelPlan): Promise<LoadSocket> {
    const family = familyOf(this.options.target.address);
    if (p.port === 0) return openSocket(family, p.source, 0, this.sink, this.onSendError, this.options.socketIo);
    const key = `${p.source}|${p.port}`;
    let s = this.sharedSockets.get(key);
    if (!s) {
      s = openSocket(family, p.source, p.port, this.sink, this.onSendError, this.options.socketIo);
      this.sharedSockets.set(key, s);
    }
    return s;
  }

  private readonly sink = (buf: Buffer, from: Sender): void => this.onPacket(buf, from);
  private readonly onSendError = (): void => {
    this.counters.sendErrors++;
  };

  private onPacket(buf: Buffer, rinfo: Sender): void {
    this.counters.packetsReceived++;
    let h;
    try {
      h = peekHeader(buf);
    } catch (e) {
      if (!(e instanceof MalformedHeaderError)) throw e;
      this.counters.strayPackets++;
      return;
    }
    if (!h.isControl) {
      this.counters.dataPackets++;
      if (this.options.ppp) this.tunnels.get(h.tunnelId)?.receiveData(h.sessionId, buf.subarray(h.headerLength, h.messageLength));
      return;
    }
    const t = this.tunnels.get(h.tunnelId);
    if (!t) {
      this.counters.strayPackets++;
      return;
    }
    t.receive(buf, h, rinfo);
  }

  transmit(t: LacTunnel, buf: Buffer | readonly Buffer[]): void {
    const link = this.links.get(t);
    if (!link) return;
    this.counters.packetsSent++;
    link.sock.send(buf as Buffer | Buffer[], t.peer.port, t.peer.address);
  }

  /**
   * An own socket is connected to the port the LNS answered from (all of the tunnel's traffic uses
   * it from then on, as the LNS's own per-tunnel sockets do). A shared socket serves tunnels that
   * the LNS may answer from different ports (RFC 2661 §8.1) and stays unconnected.
   */
  peerLearned(t: LacTunnel): void {
    const link = this.links.get(t);
    if (!link || !link.own || link.sock.connected) return;
    link.sock.connect(t.peer.port, t.peer.address); // only a saving: if it fails, unconnected sends work as before
  }

  noteCallStart(): void {
    this.firstCallAt ??= Date.now();
  }

  tunnelUp(t: LacTunnel): void {
    this.lastTunnelUpAt = Date.now();
    if (t.callsLeft > 0) this.ready.push(t);
    this.schedule();
  }

  callUp(c: LacCall): void {
    const now = Date.now();
    this.lastCallUpAt = now;
    if (this.options.holdMs !== null) {
      this.held.push({ call: c, due: now + this.options.holdMs });
      this.schedule();
    }
  }

  addressAssigned(address: string): void {
    this.counters.addressesAssigned++;
    const n = ipv4ToInt(address);
    if (this.addressLow === null || n < this.addressLow) this.addressLow = n;
    if (this.addressHigh === null || n > this.addressHigh) this.addressHigh = n;
  }

  tunnelClosed(t: LacTunnel, cause: TunnelCause | undefined, wasUp: boolean): void {
    this.tunnels.delete(t.id);
    this.closedRetransmits += t.channel.stats.retransmitted;
    const a = this.attempts.get(t)!;
    this.attempts.delete(t);
    const link = this.links.get(t);
    this.links.delete(t);
    if (link?.own) closeSocket(link.sock);
    // A closed tunnel still in `ready` is dropped by the next tick (placeCall refuses).
    if (cause === undefined || this.stopping) return;
    if (wasUp) {
      this.counters.tunnelsLost++;
      this.cleared.add({ phase: 'tunnel', ...cause });
      return;
    }
    this.counters.tunnelAttemptsFailed++;
    this.failures.add({ phase: 'tunnel', ...cause });
    if (a.attempt <= this.options.tunnelRetries) {
      // Bounded retries with back-off: 1 s, 2 s, 4 s ... (at most 30 s).
      this.retriesPending++;
      this.clock.setTimeout(() => {
        this.retriesPending--;
        if (this.stopping) return;
        this.toOpen.push({ plan: a.plan, attempt: a.attempt + 1 });
        this.schedule();
      }, Math.min(30_000, 1000 * 2 ** (a.attempt - 1)));
    } else {
      this.counters.tunnelsFailed++;
    }
  }

  // ---- stopping ----------------------------------------------------------------------------

  /** StopCCN on every tunnel; resolves when all are acknowledged or `graceMs` has passed. */
  async stop(graceMs: number): Promise<void> {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.stopping = true;
    for (const t of [...this.tunnels.values()]) t.stop();
    const end = Date.now() + graceMs;
    while (this.tunnels.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    for (const t of [...this.tunnels.values()]) t.abandon();
    this.clock.stop();
    for (const s of this.sharedSockets.values()) s.then(closeSocket, () => undefined);
  }

  stats(worker: number, elu: number): WorkerStats {
    let retransmits = this.closedRetransmits;
    for (const t of this.tunnels.values()) retransmits += t.channel.stats.retransmitted;
    this.counters.retransmits = retransmits;
    return {
      worker,
      counters: { ...this.counters },
      hist: Object.fromEntries(PHASES.map((p) => [p, [...this.hist[p]]])) as Record<Phase, Histogram>,
      failures: this.failures.list(),
      cleared: this.cleared.list(),
      firstCallAt: this.firstCallAt,
      lastCallUpAt: this.lastCallUpAt,
      firstTunnelAt: this.firstTunnelAt,
      lastTunnelUpAt: this.lastTunnelUpAt,
      addressLow: this.addressLow,
      addressHigh: this.addressHigh,
      ping: { rtt: [...this.ping.rtt], maxMs: this.ping.maxMs },
      elu,
      settled: this.settled,
      done: this.done,
    };
  }
}
