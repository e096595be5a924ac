/**
 * The RFC 1661 §4 option negotiation automaton, ONE XState machine definition for every control
 * protocol (LCP, IPCP, IPv6CP): the protocol-specific parts (which options, which codes) live in the
 * host that implements the named actions (control-protocol.ts), never in the table.
 *
 * The table below IS RFC 1661 §4.1's state transition table, transcribed cell by cell
 * (`action,action/new-state`, `-` = illegal event, footnote letters kept) and turned into the XState
 * config by `cellToTransition`. Read it side by side with the RFC:
 *
 *   Events| 0 Initial 1 Starting 2 Closed 3 Stopped 4 Closing 5 Stopping 6 Req-Sent 7 Ack-Rcvd 8 Ack-Sent 9 Opened
 *
 * Restart timer and counters (RFC 1661 §4.6): the counter lives in the context (plain data, so
 * `getPersistedSnapshot()` is the whole automaton); the timer is the host's, on the injected Clock:
 * `scr`/`str`/`zrc` (re)start it, entering a state without TO events stops it, and on expiry the host
 * sends TO+ or TO- from the counter. No XState `after` timers: a hibernated actor holds no timer, and
 * one Clock (the worker's timer wheel) serves every session (DESIGN.md "Actors, and what they cost").
 *
 * Two interpreters of the one table:
 * - `createPppFsmMachine`, the XState machine: the reference specification. Its actions are
 *   implemented once per process (per machine) and find their host by `context.id`, as the tunnel
 *   machine does; the context stays plain.
 * - `PlainPppFsm`, what sessions run: the same cells compiled once per process (`cellToTransition`)
 *   into a dense [event][state] table, interpreted by plain code. An instance is its state name and
 *   its context, nothing else, so it is its own hibernated form. XState cost ~40% of l2tpd's CPU per
 *   PPP subscriber (an actor per LCP/IPCP/IPv6CP); test/ppp/fsm-equivalence.test.ts checks, over
 *   random event sequences, that both make the same host calls in the same order and reach the same
 *   state and context.
 */
import { assign, setup } from 'xstate';
import { PppCode, type ControlPacket } from './frame.js';

export const FSM_STATES = ['Initial', 'Starting', 'Closed', 'Stopped', 'Closing', 'Stopping', 'Req-Sent', 'Ack-Rcvd', 'Ack-Sent', 'Opened'] as const;
export type FsmStateName = (typeof FSM_STATES)[number];

export type FsmEventType = 'Up' | 'Down' | 'Open' | 'Close' | 'TO+' | 'TO-' | 'RCR+' | 'RCR-' | 'RCA' | 'RCN' | 'RTR' | 'RTA' | 'RUC' | 'RXJ+' | 'RXJ-' | 'RXR';

/** Events carry the received packet (and, for RCR, the Ack/Nak/Reject the host judged it deserves). */
export type FsmEvent =
  | { type: 'Up' | 'Down' | 'Open' | 'Close' | 'TO+' | 'TO-' }
  | { type: 'RCR+' | 'RCR-'; packet: ControlPacket; reply?: ControlPacket }
  | { type: 'RCA' | 'RCN' | 'RTR' | 'RTA' | 'RUC' | 'RXJ+' | 'RXJ-' | 'RXR'; packet: ControlPacket };

