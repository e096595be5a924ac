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
 * Actions are implemented once per process (per machine) and find their host by `context.id`, as
 * the tunnel machine does; the context stays plain.
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
    context: ({ input }) => ({ ...DEFAULT_LIMITS, ...input, restart: 0, naks: 0 }),
    initial: 'Initial',
    // Events a state's row marks '-' fall through to here (child transitions win).
    on: { '*': { actions: 'illegal' } },
    states: buildStates() as never,
  });
}

export type PppFsmMachine = ReturnType<typeof createPppFsmMachine>;
