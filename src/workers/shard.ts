/**
 * A shard: the tunnels (and their sessions) one worker owns, and the per-packet routing to them.
 * Runs inside a worker thread (shard-worker.ts) or in-process (tests, single-threaded mode).
 *
 * O(1) routing (DESIGN.md "Sharding"): a local tunnel ID encodes its shard (id % shardCount ==
 * shardIndex), so any receiver finds the owner by arithmetic, and the owner finds the tunnel in a
 * Map. Nothing here grows with the number of tunnels or sessions per packet.
 */
import type { Logger } from 'pino';
import { getHeapStatistics } from 'node:v8';
import { CdnResult, decodeControlBody, getAvp, L2tpCodecError, MessageTypes, peekHeader, peekV2DataIds, StopCcnResult, type HeaderInfo, type Transport } from '../protocol/index.js';
import { DataPlaneError, type DataPlane, type SessionLink } from '../dataplane/types.js';
import { openPppLink, type PppLinkStats } from '../dataplane/kernel/ppp-link.js';
import type { Clock } from '../transport/clock.js';
import { createTunnelMachine } from '../actors/tunnel-machine.js';
import { Tunnel } from '../actors/tunnel.js';
import type { TunnelEnv, TunnelEvents } from '../actors/tunnel-env.js';
import type { Refusal } from '../actors/tunnel-machine.js';
import type { TunnelOptions } from '../actors/options.js';
import type { Session, SessionRecord } from '../actors/session.js';
import type { SessionData } from '../actors/session-messages.js';
import { IdAllocator } from './id-allocator.js';
import type { Endpoint, IpSocketFactory, SocketFactory, TunnelSocket } from './sockets.js';
import type { EchoOffload } from '../ppp/keepalive.js';
import { sessionInfo, tunnelInfo, type SessionInfo, type TunnelInfo } from './views.js';
import type { TunnelRecord } from './thread-protocol.js';
import type { TunnelData } from '../actors/handshake.js';
import type { PseudowireFactory } from '../actors/pseudowire.js';
import { RecordKeeper } from './shard-records.js';
import { PersistentTunnels } from './persistent.js';
import { OutstandingRequests } from './tie-breaks.js';

export type PeerDecision = { accept: true; profile: string; options: TunnelOptions } | { accept: false; profile: string; options: TunnelOptions; reason: string };

export interface PeerPolicy {
  /** Which tunnel profile an incoming SCCRQ gets, or why it is refused (RFC 2661 StopCCN 4). */
  incoming(peer: { hostName: string | undefined; address: string }): PeerDecision;
  /** Options of a named tunnel profile (for tunnels we create). */
  profile(name: string): TunnelOptions | undefined;
}

export interface ShardOptions {
  index: number;
  count: number;
  clock: Clock;
  dataPlane: DataPlane;
  log: Logger;
  sockets: SocketFactory;
  /** L2TPv3 over IP (kernel data plane, its native addon); absent: IP encapsulation is refused. */
  ipSockets?: IpSocketFactory;
  policy: PeerPolicy;
  limits: ShardLimits;
  /** Share of the V8 heap limit this worker's heap uses (0..1); tests inject one. Default: v8.getHeapStatistics(). */
  heapUsage?: () => number;
  /** A packet for a tunnel another shard owns. */
  forward(shard: number, buf: Buffer, from: Endpoint, to: Endpoint, transport: Transport): void;
  /** What established sessions carry (PPP termination...); none: sessions only count their data. */
  pseudowire?: PseudowireFactory;
  /** Change notifications (store, management, hooks). */
  events?: Partial<TunnelEvents>;
  /**
   * Where tunnel records go (the main thread's state store). Changed tunnels are flushed at most
   * every `persistIntervalMs`: the durability point (docs/architecture.md).
   */
  persist?(upserts: TunnelRecord[], deletes: number[]): void;
  persistIntervalMs?: number;
  /**
   * Every worker's live session count, one slot per worker index, shared between the threads: `maxSessions` is then
   * the node's limit. Without it this worker is the node.
   */
  nodeSessions?: Int32Array;
}

export interface ShardLimits {
  maxTunnels: number;
  maxHalfOpenTunnels: number;
  /** Sessions in the node (`limits.max_sessions`; all workers together when they share `nodeSessions`); none: no limit. */
  maxSessions?: number;
  /**
   * Share of the V8 heap limit above which this worker takes no new tunnel or call (answered "temporary lack of
   * resources") until the heap is back below it: a worker whose heap hits V8's limit dies, and its sessions with it.
   */
  memoryHighWater?: number;
}

