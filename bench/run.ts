/**
 * `npm run bench`: every benchmark of the project in one run, printed as one JSON document so
 * results sit side by side and can be diffed between commits. `--only NAME[,NAME]` picks some.
 */
import os from 'node:os';
import { runCodecBench } from './codec.js';

type Bench = () => unknown | Promise<unknown>;
const BENCHES: Record<string, Bench> = {
  codec: runCodecBench,
};

async function main(): Promise<void> {
  const i = process.argv.indexOf('--only');
  const only = i >= 0 ? (process.argv[i + 1] ?? '').split(',') : Object.keys(BENCHES);
  const results: Record<string, unknown> = {};
  for (const name of only) {
    const b = BENCHES[name];
    if (!b) throw new Error(`unknown benchmark ${name}; known: ${Object.keys(BENCHES).join(', ')}`);
    process.stderr.write(`bench ${name}...\n`);
    results[name] = await b();
  }
  const machine = { node: process.version, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) };
  process.stdout.write(JSON.stringify({ date: new Date().toISOString(), machine, results }, null, 2) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exit(1);
});
