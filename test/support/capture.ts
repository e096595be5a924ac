/**
 * A live capture on `lo` with dumpcap (from tshark's packages), for checking what the daemon puts on
 * the wire. Started before the exchange, stopped by PID after it.
 */
import { spawn } from 'node:child_process';
import { makeTempDir } from './tmp.js';

export interface Capture {
  file: string;
  stop(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function startCapture(filter: string): Promise<Capture> {
  const dir = await makeTempDir('capture-');
  const file = dir.file('capture.pcapng');
  const proc = spawn('dumpcap', ['-q', '-i', 'lo', '-f', filter, '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dumpcap did not start:\n${stderr}`)), 15_000);
    proc.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('Capturing on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.on('error', reject);
    proc.on('close', (code) => reject(new Error(`dumpcap exited (${code}):\n${stderr}`)));
  });
  // The filter is attached a moment after dumpcap says so (seen here): give it that moment.
  await new Promise((r) => setTimeout(r, 500));
  return {
    file,
    async stop() {
      await new Promise((r) => setTimeout(r, 300));
      if (proc.exitCode === null) {
        const closed = new Promise((r) => proc.once('close', r));
        proc.kill('SIGTERM');
        await closed;
      }
      return file;
    },
    cleanup: () => dir.cleanup(),
  };
}
