/**
 * PAP (RFC 1334 §2.2) and CHAP (RFC 1994 §4) packets ⇄ typed values. Bytes in, values out, nothing else: no state.
 *
 * Both share the Code / Identifier / Length header. Octets after Length are data-link padding and are ignored
 * (RFC 1334 §2.2, RFC 1994 §4). Decoding copies every field out of the input, so a caller may reuse its receive
 * buffer. Decoding throws only PppAuthError; encoding throws PppAuthError for values that do not fit their field.
 */
import { PppAuthError } from './errors.js';
import { PPP_CHAP, PPP_PAP } from './types.js';

export const PapCode = { AuthenticateRequest: 1, AuthenticateAck: 2, AuthenticateNak: 3 } as const;
export const ChapCode = { Challenge: 1, Response: 2, Success: 3, Failure: 4 } as const;

export type PapPacket =
  | { code: typeof PapCode.AuthenticateRequest; id: number; peerId: Buffer; password: Buffer }
  | { code: typeof PapCode.AuthenticateAck | typeof PapCode.AuthenticateNak; id: number; message: Buffer };

export type ChapPacket =
  | { code: typeof ChapCode.Challenge | typeof ChapCode.Response; id: number; value: Buffer; name: Buffer }
  | { code: typeof ChapCode.Success | typeof ChapCode.Failure; id: number; message: Buffer };

const HEADER_OCTETS = 4;
/** Peer-ID-Length, Passwd-Length and Msg-Length are one octet (RFC 1334 §2.2.1, §2.2.2). */
export const PAP_FIELD_MAX_OCTETS = 255;
/** Value-Size is one octet (RFC 1994 §4.1). */
export const CHAP_VALUE_MAX_OCTETS = 255;
const MAX_PACKET_OCTETS = 0xffff;

/** Code, Identifier and the data within Length (padding stripped). */
function header(packet: Uint8Array, proto: string): { code: number; id: number; data: Uint8Array } {
  if (packet.length < HEADER_OCTETS) {
    throw new PppAuthError(`${packet.length} octets is shorter than the 4-octet header`, `${proto}.length`, 0);
  }
  const length = (packet[2]! << 8) | packet[3]!;
  if (length < HEADER_OCTETS || length > packet.length) {
    throw new PppAuthError(`Length ${length} is not within 4..${packet.length} (octets received)`, `${proto}.length`, 2);
  }
  return { code: packet[0]!, id: packet[1]!, data: packet.subarray(HEADER_OCTETS, length) };
}

/** One-octet length (named `lengthField`) followed by that many octets, at `at` within `data`; copied out. */
function lengthPrefixed(data: Uint8Array, at: number, lengthField: string): Buffer {
  if (at >= data.length) throw new PppAuthError('length octet missing', lengthField, HEADER_OCTETS + at);
  const n = data[at]!;
  if (at + 1 + n > data.length) {
    throw new PppAuthError(`length ${n} runs past the end of the packet`, lengthField, HEADER_OCTETS + at);
  }
  return Buffer.from(data.subarray(at + 1, at + 1 + n));
}

export function decodePap(packet: Uint8Array): PapPacket {
  const { code, id, data } = header(packet, 'pap');
  switch (code) {
    case PapCode.AuthenticateRequest: {
      const peerId = lengthPrefixed(data, 0, 'pap.peerIdLength');
      const password = lengthPrefixed(data, 1 + peerId.length, 'pap.passwdLength');
      return { code, id, peerId, password };
    }
    case PapCode.AuthenticateAck:
    case PapCode.AuthenticateNak:
      // Some peers send an Ack with no Msg-Length octet at all; an absent message is an empty one.
      return { code, id, message: data.length === 0 ? Buffer.alloc(0) : lengthPrefixed(data, 0, 'pap.msgLength') };
    default:
      throw new PppAuthError(`unknown PAP code ${code}`, 'pap.code', 0);
  }
}

