/**
 * The control connection state machine, RFC 2661 §7.2.1 and RFC 3931 §3.3, as one XState table.
 *
 * The machine decides; it does not parse or send. The tunnel (tunnel.ts) turns each received
 * message into an event that already carries the verdict (accepted, or the Result/Error Code to
 * refuse with), and implements the named actions (send SCCRP, bring the tunnel up...). So the
 * table below is the protocol, readable as RFC 2661 §7.2.1's table:
 *
 *   idle          OPEN                 → wait-ctl-reply   send SCCRQ
 *   idle          SCCRQ ok             → wait-ctl-conn    send SCCRP
 *   idle          SCCRQ refused        → stopping         send StopCCN
 *   wait-ctl-reply SCCRP ok            → established      send SCCCN, tunnel up
 *   wait-ctl-reply SCCRP refused       → stopping         send StopCCN
 *   wait-ctl-reply V2_FALLBACK         → wait-ctl-reply   send SCCRQ as L2TPv2 (peer speaks v2 only)
 *   wait-ctl-conn SCCCN ok             → established      tunnel up
 *   wait-ctl-conn SCCCN refused        → stopping         send StopCCN
 *   established   CLOSE                → stopping         send StopCCN
 *   any           StopCCN              → draining         (ack; hold state one retransmission cycle)
 *   any           DEAD (no ack)        → closed
 *   stopping      StopCCN acked / hold → closed
 *   draining      hold expired         → closed
 *
 * `closed` is final: the tunnel then releases its sessions, kernel objects and IDs.
 */
import { assign, setup } from 'xstate';
import { describeRefusal } from './refusal.js';

export interface Refusal {
  resultCode: number;
  errorCode?: number;
  message?: string;
}

export type Verdict = { ok: true } | ({ ok: false } & Refusal);

export interface TunnelContext {
  localTunnelId: number;
  /** How long state is kept after StopCCN: a full retransmission cycle (RFC 2661 §5.7). */
  holdMs: number;
  /** Why the tunnel ended, for logs and `l2tpctl`. */
  reason?: string;
  /** Result Code we sent or received in StopCCN. */
  stopResult?: Refusal;
}

export type TunnelEvent =
  | { type: 'OPEN' }
  | { type: 'SCCRQ'; verdict: Verdict }
  | { type: 'SCCRP'; verdict: Verdict }
  | { type: 'SCCCN'; verdict: Verdict }
  | { type: 'V2_FALLBACK' }
  | { type: 'STOPCCN'; result: Refusal }
  | { type: 'CLOSE'; result: Refusal }
  | { type: 'STOP_ACKED' }
  | { type: 'DEAD'; reason: string };

export interface TunnelActions {
  sendSccrq(): void;
  sendSccrqV2(): void;
  sendSccrp(): void;
  sendScccn(): void;
  sendStopCcn(result: Refusal): void;
  tunnelUp(): void;
  closed(ctx: TunnelContext): void;
}

/** Build the machine with one implementation of the actions (per worker, not per tunnel). */
export function createTunnelMachine(act: (localTunnelId: number) => TunnelActions | undefined) {
  const a = (ctx: TunnelContext) => act(ctx.localTunnelId);
  const refusalOf = (e: TunnelEvent): Refusal =>
    'verdict' in e && !e.verdict.ok ? e.verdict : 'result' in e ? e.result : { resultCode: 2, errorCode: 0 };
  return setup({
    types: {
      context: {} as TunnelContext,
      events: {} as TunnelEvent,
      input: {} as { localTunnelId: number; holdMs: number },
    },
    guards: {
      accepted: ({ event }) => 'verdict' in event && event.verdict.ok,
    },
    actions: {
      sendSccrq: ({ context }) => a(context)?.sendSccrq(),
      sendSccrqV2: ({ context }) => a(context)?.sendSccrqV2(),
      sendSccrp: ({ context }) => a(context)?.sendSccrp(),
      sendScccn: ({ context }) => a(context)?.sendScccn(),
      sendStopCcn: ({ context, event }) => a(context)?.sendStopCcn(refusalOf(event)),
      tunnelUp: ({ context }) => a(context)?.tunnelUp(),
      recordRefusal: assign({ stopResult: ({ event }) => refusalOf(event), reason: ({ event }) => refusalReason('sent', refusalOf(event)) }),
      recordPeerStop: assign({ stopResult: ({ event }) => refusalOf(event), reason: ({ event }) => refusalReason('received', refusalOf(event)) }),
      recordDead: assign({ reason: ({ event }) => (event.type === 'DEAD' ? event.reason : 'dead') }),
      closed: ({ context }) => a(context)?.closed(context),
    },
    delays: {
      hold: ({ context }) => context.holdMs,
    },
  }).createMachine({
    id: 'tunnel',
    context: ({ input }) => ({ localTunnelId: input.localTunnelId, holdMs: input.holdMs }),
    initial: 'idle',
    on: {
      STOPCCN: { target: '.draining', actions: 'recordPeerStop' },
      DEAD: { target: '.closed', actions: 'recordDead' },
    },
    states: {
      idle: {
        on: {
          OPEN: { target: 'waitCtlReply', actions: 'sendSccrq' },
          CLOSE: { target: 'closed', actions: 'recordRefusal' },
          SCCRQ: [
            { guard: 'accepted', target: 'waitCtlConn', actions: 'sendSccrp' },
            { target: 'stopping', actions: ['recordRefusal', 'sendStopCcn'] },
          ],
        },
      },
      waitCtlReply: {
        on: {
          SCCRP: [
            { guard: 'accepted', target: 'established', actions: ['sendScccn', 'tunnelUp'] },
            { target: 'stopping', actions: ['recordRefusal', 'sendStopCcn'] },
          ],
          V2_FALLBACK: { actions: 'sendSccrqV2' },
          CLOSE: { target: 'stopping', actions: ['recordRefusal', 'sendStopCcn'] },
        },
      },
      waitCtlConn: {
        on: {
          SCCCN: [
            { guard: 'accepted', target: 'established', actions: 'tunnelUp' },
            { target: 'stopping', actions: ['recordRefusal', 'sendStopCcn'] },
          ],
          CLOSE: { target: 'stopping', actions: ['recordRefusal', 'sendStopCcn'] },
        },
      },
      established: {
        on: {
          CLOSE: { target: 'stopping', actions: ['recordRefusal', 'sendStopCcn'] },
        },
      },
      stopping: {
        on: {
          STOP_ACKED: 'closed',
          STOPCCN: 'closed',
          DEAD: 'closed',
          CLOSE: {},
        },
        after: { hold: 'closed' },
      },
      draining: {
        on: { STOPCCN: {}, CLOSE: {}, DEAD: 'closed' },
        after: { hold: 'closed' },
      },
      closed: { type: 'final', entry: 'closed' },
    },
  });
}

function refusalReason(dir: 'sent' | 'received', r: Refusal): string {
  return `StopCCN ${dir}: ${describeRefusal(r)}`;
}

export type TunnelMachine = ReturnType<typeof createTunnelMachine>;
export type TunnelStateName = 'idle' | 'waitCtlReply' | 'waitCtlConn' | 'established' | 'stopping' | 'draining' | 'closed';
