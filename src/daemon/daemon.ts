/**
 * The main thread of l2tpd (DESIGN.md "Data flow"): configuration, the listening sockets, the shard
 * workers and their supervision, the state store and the management API. Packets that reach the
 * listener are handed to the owning shard in O(1): by the tunnel ID's shard residue, or for an
 * SCCRQ by a hash of the peer's address and port (so its retransmissions reach the same shard).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Logger } from 'pino';
import { diffConfig, formatDiff, loadConfig, type Config, type ConfigOverrides } from '../config/index.js';
import { L2tpCodecError, peekHeader, type Transport } from '../protocol/index.js';
import { selectDataPlane } from '../dataplane/select.js';
import { nativeAddonStatus } from '../dataplane/kernel/native.js';
import type { DataPlane } from '../dataplane/types.js';
import { MemoryStateStore, type StateStore } from '../state/store.js';
import { Listener } from '../workers/listener.js';
import { L2tpIpListener } from '../workers/l2tp-ip.js';
import type { Endpoint } from '../workers/sockets.js';
import type { PacketItem } from '../workers/thread-protocol.js';
import { ShardHost } from './shard-host.js';
import { MgmtServer } from '../mgmt/server.js';
import { DynAuthServer } from '../aaa/index.js';
import { managementHandlers } from './mgmt-handlers.js';
import { ownSessionOptions } from './policy.js';

export interface DaemonOptions {
  configFile: string | undefined;
  overrides: ConfigOverrides;
  log: Logger;
  /** Number of shard workers; default from config (`system.workers`). */
  workers?: number;
}

export const VERSION = '0.1.0';

export class Daemon {
  config!: Config;
  configText: string | null = null;
  readonly shards: ShardHost[] = [];
  readonly store: StateStore = new MemoryStateStore();
  readonly startedAt = Date.now();
  dataPlaneKind: 'kernel' | 'null' = 'null';
  dataPlaneReason = '';
  private dataPlane: DataPlane | undefined;
  private listener: Listener | undefined;
  private ipListener: L2tpIpListener | undefined;
  private mgmt: MgmtServer | undefined;
  private dynAuth: DynAuthServer | undefined;
  readonly stats = { listenerPackets: 0, listenerMalformed: 0, forwarded: 0 };

  constructor(readonly o: DaemonOptions) {}

  get log(): Logger {
    return this.o.log;
  }

  /** Load and check the configuration; throws ConfigError (nothing has started yet). */
  loadConfiguration(): void {
    this.config = loadConfig(this.o.configFile, this.o.overrides);
    this.configText = this.o.configFile ? readFileSync(this.o.configFile, 'utf8') : null;
  }

