/**
 * The seam between a session and what it carries (STYLE.md: the L2TP core knows nothing of PPP or
 * Ethernet, like net/l2tp's core and its l2tp_ppp / l2tp_eth). When a session is established its
 * tunnel asks the factory for a handler; data messages for the session go to `data`, and the handler
 * sends with `transmit` and may end the session with `disconnect`.
 *
 * Restarts: what a handler's `state()` returns goes into the session's record (the core keeps it as
 * opaque data, written again when the handler calls `stateChanged`), and a restored session gets its
 * handler back from the factory's `restore` with that state (docs/architecture.md "State and restarts").
 */
import type { EchoOffload } from '../ppp/keepalive.js';
import type { Refusal } from './tunnel-machine.js';
import type { SessionData } from './session-messages.js';
import type { ControlMessage } from '../protocol/index.js';

export interface PseudowireSession {
  readonly data: SessionData;
  readonly peerTunnelId: number;
  /** Send one payload (e.g. a PPP frame) to the peer in an L2TP data message. */
  transmit(payload: Buffer): void;
  /** End the session from the pseudowire's side (CDN with `result`). */
  disconnect(result: Refusal): void;
  /** The message that established the session (ICCN/OCCN/ICRP), for proxy LCP and the like. */
  readonly establishingMessage: ControlMessage | undefined;
  /** The network layer is up (kernel data plane: the interface gets these addresses); absent in userspace mode. */
  networkUp?(spec: { local?: string; peer?: string; mtu?: number; routes?: string[] }): void;
  /** Kernel data plane: seconds since the session last carried data (not control frames), if known. */
  idleSeconds?(): number | undefined;
  /** What `state()` returns changed materially (up, down, renegotiated; not per keepalive): record it again. */
  stateChanged?(): void;
  /** Userspace sessions on a native tunnel socket: the LCP keepalive can run in the addon (keepalive.ts). */
  echoOffload?: EchoOffload;
}

export interface PseudowireHandler {
  /** A data message's payload for this session. */
  data(payload: Buffer): void;
  /** The session is gone (CDN either way, tunnel down): release everything, send nothing. */
  down(reason: string): void;
  /** Plain data (structured-clone safe) for the session's failover record; undefined: nothing to resume. */
  state?(): unknown;
}

/** Returns undefined when the session's pseudowire is not handled here (e.g. a LAC forwarding PPP). */
export interface PseudowireFactory {
  (session: PseudowireSession): PseudowireHandler | undefined;
  /**
   * A restored session (worker restart): its handler resumed from what the previous handler's `state()`
   * returned. Without `restore`, or without a saved state, the session gets a new handler from the
   * factory itself.
   */
  restore?(session: PseudowireSession, state: unknown): PseudowireHandler | undefined;
}
