/**
 * l2tpctl as a program: exit codes, usage errors, help — mostly through `main(argv, io)` in-process, and once
 * as the real compiled script spawned with node, to cover the shebang entry, process.exitCode and real stdout.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/l2tpctl.js';
import { bufferedIo } from '../../src/cli/io.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferedIo();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** A HELLO (tunnel 7) whose second AVP claims a length of 3: MalformedAvpError at offset 20. */
const MALFORMED = 'c8 02 00 1a 00 07 00 00 00 00 00 00 80 08 00 00 00 00 00 06 00 03 00 00 00 07';
const HELLO = 'c8:02:00:14:00:07:00:00:00:00:00:00:80:08:00:00:00:00:00:06';

describe('l2tpctl main', () => {
  it('decodes hex given as one argument or as many, exit 0', async () => {
    const one = await run('decode', HELLO);
    expect(one.code).toBe(0);
    expect(one.out).toContain('L2TPv2 control HELLO  tunnel 7  session 0  Ns 0  Nr 0  20 octets');
    const many = await run('decode', ...HELLO.split(':'));
    expect(many.out).toBe(one.out);
    expect(one.err).toBe('');
  });

  it('takes --json before or after the command', async () => {
    const after = await run('decode', HELLO, '--json');
    const before = await run('--json', 'decode', HELLO);
    expect(after.out).toBe(before.out);
    expect(JSON.parse(after.out)).toMatchObject({ input: { kind: 'hex' }, packets: [{ messageName: 'HELLO', tunnelId: 7 }] });
  });

  it('exits 1 for a packet that fails to decode, naming the typed error, its field and offset', async () => {
    const text = await run('decode', MALFORMED);
    expect(text.code).toBe(1);
    expect(text.out).toContain('packet 1: MalformedAvpError: AVP length 3 is below 6 (field avp[1].length at offset 20)');
    const json = await run('decode', '--json', MALFORMED);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).packets[0].error).toMatchObject({ name: 'MalformedAvpError', field: 'avp[1].length', offset: 20 });
  });

  it.each([
    [['decode', 'c8 0z'], /l2tpctl decode: bad hex: "z" is not a hex digit/],
    [['decode', 'c80'], /odd number of hex digits/],
    [['decode', 'missing.pcap'], /missing\.pcap: no such file \(and not hex either\)/],
    [['decode', 'package.json'], /package\.json is not a pcap or pcapng capture: unknown magic number/],
    [['decode', 'samples/hidden-avps.pcap', 'samples/xl2tpd-lac-lns.pcap'], /give one capture file, or hex octets/],
    [['decode', '--cookie-length', '3', HELLO], /--cookie-length must be 0, 4 or 8/],
    [['decode', '--cookie-length', 'x', HELLO], /--cookie-length must be an integer/],
    [['decode', '--port', '70000', 'samples/hidden-avps.pcap'], /--port must be an integer 1\.\.65535/],
    [['decode', '--transport', 'tcp', HELLO], /argument 'tcp' is invalid/],
    [['decode'], /missing required argument 'input'/],
    [['decode', '--bogus', HELLO], /unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
  ])('exits 2 for a usage error: %j', async (argv, message) => {
    const r = await run(...argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.out).toBe('');
  });

  it('exits 2 with the help on stderr when no command is given', async () => {
    const r = await run();
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage: l2tpctl');
  });

  it('prints help and version with exit 0', async () => {
    const help = await run('decode', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: l2tpctl decode [options] <input...>');
    expect(help.out).toContain('--secret <secret>');
    expect(help.out).toContain('--json'); // the global option, shown in the command's help
    const version = await run('--version');
    expect(version.code).toBe(0);
    expect(version.out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('the compiled l2tpctl', () => {
  const root = path.resolve(import.meta.dirname, '../..');
  // A private build of just the CLI and what it imports: neither a stale dist/ nor a half-edited file elsewhere
  // in the tree changes what this test runs. Under node_modules so that `commander` and "type": "module" resolve.
  const outDir = path.join(root, 'node_modules/.cache/l2tpctl-test-build');
  const script = path.join(outDir, 'src/cli/l2tpctl.js');

  beforeAll(async () => {
    const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
    const args = [
      tsc, '--outDir', outDir, '--rootDir', root, '--target', 'ES2022', '--module', 'NodeNext', '--moduleResolution', 'NodeNext',
      '--strict', '--types', 'node', '--skipLibCheck', path.join(root, 'src/cli/l2tpctl.ts'),
    ];
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, args, { cwd: root, timeout: 120_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`tsc failed: ${stdout}${stderr}`)) : resolve(),
      ),
    );
    expect(existsSync(script)).toBe(true);
  }, 180_000);

  function spawnCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    return new Promise((resolve) =>
      execFile(process.execPath, [script, ...args], { cwd: root, timeout: 60_000 }, (err, out, errText) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, out, err: errText }),
      ),
    );
  }

  it('decodes a sample capture as JSON with exit 0', async () => {
    const r = await spawnCli(['decode', '--json', '--secret', 'samplesecret', 'samples/xl2tpd-lac-lns.pcap']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out) as { packets: { messageName: string }[] };
    expect(json.packets[0]!.messageName).toBe('SCCRQ');
  });

  it('exits 1 for a malformed packet and 2 for bad hex', async () => {
    expect((await spawnCli(['decode', MALFORMED])).code).toBe(1);
    const bad = await spawnCli(['decode', 'xyz']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('l2tpctl decode: bad hex');
  });
});
