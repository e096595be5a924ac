/**
 * Single-block DES encryption (FIPS 46-3), all that MS-CHAPv2's ChallengeResponse needs (RFC 2759 §8.5, §8.6):
 * three ECB encryptions of one 8-octet challenge under three 56-bit keys.
 *
 * Written here because Node's OpenSSL 3 keeps DES in the "legacy" provider, not loaded by default
 * (`createCipheriv('des-ecb', ...)` fails with ERR_OSSL_EVP_UNSUPPORTED). The tables below are FIPS 46-3's,
 * numbered from 1 at the most significant bit as the standard numbers them; only the f function's S-box and P
 * permutation are folded into lookup tables at load time (the classic "SP box" speed-up).
 */
import { PppAuthError } from './errors.js';

/** Initial permutation IP. */
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
/** Final permutation IP⁻¹. */
const FP = [
  40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31, 38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
  36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27, 34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
];
/*
 * Expansion E (32 bits of R to 48) is not a table here: its eight 6-bit groups are R's bits 4g .. 4g+5 taken
 * cyclically (32, 1, 2, 3, 4, 5 | 4, 5, 6, 7, 8, 9 | ... | 28, 29, 30, 31, 32, 1), i.e. the top six bits of R
 * rotated left by 4g - 1. See f().
 */
/** Permutation P of the S-boxes' 32 output bits. */
const P = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
/** Permuted choice 1: the 56 key bits (parity bits 8, 16, ... 64 dropped) as C0 (first 28) and D0. */
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
/** Permuted choice 2: 48 bits of CnDn for round key Kn. */
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
/** Left shifts of C and D before each of the 16 rounds. */
const KEY_SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
/** S1..S8, each 4 rows × 16 columns. */
const S = [
  [14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7, 0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
    4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0, 15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13],
  [15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10, 3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
    0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15, 13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9],
  [10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8, 13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
    13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7, 1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12],
  [7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15, 13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
    10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4, 3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14],
  [2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9, 14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
    4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14, 11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3],
  [12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11, 10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
    9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6, 4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13],
  [4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1, 13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
    1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2, 6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12],
  [13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7, 1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
    7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8, 2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11],
];

/** Bit `n` (1 = most significant) of a 64-bit value held as two 32-bit halves. */
const bit64 = (hi: number, lo: number, n: number): number => (n <= 32 ? hi >>> (32 - n) : lo >>> (64 - n)) & 1;
/** Bit `n` (1 = most significant) of a `width`-bit value (width ≤ 32). */
const bitOf = (v: number, width: number, n: number): number => (v >>> (width - n)) & 1;

/** A 64-bit permutation (IP, FP) of (hi, lo) into (hi, lo). */
function permute64(table: readonly number[], hi: number, lo: number): [number, number] {
  let outHi = 0;
  let outLo = 0;
  for (let i = 0; i < 32; i++) outHi = (outHi << 1) | bit64(hi, lo, table[i]!);
  for (let i = 32; i < 64; i++) outLo = (outLo << 1) | bit64(hi, lo, table[i]!);
  return [outHi >>> 0, outLo >>> 0];
}

/**
 * SP[i][six]: P applied to S-box i+1's output for the 6-bit input `six` (b1..b6, b1 most significant), placed at
 * output bits 4i+1..4i+4. The f function is then the OR of eight lookups.
 */
const SP: Uint32Array[] = S.map((box, i) => {
  const table = new Uint32Array(64);
  for (let six = 0; six < 64; six++) {
    const row = ((six >>> 4) & 2) | (six & 1);
    const col = (six >>> 1) & 0xf;
    const sOut = (box[row * 16 + col]! << (28 - 4 * i)) >>> 0;
    let permuted = 0;
    for (let j = 0; j < 32; j++) permuted = (permuted << 1) | bitOf(sOut, 32, P[j]!);
    table[six] = permuted >>> 0;
  }
  return table;
});

/** The 16 round keys, each as eight 6-bit groups (K1 first). */
type KeySchedule = Uint8Array;

