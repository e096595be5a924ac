/**
 * The data of one subscriber (--ping-rate): ICMP echo requests through its PPP session, once IPCP has
 * given it an address, at the given rate with jittered intervals (uniform 0.5–1.5 × the mean, the
 * first one at a random point of the first interval) so that sessions do not send in step.
 *
 * Accounting, per request: a reply within the timeout is `replies` (its round trip recorded); a
 * request with none by then is `lost` (swept before each send and when the session ends); a reply
 * after that, or a second one, is `late` and changes nothing. Requests still within their timeout when
 * the session ends (cleared, or the run stopping) are `outstandingAtEnd`: neither answered nor lost,
 * left out of the loss figure.
 *
 * Send times sit in a ring indexed by sequence number (a power of two above rate × timeout, so a slot
 * is free again before its number comes round); a reply is judged in place. Per request: one frame
 * written into the worker's shared buffer (the L2TP message is a copy) and one timer-wheel entry.
 */
import type { Clock, TimerHandle } from '../src/transport/clock.js';
import { EchoRequestWriter, newEchoFields, readIcmpEcho, IpVerdict } from './icmp.js';
import type { PingLoadOptions } from './options.js';
import { recordLatency, type Counters, type PingTally } from './stats.js';

/** What a session's pinger needs from its worker. */
export interface PingHost {
  readonly clock: Clock;
  readonly counters: Counters;
  readonly ping: PingTally;
  /** Milliseconds, for round trips and timeouts (performance.now in a worker). */
  now(): number;
  random(): number;
}

const EMPTY = -1;
/** One reused record for reading replies (a worker handles one packet at a time). */
const fields = newEchoFields();
/** One request buffer per payload size in this worker. */
const writers = new Map<number, EchoRequestWriter>();

function writerFor(size: number): EchoRequestWriter {
  let w = writers.get(size);
  if (!w) {
    w = new EchoRequestWriter(size);
    writers.set(size, w);
  }
  return w;
}

export class Pinger {
  private readonly sentAt: Float64Array;
  private readonly mask: number;
  private readonly writer: EchoRequestWriter;
  private readonly intervalMs: number;
  /** Sequence number of the next request, and of the oldest that may still be outstanding (16 bits). */
  private nextSeq = 0;
  private oldest = 0;
  private pending = 0;
  private timer: TimerHandle | null = null;
  private stopped = false;
  private readonly fire = (): void => this.tick();

  constructor(
    private readonly host: PingHost,
    private readonly o: PingLoadOptions,
    private readonly sendFrame: (frame: Buffer) => void,
    /** Our address (from IPCP) and the destination, as 32-bit numbers; the ICMP identifier of this session. */
    readonly src: number,
    readonly dst: number,
    readonly ident: number,
  ) {
    this.intervalMs = 1000 / o.rate;
    let size = 4;
    while (size < Math.ceil((o.rate * o.timeoutMs) / 1000) + 2 && size < 0x8000) size *= 2;
    this.sentAt = new Float64Array(size).fill(EMPTY);
    this.mask = size - 1;
    this.writer = writerFor(o.size);
  }

  start(): void {
    if (this.stopped || this.timer !== null) return;
    this.host.counters.pingSessions++;
    this.timer = this.host.clock.setTimeout(this.fire, this.host.random() * this.intervalMs);
  }

  private tick(): void {
    this.timer = null;
    if (this.stopped) return;
    const now = this.host.now();
    this.expire(now);
    const seq = this.nextSeq;
    const slot = seq & this.mask;
    // Only if the ring were smaller than the requests a timeout spans (it is not): the oldest is lost.
    if (this.sentAt[slot] !== EMPTY) this.lose(slot);
    this.sentAt[slot] = now;
    this.nextSeq = (seq + 1) & 0xffff;
    this.pending++;
    const c = this.host.counters;
    c.pingRequests++;
    c.pingOutstanding++;
    this.sendFrame(this.writer.frame(this.src, this.dst, this.ident, seq));
    if (!this.stopped) this.timer = this.host.clock.setTimeout(this.fire, this.intervalMs * (0.5 + this.host.random()));
  }

  /** Requests past their timeout, oldest first, are lost. */
  private expire(now: number): void {
    const limit = this.o.timeoutMs;
    while (this.oldest !== this.nextSeq) {
      const slot = this.oldest & this.mask;
      const t = this.sentAt[slot]!;
      if (t !== EMPTY) {
        if (now - t < limit) return;
        this.lose(slot);
      }
      this.oldest = (this.oldest + 1) & 0xffff;
    }
  }

  private lose(slot: number): void {
    this.sentAt[slot] = EMPTY;
    this.pending--;
    const c = this.host.counters;
    c.pingOutstanding--;
    c.pingLost++;
  }

  /** An IPv4 packet from the LNS for this subscriber, at `off` in `buf`. Never throws. */
  receive(buf: Buffer, off: number): void {
    const c = this.host.counters;
    const v = readIcmpEcho(buf, off, fields);
    if (v === IpVerdict.Malformed) {
      c.ipMalformed++;
      return;
    }
    // Ours: an echo reply from where we sent, to our address, with our identifier and data.
    if (v !== IpVerdict.EchoReply || fields.ident !== this.ident || fields.src !== this.dst || fields.dst !== this.src || fields.dataLength !== this.o.size) {
      c.ipUnexpected++;
      return;
    }
    const seq = fields.seq;
    const slot = seq & this.mask;
    const sent = this.sentAt[slot]!;
    // A number from the last ring-full of requests, not yet answered nor expired.
    if (((this.nextSeq - 1 - seq) & 0xffff) > this.mask || sent === EMPTY) {
      c.pingLate++;
      return;
    }
    const rtt = this.host.now() - sent;
    if (rtt >= this.o.timeoutMs) {
      this.lose(slot);
      c.pingLate++;
      return;
    }
    this.sentAt[slot] = EMPTY;
    this.pending--;
    c.pingOutstanding--;
    c.pingReplies++;
    const t = this.host.ping;
    recordLatency(t.rtt, rtt);
    if (t.maxMs === null || rtt > t.maxMs) t.maxMs = rtt;
  }

  /** The session ends (or the run stops): no more requests; what is past its timeout is lost, the rest outstanding at the end. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) this.host.clock.clearTimeout(this.timer);
    this.timer = null;
    this.expire(this.host.now());
    const c = this.host.counters;
    c.pingOutstanding -= this.pending;
    c.pingOutstandingAtEnd += this.pending;
    this.pending = 0;
    this.sentAt.fill(EMPTY);
  }
}
