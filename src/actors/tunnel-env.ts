/**
 * What a tunnel needs from the worker it lives in: time, the machines (built once per worker),
 * the data plane, the socket, ID allocation and somewhere to report changes. Tests pass a fake.
 */
import type { Logger } from 'pino';
import type { DataPlane, SessionLink } from '../dataplane/types.js';
import type { EchoOffload } from '../ppp/keepalive.js';
import type { Clock } from '../transport/clock.js';
import type { PseudowireFactory } from './pseudowire.js';
import type { Session } from './session.js';
import type { Tunnel } from './tunnel.js';
import type { Refusal, TunnelMachine } from './tunnel-machine.js';

export interface TunnelEvents {
  tunnelChanged(t: Tunnel): void;
  tunnelClosed(t: Tunnel): void;
  sessionChanged(s: Session): void;
  sessionClosed(s: Session): void;
  /** The session's pseudowire handler has new state for the session's record. */
  pseudowireChanged?(s: Session): void;
}

export interface TunnelEnv {
  clock: Clock;
  tunnelMachine: TunnelMachine;
  dataPlane: DataPlane;
  log: Logger;
  /** Send one encoded control packet to the tunnel's peer. */
  transmit(t: Tunnel, packet: Buffer): void;
  allocateSessionId(t: Tunnel): number | undefined;
  releaseSessionId(t: Tunnel, id: number): void;
  /** A new call from the peer (ICRQ, OCRQ): undefined to take it, else why not (the worker's limits). */
  admitCall?(): Refusal | undefined;
  events: TunnelEvents;
  /** What established sessions carry (PPP termination on the LNS, a subscriber in the load generator). */
  pseudowire?: PseudowireFactory | undefined;
  /** Kernel data plane: the tunnel's socket fd, handed to the kernel when the tunnel is up. */
  socketFd?(t: Tunnel): number | undefined;
  /** Null data plane on native tunnel sockets: a session's LCP keepalive in the addon (keepalive.ts EchoOffload). */
  echoOffload?(t: Tunnel, s: Session): EchoOffload | undefined;
  /** Kernel data plane: attach to a session the kernel now carries; its frames go to `onFrame`. */
  openSessionLink?(t: Tunnel, s: Session, onFrame: (frame: Buffer) => void): SessionLink | undefined;
}
