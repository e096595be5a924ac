/**
 * The pure half of `l2tpctl decode`: hex in, structured report out, rendered as text and JSON. No files, no
 * processes: every packet here is written out in hex so the expected values can be read off the octets.
 */
import { describe, expect, it } from 'vitest';
import { avp, controlMessage, encodeControl, encodeData } from '../../src/protocol/index.js';
import { decodeHex, parseHex, PacketDecoder } from '../../src/cli/decode.js';
import { describePpp } from '../../src/cli/decode-format.js';
import { packetJson, renderJson, renderText } from '../../src/cli/decode-render.js';
import { UsageError } from '../../src/cli/io.js';

/** L2TPv2 control header (T, L, S set) for tunnel 7, session 0, Ns 0, Nr 0, then the given AVP octets. */
function v2Control(avps: string): string {
  const body = Buffer.from(`8008000000000006${avps.replace(/\s/g, '')}`, 'hex');
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0xc802, 0);
  header.writeUInt16BE(12 + body.length, 2);
  header.writeUInt16BE(7, 4);
  return Buffer.concat([header, body]).toString('hex');
}

describe('parseHex', () => {
  it('accepts spaces, colons, dashes, line breaks and 0x prefixes', () => {
    expect(parseHex('c8 02:00-14\n0x00 0X07').toString('hex')).toBe('c80200140007');
    expect(parseHex('0xc8020014').toString('hex')).toBe('c8020014');
  });

  it('rejects non-hex digits, odd lengths and empty input as usage errors', () => {
    expect(() => parseHex('c8 0g')).toThrow(UsageError);
    expect(() => parseHex('c8 0g')).toThrow(/"g" is not a hex digit \(digit 4\)/);
    expect(() => parseHex('c80')).toThrow(/odd number of hex digits \(3\)/);
    expect(() => parseHex(' : ')).toThrow(/no hex digits/);
  });
});

