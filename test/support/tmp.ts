/** Temporary directories for tests: created under os.tmpdir(), removed by the returned cleanup. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TempDir {
  dir: string;
  /** Path of a file inside the directory. */
  file(name: string): string;
  cleanup(): Promise<void>;
}

export async function makeTempDir(prefix = 'l2tpd-test-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return {
    dir,
    file: (name) => path.join(dir, name),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
