/** The reliable control channel (RFC 2661 §5.8, RFC 3931 §4.2) and its clock seam. */
export { type Clock, type TimerHandle, systemClock, VirtualClock, VirtualClockLimitError } from './clock.js';
export { ControlChannel } from './control-channel.js';
export {
  type ControlChannelConfig,
  type ControlChannelHooks,
  type ControlChannelState,
  type ControlChannelStats,
  type UnackedMessageState,
  ControlChannelConfigError,
  ControlChannelStateError,
  DEFAULT_CONTROL_CHANNEL_CONFIG,
} from './control-channel-config.js';
export { seqAdd, seqDiff, seqLess, seqLessEq, SEQ_MASK, SEQ_MODULUS } from './seq.js';
