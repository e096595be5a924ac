/**
 * The PPP engine (no pppd per session): one `PppEngine` per L2TP session, LNS (`server`) or
 * subscriber (`client`, load generator). Authentication protocols live in ./auth.
 */
export { PppEngine, type PppCounters } from './engine.js';
export * from './types.js';
export {
  decodeControl,
  decodeFrame,
  decodeOptions,
  encodeControl,
  encodeControlFrame,
  encodeFrame,
  encodeOptions,
  PppCode,
  PppCodecError,
  PppProtocol,
  type ControlPacket,
  type PppFrame,
  type PppOption,
} from './frame.js';
export { FSM_STATES, RFC1661_TABLE, type FsmStateName } from './fsm.js';
export { ControlProtocol, pppFsmMachine } from './control-protocol.js';
export { LcpOption, type LcpNegotiated } from './lcp.js';
export { IpcpOption, type IpcpNegotiated } from './ipcp.js';
export { Ipv6cpOption, type Ipv6cpNegotiated } from './ipv6cp.js';
export { AUTHORIZATION_KEYS } from './network-phase.js';
