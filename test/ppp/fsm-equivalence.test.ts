/**
 * The plain automaton sessions run (PlainPppFsm) against the XState machine of the same RFC 1661
 * table, the reference specification (fsm.ts): model-based, over random event sequences, both must
 * make the same host calls in the same order with the same events, and reach the same state and
 * context, through persisted-snapshot round trips (either side restoring the other's) and a host
 * released in the middle of a run. Then spot checks of the compiled table, and the ControlProtocol
 * rules the XState actor used to give for free (events from inside an action, dispose inside one).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ActorSlot } from '../support/actor-slot.js';
import { ControlProtocol, type OptionPolicy, type ProtocolOwner } from '../../src/ppp/control-protocol.js';
import { decodeControl, decodeFrame, PppCode, PppProtocol, type ControlPacket } from '../../src/ppp/frame.js';
import {
  createPppFsmMachine,
  FSM_STATES,
  PlainPppFsm,
  RFC1661_TABLE,
  TIMER_STATES,
  type FsmContext,
  type FsmEvent,
  type FsmEventType,
  type FsmHost,
  type FsmLimits,
  type FsmStateName,
} from '../../src/ppp/fsm.js';
import { VirtualClock } from '../../src/transport/clock.js';

const EVENT_TYPES = Object.keys(RFC1661_TABLE) as FsmEventType[];

/** Records every call the automaton makes, with the event it passed (by identity, not by value). */
class RecordingHost implements FsmHost {
  calls: string[] = [];
  released = false;
  private current: FsmEvent | undefined;

  expect(e: FsmEvent): void {
    this.current = e;
  }
  private note(name: string, e?: FsmEvent): void {
    this.calls.push(e === undefined ? name : `${name}(${e.type}${e === this.current ? '' : ' NOT THE EVENT SENT'})`);
  }
  tlu = () => this.note('tlu');
  tld = () => this.note('tld');
  tls = () => this.note('tls');
  tlf = () => this.note('tlf');
  scr = (e: FsmEvent) => this.note('scr', e);
  sca = (e: FsmEvent) => this.note('sca', e);
  scn = (e: FsmEvent) => this.note('scn', e);
  str = (e: FsmEvent) => this.note('str', e);
  sta = (e: FsmEvent) => this.note('sta', e);
  scj = (e: FsmEvent) => this.note('scj', e);
  ser = (e: FsmEvent) => this.note('ser', e);
  startTimer = () => this.note('startTimer');
  stopTimer = () => this.note('stopTimer');
  illegal = (state: string, e: FsmEvent) => this.note(`illegal@${state}`, e);
}

/** One interpreter of the table behind a common face. */
interface Side {
  host: RecordingHost;
  send(e: FsmEvent): void;
  state(): FsmStateName;
  context(): FsmContext;
  persisted(): unknown;
  restore(snapshot: unknown): void;
  release(): void;
}

// The reference: one machine per process, hosts found by context.id (as the old ControlProtocol did).
const xhosts = new Map<number, RecordingHost>();
const machine = createPppFsmMachine((id) => xhosts.get(id));
let nextId = 1;

function xstateSide(state: FsmStateName, context: Omit<FsmContext, 'id'>): Side {
  const id = nextId++;
  const host = new RecordingHost();
  xhosts.set(id, host);
  const slot = new ActorSlot(machine);
  const start = (options: Parameters<typeof slot.start>[0]) => slot.start(options);
  if (state === 'Initial' && context.restart === 0 && context.naks === 0) {
    start({ input: { id, maxConfigure: context.maxConfigure, maxTerminate: context.maxTerminate, maxFailure: context.maxFailure } });
    // Starting runs Initial's entry action (stopTimer); the plain automaton is created at rest.
    expect(host.calls).toEqual(['stopTimer']);
    host.calls = [];
  } else {
    start({ snapshot: machine.resolveState({ value: state, context: { ...context, id } }), input: { id } });
  }
  const snap = () => {
    const s = slot.actor.getSnapshot() as { status: string; value: FsmStateName; context: FsmContext };
    expect(s.status).toBe('active');
    return s;
  };
  return {
    host,
    send: (e) => slot.actor.send(e),
    state: () => snap().value,
    context: () => snap().context,
    persisted: () => slot.actor.getPersistedSnapshot(),
    restore: (snapshot) => start({ snapshot: { ...(snapshot as object), context: { ...(snapshot as { context: FsmContext }).context, id } } as never, input: { id } }),
    release: () => {
      xhosts.delete(id);
    },
  };
}

