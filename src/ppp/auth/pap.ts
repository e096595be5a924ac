/**
 * PAP (RFC 1334 §2): the peer repeats Authenticate-Request until it gets an Ack or a Nak.
 *
 * Server (authenticator)            event                        → next
 *   initial                         start()                      → waiting
 *   waiting                         Authenticate-Request         → verifying (ask the verifier)
 *   waiting                         timeout() × maxTransmissions → gaveUp (result: failed)
 *   verifying                       same Peer-ID/Password again  → verifying (its Identifier is the one answered)
 *   verifying                       verdict                      → acked | naked (reply, result)
 *   acked | naked                   Authenticate-Request         → same Code and Message, the request's Identifier
 * The last line is pppd's behaviour: once decided, a retransmitted request (the peer missed our reply) gets the
 * same answer without asking the verifier again — and without a second result.
 *
 * Client (peer)
 *   initial      start()                          → requesting (send Authenticate-Request)
 *   requesting   timeout()                        → requesting (send again with a new Identifier, RFC 1334 §2.2.1:
 *                                                   "MUST be changed each time an Authenticate-Request is issued")
 *   requesting   timeout() × maxTransmissions     → gaveUp (result: failed)
 *   requesting   Ack | Nak for any of our Ids     → acked | naked (result)
 * A reply may answer any request of this exchange: they all carry the same credentials.
 */
import {
  askVerifier,
  credentialOctets,
  maxTransmissions,
  peerText,
  randomSource,
  type AuthClientOptions,
  type AuthCredentials,
  type AuthServerOptions,
} from './common.js';
import { PppAuthError } from './errors.js';
import { decodePap, encodePap, messageOctets, PAP_FIELD_MAX_OCTETS, PapCode, type PapPacket } from './packets.js';
import { PPP_PAP, type AuthClient, type AuthResult, type AuthServer, type AuthVerdict, type CredentialVerifier, type SendAuthPacket } from './types.js';

export const PAP_ACK_MESSAGE = 'Login ok';
export const PAP_NAK_MESSAGE = 'Login incorrect';

export type PapServerState = 'initial' | 'waiting' | 'verifying' | 'acked' | 'naked' | 'gaveUp' | 'stopped';

export class PapServer implements AuthServer {
  readonly name = 'pap' as const;
  private current: PapServerState = 'initial';
  private expiries = 0;
  /** Bumped by start() and stop(): a verdict for an older round is dropped. */
  private round = 0;
  private request: { peerId: Buffer; password: Buffer; latestId: number } | undefined;
  private reply: { code: typeof PapCode.AuthenticateAck | typeof PapCode.AuthenticateNak; message: Buffer } | undefined;
  private readonly maxExpiries: number;

  constructor(
    private readonly send: SendAuthPacket,
    private readonly verifier: CredentialVerifier,
    private readonly onResult: (r: AuthResult) => void,
    private readonly options: AuthServerOptions = {},
  ) {
    this.maxExpiries = maxTransmissions(options);
  }

  get state(): PapServerState {
    return this.current;
  }

  start(): void {
    if (this.current === 'stopped') return;
    this.round++;
    this.current = 'waiting';
    this.expiries = 0;
    this.request = undefined;
    this.reply = undefined;
  }

  receive(packet: Buffer): void {
    let p: PapPacket;
    try {
      p = decodePap(packet);
    } catch (error) {
      if (error instanceof PppAuthError) return this.discard(error);
      throw error;
    }
    if (p.code !== PapCode.AuthenticateRequest) return this.discard(new PppAuthError(`code ${p.code} is for the peer, not the authenticator`, 'pap.code', 0));
    switch (this.current) {
      case 'waiting':
        this.current = 'verifying';
        this.request = { peerId: p.peerId, password: p.password, latestId: p.id };
        return this.verify(p.peerId, p.password);
      case 'verifying':
        if (!p.peerId.equals(this.request!.peerId) || !p.password.equals(this.request!.password)) {
          return this.discard(new PppAuthError('a different Peer-ID/Password while the first is being verified', 'pap.peerId', 5));
        }
        this.request!.latestId = p.id;
        return;
      case 'acked':
      case 'naked':
        return this.send(PPP_PAP, encodePap({ code: this.reply!.code, id: p.id, message: this.reply!.message }));
      default:
        return this.discard(new PppAuthError(`Authenticate-Request in state ${this.current}`, 'pap.code', 0));
    }
  }

  timeout(): void {
    if (this.current !== 'waiting') return;
    if (++this.expiries < this.maxExpiries) return;
    this.current = 'gaveUp';
    this.onResult({ ok: false, message: 'No Authenticate-Request from the peer' });
  }

