/**
 * Where l2tpd's JSON log lines go: standard output, one write(2) per turn of the event loop instead of one per line.
 *
 * Measured (docs/benchmarks.md, issue 6): with pino's default synchronous destination the two info lines of every
 * session ("session established", "session closed") cost a shard worker ~10% of its busy time at 8,000 calls/s,
 * about half of it in write(2) itself. Lines written in one turn (a batch of datagrams, a timer sweep) are joined
 * and written together when the turn ends (setImmediate) or once 8 KiB have gathered, still synchronously: nothing
 * waits in a thread pool and a line is out before the next batch of packets is read. `flushSync` empties the buffer
 * at once — before the process exits, and before a worker answers a management call (the caller may stop it right
 * after). No fsync: sonic-boom's flushSync (pino's writer) syncs the file every time, 4% of a shard in the profile.
 */
import { writeSync } from 'node:fs';

/** Past this many characters waiting, the turn's lines go out at once. */
const MAX_PENDING = 8192;
/** A pipe whose reader is slow (EAGAIN): wait this long between tries, as pino's synchronous writer does. */
const BUSY_WAIT_MS = 10;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class TurnBufferedSink {
  private parts: string[] = [];
  private pending = 0;
  private scheduled = false;
  private broken = false;
  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.flushSync();
  };

  constructor(private readonly fd = 1) {}

  /** pino's destination interface: one serialised line. */
  write(line: string): boolean {
    if (this.broken) return true;
    this.parts.push(line);
    this.pending += line.length;
    if (this.pending >= MAX_PENDING) this.flushSync();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onTurnEnd);
    }
    return true;
  }

  flushSync(): void {
    if (this.parts.length === 0) return;
    let buf = Buffer.from(this.parts.length === 1 ? this.parts[0]! : this.parts.join(''));
    this.parts = [];
    this.pending = 0;
    while (buf.length > 0 && !this.broken) {
      try {
        buf = buf.subarray(writeSync(this.fd, buf));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EBUSY') Atomics.wait(sleeper, 0, 0, BUSY_WAIT_MS);
        // EPIPE or a closed descriptor: nobody reads the log any more; the daemon goes on without it.
        else this.broken = true;
      }
    }
  }
}

/** The sink of this thread, made on first use, flushed when the thread exits normally. */
let sink: TurnBufferedSink | undefined;
export function logSink(): TurnBufferedSink {
  if (!sink) {
    const s = (sink = new TurnBufferedSink());
    process.on('exit', () => s.flushSync());
  }
  return sink;
}
