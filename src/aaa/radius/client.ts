/**
 * The RADIUS client transport: one request at a time per (socket, server, Identifier), retransmission
 * of the identical packet on timeout (RFC 2865 §2.5: same Identifier and authenticator), then failover
 * to the next server with a fresh packet (its own secret, Identifier and authenticator).
 *
 * Servers are tried in configured order (primary first). A server that exhausts its retries is marked
 * dead for `deadTimeMs`, and requests skip it until then (revival is simply that time running out, so a
 * recovered primary takes traffic back). When every server is dead they are all tried anyway, the one
 * due to revive first leading: refusing service because of stale marks would be worse.
 *
 * Replies are matched by source address/port and Identifier, and accepted only when the Response
 * Authenticator (and Message-Authenticator, when present or required) verify against the request:
 * anything else is silently discarded (RFC 2865 §3) and counted, so a late reply to a previous user of
 * an Identifier can never be taken for the current request's.
 */
import dgram from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { REPLY_CODES } from './dictionary.js';
import { RadiusClosedError, RadiusCodecError, RadiusTimeoutError } from './errors.js';
import { decodePacket, encodePacket, verifyResponse, type RadiusPacket } from './packet.js';
import type { Attribute } from './values.js';

export interface RadiusServer {
  /** IP address literal (IPv4 or IPv6); replies are matched against it. */
  host: string;
  port: number;
  secret: string;
}

export interface RadiusClientOptions {
  servers: readonly RadiusServer[];
  /** Wait for a reply before retransmitting (default 3000 ms). */
  timeoutMs?: number;
  /** Retransmissions per server before failing over (default 2, i.e. 3 transmissions). */
  retries?: number;
  /** How long a server that exhausted its retries is skipped (default 30 s). */
  deadTimeMs?: number;
  /** Local address to send from (default: any). */
  bindAddress?: string;
  /** Drop replies without a Message-Authenticator (BlastRADIUS, 2024). Default false: FreeRADIUS < 3.2.5 omits it. */
  requireMessageAuthenticator?: boolean;
  /** Sockets per address family; each gives 256 Identifiers per server (default 4). */
  maxSockets?: number;
  log?: Logger;
}

export interface RadiusReply {
  packet: RadiusPacket;
  /** `host:port` of the server that answered. */
  server: string;
  /** Transmissions in total, across servers. */
  transmissions: number;
}

export interface ServerStats {
  server: string;
  requests: number;
  retransmissions: number;
  timeouts: number;
  replies: number;
  /** Replies discarded: bad authenticator, malformed, unexpected code or Identifier. */
  discarded: number;
  dead: boolean;
}

/** Attributes for one server's packet: a function when they depend on the attempt (Acct-Delay-Time). */
export type AttributeSource = readonly Attribute[] | ((server: RadiusServer) => readonly Attribute[]);

interface ServerState {
  readonly server: RadiusServer;
  readonly key: string;
  readonly family: 4 | 6;
  deadUntil: number;
  stats: Omit<ServerStats, 'server' | 'dead'>;
}

interface Pending {
  state: ServerState;
  authenticator: Buffer;
  requestCode: number;
  /** Settles the transaction: with the reply, or undefined when the client closes. */
  resolve(p: RadiusPacket | undefined): void;
}

/** One UDP socket and the Identifiers in use on it, per server. */
class Endpoint {
  readonly pending = new Map<string, Pending>();
  /** `server#id` taken, from allocation (synchronous) until the transaction ends. */
  private readonly taken = new Set<string>();
  private readonly nextId = new Map<string, number>();
  constructor(readonly socket: dgram.Socket) {}

  /** Takes a free Identifier for the server, or undefined when all 256 are in flight on this socket. */
  allocate(serverKey: string): number | undefined {
    const start = this.nextId.get(serverKey) ?? Math.floor(Math.random() * 256);
    for (let i = 0; i < 256; i++) {
      const id = (start + i) & 0xff;
      if (!this.taken.has(`${serverKey}#${id}`)) {
        this.taken.add(`${serverKey}#${id}`);
        this.nextId.set(serverKey, (id + 1) & 0xff);
        return id;
      }
    }
    return undefined;
  }

  free(key: string): void {
    this.pending.delete(key);
    this.taken.delete(key);
  }
}

export class RadiusClient {
  private readonly states: ServerState[];
  private readonly byKey = new Map<string, ServerState>();
  private readonly endpoints: Record<4 | 6, Endpoint[]> = { 4: [], 6: [] };
  private readonly opening: Record<4 | 6, Promise<Endpoint> | undefined> = { 4: undefined, 6: undefined };
  private readonly waiters: Array<() => void> = [];
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly deadTimeMs: number;
  private closed = false;

  constructor(private readonly opts: RadiusClientOptions) {
    if (opts.servers.length === 0) throw new Error('RadiusClient needs at least one server');
    this.states = opts.servers.map((server) => {
      const family = isIP(server.host) as 0 | 4 | 6;
      if (family === 0) throw new Error(`RADIUS server host "${server.host}" is not an IP address literal`);
      const key = `${family === 6 ? `[${server.host}]` : server.host}:${server.port}`;
      const state: ServerState = {
        server,
        key,
        family,
        deadUntil: 0,
        stats: { requests: 0, retransmissions: 0, timeouts: 0, replies: 0, discarded: 0 },
      };
      this.byKey.set(`${server.host}|${server.port}`, state);
      return state;
    });
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.retries = opts.retries ?? 2;
    this.deadTimeMs = opts.deadTimeMs ?? 30_000;
  }

