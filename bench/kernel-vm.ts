/**
 * Kernel data plane benchmarks, inside the test VM (Debian's kernel under qemu TCG; the hosts have no L2TP):
 * - PPP session set-up rate of l2tpd with the kernel data plane vs the null data plane, same VM, same load
 *   (l2tp-load --ppp, one tunnel, BENCH_VM_SESSIONS subscribers); target ratio >= 0.5: programming the kernel
 *   must not be the bottleneck.
 * - TCP throughput through a PPP session made by l2tpd vs one made by xl2tpd + pppd, both dialled by xl2tpd +
 *   pppd; target ratio >= 0.95: the data path is the same kernel code, nothing of ours in it.
 * Absolute numbers are the emulated CPU's (TCG is far slower than hardware); the ratios are the point.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { runInVm } from '../test/vm/run.js';

interface SetupLine {
  phase: 'setup';
  plane: 'kernel' | 'null';
  sessions: number;
  failed: number;
  setupPerSecond: number | null;
  peakPerSecond: number | null;
  l2tpdCallsPerCpuSecond: number | null;
  l2tpdRssBytes: number | null;
  p99CallMs: number | null;
}
interface TcpLine {
  phase: 'tcp';
  lns: 'l2tpd' | 'xl2tpd';
  /** The best of `runs`: transfers alternate between the two sessions, both up at once. */
  mbitPerS: number;
  runs?: number[];
}

const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a && b ? Math.round((a / b) * 100) / 100 : null;

export async function runKernelVmBench(): Promise<unknown> {
  const sessions = Number(process.env['BENCH_VM_SESSIONS'] ?? '1000');
  const script = fileURLToPath(new URL('../../test/vm/scripts/kernel-scale.sh', import.meta.url));
  const r = await runInVm(script, { env: { MODE: 'bench', SESSIONS: String(sessions) }, timeoutMs: 1_500_000, memMb: 2048, smp: 2 });
  if (r.rc !== 0) throw new Error(`kernel VM bench failed (rc ${r.rc}); console kept in ${r.outDir}/console.log:\n${r.console.slice(-3000)}`);
  const lines = [...r.console.matchAll(/^BENCH (\{.*\})\s*$/gm)].map((m) => JSON.parse(m[1]!) as SetupLine | TcpLine);
  const setup = (plane: string) => lines.find((l): l is SetupLine => l.phase === 'setup' && l.plane === plane);
  const tcp = (lns: string) => lines.find((l): l is TcpLine => l.phase === 'tcp' && l.lns === lns);
  const kernel = setup('kernel');
  const nul = setup('null');
  const ours = tcp('l2tpd');
  const theirs = tcp('xl2tpd');
  await rm(r.outDir, { recursive: true, force: true });
  return {
    where: 'qemu TCG VM, Debian kernel, 2 vCPUs; l2tp-load and l2tpd in two network namespaces',
    sessions,
    setup: { kernel, null: nul },
    setupRateKernelToNull: ratio(kernel?.setupPerSecond, nul?.setupPerSecond),
    setupRateTarget: 0.5,
    tcp: { l2tpd: ours, xl2tpd: theirs },
    tcpThroughputL2tpdToXl2tpd: ratio(ours?.mbitPerS, theirs?.mbitPerS),
    tcpThroughputTarget: 0.95,
    vmSeconds: Math.round(r.durationMs / 1000),
  };
}
