/**
 * Session (call) state machines for the four call types, RFC 2661 §7.4 and RFC 3931 §3.4, as one
 * XState table. The machine knows nothing of PPP or Ethernet: reaching `established` hands the
 * pseudowire to its handler through the `sessionUp` action (STYLE.md: core vs pseudowires).
 *
 *   LNS incoming:  idle ─ICRQ ok/send ICRP→ waitConnect ─ICCN ok→ established
 *   LAC incoming:  idle ─OPEN→ waitTunnel ─TUNNEL_UP/send ICRQ→ waitReply ─ICRP ok/send ICCN→ established
 *   LAC outgoing:  idle ─OCRQ ok/send OCRP→ waitCsAnswer ─CALL_CONNECTED/send OCCN→ established
 *   LNS outgoing:  idle ─OPEN→ waitTunnel ─TUNNEL_UP/send OCRQ→ waitReply ─OCRP ok→ waitConnect ─OCCN ok→ established
 *   any: refusal → closed (send CDN); CDN received → closed; CLOSE → closed (send CDN); TUNNEL_DOWN → closed.
 *
 * The table is data (SESSION_TABLE). Sessions run it in a plain interpreter (PlainSessionFsm): XState's
 * actor creation, macrosteps and snapshots cost ~35% of a shard's CPU per call set-up (profile in
 * docs/benchmarks.md), and an interpreter's state is already its compact persisted form, so an established
 * session needs no hibernation. The same table builds the XState machine (createSessionMachine), kept as
 * the reference the interpreter is tested against (test/actors/session-fsm-equivalence.test.ts).
 */
import { assign, setup } from 'xstate';
import type { Refusal, Verdict } from './tunnel-machine.js';
import { describeRefusal } from './refusal.js';

export type CallType = 'lnsIncoming' | 'lacIncoming' | 'lacOutgoing' | 'lnsOutgoing';

export interface SessionContext {
  localTunnelId: number;
  localSessionId: number;
  callType: CallType;
  reason?: string;
  cdnResult?: Refusal;
}

export type SessionEvent =
  | { type: 'OPEN' }
  | { type: 'TUNNEL_UP' }
  | { type: 'ICRQ'; verdict: Verdict }
  | { type: 'ICRP'; verdict: Verdict }
  | { type: 'ICCN'; verdict: Verdict }
  | { type: 'OCRQ'; verdict: Verdict }
  | { type: 'OCRP'; verdict: Verdict }
  | { type: 'OCCN'; verdict: Verdict }
  | { type: 'CALL_CONNECTED' }
  | { type: 'CDN'; result: Refusal }
  | { type: 'CLOSE'; result: Refusal }
  | { type: 'TUNNEL_DOWN'; reason: string };

export interface SessionActions {
  send(message: 'ICRQ' | 'ICRP' | 'ICCN' | 'OCRQ' | 'OCRP' | 'OCCN'): void;
  sendCdn(result: Refusal): void;
  sessionUp(): void;
  closed(ctx: SessionContext): void;
}

export type SessionStateName = 'init' | 'lnsIncoming' | 'lacOutgoing' | 'waitCsAnswer' | 'localIdle' | 'waitTunnel' | 'waitReply' | 'waitConnect' | 'established' | 'closed';
export type SessionEventType = SessionEvent['type'];
type SendStep = 'sendIcrq' | 'sendIcrp' | 'sendIccn' | 'sendOcrq' | 'sendOcrp' | 'sendOccn';
export type SessionStep = SendStep | 'sendCdn' | 'sessionUp' | 'recordCdnSent' | 'recordCdnReceived' | 'recordTunnelDown';
/** `accepted`: the event's verdict is ok; `{ is }`: the session's call type. */
export type SessionGuard = 'accepted' | { is: CallType };
export interface SessionCell {
  guard?: SessionGuard;
  target: SessionStateName;
  actions: readonly SessionStep[];
}
type Row = Partial<Record<SessionEventType, readonly SessionCell[]>>;

const REFUSE = ['recordCdnSent', 'sendCdn'] as const;
const refused: SessionCell = { target: 'closed', actions: REFUSE };
const ok = (target: SessionStateName, ...actions: SessionStep[]): SessionCell => ({ guard: 'accepted', target, actions });

/**
 * Every transition: `any` applies in every state but `closed` (the final state ignores everything); a
 * state's own row comes first; cells are tried in order, the first whose guard holds is taken.
 * Entering `closed` runs the host's `closed` once.
 */
