/**
 * Runs the schema and turns its issues into located `ConfigIssue`s: one per unknown key, pointing at
 * the key, with a "did you mean" when a known key is close.
 */
import { z } from 'zod';
import type { ConfigIssue } from './errors.js';
import { show } from './leaves.js';
import { configFileSchema } from './schema.js';
import type { ConfigFile } from './schema.js';
import { formatPath } from './source.js';
import type { ConfigSource, KeyPath } from './source.js';

export type Validated =
  | { readonly ok: true; readonly file: ConfigFile }
  | { readonly ok: false; readonly issues: ConfigIssue[]; readonly raw: readonly z.core.$ZodIssue[] };

export function validateFile(value: unknown, source: ConfigSource): Validated {
  const r = configFileSchema.safeParse(value, { error: structuralMessage });
  if (r.success) return { ok: true, file: r.data };
  return { ok: false, issues: r.error.issues.flatMap((i) => locate(i, source)), raw: r.error.issues };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface Salvaged {
  readonly value: unknown;
  /** Whether a cross-field issue at this (formatted) path may stem from a removed value. */
  readonly tainted: (path: string) => boolean;
}

/**
 * The file with every offending value removed, so the cross-field rules can still run in the same
 * pass and the operator sees all errors at once. A bad list item takes its whole list with it
 * (removing only the item would shift the indices later messages name). A removed value falls back
 * to its inherited or default value, which could cause misleading follow-on errors: those in an
 * entity (a profile, a tunnel, a pool, `system`, `aaa.radius`) that had a schema error are dropped,
 * tunnels — whose checks read profiles — are dropped whenever any profile had one, and ppp profiles'
 * `aaa` rules whenever `aaa` had one. Undefined when no salvage is possible (a missing required key,
 * a wrong container).
 */
export function salvage(value: unknown, issues: readonly z.core.$ZodIssue[]): Salvaged | undefined {
  const copy: unknown = structuredClone(value);
  const dirty = new Set<string>();
  const removed: string[] = [];
  const under = (path: string, d: string): boolean => path === d || path.startsWith(`${d}.`) || path.startsWith(`${d}[`);
  for (const iss of issues) {
    const targets = iss.code === 'unrecognized_keys' ? iss.keys.map((k) => [...iss.path, k]) : [iss.path];
    for (const full of targets) {
      const target = [...full];
      while (typeof target.at(-1) === 'number') target.pop();
      if (removed.some((r) => under(formatPath(target), r))) continue;
      const key = target.at(-1);
      let parent: unknown = copy;
      for (const seg of target.slice(0, -1)) parent = (parent as Obj | undefined)?.[seg as string];
      if (!isObj(parent) || typeof key !== 'string' || parent[key] === undefined) return undefined;
      delete parent[key];
      removed.push(formatPath(target));
    }
    // The entity: `system`, `tunnel_profiles.edge`, `tunnels[3]`, `pools.gold`, `aaa.radius`.
    dirty.add(formatPath(iss.path.slice(0, iss.path[0] === 'system' ? 1 : 2)));
  }
  const profileDirty = [...dirty].some((d) => d.includes('_profiles'));
  // A ppp profile's `aaa` rule reads the `aaa` section: a removed value there would make it misfire.
  const aaaDirty = [...dirty].some((d) => d === 'aaa' || d.startsWith('aaa.'));
  const tainted = (path: string): boolean =>
    (profileDirty && path.startsWith('tunnels')) ||
    (aaaDirty && /^ppp_profiles\.[^.]+\.aaa$/.test(path)) ||
    [...dirty].some((d) => under(path, d));
  return { value: copy, tainted };
}

/** Messages for the containers; leaves (leaves.ts) word their own. */
function structuralMessage(iss: z.core.$ZodRawIssue): string | undefined {
  if (iss.code !== 'invalid_type') return undefined;
  if (iss.input === undefined && (iss.expected === 'object' || iss.expected === 'record')) return 'is required (a mapping of keys to values)';
  if (iss.input === undefined && iss.expected === 'array') return 'is required (a list)';
  if (iss.expected === 'object' || iss.expected === 'record') return `must be a mapping of keys to values, got ${show(iss.input)}`;
  if (iss.expected === 'array') return `must be a list, got ${show(iss.input)}`;
  return undefined;
}

function locate(iss: z.core.$ZodIssue, source: ConfigSource): ConfigIssue[] {
  if (iss.code === 'unrecognized_keys') {
    const known = knownKeys(iss.path);
    return iss.keys.map((key) => source.issue([...iss.path, key], `unknown key "${key}"${suggestion(key, known)}`, { key: true }));
  }
  if (iss.code === 'invalid_key') return [source.issue(iss.path, iss.issues[0]?.message ?? iss.message, { key: true })];
  return [source.issue(iss.path, iss.message)];
}

/** The keys the schema allows at `path`, found by walking the schema with the issue's path. */
export function knownKeys(path: KeyPath): string[] {
  let s: unknown = configFileSchema;
  const unwrap = (): void => {
    for (;;) {
      if (s instanceof z.ZodOptional) s = s.unwrap();
      else if (s instanceof z.ZodPipe) s = s.out;
      else return;
    }
  };
  for (const seg of path) {
    unwrap();
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, unknown>)[String(seg)];
    else if (s instanceof z.ZodRecord) s = s.valueType;
    else if (s instanceof z.ZodArray) s = s.element;
    else return [];
  }
  unwrap();
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function suggestion(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  if (best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3))) return ` (did you mean "${best}"?)`;
  return known.length > 0 ? ` (allowed here: ${known.join(', ')})` : '';
}

/** Levenshtein distance; keys are short, so the quadratic table is fine. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