/** Default of ShardLimits.memoryHighWater. */
export const MEMORY_HIGH_WATER = 0.85;

export interface ShardStats {
  packets: number;
  malformed: number;
  forwarded: number;
  unknownTunnel: number;
  refusedTunnels: number;
  /** Calls (ICRQ/OCRQ) refused by this worker's limits: `limits.max_sessions` or the memory high-water. */
  refusedCalls: number;
}

function v8HeapUsage(): number {
  const h = getHeapStatistics();
  return h.used_heap_size / h.heap_size_limit;
}

export interface CreateTunnelRequest {
  peer: Endpoint;
  local?: Endpoint;
  profile: string;
  version?: 2 | 3;
  name?: string;
  persistent?: boolean;
  /** Calls to place once the tunnel is up (configured tunnels); placed again after each re-establishment. */
  sessions?: { callType: 'lacIncoming' | 'lnsOutgoing'; extra: Partial<SessionData> }[];
}

/** IP protocol 115 sockets come from the kernel data plane's native addon: Node cannot open them. */
const IP_NEEDS_KERNEL = 'L2TPv3 over IP needs the kernel data plane (dataplane: kernel); use encapsulation: udp';

export class ShardError extends Error {
  override readonly name = 'ShardError';
  constructor(
    message: string,
    readonly code: 'not-found' | 'refused' | 'limit' | 'bad-request',
  ) {
    super(message);
  }
}

export class Shard {
  readonly tunnels = new Map<number, Tunnel>();
  readonly stats: ShardStats = { packets: 0, malformed: 0, forwarded: 0, unknownTunnel: 0, refusedTunnels: 0, refusedCalls: 0 };
  /**
   * Admission: the session count as of `countedAt` plus calls admitted since (never below the true count: sessions
   * only leave between refreshes), and whether the heap was above the high-water when last looked at.
   */
  private readonly admission = { countedAt: -Infinity, sessions: 0, heapAt: -Infinity, heapTight: false, full: false };
  private publishTimer: NodeJS.Timeout | undefined;
  /** Kernel data plane: frames a PPP channel would not take. */
  readonly linkStats: PppLinkStats = { txDropped: 0 };
  private readonly sockets = new Map<number, TunnelSocket>();
  /** SCCRQ retransmissions find their tunnel by peer address, port and Assigned Tunnel ID. */
  private readonly byPeerRequest = new Map<string, number>();
  private readonly requestKeyOf = new Map<number, string>();
  /** Tunnels between SCCRQ and SCCCN (the half-open limit guards against SCCRQ floods). */
  private readonly halfOpen = new Set<number>();
  private readonly outstanding: OutstandingRequests;
  private readonly records: RecordKeeper;
  private readonly tunnelIds: IdAllocator;
  private readonly sessionIds = new Map<number, IdAllocator>();
  /**
   * Kernel data plane, L2TPv2 over UDP: one session ID space per peer address and port, shared by that peer's
   * tunnels. A one-port LAC (xl2tpd) sends every tunnel's data to port 1701, so a second tunnel's data reaches
   * the first tunnel's socket, and the 6.1 kernel looks the session up in THAT tunnel by session ID alone:
   * distinct IDs make such a packet go up to userspace instead of into another subscriber's session.
   */
  private readonly peerSessionIds = new Map<string, { alloc: IdAllocator; tunnels: Set<number> }>();
  /** Which tunnel a socket belongs to (an SCCRQ arriving on one). */
  private readonly socketOwner = new Map<TunnelSocket, number>();
  private readonly env: TunnelEnv;
  private readonly dataOffset = new Int32Array(1);
  /** Persistent tunnels by tunnel ID: re-established with back-off when they close (not on admin delete). */
  private readonly persistent: PersistentTunnels<CreateTunnelRequest>;

