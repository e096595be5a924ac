/**
 * The local users file: an alternative to RADIUS for small deployments and tests.
 *
 * Format — one user per line, `#` starts a comment (at the start of a token), blank lines ignored:
 *
 *     # user      password          options
 *     alice       s3cret
 *     bob         "two words"       ip=198.18.1.20
 *     "carol x"   'p#ss'            pool=gold session-timeout=3600 idle-timeout=600
 *     dave        pw                route=198.18.200.0/24,198.18.201.0/24
 *
 * - Tokens are separated by blanks. A token may be quoted with "..." (backslash escapes \" and \\) or
 *   '...' (taken literally), so passwords may hold blanks and `#`. Quotes may also wrap an option's value.
 * - Options (all optional, each at most once): `ip=IPv4` (Framed-IP-Address), `pool=NAME` (Framed-Pool),
 *   `session-timeout=SECONDS`, `idle-timeout=SECONDS`, `route=PREFIX[,PREFIX...]` (Framed-Route: networks
 *   behind the subscriber, routed to its interface with the kernel data plane).
 * - Passwords are cleartext: CHAP and MS-CHAPv2 need them to compute the expected response.
 *   Keep the file mode 0600.
 *
 * Errors name `file:line:column` and why; all of a file's errors are reported at once, and a file with
 * any error is refused whole (a reload keeps the previous users).
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { LocalVerifier } from '../ppp/auth/local-verifier.js';
import type { AuthRequest, AuthVerdict, CredentialVerifier } from '../ppp/auth/types.js';
import { parseFramedRoute, type SessionAuthorization } from './radius/session-attrs.js';

export interface LocalUserEntry {
  readonly user: string;
  readonly password: string;
  readonly authorization: SessionAuthorization;
  /** Where it was defined, for messages. */
  readonly line: number;
  /** An accepting verdict's attributes: the authorization plus `outcome: 'accept'` (made when asked). */
  readonly attributes: Record<string, unknown>;
}

export interface LocalUsersProblem {
  line: number;
  column: number;
  message: string;
}

export class LocalUsersFileError extends Error {
  override readonly name = 'LocalUsersFileError';
  constructor(
    readonly file: string,
    readonly problems: readonly LocalUsersProblem[],
  ) {
    super(problems.map((p) => `${file}:${p.line}:${p.column}: ${p.message}`).join('\n'));
  }
}

export interface Token {
  text: string;
  column: number;
}

/** Shared by every user without options (most of a big file): one object, not one per user. */
const NO_OPTIONS: SessionAuthorization = Object.freeze({}) as SessionAuthorization;

/**
 * A parsed user; also what the verifier looks up (password, attributes): one object per user, no copies
 * into other tables. `attributes` (the verdict's) is made on acceptance, not kept for every user.
 */
class Entry implements LocalUserEntry {
  constructor(
    readonly user: string,
    readonly password: string,
    readonly authorization: SessionAuthorization,
    readonly line: number,
  ) {}

  get attributes(): Record<string, unknown> {
    return { ...this.authorization, outcome: 'accept' };
  }
}

const isBlank = (c: number): boolean => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029 || (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x202f || c === 0x205f || c === 0x3000;

/**
 * Splits one line into tokens; throws a problem (without line) on an unterminated quote. Blanks are what
 * `\s` matches. Unquoted runs are taken as slices, not built a character at a time: a name built by `+=`
 * is a rope of one-character strings (~30 bytes per character, kept for as long as the user is).
 */
export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    while (i < n && isBlank(line.charCodeAt(i))) i++;
    if (i >= n || line.charCodeAt(i) === 0x23 /* # */) break;
    const column = i + 1;
    const parts: string[] = [];
    while (i < n && !isBlank(line.charCodeAt(i))) {
      const ch = line.charCodeAt(i);
      if (ch !== 0x22 && ch !== 0x27) {
        const from = i;
        while (i < n) {
          const c = line.charCodeAt(i);
          if (c === 0x22 || c === 0x27 || isBlank(c)) break;
          i++;
        }
        parts.push(line.slice(from, i));
        continue;
      }
      const start = i++;
      for (;;) {
        if (i >= n) throw { column: start + 1, message: `unterminated ${line[start]} quote` };
        const c = line.charCodeAt(i++);
        if (c === ch) break;
        if (ch === 0x22 && c === 0x5c /* \ */ && i < n) parts.push(line[i++]!);
        else parts.push(line[i - 1]!);
      }
    }
    tokens.push({ text: parts.length === 1 ? parts[0]! : parts.join(''), column });
  }
  return tokens;
}

