/**
 * Small, honest timing helper for benchmarks: warm up, then run batches until a time budget is
 * spent, and report operations per second and nanoseconds per operation.
 */
export interface Rate {
  opsPerSec: number;
  nsPerOp: number;
  ops: number;
}

export function measure(fn: () => void, budgetMs = 300, batch = 200): Rate {
  for (let i = 0; i < batch * 5; i++) fn(); // warm-up: let the JIT settle
  let ops = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(budgetMs) * 1_000_000n;
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
    now = process.hrtime.bigint();
  }
  const ns = Number(now - start);
  return { opsPerSec: Math.round((ops * 1e9) / ns), nsPerOp: Math.round(ns / ops), ops };
}