  constructor(readonly o: ShardOptions) {
    // 16-bit IDs for v2, shard-encoded: k, k+n, k+2n... (never 0).
    this.tunnelIds = new IdAllocator(1, 0xffff, o.count, o.index);
    this.outstanding = new OutstandingRequests(this.tunnels, o.log);
    this.persistent = new PersistentTunnels((req, attempt) => this.createTunnel(req, attempt), o.log);
    this.records = new RecordKeeper(this.tunnels, o.persist, o.persistIntervalMs);
    // A worker restarted in this slot starts from nothing: its predecessor's sessions are gone (or restored below).
    if (o.nodeSessions) Atomics.store(o.nodeSessions, o.index, 0);
    const events: TunnelEvents = {
      tunnelChanged: (t) => {
        if (t.data.role === 'initiator') this.outstanding.track(t);
        if (t.established) {
          this.halfOpen.delete(t.id);
          o.log.info({ tunnel: t.id, peerTunnel: t.data.peerTunnelId, peer: t.data.peer, peerHostName: t.data.peerHostName, version: t.data.version }, 'tunnel established');
        }
        this.records.changed(t.id);
        // A persistent tunnel that is being stopped is replaced at once by a new one (new tunnel ID):
        // the old one only holds state for a retransmission cycle.
        if (t.state === 'draining' || t.state === 'stopping') this.persistent.replace(t);
        o.events?.tunnelChanged?.(t);
      },
      tunnelClosed: (t) => this.onTunnelClosed(t),
      sessionChanged: (s) => {
        this.records.sessionChanged(s.data.localTunnelId, s.localSessionId);
        if (s.state === 'established') {
          o.log.info({ tunnel: s.data.localTunnelId, session: s.localSessionId, peerSession: s.data.peerSessionId, callType: s.data.callType }, 'session established');
        }
        o.events?.sessionChanged?.(s);
      },
      pseudowireChanged: (s) => this.records.sessionChanged(s.data.localTunnelId, s.localSessionId),
      sessionClosed: (s) => {
        this.records.sessionEnded(s.data.localTunnelId, s.localSessionId);
        this.publishCountSoon();
        o.log.info({ tunnel: s.data.localTunnelId, session: s.localSessionId, reason: s.reason }, 'session closed');
        o.events?.sessionClosed?.(s);
      },
    };
    this.env = {
      clock: o.clock,
      dataPlane: o.dataPlane,
      log: o.log,
      tunnelMachine: createTunnelMachine((id) => this.tunnels.get(id)),
      transmit: (t, packet) => this.sockets.get(t.id)?.send(packet),
      allocateSessionId: (t) => this.sessionAllocator(t).allocate(),
      releaseSessionId: (t, id) => this.sessionIds.get(t.id)?.release(id),
      admitCall: () => this.admitCall(),
      events,
      pseudowire: o.pseudowire,
      ...(o.dataPlane.kind === 'null' ? { echoOffload: (t: Tunnel, s: Session) => this.echoOffload(t, s) } : {}),
      ...(o.dataPlane.kind === 'kernel'
        ? {
            socketFd: (t: Tunnel) => this.sockets.get(t.id)?.fd,
            openSessionLink: (t: Tunnel, s: Session, onFrame: (frame: Buffer) => void) => this.openSessionLink(t, s, onFrame),
          }
        : {}),
    };
  }

  /**
   * Null data plane: a session's LCP keepalive runs in the addon when its frames go out as this worker would send them
   * (L2TPv2 over a native UDP tunnel socket, no sequencing: tunnel-calls transmitData); otherwise undefined and the
   * PPP engine keeps it. Looked at when LCP opens, so the peer's IDs are known by then.
   */
  private echoOffload(t: Tunnel, s: Session): EchoOffload {
    return {
      start: (o) => {
        const echo = this.sockets.get(t.id)?.echo;
        if (!echo || t.data.version !== 2 || t.options.encapsulation !== 'udp') return undefined;
        if (t.data.peerTunnelId === 0 || s.data.peerSessionId === 0) return undefined;
        // The addon's wheel ticks every 100 ms: a shorter period stays with the engine's own keepalive.
        if (o.intervalMs < 100) return undefined;
        try {
          return echo.add({ ...o, localTunnelId: t.id, localSessionId: s.localSessionId, peerTunnelId: t.data.peerTunnelId, peerSessionId: s.data.peerSessionId });
        } catch (e) {
          this.o.log.warn({ tunnel: t.id, session: s.localSessionId, err: String(e) }, 'LCP echo stays in JavaScript: the addon refused it');
          return undefined;
        }
      },
    };
  }

