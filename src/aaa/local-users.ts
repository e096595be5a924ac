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
  user: string;
  password: string;
  authorization: SessionAuthorization;
  /** Where it was defined, for messages. */
  line: number;
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

interface Token {
  text: string;
  column: number;
}

/** Splits one line into tokens; throws a problem (without line) on an unterminated quote. */
function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i]!)) i++;
    if (i >= line.length || line[i] === '#') break;
    const column = i + 1;
    let text = '';
    while (i < line.length && !/\s/.test(line[i]!)) {
      const ch = line[i]!;
      if (ch !== '"' && ch !== "'") {
        text += ch;
        i++;
        continue;
      }
      const start = i++;
      for (;;) {
        if (i >= line.length) throw { column: start + 1, message: `unterminated ${ch} quote` };
        const c = line[i++]!;
        if (c === ch) break;
        if (ch === '"' && c === '\\' && i < line.length) text += line[i++]!;
        else text += c;
      }
    }
    tokens.push({ text, column });
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
    const authorization: SessionAuthorization = {};
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
    if (previous === undefined) users.set(user.text, { user: user.text, password: password.text, authorization, line });
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
    const table = new Map([...users].map(([name, e]) => [name, { password: e.password, attributes: { ...e.authorization, outcome: 'accept' } }]));
    return new LocalVerifier(table);
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
