/**
 * Long fuzz run of the codec (not part of `npm test`, which runs 100k cases per property):
 *   npm run fuzz -- --cases 10000000 [--seed N]
 * Feeds random and mutated valid packets to the decoder; any exception that is not the codec's
 * typed error is a bug, printed with the packet hex and the seed that reproduces it.
 */
import fc from 'fast-check';
import { decodePacket, encodeControl, L2tpCodecError } from '../../src/protocol/index.js';
import { anyControlMessageArb } from '../protocol/arbitraries.js';

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const cases = arg('cases', 10_000_000);
const seed = arg('seed', Date.now() & 0x7fffffff);
const SECRET = Buffer.from('fuzz-secret');

// A corpus of valid packets to mutate, generated once (fast-check is the slow part).
const corpus = fc.sample(anyControlMessageArb({ hide: true }), { numRuns: 5000, seed }).map((m) => encodeControl(m, { secret: SECRET }));

let rnd = seed >>> 0 || 1;
const next = () => {
  // xorshift32: cheap enough that the decoder dominates the run time.
  rnd ^= rnd << 13;
  rnd >>>= 0;
  rnd ^= rnd >>> 17;
  rnd ^= rnd << 5;
  rnd >>>= 0;
  return rnd;
};

const stats = { ok: 0, typed: 0 };
const started = Date.now();
for (let i = 0; i < cases; i++) {
  let b: Buffer;
  const kind = next() % 4;
  if (kind === 0) {
    b = Buffer.allocUnsafe(next() % 160);
    for (let j = 0; j < b.length; j++) b[j] = next() & 0xff;
  } else {
    b = Buffer.from(corpus[next() % corpus.length]!);
    const flips = 1 + (next() % 4);
    for (let f = 0; f < flips && b.length > 0; f++) b[next() % b.length]! ^= 1 << (next() % 8);
    if (kind === 2) b = b.subarray(0, next() % (b.length + 1));
  }
  const transport = next() % 8 === 0 ? 'ip' : 'udp';
  try {
    decodePacket(b, { transport, secret: next() % 2 ? SECRET : undefined, keepHidden: true });
    stats.ok++;
  } catch (e) {
    if (!(e instanceof L2tpCodecError)) {
      console.error(JSON.stringify({ bug: String(e), stack: (e as Error).stack, packet: b.toString('hex'), transport, seed, case: i }));
      process.exit(1);
    }
    stats.typed++;
  }
  if ((i + 1) % 1_000_000 === 0) console.error(`${i + 1} cases, ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
console.log(JSON.stringify({ cases, seed, decoded: stats.ok, typedErrors: stats.typed, seconds: (Date.now() - started) / 1000 }));
