/**
 * Loading: YAML → schema → references → resolution → overrides. Every stage that can run does, so
 * one `ConfigError` lists everything wrong; a `Config` exists only when nothing is.
 */
import { readFileSync } from 'node:fs';
import { Config } from './config.js';
import { ConfigError } from './errors.js';
import type { ConfigIssue } from './errors.js';
import { absolutePath, dataplane, endpoint, LOG_LEVELS, oneOf } from './leaves.js';
import { checkReferences } from './references.js';
import { resolveConfig } from './resolve.js';
import { parseYaml } from './source.js';
import type { ConfigOverrides, SystemConfig } from './types.js';
import { salvage, validateFile } from './validate.js';

/** The file name used in messages when there is no file. */
export const BUILTIN_FILE = '<built-in defaults>';
export const COMMAND_LINE = '<command line>';

export function parseConfig(text: string, fileName: string, overrides: ConfigOverrides = {}): Config {
  const { system, issues } = checkOverrides(overrides);
  const yaml = parseYaml(text, fileName);
  if (yaml.issues.length > 0) throw new ConfigError([...yaml.issues, ...issues]);
  const validated = validateFile(yaml.value, yaml.source);
  issues.push(...checkReferences(yaml.value, yaml.source));
  if (!validated.ok) {
    const salvaged = salvage(yaml.value, validated.raw);
    const again = salvaged === undefined ? undefined : validateFile(salvaged.value, yaml.source);
    if (salvaged !== undefined && again?.ok === true) {
      const rules = resolveConfig(again.file, yaml.source, system).issues;
      issues.push(...rules.filter((i) => !salvaged.tainted(i.path)));
    }
    throw new ConfigError([...validated.issues, ...issues]);
  }
  const resolved = resolveConfig(validated.file, yaml.source, system);
  issues.push(...resolved.issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return new Config(resolved.parts, fileName === BUILTIN_FILE ? undefined : fileName);
}

/** `path` undefined: built-in defaults only (a working LNS on 0.0.0.0:1701). */
export function loadConfig(path: string | undefined, overrides: ConfigOverrides = {}): Config {
  if (path === undefined) return parseConfig('', BUILTIN_FILE, overrides);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new ConfigError([{ file: path, line: 0, column: 0, path: '', message: `cannot read the file (${why})` }]);
  }
  return parseConfig(text, path, overrides);
}

/** Flags are checked with the same validators as the file, and reported as `<command line>: --flag: why`. */
function checkOverrides(o: ConfigOverrides): { system: Partial<SystemConfig>; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const system: { -readonly [K in keyof SystemConfig]?: SystemConfig[K] } = {};
  const check = <T>(flag: string, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } } }, v: unknown): T | undefined => {
    const r = schema.safeParse(v);
    if (r.success) return r.data;
    for (const i of r.error.issues) issues.push({ file: COMMAND_LINE, line: 0, column: 0, path: flag, message: i.message });
    return undefined;
  };
  if (o.listen !== undefined) {
    const eps = o.listen.map((l) => check('--listen', endpoint(1701), l));
    if (eps.every((e) => e !== undefined)) system.listen = eps;
  }
  if (o.mgmtSocket !== undefined) system.mgmtSocket = check('--mgmt-socket', absolutePath, o.mgmtSocket);
  if (o.dataplane !== undefined) system.dataplane = check('--dataplane', dataplane, o.dataplane);
  if (o.logLevel !== undefined) system.logLevel = check('--log-level', oneOf(LOG_LEVELS), o.logLevel);
  for (const k of Object.keys(system) as (keyof SystemConfig)[]) if (system[k] === undefined) delete system[k];
  return { system, issues };
}