  /** Kernel data plane: a PPP session's PPPoL2TP socket and /dev/ppp channel (Ethernet needs none). */
  private openSessionLink(t: Tunnel, s: Session, onFrame: (frame: Buffer) => void): SessionLink | undefined {
    if (s.data.pseudowire !== 'ppp') return undefined;
    const fd = this.sockets.get(t.id)?.fd;
    if (fd === undefined) throw new DataPlaneError(`tunnel ${t.id} has no socket`, 'ppp link', 'EBADF');
    return openPppLink(
      {
        tunnelFd: fd,
        tunnelId: t.id,
        sessionId: s.localSessionId,
        peerTunnelId: t.data.peerTunnelId,
        peerSessionId: s.data.peerSessionId,
        version: t.data.version,
        ipv6: t.data.peer.address.includes(':'),
      },
      onFrame,
      this.o.dataPlane,
      this.o.log,
      this.linkStats,
    );
  }

  ownerOf(tunnelId: number): number {
    return tunnelId % this.o.count;
  }

  private peerKey(t: Tunnel): string | undefined {
    if (this.o.dataPlane.kind !== 'kernel' || t.data.version !== 2 || t.options.encapsulation !== 'udp') return undefined;
    return `${t.data.peer.address}|${t.data.peer.port}`;
  }

  private sessionAllocator(t: Tunnel): IdAllocator {
    let a = this.sessionIds.get(t.id);
    const key = a ? undefined : this.peerKey(t);
    if (!a && key !== undefined) {
      let shared = this.peerSessionIds.get(key);
      if (!shared) {
        shared = { alloc: new IdAllocator(1, 0xffff), tunnels: new Set() };
        this.peerSessionIds.set(key, shared);
      }
      shared.tunnels.add(t.id);
      a = shared.alloc;
      this.sessionIds.set(t.id, a);
    }
    if (!a) {
      // Over IP the kernel finds a data message's session by its ID alone (l2tp_ip_recv), so session IDs must not
      // repeat across tunnels: the tunnel's ID picks a block of 65535 (max_sessions_per_tunnel).
      const base = t.options.encapsulation === 'ip' ? t.id * 0x10000 : 0;
      a = t.data.version === 2 ? new IdAllocator(1, 0xffff) : base ? new IdAllocator(base + 1, base + 0xffff) : new IdAllocator(1, 0xffffffff);
      this.sessionIds.set(t.id, a);
    }
    return a;
  }

  /**
   * A packet that arrived on a listening socket (`via` undefined) or on a tunnel's socket, over UDP or
   * IP (as on the wire). A packet with tunnel ID 0 is an SCCRQ; others go to the tunnel that owns the
   * ID, wherever it lives.
   */
  handlePacket(buf: Buffer, from: Endpoint, to: Endpoint, via?: TunnelSocket, transport: Transport = 'udp'): void {
    this.stats.packets++;
    // Data messages (null data plane) take an allocation-free path; everything else the full one.
    const ids = transport === 'udp' ? peekV2DataIds(buf, this.dataOffset) : -1;
    if (ids !== -1) {
      const tid = ids >>> 16;
      if (tid !== 0 && tid % this.o.count === this.o.index) {
        const t = this.tunnels.get(tid);
        if (t) {
          const offset = this.dataOffset[0]!;
          this.o.dataPlane.accountRx?.(tid, ids & 0xffff, buf.length - offset);
          if (t.sessions.size > 0) t.calls.data(ids & 0xffff, buf.subarray(offset));
        } else this.stats.unknownTunnel++;
        return;
      }
    }
    let h: HeaderInfo;
    try {
      h = peekHeader(buf, transport);
    } catch (e) {
      if (!(e instanceof L2tpCodecError)) throw e;
      this.stats.malformed++;
      return;
    }
    if (h.tunnelId === 0) {
      if (h.isControl) this.handleSccrq(buf, h, from, to, via, transport);
      else this.stats.unknownTunnel++;
      return;
    }
    const owner = this.ownerOf(h.tunnelId);
    if (owner !== this.o.index) {
      this.stats.forwarded++;
      this.o.forward(owner, buf, from, to, transport);
      return;
    }
    const t = this.tunnels.get(h.tunnelId);
    if (!t) {
      this.stats.unknownTunnel++;
      return;
    }
    if (h.isControl) {
      t.receiveControl(buf, h);
      this.records.changed(t.id); // Ns/Nr moved
    } else if (h.version === 2) this.o.dataPlane.accountRx?.(t.id, h.sessionId, buf.length - h.headerLength);
  }

