/**
 * The CHAP exchange (RFC 1994 §4), shared by CHAP-MD5 (chap.ts) and MS-CHAPv2 (mschapv2-proto.ts), which differ
 * only in what the Response Value is and what Success and Failure say.
 *
 * Server (authenticator)
 *   initial | decided    start()                         → challenged (new Identifier and Value, send Challenge)
 *   challenged           timeout()                       → challenged (the SAME Challenge again)
 *   challenged           timeout() × maxTransmissions    → gaveUp (result: failed)
 *   challenged           Response, current Identifier    → verifying (ask the verifier)
 *                        ... unusable Value              → failed (Failure, result)
 *   verifying            Response, current Identifier    → verifying (duplicate: the answer is on its way)
 *   verifying            verdict                         → succeeded | failed (Success | Failure, result)
 *   succeeded | failed   Response, current Identifier    → the same reply packet again (§4.1 MUST: "the same
 *                                                           reply Code previously returned for that Challenge")
 *   any                  Response, other Identifier      → discarded
 * A retransmitted Challenge keeps its Identifier and Value, as pppd and accel-ppp do: a late Response to it still
 * matches. (§4.1 asks for a new Identifier and Value "each time a Challenge is sent", read here as each new
 * challenge round: start().) start() after a decision is a re-challenge (§2 step 4) and yields a new result.
 *
 * Client (peer)
 *   initial              start()                         → waiting
 *   waiting | responded | succeeded
 *                        Challenge seen before (same Id and Value) → our stored Response again
 *   waiting | responded | succeeded
 *                        new Challenge                   → responded (compute and send a Response; after
 *                                                           success this is a re-challenge, a new round)
 *   responded            timeout()                       → responded (our Response again: the Success may be
 *                                                           lost, and the authenticator does not repeat it)
 *   responded            Success | Failure, our Id       → succeeded | failed (result)
 *   waiting | responded  timeout() × maxTransmissions    → gaveUp (result: failed)
 *   failed | gaveUp      anything                        → discarded: the engine is tearing the link down
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
import { ChapCode, decodeChap, encodeChap, type ChapPacket } from './packets.js';
import { PPP_CHAP, type AuthClient, type AuthRequest, type AuthResult, type AuthServer, type AuthVerdict, type CredentialVerifier, type SendAuthPacket } from './types.js';

/** Default Name in our Challenges. */
export const DEFAULT_AUTHENTICATOR_NAME = 'l2tpd';

export type ChapServerState = 'initial' | 'challenged' | 'verifying' | 'succeeded' | 'failed' | 'gaveUp' | 'stopped';

function decodeOrDiscard(packet: Buffer, discard: (e: PppAuthError) => void): ChapPacket | undefined {
  try {
    return decodeChap(packet);
  } catch (error) {
    if (error instanceof PppAuthError) {
      discard(error);
      return undefined;
    }
    throw error;
  }
}

export abstract class ChapServerBase implements AuthServer {
  abstract readonly name: 'chap' | 'mschapv2';
  protected abstract readonly challengeOctets: number;
  /** The verifier's question for a Response Value; throws PppAuthError if the Value cannot be one. */
  protected abstract toRequest(user: string, id: number, challenge: Buffer, value: Buffer): AuthRequest;
  /**
   * The Success Message field for an accepting verdict, `text` being its human-readable part; undefined if the
   * verdict cannot make a valid Success (MS-CHAPv2 without an authenticator response): the peer then gets Failure.
   */
  protected abstract successMessage(verdict: AuthVerdict, text: string): string | undefined;
  /** The Failure Message field, `text` being its human-readable part. */
  protected abstract failureMessage(text: string, challenge: Buffer): string;
  protected abstract readonly defaultSuccessText: string;
  protected abstract readonly defaultFailureText: string;

  private current: ChapServerState = 'initial';
  private id: number | undefined;
  private challenge: Buffer = Buffer.alloc(0);
  private challengePacket: Buffer = Buffer.alloc(0);
  private transmissions = 0;
  private reply: Buffer | undefined;
  private round = 0;
  private readonly maxTransmissions: number;
  private readonly random: (octets: number) => Buffer;
  private readonly ourName: Buffer;