function plainSide(state: FsmStateName, context: Omit<FsmContext, 'id'>): Side {
  const id = nextId++;
  const host = new RecordingHost();
  let fsm = state === 'Initial' && context.restart === 0 && context.naks === 0 ? PlainPppFsm.create(id, context) : new PlainPppFsm(state, { ...context, id });
  return {
    host,
    send: (e) => fsm.send(e, host),
    state: () => fsm.state,
    context: () => fsm.context,
    persisted: () => fsm.persisted(),
    restore: (snapshot) => {
      fsm = PlainPppFsm.restore(snapshot, id);
    },
    release: () => {
      host.released = true;
    },
  };
}

// ---- the model: random operations on both sides ----

const packet = (code: number, identifier = 1): ControlPacket => ({ code, identifier, data: Buffer.from([identifier]) });
const replies = [undefined, PppCode.ConfigureAck, PppCode.ConfigureNak, PppCode.ConfigureReject] as const;

const arbEvent: fc.Arbitrary<FsmEvent> = fc
  .tuple(fc.constantFrom(...EVENT_TYPES), fc.constantFrom(...replies), fc.integer({ min: 0, max: 255 }))
  .map(([type, reply, identifier]): FsmEvent => {
    if (type === 'RCR+' || type === 'RCR-') {
      const p = packet(PppCode.ConfigureRequest, identifier);
      return reply === undefined ? { type, packet: p } : { type, packet: p, reply: packet(reply, identifier) };
    }
    if (type === 'Up' || type === 'Down' || type === 'Open' || type === 'Close' || type === 'TO+' || type === 'TO-') return { type };
    return { type, packet: packet(PppCode.TerminateRequest, identifier) };
  });

type Op = { op: 'event'; event: FsmEvent } | { op: 'persist'; cross: boolean } | { op: 'release' };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 20, arbitrary: arbEvent.map((event): Op => ({ op: 'event', event })) },
  { weight: 2, arbitrary: fc.boolean().map((cross): Op => ({ op: 'persist', cross })) },
  { weight: 1, arbitrary: fc.constant<Op>({ op: 'release' }) },
);

const arbLimits: fc.Arbitrary<FsmLimits> = fc.record({
  maxConfigure: fc.integer({ min: 1, max: 10 }),
  maxTerminate: fc.integer({ min: 1, max: 3 }),
  maxFailure: fc.integer({ min: 1, max: 5 }),
});

const arbStart = fc.oneof(
  arbLimits.map((l) => ({ state: 'Initial' as FsmStateName, context: { ...l, restart: 0, naks: 0 } })),
  fc.record({
    state: fc.constantFrom(...FSM_STATES),
    context: fc.tuple(arbLimits, fc.integer({ min: -1, max: 10 }), fc.integer({ min: 0, max: 6 })).map(([l, restart, naks]) => ({ ...l, restart, naks })),
  }),
);

function same(x: Side, p: Side, where: string): void {
  expect(p.state(), where).toBe(x.state());
  const { id: _x, ...xc } = x.context();
  const { id: _p, ...pc } = p.context();
  expect(pc, where).toEqual(xc);
  expect(p.host.calls, where).toEqual(x.host.calls);
}

