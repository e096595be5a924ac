import { chmod, readFile, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/tmp.js';
import { SYSTEM_DEPENDENCIES } from '../support/global-setup.js';
import { ensureDebianPackages, findExecutable } from '../support/sysdeps.js';

describe('ensureDebianPackages', () => {
  const savedPath = process.env['PATH'];
  afterEach(() => {
    process.env['PATH'] = savedPath;
  });

  it('resolves every dependency of the suite to an absolute path (global setup installed them)', async () => {
    const found = await ensureDebianPackages(SYSTEM_DEPENDENCIES, { install: false });
    expect(Object.keys(found).sort()).toEqual(SYSTEM_DEPENDENCIES.map((d) => d.bin).sort());
    for (const file of Object.values(found)) expect(file).toMatch(/^\//);
  });

  it('finds daemons in /usr/sbin even when PATH lacks it (a non-root user on Debian)', () => {
    process.env['PATH'] = '/usr/bin:/bin';
    expect(findExecutable('xl2tpd')).toBe('/usr/sbin/xl2tpd');
    expect(findExecutable('tshark')).toBe('/usr/bin/tshark');
    expect(findExecutable('no-such-binary-l2tpd-test')).toBeUndefined();
  });

  it('names exactly what is missing and how to install it', async () => {
    const err = await ensureDebianPackages(
      [
        { pkg: 'tshark', bin: 'tshark' },
        { pkg: 'no-such-package-l2tpd-test', bin: 'no-such-binary-l2tpd-test' },
      ],
      { install: false },
    ).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toContain('no-such-binary-l2tpd-test (package no-such-package-l2tpd-test)');
    expect(msg).not.toContain('tshark (package tshark)');
    expect(msg).toMatch(/apt-get update && .*DEBIAN_FRONTEND=noninteractive apt-get install -y no-such-package-l2tpd-test$/m);
  });

  it('as root: apt-get update once, preseeds debconf for tshark, installs non-interactively, re-checks', async () => {
    // Stand-ins for apt-get and debconf-set-selections, first on PATH: they log their calls, and "installing"
    // package P creates the binary P-bin (package "broken" fails, package "empty" installs no binary).
    const tmp = await makeTempDir('l2tpd-sysdeps-');
    try {
      const log = tmp.file('log');
      await writeFile(
        tmp.file('apt-get'),
        `#!/bin/sh\necho "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> ${log}\n` +
          `[ "$1" = install ] || exit 0\nshift 2\nfor p in "$@"; do\n` +
          `  [ "$p" = broken ] && { echo "E: Unable to locate package broken" >&2; exit 100; }\n` +
          `  [ "$p" = empty ] || { printf '#!/bin/sh\\n' > ${tmp.dir}/$p-bin; chmod +x ${tmp.dir}/$p-bin; }\ndone\n`,
      );
      await writeFile(tmp.file('debconf-set-selections'), `#!/bin/sh\necho "debconf $(cat)" >> ${log}\n`);
      await chmod(tmp.file('apt-get'), 0o755);
      await chmod(tmp.file('debconf-set-selections'), 0o755);
      process.env['PATH'] = `${tmp.dir}:${savedPath}`;

      const install = ensureDebianPackages([
        { pkg: 'tshark', bin: 'tshark-bin' },
        { pkg: 'xl2tpd', bin: 'xl2tpd-bin' },
      ]);
      if (process.getuid?.() !== 0) {
        await expect(install).rejects.toThrow(/not running as root[\s\S]*sudo apt-get update/);
        return;
      }
      expect(await install).toEqual({ 'tshark-bin': tmp.file('tshark-bin'), 'xl2tpd-bin': tmp.file('xl2tpd-bin') });
      await expect(ensureDebianPackages([{ pkg: 'broken', bin: 'broken-bin' }])).rejects.toThrow(
        /broken-bin \(package broken\); installing failed: apt-get install -y broken exited with 100:\nE: Unable to locate package broken/,
      );
      await expect(ensureDebianPackages([{ pkg: 'empty', bin: 'empty-bin' }])).rejects.toThrow(
        /empty-bin \(package empty\); still missing after apt-get install/,
      );
      expect((await readFile(log, 'utf8')).trim().split('\n')).toEqual([
        'apt-get update DEBIAN_FRONTEND=noninteractive',
        'debconf wireshark-common wireshark-common/install-setuid boolean false',
        'apt-get install -y tshark xl2tpd DEBIAN_FRONTEND=noninteractive',
        'apt-get install -y broken DEBIAN_FRONTEND=noninteractive',
        'apt-get install -y empty DEBIAN_FRONTEND=noninteractive',
      ]);
    } finally {
      await tmp.cleanup();
    }
  });
});