  constructor(
    private readonly send: SendAuthPacket,
    private readonly verifier: CredentialVerifier,
    private readonly onResult: (r: AuthResult) => void,
    private readonly options: AuthServerOptions = {},
  ) {
    this.maxTransmissions = maxTransmissions(options);
    this.random = randomSource(options);
    this.ourName = Buffer.from(options.name ?? DEFAULT_AUTHENTICATOR_NAME, 'utf8');
  }

  get state(): ChapServerState {
    return this.current;
  }

  start(): void {
    if (this.current === 'stopped') return;
    this.round++;
    this.id = this.id === undefined ? this.random(1)[0]! : (this.id + 1) & 0xff;
    this.challenge = Buffer.from(this.random(this.challengeOctets));
    this.challengePacket = encodeChap({ code: ChapCode.Challenge, id: this.id, value: this.challenge, name: this.ourName });
    this.reply = undefined;
    this.transmissions = 0;
    this.current = 'challenged';
    this.transmit();
  }

  receive(packet: Buffer): void {
    const p = decodeOrDiscard(packet, (e) => this.discard(e));
    if (p === undefined) return;
    if (p.code !== ChapCode.Response) return this.discard(new PppAuthError(`code ${p.code} is for the peer, not the authenticator`, 'chap.code', 0));
    if (this.current === 'initial' || this.current === 'gaveUp' || this.current === 'stopped') {
      return this.discard(new PppAuthError(`Response in state ${this.current}`, 'chap.code', 0));
    }
    if (p.id !== this.id) return this.discard(new PppAuthError(`Identifier ${p.id} is not the current Challenge's ${this.id}`, 'chap.identifier', 1));
    switch (this.current) {
      case 'challenged':
        return this.verify(p.id, p.value, peerText(p.name));
      case 'verifying':
        return this.discard(new PppAuthError('duplicate Response while the first is being verified', 'chap.identifier', 1));
      default:
        return this.send(PPP_CHAP, this.reply!);
    }
  }

  timeout(): void {
    if (this.current !== 'challenged') return;
    if (this.transmissions >= this.maxTransmissions) {
      this.current = 'gaveUp';
      this.onResult({ ok: false, message: 'No Response to the Challenge' });
      return;
    }
    this.transmit();
  }

  stop(): void {
    this.round++;
    this.current = 'stopped';
  }

  private transmit(): void {
    this.transmissions++;
    this.send(PPP_CHAP, this.challengePacket);
  }

  private verify(id: number, value: Buffer, user: string): void {
    let request: AuthRequest;
    try {
      request = this.toRequest(user, id, this.challenge, value);
    } catch (error) {
      if (!(error instanceof PppAuthError)) throw error;
      // §4.1: every Response gets a Success or a Failure; one we cannot even check is a Failure.
      return this.decide(user, { ok: false, message: `Malformed Response: ${error.message}` });
    }
    this.current = 'verifying';
    const round = this.round;
    askVerifier(this.verifier, request, this.options.onVerifierError, (verdict) => {
      if (round === this.round && this.current === 'verifying') this.decide(user, verdict);
    });
  }

  private decide(user: string, verdict: AuthVerdict): void {
    const success = verdict.ok ? this.successMessage(verdict, verdict.message ?? this.defaultSuccessText) : undefined;
    const ok = success !== undefined;
    const text = ok
      ? (verdict.message ?? this.defaultSuccessText)
      : verdict.ok
        ? 'The verifier accepted but gave no authenticator response'
        : (verdict.message ?? this.defaultFailureText);
    const message = success ?? this.failureMessage(text, this.challenge);
    this.reply = encodeChap({ code: ok ? ChapCode.Success : ChapCode.Failure, id: this.id!, message: Buffer.from(message, 'utf8') });
    this.current = ok ? 'succeeded' : 'failed';
    this.send(PPP_CHAP, this.reply);
    const result: AuthResult = { ok, user, message: text };
    if (verdict.attributes !== undefined && ok === verdict.ok) result.attributes = verdict.attributes;
    this.onResult(result);
  }

  private discard(reason: PppAuthError): void {
    this.options.onDiscard?.(reason);
  }
}

export type ChapClientState = 'initial' | 'waiting' | 'responded' | 'succeeded' | 'failed' | 'gaveUp' | 'stopped';

