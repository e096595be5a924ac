import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { makeTempDir } from '../support/tmp.js';
import type { TempDir } from '../support/tmp.js';
import { issuesOf, load, yaml } from './helpers.js';

const file = yaml('system:', '  listen: ["192.0.2.1:1701"]', '  mgmt_socket: /run/a.sock', '  dataplane: kernel', '  log_level: warn');

describe('command-line overrides', () => {
  it('win over the file', () => {
    const c = load(file, { listen: ['[::1]:1702', '127.0.0.1'], mgmtSocket: '/tmp/b.sock', dataplane: 'null', logLevel: 'debug' });
    expect(c.system).toMatchObject({
      listen: [{ address: '::1', family: 6, port: 1702 }, { address: '127.0.0.1', family: 4, port: 1701 }],
      mgmtSocket: '/tmp/b.sock',
      dataplane: 'null',
      logLevel: 'debug',
    });
  });

  it('leave what they do not name', () => {
    const c = load(file, { logLevel: 'trace' });
    expect(c.system.listen).toEqual([{ address: '192.0.2.1', family: 4, port: 1701 }]);
    expect(c.system.dataplane).toBe('kernel');
    expect(c.system.logLevel).toBe('trace');
  });

  it('apply with no file too', () => {
    expect(loadConfig(undefined, { listen: [] }).system.listen).toEqual([]);
  });

  it('are validated like the file, and reported as command-line errors with the file\'s', () => {
    const issues = issuesOf(yaml('system: { workers: 0 }'), { listen: ['nowhere'], logLevel: 'loud', mgmtSocket: 'rel.sock' });
    expect(issues.map((i) => [i.file, i.path])).toEqual([
      ['<command line>', '--listen'],
      ['<command line>', '--log-level'],
      ['<command line>', '--mgmt-socket'],
      ['test.yaml', 'system.workers'],
    ]);
    expect(issues[1]?.message).toBe('must be fatal, error, warn, info, debug, trace or silent, got "loud"');
    expect(issues[0]).toMatchObject({ line: 0, column: 0 });
  });
});

describe('loadConfig', () => {
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await makeTempDir();
  });
  afterAll(() => tmp.cleanup());

  it('reads the file and names it in the Config and in errors', async () => {
    const good = tmp.file('good.yaml');
    await writeFile(good, file);
    expect(loadConfig(good).file).toBe(good);
    const bad = tmp.file('bad.yaml');
    await writeFile(bad, yaml('system:', '  bogus: 1'));
    expect(() => loadConfig(bad)).toThrow(`${bad}:2:3: system.bogus: unknown key "bogus"`);
  });

  it('refuses a file it cannot read', () => {
    const missing = tmp.file('missing.yaml');
    try {
      loadConfig(missing);
      expect.fail('loaded a missing file');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).format()).toContain(`${missing}: cannot read the file (ENOENT)`);
    }
  });
});
