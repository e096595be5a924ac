#!/usr/bin/env node
/**
 * Builds native/build/l2tp_native.node with the system C compiler; run by `npm install` / `npm ci` (the root
 * package's "install" script). No node-gyp: the addon uses only N-API and uv_poll, so it needs just
 * node_api.h and uv.h, found in this order:
 *   1. the headers shipped in the npm `node` binary package (node_modules/.../node-<platform>-<arch>/include/node),
 *   2. /usr/include/node (Debian's libnode-dev / nodejs packages),
 *   3. <prefix>/include/node next to the running node (official tarballs).
 *
 * When the compiler or the headers are missing it prints one warning line and exits 0: l2tpd still runs on the
 * null data plane, and the loader (src/dataplane/kernel/native.ts) reports the reason from build/status.json.
 *
 * Usage: node native/build.mjs [--strict] [--out DIR]
 *   --strict  exit 1 instead of 0 when the addon cannot be built (tests)
 *   --out     output directory (default native/build)
 * Environment: CC (default cc), CFLAGS (appended).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const nativeDir = dirname(fileURLToPath(import.meta.url));
const root = dirname(nativeDir);
const ADDON = 'l2tp_native.node';

const args = process.argv.slice(2);
const strict = args.includes('--strict');
const outIndex = args.indexOf('--out');
const outDir = outIndex >= 0 && args[outIndex + 1] ? resolve(args[outIndex + 1]) : join(nativeDir, 'build');
const cc = process.env.CC || 'cc';

const hasHeaders = (dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'uv.h'));

/** The npm `node` package installs node-<platform>-<arch> nested under itself or hoisted. */
function npmNodeHeaderDirs() {
  const pkg = `node-${process.platform}-${process.arch}`;
  const modules = join(root, 'node_modules');
  const dirs = [join(modules, 'node', 'node_modules', pkg), join(modules, pkg)];
  let entries = [];
  try {
    entries = readdirSync(modules);
  } catch {
    /* no node_modules (installed as a dependency elsewhere): nothing to search */
  }
  for (const name of entries) if (!name.startsWith('.')) dirs.push(join(modules, name, 'node_modules', pkg));
  return [...new Set(dirs)].map((d) => join(d, 'include', 'node'));
}

function findHeaders() {
  const candidates = [...npmNodeHeaderDirs(), '/usr/include/node', resolve(dirname(process.execPath), '..', 'include', 'node')];
  return candidates.find(hasHeaders);
}

function headerVersion(dir) {
  try {
    const text = readFileSync(join(dir, 'node_version.h'), 'utf8');
    const part = (name) => new RegExp(`#define\\s+NODE_${name}_VERSION\\s+(\\d+)`).exec(text)?.[1];
    return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
  } catch {
    return 'unknown';
  }
}

function writeStatus(status) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'status.json'), `${JSON.stringify({ ...status, builtAt: new Date().toISOString() }, null, 2)}\n`);
}

function fail(reason, details) {
  // A stale addon must not outlive a failed build: the loader would load code that no longer matches the source.
  rmSync(join(outDir, ADDON), { force: true });
  writeStatus({ ok: false, reason });
  if (details) process.stderr.write(details.endsWith('\n') ? details : `${details}\n`);
  process.stderr.write(`l2tpd: native addon not built: ${reason} (the null data plane still works)\n`);
  process.exit(strict ? 1 : 0);
}

/** The most useful single line of a compiler failure. */
function explainCompilerFailure(stderr) {
  const missing = /fatal error: ([^:\s]+): No such file or directory/.exec(stderr);
  if (missing) {
    return missing[1].startsWith('linux/')
      ? `${missing[1]} not found: apt-get install linux-libc-dev`
      : `${missing[1]} not found: apt-get install libc6-dev`;
  }
  const firstError = stderr.split('\n').find((l) => /error/i.test(l));
  return `${cc} failed: ${firstError ?? stderr.trim().split('\n')[0] ?? 'no output'}`;
}

const include = findHeaders();
if (!include) {
  fail('node_api.h and uv.h not found (looked in node_modules/**/node-*/include/node and /usr/include/node): apt-get install libnode-dev, or npm ci to get the npm node package');
}

const sources = readdirSync(nativeDir)
  .filter((f) => f.endsWith('.c'))
  .sort()
  .map((f) => join(nativeDir, f));
mkdirSync(outDir, { recursive: true });
const tmp = join(outDir, `${ADDON}.tmp-${process.pid}`);
const flags = ['-O2', '-g', '-Wall', '-Wextra', '-std=gnu11', '-shared', '-fPIC', '-fvisibility=hidden'];
const extra = (process.env.CFLAGS ?? '').split(/\s+/).filter(Boolean);
const argv = [...flags, ...extra, '-I', include, '-o', tmp, ...sources];
const result = spawnSync(cc, argv, { encoding: 'utf8' });

if (result.error) {
  rmSync(tmp, { force: true });
  fail(result.error.code === 'ENOENT' ? `${cc} not found: apt-get install gcc` : `${cc}: ${result.error.message}`);
}
if (result.status !== 0) {
  rmSync(tmp, { force: true });
  fail(explainCompilerFailure(result.stderr ?? ''), result.stderr);
}
if (result.stderr) process.stderr.write(result.stderr); // warnings

// rename() is atomic: a process that already dlopen()ed the old addon keeps its inode and is not disturbed.
renameSync(tmp, join(outDir, ADDON));
writeStatus({ ok: true, compiler: cc, include, nodeHeaders: headerVersion(include), napiVersion: 8 });
console.log(`l2tpd: built ${relative(process.cwd(), join(outDir, ADDON))} with ${cc} (headers: ${include}, Node ${headerVersion(include)})`);
