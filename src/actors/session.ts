/**
 * One session (call) of a tunnel: its plain data, its state machine, and the actions the session
 * machine names. The tunnel routes messages here already judged; this object only acts.
 */
import type { Logger } from 'pino';
import type { Refusal } from './tunnel-machine.js';
import { PlainSessionFsm, type SessionActions, type SessionContext, type SessionEvent, type SessionStateName } from './session-machine.js';
import { buildCdn, buildSessionMessage, type SessionData } from './session-messages.js';
import type { Tunnel } from './tunnel.js';
import type { PseudowireHandler } from './pseudowire.js';
import type { PppInterfaceSpec, SessionLink } from '../dataplane/types.js';
import type { ControlMessage } from '../protocol/index.js';

/**
 * A session's failover record: its data, its machine's state (PlainSessionFsm.compact; records written before it
 * hold the XState-shaped snapshot, restored alike), its pseudowire handler's state (opaque here).
 */
export interface SessionRecord {
  data: SessionData;
  machine: unknown;
  pseudowire?: unknown;
}

export class Session implements SessionActions {
  /** The call's state machine (session-machine.ts): a state name and a small context, its own persisted form. */
  private readonly fsm: PlainSessionFsm;
  private finalReason: string | undefined;
  /** What the session carries once established (PPP engine...), when this node terminates it. */
  pseudowire: PseudowireHandler | undefined;
  /** Kernel data plane: the session's frames go through this instead of the tunnel socket. */
  link: SessionLink | undefined;
  /** The network came up before the link was attached: applied when it is. */
  pendingNetworkUp: Omit<PppInterfaceSpec, 'unit'> | undefined;
  /** The message being delivered (ICCN/OCCN/ICRP), kept only until `sessionUp` reads it. */
  lastMessage: ControlMessage | undefined;
  private logger: Logger | undefined;
  /** sessionUp ran: the tunnel starts what the session carries once the transition is complete. */
  private upPending = false;
  /** Made from a failover record: already reported. */
  private readonly restored: boolean;

  constructor(
    readonly tunnel: Tunnel,
    readonly data: SessionData,
    snapshot?: unknown,
  ) {
    const ids = { localTunnelId: data.localTunnelId, localSessionId: data.localSessionId, callType: data.callType };
    this.restored = snapshot !== undefined;
    this.fsm = snapshot ? PlainSessionFsm.restore(snapshot, ids) : PlainSessionFsm.create(ids);
  }

  /** Created on first use: most sessions never log on their own. */
  get log(): Logger {
    return (this.logger ??= this.tunnel.log.child({ session: this.data.localSessionId }));
  }

  /** A new session reports its first state; a restored one says nothing until it changes. */
  start(): void {
    if (!this.restored) this.tunnel.env.events.sessionChanged(this);
  }

  /**
   * Deliver an event. Like an XState actor's observer, what follows runs once the transition is
   * complete: the pseudowire starts (it creates automata of its own) and the change is reported.
   * Unlike the observer it runs once per `send`, not per step: an event queued by an action of the same
   * session would be handled before the pseudowire starts. No action does that today (`sessionUp` is
   * always a cell's last action, and `closed` only removes the session); a host hook per step is the
   * fix if one ever must.
   */
  dispatch(e: SessionEvent): void {
    const changed = this.fsm.send(e, this);
    if (this.upPending) {
      this.upPending = false;
      this.tunnel.calls.up(this);
    }
    if (!changed) return;
    if (this.logger?.isLevelEnabled('debug')) this.logger.debug({ state: this.fsm.state }, 'session state');
    if (!this.fsm.done) this.tunnel.env.events.sessionChanged(this);
  }

  record(): SessionRecord {
    const pw = this.pseudowire?.state?.();
    return { data: this.data, machine: this.fsm.compact(), ...(pw !== undefined ? { pseudowire: pw } : {}) };
  }

  get state(): SessionStateName {
    return this.fsm.state;
  }

  /** Why the session ended or is ending. */
  get reason(): string | undefined {
    return this.finalReason ?? this.fsm.context.reason;
  }

  get localSessionId(): number {
    return this.data.localSessionId;
  }

  send(kind: 'ICRQ' | 'ICRP' | 'ICCN' | 'OCRQ' | 'OCRP' | 'OCCN'): void {
    this.tunnel.calls.sendMessage(this, kind, buildSessionMessage(kind, this.data, this.tunnel.options));
  }

  sendCdn(result: Refusal): void {
    this.tunnel.calls.sendMessage(this, 'CDN', buildCdn(this.data, result));
  }

  /**
   * The data plane and the pseudowire start once the transition is complete (in `dispatch`), not inside
   * the machine's action: the session's state must read `established` when they look.
   */
  sessionUp(): void {
    this.data.establishedAt = this.tunnel.env.clock.now();
    this.upPending = true;
  }

  closed(ctx: SessionContext): void {
    // Actions run before the snapshot updates: keep the reason the machine just recorded.
    this.finalReason = ctx.reason;
    this.tunnel.calls.closed(this);
  }
}
