/**
 * An independent oracle for MD4, DES and the MS-CHAPv2 NT-Response: OpenSSL's own implementations, reached by a
 * child Node started with --openssl-legacy-provider (the test process itself cannot load the legacy provider).
 * The MS-CHAPv2 composition in the child is written separately from src/ (bit-string key expansion, OpenSSL's
 * des-ecb and md4), so agreeing with it checks our DES, MD4 and the §8.5/§8.6 key handling together.
 *
 * `legacyOracle` is undefined when this Node's OpenSSL has no legacy provider; tests then say so and rely on the
 * published vectors alone.
 */
import { execFileSync } from 'node:child_process';

export type OracleCase =
  | { op: 'md4'; data: string }
  | { op: 'des'; key: string; block: string }
  | { op: 'ntResponse'; authenticatorChallenge: string; peerChallenge: string; user: string; password: string };

const CHILD = `
const c = require('node:crypto');
const cases = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const des = (key, block) => {
  const e = c.createCipheriv('des-ecb', key, null);
  e.setAutoPadding(false);
  return Buffer.concat([e.update(block), e.final()]);
};
const parityKey = (k7) => {
  const bits = [...k7].map((b) => b.toString(2).padStart(8, '0')).join('');
  const out = [];
  for (let i = 0; i < 8; i++) {
    const seven = bits.slice(7 * i, 7 * i + 7);
    const ones = [...seven].filter((b) => b === '1').length;
    out.push(parseInt(seven + (ones % 2 === 0 ? '1' : '0'), 2));
  }
  return Buffer.from(out);
};
const out = cases.map((k) => {
  if (k.op === 'md4') return c.createHash('md4').update(Buffer.from(k.data, 'hex')).digest('hex');
  if (k.op === 'des') return des(Buffer.from(k.key, 'hex'), Buffer.from(k.block, 'hex')).toString('hex');
  const name = k.user.includes('\\\\') ? k.user.slice(k.user.lastIndexOf('\\\\') + 1) : k.user;
  const challenge = c.createHash('sha1').update(Buffer.from(k.peerChallenge, 'hex'))
    .update(Buffer.from(k.authenticatorChallenge, 'hex')).update(Buffer.from(name, 'utf8')).digest().subarray(0, 8);
  const z = Buffer.concat([c.createHash('md4').update(Buffer.from(k.password, 'utf16le')).digest(), Buffer.alloc(5)]);
  return [0, 7, 14].map((at) => des(parityKey(z.subarray(at, at + 7)), challenge).toString('hex')).join('');
});
process.stdout.write(JSON.stringify(out));
`;

function run(cases: readonly OracleCase[]): string[] {
  const stdout = execFileSync(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    input: JSON.stringify(cases),
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  return JSON.parse(stdout.toString('utf8')) as string[];
}

function probe(): ((cases: readonly OracleCase[]) => string[]) | undefined {
  try {
    const [md4abc] = run([{ op: 'md4', data: Buffer.from('abc').toString('hex') }]);
    return md4abc === 'a448017aaf21d8525fc10ae87aa6729d' ? run : undefined;
  } catch {
    return undefined;
  }
}

export const legacyOracle = probe();
