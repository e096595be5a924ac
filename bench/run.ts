/**
 * `npm run bench`: every benchmark of the project in one run, printed as one JSON document so
 * results sit side by side and can be diffed between commits. `--only NAME[,NAME]` picks some.
 */
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runChannelBench } from './channel.js';
import { runCodecBench } from './codec.js';
import { runPppBench } from './ppp.js';
import { runKernelVmBench } from './kernel-vm.js';
import { runLnsLoadBench } from './lns-load.js';
import { runSocketIoBench } from './sockets.js';

/**
 * Each size of the shard benchmark runs in its own process (RSS per session must not include the
 * previous size), with a heap large enough for a million sessions.
 */
function shardScale(): unknown {
  const script = fileURLToPath(new URL('./shard-scale.js', import.meta.url));
  const sizes = (process.env['BENCH_SESSIONS'] ?? '1000,100000,1000000').split(',').map(Number);
  const results = sizes.map((n) => {
    process.stderr.write(`  shard-scale ${n} sessions...\n`);
    const r = spawnSync(process.execPath, ['--expose-gc', '--max-old-space-size=12000', script, '--sessions', String(n)], { encoding: 'utf8', timeout: 900_000 });
    if (r.status !== 0) throw new Error(`shard-scale ${n} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as { sessions: number; routeNsPerPacket: number; routeColdNsPerPacket: number; rssBytesPerSession: number };
  });
  const first = results[0]!;
  const last = results[results.length - 1]!;
  return {
    sizes: results,
    // DESIGN.md: routing and lookup must not grow with the number of sessions (target ratio <= 1.2).
    routeRatioLargestToSmallest: Math.round((last.routeNsPerPacket / first.routeNsPerPacket) * 100) / 100,
    routeColdRatioLargestToSmallest: Math.round((last.routeColdNsPerPacket / first.routeColdNsPerPacket) * 100) / 100,
    rssBytesPerSessionLargest: last.rssBytesPerSession,
  };
}

type Bench = () => unknown | Promise<unknown>;
const BENCHES: Record<string, Bench> = {
  codec: runCodecBench,
  channel: runChannelBench,
  shard: shardScale,
  ppp: runPppBench,
  'socket-io': runSocketIoBench,
  'kernel-vm': runKernelVmBench,
  'lns-load': () => runLnsLoadBench(),
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
