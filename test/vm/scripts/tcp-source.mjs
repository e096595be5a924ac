// TCP source for VM throughput tests: sends BYTES zero bytes to ADDR:PORT, then ends; exits 0 once the peer closes.
import { connect } from 'node:net';
const [address, port, total] = process.argv.slice(2);
let left = Number(total);
const chunk = Buffer.alloc(65536);
const s = connect(Number(port), address, () => {
  const pump = () => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void s.once('drain', pump);
    }
    s.end();
  };
  pump();
});
s.on('close', (hadError) => process.exit(hadError ? 1 : 0));
s.on('error', (e) => {
  console.error(`tcp-source: ${e.message}`);
  process.exit(1);
});
setTimeout(() => {
  console.error('tcp-source: not done within 120 s');
  process.exit(1);
}, 120_000).unref();
