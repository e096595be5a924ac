/**
 * The codec's only error type family. Decoding untrusted bytes must never throw anything else
 * (RangeError from a Buffer read, TypeError from a missing field...): every check names the
 * offending field and the byte offset where it sits, so a counter and a log line can say why a
 * packet was dropped.
 */
export class L2tpCodecError extends Error {
  override readonly name: string = 'L2tpCodecError';
  constructor(
    message: string,
    /** Dotted path of the offending field, e.g. `header.length` or `avp[3].value`. */
    readonly field: string,
    /** Byte offset of the offending field within the packet, or -1 when not positional. */
    readonly offset: number,
  ) {
    super(`${message} (field ${field} at offset ${offset})`);
  }
}

/** The header is too short, has a bad version, a bad flag combination or a wrong length. */
export class MalformedHeaderError extends L2tpCodecError {
  override readonly name: string = 'MalformedHeaderError';
}

/** An AVP's framing (length, reserved bits, hidden subformat) or value format is wrong. */
export class MalformedAvpError extends L2tpCodecError {
  override readonly name: string = 'MalformedAvpError';
  constructor(
    message: string,
    field: string,
    offset: number,
    readonly vendorId: number,
    readonly attributeType: number,
  ) {
    super(message, field, offset);
  }
}

/** The message as a whole breaks the rules of its type: first AVP not Message Type, a required AVP missing... */
export class MalformedMessageError extends L2tpCodecError {
  override readonly name: string = 'MalformedMessageError';
  constructor(
    message: string,
    field: string,
    offset: number,
    /** The message type when it could be read, so the caller can answer (StopCCN/CDN) as the RFC says. */
    readonly messageType?: number,
  ) {
    super(message, field, offset);
  }
}

/** A hidden AVP arrived but no secret (or no preceding Random Vector) is there to unhide it. */
export class HiddenAvpError extends MalformedAvpError {
  override readonly name: string = 'HiddenAvpError';
}

/** Something we were asked to encode cannot be put on the wire (value out of range, too long...). */
export class EncodeError extends L2tpCodecError {
  override readonly name: string = 'EncodeError';
}