function keySchedule(key: Uint8Array): KeySchedule {
  const hi = ((key[0]! << 24) | (key[1]! << 16) | (key[2]! << 8) | key[3]!) >>> 0;
  const lo = ((key[4]! << 24) | (key[5]! << 16) | (key[6]! << 8) | key[7]!) >>> 0;
  let c = 0;
  let d = 0;
  for (let i = 0; i < 28; i++) c = (c << 1) | bit64(hi, lo, PC1[i]!);
  for (let i = 28; i < 56; i++) d = (d << 1) | bit64(hi, lo, PC1[i]!);
  const schedule = new Uint8Array(16 * 8);
  const rotl28 = (v: number, s: number): number => ((v << s) | (v >>> (28 - s))) & 0x0fffffff;
  for (let round = 0; round < 16; round++) {
    c = rotl28(c, KEY_SHIFTS[round]!);
    d = rotl28(d, KEY_SHIFTS[round]!);
    for (let g = 0; g < 8; g++) {
      let six = 0;
      for (let j = 0; j < 6; j++) {
        const n = PC2[g * 6 + j]!;
        six = (six << 1) | (n <= 28 ? bitOf(c, 28, n) : bitOf(d, 28, n - 28));
      }
      schedule[round * 8 + g] = six;
    }
  }
  return schedule;
}

/** f(R, K): expand R to eight 6-bit groups, XOR with the round key, substitute and permute. */
function f(r: number, schedule: KeySchedule, round: number): number {
  const rotr1 = (r >>> 1) | (r << 31); // group 0 = E bits 32, 1, 2, 3, 4, 5
  let out = 0;
  for (let g = 0; g < 8; g++) {
    const six = (((rotr1 << (4 * g)) | (rotr1 >>> (32 - 4 * g))) >>> 26) & 0x3f;
    out |= SP[g]![six ^ schedule[round * 8 + g]!]!;
  }
  return out >>> 0;
}

/**
 * DES-encrypt one 8-octet block under an 8-octet key (the low bit of each key octet is parity and is ignored,
 * as FIPS 46-3 says). Throws PppAuthError on wrong lengths: a caller's mistake, never peer data.
 */
export function desEncryptBlock(key: Uint8Array, block: Uint8Array): Buffer {
  if (key.length !== 8) throw new PppAuthError(`DES key must be 8 octets, got ${key.length}`, 'des.key');
  if (block.length !== 8) throw new PppAuthError(`DES block must be 8 octets, got ${block.length}`, 'des.block');
  const schedule = keySchedule(key);
  const inHi = ((block[0]! << 24) | (block[1]! << 16) | (block[2]! << 8) | block[3]!) >>> 0;
  const inLo = ((block[4]! << 24) | (block[5]! << 16) | (block[6]! << 8) | block[7]!) >>> 0;
  let [l, r] = permute64(IP, inHi, inLo);
  for (let round = 0; round < 16; round++) {
    const next = (l ^ f(r, schedule, round)) >>> 0;
    l = r;
    r = next;
  }
  // The output of the last round is R16L16 (the halves swapped back) before IP⁻¹.
  const [outHi, outLo] = permute64(FP, r, l);
  const out = Buffer.alloc(8);
  out.writeUInt32BE(outHi, 0);
  out.writeUInt32BE(outLo, 4);
  return out;
}

/**
 * RFC 2759 §8.6 / §9.3: spread a 7-octet (56-bit) key over 8 octets, seven key bits per octet in the high bits,
 * and set the low bit of each octet to odd parity — the key form DES implementations expect.
 */
export function desKeyFrom56Bits(key7: Uint8Array): Buffer {
  if (key7.length !== 7) throw new PppAuthError(`56-bit DES key must be 7 octets, got ${key7.length}`, 'des.key');
  const out = Buffer.alloc(8);
  for (let i = 0; i < 8; i++) {
    const first = (7 * i) >>> 3;
    const pair = (key7[first]! << 8) | (key7[first + 1] ?? 0);
    const seven = (pair >>> (9 - ((7 * i) & 7))) & 0x7f;
    let ones = 0;
    for (let v = seven; v !== 0; v >>>= 1) ones += v & 1;
    out[i] = (seven << 1) | (ones & 1 ? 0 : 1);
  }
  return out;
}
