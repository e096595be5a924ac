/**
 * A stand-in for l2tpd behind the management socket: in-memory tunnels and sessions, handlers that answer
 * the way the shards do (errors carry a `code`, like ShardError), and a record of every call made.
 */
import pino from 'pino';
import { bufferedIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/l2tpctl.js';
import type { MgmtHandlers, MethodName, SessionInfo, TunnelInfo } from '../../src/mgmt/protocol.js';
import { MgmtServer } from '../../src/mgmt/server.js';
import { makeTempDir, type TempDir } from '../support/tmp.js';

export const silentLog = pino({ level: 'silent' });

/** An error shaped like src/workers/shard.ts's ShardError: an Error with a protocol error code. */
export class CodedError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export function tunnel(id: number, over: Partial<TunnelInfo> = {}): TunnelInfo {
  return {
    tunnelId: id,
    peerTunnelId: 100 + id,
    version: 2,
    state: 'established',
    role: 'responder',
    localAddress: '192.0.2.1',
    localPort: 1701,
    peerAddress: '198.51.100.7',
    peerPort: 1701,
    peerHostName: 'lac-one',
    peerVendorName: 'xl2tpd',
    sessionCount: 0,
    profile: 'default',
    name: null,
    persistent: false,
    createdAt: '2025-01-01T00:00:00.000Z',
    establishedAt: '2025-01-01T00:00:01.000Z',
    reason: null,
    shard: 0,
    fellBackToV2: false,
    control: { ns: 3, nr: 4, unacked: 0, sent: 3, retransmitted: 1, received: 4, duplicates: 0, zlbSent: 2 },
    ...over,
  };
}

export function session(tunnelId: number, sessionId: number, over: Partial<SessionInfo> = {}): SessionInfo {
  return {
    tunnelId,
    sessionId,
    peerTunnelId: 100 + tunnelId,
    peerSessionId: 200 + sessionId,
    callType: 'lacIncoming',
    state: 'established',
    callSerialNumber: 1,
    pseudowire: 'ppp',
    callingNumber: '5551234',
    calledNumber: null,
    createdAt: '2025-01-01T00:00:02.000Z',
    establishedAt: '2025-01-01T00:00:03.000Z',
    reason: null,
    ...over,
  };
}

export interface FakeDaemon {
  handlers: MgmtHandlers;
  tunnels: Map<number, TunnelInfo>;
  sessions: SessionInfo[];
  calls: Array<{ method: MethodName; params: unknown }>;
}

export function fakeDaemon(): FakeDaemon {
  const tunnels = new Map<number, TunnelInfo>([
    [1, tunnel(1, { sessionCount: 2 })],
    [2, tunnel(2, { peerAddress: '2001:db8::7', peerHostName: null, version: 3, state: 'wait-ctl-reply', role: 'initiator' })],
  ]);
  const sessions = [session(1, 10), session(1, 11, { callType: 'lnsOutgoing', state: 'wait-reply', callingNumber: null, calledNumber: '5559876' })];
  const calls: FakeDaemon['calls'] = [];
  const need = (id: number) => {
    const t = tunnels.get(id);
    if (!t) throw new CodedError(`no tunnel ${id}`, 'not-found');
    return t;
  };
  const rec =
    <M extends MethodName>(method: M, fn: MgmtHandlers[M]): MgmtHandlers[M] =>
    ((params: never) => {
      calls.push({ method, params });
      return (fn as (p: never) => Promise<unknown>)(params);
    }) as MgmtHandlers[M];
  const handlers: MgmtHandlers = {
    'system.status': rec('system.status', async () => ({
      version: '0.1.0',
      pid: 4242,
      uptimeSeconds: 93784,
      dataPlane: { kind: 'null', reason: 'no CAP_NET_ADMIN' },
      shards: 2,
      tunnels: tunnels.size,
      sessions: sessions.length,
      configFile: '/etc/l2tpd/l2tpd.yaml',
      listen: ['0.0.0.0:1701', '[::]:1701'],
    })),
    'tunnels.list': rec('tunnels.list', async () => [...tunnels.values()]),
    'tunnels.get': rec('tunnels.get', async ({ tunnelId }) => ({ ...need(tunnelId), counters: null, sessions: sessions.filter((s) => s.tunnelId === tunnelId) })),
    'tunnels.create': rec('tunnels.create', async (p) => {
      if (p.profile === 'missing') throw new CodedError('no tunnel profile named missing', 'bad-request');
      if (p.profile === 'full') throw new CodedError('tunnel limit reached', 'limit');
      const t = tunnel(7, { state: 'wait-ctl-reply', role: 'initiator', peerAddress: p.peer, version: p.version ?? 2, profile: p.profile ?? 'default' });
      tunnels.set(7, t);
      return t;
    }),
    'tunnels.delete': rec('tunnels.delete', async ({ tunnelId }) => (need(tunnelId), { ok: true })),
    'sessions.list': rec('sessions.list', async ({ tunnelId }) => sessions.filter((s) => tunnelId === undefined || s.tunnelId === tunnelId)),
    'sessions.get': rec('sessions.get', async ({ tunnelId, sessionId }) => {
      const s = sessions.find((x) => x.tunnelId === tunnelId && x.sessionId === sessionId);
      if (!s) throw new CodedError(`no session ${tunnelId}/${sessionId}`, 'not-found');
      return { ...s, counters: { rxPackets: 12, rxBytes: 3400, rxErrors: 0, rxSeqDiscards: 0, txPackets: 10, txBytes: 2900, txErrors: 0 } };
    }),
    'sessions.create': rec('sessions.create', async (p) => {
      if (need(p.tunnelId).state !== 'established') throw new CodedError(`tunnel ${p.tunnelId} is not established`, 'refused');
      return session(p.tunnelId, 12, { state: 'wait-reply', callType: p.type === 'lac-incoming' ? 'lacIncoming' : 'lnsOutgoing', callingNumber: p.callingNumber ?? null });
    }),
    'sessions.delete': rec('sessions.delete', async ({ tunnelId, sessionId }) => {
      if (!sessions.some((x) => x.tunnelId === tunnelId && x.sessionId === sessionId)) throw new CodedError(`no session ${tunnelId}/${sessionId}`, 'not-found');
      return { ok: true };
    }),
    'trace.set': rec('trace.set', async () => ({ ok: true })),
    stats: rec('stats', async () => ({
      shards: [
        { packets: 10, malformed: 1 },
        { packets: 5, malformed: 0 },
      ],
      totals: { packets: 15, malformed: 1 },
    })),
    'shard.restart': rec('shard.restart', async ({ shard }) => {
      if (shard > 1) throw new CodedError(`no shard ${shard} (there are 2)`, 'not-found');
      return { ok: true, restored: tunnels.size };
    }),
    'config.reload': rec('config.reload', async () => ({ changed: ['profiles.tunnel.default', 'listen'] })),
  };
  return { handlers, tunnels, sessions, calls };
}

export interface Running {
  server: MgmtServer;
  socket: string;
  tmp: TempDir;
  stop(): Promise<void>;
}

/** A MgmtServer on a socket in a fresh temp dir. */
export async function serve(handlers: MgmtHandlers): Promise<Running> {
  const tmp = await makeTempDir('l2tpd-mgmt-');
  const socket = tmp.file('run/l2tpd.sock');
  const server = new MgmtServer(handlers, silentLog);
  await server.listen(socket);
  return {
    server,
    socket,
    tmp,
    stop: async () => {
      await server.close();
      await tmp.cleanup();
    },
  };
}

/** Runs l2tpctl in-process against the daemon on `socket`. */
export async function ctl(socket: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferedIo();
  const code = await main(['--mgmt-socket', socket, ...argv], io);
  return { code, out: io.out(), err: io.err() };
}
