/**
 * A tiny PAP (RFC 1334 §2) of the tests' own, so engine tests do not depend on src/ppp/auth:
 * the server asks the verifier about each Authenticate-Request and answers Ack/Nak; the client
 * sends its request on start() and on every timeout().
 */
import type { AuthClient, AuthRequest, AuthResult, AuthServer, AuthVerdict, CredentialVerifier, SendAuthPacket } from '../../../src/ppp/auth/types.js';
import { PPP_PAP } from '../../../src/ppp/auth/types.js';
import type { AuthClientFactory, AuthServerFactory } from '../../../src/ppp/types.js';

function packet(code: number, id: number, fields: Buffer[]): Buffer {
  const body = Buffer.concat(fields.flatMap((f) => [Buffer.from([f.length]), f]));
  const out = Buffer.alloc(4 + body.length);
  out[0] = code;
  out[1] = id;
  out.writeUInt16BE(out.length, 2);
  body.copy(out, 4);
  return out;
}

export class FakePapServer implements AuthServer {
  readonly name = 'pap' as const;
  started = 0;
  stopped = 0;
  requests = 0;
  constructor(
    private readonly send: SendAuthPacket,
    private readonly verifier: CredentialVerifier,
    private readonly onResult: (r: AuthResult) => void,
  ) {}
  start(): void {
    this.started++;
  }
  receive(p: Buffer): void {
    if (p.length < 6 || p[0] !== 1) return;
    const ulen = p[4]!;
    const user = p.subarray(5, 5 + ulen).toString();
    const plen = p[5 + ulen] ?? 0;
    const password = p.subarray(6 + ulen, 6 + ulen + plen).toString();
    const id = p[1]!;
    this.requests++;
    void this.verifier.verify({ protocol: 'pap', user, password }).then((v) => {
      if (this.stopped) return;
      this.send(PPP_PAP, packet(v.ok ? 2 : 3, id, [Buffer.from(v.message ?? '')]));
      this.onResult({ ok: v.ok, user, ...(v.message ? { message: v.message } : {}), ...(v.attributes ? { attributes: v.attributes } : {}) });
    });
  }
  timeout(): void {}
  stop(): void {
    this.stopped++;
  }
}

export class FakePapClient implements AuthClient {
  readonly name = 'pap' as const;
  private id = 0;
  private done = false;
  constructor(
    private readonly send: SendAuthPacket,
    private readonly creds: { user: string; password: string },
    private readonly onResult: (r: AuthResult) => void,
  ) {}
  start(): void {
    this.request();
  }
  private request(): void {
    this.send(PPP_PAP, packet(1, ++this.id & 0xff, [Buffer.from(this.creds.user), Buffer.from(this.creds.password)]));
  }
  receive(p: Buffer): void {
    if (this.done || p.length < 4 || (p[0] !== 2 && p[0] !== 3)) return;
    this.done = true;
    this.onResult({ ok: p[0] === 2, user: this.creds.user });
  }
  timeout(): void {
    if (!this.done) this.request();
  }
  stop(): void {
    this.done = true;
  }
}

export const fakePapServer: { factory: AuthServerFactory; made: FakePapServer[] } = {
  made: [],
  factory: (name, send, verifier, onResult) => {
    if (name !== 'pap') throw new Error(`fake supports pap only, asked ${name}`);
    const s = new FakePapServer(send, verifier, onResult);
    fakePapServer.made.push(s);
    return s;
  },
};

export const fakePapClient: AuthClientFactory = (name, send, creds, onResult) => {
  if (name !== 'pap') throw new Error(`fake supports pap only, asked ${name}`);
  return new FakePapClient(send, creds, onResult);
};

/** Users and passwords; a user's attributes are passed through. */
export class MapVerifier implements CredentialVerifier {
  readonly seen: AuthRequest[] = [];
  constructor(private readonly users: Record<string, { password: string; attributes?: Record<string, unknown> }>) {}
  async verify(req: AuthRequest): Promise<AuthVerdict> {
    this.seen.push(req);
    const u = this.users[req.user];
    if (req.protocol !== 'pap' || !u || u.password !== req.password) return { ok: false, message: 'Login incorrect' };
    return { ok: true, message: 'Login ok', ...(u.attributes ? { attributes: u.attributes } : {}) };
  }
}