  /** Sends a request and resolves with the first valid reply; rejects with RadiusTimeoutError when no server answers. */
  async request(code: number, attributes: AttributeSource): Promise<RadiusReply> {
    if (this.closed) throw new RadiusClosedError('RADIUS client is closed');
    const now = Date.now();
    const live = this.states.filter((s) => s.deadUntil <= now);
    const order = live.length > 0 ? live : [...this.states].sort((a, b) => a.deadUntil - b.deadUntil);
    const tried: string[] = [];
    let transmissions = 0;
    for (const state of order) {
      tried.push(state.key);
      const attrs = typeof attributes === 'function' ? attributes(state.server) : attributes;
      const r = await this.transact(state, code, attrs);
      transmissions += r.transmissions;
      if (r.packet !== undefined) {
        state.deadUntil = 0;
        return { packet: r.packet, server: state.key, transmissions };
      }
      if (this.closed) throw new RadiusClosedError('RADIUS client closed during the request');
      state.stats.timeouts++;
      state.deadUntil = Date.now() + this.deadTimeMs;
      this.opts.log?.warn({ server: state.key, deadForMs: this.deadTimeMs }, 'RADIUS server did not answer; marked dead');
    }
    throw new RadiusTimeoutError(`no RADIUS server answered (tried ${tried.join(', ')})`, tried);
  }

  /** One server: send, retransmit the same bytes on each timeout, give up after `retries`. */
  private async transact(state: ServerState, code: number, attrs: readonly Attribute[]): Promise<{ packet?: RadiusPacket; transmissions: number }> {
    const { endpoint, id } = await this.slot(state);
    const key = `${state.key}#${id}`;
    let transmissions = 0;
    try {
      // Inside the try: an unencodable request (RadiusEncodeError) must still give its Identifier back.
      const { buffer, authenticator } = encodePacket({ code, identifier: id, attributes: attrs }, { secret: state.server.secret });
      state.stats.requests++;
      return await new Promise((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const finish = (packet?: RadiusPacket): void => {
          clearTimeout(timer);
          resolve(packet === undefined ? { transmissions } : { packet, transmissions });
        };
        endpoint.pending.set(key, { state, authenticator, requestCode: code, resolve: finish });
        const send = (): void => {
          if (this.closed) return finish();
          if (transmissions > this.retries) return finish();
          if (transmissions > 0) state.stats.retransmissions++;
          transmissions++;
          endpoint.socket.send(buffer, state.server.port, state.server.host, (err) => {
            if (err) this.opts.log?.warn({ server: state.key, err: err.message }, 'RADIUS send failed');
          });
          timer = setTimeout(send, this.timeoutMs);
        };
        send();
      });
    } finally {
      endpoint.free(key);
      this.waiters.shift()?.();
    }
  }

  /** A socket and Identifier free for this server; opens sockets up to maxSockets, then waits. */
  private async slot(state: ServerState): Promise<{ endpoint: Endpoint; id: number }> {
    for (;;) {
      if (this.closed) throw new RadiusClosedError('RADIUS client is closed');
      const list = this.endpoints[state.family];
      for (const endpoint of list) {
        const id = endpoint.allocate(state.key);
        if (id !== undefined) return { endpoint, id };
      }
      if (list.length < (this.opts.maxSockets ?? 4)) {
        // One socket opens at a time: concurrent callers wait for it rather than each opening their own.
        const opening = (this.opening[state.family] ??= this.open(state.family).then((e) => {
          list.push(e);
          return e;
        }));
        try {
          await opening;
        } finally {
          if (this.opening[state.family] === opening) this.opening[state.family] = undefined;
        }
        continue;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private open(family: 4 | 6): Promise<Endpoint> {
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    const endpoint = new Endpoint(socket);
    socket.on('message', (msg, rinfo) => this.receive(endpoint, msg, rinfo));
    socket.on('error', (err) => this.opts.log?.warn({ err: err.message }, 'RADIUS client socket error'));
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, ...(this.opts.bindAddress !== undefined ? { address: this.opts.bindAddress } : {}) }, () => {
        socket.off('error', reject);
        resolve(endpoint);
      });
    });
  }

  private receive(endpoint: Endpoint, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const state = this.byKey.get(`${rinfo.address}|${rinfo.port}`);
    if (state === undefined || msg.length < 20) return;
    const pending = endpoint.pending.get(`${state.key}#${msg[1]}`);
    if (pending === undefined || !(REPLY_CODES[pending.requestCode] ?? []).includes(msg[0] as number)) {
      state.stats.discarded++;
      return;
    }
    try {
      const opts = { requireMessageAuthenticator: this.opts.requireMessageAuthenticator ?? false };
      verifyResponse(msg, state.server.secret, pending.authenticator, opts);
      const packet = decodePacket(msg, { secret: state.server.secret, requestAuthenticator: pending.authenticator });
      state.stats.replies++;
      pending.resolve(packet);
    } catch (e) {
      if (!(e instanceof RadiusCodecError)) throw e;
      state.stats.discarded++;
      this.opts.log?.warn({ server: state.key, err: e.message }, 'RADIUS reply discarded');
    }
  }

  stats(): ServerStats[] {
    const now = Date.now();
    return this.states.map((s) => ({ server: s.key, dead: s.deadUntil > now, ...s.stats }));
  }

  /** Fails every outstanding request with RadiusClosedError and closes the sockets. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const endpoint of [...this.endpoints[4], ...this.endpoints[6]]) {
      for (const p of [...endpoint.pending.values()]) p.resolve(undefined);
      await new Promise<void>((resolve) => endpoint.socket.close(() => resolve()));
    }
    for (const w of this.waiters.splice(0)) w();
  }
}