describe('decodeHex', () => {
  it('decodes a HELLO: header fields and Message Type as avp[0]', () => {
    const [p] = decodeHex(v2Control('')).packets;
    expect(p).toMatchObject({ index: 1, version: 2, kind: 'control', messageType: 6, messageName: 'HELLO', tunnelId: 7, sessionId: 0, ns: 0, nr: 0, length: 20 });
    expect(p!.avps).toHaveLength(1);
    expect(p!.avps[0]).toMatchObject({ index: 0, type: 0, name: 'Message Type', mandatory: true, value: 6 });
    expect(p!.error).toBeUndefined();
  });

  it('reports a malformed AVP with the codec error name, field and offset, keeping the header', () => {
    // An AVP header claiming length 3 right after Message Type: the AVP starts at offset 20.
    const report = decodeHex(v2Control('000300000007'));
    const p = report.packets[0]!;
    expect(p.tunnelId).toBe(7);
    expect(p.error).toMatchObject({ name: 'MalformedAvpError', field: 'avp[1].length', offset: 20 });
    expect(renderText(report)).toContain('packet 1: MalformedAvpError: AVP length 3 is below 6 (field avp[1].length at offset 20)');
    const json = JSON.parse(renderJson(report)) as { packets: { error: unknown }[]; summary: unknown };
    expect(json.packets[0]!.error).toEqual({
      name: 'MalformedAvpError',
      message: 'AVP length 3 is below 6 (field avp[1].length at offset 20)',
      field: 'avp[1].length',
      offset: 20,
    });
    expect(json.summary).toEqual({ packets: 1, decoded: 0, failed: 1 });
  });

  it('reports a bad header with no guessed fields', () => {
    const p = decodeHex('c8 02 00 ff 00 07 00 00 00 00 00 00').packets[0]!;
    expect(p.version).toBeUndefined();
    expect(p.error).toMatchObject({ name: 'MalformedHeaderError', field: 'header.length', offset: 2 });
  });

  it('lists the unknown mandatory AVP violation, ignored and unexpected AVPs', () => {
    // Vendor 9 type 1 with M set, vendor 9 type 2 without, and a Host Name (not listed for HELLO).
    const report = decodeHex(v2Control('80080009 0001abcd 00080009 0002abcd 800a0000 0007 70656572'));
    const p = report.packets[0]!;
    expect(p.violation).toEqual({ scope: 'tunnel', resultCode: 2, errorCode: 8, errorMessage: 'unknown mandatory AVP vendor 9 type 1' });
    expect(p.ignored.map((a) => a.index)).toEqual([2]);
    expect(p.unexpected.map((a) => a.name)).toEqual(['Host Name']);
    const text = renderText(report);
    expect(text).toContain('avp[1]  M- vendor 9 type 1   Vendor 9 attribute 1: abcd');
    expect(text).toContain('ignored (unknown, not mandatory): avp[2] Vendor 9 attribute 2');
    expect(text).toContain('unexpected in HELLO: avp[3] Host Name');
    expect(text).toContain('violation: the tunnel must be torn down (StopCCN result 2 error 8)');
  });

  it('renders values the RFC way: Result Code texts, Protocol Version, capability bits, strings', () => {
    const secret = Buffer.from('s3cret');
    const stop = encodeControl({
      ...controlMessage(2, 4, { tunnelId: 9 }, [
        avp('AssignedTunnelId', 33),
        avp('ResultCode', { result: 2, error: 6, message: 'vendor says no' }),
      ]),
    });
    const text = renderText(decodeHex(stop.toString('hex')));
    expect(text).toContain('Result Code: 2 (General error, Error Code indicates the problem), error 6 (A generic vendor-specific error occurred), message "vendor says no"');

    const sccrq = encodeControl(
      controlMessage(2, 1, { tunnelId: 0 }, [
        avp('RandomVector', Buffer.alloc(16, 1)),
        avp('ProtocolVersion', { version: 1, revision: 0 }),
        avp('HostName', 'lac "one"'),
        avp('FramingCapabilities', 3),
        avp('BearerCapabilities', 2, { hidden: true }),
        avp('AssignedTunnelId', 5),
      ]),
      { secret },
    );
    const withoutSecret = decodeHex(sccrq.toString('hex')).packets[0]!;
    const t = renderText(decodeHex(sccrq.toString('hex')));
    expect(t).toContain('Protocol Version: 1.0');
    expect(t).toContain('Host Name: "lac \\"one\\""');
    expect(t).toContain('Framing Capabilities: 0x00000003 (Synchronous, Asynchronous)');
    expect(t).toMatch(/avp\[5\] +MH vendor 0 type 4 +Bearer Capabilities: <hidden, \d+ octets; give --secret>/);
    expect(withoutSecret.avps[5]).toMatchObject({ hidden: true, undecoded: 'hidden', value: undefined });
    expect(withoutSecret.error).toBeUndefined();

    const unhidden = decodeHex(sccrq.toString('hex'), { secret: 's3cret' });
    expect(unhidden.packets[0]!.avps[5]).toMatchObject({ hidden: true, value: 2, undecoded: undefined });
    expect(renderText(unhidden)).toContain('Bearer Capabilities: 0x00000002 (Analog) (was hidden)');

    // A wrong secret: the packet is still shown, the hidden AVP stays hidden, and the error says why.
    const wrong = decodeHex(sccrq.toString('hex'), { secret: 'nope' }).packets[0]!;
    expect(wrong.error?.name).toBe('HiddenAvpError');
    expect(wrong.avps[5]).toMatchObject({ undecoded: 'hidden' });
  });

  it('decodes L2TPv3 over IP, with u64 values as decimal strings in JSON', () => {
    const m = controlMessage(3, 10, { tunnelId: 0x01020304 }, [
      avp('LocalSessionId', 0x11),
      avp('RemoteSessionId', 0),
      avp('CallSerialNumber', 5),
      avp('PseudowireType', 5),
      avp('RemoteEndId', Buffer.from('pe-1')),
      avp('CircuitStatus', 1),
      avp('TxConnectSpeedV3', 2n ** 40n),
    ]);
    const hex = encodeControl(m, { transport: 'ip' }).toString('hex');
    const report = decodeHex(hex, { transport: 'ip' });
    const p = report.packets[0]!;
    expect(p).toMatchObject({ version: 3, messageName: 'ICRQ', tunnelId: 0x01020304, sessionId: undefined, transport: 'ip' });
    const json = packetJson(p) as { avps: { name: string; value: unknown; text: string }[]; sessionId: unknown };
    expect(json.sessionId).toBeNull();
    expect(json.avps.find((a) => a.name === 'Serial Number')?.value).toBe(5); // the RFC 3931 name of type 15
    expect(json.avps.find((a) => a.name === 'Tx Connect Speed')?.value).toBe('1099511627776');
    expect(json.avps.find((a) => a.name === 'Pseudowire Type')?.text).toBe('5 (Ethernet)');
    expect(json.avps.find((a) => a.name === 'Remote End ID')).toMatchObject({ value: '70652d31', text: '70652d31 ("pe-1")' });
    // Over UDP the same octets (after the 4-octet zero Session ID) are a v3 control message too.
    expect(decodeHex(hex.slice(8)).packets[0]!.messageName).toBe('ICRQ');
  });

  it('decodes v2 data: payload length and the PPP protocol', () => {
    const data = encodeData({ version: 2, tunnelId: 3, sessionId: 4, priority: false, lengthPresent: true, payload: Buffer.from('ff03802101010004', 'hex') });
    const p = decodeHex(data.toString('hex')).packets[0]!;
    expect(p).toMatchObject({ kind: 'data', tunnelId: 3, sessionId: 4, messageName: undefined });
    expect(p.data).toMatchObject({ payloadLength: 8, ppp: { addressControl: true, protocol: 0x8021, protocolName: 'IPCP', codeName: 'Configure-Request', identifier: 1 } });
    expect(renderText(decodeHex(data.toString('hex')))).toContain('payload 8 octets  PPP 0x8021 IPCP Configure-Request id 1');
  });

  it('names PPP protocols with or without ff 03 and with a compressed protocol field', () => {
    expect(describePpp(Buffer.from('c0230100', 'hex'))).toMatchObject({ addressControl: false, protocol: 0xc023, protocolName: 'PAP', codeName: 'Authenticate-Request' });
    expect(describePpp(Buffer.from('ff03c22301', 'hex'))).toMatchObject({ protocolName: 'CHAP', code: null });
    expect(describePpp(Buffer.from('21450000', 'hex'))).toMatchObject({ protocol: 0x21, protocolName: 'IP' });
    expect(describePpp(Buffer.from('ff030057', 'hex'))).toMatchObject({ protocolName: 'IPv6' });
    expect(describePpp(Buffer.from('8057', 'hex'))).toMatchObject({ protocolName: 'IPv6CP' });
    expect(describePpp(Buffer.alloc(0))).toBeNull();
  });

  it('takes the L2TPv3 data framing from the options', () => {
    const bytes = encodeData({ version: 3, sessionId: 77, cookie: Buffer.from('01020304', 'hex'), l2SpecificSublayer: { sequenced: true, sequence: 9 }, payload: Buffer.alloc(20) });
    const guessed = decodeHex(bytes.toString('hex')).packets[0]!;
    expect(guessed.data).toMatchObject({ framing: 'none', payloadLength: 28 });
    const given = decodeHex(bytes.toString('hex'), { cookieLength: 4, l2SpecificSublayer: true }).packets[0]!;
    expect(given.data).toMatchObject({ framing: 'options', payloadLength: 20, l2SpecificSublayer: { sequenced: true, sequence: 9 } });
    expect(packetJson(given)['data']).toMatchObject({ cookie: '01020304' });
    expect(() => decodeHex('00', { cookieLength: 3 })).toThrow(/--cookie-length must be 0, 4 or 8/);
  });

  it('keeps every JSON key present, with null where it does not apply', () => {
    const decoder = new PacketDecoder();
    const p = decoder.decode(Buffer.from(v2Control(''), 'hex'), { index: 3, timeNs: 1_500_000_123n, src: '10.0.0.1', dst: '10.0.0.2', sport: 1701, dport: 4000, transport: 'udp' });
    expect(Object.keys(packetJson(p))).toEqual([
      'index', 'timeNs', 'src', 'dst', 'sport', 'dport', 'transport', 'length', 'version', 'kind', 'messageType', 'messageName',
      'tunnelId', 'sessionId', 'ns', 'nr', 'avps', 'violation', 'unexpected', 'ignored', 'data', 'error',
    ]);
    expect(packetJson(p)).toMatchObject({ index: 3, timeNs: '1500000123', violation: null, data: null, error: null });
    expect(Object.keys((packetJson(p)['avps'] as object[])[0]!)).toEqual([
      'index', 'vendorId', 'type', 'name', 'mandatory', 'hidden', 'value', 'text', 'undecoded', 'raw', 'verified',
    ]);
    expect(renderText({ input: { kind: 'hex' }, packets: [p] })).toContain('packet 3  1970-01-01T00:00:01.500000123Z  10.0.0.1:1701 > 10.0.0.2:4000');
  });
});
