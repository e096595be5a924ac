/**
 * 16-bit control-channel sequence numbers (Ns/Nr).
 *
 * RFC 2661 §5.8 / RFC 3931 §4.2: "The sequence number is thus a free running counter represented
 * modulo 65536. The sequence number in the header of a received message is considered less than
 * or equal to the last received number if its value lies in the range of the last received number
 * and the preceding 32767 values, inclusive. For example, if the last received sequence number was
 * 15, then messages with sequence numbers 0 through 15, as well as 32784 through 65535, would be
 * considered less than or equal."
 *
 * So `a <= b` exactly when the backward distance from b to a, (b - a) mod 65536, is at most 32767.
 * Consequence of following that text literally: two values exactly 32768 apart are neither less
 * than nor equal to each other (each is "greater" than the other). Every caller here keeps the
 * values it compares within 32767 of each other (windows are capped at 32767), so that corner
 * never decides anything.
 */

/** Size of the sequence space. */
export const SEQ_MODULUS = 0x10000;
/** Mask that reduces any integer (including negative ones) into the sequence space. */
export const SEQ_MASK = 0xffff;
/** RFC 2661 §5.8: "the last received number and the preceding 32767 values, inclusive". */
export const SEQ_HALF = 0x7fff;

/** `a + n` modulo 2^16 (n may be negative). */
export function seqAdd(a: number, n: number): number {
  return (a + n) & SEQ_MASK;
}

/**
 * The forward distance from `b` to `a`: how many increments take `b` to `a`, in [0, 65535].
 * `seqAdd(b, seqDiff(a, b)) === a` for all a, b.
 */
export function seqDiff(a: number, b: number): number {
  return (a - b) & SEQ_MASK;
}

/** RFC 2661 §5.8 "less than or equal": `a` lies in [b - 32767, b] modulo 2^16. */
export function seqLessEq(a: number, b: number): boolean {
  return ((b - a) & SEQ_MASK) <= SEQ_HALF;
}

/** Strictly less: `a` lies in [b - 32767, b - 1] modulo 2^16. */
export function seqLess(a: number, b: number): boolean {
  const back = (b - a) & SEQ_MASK;
  return back !== 0 && back <= SEQ_HALF;
}
