// TCP sink for VM throughput tests: accepts one connection on ADDR:PORT, counts bytes until the peer ends,
// writes {"bytes":N,"ms":T,"mbitPerS":R} to OUTFILE and exits. Bounded: gives up after 120 s.
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
const [address, port, outFile] = process.argv.slice(2);
const giveUp = setTimeout(() => {
  console.error('tcp-sink: no complete transfer within 120 s');
  process.exit(1);
}, 120_000);
const server = createServer((s) => {
  let bytes = 0;
  const t0 = Date.now();
  s.on('data', (d) => (bytes += d.length));
  s.on('end', () => {
    const ms = Date.now() - t0;
    const r = { bytes, ms, mbitPerS: Number(((bytes * 8) / ms / 1000).toFixed(1)) };
    writeFileSync(outFile, JSON.stringify(r) + '\n');
    clearTimeout(giveUp);
    server.close();
    s.end();
  });
});
server.listen(Number(port), address);
