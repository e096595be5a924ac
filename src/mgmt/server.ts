/**
 * The daemon's end of the management socket (protocol.ts): accepts connections on a UNIX socket, splits each
 * into lines, validates every request and runs its handler, and writes one answer per request, tagged with the
 * request's id. Client input never throws out of here: bad JSON, unknown methods, bad params and handler
 * failures all become error answers, and a client that sends a line over MAX_LINE_BYTES is disconnected.
 */
import { lstat, mkdir, chmod, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { isErrorCode, isMethodName, MgmtError, validateParams, type ErrorCode, type MethodName, type MgmtHandlers, type MgmtResponse } from './protocol.js';

/** The longest request line accepted; the largest real request is well under 1 KiB. */
export const MAX_LINE_BYTES = 1024 * 1024;
/** Requests of one connection running at once; past this the server stops reading from it until some finish. */
export const MAX_IN_FLIGHT = 64;
/** Owner and group (the operators' group) may connect; nobody else. */
export const SOCKET_MODE = 0o660;

export type MgmtLog = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** `listen` found a live daemon on the socket path, or a file there that is not a socket. */
export class MgmtListenError extends Error {
  override readonly name = 'MgmtListenError';
  constructor(
    message: string,
    readonly socketPath: string,
  ) {
    super(message);
  }
}

/** Whether something accepts connections on `socketPath` (a daemon that is running), within `timeoutMs`. */
function answers(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(alive);
    };
    // A live but wedged daemon still completes the connect (the kernel accepts into the backlog).
    const timer = setTimeout(() => done(true), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export class MgmtServer {
  private server: net.Server | undefined;
  private socketPath: string | undefined;
  private readonly connections = new Set<net.Socket>();

  constructor(
    private readonly handlers: MgmtHandlers,
    private readonly log: MgmtLog,
  ) {}

  /** The socket path while listening. */
  get path(): string | undefined {
    return this.socketPath;
  }

  /**
   * Listens on `socketPath`, creating its directory. A socket file left by a daemon that died is replaced; one
   * that still answers means another l2tpd is running, and this fails with MgmtListenError rather than steal it.
   */
  async listen(socketPath: string): Promise<void> {
    if (this.server) throw new Error(`management server already listening on ${this.socketPath}`);
    await mkdir(path.dirname(socketPath), { recursive: true, mode: 0o750 });
    const existing = await lstat(socketPath).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return undefined;
      throw e;
    });
    if (existing) {
      if (!existing.isSocket()) throw new MgmtListenError(`${socketPath} exists and is not a socket; refusing to replace it`, socketPath);
      if (await answers(socketPath)) throw new MgmtListenError(`another l2tpd is running: ${socketPath} answers`, socketPath);
      this.log.info({ socket: socketPath }, 'removing stale management socket');
      await unlink(socketPath).catch(() => undefined);
    }
    const server = net.createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        // Lost a race with another daemon starting at the same moment.
        if (e.code === 'EADDRINUSE') reject(new MgmtListenError(`another l2tpd is running: ${socketPath} is in use`, socketPath));
        else reject(e);
      });
      server.listen(socketPath, () => resolve());
    });
    server.on('error', (e) => this.log.error({ err: e, socket: socketPath }, 'management socket error'));
    this.server = server;
    this.socketPath = socketPath;
    try {
      await chmod(socketPath, SOCKET_MODE);
    } catch (e) {
      await this.close();
      throw e;
    }
    this.log.info({ socket: socketPath }, 'management socket listening');
  }

  /** Stops listening, drops every connection and removes the socket file. */
  async close(): Promise<void> {
    const server = this.server;
    const socketPath = this.socketPath;
    if (!server || socketPath === undefined) return;
    this.server = undefined;
    this.socketPath = undefined;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(socketPath).catch(() => undefined);
  }

  private accept(sock: net.Socket): void {
    this.connections.add(sock);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let inFlight = 0;
    let closed = false;
    const send = (r: MgmtResponse) => {
      if (!closed && sock.writable) sock.write(`${this.serialize(r)}\n`);
    };
    const run = (line: string) => {
      inFlight++;
      if (inFlight >= MAX_IN_FLIGHT) sock.pause();
      void this.answer(line)
        .then(send)
        .finally(() => {
          inFlight--;
          if (inFlight < MAX_IN_FLIGHT && !closed) sock.resume();
        });
    };
    sock.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const piece = chunk.subarray(start, nl);
        start = nl + 1;
        if (pendingBytes + piece.length > MAX_LINE_BYTES) return this.tooLong(sock, send);
        const line = pending.length === 0 ? piece.toString('utf8') : Buffer.concat([...pending, piece]).toString('utf8');
        pending = [];
        pendingBytes = 0;
        if (line.trim() !== '') run(line);
      }
      const rest = chunk.subarray(start);
      if (pendingBytes + rest.length > MAX_LINE_BYTES) return this.tooLong(sock, send);
      if (rest.length > 0) {
        pending.push(Buffer.from(rest));
        pendingBytes += rest.length;
      }
    });
    sock.on('error', (e) => this.log.debug({ err: e }, 'management connection error'));
    sock.on('close', () => {
      closed = true;
      this.connections.delete(sock);
    });
  }

  private tooLong(sock: net.Socket, send: (r: MgmtResponse) => void): void {
    this.log.warn({ limit: MAX_LINE_BYTES }, 'management request line too long; closing the connection');
    send({ id: null, error: { code: 'limit', message: `request line longer than ${MAX_LINE_BYTES} bytes` } });
    sock.removeAllListeners('data');
    sock.end();
    // A client that keeps writing never lets end() finish; do not wait for it.
    setTimeout(() => sock.destroy(), 1000).unref();
  }

  /** A handler's result that JSON cannot carry (a BigInt, a cycle) is the daemon's bug, answered as such. */
  private serialize(r: MgmtResponse): string {
    try {
      return JSON.stringify(r);
    } catch (e) {
      this.log.error({ err: e, id: r.id }, 'management answer is not serializable');
      return JSON.stringify(errorResponse(r.id, 'internal', `answer not serializable: ${(e as Error).message}`));
    }
  }

  /** One request line → its answer. Never throws. */
  private async answer(line: string): Promise<MgmtResponse> {
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch (e) {
      return errorResponse(null, 'bad-request', `not JSON: ${(e as Error).message}`);
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) return errorResponse(null, 'bad-request', 'a request is a JSON object');
    const { id, method, params } = request as Record<string, unknown>;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return errorResponse(null, 'bad-request', 'request id must be an integer');
    if (typeof method !== 'string') return errorResponse(id, 'bad-request', 'request method must be a string');
    if (!isMethodName(method)) return errorResponse(id, 'unknown-method', `no method ${JSON.stringify(method)}`);
    try {
      const valid = validateParams(method, params);
      const handler = this.handlers[method] as (p: unknown) => Promise<unknown>;
      const result = await handler(valid);
      return { id, result: result ?? null };
    } catch (e) {
      return this.failure(id, method, e);
    }
  }

  private failure(id: number, method: MethodName, e: unknown): MgmtResponse {
    const code = (e as { code?: unknown } | null)?.code;
    if (isErrorCode(code) && e instanceof Error) {
      this.log.debug({ method, code, err: e }, 'management request failed');
      const param = e instanceof MgmtError && e.param !== undefined ? { param: e.param } : {};
      return { id, error: { code, message: e.message, ...param } };
    }
    this.log.error({ method, err: e }, 'management handler failed');
    return errorResponse(id, 'internal', e instanceof Error ? e.message : String(e));
  }
}

function errorResponse(id: number | null, code: ErrorCode, message: string): MgmtResponse {
  return { id, error: { code, message } };
}
