/** The ELF checks the VM harness relies on before it boots anything (elf.ts). */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findExecutable } from '../support/sysdeps.js';
import { prepareVmAssets } from './assets.js';
import { extractPvhVmlinux, isStaticElf } from './elf.js';

describe('VM harness ELF checks', () => {
  it('tells the static busybox from a dynamically linked program', async () => {
    expect(await isStaticElf(findExecutable('busybox')!)).toBe(true);
    expect(await isStaticElf(findExecutable('sh')!)).toBe(false);
    expect(await isStaticElf(fileURLToPath(import.meta.url))).toBe(false); // not an ELF at all
  });

  it("extracts a PVH-bootable vmlinux from Debian's kernel and refuses anything else", async () => {
    const { kernel } = await prepareVmAssets();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'l2tpd-elf-'));
    try {
      const vmlinuz = path.join(path.dirname(kernel), 'vmlinuz');
      expect(await extractPvhVmlinux(vmlinuz, path.join(dir, 'vmlinux'))).toBe(true);
      expect((await stat(path.join(dir, 'vmlinux'))).size).toBeGreaterThan((await stat(vmlinuz)).size);
      expect(await extractPvhVmlinux(findExecutable('busybox')!, path.join(dir, 'not-a-kernel'))).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