  private handleSccrq(buf: Buffer, h: HeaderInfo, from: Endpoint, to: Endpoint, via: TunnelSocket | undefined, transport: Transport): void {
    // First pass without a secret: the Host Name (never hidden) and the address choose the peer
    // profile, and so the secret that unhides the rest.
    let hostName: string | undefined;
    let assigned: number | undefined;
    let tieBreaker: Buffer | undefined;
    try {
      const d = decodeControlBody(buf, h, { keepHidden: true });
      if (d.message.messageType !== MessageTypes.SCCRQ) {
        this.stats.unknownTunnel++;
        return;
      }
      hostName = getAvp(d.message, 'HostName');
      tieBreaker = getAvp(d.message, 'TieBreaker');
      assigned = getAvp(d.message, h.version === 2 ? 'AssignedTunnelId' : 'AssignedControlConnectionId');
    } catch (e) {
      if (!(e instanceof L2tpCodecError)) throw e;
      this.stats.malformed++;
      return;
    }
    const key = `${from.address}|${from.port}|${assigned ?? 'hidden'}|${h.version}`;
    const existing = this.byPeerRequest.get(key);
    if (existing !== undefined) {
      this.tunnels.get(existing)?.receiveControl(buf, h);
      return;
    }
    if (this.outstanding.peerLoses(from.address, tieBreaker)) return;
    const halfOpen = this.halfOpen.size;
    if (this.tunnels.size >= this.o.limits.maxTunnels || halfOpen >= this.o.limits.maxHalfOpenTunnels) {
      this.stats.refusedTunnels++;
      this.o.log.warn({ peer: from, tunnels: this.tunnels.size, halfOpen }, 'tunnel limit reached: SCCRQ dropped');
      return;
    }
    if (this.heapTight()) {
      this.stats.refusedTunnels++;
      return;
    }
    const decision = this.o.policy.incoming({ hostName, address: from.address });
    const id = this.tunnelIds.allocate();
    if (id === undefined) {
      this.stats.refusedTunnels++;
      return;
    }
    // An SCCRQ on a tunnel's socket: that peer's address and port are taken by a connected socket. If its tunnel
    // is closing (StopCCN sent or received: a LAC that restarted), the new tunnel takes the port over, so the
    // kernel gets the data a one-port LAC keeps sending there; the old tunnel holds on without a socket. A live
    // tunnel keeps it, and the new one answers from an ephemeral port (RFC 2661 §8.1).
    const holder = via ? this.tunnels.get(this.socketOwner.get(via) ?? 0) : undefined;
    if (holder && transport === 'udp' && (holder.state === 'stopping' || holder.state === 'draining' || holder.state === 'closed')) {
      this.o.log.info({ tunnel: holder.id, peer: from }, 'a new tunnel from the same peer port takes over the closing tunnel\'s socket');
      this.releaseSocket(holder.id);
    }
    const onTunnelSocket = via !== undefined && this.socketOwner.has(via);
    const local = { address: to.address, port: onTunnelSocket ? 0 : to.port };
    this.byPeerRequest.set(key, id);
    // The peer chose the encapsulation by where it sent the SCCRQ, whatever our profile would have picked.
    const options = { ...decision.options, encapsulation: transport };
    this.openSocket(id, transport, local, from)
      .then((sock) => {
        const t = this.addTunnel(id, sock, from, { version: h.version, role: 'responder', profile: decision.profile, persistent: false }, options);
        t.data.peerTunnelId = assigned ?? 0;
        this.halfOpen.add(id);
        if (!decision.accept) {
          this.stats.refusedTunnels++;
          this.o.log.info({ tunnel: id, peer: from, hostName, reason: decision.reason }, 'tunnel refused by peer policy');
          t.actor.send({ type: 'SCCRQ', verdict: { ok: false, resultCode: StopCcnResult.NotAuthorized, errorCode: 0, message: decision.reason } });
          return;
        }
        t.receiveControl(buf, h);
      })
      .catch((e: unknown) => {
        this.byPeerRequest.delete(key);
        this.tunnelIds.release(id);
        this.o.log.error({ peer: from, err: String(e) }, 'could not open a tunnel socket');
      });
    this.requestKeyOf.set(id, key);
  }

