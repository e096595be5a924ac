/**
 * Result and Error Code meanings (RFC 2661 §4.4.2, RFC 3931 §5.4.2), for logs and `l2tpctl`.
 * Result codes are interpreted per message (StopCCN and CDN have separate spaces).
 */
export const StopCcnResult = {
  GeneralRequest: 1,
  GeneralError: 2,
  ControlChannelExists: 3,
  NotAuthorized: 4,
  UnsupportedProtocolVersion: 5,
  ShuttingDown: 6,
  FsmError: 7,
} as const;

export const CdnResult = {
  LossOfCarrier: 1,
  GeneralError: 2,
  Administrative: 3,
  NoFacilitiesTemporary: 4,
  NoFacilitiesPermanent: 5,
  InvalidDestination: 6,
  NoCarrier: 7,
  Busy: 8,
  NoDialTone: 9,
  NotEstablishedInTime: 10,
  NoFraming: 11,
  LostTieBreaker: 13,
  UnsupportedPseudowireType: 14,
  SequencingWithoutSublayer: 15,
  FsmErrorOrTimeout: 16,
} as const;

export const GeneralError = {
  NoError: 0,
  NoControlConnection: 1,
  LengthWrong: 2,
  FieldOutOfRange: 3,
  InsufficientResources: 4,
  InvalidSessionId: 5,
  VendorSpecific: 6,
  TryAnother: 7,
  UnknownMandatoryAvp: 8,
  TryAnotherDirected: 9,
} as const;

const STOPCCN_TEXT: Record<number, string> = {
  0: 'Reserved',
  1: 'General request to clear control connection',
  2: 'General error, Error Code indicates the problem',
  3: 'Control channel already exists',
  4: 'Requester is not authorized to establish a control channel',
  5: 'The protocol version of the requester is not supported',
  6: 'Requester is being shut down',
  7: 'Finite state machine error or timeout',
};

const CDN_TEXT: Record<number, string> = {
  0: 'Reserved',
  1: 'Call disconnected due to loss of carrier',
  2: 'Call disconnected for the reason indicated in error code',
  3: 'Call disconnected for administrative reasons',
  4: 'Call failed due to lack of appropriate facilities being available (temporary condition)',
  5: 'Call failed due to lack of appropriate facilities being available (permanent condition)',
  6: 'Invalid destination',
  7: 'Call failed due to no carrier detected',
  8: 'Call failed due to detection of a busy signal',
  9: 'Call failed due to lack of a dial tone',
  10: 'Call was not established within time allotted by LAC',
  11: 'Call was connected but no appropriate framing was detected',
  13: 'Session not established due to losing tie breaker',
  14: 'Session not established due to unsupported PW type',
  15: 'Session not established, sequencing required without valid L2-Specific Sublayer',
  16: 'Finite state machine error or timeout',
};

const ERROR_TEXT: Record<number, string> = {
  0: 'No general error',
  1: 'No control connection exists yet for this pair of peers',
  2: 'Length is wrong',
  3: 'One of the field values was out of range or reserved field was non-zero',
  4: 'Insufficient resources to handle this operation now',
  5: 'The Session ID is invalid in this context',
  6: 'A generic vendor-specific error occurred',
  7: 'Try another',
  8: 'Shut down due to receipt of an unknown AVP with the M bit set',
  9: 'Try another directed',
};

/** Human text for a Result Code in the given message (StopCCN = 4, CDN = 14). */
export function resultCodeText(messageType: number | undefined, result: number): string {
  const table = messageType === 4 ? STOPCCN_TEXT : messageType === 14 ? CDN_TEXT : undefined;
  return table?.[result] ?? `Result code ${result}`;
}

export function errorCodeText(error: number): string {
  return ERROR_TEXT[error] ?? `Error code ${error}`;
}
