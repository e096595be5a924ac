/**
 * Entry point of a shard worker thread: builds its Shard from the init message, takes batched
 * packets and management calls from the main thread, and sends back forwards, results and records.
 * Errors of one call are answered as errors; nothing a peer sends can end the thread (the shard and
 * codec only throw typed errors, caught where packets enter).
 */
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { logSink } from '../util/log-sink.js';
import { parseConfig, type Config } from '../config/index.js';
import { policyFromConfig, shardLimits } from '../daemon/policy.js';
import { NullDataPlane } from '../dataplane/null.js';
import { RemoteDataPlane, type DataPlaneCall } from '../dataplane/remote.js';
import type { DataPlane } from '../dataplane/types.js';
import { Shard, ShardError } from './shard.js';
import { tunnelSocketFactory } from './sockets.js';
import { L2tpIpSocketFactory } from './l2tp-ip.js';
import { TimerWheel } from './timer-wheel.js';
import { Batcher, type FromWorker, type PacketItem, type ShardInit, type ToWorker } from './thread-protocol.js';
import { handleShardRpc } from './shard-rpc.js';
import { createPppService } from './ppp-service.js';

const port = parentPort;
if (!port) throw new Error('shard-worker must run in a worker thread');

function post(m: FromWorker): void {
  port!.postMessage(m);
}

function buildConfig(text: string | null, file: string | null, overrides: Record<string, unknown>): Config {
  return parseConfig(text ?? '', file ?? '<built-in defaults>', overrides);
}

async function start(init: ShardInit): Promise<void> {
  const log = pino({ level: init.logLevel, base: { shard: init.index } }, logSink());
  let config = buildConfig(init.configText, init.configFile, init.overrides);
  let policy = policyFromConfig(config);
  const clock = new TimerWheel();
  // Kernel: the main thread owns the netlink sockets; this worker owns the tunnels' sockets and PPP fds.
  const dataPlaneCalls = new Batcher<{ id: number; call: DataPlaneCall }>((calls) => post({ type: 'dataplane', calls }));
  const remote = init.dataPlane === 'kernel' ? new RemoteDataPlane('kernel', (id, call) => dataPlaneCalls.push({ id, call })) : undefined;
  const dataPlane: DataPlane = remote ?? new NullDataPlane();
  // PPP termination: built before the shard, asks the shard (bound below) for a session's tunnel.
  let shardRef: Shard | undefined;
  const ppp = await createPppService({
    config,
    shards: init.count,
    index: init.index,
    clock,
    log,
    dataPlane,
    pppProfileOf: (s) => {
      const t = shardRef?.tunnels.get(s.localTunnelId);
      return t ? config.pppProfile(s.pppProfile ?? t.options.pppProfile) : undefined;
    },
  });
  const tunnelSockets = tunnelSocketFactory(config.system.socketBuffer, config.system.socketIo);
  if (init.index === 0) {
    if (tunnelSockets.kind === 'native') log.info('tunnel sockets: native (recvmmsg batches)');
    else log.info({ reason: tunnelSockets.reason }, 'tunnel sockets: node dgram');
  }
  const forwards = new Batcher<PacketItem & { shard: number }>((items) => post({ type: 'forward', items }));
  const shard = new Shard({
    index: init.index,
    count: init.count,
    clock,
    pseudowire: ppp.pseudowire,
    dataPlane,
    log,
    sockets: tunnelSockets.factory,
    ...(init.dataPlane === 'kernel' ? { ipSockets: new L2tpIpSocketFactory() } : {}),
    policy: { incoming: (p) => policy.incoming(p), profile: (n) => policy.profile(n) },
    limits: shardLimits(config),
    ...(init.sessionCounts ? { nodeSessions: new Int32Array(init.sessionCounts) } : {}),
    forward: (shardIndex, buf, from, to, transport) => forwards.push({ shard: shardIndex, buf, from, to, ...(transport === 'ip' ? { transport } : {}) }),
    persist: (upserts, deletes) => post({ type: 'records', upserts, deletes }),
  });
  shardRef = shard;
  const restored = init.restore ? await shard.restore(init.restore.tunnels) : 0;
  if (restored > 0) log.info({ restored }, 'tunnels restored after worker restart');

  port!.on('message', (m: ToWorker) => {
    switch (m.type) {
      case 'packets':
        for (const p of m.items) {
          shard.handlePacket(Buffer.from(p.buf.buffer, p.buf.byteOffset, p.buf.byteLength), p.from, p.to, undefined, p.transport);
        }
        return;
      case 'rpc':
        handleShardRpc(shard, m.method, m.params, log, ppp)
          .then(
            (result): FromWorker => ({ type: 'rpc-result', id: m.id, result }),
            (e: unknown): FromWorker => ({
              type: 'rpc-result',
              id: m.id,
              error: { code: e instanceof ShardError ? e.code : 'internal', message: e instanceof Error ? e.message : String(e) },
            }),
          )
          .then((answer) => {
            logSink().flushSync(); // the caller may stop this worker as soon as it has the answer
            post(answer);
          });
        return;
      case 'config':
        try {
          config = buildConfig(m.configText, m.configFile, m.overrides);
          policy = policyFromConfig(config);
          shardRef?.setLimits(shardLimits(config));
        } catch (e) {
          log.error({ err: String(e) }, 'worker could not apply the new configuration');
        }
        return;
      case 'dataplane-results':
        for (const r of m.replies) remote?.settle(r);
        return;
      case 'init':
        return;
    }
  });
  post({ type: 'ready', index: init.index, restored });
}

start(workerData as ShardInit).catch((e: unknown) => {
  // Startup failures end the thread; the supervisor reports and retries.
  console.error(`shard worker failed to start: ${e instanceof Error ? e.stack : String(e)}`);
  process.exit(1);
});