  stop(): void {
    this.round++;
    this.current = 'stopped';
  }

  private verify(peerId: Buffer, password: Buffer): void {
    const round = this.round;
    const user = peerText(peerId);
    askVerifier(this.verifier, { protocol: 'pap', user, password: peerText(password) }, this.options.onVerifierError, (verdict) => {
      if (round === this.round && this.current === 'verifying') this.decide(user, verdict);
    });
  }

  private decide(user: string, verdict: AuthVerdict): void {
    const text = verdict.message ?? (verdict.ok ? PAP_ACK_MESSAGE : PAP_NAK_MESSAGE);
    const code = verdict.ok ? PapCode.AuthenticateAck : PapCode.AuthenticateNak;
    this.reply = { code, message: messageOctets(text, PAP_FIELD_MAX_OCTETS) };
    this.current = verdict.ok ? 'acked' : 'naked';
    const id = this.request!.latestId;
    // The answer to retransmissions needs only the reply: do not keep the subscriber's cleartext
    // password in memory for the life of the session.
    this.request!.password.fill(0);
    this.request = undefined;
    this.send(PPP_PAP, encodePap({ code, id, message: this.reply.message }));
    this.onResult(result(verdict.ok, user, text, verdict.attributes));
  }

  private discard(reason: PppAuthError): void {
    this.options.onDiscard?.(reason);
  }
}

export type PapClientState = 'initial' | 'requesting' | 'acked' | 'naked' | 'gaveUp' | 'stopped';

export class PapClient implements AuthClient {
  readonly name = 'pap' as const;
  private current: PapClientState = 'initial';
  private id = 0;
  private readonly sentIds = new Set<number>();
  private transmissions = 0;
  private readonly peerId: Buffer;
  private readonly password: Buffer;
  private readonly maxTransmissions: number;

  constructor(
    private readonly send: SendAuthPacket,
    private readonly credentials: AuthCredentials,
    private readonly onResult: (r: AuthResult) => void,
    private readonly options: AuthClientOptions = {},
  ) {
    this.peerId = credentialOctets(credentials.user, 'pap.peerId', PAP_FIELD_MAX_OCTETS);
    this.password = credentialOctets(credentials.password, 'pap.password', PAP_FIELD_MAX_OCTETS);
    this.maxTransmissions = maxTransmissions(options);
  }

  get state(): PapClientState {
    return this.current;
  }

  start(): void {
    if (this.current === 'stopped') return;
    this.current = 'requesting';
    this.sentIds.clear();
    this.transmissions = 0;
    this.id = randomSource(this.options)(1)[0]!;
    this.transmit();
  }

  receive(packet: Buffer): void {
    let p: PapPacket;
    try {
      p = decodePap(packet);
    } catch (error) {
      if (error instanceof PppAuthError) return this.discard(error);
      throw error;
    }
    if (p.code === PapCode.AuthenticateRequest) return this.discard(new PppAuthError('Authenticate-Request is for the authenticator', 'pap.code', 0));
    if (this.current !== 'requesting') return this.discard(new PppAuthError(`reply in state ${this.current}`, 'pap.code', 0));
    if (!this.sentIds.has(p.id)) return this.discard(new PppAuthError(`Identifier ${p.id} answers none of our requests`, 'pap.identifier', 1));
    const ok = p.code === PapCode.AuthenticateAck;
    this.current = ok ? 'acked' : 'naked';
    this.onResult(result(ok, this.credentials.user, peerText(p.message)));
  }

  timeout(): void {
    if (this.current !== 'requesting') return;
    if (this.transmissions >= this.maxTransmissions) {
      this.current = 'gaveUp';
      this.onResult({ ok: false, user: this.credentials.user, message: 'No reply to Authenticate-Request' });
      return;
    }
    this.id = (this.id + 1) & 0xff;
    this.transmit();
  }

  stop(): void {
    this.current = 'stopped';
  }

  private transmit(): void {
    this.transmissions++;
    this.sentIds.add(this.id);
    this.send(PPP_PAP, encodePap({ code: PapCode.AuthenticateRequest, id: this.id, peerId: this.peerId, password: this.password }));
  }

  private discard(reason: PppAuthError): void {
    this.options.onDiscard?.(reason);
  }
}

function result(ok: boolean, user: string, message: string, attributes?: Record<string, unknown>): AuthResult {
  return attributes === undefined ? { ok, user, message } : { ok, user, message, attributes };
}
