/**
 * One session (call) of a tunnel: its plain data, its XState actor, and the actions the session
 * machine names. The tunnel routes messages here already judged; this object only acts.
 */
import type { Logger } from 'pino';
import { createActor, type Actor, type Snapshot } from 'xstate';
import type { Refusal } from './tunnel-machine.js';
import type { SessionActions, SessionContext, SessionMachine, SessionStateName } from './session-machine.js';
import { buildCdn, buildSessionMessage, type SessionData } from './session-messages.js';
import type { Tunnel } from './tunnel.js';

export class Session implements SessionActions {
  readonly actor: Actor<SessionMachine>;
  private finalReason: string | undefined;
  private logger: Logger | undefined;

  constructor(
    readonly tunnel: Tunnel,
    readonly data: SessionData,
    machine: SessionMachine,
    snapshot?: unknown,
  ) {
    this.actor = createActor(machine, {
      input: { localTunnelId: data.localTunnelId, localSessionId: data.localSessionId, callType: data.callType },
      clock: tunnel.env.clock,
      ...(snapshot ? { snapshot: snapshot as Snapshot<unknown> } : {}),
    });
  }

  /** Created on first use: most sessions never log on their own. */
  get log(): Logger {
    return (this.logger ??= this.tunnel.log.child({ session: this.data.localSessionId }));
  }

  start(): void {
    // Report every state change once the transition is complete (actions run before the snapshot updates).
    let last: unknown;
    this.actor.subscribe((snap) => {
      if (snap.value === last) return;
      last = snap.value;
      if (this.logger?.isLevelEnabled('debug')) this.logger.debug({ state: snap.value }, 'session state');
      if (snap.status === 'active') this.tunnel.env.events.sessionChanged(this);
    });
    this.actor.start();
  }

  get state(): SessionStateName {
    return this.actor.getSnapshot().value as SessionStateName;
  }

  /** Why the session ended or is ending. */
  get reason(): string | undefined {
    return this.finalReason ?? this.actor.getSnapshot().context.reason;
  }

  get localSessionId(): number {
    return this.data.localSessionId;
  }

  send(kind: 'ICRQ' | 'ICRP' | 'ICCN' | 'OCRQ' | 'OCRP' | 'OCCN'): void {
    this.tunnel.sendSessionMessage(this, kind, buildSessionMessage(kind, this.data, this.tunnel.options));
  }

  sendCdn(result: Refusal): void {
    this.tunnel.sendSessionMessage(this, 'CDN', buildCdn(this.data, result));
  }

  sessionUp(): void {
    this.data.establishedAt = this.tunnel.env.clock.now();
    this.tunnel.sessionUp(this);
  }

  closed(ctx: SessionContext): void {
    // Actions run before the snapshot updates: keep the reason the machine just recorded.
    this.finalReason = ctx.reason;
    this.tunnel.sessionClosed(this);
  }
}
