/**
 * The local users file: its format, its file:line:column errors, and LocalUsersVerifier through full
 * PPP exchanges (PAP, CHAP-MD5, MS-CHAPv2) of src/ppp/auth.
 */
import { writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalUsersFileError, LocalUsersVerifier, parseLocalUsers } from '../../src/aaa/index.js';
import { createAuthClient, createAuthServer, type AuthProtocolName, type AuthResult, type CredentialVerifier } from '../../src/ppp/auth/index.js';
import { tokenize } from '../../src/aaa/local-users.js';
import { makeTempDir } from '../support/tmp.js';

const FILE = `
# user      password          options
alice       s3cret
bob         "two words"       ip=198.18.1.20      # trailing comment
"carol x"   'p#ss'            pool=gold session-timeout=3600 idle-timeout=600
dave        "q\\"uote\\\\"    pool="silver lining"
erin        pw                route=198.18.200.0/24,198.18.201.7
`;

describe('parsing', () => {
  it('reads users, quoted tokens, options and comments', () => {
    const users = parseLocalUsers(FILE);
    expect([...users.keys()]).toEqual(['alice', 'bob', 'carol x', 'dave', 'erin']);
    expect(users.get('alice')).toMatchObject({ password: 's3cret', authorization: {}, line: 3 });
    expect(users.get('bob')).toMatchObject({ password: 'two words', authorization: { framedIpAddress: '198.18.1.20' } });
    expect(users.get('carol x')).toMatchObject({ password: 'p#ss', authorization: { framedPool: 'gold', sessionTimeout: 3600, idleTimeout: 600 } });
    expect(users.get('dave')).toMatchObject({ password: 'q"uote\\', authorization: { framedPool: 'silver lining' } });
    expect(users.get('erin')!.authorization.framedRoutes!.map((r) => r.prefix)).toEqual(['198.18.200.0/24', '198.18.201.7/32']);
  });

  it('reports every problem with file:line:column', () => {
    const text = ['ok pass', 'nopass', 'x y ip=300.1.1.1', 'ok again', 'z "unterminated', 'w p colour=blue', 'v p ip=1.2.3.4 ip=1.2.3.5', 'u p route=198.18.0.0/15,nowhere'].join('\n');
    let err: LocalUsersFileError | undefined;
    try {
      parseLocalUsers(text, '/etc/l2tpd/users');
    } catch (e) {
      err = e as LocalUsersFileError;
    }
    expect(err).toBeInstanceOf(LocalUsersFileError);
    expect(err!.message.split('\n')).toEqual([
      '/etc/l2tpd/users:2:7: user "nopass" has no password',
      '/etc/l2tpd/users:3:5: ip: "300.1.1.1" is not an IPv4 address',
      '/etc/l2tpd/users:4:1: user "ok" already defined on line 1',
      '/etc/l2tpd/users:5:3: unterminated " quote',
      '/etc/l2tpd/users:6:5: unknown option "colour=blue" (expected ip=, pool=, session-timeout=, idle-timeout=, route=)',
      '/etc/l2tpd/users:7:16: option ip given twice',
      '/etc/l2tpd/users:8:5: route: "nowhere" is not a prefix like 198.18.200.0/24',
    ]);
  });
});

async function pppAuth(protocol: AuthProtocolName, user: string, password: string, v: CredentialVerifier): Promise<{ server: AuthResult; client: AuthResult }> {
  return new Promise((resolve) => {
    let s: AuthResult | undefined;
    let c: AuthResult | undefined;
    const check = (): void => {
      if (s && c) resolve({ server: s, client: c });
    };
    const server = createAuthServer(protocol, (_p, pkt) => setImmediate(() => peer.receive(pkt)), v, (r) => ((s = r), check()));
    const peer = createAuthClient(protocol, (_p, pkt) => setImmediate(() => server.receive(pkt)), { user, password }, (r) => ((c = r), check()));
    peer.start();
    server.start();
  });
}

describe('LocalUsersVerifier', () => {
  const verifier = new LocalUsersVerifier(parseLocalUsers(FILE));

  for (const protocol of ['pap', 'chap', 'mschapv2'] as const) {
    it(`${protocol}: right password accepted with the user's options, wrong one refused`, async () => {
      const good = await pppAuth(protocol, 'bob', 'two words', verifier);
      expect(good.server).toMatchObject({ ok: true, attributes: { framedIpAddress: '198.18.1.20', outcome: 'accept' } });
      expect(good.client.ok).toBe(true);
      const bad = await pppAuth(protocol, 'bob', 'two word', verifier);
      expect(bad.server.ok).toBe(false);
      expect(bad.client.ok).toBe(false);
      expect((await pppAuth(protocol, 'nobody', 'two words', verifier)).server.ok).toBe(false);
    });
  }

  it('loads from a file and reload keeps the old users when the new file is broken', async () => {
    const tmp = await makeTempDir();
    try {
      const file = tmp.file('users');
      await writeFile(file, 'alice s3cret\n');
      const v = await LocalUsersVerifier.fromFile(file);
      expect((await v.verify({ protocol: 'pap', user: 'alice', password: 's3cret' })).ok).toBe(true);
      await writeFile(file, 'alice s3cret\nbroken\n');
      await expect(v.reload()).rejects.toThrow(`${file}:2:7`);
      expect((await v.verify({ protocol: 'pap', user: 'alice', password: 's3cret' })).ok).toBe(true);
      await writeFile(file, 'eve other\n');
      await v.reload();
      expect((await v.verify({ protocol: 'pap', user: 'alice', password: 's3cret' })).ok).toBe(false);
      expect((await v.verify({ protocol: 'pap', user: 'eve', password: 'other' })).ok).toBe(true);
    } finally {
      await tmp.cleanup();
    }
  });
});

/** The tokenizer as first written (a character at a time, `\s` by regex): the reference for the fast one. */
function referenceTokenize(line: string): { text: string; column: number }[] {
  const tokens: { text: string; column: number }[] = [];
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

describe('users file tokenizer', () => {
  it('splits every line as the reference does: blanks (all of \\s), quotes, escapes, comments (property)', () => {
    const piece = fc.constantFrom('a', 'b', 'Z', '9', '@', '.', '=', ',', '#', '"', "'", '\\', ' ', '\t', '\u00a0', '\u2003', '\u3000', '\ufeff', 'é', '😀');
    const lines = fc.array(piece, { maxLength: 40 }).map((a) => a.join(''));
    fc.assert(
      fc.property(lines, (line) => {
        let want: unknown;
        try {
          want = referenceTokenize(line);
        } catch (e) {
          want = { threw: e };
        }
        let got: unknown;
        try {
          got = tokenize(line);
        } catch (e) {
          got = { threw: e };
        }
        expect(got).toEqual(want);
      }),
      { numRuns: 3000 },
    );
  });
});
