/**
 * MD4 (RFC 1320), for MS-CHAPv2's NtPasswordHash and HashNtPasswordHash (RFC 2759 §8.3, §8.4).
 *
 * Written here because Node's OpenSSL 3 keeps MD4 in the "legacy" provider, which is not loaded by default
 * (`createHash('md4')` fails with ERR_OSSL_EVP_UNSUPPORTED) and which a daemon should not have to turn on
 * process-wide with --openssl-legacy-provider. MD4 is broken as a general hash; here it only reproduces the
 * Windows NT password hash that MS-CHAPv2 is defined over.
 */

/** RFC 1320 §3.4: the shift amounts of each round, applied in turn to A, D, C, B. */
const SHIFTS = [
  [3, 7, 11, 19],
  [3, 5, 9, 13],
  [3, 9, 11, 15],
] as const;
/** Order in which each round reads the sixteen words of the block. */
const WORD_ORDER = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15],
  [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15],
] as const;
/** Round constants: 0, sqrt(2) and sqrt(3) scaled by 2^30. */
const ROUND_CONSTANT = [0, 0x5a827999, 0x6ed9eba1] as const;

const F = (x: number, y: number, z: number): number => (x & y) | (~x & z);
const G = (x: number, y: number, z: number): number => (x & y) | (x & z) | (y & z);
const H = (x: number, y: number, z: number): number => x ^ y ^ z;
const ROUND_FUNCTION = [F, G, H] as const;

const rotl = (x: number, s: number): number => (x << s) | (x >>> (32 - s));

/** MD4 digest (16 octets) of the concatenation of `parts`. */
export function md4(...parts: Uint8Array[]): Buffer {
  const length = parts.reduce((n, p) => n + p.length, 0);
  // RFC 1320 §3.1-3.2: a 1 bit, zeros up to 56 mod 64, then the bit length as 64 bits little-endian.
  const padded = Buffer.alloc((((length + 8) >>> 6) + 1) * 64);
  let at = 0;
  for (const p of parts) {
    padded.set(p, at);
    at += p.length;
  }
  padded[length] = 0x80;
  padded.writeUInt32LE((length * 8) % 0x1_0000_0000, padded.length - 8);
  padded.writeUInt32LE(Math.floor(length / 0x2000_0000), padded.length - 4);

  const state = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
  const x = new Array<number>(16);
  for (let block = 0; block < padded.length; block += 64) {
    for (let j = 0; j < 16; j++) x[j] = padded.readUInt32LE(block + 4 * j);
    let [a, b, c, d] = state as [number, number, number, number];
    for (let round = 0; round < 3; round++) {
      const f = ROUND_FUNCTION[round]!;
      const k = ROUND_CONSTANT[round]!;
      const order = WORD_ORDER[round]!;
      const shifts = SHIFTS[round]!;
      for (let i = 0; i < 16; i++) {
        // [abcd k s] then [dabc ...], [cdab ...], [bcda ...]: renaming the registers after each step keeps one
        // formula; after 16 steps (a multiple of 4) the names are back where they started.
        const t = rotl((a + f(b, c, d) + x[order[i]!]! + k) | 0, shifts[i & 3]!);
        a = d;
        d = c;
        c = b;
        b = t;
      }
    }
    state[0] = (state[0]! + a) | 0;
    state[1] = (state[1]! + b) | 0;
    state[2] = (state[2]! + c) | 0;
    state[3] = (state[3]! + d) | 0;
  }
  const digest = Buffer.alloc(16);
  for (let i = 0; i < 4; i++) digest.writeInt32LE(state[i]!, 4 * i);
  return digest;
}