  /** A tunnel's own socket: UDP, or L2TP/IP bound to our Control Connection ID (the tunnel ID). */
  private openSocket(id: number, encapsulation: Transport, local: Endpoint, peer: Endpoint): Promise<TunnelSocket> {
    if (encapsulation === 'udp') return this.o.sockets.open(local, peer, (b, f, via) => this.handlePacket(b, f, via.local, via));
    if (!this.o.ipSockets) return Promise.reject(new ShardError(IP_NEEDS_KERNEL, 'refused'));
    return this.o.ipSockets.open(local.address, peer.address, id, (b, f, via) => this.handlePacket(b, f, via.local, via, 'ip'));
  }

  private addTunnel(
    id: number,
    sock: TunnelSocket,
    peer: Endpoint,
    meta: { version: 2 | 3; role: 'initiator' | 'responder'; profile: string; persistent: boolean; name?: string },
    options: TunnelOptions,
  ): Tunnel {
    const t = new Tunnel(
      this.env,
      {
        localTunnelId: id,
        peerTunnelId: 0,
        version: meta.version,
        role: meta.role,
        local: sock.local,
        peer,
        createdAt: this.o.clock.now(),
        profile: meta.profile,
        persistent: meta.persistent,
        ...(meta.name ? { name: meta.name } : {}),
      },
      options,
    );
    this.tunnels.set(id, t);
    this.sockets.set(id, sock);
    this.socketOwner.set(sock, id);
    t.start();
    return t;
  }

  private releaseSocket(id: number): void {
    const sock = this.sockets.get(id);
    if (!sock) return;
    sock.close();
    this.sockets.delete(id);
    this.socketOwner.delete(sock);
  }

  private onTunnelClosed(t: Tunnel): void {
    this.tunnels.delete(t.id);
    this.releaseSocket(t.id);
    this.sessionIds.delete(t.id);
    const peerKey = this.peerKey(t);
    const shared = peerKey !== undefined ? this.peerSessionIds.get(peerKey) : undefined;
    if (shared?.tunnels.delete(t.id) && shared.tunnels.size === 0) this.peerSessionIds.delete(peerKey!);
    const key = this.requestKeyOf.get(t.id);
    if (key !== undefined) {
      this.byPeerRequest.delete(key);
      this.requestKeyOf.delete(t.id);
    }
    this.halfOpen.delete(t.id);
    this.tunnelIds.release(t.id);
    this.records.gone(t.id);
    this.outstanding.track(t); // no longer in the map: drops out of the index
    this.o.log.info({ tunnel: t.id, peer: t.data.peer, reason: t.reason }, 'tunnel closed');
    this.o.events?.tunnelClosed?.(t);
    this.persistent.replace(t);
  }

  // ---- persistence and restore ---------------------------------------------------------------

  /** Send every changed tunnel's record to the store now. */
  flush(): void {
    this.records.flush();
  }

  /**
   * Bring back tunnels from their records (a restarted worker): IDs claimed, sockets re-opened on
   * the same local address and port, actors resumed from their snapshots, the data plane told again.
   */
  async restore(records: TunnelRecord[]): Promise<number> {
    let n = 0;
    for (const r of records) {
      const data = r.data as TunnelData;
      if (r.options === undefined) {
        // Only a delta lacks them, and the store merges deltas into a record that has them.
        this.o.log.error({ tunnel: r.localTunnelId }, 'tunnel record without its options: not restored');
        continue;
      }
      if (!this.tunnelIds.claim(r.localTunnelId)) continue;
      let sock: TunnelSocket;
      try {
        sock = await this.openSocket(r.localTunnelId, (r.options as TunnelOptions).encapsulation, data.local, data.peer);
      } catch (e) {
        this.tunnelIds.release(r.localTunnelId);
        this.o.log.error({ tunnel: r.localTunnelId, err: String(e) }, 'could not restore a tunnel socket');
        continue;
      }
      const t = new Tunnel(this.env, data, r.options as TunnelOptions, { channel: r.channel, machine: r.machine });
      this.tunnels.set(t.id, t);
      this.sockets.set(t.id, sock);
      this.socketOwner.set(sock, t.id);
      const alloc = this.sessionAllocator(t);
      for (const s of r.sessions) alloc.claim((s.data as SessionData).localSessionId);
      t.restoreSessions(r.sessions as SessionRecord[]);
      t.start();
      if (t.established) t.resumeDataPlane();
      n++;
    }
    this.countSessions(Date.now()); // the node's count has this worker's restored sessions at once
    return n;
  }