// prettier-ignore
/** RFC 1661 §4.1, verbatim. Footnotes: [p] passive option, [r] restart option, [x] crossed connection. */
export const RFC1661_TABLE: Readonly<Record<FsmEventType, readonly string[]>> = {
  //        0 Initial  1 Starting   2 Closed     3 Stopped        4 Closing  5 Stopping 6 Req-Sent    7 Ack-Rcvd    8 Ack-Sent    9 Opened
  'Up':   ['2',      'irc,scr/6', '-',         '-',             '-',       '-',       '-',          '-',          '-',          '-'],
  'Down': ['-',      '-',         '0',         'tls/1',         '0',       '1',       '1',          '1',          '1',          'tld/1'],
  'Open': ['tls/1',  '1',         'irc,scr/6', '3r',            '5r',      '5r',      '6',          '7',          '8',          '9r'],
  'Close':['0',      'tlf/0',     '2',         '2',             '4',       '4',       'irc,str/4',  'irc,str/4',  'irc,str/4',  'tld,irc,str/4'],
  'TO+':  ['-',      '-',         '-',         '-',             'str/4',   'str/5',   'scr/6',      'scr/6',      'scr/8',      '-'],
  'TO-':  ['-',      '-',         '-',         '-',             'tlf/2',   'tlf/3',   'tlf/3p',     'tlf/3p',     'tlf/3p',     '-'],
  'RCR+': ['-',      '-',         'sta/2',     'irc,scr,sca/8', '4',       '5',       'sca/8',      'sca,tlu/9',  'sca/8',      'tld,scr,sca/8'],
  'RCR-': ['-',      '-',         'sta/2',     'irc,scr,scn/6', '4',       '5',       'scn/6',      'scn/7',      'scn/6',      'tld,scr,scn/6'],
  'RCA':  ['-',      '-',         'sta/2',     'sta/3',         '4',       '5',       'irc/7',      'scr/6x',     'irc,tlu/9',  'tld,scr/6x'],
  'RCN':  ['-',      '-',         'sta/2',     'sta/3',         '4',       '5',       'irc,scr/6',  'scr/6x',     'irc,scr/8',  'tld,scr/6x'],
  'RTR':  ['-',      '-',         'sta/2',     'sta/3',         'sta/4',   'sta/5',   'sta/6',      'sta/6',      'sta/6',      'tld,zrc,sta/5'],
  'RTA':  ['-',      '-',         '2',         '3',             'tlf/2',   'tlf/3',   '6',          '6',          '8',          'tld,scr/6'],
  'RUC':  ['-',      '-',         'scj/2',     'scj/3',         'scj/4',   'scj/5',   'scj/6',      'scj/7',      'scj/8',      'scj/9'],
  'RXJ+': ['-',      '-',         '2',         '3',             '4',       '5',       '6',          '6',          '8',          '9'],
  'RXJ-': ['-',      '-',         'tlf/2',     'tlf/3',         'tlf/2',   'tlf/3',   'tlf/3',      'tlf/3',      'tlf/3',      'tld,irc,str/5'],
  'RXR':  ['-',      '-',         '2',         '3',             '4',       '5',       '6',          '7',          '8',          'ser/9'],
};

/** RFC 1661 §4.1: "The states in which the Restart timer is running are identifiable by the presence of TO events." */
export const TIMER_STATES: ReadonlySet<FsmStateName> = new Set(FSM_STATES.filter((_, i) => RFC1661_TABLE['TO+'][i] !== '-'));

export type RfcAction = 'tlu' | 'tld' | 'tls' | 'tlf' | 'irc' | 'zrc' | 'scr' | 'sca' | 'scn' | 'str' | 'sta' | 'scj' | 'ser';

/** What the machine asks of the protocol that runs it (RFC 1661 §4.4). Events are the ones that caused the action. */
export interface FsmHost {
  tlu(): void;
  tld(): void;
  tls(): void;
  tlf(): void;
  /** Send a Configure-Request (a retransmission after TO+) and (re)start the Restart timer. */
  scr(event: FsmEvent): void;
  /** Send the Configure-Ack the host judged in the RCR+ event; the peer's options are then agreed. */
  sca(event: FsmEvent): void;
  /** Send the Configure-Nak or -Reject judged in the RCR- event. */
  scn(event: FsmEvent): void;
  /** Send a Terminate-Request and (re)start the Restart timer. */
  str(event: FsmEvent): void;
  sta(event: FsmEvent): void;
  scj(event: FsmEvent): void;
  ser(event: FsmEvent): void;
  /** zrc: restart the timer with the counter at zero, so the next expiry is TO-. */
  startTimer(): void;
  stopTimer(): void;
  /** RFC 1661 §4.4 Illegal-Event: log it, take no transition. */
  illegal(state: string, event: FsmEvent): void;
  /**
   * PlainPppFsm only: set once the host is freed (disposed inside one of its own actions). The
   * automaton still moves but calls nothing more, as the XState machine does once the host has left
   * its registry (`host(id)` is undefined).
   */
  readonly released?: boolean;
}

export interface FsmLimits {
  /** Configure-Requests sent before TO- (RFC 1661 §4.6 Max-Configure, default 10). */
  maxConfigure: number;
  /** Terminate-Requests sent before TO- (Max-Terminate, default 2). */
  maxTerminate: number;
  /** Configure-Naks sent without a Configure-Ack before Naks turn into Rejects (Max-Failure, default 5). */
  maxFailure: number;
}

export const DEFAULT_LIMITS: FsmLimits = { maxConfigure: 10, maxTerminate: 2, maxFailure: 5 };

export interface FsmContext extends FsmLimits {
  /** Key of the host in this process's registry (re-keyed on restore). */
  id: number;
  /** Restart counter (RFC 1661 §4.6). */
  restart: number;
  /** Configure-Naks sent since the last Configure-Ack (Max-Failure). */
  naks: number;
}

type Step = { type: string; params?: { kind: 'configure' | 'terminate' } };