export abstract class ChapClientBase implements AuthClient {
  abstract readonly name: 'chap' | 'mschapv2';
  /** The Response Value for a Challenge; throws PppAuthError if the Challenge cannot be answered. */
  protected abstract responseValue(id: number, challenge: Buffer): Buffer;
  /** Why a Success does not prove the authenticator (MS-CHAPv2 §5), or undefined if it is fine. */
  protected abstract successProblem(message: Buffer): string | undefined;

  private current: ChapClientState = 'initial';
  private last: { id: number; challenge: Buffer; response: Buffer } | undefined;
  private expiries = 0;
  private readonly maxExpiries: number;
  protected readonly userOctets: Buffer;
  protected readonly random: (octets: number) => Buffer;

  constructor(
    private readonly send: SendAuthPacket,
    protected readonly credentials: AuthCredentials,
    private readonly onResult: (r: AuthResult) => void,
    private readonly options: AuthClientOptions = {},
  ) {
    // The Name field has no length octet of its own, but one of 255 octets is already beyond any real user name.
    this.userOctets = credentialOctets(credentials.user, 'chap.name', 255);
    this.maxExpiries = maxTransmissions(options);
    this.random = randomSource(options);
  }

  get state(): ChapClientState {
    return this.current;
  }

  start(): void {
    if (this.current === 'stopped') return;
    this.current = 'waiting';
    this.expiries = 0;
  }

  receive(packet: Buffer): void {
    const p = decodeOrDiscard(packet, (e) => this.discard(e));
    if (p === undefined) return;
    if (this.current !== 'waiting' && this.current !== 'responded' && this.current !== 'succeeded') {
      return this.discard(new PppAuthError(`packet in state ${this.current}`, 'chap.code', 0));
    }
    switch (p.code) {
      case ChapCode.Response:
        return this.discard(new PppAuthError('Response is for the authenticator', 'chap.code', 0));
      case ChapCode.Challenge:
        return this.answer(p.id, p.value);
      default:
        return this.conclude(p.code, p.id, p.message);
    }
  }

  timeout(): void {
    if (this.current !== 'waiting' && this.current !== 'responded') return;
    if (++this.expiries < this.maxExpiries) {
      // §4.1 "the authenticator MUST allow repeated Response packets": that is how a lost Success is recovered.
      if (this.current === 'responded') this.send(PPP_CHAP, this.last!.response);
      return;
    }
    const waitingFor = this.current === 'waiting' ? 'No Challenge' : 'No Success or Failure';
    this.current = 'gaveUp';
    this.onResult({ ok: false, user: this.credentials.user, message: `${waitingFor} from the authenticator` });
  }

  stop(): void {
    this.current = 'stopped';
  }

  private answer(id: number, challenge: Buffer): void {
    if (this.last !== undefined && this.last.id === id && this.last.challenge.equals(challenge)) {
      // The authenticator did not get our Response (its timer fired): repeat it, do not compute a new one.
      return this.send(PPP_CHAP, this.last.response);
    }
    let value: Buffer;
    try {
      value = this.responseValue(id, challenge);
    } catch (error) {
      if (error instanceof PppAuthError) return this.discard(error);
      throw error;
    }
    const response = encodeChap({ code: ChapCode.Response, id, value, name: this.userOctets });
    this.last = { id, challenge, response };
    this.current = 'responded';
    this.expiries = 0;
    this.send(PPP_CHAP, response);
  }

  private conclude(code: typeof ChapCode.Success | typeof ChapCode.Failure, id: number, message: Buffer): void {
    if (this.current !== 'responded') return this.discard(new PppAuthError(`reply in state ${this.current}`, 'chap.code', 0));
    if (id !== this.last!.id) return this.discard(new PppAuthError(`Identifier ${id} is not our Response's ${this.last!.id}`, 'chap.identifier', 1));
    const problem = code === ChapCode.Success ? this.successProblem(message) : undefined;
    const ok = code === ChapCode.Success && problem === undefined;
    this.current = ok ? 'succeeded' : 'failed';
    this.onResult({ ok, user: this.credentials.user, message: problem ?? peerText(message) });
  }

  private discard(reason: PppAuthError): void {
    this.options.onDiscard?.(reason);
  }
}