  // ---- management ----------------------------------------------------------------------------

  async createTunnel(req: CreateTunnelRequest, attempt = 0): Promise<TunnelInfo> {
    const options = this.o.policy.profile(req.profile);
    if (!options) throw new ShardError(`no tunnel profile named ${req.profile}`, 'bad-request');
    if (this.tunnels.size >= this.o.limits.maxTunnels) throw new ShardError('tunnel limit reached', 'limit');
    const version = req.version ?? options.version;
    const encapsulation = version === 3 ? options.encapsulation : 'udp';
    if (encapsulation === 'ip' && !this.o.ipSockets) throw new ShardError(IP_NEEDS_KERNEL, 'refused');
    const id = this.tunnelIds.allocate();
    if (id === undefined) throw new ShardError('no free tunnel ID', 'limit');
    const local = req.local ?? { address: req.peer.address.includes(':') ? '::' : '0.0.0.0', port: 0 };
    const peer = encapsulation === 'ip' ? { address: req.peer.address, port: 0 } : req.peer;
    let sock: TunnelSocket;
    try {
      sock = await this.openSocket(id, encapsulation, local, peer);
    } catch (e) {
      this.tunnelIds.release(id);
      throw new ShardError(`cannot open a socket to ${req.peer.address}${encapsulation === 'ip' ? ' (L2TP/IP)' : `:${req.peer.port}`}: ${String(e)}`, 'refused');
    }
    const meta = { version, role: 'initiator' as const, profile: req.profile, persistent: req.persistent ?? false, ...(req.name ? { name: req.name } : {}) };
    const t = this.addTunnel(id, sock, peer, meta, { ...options, version, encapsulation });
    t.actor.send({ type: 'OPEN' });
    for (const c of req.sessions ?? []) t.openSession(c.callType, { ...c.extra });
    if (req.persistent) this.persistent.add(id, req, attempt);
    return tunnelInfo(t, this.o.index);
  }

  deleteTunnel(id: number, message = 'administrative close'): void {
    const t = this.tunnels.get(id);
    if (!t) throw new ShardError(`no tunnel ${id}`, 'not-found');
    this.persistent.forget(id); // an operator's delete is final, even for a persistent tunnel
    t.close({ resultCode: StopCcnResult.GeneralRequest, ...(message ? { errorCode: 0, message } : {}) });
  }

  createSession(tunnelId: number, callType: 'lacIncoming' | 'lnsOutgoing', extra: Partial<SessionData>): SessionInfo {
    const t = this.tunnels.get(tunnelId);
    if (!t) throw new ShardError(`no tunnel ${tunnelId}`, 'not-found');
    if (t.state === 'stopping' || t.state === 'draining' || t.state === 'closed') throw new ShardError(`tunnel ${tunnelId} is closing`, 'refused');
    const s = t.openSession(callType, extra);
    if (!s) throw new ShardError('no free session ID', 'limit');
    return sessionInfo(s);
  }

  deleteSession(tunnelId: number, sessionId: number, message = 'administrative disconnect'): void {
    const s = this.tunnels.get(tunnelId)?.sessions.get(sessionId);
    if (!s) throw new ShardError(`no session ${tunnelId}/${sessionId}`, 'not-found');
    s.dispatch({ type: 'CLOSE', result: { resultCode: 3, message } });
  }

  listTunnels(): TunnelInfo[] {
    return [...this.tunnels.values()].map((t) => tunnelInfo(t, this.o.index));
  }

  listSessions(tunnelId?: number): SessionInfo[] {
    const out: SessionInfo[] = [];
    for (const t of this.tunnels.values()) {
      if (tunnelId !== undefined && t.id !== tunnelId) continue;
      for (const s of t.sessions.values()) out.push(sessionInfo(s));
    }
    return out;
  }

  /** Limits from a reloaded configuration: they apply to tunnels and calls from now on. */
  setLimits(limits: ShardLimits): void {
    this.o.limits = limits;
  }

  /**
   * Sessions ended: publish this worker's count within 100 ms (one walk for any number of them), so that the other
   * workers see the room even when no call comes to this one (admitCall only refreshes on a call).
   */
  private publishCountSoon(): void {
    if (!this.o.nodeSessions || this.publishTimer) return;
    this.publishTimer = setTimeout(() => {
      this.publishTimer = undefined;
      this.countSessions(Date.now());
    }, 100);
    this.publishTimer.unref();
  }