describe('PlainPppFsm ≡ the XState machine of RFC1661_TABLE (model-based)', () => {
  it('same host calls in the same order, same state and context, after every event', () => {
    fc.assert(
      fc.property(arbStart, fc.array(arbOp, { maxLength: 80 }), ({ state, context }, ops) => {
        const x = xstateSide(state, context);
        const p = plainSide(state, context);
        same(x, p, 'start');
        ops.forEach((o, i) => {
          const where = `op ${i} ${JSON.stringify(o.op === 'event' ? o.event.type : o)} in ${x.state()}`;
          if (o.op === 'event') {
            x.host.expect(o.event);
            p.host.expect(o.event);
            x.send(o.event);
            p.send(o.event);
          } else if (o.op === 'release') {
            x.release();
            p.release();
          } else {
            const xs = x.persisted();
            const ps = p.persisted();
            // Plain data, and the same data: records written by either restore in the other.
            expect(JSON.parse(JSON.stringify(ps))).toEqual(ps);
            expect({ ...(ps as object), context: { ...(ps as { context: object }).context, id: 0 } }).toEqual({
              ...(xs as object),
              context: { ...(xs as { context: object }).context, id: 0 },
            });
            x.restore(o.cross ? JSON.parse(JSON.stringify(ps)) : xs);
            p.restore(o.cross ? JSON.parse(JSON.stringify(xs)) : ps);
          }
          same(x, p, where);
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('every cell from every state, with and without a Nak reply (exhaustive)', () => {
    for (const from of FSM_STATES) {
      for (const type of EVENT_TYPES) {
        for (const reply of replies) {
          const context = { maxConfigure: 4, maxTerminate: 2, maxFailure: 3, restart: 2, naks: 1 };
          const x = xstateSide(from, context);
          const p = plainSide(from, context);
          const pk = packet(PppCode.ConfigureRequest);
          const e = { type, packet: pk, ...(reply === undefined ? {} : { reply: packet(reply) }) } as FsmEvent;
          x.host.expect(e);
          p.host.expect(e);
          x.send(e);
          p.send(e);
          same(x, p, `${from} + ${type} (reply ${reply})`);
        }
      }
    }
  });
});

describe('PlainPppFsm: the compiled table', () => {
  const at = (state: FsmStateName, restart = 3, naks = 0) => {
    const host = new RecordingHost();
    const fsm = new PlainPppFsm(state, { id: 1, restart, naks, maxConfigure: 10, maxTerminate: 2, maxFailure: 5 });
    return { host, fsm, send: (e: FsmEvent) => fsm.send(e, host) };
  };
  const rca: FsmEvent = { type: 'RCA', packet: packet(PppCode.ConfigureAck) };
  const rtr: FsmEvent = { type: 'RTR', packet: packet(PppCode.TerminateRequest, 9) };

  it('Req-Sent + RCA → Ack-Rcvd with irc (restart = Max-Configure), no host call', () => {
    const { host, fsm, send } = at('Req-Sent', 1);
    send(rca);
    expect(fsm.state).toBe('Ack-Rcvd');
    expect(fsm.context.restart).toBe(10);
    expect(host.calls).toEqual([]);
  });

  it('Opened + RTR → Stopping with tld, zrc (restart 0, timer started), sta', () => {
    const { host, fsm, send } = at('Opened', 7);
    host.expect(rtr);
    send(rtr);
    expect(fsm.state).toBe('Stopping');
    expect(fsm.context.restart).toBe(0);
    expect(host.calls).toEqual(['tld', 'startTimer', 'sta(RTR)']);
  });

  it('TO- in Req-Sent → Stopped with tlf, then the timer stopped (entry of a state without TO events)', () => {
    const { host, fsm, send } = at('Req-Sent', 0);
    send({ type: 'TO-' });
    expect(fsm.state).toBe('Stopped');
    expect(host.calls).toEqual(['tlf', 'stopTimer']);
  });

  it('Opened + Close → Closing: tld, irc with Max-Terminate, str counted', () => {
    const { host, fsm, send } = at('Opened', 10);
    const close: FsmEvent = { type: 'Close' };
    host.expect(close);
    send(close);
    expect(fsm.state).toBe('Closing');
    expect(fsm.context.restart).toBe(1);
    expect(host.calls).toEqual(['tld', 'str(Close)']);
  });

  it('a transition to the same state runs no entry action (RUC in Opened, RCR+ in Closed)', () => {
    const ruc: FsmEvent = { type: 'RUC', packet: packet(99) };
    const o = at('Opened');
    o.host.expect(ruc);
    o.send(ruc);
    expect(o.host.calls).toEqual(['scj(RUC)']);
    const rcr: FsmEvent = { type: 'RCR+', packet: packet(1) };
    const c = at('Closed');
    c.host.expect(rcr);
    c.send(rcr);
    expect(c.host.calls).toEqual(['sta(RCR+)']);
  });

  it('scn counts Naks, not Rejects; sca clears the count (Max-Failure)', () => {
    const { fsm, send } = at('Req-Sent', 3, 2);
    send({ type: 'RCR-', packet: packet(1), reply: packet(PppCode.ConfigureNak) });
    expect(fsm.context.naks).toBe(3);
    send({ type: 'RCR-', packet: packet(1), reply: packet(PppCode.ConfigureReject) });
    expect(fsm.context.naks).toBe(3);
    send({ type: 'RCR+', packet: packet(1), reply: packet(PppCode.ConfigureAck) });
    expect(fsm.state).toBe('Ack-Sent');
    expect(fsm.context.naks).toBe(0);
  });

  it('reports an illegal event with the current state and changes nothing (§4.4)', () => {
    const { host, fsm, send } = at('Opened', 4);
    const before = fsm.context;
    const up: FsmEvent = { type: 'Up' };
    host.expect(up);
    send(up);
    expect(fsm.state).toBe('Opened');
    expect(fsm.context).toBe(before);
    expect(host.calls).toEqual(['illegal@Opened(Up)']);
  });

  it('never mutates a context it handed out, and persists as XState does', () => {
    const { fsm, send } = at('Closed', 0);
    const before = fsm.context;
    send({ type: 'Open' });
    expect(before.restart).toBe(0);
    expect(fsm.context.restart).toBe(9);
    expect(fsm.persisted()).toEqual({ status: 'active', value: 'Req-Sent', historyValue: {}, context: { ...fsm.context }, children: {} });
    expect(PlainPppFsm.restore(fsm.persisted(), 42)).toEqual(new PlainPppFsm('Req-Sent', { ...fsm.context, id: 42 }));
    expect(() => PlainPppFsm.restore({ value: 'Bogus', context: fsm.context }, 1)).toThrow(/not a PPP automaton state/);
  });

  it('the timer states are those of the RFC', () => {
    expect([...TIMER_STATES]).toEqual(['Closing', 'Stopping', 'Req-Sent', 'Ack-Rcvd', 'Ack-Sent']);
  });
});

describe('ControlProtocol around the plain automaton', () => {
  const policy: OptionPolicy = {
    request: () => [],
    judge: () => ({ reject: [], nak: [] }),
    peerAgreed: () => {},
    agreed: () => {},
    nakked: () => undefined,
    rejected: () => undefined,
  };
  function protocol(onSend: (p: ControlPacket, cp: ControlProtocol) => void, extra: { snapshot?: unknown } = {}) {
    const clock = new VirtualClock();
    const layers: string[] = [];
    const owner: ProtocolOwner = {
      send: (f) => onSend(decodeControl(decodeFrame(f).payload), cp),
      layer: (_p, s) => layers.push(`${s}@${cp.state}`),
      fatal: () => {},
      peerMru: () => 1500,
    };
    const cp: ControlProtocol = new ControlProtocol({ name: 'LCP', protocol: PppProtocol.LCP, clock, restartMs: 3000, policy, owner, ...extra });
    return { cp, clock, layers };
  }

  it('an event dispatched from inside an action runs after the transition in progress, in order', () => {
    const sent: number[] = [];
    const { cp, layers } = protocol((p, self) => {
      sent.push(p.code);
      // The peer answers the Configure-Request at once: its Ack must find Req-Sent, not Closed.
      if (p.code === PppCode.ConfigureRequest) self.receive({ code: PppCode.ConfigureAck, identifier: p.identifier, data: p.data });
    });
    cp.dispatch({ type: 'Up' });
    cp.dispatch({ type: 'Open' });
    expect(cp.state).toBe('Ack-Rcvd');
    cp.receive({ code: PppCode.ConfigureRequest, identifier: 5, data: Buffer.alloc(0) });
    expect(cp.state).toBe('Opened');
    expect(sent).toEqual([PppCode.ConfigureRequest, PppCode.ConfigureAck]);
    // Signals reach the owner after the transition: it sees the new state.
    expect(layers).toEqual(['up@Opened']);
    expect(cp.hibernating).toBe(true);
  });

  it('disposed inside an action: the transition completes but no further action reaches it (no timer left)', () => {
    const { cp, clock } = protocol((_p, self) => self.dispose());
    cp.dispatch({ type: 'Up' });
    cp.dispatch({ type: 'Open' }); // scr: the send disposes, then scr's startTimer must not arm
    expect(cp.state).toBe('Req-Sent');
    expect(cp.timerRunning).toBe(false);
    expect(clock.pending()).toBe(0);
    cp.dispatch({ type: 'Close' });
    expect(cp.state).toBe('Req-Sent');
  });

  it('restores a snapshot the XState actor persisted (records written before the plain automaton)', () => {
    const snapshot = { status: 'active', value: 'Req-Sent', historyValue: {}, context: { maxConfigure: 10, maxTerminate: 2, maxFailure: 5, id: 999_999, restart: 4, naks: 1 }, children: {} };
    const { cp } = protocol(() => {}, { snapshot });
    expect(cp.state).toBe('Req-Sent');
    expect(cp.context).toEqual({ ...snapshot.context, id: cp.id });
    expect(cp.timerRunning).toBe(true);
    expect(cp.persisted()).toEqual({ ...snapshot, context: { ...snapshot.context, id: cp.id } });
  });
});
