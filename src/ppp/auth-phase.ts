/**
 * The Authenticate phase (RFC 1661 §3.5) of one link: runs the AuthServer / AuthClient that
 * src/ppp/auth makes, drives its retransmissions with a timer on the injected Clock (bounded by
 * Max-Configure expiries even if the protocol never gives up), and reports one result per round.
 *
 * The exchange is kept after its result until stop(): a peer that missed our Ack/Success
 * retransmits, and the protocol answers it again (pppd does the same).
 *
 * Proxy authentication (RFC 2661 §4.4.5): the LAC's data goes to the verifier directly and the
 * answer to the subscriber is ours, with the LAC's Identifier.
 */
import type { AuthClient, AuthProtocolName, AuthRequest, AuthResult, AuthServer } from './auth/types.js';
import { encodeFrame } from './frame.js';
import { proxyAuthReply } from './proxy.js';
import type { PppEngineConfig, PppRole } from './types.js';

type AuthConfig = Pick<PppEngineConfig, 'authServer' | 'verifier' | 'authClient' | 'credentials' | 'clock' | 'restartMs' | 'maxConfigure'>;

export interface AuthPhaseOptions {
  role: PppRole;
  config: AuthConfig;
  emit(frame: Buffer): void;
  /** Once per round: success, the peer's refusal ('auth-failed') or no answer in time ('auth-timeout'). */
  done(r: AuthResult, cause: 'auth-failed' | 'auth-timeout'): void;
}

export class AuthPhase {
  private exchange: AuthServer | AuthClient | undefined;
  private timer: ReturnType<AuthConfig['clock']['setTimeout']> | undefined;
  private expiries = 0;
  /** Bumped by start/stop: a late result of an older round is dropped. */
  private round = 0;
  private decided = true;

  constructor(private readonly o: AuthPhaseOptions) {}

  /** Start a round with `name`; returns why it cannot (nothing configured for it). */
  start(name: AuthProtocolName): string | undefined {
    this.stop();
    const c = this.o.config;
    const round = ++this.round;
    const send = (protocol: number, packet: Buffer) => this.o.emit(encodeFrame(protocol, packet));
    const onResult = (r: AuthResult) => this.result(round, r, 'auth-failed');
    if (this.o.role === 'server' && c.authServer && c.verifier) this.exchange = c.authServer(name, send, c.verifier, onResult);
    else if (this.o.role === 'client' && c.authClient && c.credentials) this.exchange = c.authClient(name, send, c.credentials, onResult);
    else return `no ${name} ${this.o.role === 'server' ? 'authenticator' : 'credentials'} configured`;
    this.decided = false;
    this.expiries = 0;
    this.arm(round);
    this.exchange.start();
    return undefined;
  }

  /** Verify the LAC's proxy data and answer the subscriber ourselves. */
  verifyProxy(req: AuthRequest, agreed: AuthProtocolName, id: number): void {
    this.stop();
    const round = ++this.round;
    this.decided = false;
    const answer = (r: AuthResult) => {
      if (round !== this.round || this.decided) return;
      const reply = proxyAuthReply(agreed, id, r.ok, r.message ?? (r.ok ? 'Login ok' : 'Login incorrect'));
      this.o.emit(encodeFrame(reply.protocol, reply.packet));
      this.result(round, r, 'auth-failed');
    };
    const verifier = this.o.config.verifier;
    if (!verifier) return answer({ ok: false, message: 'no verifier configured' });
    // A verifier that throws or rejects refuses the peer; it must never become an unhandled rejection.
    void (async () => verifier.verify(req))().then(
      (v) => answer({ ok: v.ok, user: req.user, ...(v.message ? { message: v.message } : {}), ...(v.attributes ? { attributes: v.attributes } : {}) }),
      () => answer({ ok: false, message: 'verifier failed' }),
    );
  }

  /** A PAP/CHAP packet; false when no exchange takes it. */
  receive(packet: Buffer): boolean {
    if (!this.exchange) return false;
    this.exchange.receive(packet);
    return true;
  }

  stop(): void {
    this.round++;
    this.clearTimer();
    this.exchange?.stop();
    this.exchange = undefined;
    this.decided = true;
  }

  private result(round: number, r: AuthResult, cause: 'auth-failed' | 'auth-timeout'): void {
    if (round !== this.round || this.decided) return;
    this.decided = true;
    this.clearTimer();
    this.o.done(r, cause);
  }

  private arm(round: number): void {
    const c = this.o.config;
    this.timer = c.clock.setTimeout(() => {
      this.timer = undefined;
      if (round !== this.round || this.decided) return;
      if (++this.expiries > (c.maxConfigure ?? 10)) return this.result(round, { ok: false, message: 'authentication did not complete' }, 'auth-timeout');
      this.exchange?.timeout();
      if (round === this.round && !this.decided) this.arm(round);
    }, c.restartMs ?? 3000);
  }

  private clearTimer(): void {
    if (this.timer) this.o.config.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
