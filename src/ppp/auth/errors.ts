/**
 * The authentication protocols' only error type. Decoding a PAP or CHAP packet from the peer never throws anything
 * else (no RangeError from a Buffer read): every check names the offending field and its byte offset, so the
 * engine's counters and logs can say why a packet was dropped. The protocol classes themselves never throw on
 * receive: they drop the packet and hand this error to `onDiscard`.
 */
export class PppAuthError extends Error {
  override readonly name: string = 'PppAuthError';
  constructor(
    message: string,
    /** Dotted path of the offending field, e.g. `pap.peerIdLength` or `chap.value`. */
    readonly field: string,
    /** Byte offset of the field within the packet, or -1 when not positional. */
    readonly offset: number = -1,
  ) {
    super(offset >= 0 ? `${message} (field ${field} at offset ${offset})` : `${message} (field ${field})`);
  }
}