export const SESSION_TABLE: { any: Row; states: Partial<Record<SessionStateName, Row>> } = {
  any: {
    CDN: [{ target: 'closed', actions: ['recordCdnReceived'] }],
    CLOSE: [refused],
    TUNNEL_DOWN: [{ target: 'closed', actions: ['recordTunnelDown'] }],
  },
  states: {
    // Calls the peer starts: we wait for its ICRQ / OCRQ.
    lnsIncoming: { ICRQ: [ok('waitConnect', 'sendIcrp'), refused] },
    lacOutgoing: { OCRQ: [ok('waitCsAnswer', 'sendOcrp'), refused] },
    // RFC 2661 §7.4.2: the LAC places the call; with no PSTN behind us it connects at once.
    waitCsAnswer: { CALL_CONNECTED: [{ target: 'established', actions: ['sendOccn', 'sessionUp'] }] },
    // Calls we start: wait for the tunnel, then send ICRQ / OCRQ.
    localIdle: { OPEN: [{ target: 'waitTunnel', actions: [] }] },
    waitTunnel: {
      TUNNEL_UP: [
        { guard: { is: 'lacIncoming' }, target: 'waitReply', actions: ['sendIcrq'] },
        { target: 'waitReply', actions: ['sendOcrq'] },
      ],
    },
    waitReply: { ICRP: [ok('established', 'sendIccn', 'sessionUp'), refused], OCRP: [ok('waitConnect'), refused] },
    waitConnect: { ICCN: [ok('established', 'sessionUp'), refused], OCCN: [ok('established', 'sessionUp'), refused] },
    established: {},
  },
};

/** Where a new session starts (the machine's `init` state resolves at once by call type). */
export function initialSessionState(callType: CallType): SessionStateName {
  return callType === 'lnsIncoming' ? 'lnsIncoming' : callType === 'lacOutgoing' ? 'lacOutgoing' : 'localIdle';
}

const refusalOf = (e: SessionEvent): Refusal => ('verdict' in e && !e.verdict.ok ? e.verdict : 'result' in e ? e.result : { resultCode: 3 });
const SEND: Record<SendStep, Parameters<SessionActions['send']>[0]> = {
  sendIcrq: 'ICRQ',
  sendIcrp: 'ICRP',
  sendIccn: 'ICCN',
  sendOcrq: 'OCRQ',
  sendOcrp: 'OCRP',
  sendOccn: 'OCCN',
};
function holds(g: SessionGuard | undefined, ctx: SessionContext, e: SessionEvent): boolean {
  if (g === undefined) return true;
  if (g === 'accepted') return 'verdict' in e && e.verdict.ok;
  return ctx.callType === g.is;
}
function cellFor(state: SessionStateName, ctx: SessionContext, e: SessionEvent): SessionCell | undefined {
  if (state === 'closed') return undefined;
  for (const row of [SESSION_TABLE.states[state], SESSION_TABLE.any]) {
    const cells = row?.[e.type];
    if (cells) return cells.find((c) => holds(c.guard, ctx, e));
  }
  return undefined;
}

/** A session's state in its failover record (PlainSessionFsm.compact). */
export interface CompactSession {
  value: SessionStateName;
  reason?: string;
  cdnResult?: Refusal;
}

/** The persisted form, in XState's persisted-snapshot shape so either side restores the other's. */
export interface PersistedSession {
  status: 'active' | 'done';
  value: SessionStateName;
  context: SessionContext;
  historyValue: Record<string, never>;
  children: Record<string, never>;
}

/**
 * The session table interpreted directly. Like an XState actor: actions run before the state changes
 * (during them `state` and `context` are still the old ones), an event sent from inside an action is
 * handled after the current one, and the final state ignores every event.
 */
export class PlainSessionFsm {
  private queue: SessionEvent[] | undefined;

  constructor(
    public state: SessionStateName,
    public context: SessionContext,
  ) {}

  static create(input: { localTunnelId: number; localSessionId: number; callType: CallType }): PlainSessionFsm {
    return new PlainSessionFsm(initialSessionState(input.callType), { ...input });
  }

  /**
   * From a persisted snapshot (ours or XState's) or a compact record (`compact()`), re-keyed to this session's IDs;
   * a compact record takes its call type from the session's data.
   */
  static restore(snapshot: unknown, ids: { localTunnelId: number; localSessionId: number; callType?: CallType }): PlainSessionFsm {
    const s = snapshot as ({ value?: unknown; context?: SessionContext } & CompactSession) | undefined;
    const value = s?.value as SessionStateName;
    if (!(value in SESSION_TABLE.states || value === 'closed')) throw new Error(`not a session state: ${String(s?.value)}`);
    if (s!.context) return new PlainSessionFsm(value, { ...s!.context, ...ids });
    if (ids.callType === undefined) throw new Error('a compact session record needs the call type');
    const { reason, cdnResult } = s!;
    return new PlainSessionFsm(value, { ...ids, callType: ids.callType, ...(reason !== undefined ? { reason } : {}), ...(cdnResult !== undefined ? { cdnResult } : {}) });
  }

  /**
   * The failover record: the state and what of the context is not in the session's data (IDs, call type). A
   * third of the size of `persisted()` to copy to the state store, for every session that changes (issue 6 profile).
   */
  compact(): CompactSession {
    const { reason, cdnResult } = this.context;
    return { value: this.state, ...(reason !== undefined ? { reason } : {}), ...(cdnResult !== undefined ? { cdnResult } : {}) };
  }