  async start(): Promise<void> {
    this.loadConfiguration();
    const sys = this.config.system;
    const choice = await selectDataPlane(sys.dataplane);
    this.dataPlaneKind = choice.dataPlane.kind;
    this.dataPlaneReason = choice.reason;
    // The null plane lives in each worker; the kernel plane's netlink sockets live here.
    if (choice.dataPlane.kind === 'kernel') this.dataPlane = choice.dataPlane;
    else await choice.dataPlane.close();
    this.log.info({ dataplane: this.dataPlaneKind }, choice.reason);
    if (sys.listenIp.length > 0 && this.dataPlaneKind !== 'kernel') {
      throw new Error(`system.listen_ip: L2TPv3 over IP needs the kernel data plane, and this is the null one (${choice.reason})`);
    }
    if (sys.socketIo === 'native') {
      const addon = nativeAddonStatus();
      if (!addon.available) throw new Error(`system.socket_io: native needs the native addon, which does not load: ${addon.reason}`);
    }

    const count = this.o.workers ?? sys.workers;
    const workerUrl = new URL('../workers/shard-worker.js', import.meta.url);
    const sessionCounts = new SharedArrayBuffer(4 * count);
    for (let i = 0; i < count; i++) {
      this.shards.push(
        new ShardHost({
          init: {
            index: i,
            count,
            configText: this.configText,
            configFile: this.o.configFile ?? null,
            overrides: { ...this.o.overrides },
            dataPlane: this.dataPlaneKind,
            logLevel: sys.logLevel,
            sessionCounts,
          },
          store: this.store,
          log: this.log,
          workerUrl,
          onForward: (shard, item) => this.toShard(shard, item),
          ...(this.dataPlane ? { dataPlane: this.dataPlane } : {}),
        }),
      );
    }
    await Promise.all(this.shards.map((s) => s.start()));
    this.dataPlane?.onLost?.((lost) => {
      this.log.warn(lost, lost.sessionId === undefined ? 'kernel tunnel deleted outside l2tpd: closing it' : 'kernel session deleted outside l2tpd: disconnecting it');
      this.shards[lost.tunnelId % count]
        ?.call('dataplane.lost', lost)
        .catch((e: unknown) => this.log.warn({ ...lost, err: String(e) }, 'could not close what the kernel lost'));
    });

    this.listener = new Listener((buf, from, to) => this.onListenerPacket(buf, from, to), sys.socketBuffer);
    await this.listener.listen(sys.listen.map((e) => ({ address: e.address, port: e.port })));
    const granted = this.listener.receiveBuffer;
    if (granted !== undefined && granted < sys.socketBuffer) {
      this.log.warn(
        { asked: sys.socketBuffer, granted },
        'UDP socket buffers are smaller than system.socket_buffer: the kernel caps them at net.core.rmem_max / wmem_max; raise those (sysctl) or bursts may be dropped',
      );
    }
    if (sys.listenIp.length > 0) {
      this.ipListener = new L2tpIpListener((buf, from, to) => this.onListenerPacket(buf, from, to, 'ip'));
      this.ipListener.listen(sys.listenIp);
    }

    const dm = this.config.aaa.dynamicAuthorization;
    if (dm) {
      const nas = this.config.aaa.radius;
      this.dynAuth = new DynAuthServer(
        {
          clients: dm.clients.map((c) => ({ address: c.address, secret: c.secret })),
          nas: { identifier: nas?.nasIdentifier ?? sys.hostname, ...(nas?.nasIpAddress ? { ipAddress: nas.nasIpAddress } : {}) },
          port: dm.listen.port,
          bindAddress: dm.listen.address,
          log: this.log,
        },
        {
          // Sessions live in the workers: ask each shard for its matches.
          disconnect: async (selector) => {
            return (await this.countOnShards('sessions.disconnect', selector)) > 0;
          },
          coa: async (selector, changes) => {
            // All or nothing (RFC 5176 §3.3: a NAK means the request was not honoured): Session-Timeout and
            // Idle-Timeout can be changed; anything else makes the whole request a NAK, applied nowhere.
            const supported = changes.every(([name]) => ['session-timeout', 'idle-timeout'].includes(name.toLowerCase()));
            if (!supported) {
              const found = (await this.countOnShards('sessions.match', selector)) > 0;
              return found ? { found: true, applied: [] } : { found: false };
            }
            const value = (attr: string) => {
              const v = changes.find(([name]) => name.toLowerCase() === attr)?.[1];
              return v === undefined ? undefined : typeof v === 'number' ? v : 0;
            };
            const sessionTimeout = value('session-timeout');
            const idleTimeout = value('idle-timeout');
            const n = await this.countOnShards('sessions.coa', selector, {
              ...(sessionTimeout !== undefined ? { sessionTimeout } : {}),
              ...(idleTimeout !== undefined ? { idleTimeout } : {}),
            });
            return n > 0 ? { found: true, applied: changes.map(([name]) => name) } : { found: false };
          },
        },
      );
      const at = await this.dynAuth.listen();
      this.log.info({ listen: `${at.address}:${at.port}` }, 'dynamic authorization (Disconnect/CoA) server listening');
    }

    this.mgmt = new MgmtServer(managementHandlers(this), this.log);
    await this.mgmt.listen(sys.mgmtSocket);

    for (const t of this.config.tunnels) {
      const shard = this.shards[shardOfPeer(t.peer.address, count)]!;
      shard
        .call('tunnels.create', {
          peer: { address: t.peer.address, port: t.peer.port },
          ...(t.local ? { local: { address: t.local.address, port: t.local.port } } : {}),
          profile: t.tunnelProfile,
          name: t.name,
          persistent: t.persistent,
          sessions: t.sessions.map((s) => ({
            callType: s.type === 'lns_outgoing' ? 'lnsOutgoing' : 'lacIncoming',
            extra: {
              name: s.name,
              ...ownSessionOptions(this.config, s.sessionProfile, s.pseudowire),
              pseudowire: s.pseudowire,
              pppProfile: this.config.sessionProfile(s.sessionProfile).pppProfile,
              ...(s.callingNumber !== undefined ? { callingNumber: s.callingNumber } : {}),
              ...(s.calledNumber !== undefined ? { calledNumber: s.calledNumber } : {}),
              ...(s.remoteEndId !== undefined ? { remoteEndId: s.remoteEndId } : {}),
            },
          })),
        })
        .catch((e: unknown) => this.log.error({ tunnel: t.name, err: String(e) }, 'could not create a configured tunnel'));
    }
    this.log.info(
      { listen: this.listener.bound.map((b) => `${b.address}:${b.port}`), listenIp: this.ipListener?.bound ?? [], mgmtSocket: sys.mgmtSocket, shards: count, pid: process.pid, host: os.hostname() },
      'l2tpd started',
    );
  }

