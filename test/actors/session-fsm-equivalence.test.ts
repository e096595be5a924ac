/**
 * The plain session automaton (PlainSessionFsm, what sessions run) against the XState machine built from
 * the same table (the reference specification): over random event sequences for every call type, both
 * make the same host calls in the same order with the same arguments, see the same state and context from
 * inside their actions, and reach the same state and context, through persisted-snapshot round trips
 * (either side restoring the other's). Then the XState rules the plain one must keep by hand.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActorSlot } from '../support/actor-slot.js';
import {
  createSessionMachine,
  PlainSessionFsm,
  type CallType,
  type SessionActions,
  type SessionContext,
  type SessionEvent,
  type SessionStateName,
} from '../../src/actors/session-machine.js';
import type { Refusal } from '../../src/actors/tunnel-machine.js';

/** Records every call, with the state and context the side shows at that moment. */
class RecordingHost implements SessionActions {
  calls: string[] = [];
  peek: () => string = () => '';
  /** An event to send to the same session from inside the next action (re-entrancy). */
  reenter: SessionEvent | undefined;
  sendBack: (e: SessionEvent) => void = () => undefined;
  private note(what: string): void {
    this.calls.push(`${what} @${this.peek()}`);
    const e = this.reenter;
    this.reenter = undefined;
    if (e) this.sendBack(e);
  }
  send(m: string): void {
    this.note(`send ${m}`);
  }
  sendCdn(r: Refusal): void {
    this.note(`sendCdn ${JSON.stringify(r)}`);
  }
  sessionUp(): void {
    this.note('sessionUp');
  }
  closed(ctx: SessionContext): void {
    this.note(`closed ${JSON.stringify(ctx)}`);
  }
}

interface Side {
  host: RecordingHost;
  send(e: SessionEvent): void;
  state(): SessionStateName;
  context(): SessionContext;
  done(): boolean;
  persisted(): unknown;
  restore(snapshot: unknown): void;
}

let nextTunnel = 1;
const xhosts = new Map<number, RecordingHost>();
const machine = createSessionMachine((ctx) => xhosts.get(ctx.localTunnelId));

function xstateSide(callType: CallType, id = nextTunnel++): Side {
  const host = new RecordingHost();
  xhosts.set(id, host);
  const slot = new ActorSlot(machine);
  const start = (options: Parameters<typeof slot.start>[0]) => slot.start(options);
  start({ input: { localTunnelId: id, localSessionId: 7, callType } });
  const snap = () => slot.actor.getSnapshot() as { status: string; value: SessionStateName; context: SessionContext };
  host.peek = () => `${snap().value} ${JSON.stringify(snap().context)}`;
  host.sendBack = (e) => slot.actor.send(e);
  return {
    host,
    send: (e) => slot.actor.send(e),
    state: () => snap().value,
    context: () => snap().context,
    done: () => snap().status === 'done',
    persisted: () => slot.actor.getPersistedSnapshot(),
    restore: (snapshot) => start({ snapshot: { ...(snapshot as object), context: { ...(snapshot as { context: SessionContext }).context, localTunnelId: id } } as never, input: { localTunnelId: id, localSessionId: 7, callType } }),
  };
}

function plainSide(callType: CallType, id = nextTunnel++): Side {
  const host = new RecordingHost();
  let fsm = PlainSessionFsm.create({ localTunnelId: id, localSessionId: 7, callType });
  host.peek = () => `${fsm.state} ${JSON.stringify(fsm.context)}`;
  host.sendBack = (e) => fsm.send(e, host);
  return {
    host,
    send: (e) => fsm.send(e, host),
    state: () => fsm.state,
    context: () => fsm.context,
    done: () => fsm.done,
    persisted: () => fsm.persisted(),
    restore: (snapshot) => {
      fsm = PlainSessionFsm.restore(snapshot, { localTunnelId: id, localSessionId: 7 });
    },
  };
}

const CALL_TYPES: CallType[] = ['lnsIncoming', 'lacIncoming', 'lacOutgoing', 'lnsOutgoing'];
const arbRefusal: fc.Arbitrary<Refusal> = fc.record({ resultCode: fc.integer({ min: 1, max: 11 }), errorCode: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }), message: fc.option(fc.constantFrom('busy', 'no carrier'), { nil: undefined }) }, { requiredKeys: ['resultCode'] });
const arbVerdict = fc.oneof(fc.constant({ ok: true as const }), arbRefusal.map((r) => ({ ok: false as const, ...r })));
const arbEvent: fc.Arbitrary<SessionEvent> = fc.oneof(
  fc.constantFrom<SessionEvent>({ type: 'OPEN' }, { type: 'TUNNEL_UP' }, { type: 'CALL_CONNECTED' }),
  fc.tuple(fc.constantFrom('ICRQ', 'ICRP', 'ICCN', 'OCRQ', 'OCRP', 'OCCN' as const), arbVerdict).map(([type, verdict]) => ({ type, verdict }) as SessionEvent),
  arbRefusal.map((result): SessionEvent => ({ type: 'CDN', result })),
  arbRefusal.map((result): SessionEvent => ({ type: 'CLOSE', result })),
  fc.constantFrom('StopCCN received', 'tunnel closed').map((reason): SessionEvent => ({ type: 'TUNNEL_DOWN', reason })),
);
type Op = { kind: 'event'; e: SessionEvent; reenter?: SessionEvent } | { kind: 'swap' };
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: arbEvent.map((e): Op => ({ kind: 'event', e })) },
  { weight: 1, arbitrary: fc.tuple(arbEvent, arbEvent).map(([e, r]): Op => ({ kind: 'event', e, reenter: r })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'swap' }) },
);
/** Sequences that reach the deep states: the happy path of each call type, then anything. */
const HAPPY: Record<CallType, SessionEvent[]> = {
  lnsIncoming: [{ type: 'ICRQ', verdict: { ok: true } }, { type: 'ICCN', verdict: { ok: true } }],
  lacIncoming: [{ type: 'OPEN' }, { type: 'TUNNEL_UP' }, { type: 'ICRP', verdict: { ok: true } }],
  lacOutgoing: [{ type: 'OCRQ', verdict: { ok: true } }, { type: 'CALL_CONNECTED' }],
  lnsOutgoing: [{ type: 'OPEN' }, { type: 'TUNNEL_UP' }, { type: 'OCRP', verdict: { ok: true } }, { type: 'OCCN', verdict: { ok: true } }],
};