export function decodeChap(packet: Uint8Array): ChapPacket {
  const { code, id, data } = header(packet, 'chap');
  switch (code) {
    case ChapCode.Challenge:
    case ChapCode.Response: {
      const value = lengthPrefixed(data, 0, 'chap.valueSize');
      // RFC 1994 §4.1: "The Value field is one or more octets."
      if (value.length === 0) throw new PppAuthError('Value-Size 0: the Value is one or more octets', 'chap.valueSize', 4);
      return { code, id, value, name: Buffer.from(data.subarray(1 + value.length)) };
    }
    case ChapCode.Success:
    case ChapCode.Failure:
      return { code, id, message: Buffer.from(data) };
    default:
      throw new PppAuthError(`unknown CHAP code ${code}`, 'chap.code', 0);
  }
}

function withHeader(code: number, id: number, data: readonly Uint8Array[], proto: string): Buffer {
  if (!Number.isInteger(id) || id < 0 || id > 255) throw new PppAuthError(`Identifier ${id} is not an octet`, `${proto}.identifier`);
  let length = HEADER_OCTETS;
  for (let i = 0; i < data.length; i++) length += data[i]!.length;
  if (length > MAX_PACKET_OCTETS) throw new PppAuthError(`packet of ${length} octets does not fit Length`, `${proto}.length`);
  // One buffer written in place (every octet is set), not a header buffer concatenated with the fields.
  const out = Buffer.allocUnsafe(length);
  out[0] = code;
  out[1] = id;
  out[2] = length >> 8;
  out[3] = length & 0xff;
  let off = HEADER_OCTETS;
  for (let i = 0; i < data.length; i++) {
    out.set(data[i]!, off);
    off += data[i]!.length;
  }
  return out;
}

function octetLength(value: Uint8Array, max: number, field: string): Buffer {
  if (value.length > max) throw new PppAuthError(`${value.length} octets do not fit a one-octet length (max ${max})`, field);
  return Buffer.from([value.length]);
}

export function encodePap(p: PapPacket): Buffer {
  if (p.code === PapCode.AuthenticateRequest) {
    return withHeader(
      p.code,
      p.id,
      [octetLength(p.peerId, PAP_FIELD_MAX_OCTETS, 'pap.peerIdLength'), p.peerId, octetLength(p.password, PAP_FIELD_MAX_OCTETS, 'pap.passwdLength'), p.password],
      'pap',
    );
  }
  return withHeader(p.code, p.id, [octetLength(p.message, PAP_FIELD_MAX_OCTETS, 'pap.msgLength'), p.message], 'pap');
}

export function encodeChap(p: ChapPacket): Buffer {
  if ('value' in p) {
    if (p.value.length === 0) throw new PppAuthError('the Value is one or more octets', 'chap.valueSize');
    return withHeader(p.code, p.id, [octetLength(p.value, CHAP_VALUE_MAX_OCTETS, 'chap.valueSize'), p.value, p.name], 'chap');
  }
  return withHeader(p.code, p.id, [p.message], 'chap');
}

/**
 * Text for a message field, cut to `maxOctets` without splitting a UTF-8 sequence (a verifier's message, e.g. a
 * RADIUS Reply-Message, may be longer than PAP's one-octet Msg-Length allows).
 */
export function messageOctets(text: string, maxOctets: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxOctets) return bytes;
  let end = maxOctets;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/**
 * Which side of an exchange a packet is for, so an engine that authenticates in both directions with the same
 * protocol can hand it to the right object: requests/responses go to the authenticator (AuthServer), challenges
 * and replies to the peer (AuthClient). Undefined when the packet is too short to have a header, the code is
 * unknown or `protocol` is neither PAP (0xc023) nor CHAP (0xc223).
 */
export function authPacketRecipient(protocol: number, packet: Uint8Array): 'server' | 'client' | undefined {
  if (packet.length < HEADER_OCTETS) return undefined;
  const code = packet[0]!;
  if (protocol === PPP_PAP) {
    if (code === PapCode.AuthenticateRequest) return 'server';
    return code === PapCode.AuthenticateAck || code === PapCode.AuthenticateNak ? 'client' : undefined;
  }
  if (protocol === PPP_CHAP) {
    if (code === ChapCode.Response) return 'server';
    return code === ChapCode.Challenge || code === ChapCode.Success || code === ChapCode.Failure ? 'client' : undefined;
  }
  return undefined;
}