/**
 * One table cell → an XState transition. Beside the RFC actions the cell expands to the counter
 * bookkeeping RFC 1661 §4.4 attaches to them: scr/str decrement the Restart counter, sca clears
 * the Max-Failure count, scn counts a Nak.
 */
export function cellToTransition(cell: string): { target?: FsmStateName; actions: Step[] } | undefined {
  if (cell === '-') return undefined;
  const m = /^(?:([a-z,]+)\/)?(\d)[a-z]?$/.exec(cell);
  if (!m) throw new Error(`bad RFC 1661 table cell ${cell}`);
  const names = m[1] ? (m[1].split(',') as RfcAction[]) : [];
  const kind = names.includes('str') ? 'terminate' : 'configure';
  const actions: Step[] = [];
  for (const n of names) {
    if (n === 'irc') actions.push({ type: 'irc', params: { kind } });
    else if (n === 'scr' || n === 'str') actions.push({ type: 'countTransmission' }, { type: n });
    else if (n === 'sca') actions.push({ type: 'clearNaks' }, { type: n });
    else if (n === 'scn') actions.push({ type: 'countNak' }, { type: n });
    // RFC 1661 §4.1: "Only scr, str and zrc start or re-start the Restart timer".
    else if (n === 'zrc') actions.push({ type: n }, { type: 'startTimer' });
    else actions.push({ type: n });
  }
  return { target: FSM_STATES[Number(m[2])]!, actions };
}

function buildStates() {
  const states: Record<string, { entry?: string; on: Record<string, unknown> }> = {};
  FSM_STATES.forEach((s, i) => {
    const on: Record<string, unknown> = {};
    for (const [event, row] of Object.entries(RFC1661_TABLE)) {
      const t = cellToTransition(row[i]!);
      // Same target: no exit/entry (XState v5 default), so a running Restart timer keeps running.
      if (t) on[event] = t;
    }
    states[s] = TIMER_STATES.has(s) ? { on } : { entry: 'stopTimer', on };
  });
  return states;
}

/** Build the machine with one implementation of the actions (per process, not per session). */
export function createPppFsmMachine(host: (id: number) => FsmHost | undefined) {
  const h = (c: FsmContext) => host(c.id);
  return setup({
    types: {
      context: {} as FsmContext,
      events: {} as FsmEvent,
      input: {} as { id: number } & Partial<FsmLimits>,
    },
    actions: {
      irc: assign({ restart: ({ context }, p: { kind: 'configure' | 'terminate' }) => (p.kind === 'terminate' ? context.maxTerminate : context.maxConfigure) }),
      zrc: assign({ restart: 0 }),
      countTransmission: assign({ restart: ({ context }) => context.restart - 1 }),
      clearNaks: assign({ naks: 0 }),
      countNak: assign({ naks: ({ context, event }) => context.naks + ('reply' in event && event.reply?.code === PppCode.ConfigureNak ? 1 : 0) }),
      tlu: ({ context }) => h(context)?.tlu(),
      tld: ({ context }) => h(context)?.tld(),
      tls: ({ context }) => h(context)?.tls(),
      tlf: ({ context }) => h(context)?.tlf(),
      scr: ({ context, event }) => h(context)?.scr(event),
      sca: ({ context, event }) => h(context)?.sca(event),
      scn: ({ context, event }) => h(context)?.scn(event),
      str: ({ context, event }) => h(context)?.str(event),
      sta: ({ context, event }) => h(context)?.sta(event),
      scj: ({ context, event }) => h(context)?.scj(event),
      ser: ({ context, event }) => h(context)?.ser(event),
      startTimer: ({ context }) => h(context)?.startTimer(),
      stopTimer: ({ context }) => h(context)?.stopTimer(),
      illegal: ({ context, event, self }) => h(context)?.illegal(String(self.getSnapshot().value), event),
    },
  }).createMachine({
    id: 'ppp-fsm',
    context: ({ input }) => initialContext(input.id, input),
    initial: 'Initial',
    // Events a state's row marks '-' fall through to here (child transitions win).
    on: { '*': { actions: 'illegal' } },
    states: buildStates() as never,
  });
}

export type PppFsmMachine = ReturnType<typeof createPppFsmMachine>;

// ---- the plain interpreter ----

/** One cell of RFC1661_TABLE, compiled: the steps of `cellToTransition` in order, then the new state. */
interface CompiledCell {
  readonly steps: readonly Step[];
  readonly target: FsmStateName;
  /** The steps change the context (irc, zrc, or the counters beside scr/str/sca/scn). */
  readonly assigns: boolean;
  /**
   * The entry action XState runs after the transition's actions: entering a state without TO events
   * stops the Restart timer. Not on a transition to the same state (XState v5 default `reenter:
   * false`: no exit, no entry), so e.g. RCR+ in Closing or RUC in Opened leaves a running timer alone.
   */
  readonly stopTimer: boolean;
}