  /** Sum of `{count}` answers of every shard to `method` (sessions are spread over them). */
  private async countOnShards(method: string, selector: unknown, extra: Record<string, unknown> = {}): Promise<number> {
    const answers = await Promise.all(this.shards.map((s) => s.call(method, { selector, ...extra }).catch(() => ({ count: 0 }))));
    let n = 0;
    for (const a of answers) n += (a as { count: number }).count;
    return n;
  }

  private onListenerPacket(buf: Buffer, from: Endpoint, to: Endpoint, transport: Transport = 'udp'): void {
    this.stats.listenerPackets++;
    let tunnelId: number;
    try {
      tunnelId = peekHeader(buf, transport).tunnelId;
    } catch (e) {
      if (!(e instanceof L2tpCodecError)) throw e;
      this.stats.listenerMalformed++;
      return;
    }
    const n = this.shards.length;
    const shard = tunnelId !== 0 ? tunnelId % n : shardOfPeer(from.address, n);
    this.toShard(shard, { buf, from, to, ...(transport === 'ip' ? { transport } : {}) });
  }

  private toShard(shard: number, item: PacketItem): void {
    this.stats.forwarded++;
    this.shards[shard]?.deliver(item);
  }

  /** SIGHUP: re-read the file; on any error keep running with the old configuration. */
  reload(): string[] {
    const old = this.config;
    let next: Config;
    let text: string | null;
    try {
      next = loadConfig(this.o.configFile, this.o.overrides);
      text = this.o.configFile ? readFileSync(this.o.configFile, 'utf8') : null;
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'configuration reload refused; the running configuration is unchanged');
      throw e;
    }
    const changes = formatDiff(diffConfig(old, next));
    this.config = next;
    this.configText = text;
    for (const s of this.shards) s.reconfigure(text, this.o.configFile ?? null, { ...this.o.overrides });
    this.log.info({ changes }, 'configuration reloaded (existing tunnels and sessions keep running)');
    return changes;
  }

  /** SIGTERM: StopCCN on every tunnel, then stop. */
  async stop(timeoutMs = 3000): Promise<void> {
    await Promise.all(this.shards.map((s) => s.call('shutdown', { ms: timeoutMs }, timeoutMs + 2000).catch(() => undefined)));
    this.listener?.close();
    this.ipListener?.close();
    await this.dynAuth?.close();
    await this.mgmt?.close();
    await Promise.all(this.shards.map((s) => s.stop()));
    // Whatever the workers did not delete (a worker that died mid-teardown) goes now: nothing of ours stays in the kernel.
    await this.dataPlane?.close();
    await this.store.close();
    this.log.info('l2tpd stopped');
  }
}

/**
 * The shard of a peer's SCCRQs and of the tunnels we open to it: FNV-1a over its address. One
 * shard per peer address keeps an SCCRQ's retransmissions together and lets a tie breaker
 * (RFC 2661 §4.4.3) find our own outstanding SCCRQ to the same peer.
 */
export function shardOfPeer(address: string, shards: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    h ^= address.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % shards;
}
