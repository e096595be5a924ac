/**
 * Where l2tpd's JSON log lines go: standard output, one write(2) per turn of the event loop instead of one per line.
 *
 * Measured (docs/benchmarks.md, issue 6): with pino's default synchronous destination the two info lines of every
 * session ("session established", "session closed") cost a shard worker ~10% of its busy time at 8,000 calls/s,
 * about half of it in write(2) itself. Lines written in one turn (a batch of datagrams, a timer sweep) are joined
 * and written together when the turn ends (setImmediate) or 8 KiB have gathered, still synchronously: nothing waits in a thread pool and a
 * line is out before the next batch of packets is read. `flushSync` empties the buffer at once — before the
 * process exits, and before a worker answers a management call (the caller may stop it right after).
 */
import sonicBoomModule, { type SonicBoom as Boom } from 'sonic-boom';

// CommonJS: the class is the module itself (its typings name it both ways; Node's ESM import sees only the default).
const { SonicBoom } = sonicBoomModule as unknown as { SonicBoom: typeof Boom };

export class TurnBufferedSink {
  private readonly out: Boom;
  private scheduled = false;
  private readonly onTurnEnd = (): void => {
    this.scheduled = false;
    this.flushSync();
  };

  constructor(fd = 1) {
    // sonic-boom writes by itself only once 8 KiB (~40 lines) wait (its limit: below one 16 KiB write), else at flushSync.
    this.out = new SonicBoom({ fd, sync: true, minLength: 8192 });
  }

  /** pino's destination interface: one serialised line. */
  write(line: string): boolean {
    this.out.write(line);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onTurnEnd);
    }
    return true;
  }

  flushSync(): void {
    try {
      this.out.flushSync();
    } catch {
      // EPIPE or a closed descriptor: nobody reads the log any more; the daemon goes on.
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
