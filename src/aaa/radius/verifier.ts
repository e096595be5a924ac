/**
 * `RadiusVerifier`: the CredentialVerifier that asks RADIUS. PAP travels as a hidden User-Password
 * (RFC 2865 §5.2), CHAP as CHAP-Password + CHAP-Challenge (§5.3, §5.40), MS-CHAPv2 as the RFC 2548
 * MS-CHAP-Challenge + MS-CHAP2-Response vendor attributes; the MS-CHAP2-Success of an Access-Accept
 * carries the authenticator response the PPP Success packet needs (RFC 2759 §5).
 *
 * It never throws: an unreachable server or an unencodable request (a 300-octet user name) is a
 * verdict with ok=false and `outcome` saying which, so the daemon can pick the CDN result code.
 */
import type { AuthRequest, AuthVerdict, CredentialVerifier } from '../../ppp/auth/types.js';
import { RadiusCode } from './dictionary.js';
import { RadiusClosedError, RadiusEncodeError, RadiusTimeoutError } from './errors.js';
import type { RadiusClient } from './client.js';
import {
  authorizationFrom,
  nasAttributes,
  requireNasIdentity,
  sessionAttributes,
  type NasIdentity,
  type SessionAuthorization,
  type SessionContext,
} from './session-attrs.js';
import { getAll, getBuffer, type Attribute } from './values.js';

export interface RadiusVerifierOptions {
  nas: NasIdentity;
  /** Added to every Access-Request (operator-defined, e.g. a Connect-Info). */
  extraAttributes?: readonly Attribute[];
}

export type RadiusOutcome = 'accept' | 'reject' | 'challenge' | 'unavailable' | 'invalid';

/** What AuthVerdict.attributes holds for a RADIUS verdict. */
export type RadiusVerdictAttributes = SessionAuthorization & {
  outcome: RadiusOutcome;
  /** `host:port` of the server that answered. */
  server?: string;
  /** The whole reply, in order (vendor attributes included), for anything not lifted into fields. */
  reply?: Attribute[];
};

/** RFC 2548 §2.3.2: Ident, Flags, Peer-Challenge(16), Reserved(8), Response(24). */
export function msChap2Response(id: number, flags: number, peerChallenge: Buffer, ntResponse: Buffer): Buffer {
  if (peerChallenge.length !== 16 || ntResponse.length !== 24) {
    throw new RadiusEncodeError('MS-CHAPv2 needs a 16-octet peer challenge and a 24-octet NT-Response', 'MS-CHAP2-Response', -1);
  }
  return Buffer.concat([Buffer.from([id & 0xff, flags & 0xff]), peerChallenge, Buffer.alloc(8), ntResponse]);
}

export function credentialAttributes(req: AuthRequest): Attribute[] {
  switch (req.protocol) {
    case 'pap':
      return [['User-Password', req.password]];
    case 'chap':
      return [
        ['CHAP-Password', Buffer.concat([Buffer.from([req.id & 0xff]), req.response])],
        ['CHAP-Challenge', req.challenge],
      ];
    case 'mschapv2':
      return [
        ['MS-CHAP-Challenge', req.authenticatorChallenge],
        ['MS-CHAP2-Response', msChap2Response(req.id, req.flags, req.peerChallenge, req.ntResponse)],
      ];
  }
}

/** The text after the Ident octet of MS-CHAP2-Success / MS-CHAP-Error (RFC 2548 §2.3.3, §2.1.5). */
function identString(v: Buffer | undefined): string | undefined {
  return v === undefined || v.length < 2 ? undefined : v.subarray(1).toString('latin1');
}

export class RadiusVerifier implements CredentialVerifier {
  constructor(
    private readonly client: RadiusClient,
    private readonly opts: RadiusVerifierOptions,
    private readonly context: SessionContext = {},
  ) {
    requireNasIdentity(opts.nas);
  }

  /** A verifier bound to one session, so its Access-Requests carry NAS-Port, Calling/Called-Station-Id... */
  forSession(context: SessionContext): RadiusVerifier {
    return new RadiusVerifier(this.client, this.opts, context);
  }

  /** The Access-Request attributes for `req` (exposed for tests and `l2tpctl` tracing). */
  requestAttributes(req: AuthRequest): Attribute[] {
    return [
      ['User-Name', req.user],
      ...credentialAttributes(req),
      ['Service-Type', 'Framed-User'],
      ['Framed-Protocol', 'PPP'],
      ...nasAttributes(this.opts.nas),
      ...sessionAttributes(this.context),
      ...(this.opts.extraAttributes ?? []),
    ];
  }

  async verify(req: AuthRequest): Promise<AuthVerdict> {
    try {
      const reply = await this.client.request(RadiusCode.AccessRequest, this.requestAttributes(req));
      return this.verdict(req, reply.packet.code, reply.packet.attributes, reply.server);
    } catch (e) {
      if (e instanceof RadiusTimeoutError || e instanceof RadiusClosedError) {
        return { ok: false, message: 'authentication service unavailable', attributes: { outcome: 'unavailable' } satisfies RadiusVerdictAttributes };
      }
      if (e instanceof RadiusEncodeError) {
        return { ok: false, message: `credentials cannot be sent to RADIUS: ${e.message}`, attributes: { outcome: 'invalid' } satisfies RadiusVerdictAttributes };
      }
      throw e;
    }
  }

  private verdict(req: AuthRequest, code: number, reply: Attribute[], server: string): AuthVerdict {
    const replyMessage = getAll(reply, 'Reply-Message').map(String).join('\n') || undefined;
    const base = { server, reply };
    if (code === RadiusCode.AccessChallenge) {
      // A challenge (e.g. a token prompt) has no place in PPP authentication: treat as a refusal.
      return { ok: false, message: replyMessage ?? 'Access-Challenge is not supported', attributes: { outcome: 'challenge', ...base } satisfies RadiusVerdictAttributes };
    }
    if (code === RadiusCode.AccessReject) {
      // MS-CHAP-Error is a whole PPP Failure text ("E=691 R=1 C=... V=3 M=..."): the AuthServer builds its own
      // Failure around our message, so only its M= text is lifted (the raw attribute stays in `reply`).
      const msError = req.protocol === 'mschapv2' ? identString(getBuffer(reply, 'MS-CHAP-Error')) : undefined;
      const msText = msError === undefined ? undefined : / ?M=(.*)$/s.exec(msError)?.[1];
      return { ok: false, message: replyMessage ?? msText ?? 'Access-Reject', attributes: { outcome: 'reject', ...base } satisfies RadiusVerdictAttributes };
    }
    const attributes: RadiusVerdictAttributes = { outcome: 'accept', ...authorizationFrom(reply), ...base };
    if (req.protocol !== 'mschapv2') return { ok: true, ...(replyMessage ? { message: replyMessage } : {}), attributes };
    const success = identString(getBuffer(reply, 'MS-CHAP2-Success'));
    if (success === undefined || !/^S=[0-9A-F]{40}$/i.test(success.slice(0, 42))) {
      // Without the authenticator response the peer cannot authenticate us (RFC 2759 §5): it would hang up.
      return { ok: false, message: 'Access-Accept without a valid MS-CHAP2-Success', attributes: { ...attributes, outcome: 'invalid' } };
    }
    return { ok: true, authenticatorResponse: success.slice(0, 42), ...(replyMessage ? { message: replyMessage } : {}), attributes };
  }
}