const OPTIONS: Record<string, (value: string, z: SessionAuthorization) => string | undefined> = {
  ip: (v, z) => {
    if (isIP(v) !== 4) return `ip: "${v}" is not an IPv4 address`;
    z.framedIpAddress = v;
    return undefined;
  },
  pool: (v, z) => {
    if (v === '') return 'pool: empty name';
    z.framedPool = v;
    return undefined;
  },
  'session-timeout': (v, z) => seconds(v, (n) => (z.sessionTimeout = n), 'session-timeout'),
  'idle-timeout': (v, z) => seconds(v, (n) => (z.idleTimeout = n), 'idle-timeout'),
  route: (v, z) => {
    const routes = v.split(',').map((t) => parseFramedRoute(t));
    const bad = routes.find((r) => r.prefix === undefined);
    if (bad) return `route: "${bad.text}" is not a prefix like 198.18.200.0/24`;
    z.framedRoutes = routes;
    return undefined;
  },
};

function seconds(v: string, set: (n: number) => void, key: string): string | undefined {
  if (!/^\d{1,10}$/.test(v) || Number(v) > 0xffffffff) return `${key}: "${v}" is not a number of seconds`;
  set(Number(v));
  return undefined;
}

/** Parses the text of a users file; `file` only names it in errors. */
export function parseLocalUsers(text: string, file = '<users>'): Map<string, LocalUserEntry> {
  const users = new Map<string, LocalUserEntry>();
  const problems: LocalUsersProblem[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    let tokens: Token[];
    try {
      tokens = tokenize(raw);
    } catch (p) {
      problems.push({ line, ...(p as { column: number; message: string }) });
      return;
    }
    if (tokens.length === 0) return;
    const [user, password, ...options] = tokens as [Token, Token | undefined, ...Token[]];
    if (password === undefined) {
      problems.push({ line, column: raw.length + 1, message: `user "${user.text}" has no password` });
      return;
    }
    if (user.text === '') problems.push({ line, column: user.column, message: 'empty user name' });
    const previous = users.get(user.text);
    if (previous !== undefined) {
      problems.push({ line, column: user.column, message: `user "${user.text}" already defined on line ${previous.line}` });
    }
    const authorization: SessionAuthorization = options.length > 0 ? {} : NO_OPTIONS;
    const seen = new Set<string>();
    for (const opt of options) {
      const eq = opt.text.indexOf('=');
      const key = eq < 0 ? opt.text : opt.text.slice(0, eq);
      const apply = OPTIONS[key];
      if (eq < 0 || apply === undefined) {
        problems.push({ line, column: opt.column, message: `unknown option "${opt.text}" (expected ${Object.keys(OPTIONS).map((k) => `${k}=`).join(', ')})` });
        continue;
      }
      if (seen.has(key)) problems.push({ line, column: opt.column, message: `option ${key} given twice` });
      seen.add(key);
      const why = apply(opt.text.slice(eq + 1), authorization);
      if (why !== undefined) problems.push({ line, column: opt.column, message: why });
    }
    if (previous === undefined) users.set(user.text, new Entry(user.text, password.text, authorization, line));
  });
  if (problems.length > 0) throw new LocalUsersFileError(file, problems);
  return users;
}

export async function loadLocalUsers(file: string): Promise<Map<string, LocalUserEntry>> {
  return parseLocalUsers(await readFile(file, 'utf8'), file);
}

/**
 * CredentialVerifier over a users file: PAP, CHAP-MD5 and MS-CHAPv2 are checked by src/ppp/auth's
 * LocalVerifier (the MS-CHAPv2 math lives there); an accepted verdict carries the user's options as a
 * SessionAuthorization (the same shape a RADIUS accept gives) plus `outcome: 'accept'`.
 */
export class LocalUsersVerifier implements CredentialVerifier {
  private verifier: LocalVerifier;
  private entries: Map<string, LocalUserEntry>;

  constructor(users: Map<string, LocalUserEntry>, private readonly file?: string) {
    this.entries = users;
    this.verifier = LocalUsersVerifier.wrap(users);
  }

  static async fromFile(file: string): Promise<LocalUsersVerifier> {
    return new LocalUsersVerifier(await loadLocalUsers(file), file);
  }

  private static wrap(users: Map<string, LocalUserEntry>): LocalVerifier {
    // The parsed entries are the verifier's table as they are (password, attributes made on acceptance): no copy.
    return new LocalVerifier(users);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Re-reads the file; on any error the current users stay and the error is thrown (SIGHUP semantics). */
  async reload(): Promise<void> {
    if (this.file === undefined) throw new Error('LocalUsersVerifier was not created from a file');
    const users = await loadLocalUsers(this.file);
    this.entries = users;
    this.verifier = LocalUsersVerifier.wrap(users);
  }

  async verify(req: AuthRequest): Promise<AuthVerdict> {
    const v = await this.verifier.verify(req);
    return v.ok ? v : { ...v, attributes: { outcome: 'reject' } };
  }
}
