/**
 * A load worker thread: runs one `LoadEngine` and reports its totals to the main thread every
 * REPORT_INTERVAL_MS, with its event loop utilisation (near 1: this worker is the bottleneck).
 */
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { LoadEngine } from './engine.js';
import { REPORT_INTERVAL_MS, type FromLoadWorker, type ToLoadWorker } from './thread-messages.js';

const port = parentPort;
if (!port) throw new Error('load/worker.js runs as a worker thread of l2tp-load');

let engine: LoadEngine | undefined;
let worker = 0;
let reporter: NodeJS.Timeout | undefined;
let lastElu = performance.eventLoopUtilization();

const post = (m: FromLoadWorker) => port.postMessage(m);

function elu(): number {
  const now = performance.eventLoopUtilization();
  const d = performance.eventLoopUtilization(now, lastElu);
  lastElu = now;
  return Math.round(d.utilization * 1000) / 1000;
}

port.on('message', (m: ToLoadWorker) => {
  if (m.type === 'start') {
    worker = m.plan.worker;
    engine = new LoadEngine(m.plan, (message) => post({ type: 'fatal', message }));
    engine.start();
    reporter = setInterval(() => post({ type: 'stats', stats: engine!.stats(worker, elu()) }), REPORT_INTERVAL_MS);
    return;
  }
  if (m.type === 'stop') {
    if (reporter) clearInterval(reporter);
    const e = engine;
    if (!e) {
      port.close();
      return;
    }
    void e.stop(m.graceMs).then(() => {
      post({ type: 'stopped', stats: e.stats(worker, elu()) });
      port.close();
    });
  }
});
