/**
 * With `--secret`, `l2tpctl decode` checks what the secret can check in a capture, so an operator can tell
 * "wrong secret" from "broken peer" without the daemon's logs:
 * - L2TPv2 (RFC 2661 §4.4.3, §5.1.1): each Challenge Response against the Challenge it answers. The Challenge
 *   comes in the SCCRQ or SCCRP of one side, keyed by the Assigned Tunnel ID it carries; the response comes in
 *   the other side's SCCRP or SCCCN, whose header names that same Tunnel ID.
 * - L2TPv3 (RFC 3931 §4.3, §5.4.1): each Message Digest. The SCCRQ's digest needs no nonce; every other message
 *   needs the sender's and the receiver's Control Message Authentication Nonce, learnt from SCCRQ and SCCRP and
 *   paired through the Assigned Control Connection IDs.
 * A response or digest whose counterpart is not in the capture (capture started late, hex input) stays unchecked.
 *
 * Ends of a control connection are keyed by "address|ID" so that two peers using the same IDs do not mix; for
 * hex input there is no address and the ID alone is the key.
 */
import {
  Avp,
  MessageTypes,
  challengeResponse,
  deriveV3AuthKey,
  v3DigestAlgorithmOf,
  verifyControlDigest,
  type AvpInstance,
  type DecodedControl,
  type Transport,
  type V3DigestNonces,
} from '../protocol/index.js';

interface Origin {
  src?: string | undefined;
  dst?: string | undefined;
  transport: Transport;
}

function key(addr: string | undefined, id: number): string {
  return `${addr ?? ''}|${id}`;
}

function first(avps: readonly AvpInstance[], type: number): AvpInstance | undefined {
  return avps.find((a) => a.vendorId === 0 && a.type === type && a.undecoded === undefined);
}

/** What the secret said about one AVP: keyed by the AVP object the codec returned. */
export type Verdicts = Map<AvpInstance, boolean>;

export class AuthTracker {
  /** v2: the Challenge each end sent, by that end's address and Assigned Tunnel ID. */
  private readonly challenges = new Map<string, Buffer>();
  /** v3: each end's nonce (empty when it sent none), by its address and Assigned Control Connection ID. */
  private readonly nonces = new Map<string, Buffer>();
  /** v3: the other end of a control connection, both ways. */
  private readonly peers = new Map<string, string>();
  private readonly v3Key: Buffer | undefined;

  constructor(private readonly secret: Buffer | undefined) {
    this.v3Key = secret ? deriveV3AuthKey(secret) : undefined;
  }

  /**
   * Learns from a decoded control message and returns the verdicts on its Challenge Response / Message Digest.
   * `packet` is the buffer the codec decoded `d` from.
   */
  observe(d: DecodedControl, origin: Origin, packet: Buffer): Verdicts {
    const verdicts: Verdicts = new Map();
    const m = d.message;
    if (m.messageType === undefined) return verdicts;
    if (m.version === 2) this.observeV2(d, origin, verdicts);
    else this.observeV3(d, origin, packet, verdicts);
    return verdicts;
  }

  private observeV2(d: DecodedControl, o: Origin, verdicts: Verdicts): void {
    const m = d.message;
    const type = m.messageType!;
    const challenge = first(m.avps, Avp.Challenge.type);
    const assigned = first(m.avps, Avp.AssignedTunnelId.type);
    if (challenge && assigned && (type === MessageTypes.SCCRQ || type === MessageTypes.SCCRP)) {
      this.challenges.set(key(o.src, assigned.value as number), challenge.value as Buffer);
    }
    const response = first(m.avps, Avp.ChallengeResponse.type);
    if (!response || !this.secret) return;
    // The responder's header carries the challenger's Assigned Tunnel ID.
    const sent = this.challenges.get(key(o.dst, m.tunnelId));
    if (!sent || sent.length === 0) return;
    const expected = challengeResponse(type & 0xff, this.secret, sent);
    verdicts.set(response, expected.equals(response.value as Buffer));
  }

  private observeV3(d: DecodedControl, o: Origin, packet: Buffer, verdicts: Verdicts): void {
    const m = d.message;
    const type = m.messageType!;
    const assigned = first(m.avps, Avp.AssignedControlConnectionId.type);
    if (assigned && (type === MessageTypes.SCCRQ || type === MessageTypes.SCCRP)) {
      const nonce = first(m.avps, Avp.ControlMessageAuthenticationNonce.type);
      const me = key(o.src, assigned.value as number);
      this.nonces.set(me, nonce ? (nonce.value as Buffer) : Buffer.alloc(0));
      if (type === MessageTypes.SCCRP) {
        // The SCCRP is sent to the SCCRQ's sender, whose CCID is in the header.
        const them = key(o.dst, m.tunnelId);
        this.peers.set(me, them);
        this.peers.set(them, me);
      }
    }
    const digestAvp = first(m.avps, Avp.MessageDigest.type);
    if (!digestAvp || !this.v3Key || d.digestOffset === undefined) return;
    const { digestType } = digestAvp.value as { digestType: number };
    const algorithm = v3DigestAlgorithmOf(digestType);
    if (!algorithm) return void verdicts.set(digestAvp, false);
    let nonces: V3DigestNonces;
    if (type === MessageTypes.SCCRQ) {
      nonces = { kind: 'sccrq' };
    } else {
      const receiver = key(o.dst, m.tunnelId);
      const sender = this.peers.get(receiver);
      const receiverNonce = this.nonces.get(receiver);
      const senderNonce = sender === undefined ? undefined : this.nonces.get(sender);
      if (!receiverNonce || !senderNonce) return;
      nonces = { kind: 'exchanged', senderNonce, receiverNonce };
    }
    try {
      verdicts.set(digestAvp, verifyControlDigest(packet, d, { algorithm, key: this.v3Key, nonces }, o.transport));
    } catch {
      verdicts.set(digestAvp, false);
    }
  }
}
