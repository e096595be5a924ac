/**
 * A data plane in another thread: shard workers call the main thread's kernel data plane by
 * message (the netlink socket cannot live in a worker, see kernel/l2tp-genl.ts). Kernel calls
 * happen per tunnel/session setup and teardown, never per packet, so one hop is cheap; calls
 * travel batched with everything else a worker posts in one event-loop turn.
 */
import { DataPlaneError, type DataPlane, type DataPlaneCounters, type DataPlaneKind, type PppInterfaceResult, type PppInterfaceSpec, type SessionSpec, type TunnelSpec } from './types.js';

export type DataPlaneCall =
  | { op: 'createTunnel'; spec: TunnelSpec }
  | { op: 'deleteTunnel'; tunnelId: number }
  | { op: 'createSession'; spec: SessionSpec }
  | { op: 'deleteSession'; tunnelId: number; sessionId: number }
  | { op: 'modifySession'; spec: { localTunnelId: number; localSessionId: number; sequencing: boolean; lnsMode: boolean } }
  | { op: 'counters'; tunnelId: number; sessionId?: number }
  | { op: 'pppInterfaceUp'; spec: PppInterfaceSpec };

export interface DataPlaneReply {
  id: number;
  result?: unknown;
  error?: { message: string; operation: string; code?: string };
}

export class RemoteDataPlane implements DataPlane {
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;

  constructor(
    readonly kind: DataPlaneKind,
    private readonly post: (id: number, call: DataPlaneCall) => void,
  ) {}

  private call<T>(call: DataPlaneCall): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.post(id, call);
    });
  }

  /** The main thread's answer to call `id`. */
  settle(reply: DataPlaneReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    this.pending.delete(reply.id);
    if (reply.error) p.reject(new DataPlaneError(reply.error.message, reply.error.operation, reply.error.code));
    else p.resolve(reply.result);
  }

  createTunnel(spec: TunnelSpec): Promise<void> {
    return this.call({ op: 'createTunnel', spec });
  }
  deleteTunnel(tunnelId: number): Promise<void> {
    return this.call({ op: 'deleteTunnel', tunnelId });
  }
  createSession(spec: SessionSpec): Promise<void> {
    return this.call({ op: 'createSession', spec });
  }
  deleteSession(tunnelId: number, sessionId: number): Promise<void> {
    return this.call({ op: 'deleteSession', tunnelId, sessionId });
  }
  modifySession(spec: { localTunnelId: number; localSessionId: number; sequencing: boolean; lnsMode: boolean }): Promise<void> {
    return this.call({ op: 'modifySession', spec });
  }
  counters(tunnelId: number, sessionId?: number): Promise<DataPlaneCounters | undefined> {
    return this.call({ op: 'counters', tunnelId, ...(sessionId !== undefined ? { sessionId } : {}) });
  }
  pppInterfaceUp(spec: PppInterfaceSpec): Promise<PppInterfaceResult> {
    return this.call({ op: 'pppInterfaceUp', spec });
  }
  async close(): Promise<void> {
    for (const p of this.pending.values()) p.reject(new DataPlaneError('data plane closed', 'close'));
    this.pending.clear();
  }
}

/** Buffers cross threads as Uint8Array (structured clone): make them Buffers again. */
function buf(u: Uint8Array | undefined): Buffer | undefined {
  return u ? Buffer.from(u.buffer, u.byteOffset, u.byteLength) : undefined;
}

/** Runs one call from a worker against the real data plane; errors become a reply, never a throw. */
export async function executeDataPlaneCall(dp: DataPlane, id: number, call: DataPlaneCall): Promise<DataPlaneReply> {
  try {
    switch (call.op) {
      case 'createTunnel':
        return { id, result: await dp.createTunnel(call.spec) };
      case 'deleteTunnel':
        return { id, result: await dp.deleteTunnel(call.tunnelId) };
      case 'createSession': {
        const cookie = buf(call.spec.cookie);
        const peerCookie = buf(call.spec.peerCookie);
        const { cookie: _c, peerCookie: _p, ...rest } = call.spec;
        return { id, result: await dp.createSession({ ...rest, ...(cookie ? { cookie } : {}), ...(peerCookie ? { peerCookie } : {}) }) };
      }
      case 'deleteSession':
        return { id, result: await dp.deleteSession(call.tunnelId, call.sessionId) };
      case 'modifySession':
        if (!dp.modifySession) throw new DataPlaneError(`the ${dp.kind} data plane cannot modify sessions`, 'session modify');
        return { id, result: await dp.modifySession(call.spec) };
      case 'counters':
        return { id, result: await dp.counters(call.tunnelId, call.sessionId) };
      case 'pppInterfaceUp':
        if (!dp.pppInterfaceUp) throw new DataPlaneError(`the ${dp.kind} data plane has no PPP interfaces`, 'ppp interface');
        return { id, result: await dp.pppInterfaceUp(call.spec) };
    }
  } catch (e) {
    return {
      id,
      error:
        e instanceof DataPlaneError
          ? { message: e.message, operation: e.operation, ...(e.code ? { code: e.code } : {}) }
          : { message: e instanceof Error ? e.message : String(e), operation: call.op },
    };
  }
}