function same(x: Side, p: Side): void {
  expect(p.host.calls).toEqual(x.host.calls);
  expect(p.done()).toBe(x.done());
  expect(p.state()).toBe(x.state());
  expect(p.context()).toEqual(x.context());
}

describe('PlainSessionFsm ≡ the XState session machine (same table)', () => {
  it('same calls, states and contexts over random runs of every call type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CALL_TYPES), fc.nat({ max: 4 }), fc.array(arbOp, { maxLength: 12 }), (callType, happy, ops) => {
        const id = nextTunnel++;
        const x = xstateSide(callType, id);
        const p = plainSide(callType, id);
        same(x, p);
        const all: Op[] = [...HAPPY[callType].slice(0, happy).map((e): Op => ({ kind: 'event', e })), ...ops];
        for (const op of all) {
          if (op.kind === 'swap') {
            // Each restores the other's persisted snapshot (a failover record written by either).
            if (x.done()) continue;
            const xs = x.persisted();
            const ps = p.persisted();
            x.restore(ps);
            p.restore(xs);
          } else {
            x.host.reenter = p.host.reenter = op.reenter;
            // A finished XState actor ignores events (with a console warning): the plain one must ignore them too.
            if (!x.done()) x.send(op.e);
            p.send(op.e);
            x.host.reenter = p.host.reenter = undefined;
          }
          same(x, p);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('the happy path of each call type ends established, with the messages RFC 2661 §7.4 lists', () => {
    const sent: Record<CallType, string[]> = { lnsIncoming: ['send ICRP', 'sessionUp'], lacIncoming: ['send ICRQ', 'send ICCN', 'sessionUp'], lacOutgoing: ['send OCRP', 'send OCCN', 'sessionUp'], lnsOutgoing: ['send OCRQ', 'sessionUp'] };
    for (const t of CALL_TYPES) {
      const p = plainSide(t);
      for (const e of HAPPY[t]) p.send(e);
      expect(p.state()).toBe('established');
      expect(p.host.calls.map((c) => c.split(' @')[0])).toEqual(sent[t]);
    }
  });

  it('a refused ICRQ sends the CDN and closes once; the final state ignores everything after', () => {
    const p = plainSide('lnsIncoming');
    p.send({ type: 'ICRQ', verdict: { ok: false, resultCode: 2, errorCode: 6, message: 'no' } });
    p.send({ type: 'CLOSE', result: { resultCode: 3 } });
    p.send({ type: 'CDN', result: { resultCode: 1 } });
    expect(p.done()).toBe(true);
    expect(p.context().reason).toMatch(/^CDN sent: /);
    expect(p.host.calls.map((c) => c.split(' ')[0])).toEqual(['sendCdn', 'closed']);
    // Actions run before the state changes: `closed` saw the old state and the new reason.
    expect(p.host.calls[1]).toMatch(/@lnsIncoming /);
    expect(p.host.calls[1]).toMatch(/^closed \{.*"reason":"CDN sent: /);
  });

  it('restores XState-era records and refuses what is not a session state', () => {
    const x = xstateSide('lnsIncoming');
    x.send(HAPPY.lnsIncoming[0]!);
    x.send(HAPPY.lnsIncoming[1]!);
    const fsm = PlainSessionFsm.restore(x.persisted(), { localTunnelId: 99, localSessionId: 5 });
    expect(fsm.state).toBe('established');
    expect(fsm.context).toMatchObject({ localTunnelId: 99, localSessionId: 5, callType: 'lnsIncoming' });
    expect(() => PlainSessionFsm.restore({ value: 'nowhere', context: {} }, { localTunnelId: 1, localSessionId: 1 })).toThrow(/not a session state/);
    expect(() => PlainSessionFsm.restore(undefined, { localTunnelId: 1, localSessionId: 1 })).toThrow(/not a session state/);
  });

  it('a compact record (state, reason, CDN result) restores the same machine, with the call type from the data', () => {
    const ids = { localTunnelId: 7, localSessionId: 3 };
    const closed = new PlainSessionFsm('closed', { ...ids, callType: 'lacIncoming', reason: 'CDN received', cdnResult: { resultCode: 3 } });
    const up = new PlainSessionFsm('established', { ...ids, callType: 'lnsIncoming' });
    for (const fsm of [closed, up]) {
      const c = fsm.compact();
      expect(Object.keys(c)).not.toContain('context');
      const back = PlainSessionFsm.restore(structuredClone(c), { ...ids, callType: fsm.context.callType });
      expect(back.state).toBe(fsm.state);
      expect(back.context).toEqual(fsm.context);
      expect(back.persisted()).toEqual(fsm.persisted());
    }
    expect(() => PlainSessionFsm.restore(up.compact(), ids)).toThrow(/call type/);
  });
});