  /** This worker's session count, walked afresh, and published in its `nodeSessions` slot. */
  private countSessions(now: number): void {
    const a = this.admission;
    a.sessions = this.sessionCount();
    a.countedAt = now;
    const shared = this.o.nodeSessions;
    if (shared) Atomics.store(shared, this.o.index, a.sessions);
  }

  /**
   * A new call from a peer (ICRQ, OCRQ): undefined to take it, else why not. This worker's count is refreshed at
   * most every 100 ms (it walks the tunnels; between walks ended sessions still count, so it errs high), the heap
   * looked at at most every second. With `nodeSessions` the limit is the node's: the call is added to this
   * worker's slot first and the slots summed after, so two workers admitting at the same instant both see the
   * other's call and the node never goes past the limit.
   */
  private admitCall(): Refusal | undefined {
    const now = Date.now();
    const a = this.admission;
    const max = this.o.limits.maxSessions;
    const shared = this.o.nodeSessions;
    if (max !== undefined) {
      if (now - a.countedAt >= 100) this.countSessions(now);
      let before = a.sessions;
      if (shared) {
        Atomics.add(shared, this.o.index, 1);
        before = -1;
        for (let i = 0; i < shared.length; i++) before += Atomics.load(shared, i);
      }
      const full = before >= max;
      if (full !== a.full) {
        // Once per crossing, not per call: a flood of calls beyond the limit must not flood the log too.
        const f = { sessions: before, maxSessions: max, ...(shared ? { thisWorker: a.sessions } : {}) };
        if (full) this.o.log.warn(f, 'session limit reached (limits.max_sessions): calls refused');
        else this.o.log.info(f, 'below the session limit again: calls taken');
        a.full = full;
      }
      if (full) {
        if (shared) Atomics.sub(shared, this.o.index, 1);
        this.stats.refusedCalls++;
        return { resultCode: CdnResult.NoFacilitiesTemporary, message: `session limit reached (${max}, limits.max_sessions)` };
      }
    }
    if (this.heapTight()) {
      if (max !== undefined && shared) Atomics.sub(shared, this.o.index, 1);
      this.stats.refusedCalls++;
      return { resultCode: CdnResult.NoFacilitiesTemporary, message: 'memory high-water of this worker reached' };
    }
    a.sessions++;
    return undefined;
  }

  /** Whether the heap is above the memory high-water (looked at at most every second); logs each crossing. */
  private heapTight(): boolean {
    const a = this.admission;
    const now = Date.now();
    if (now - a.heapAt < 1000) return a.heapTight;
    a.heapAt = now;
    const usage = (this.o.heapUsage ?? v8HeapUsage)();
    const mark = this.o.limits.memoryHighWater ?? MEMORY_HIGH_WATER;
    const tight = usage >= mark;
    if (tight !== a.heapTight) {
      const f = { heapUsage: Math.round(usage * 1000) / 1000, highWater: mark, tunnels: this.tunnels.size, sessions: this.sessionCount() };
      if (tight) this.o.log.warn(f, 'memory high-water reached: new tunnels and calls refused until the heap is below it');
      else this.o.log.info(f, 'memory back below the high-water: new tunnels and calls taken again');
    }
    a.heapTight = tight;
    return tight;
  }

  sessionCount(): number {
    let n = 0;
    for (const t of this.tunnels.values()) n += t.sessions.size;
    return n;
  }

  session(tunnelId: number, sessionId: number): Session | undefined {
    return this.tunnels.get(tunnelId)?.sessions.get(sessionId);
  }

  /** Close every tunnel with StopCCN (daemon shutdown); resolves when all are gone or after `ms`. */
  async closeAll(ms: number): Promise<void> {
    this.persistent.stop();
    for (const t of [...this.tunnels.values()]) {
      // A tunnel the peer already stopped only holds state to re-ack its StopCCN: let it go now.
      if (t.state === 'draining') t.actor.send({ type: 'DEAD', reason: 'shutdown' });
      else t.close({ resultCode: StopCcnResult.ShuttingDown, errorCode: 0, message: 'l2tpd shutting down' });
    }
    const deadline = Date.now() + ms;
    while (this.tunnels.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const id of [...this.tunnels.keys()]) this.tunnels.get(id)?.actor.send({ type: 'DEAD', reason: 'shutdown' });
  }
}
