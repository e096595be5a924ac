/**
 * One session (call) of a tunnel: its plain data, its XState actor, and the actions the session
 * machine names. The tunnel routes messages here already judged; this object only acts.
 */
import type { Logger } from 'pino';
import { createActor, type Actor, type Snapshot } from 'xstate';
import type { Refusal } from './tunnel-machine.js';
import type { SessionActions, SessionContext, SessionEvent, SessionMachine, SessionStateName } from './session-machine.js';
import { buildCdn, buildSessionMessage, type SessionData } from './session-messages.js';
import type { Tunnel } from './tunnel.js';
import type { PseudowireHandler } from './pseudowire.js';
import type { PppInterfaceSpec, SessionLink } from '../dataplane/types.js';
import type { ControlMessage } from '../protocol/index.js';

/** A session's failover record: its data, its machine's snapshot, its pseudowire handler's state (opaque here). */
export interface SessionRecord {
  data: SessionData;
  machine: unknown;
  pseudowire?: unknown;
}

export class Session implements SessionActions {
  /**
   * The live actor, or undefined while the session hibernates (DESIGN.md: an established idle
   * session does not hold an XState actor, 4.8 KB each; its persisted snapshot is kept instead and
   * the actor is re-created on the rare event — CDN, admin close, tunnel down).
   */
  private live: Actor<SessionMachine> | undefined;
  private frozen: Snapshot<unknown> | undefined;
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

  constructor(
    readonly tunnel: Tunnel,
    readonly data: SessionData,
    private readonly machine: SessionMachine,
    snapshot?: unknown,
  ) {
    if (snapshot) this.frozen = snapshot as Snapshot<unknown>;
  }

  /** Created on first use: most sessions never log on their own. */
  get log(): Logger {
    return (this.logger ??= this.tunnel.log.child({ session: this.data.localSessionId }));
  }

  /** Start a new session's actor; a restored one stays hibernated until its first event. */
  start(): void {
    if (!this.frozen) this.wake();
  }

  private wake(): Actor<SessionMachine> {
    if (this.live) return this.live;
    const d = this.data;
    const actor = createActor(this.machine, {
      input: { localTunnelId: d.localTunnelId, localSessionId: d.localSessionId, callType: d.callType },
      clock: this.tunnel.env.clock,
      ...(this.frozen ? { snapshot: this.frozen } : {}),
    });
    const resumed = this.frozen !== undefined;
    this.frozen = undefined;
    this.live = actor;
    // Report every state change once the transition is complete (actions run before the snapshot updates).
    let last: unknown = resumed ? actor.getSnapshot().value : undefined;
    actor.subscribe((snap) => {
      if (this.upPending) {
        this.upPending = false;
        this.tunnel.calls.up(this);
      }
      if (snap.value === last) return;
      last = snap.value;
      if (this.logger?.isLevelEnabled('debug')) this.logger.debug({ state: snap.value }, 'session state');
      if (snap.status !== 'active') return;
      this.tunnel.env.events.sessionChanged(this);
      if (snap.value === 'established') queueMicrotask(() => this.hibernate());
    });
    actor.start();
    return actor;
  }

  /** Keep only the persisted snapshot of an established session. */
  hibernate(): void {
    const a = this.live;
    if (!a || a.getSnapshot().value !== 'established' || a.getSnapshot().status !== 'active') return;
    this.frozen = a.getPersistedSnapshot();
    this.live = undefined;
    a.stop();
  }

  get hibernating(): boolean {
    return this.live === undefined && this.frozen !== undefined;
  }

  /** Deliver an event, waking the session if it hibernates. */
  dispatch(e: SessionEvent): void {
    const wasAsleep = this.live === undefined;
    this.wake().send(e);
    // An event that changed nothing (e.g. TUNNEL_UP to an established call) must not keep it awake.
    if (wasAsleep && this.state === 'established') queueMicrotask(() => this.hibernate());
  }

  /** The machine's persisted snapshot (the session's failover record). */
  persisted(): unknown {
    return this.frozen ?? this.live?.getPersistedSnapshot();
  }

  record(): SessionRecord {
    const pw = this.pseudowire?.state?.();
    return { data: this.data, machine: this.persisted(), ...(pw !== undefined ? { pseudowire: pw } : {}) };
  }

  private snapshotOf(): { value: unknown; context: SessionContext } {
    return (this.live?.getSnapshot() ?? this.frozen) as unknown as { value: unknown; context: SessionContext };
  }

  get state(): SessionStateName {
    return this.snapshotOf().value as SessionStateName;
  }

  /** Why the session ended or is ending. */
  get reason(): string | undefined {
    return this.finalReason ?? this.snapshotOf().context.reason;
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
   * The data plane and the pseudowire start once the transition is complete (in wake's observer), not
   * inside the machine's action: the pseudowire creates actors of its own (PPP's automata), which
   * XState does not allow from inside another actor's action.
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
