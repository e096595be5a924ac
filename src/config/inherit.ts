/**
 * Profile inheritance (ProL2TP's model): built-in values ← the file's `default` ← a parent named by
 * `inherit` (default when absent) ← the profile itself. Nested mappings (`retransmit`) merge key by
 * key; lists replace; an explicit null (`bridge: null`) overrides. `match` is a peer profile's
 * identity, not a setting, so it is never inherited. Broken chains were reported by references.ts;
 * here they fall back to `default` so resolution always terminates.
 */
import { DEFAULT_PROFILE } from './references.js';

const NOT_INHERITED = new Set(['inherit', 'match']);

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** `own`'s values have the types of `base`'s (both come from one schema), so the result is a full F. */
export function mergeOwn<F extends object>(base: F, own: object): F {
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(own)) {
    if (v === undefined || NOT_INHERITED.has(k)) continue;
    const b = out[k];
    out[k] = isPlain(v) && isPlain(b) ? { ...b, ...definedOnly(v) } : v;
  }
  return out as F;
}

export interface Inheritable {
  inherit?: string | undefined;
}

/**
 * Every profile of one section with its inherited values filled in, `default` first and the rest in
 * file order (peer profiles are matched in that order).
 */
export function inheritAll<F extends object>(section: Readonly<Record<string, Inheritable>> | undefined, builtin: F): Map<string, F> {
  const raw = section ?? {};
  const root = mergeOwn(builtin, raw[DEFAULT_PROFILE] ?? {});
  const memo = new Map<string, F>([[DEFAULT_PROFILE, root]]);
  const visit = (name: string, chain: Set<string>): F => {
    const done = memo.get(name);
    if (done !== undefined) return done;
    const own = raw[name];
    if (own === undefined) return root;
    chain.add(name);
    const parent = own.inherit ?? DEFAULT_PROFILE;
    const full = mergeOwn(chain.has(parent) ? root : visit(parent, chain), own);
    memo.set(name, full);
    return full;
  };
  const out = new Map<string, F>([[DEFAULT_PROFILE, root]]);
  for (const name of Object.keys(raw)) out.set(name, visit(name, new Set()));
  return out;
}

/** Names that some profile of the section inherits from. */
export function parentsIn(section: Readonly<Record<string, Inheritable>> | undefined): Set<string> {
  return new Set(Object.values(section ?? {}).flatMap((p) => (p.inherit === undefined ? [] : [p.inherit])));
}

/** Freezes objects, arrays and the values of Maps (a Map itself stays mutable; it is typed ReadonlyMap). */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of v instanceof Map ? v.values() : Object.values(v)) deepFreeze(x);
  }
  return v;
}
