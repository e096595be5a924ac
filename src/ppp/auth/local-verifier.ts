/**
 * A CredentialVerifier over a table of users with cleartext passwords (the AAA layer's local users file), for
 * PAP, CHAP-MD5 and MS-CHAPv2. CHAP and MS-CHAPv2 need the cleartext (or, for MS-CHAPv2, the NT hash): the
 * Response is checked by computing the expected one.
 *
 * An unknown user and a wrong password get the same verdict, so the answer does not tell which user names exist.
 * Comparisons run in constant time. A request whose fields have the wrong sizes is refused, never thrown.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { chapMd5Response } from './chap.js';
import { PppAuthError } from './errors.js';
import { generateAuthenticatorResponse, generateNtResponse, userNameWithoutDomain } from './mschapv2.js';
import type { AuthRequest, AuthVerdict, CredentialVerifier } from './types.js';

export interface LocalUser {
  readonly password: string;
  /** Passed through in the verdict on success (Framed-IP-Address, Session-Timeout...). */
  readonly attributes?: Record<string, unknown>;
}

/** user → password, or user → { password, attributes }. */
export type LocalUsers = ReadonlyMap<string, string | LocalUser> | Readonly<Record<string, string | LocalUser>>;

export interface LocalVerifierOptions {
  /** Message of a refusing verdict; none by default, so each protocol's own wording is used. */
  readonly failureMessage?: string;
}

export class LocalVerifier implements CredentialVerifier {
  /** A Map is used as given (a users file of 100,000s is not copied per shard); a Record becomes one. */
  private readonly table: ReadonlyMap<string, string | LocalUser>;

  constructor(
    users: LocalUsers,
    private readonly options: LocalVerifierOptions = {},
  ) {
    this.table = users instanceof Map ? users : new Map(Object.entries(users));
  }

  private user(name: string): LocalUser | undefined {
    const u = this.table.get(name);
    return typeof u === 'string' ? { password: u } : u;
  }

  async verify(req: AuthRequest): Promise<AuthVerdict> {
    try {
      return this.check(req);
    } catch (error) {
      if (error instanceof PppAuthError) return this.refuse();
      throw error;
    }
  }

  private check(req: AuthRequest): AuthVerdict {
    switch (req.protocol) {
      case 'pap': {
        const user = this.user(req.user);
        // Hash both sides so the comparison takes the same time whatever the lengths.
        const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
        const ok = user !== undefined && timingSafeEqual(digest(user.password), digest(req.password));
        return ok ? this.accept(user) : this.refuse();
      }
      case 'chap': {
        const user = this.user(req.user);
        if (user === undefined) return this.refuse();
        const expected = chapMd5Response(req.id, Buffer.from(user.password, 'utf8'), req.challenge);
        const ok = req.response.length === expected.length && timingSafeEqual(expected, req.response);
        return ok ? this.accept(user) : this.refuse();
      }
      case 'mschapv2': {
        // A Windows peer may send "DOMAIN\user": the users file names the user alone.
        const user = this.user(req.user) ?? this.user(userNameWithoutDomain(req.user));
        if (user === undefined) return this.refuse();
        const expected = generateNtResponse(req.authenticatorChallenge, req.peerChallenge, req.user, user.password);
        if (req.ntResponse.length !== expected.length || !timingSafeEqual(expected, req.ntResponse)) return this.refuse();
        const authenticatorResponse = generateAuthenticatorResponse(user.password, expected, req.peerChallenge, req.authenticatorChallenge, req.user);
        return { ...this.accept(user), authenticatorResponse };
      }
    }
  }

  private accept(user: LocalUser): AuthVerdict {
    return user.attributes === undefined ? { ok: true } : { ok: true, attributes: user.attributes };
  }

  private refuse(): AuthVerdict {
    return this.options.failureMessage === undefined ? { ok: false } : { ok: false, message: this.options.failureMessage };
  }
}
