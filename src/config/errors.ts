/**
 * Configuration errors. A config is accepted whole or refused whole: every problem found is collected
 * into one `ConfigError`, so an operator fixes them in one pass and a reload never half-applies.
 */

/** One problem, located in the file. `line`/`column` are 1-based; 0 when there is no position (CLI flags, I/O). */
export interface ConfigIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** Key path in the file's terms, e.g. `tunnel_profiles.edge.hello_interval` or `tunnels[0].sessions[1].type`. */
  readonly path: string;
  readonly message: string;
}

/** The file could not be read, parsed or validated. Nothing was applied. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const sorted = [...issues].sort(compareIssues);
    super(formatIssues(sorted));
    this.issues = sorted;
  }

  /** Human-readable report: one `file:line:col: path: message` line per issue, compiler style. */
  format(): string {
    return formatIssues(this.issues);
  }
}

/** A lookup by a profile name that the loaded configuration does not define. */
export class UnknownProfileError extends Error {
  override readonly name = 'UnknownProfileError';
  constructor(
    readonly kind: string,
    readonly profile: string,
  ) {
    super(`no ${kind} profile named "${profile}"`);
  }
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.column}` : i.file;
  return i.path === '' ? `${where}: ${i.message}` : `${where}: ${i.path}: ${i.message}`;
}

function formatIssues(issues: readonly ConfigIssue[]): string {
  const n = issues.length;
  const head = `${n} configuration error${n === 1 ? '' : 's'}; nothing was applied`;
  return [head, ...issues.map((i) => `  ${formatIssue(i)}`)].join('\n');
}

function compareIssues(a: ConfigIssue, b: ConfigIssue): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}
