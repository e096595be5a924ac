/**
 * The RFC 1661 automaton on its own: spot checks of table rows, and a property test of the rules
 * the whole table must keep (RFC 1661 §4.1, §4.4, §4.6), over random event sequences.
 */
import fc from 'fast-check';
import { createActor } from 'xstate';
import { describe, expect, it } from 'vitest';
import { cellToTransition, createPppFsmMachine, FSM_STATES, RFC1661_TABLE, TIMER_STATES, type FsmEvent, type FsmEventType, type FsmHost, type FsmStateName } from '../../src/ppp/fsm.js';

/** Records the actions the table asks for; tracks the Restart timer as ControlProtocol does. */
class Recorder implements FsmHost {
  log: string[] = [];
  timer = false;
  illegal_: string[] = [];
  private note(a: string): void {
    this.log.push(a);
  }
  tlu = () => this.note('tlu');
  tld = () => this.note('tld');
  tls = () => this.note('tls');
  tlf = () => this.note('tlf');
  sca = () => this.note('sca');
  scn = () => this.note('scn');
  sta = () => this.note('sta');
  scj = () => this.note('scj');
  ser = () => this.note('ser');
  scr = () => {
    this.note('scr');
    this.timer = true;
  };
  str = () => {
    this.note('str');
    this.timer = true;
  };
  startTimer = () => {
    this.note('zrc-timer');
    this.timer = true;
  };
  stopTimer = () => {
    this.timer = false;
  };
  illegal(state: string, e: FsmEvent): void {
    this.illegal_.push(`${e.type}@${state}`);
  }
}

const hosts = new Map<number, Recorder>();
const machine = createPppFsmMachine((id) => hosts.get(id));
const pkt = { code: 1, identifier: 1, data: Buffer.alloc(0) };
function ev(type: FsmEventType): FsmEvent {
  if (type === 'RCR+' || type === 'RCR-') return { type, packet: pkt, reply: pkt };
  if (type === 'Up' || type === 'Down' || type === 'Open' || type === 'Close' || type === 'TO+' || type === 'TO-') return { type };
  return { type, packet: pkt };
}

function at(state: FsmStateName, id: number, restart = 3) {
  const rec = new Recorder();
  hosts.set(id, rec);
  rec.timer = TIMER_STATES.has(state);
  const snapshot = machine.resolveState({ value: state, context: { id, restart, naks: 0, maxConfigure: 10, maxTerminate: 2, maxFailure: 5 } });
  const actor = createActor(machine, { snapshot, input: { id } });
  actor.start();
  return { rec, actor };
}