const CONTEXT_STEPS: ReadonlySet<string> = new Set(['irc', 'zrc', 'countTransmission', 'clearNaks', 'countNak']);
const STATE_INDEX: ReadonlyMap<string, number> = new Map(FSM_STATES.map((s, i) => [s, i]));

/** RFC1661_TABLE compiled once per process: event type → [state index] → cell, undefined for '-'. */
const COMPILED: ReadonlyMap<string, readonly (CompiledCell | undefined)[]> = new Map(
  (Object.entries(RFC1661_TABLE) as [FsmEventType, readonly string[]][]).map(([event, row]) => [
    event,
    row.map((cell, i): CompiledCell | undefined => {
      const t = cellToTransition(cell);
      if (!t) return undefined;
      const target = t.target!;
      return {
        steps: t.actions,
        target,
        assigns: t.actions.some((a) => CONTEXT_STEPS.has(a.type)),
        stopTimer: target !== FSM_STATES[i] && !TIMER_STATES.has(target),
      };
    }),
  ]),
);

/** The plain-data form, as XState's `getPersistedSnapshot()` writes it for this machine (either restores it). */
export interface PersistedFsm {
  status: 'active';
  value: FsmStateName;
  historyValue: Record<string, never>;
  context: FsmContext;
  children: Record<string, never>;
}

/** A new automaton's context; limits left undefined take the RFC defaults. */
export function initialContext(id: number, limits: Partial<FsmLimits> = {}): FsmContext {
  const d = DEFAULT_LIMITS;
  return {
    maxConfigure: limits.maxConfigure ?? d.maxConfigure,
    maxTerminate: limits.maxTerminate ?? d.maxTerminate,
    maxFailure: limits.maxFailure ?? d.maxFailure,
    id,
    restart: 0,
    naks: 0,
  };
}

/**
 * The automaton of one control protocol, interpreting the compiled table: `send` does exactly what
 * an actor of `createPppFsmMachine` does for the event (same host calls, same order, same state and
 * context after). Like an XState snapshot, `context` is never mutated: a transition that changes it
 * replaces it, and the host's actions still see the state and context from before the event.
 */
export class PlainPppFsm {
  constructor(
    public state: FsmStateName,
    public context: FsmContext,
  ) {}

  static create(id: number, limits?: Partial<FsmLimits>): PlainPppFsm {
    return new PlainPppFsm('Initial', initialContext(id, limits));
  }

  /** From a persisted snapshot (ours or XState's), the context re-keyed to this process's `id`. */
  static restore(snapshot: unknown, id: number): PlainPppFsm {
    const s = snapshot as { value: FsmStateName; context: FsmContext };
    if (!STATE_INDEX.has(s.value)) throw new Error(`not a PPP automaton state: ${String(s.value)}`);
    return new PlainPppFsm(s.value, { ...s.context, id });
  }

  persisted(): PersistedFsm {
    return { status: 'active', value: this.state, historyValue: {}, context: { ...this.context }, children: {} };
  }

  send(event: FsmEvent, host: FsmHost): void {
    const from = this.state;
    const cell = COMPILED.get(event.type)?.[STATE_INDEX.get(from)!];
    if (!cell) {
      if (!host.released) host.illegal(from, event);
      return;
    }
    const c = cell.assigns ? { ...this.context } : this.context;
    const steps = cell.steps;
    // An index loop: this runs for every event of every link, also before it is optimized (no iterator).
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      switch (step.type) {
        case 'irc':
          c.restart = step.params?.kind === 'terminate' ? c.maxTerminate : c.maxConfigure;
          break;
        case 'zrc':
          c.restart = 0;
          break;
        case 'countTransmission':
          c.restart--;
          break;
        case 'clearNaks':
          c.naks = 0;
          break;
        case 'countNak':
          if ('reply' in event && event.reply?.code === PppCode.ConfigureNak) c.naks++;
          break;
        default:
          if (!host.released) callHost(host, step.type as HostStep, event);
      }
    }
    if (cell.stopTimer && !host.released) host.stopTimer();
    this.state = cell.target;
    this.context = c;
  }
}

type HostStep = Exclude<RfcAction, 'irc' | 'zrc'> | 'startTimer';

function callHost(host: FsmHost, step: HostStep, event: FsmEvent): void {
  switch (step) {
    case 'tlu':
      return host.tlu();
    case 'tld':
      return host.tld();
    case 'tls':
      return host.tls();
    case 'tlf':
      return host.tlf();
    case 'startTimer':
      return host.startTimer();
    default:
      return host[step](event);
  }
}