  get done(): boolean {
    return this.state === 'closed';
  }

  persisted(): PersistedSession {
    return { status: this.done ? 'done' : 'active', value: this.state, context: { ...this.context }, historyValue: {}, children: {} };
  }

  /** Handle `e`; true when the state changed. */
  send(e: SessionEvent, host: SessionActions): boolean {
    if (this.queue) {
      this.queue.push(e);
      return false;
    }
    this.queue = [];
    let changed = false;
    try {
      for (let next: SessionEvent | undefined = e; next; next = this.queue.shift()) changed = this.step(next, host) || changed;
    } finally {
      this.queue = undefined;
    }
    return changed;
  }

  private step(e: SessionEvent, host: SessionActions): boolean {
    const cell = cellFor(this.state, this.context, e);
    if (!cell) return false;
    let ctx = this.context;
    for (const a of cell.actions) {
      switch (a) {
        case 'sendCdn':
          host.sendCdn(refusalOf(e));
          break;
        case 'sessionUp':
          host.sessionUp();
          break;
        case 'recordCdnSent':
          ctx = { ...ctx, cdnResult: refusalOf(e), reason: `CDN sent: ${describeRefusal(refusalOf(e))}` };
          break;
        case 'recordCdnReceived':
          ctx = { ...ctx, cdnResult: refusalOf(e), reason: `CDN received: ${describeRefusal(refusalOf(e))}` };
          break;
        case 'recordTunnelDown':
          ctx = { ...ctx, reason: e.type === 'TUNNEL_DOWN' ? `tunnel down: ${e.reason}` : 'tunnel down' };
          break;
        default:
          host.send(SEND[a]);
      }
    }
    if (cell.target === 'closed') host.closed(ctx);
    const changed = cell.target !== this.state;
    this.state = cell.target;
    this.context = ctx;
    return changed;
  }
}

/** The same table as an XState machine: the reference specification of PlainSessionFsm. */
export function createSessionMachine(act: (ctx: SessionContext) => SessionActions | undefined) {
  const send = (m: Parameters<SessionActions['send']>[0]) => ({ context }: { context: SessionContext }) => act(context)?.send(m);
  const cells = (cs: readonly SessionCell[], prefix: string) =>
    cs.map((c) => ({
      ...(c.guard === undefined ? {} : { guard: c.guard === 'accepted' ? 'accepted' : { type: 'is', params: c.guard.is } }),
      target: prefix + c.target,
      actions: [...c.actions],
    }));
  const row = (r: Row | undefined, prefix: string) => Object.fromEntries(Object.entries(r ?? {}).map(([k, cs]) => [k, cells(cs, prefix)]));
  const states: Record<string, unknown> = {
    init: {
      always: [
        { guard: { type: 'is', params: 'lnsIncoming' }, target: 'lnsIncoming' },
        { guard: { type: 'is', params: 'lacOutgoing' }, target: 'lacOutgoing' },
        { target: 'localIdle' },
      ],
    },
    ...Object.fromEntries(Object.entries(SESSION_TABLE.states).map(([name, r]) => [name, { on: row(r, '') }])),
    closed: { type: 'final', entry: 'closed' },
  };
  const config = { id: 'session', context: ({ input }: { input: SessionContext }) => ({ ...input }), initial: 'init', on: row(SESSION_TABLE.any, '.'), states };
  return setup({
    types: {
      context: {} as SessionContext,
      events: {} as SessionEvent,
      input: {} as { localTunnelId: number; localSessionId: number; callType: CallType },
    },
    guards: {
      accepted: ({ event }) => 'verdict' in event && event.verdict.ok,
      is: ({ context }, t: CallType) => context.callType === t,
    },
    actions: {
      sendIcrq: send('ICRQ'),
      sendIcrp: send('ICRP'),
      sendIccn: send('ICCN'),
      sendOcrq: send('OCRQ'),
      sendOcrp: send('OCRP'),
      sendOccn: send('OCCN'),
      sendCdn: ({ context, event }) => act(context)?.sendCdn(refusalOf(event)),
      sessionUp: ({ context }) => act(context)?.sessionUp(),
      recordCdnSent: assign({ cdnResult: ({ event }) => refusalOf(event), reason: ({ event }) => `CDN sent: ${describeRefusal(refusalOf(event))}` }),
      recordCdnReceived: assign({ cdnResult: ({ event }) => refusalOf(event), reason: ({ event }) => `CDN received: ${describeRefusal(refusalOf(event))}` }),
      recordTunnelDown: assign({ reason: ({ event }) => (event.type === 'TUNNEL_DOWN' ? `tunnel down: ${event.reason}` : 'tunnel down') }),
      closed: ({ context }) => act(context)?.closed(context),
    },
    // Built from the table at run time: XState cannot type-check a config it did not see literally.
  }).createMachine(config as never);
}

export type SessionMachine = ReturnType<typeof createSessionMachine>;
