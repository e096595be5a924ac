/**
 * The client end of the management socket (protocol.ts), used by l2tpctl: one connection, calls typed by the
 * method table, answers matched to calls by id so calls may overlap.
 *
 * Two kinds of failure stay apart because an operator acts differently on them: MgmtError is the daemon's
 * answer ("no tunnel 5"); MgmtUnavailableError means no daemon answered at all (not running, wrong socket path,
 * no permission, wedged).
 */
import net from 'node:net';
import { isErrorCode, MgmtError, type MethodName, type ParamsOf, type ResultOf } from './protocol.js';

export { MgmtError };

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Generous: config.reload re-reads and checks the whole configuration. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
/** Answers are small except lists of many tunnels; a runaway daemon must not exhaust the client's memory. */
const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

/** The daemon cannot be reached on `socketPath`, or stopped answering. */
export class MgmtUnavailableError extends Error {
  override readonly name = 'MgmtUnavailableError';
  constructor(
    readonly socketPath: string,
    /** Why: ENOENT, ECONNREFUSED, EACCES, timeout, closed. */
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

function unavailable(socketPath: string, e: NodeJS.ErrnoException): MgmtUnavailableError {
  const why: Record<string, string> = {
    ENOENT: 'no such socket (is l2tpd running?)',
    ECONNREFUSED: 'connection refused (is l2tpd running?)',
    EACCES: 'permission denied (are you in the group that owns the socket?)',
    ENOTSOCK: 'not a socket',
  };
  const reason = e.code ?? 'error';
  return new MgmtUnavailableError(socketPath, reason, `cannot reach l2tpd at ${socketPath}: ${why[reason] ?? e.message}`);
}

/** Calls whose params may all be omitted take them optionally. */
type ParamsArg<M extends MethodName> = {} extends ParamsOf<M> ? [params?: ParamsOf<M>] : [params: ParamsOf<M>];

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export interface MgmtClientOptions {
  /** How long a call may wait for its answer before it fails with MgmtUnavailableError. */
  callTimeoutMs?: number;
}

export class MgmtClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private closedBy: MgmtUnavailableError | undefined;

  private constructor(
    private readonly sock: net.Socket,
    readonly socketPath: string,
    private readonly callTimeoutMs: number,
  ) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    const lost = (reason: string, why: string) => new MgmtUnavailableError(socketPath, reason, `lost the management connection to l2tpd at ${socketPath}: ${why}`);
    sock.on('error', (e: NodeJS.ErrnoException) => this.fail(lost(e.code ?? 'error', e.message)));
    sock.on('close', () => this.fail(lost('closed', 'closed by l2tpd')));
  }

  /** Connects to the daemon; rejects with MgmtUnavailableError when nothing answers within `timeoutMs`. */
  static connect(socketPath: string, timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS, options: MgmtClientOptions = {}): Promise<MgmtClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new MgmtUnavailableError(socketPath, 'timeout', `cannot reach l2tpd at ${socketPath}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(unavailable(socketPath, e));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new MgmtClient(sock, socketPath, options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS));
      });
    });
  }

  /** Calls `method`; resolves with its result, rejects with MgmtError (the daemon's answer) or MgmtUnavailableError. */
  call<M extends MethodName>(method: M, ...[params]: ParamsArg<M>): Promise<ResultOf<M>> {
    if (this.closedBy) return Promise.reject(this.closedBy);
    const id = this.nextId++;
    return new Promise<ResultOf<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new MgmtUnavailableError(this.socketPath, 'timeout', `l2tpd at ${this.socketPath} did not answer ${method} within ${this.callTimeoutMs} ms`));
      }, this.callTimeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.sock.write(`${JSON.stringify({ id, method, params: params ?? {} })}\n`);
    });
  }

  /** Closes the connection; calls still waiting fail with MgmtUnavailableError. */
  close(): void {
    this.fail(new MgmtUnavailableError(this.socketPath, 'closed', `management connection to ${this.socketPath} closed by the client`));
    this.sock.destroy();
  }

  private onData(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const line = Buffer.concat([...this.buffered, chunk.subarray(start, nl)]).toString('utf8');
      this.buffered = [];
      this.bufferedBytes = 0;
      start = nl + 1;
      this.onAnswer(line);
    }
    if (start < chunk.length) {
      this.buffered.push(Buffer.from(chunk.subarray(start)));
      this.bufferedBytes += chunk.length - start;
      if (this.bufferedBytes > MAX_ANSWER_BYTES) {
        this.fail(new MgmtUnavailableError(this.socketPath, 'protocol', `l2tpd at ${this.socketPath} sent an answer over ${MAX_ANSWER_BYTES} bytes`));
        this.sock.destroy();
      }
    }
  }

  private onAnswer(line: string): void {
    let answer: { id?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown; param?: unknown } };
    try {
      answer = JSON.parse(line) as typeof answer;
    } catch {
      this.fail(new MgmtUnavailableError(this.socketPath, 'protocol', `l2tpd at ${this.socketPath} sent something that is not JSON`));
      this.sock.destroy();
      return;
    }
    const error = answer.error
      ? new MgmtError(
          isErrorCode(answer.error.code) ? answer.error.code : 'internal',
          typeof answer.error.message === 'string' ? answer.error.message : 'unknown error',
          typeof answer.error.param === 'string' ? answer.error.param : undefined,
        )
      : undefined;
    if (typeof answer.id !== 'number') {
      // Not tied to a request (the daemon found our framing bad): every waiting call gets it.
      if (error) for (const id of [...this.pending.keys()]) this.settle(id, error);
      return;
    }
    this.settle(answer.id, error, answer.result);
  }

  private settle(id: number, error: Error | undefined, result?: unknown): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (error) p.reject(error);
    else p.resolve(result);
  }

  private fail(e: MgmtUnavailableError): void {
    this.closedBy ??= e;
    for (const id of [...this.pending.keys()]) this.settle(id, e);
  }
}