describe('RFC 1661 §4.1 state transition table', () => {
  it('has a parseable cell for every state and event', () => {
    for (const row of Object.values(RFC1661_TABLE)) {
      expect(row).toHaveLength(10);
      for (const cell of row) if (cell !== '-') expect(cellToTransition(cell)?.target).toBeDefined();
    }
    expect([...TIMER_STATES]).toEqual(['Closing', 'Stopping', 'Req-Sent', 'Ack-Rcvd', 'Ack-Sent']);
  });

  it.each<[FsmStateName, FsmEventType, string[], FsmStateName]>([
    ['Initial', 'Up', [], 'Closed'],
    ['Initial', 'Open', ['tls'], 'Starting'],
    ['Starting', 'Up', ['scr'], 'Req-Sent'],
    ['Closed', 'Open', ['scr'], 'Req-Sent'],
    ['Closed', 'RCR+', ['sta'], 'Closed'],
    ['Stopped', 'RCR+', ['scr', 'sca'], 'Ack-Sent'],
    ['Stopped', 'Down', ['tls'], 'Starting'],
    ['Req-Sent', 'RCA', [], 'Ack-Rcvd'],
    ['Req-Sent', 'RCR-', ['scn'], 'Req-Sent'],
    ['Ack-Rcvd', 'RCR+', ['sca', 'tlu'], 'Opened'],
    ['Ack-Rcvd', 'RCA', ['scr'], 'Req-Sent'],
    ['Ack-Sent', 'RCA', ['tlu'], 'Opened'],
    ['Ack-Sent', 'TO+', ['scr'], 'Ack-Sent'],
    ['Req-Sent', 'TO-', ['tlf'], 'Stopped'],
    ['Opened', 'RTR', ['tld', 'zrc-timer', 'sta'], 'Stopping'],
    ['Opened', 'RCR+', ['tld', 'scr', 'sca'], 'Ack-Sent'],
    ['Opened', 'Close', ['tld', 'str'], 'Closing'],
    ['Opened', 'RXJ-', ['tld', 'str'], 'Stopping'],
    ['Opened', 'RXR', ['ser'], 'Opened'],
    ['Opened', 'RUC', ['scj'], 'Opened'],
    ['Closing', 'RTA', ['tlf'], 'Closed'],
    ['Stopping', 'TO-', ['tlf'], 'Stopped'],
    ['Closing', 'TO+', ['str'], 'Closing'],
  ])('%s + %s → %j, %s', (from, e, actions, to) => {
    const { rec, actor } = at(from, 1000);
    actor.send(ev(e));
    expect(rec.log).toEqual(actions);
    expect(actor.getSnapshot().value).toBe(to);
    expect(rec.illegal_).toEqual([]);
  });

  it('counts transmissions down from Max-Configure / Max-Terminate (irc, §4.6)', () => {
    const { actor } = at('Closed', 1001, 0);
    actor.send({ type: 'Open' });
    expect(actor.getSnapshot().context.restart).toBe(9); // irc = 10, scr decremented
    actor.send({ type: 'Close' });
    expect(actor.getSnapshot().context.restart).toBe(1); // irc = Max-Terminate 2, str decremented
  });

  it('reports an illegal event and takes no transition (§4.4)', () => {
    const { rec, actor } = at('Opened', 1002);
    actor.send({ type: 'Up' });
    expect(actor.getSnapshot().value).toBe('Opened');
    expect(rec.illegal_).toEqual(['Up@Opened']);
  });

  it('every cell keeps the rules: timer runs exactly in TO states, tlu/tld bracket Opened (exhaustive)', () => {
    let id = 1500;
    for (const from of FSM_STATES) {
      for (const e of Object.keys(RFC1661_TABLE) as FsmEventType[]) {
        for (const restart of [0, 2]) {
          if ((e === 'TO+' && restart === 0) || (e === 'TO-' && restart > 0)) continue;
          const { rec, actor } = at(from, id++, restart);
          actor.send(ev(e));
          const after = actor.getSnapshot().value as FsmStateName;
          const opened = (from === 'Opened' ? 1 : 0) + rec.log.filter((a) => a === 'tlu').length - rec.log.filter((a) => a === 'tld').length;
          const where = `${from} + ${e} → ${after} [${rec.log.join(',')}]`;
          expect(opened, where).toBe(after === 'Opened' ? 1 : 0);
          expect(rec.timer, where).toBe(TIMER_STATES.has(after));
          // '-' cells (and only those) are reported as illegal.
          expect(rec.illegal_.length > 0, where).toBe(RFC1661_TABLE[e][FSM_STATES.indexOf(from)] === '-');
          actor.stop();
        }
      }
    }
  });

  it('property: random runs keep the rules and the snapshot is plain data', () => {
    const events = Object.keys(RFC1661_TABLE) as FsmEventType[];
    let nextId = 2000;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...events), { maxLength: 60 }), (seq) => {
        const id = nextId++;
        const { rec, actor } = at('Initial', id, 0);
        let ups = 0;
        for (const e of seq) {
          const before = actor.getSnapshot().value as FsmStateName;
          // The host only raises TO events while its timer runs, as ControlProtocol does.
          if ((e === 'TO+' || e === 'TO-') && !rec.timer) continue;
          if (e === 'TO+' && actor.getSnapshot().context.restart <= 0) continue;
          if (e === 'TO-' && actor.getSnapshot().context.restart > 0) continue;
          rec.log = [];
          actor.send(ev(e));
          const after = actor.getSnapshot().value as FsmStateName;
          ups += rec.log.filter((a) => a === 'tlu').length - rec.log.filter((a) => a === 'tld').length;
          expect(ups, `${before} ${e} → ${after}`).toBe(after === 'Opened' ? 1 : 0);
          expect(rec.timer, `timer after ${before} ${e} → ${after}`).toBe(TIMER_STATES.has(after));
          expect(actor.getSnapshot().context.restart).toBeLessThanOrEqual(10);
        }
        const snap = actor.getPersistedSnapshot();
        expect(JSON.parse(JSON.stringify(snap))).toEqual(snap);
        actor.stop();
        hosts.delete(id);
      }),
      { numRuns: 1000 },
    );
  });
});
