/**
 * Durations as operators write them: a number of seconds (`60`, `0.5`) or a string with units
 * (`500ms`, `30s`, `2m`, `1h`, `1m30s`). Resolved to whole milliseconds, the unit every timer here uses.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** One `<number><unit>` term; `ms` before `m` so the alternation does not stop early. */
const TERM = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Milliseconds, or undefined when `v` is not a duration or not a whole number of milliseconds. */
export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? wholeMs(v * 1000) : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (s === '') return undefined;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < s.length) {
    const m = TERM.exec(s);
    if (m === null) return undefined;
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  }
  return wholeMs(total);
}

/** Rounds away binary noise (0.1 s * 1000 = 100.00000000000001) but refuses sub-millisecond values. */
function wholeMs(ms: number): number | undefined {
  const r = Math.round(ms);
  return Math.abs(r - ms) < 1e-6 && Number.isSafeInteger(r) ? r : undefined;
}

/** The shortest exact rendering: 8000 → "8s", 90000 → "1m30s", 1500 → "1500ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  let out = '';
  for (const [unit, size] of [['h', 3600], ['m', 60]] as const) {
    if (s >= size) {
      out += `${Math.floor(s / size)}${unit}`;
      s %= size;
    }
  }
  return s > 0 ? `${out}${s}s` : out;
}
