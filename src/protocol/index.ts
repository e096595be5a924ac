/**
 * The wire protocol in one import: headers, AVPs, messages, data, hiding and authentication.
 * Layers above (transport, actors, tools) use this and nothing below it.
 */
import { decodeControlBody, type ControlDecodeOptions, type DecodedControl } from './control.js';
import { decodeDataBody, type DataMessage, type V3SessionFraming } from './data.js';
import { peekHeader, type HeaderInfo } from './header.js';

export * from './errors.js';
export * from './avp-formats.js';
export * from './avp-table.js';
export * from './avp-codec.js';
export * from './messages.js';
export * from './header.js';
export * from './control.js';
export * from './data.js';
export * from './result-codes.js';
export * from './hidden.js';
export * from './auth.js';

export type DecodedPacket =
  | ({ kind: 'control'; header: HeaderInfo } & DecodedControl)
  | { kind: 'data'; header: HeaderInfo; data: DataMessage };

/** Decode any L2TP packet: the header decides whether it is control or data. */
export function decodePacket(buf: Uint8Array, opts: ControlDecodeOptions & { v3Data?: V3SessionFraming } = {}): DecodedPacket {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const header = peekHeader(b, opts.transport ?? 'udp');
  if (header.isControl) return { kind: 'control', header, ...decodeControlBody(b, header, opts) };
  return { kind: 'data', header, data: decodeDataBody(b, header, opts.v3Data) };
}
