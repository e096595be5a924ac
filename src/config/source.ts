/**
 * The YAML layer: parses with source positions kept (the `yaml` package's AST + LineCounter), and
 * turns a key path from the validator back into file:line:column. Validation works on plain values;
 * only error reporting ever walks the AST.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import type { ConfigIssue } from './errors.js';

export type KeyPath = readonly PropertyKey[];

/** `tunnel_profiles.edge.hello_interval`, `tunnels[0].sessions[1].type`. */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

export interface Located {
  /** Point at the key itself rather than its value (unknown keys, duplicate names). */
  key?: boolean;
}

export class ConfigSource {
  constructor(
    readonly file: string,
    private readonly doc: Document.Parsed | undefined,
    private readonly lines: LineCounter,
  ) {}

  /** An issue at `path`; a path that does not exist in the file points at its deepest existing part. */
  issue(path: KeyPath, message: string, opts: Located = {}): ConfigIssue {
    const { line, column } = this.position(path, opts);
    return { file: this.file, line, column, path: formatPath(path), message };
  }

  position(path: KeyPath, opts: Located = {}): { line: number; column: number } {
    if (this.doc === undefined) return { line: 0, column: 0 };
    const offset = this.offsetOf(path, opts.key === true);
    const { line, col } = this.lines.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  }

  /** True when the file itself sets this key (as opposed to a default or an inherited value). */
  has(path: KeyPath): boolean {
    return this.doc?.hasIn(path as unknown[]) ?? false;
  }

  private offsetOf(path: KeyPath, wantKey: boolean): number {
    let node: unknown = this.doc?.contents;
    let offset = rangeStart(node) ?? 0;
    for (const [i, seg] of path.entries()) {
      if (isAlias(node) && this.doc !== undefined) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = (node.items as Pair[]).find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (pair === undefined) break;
        const keyStart = rangeStart(pair.key) ?? offset;
        const valueStart = rangeStart(pair.value);
        if (wantKey && i === path.length - 1) return keyStart;
        node = pair.value;
        offset = valueStart === undefined || isEmpty(pair.value) ? keyStart : valueStart;
      } else if (isSeq(node) && typeof seg === 'number' && node.items[seg] !== undefined) {
        node = node.items[seg];
        offset = rangeStart(node) ?? offset;
      } else {
        break;
      }
    }
    return offset;
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  return range === undefined || range === null ? undefined : range[0];
}

/** `key:` with nothing after it: its (empty) value has no useful position, so point at the key. */
function isEmpty(node: unknown): boolean {
  return isScalar(node) && node.value === null && node.range != null && node.range[0] === node.range[1];
}

export interface ParsedYaml {
  readonly source: ConfigSource;
  readonly value: unknown;
  readonly issues: readonly ConfigIssue[];
}

/** YAML 1.2 core schema, unique keys, one document. Warnings are errors too: nothing is silently ignored. */
export function parseYaml(text: string, file: string): ParsedYaml {
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: false, resolveKnownTags: false,
  });
  const source = new ConfigSource(file, doc, lines);
  const problems = [...doc.errors, ...doc.warnings].map((e) => ({ offset: e.pos[0], message: e.message.split('\n')[0] as string }));
  visit(doc, {
    Pair(_, pair) {
      if (pair.key !== null && !isScalar(pair.key)) problems.push({ offset: rangeStart(pair.key) ?? 0, message: 'a key must be a plain value, not a list or mapping' });
    },
  });
  if (problems.length > 0) {
    const issues = problems.map((p) => {
      const { line, col } = lines.linePos(p.offset);
      return { file, line: Math.max(line, 1), column: Math.max(col, 1), path: '', message: `YAML: ${p.message}` };
    });
    return { source, value: undefined, issues };
  }
  try {
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    return { source, value: value ?? {}, issues: [] };
  } catch (e) {
    return { source, value: undefined, issues: [source.issue([], `YAML: ${(e as Error).message}`)] };
  }
}

/** For errors that are not about the file's content (CLI flags, an unreadable file). */
export function positionlessSource(file: string): ConfigSource {
  return new ConfigSource(file, undefined, new LineCounter());
}
