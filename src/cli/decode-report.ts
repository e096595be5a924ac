/**
 * The structured result of `l2tpctl decode`: what decode-packet.ts fills in and decode-render.ts prints. The JSON
 * output mirrors these shapes (see decode-render.ts for the exact field names, which are an interface).
 */
import type { AvpSpec, AvpValue, MandatoryViolation, Transport } from '../protocol/index.js';
import type { EthernetInfo, PppInfo } from './decode-format.js';

export interface DecodeOptions {
  /** Tunnel shared secret: unhides hidden AVPs, checks Challenge Responses and Message Digests. */
  secret?: string | Uint8Array | undefined;
  /** How hex input arrived ('udp' unless told); a capture says it per packet. */
  transport?: Transport | undefined;
  /** L2TPv3 data framing from the command line; when given it wins over what the capture's ICRQ/ICRP said. */
  cookieLength?: number | undefined;
  l2SpecificSublayer?: boolean | undefined;
  /** The UDP port that marks L2TP in a capture (either side). Default 1701. */
  port?: number | undefined;
}

/** Where a packet came from: its frame in the capture, or the command line. */
export interface PacketOrigin {
  /** 1-based frame number in the capture (as tshark numbers them); 1 for hex input. */
  index: number;
  timeNs?: bigint | undefined;
  src?: string | undefined;
  dst?: string | undefined;
  sport?: number | undefined;
  dport?: number | undefined;
  transport: Transport;
}

export interface AvpReport {
  /** Position in the message, Message Type being avp[0]: the same index the codec's error fields use. */
  index: number;
  vendorId: number;
  type: number;
  /** The RFC title in this protocol version, or "Vendor V attribute T" / "Unknown attribute T". */
  name: string;
  mandatory: boolean;
  hidden: boolean;
  /** The typed value; undefined when it could not be interpreted (see `undecoded`). */
  value: AvpValue | undefined;
  /** 'hidden': hidden and no secret given; 'reserved-bits': reserved header bits set (RFC 2661 §4.1). */
  undecoded: 'hidden' | 'reserved-bits' | undefined;
  /** The octets as received for an undecoded AVP (the ciphertext of a hidden one). */
  raw: Buffer | undefined;
  /** Challenge Response or Message Digest checked against --secret; undefined when it could not be checked. */
  verified: boolean | undefined;
  spec: AvpSpec | undefined;
}

export interface DataReport {
  payloadLength: number;
  /** v2: the P bit and the Offset Size (RFC 2661 §3.1). */
  priority: boolean | undefined;
  offsetSize: number | undefined;
  /** v3: the cookie and sublayer as decoded, and where the framing came from. */
  cookie: Buffer | undefined;
  l2SpecificSublayer: { sequenced: boolean; sequence: number } | undefined;
  framing: 'options' | 'capture' | 'none' | undefined;
  /** v3: the session's pseudowire type when the capture showed its ICRQ/OCRQ. */
  pseudowireType: number | undefined;
  /** v2 payloads are PPP; v3 ones when the pseudowire type says PPP. */
  ppp: PppInfo | null;
  ethernet: EthernetInfo | null;
}

export interface ErrorReport {
  name: string;
  message: string;
  /** From the codec's typed errors: the offending field and its byte offset in the L2TP payload. */
  field: string | undefined;
  offset: number | undefined;
}

export interface PacketReport {
  index: number;
  timeNs: bigint | undefined;
  src: string | undefined;
  dst: string | undefined;
  sport: number | undefined;
  dport: number | undefined;
  transport: Transport;
  /** Octets of L2TP payload. */
  length: number;
  version: 2 | 3 | undefined;
  kind: 'control' | 'data' | undefined;
  messageType: number | undefined;
  /** 'SCCRQ'... or 'ZLB'; undefined for data messages. */
  messageName: string | undefined;
  /** v2: Tunnel ID; v3 control: Control Connection ID. */
  tunnelId: number | undefined;
  sessionId: number | undefined;
  ns: number | undefined;
  nr: number | undefined;
  avps: AvpReport[];
  violation: MandatoryViolation | undefined;
  unexpected: AvpReport[];
  ignored: AvpReport[];
  data: DataReport | undefined;
  error: ErrorReport | undefined;
}

export type InputInfo =
  | { kind: 'hex' }
  | {
      kind: 'capture';
      format: 'pcap' | 'pcapng';
      /** Frames in the file. */
      frames: number;
      /** Frames that are not L2TP (other ports/protocols, non-IP, IP fragments). */
      skipped: number;
    };

export interface DecodeReport {
  input: InputInfo;
  packets: PacketReport[];
}
