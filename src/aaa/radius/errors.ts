/**
 * RADIUS error types. Decoding untrusted bytes throws nothing but `RadiusCodecError` (and its
 * subclasses): every check names the field and its offset, so a counter and a log line can say why a
 * packet was dropped (RFC 2865 §3: invalid packets are silently discarded, never answered).
 */
export class RadiusCodecError extends Error {
  override readonly name: string = 'RadiusCodecError';
  constructor(
    message: string,
    /** e.g. `header.length`, `attribute[3].length`, `User-Password`. */
    readonly field: string,
    /** Byte offset within the packet, or -1 when not positional. */
    readonly offset: number,
  ) {
    super(`${message} (field ${field} at offset ${offset})`);
  }
}

/** A Request/Response Authenticator or Message-Authenticator does not match: wrong secret or a forgery. */
export class RadiusAuthenticatorError extends RadiusCodecError {
  override readonly name: string = 'RadiusAuthenticatorError';
}

/** Something we were asked to encode cannot go on the wire (unknown attribute, value out of range, too long). */
export class RadiusEncodeError extends RadiusCodecError {
  override readonly name: string = 'RadiusEncodeError';
}

/** No server answered a request within its timeouts and retries, on any server. */
export class RadiusTimeoutError extends Error {
  override readonly name: string = 'RadiusTimeoutError';
  constructor(
    message: string,
    /** `address:port` of every server tried, in order. */
    readonly tried: readonly string[],
  ) {
    super(message);
  }
}

/** The client was closed while the request was outstanding (or before it was sent). */
export class RadiusClosedError extends Error {
  override readonly name: string = 'RadiusClosedError';
}
