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

export function createSessionMachine(act: (ctx: SessionContext) => SessionActions | undefined) {
  const refusalOf = (e: SessionEvent): Refusal =>
    'verdict' in e && !e.verdict.ok ? e.verdict : 'result' in e ? e.result : { resultCode: 3 };
  const send = (m: Parameters<SessionActions['send']>[0]) => ({ context }: { context: SessionContext }) => act(context)?.send(m);
  const refuse = ['recordCdnSent', 'sendCdn'] as const;
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
  }).createMachine({
    id: 'session',
    context: ({ input }) => ({ ...input }),
    initial: 'init',
    on: {
      CDN: { target: '.closed', actions: 'recordCdnReceived' },
      CLOSE: { target: '.closed', actions: refuse },
      TUNNEL_DOWN: { target: '.closed', actions: 'recordTunnelDown' },
    },
    states: {
      init: {
        always: [
          { guard: { type: 'is', params: 'lnsIncoming' }, target: 'lnsIncoming' },
          { guard: { type: 'is', params: 'lacOutgoing' }, target: 'lacOutgoing' },
          { target: 'localIdle' },
        ],
      },
      // Calls the peer starts: we wait for its ICRQ / OCRQ.
      lnsIncoming: {
        on: { ICRQ: [{ guard: 'accepted', target: 'waitConnect', actions: 'sendIcrp' }, { target: 'closed', actions: refuse }] },
      },
      lacOutgoing: {
        on: { OCRQ: [{ guard: 'accepted', target: 'waitCsAnswer', actions: 'sendOcrp' }, { target: 'closed', actions: refuse }] },
      },
      waitCsAnswer: {
        // RFC 2661 §7.4.2: the LAC places the call; with no PSTN behind us it connects at once.
        on: { CALL_CONNECTED: { target: 'established', actions: ['sendOccn', 'sessionUp'] } },
      },
      // Calls we start: wait for the tunnel, then send ICRQ / OCRQ.
      localIdle: { on: { OPEN: 'waitTunnel' } },
      waitTunnel: {
        on: {
          TUNNEL_UP: [
            { guard: { type: 'is', params: 'lacIncoming' }, target: 'waitReply', actions: 'sendIcrq' },
            { target: 'waitReply', actions: 'sendOcrq' },
          ],
        },
      },
      waitReply: {
        on: {
          ICRP: [{ guard: 'accepted', target: 'established', actions: ['sendIccn', 'sessionUp'] }, { target: 'closed', actions: refuse }],
          OCRP: [{ guard: 'accepted', target: 'waitConnect' }, { target: 'closed', actions: refuse }],
        },
      },
      waitConnect: {
        on: {
          ICCN: [{ guard: 'accepted', target: 'established', actions: 'sessionUp' }, { target: 'closed', actions: refuse }],
          OCCN: [{ guard: 'accepted', target: 'established', actions: 'sessionUp' }, { target: 'closed', actions: refuse }],
        },
      },
      established: {},
      closed: { type: 'final', entry: 'closed' },
    },
  });
}


export type SessionMachine = ReturnType<typeof createSessionMachine>;
export type SessionStateName = 'init' | 'lnsIncoming' | 'lacOutgoing' | 'waitCsAnswer' | 'localIdle' | 'waitTunnel' | 'waitReply' | 'waitConnect' | 'established' | 'closed';
