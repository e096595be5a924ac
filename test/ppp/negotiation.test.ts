/**
 * The server engine against a scripted peer: option Nak/Reject loops and their bounds (RFC 1661
 * §4.5, §4.6 Max-Failure), Configure-Ack validation, Code-Reject, authentication protocol choice.
 */
import { describe, expect, it } from 'vitest';
import { PppEngine } from '../../src/ppp/engine.js';
import { decodeControl, decodeFrame, decodeOptions, encodeControlFrame, encodeOptions, PppCode, PppProtocol, u16Option, u32Option, type ControlPacket, type PppOption } from '../../src/ppp/frame.js';
import { authOption, LcpOption, parseAuthOption } from '../../src/ppp/lcp.js';
import type { PppDownReason, PppEngineConfig } from '../../src/ppp/types.js';
import { VirtualClock } from '../../src/transport/clock.js';
import { fakePapServer, MapVerifier } from './support/fake-pap.js';
import { seeded } from './support/link.js';

const LCP = PppProtocol.LCP;

function scripted(extra: Partial<PppEngineConfig> = {}) {
  const clock = new VirtualClock();
  const out: ControlPacket[] = [];
  const downs: PppDownReason[] = [];
  const engine = new PppEngine({
    role: 'server',
    clock,
    send: (f) => {
      const d = decodeFrame(f);
      if (d.protocol === LCP) out.push(decodeControl(d.payload));
    },
    auth: ['pap'],
    authServer: fakePapServer.factory,
    verifier: new MapVerifier({}),
    random: seeded(7),
    allocator: { allocate: () => '192.0.2.99', release: () => {} },
    onDown: (r) => downs.push(r),
    ...extra,
  });
  const send = (code: number, identifier: number, options: PppOption[] | Buffer) =>
    engine.receive(encodeControlFrame(LCP, { code, identifier, data: Buffer.isBuffer(options) ? options : encodeOptions(options) }));
  const last = () => out.at(-1)!;
  const opts = (p: ControlPacket) => decodeOptions(p.data);
  return { clock, out, downs, engine, send, last, opts };
}

const magic = (v: number) => u32Option(LcpOption.MagicNumber, v);

describe('LCP negotiation against a scripted peer', () => {
  it('Naks an MRU below 128 Max-Failure times, then Rejects it; Acks once the peer drops it', () => {
    const s = scripted();
    s.engine.start();
    for (let id = 1; id <= 5; id++) {
      s.send(PppCode.ConfigureRequest, id, [u16Option(LcpOption.MaximumReceiveUnit, 64), magic(0x1234)]);
      expect(s.last().code).toBe(PppCode.ConfigureNak);
      expect(s.opts(s.last())).toEqual([u16Option(LcpOption.MaximumReceiveUnit, 128)]);
    }
    s.send(PppCode.ConfigureRequest, 6, [u16Option(LcpOption.MaximumReceiveUnit, 64), magic(0x1234)]);
    expect(s.last()).toMatchObject({ code: PppCode.ConfigureReject, identifier: 6 });
    expect(s.opts(s.last())).toEqual([u16Option(LcpOption.MaximumReceiveUnit, 64)]);
    s.send(PppCode.ConfigureRequest, 7, [magic(0x1234)]);
    expect(s.last()).toMatchObject({ code: PppCode.ConfigureAck, identifier: 7 });
    expect(s.downs).toEqual([]);
  });

  it('a peer that ignores our Rejects is cut off (loop detection, RFC 1661 §4.5)', () => {
    const s = scripted();
    s.engine.start();
    for (let id = 1; id <= 5; id++) {
      s.send(PppCode.ConfigureRequest, id, [{ type: 13, data: Buffer.from([6]) }, magic(0x1234)]);
      expect(s.last().code).toBe(PppCode.ConfigureReject);
    }
    s.send(PppCode.ConfigureRequest, 6, [{ type: 13, data: Buffer.from([6]) }, magic(0x1234)]);
    expect(s.last().code).toBe(PppCode.TerminateRequest);
    s.clock.runUntilIdle();
    expect(s.downs.map((d) => d.cause)).toEqual(['negotiation-failed']);
  });

  it('Rejects unknown, Quality-Protocol and malformed options verbatim, in order; Acks ACCM, PFC, ACFC', () => {
    const s = scripted();
    s.engine.start();
    const quality = u16Option(LcpOption.QualityProtocol, 0xc025, Buffer.from([0, 0, 0, 10]));
    const callback = { type: 13, data: Buffer.from([6]) };
    const badMagic = { type: LcpOption.MagicNumber, data: Buffer.from([1, 2]) };
    s.send(PppCode.ConfigureRequest, 1, [quality, u32Option(LcpOption.AsyncControlCharacterMap, 0), callback, badMagic]);
    expect(s.last().code).toBe(PppCode.ConfigureReject);
    expect(s.opts(s.last())).toEqual([quality, callback, badMagic]);
    const good = [u32Option(LcpOption.AsyncControlCharacterMap, 0), { type: 7, data: Buffer.alloc(0) }, { type: 8, data: Buffer.alloc(0) }, magic(5)];
    s.send(PppCode.ConfigureRequest, 2, good);
    expect(s.last()).toMatchObject({ code: PppCode.ConfigureAck, identifier: 2, data: encodeOptions(good) });
  });

  it('the server Rejects an Authentication-Protocol asked of it', () => {
    const s = scripted();
    s.engine.start();
    s.send(PppCode.ConfigureRequest, 1, [authOption('chap'), magic(9)]);
    expect(s.last().code).toBe(PppCode.ConfigureReject);
    expect(s.opts(s.last())).toEqual([authOption('chap')]);
  });

  it('discards a Configure-Ack with another Identifier or altered options, takes the exact one', () => {
    const s = scripted();
    s.engine.start();
    const req = s.out[0]!;
    s.send(PppCode.ConfigureAck, (req.identifier + 1) & 0xff, req.data);
    s.send(PppCode.ConfigureAck, req.identifier, encodeOptions([authOption('pap')]));
    expect(s.engine.counters.discarded).toBe(2);
    expect(s.engine.lcp.state).toBe('Req-Sent');
    s.send(PppCode.ConfigureAck, req.identifier, req.data);
    expect(s.engine.lcp.state).toBe('Ack-Rcvd');
  });

  it('discards a Configure-Reject naming options we did not send', () => {
    const s = scripted();
    s.engine.start();
    const req = s.out[0]!;
    s.send(PppCode.ConfigureReject, req.identifier, [u16Option(LcpOption.MaximumReceiveUnit, 1500)]);
    expect(s.engine.counters.discarded).toBe(1);
    expect(s.out).toHaveLength(1);
  });

  it('walks its authentication protocols as the peer Naks, then gives up when refused (RFC 1661 §6.2)', () => {
    const s = scripted({ auth: ['chap', 'mschapv2', 'pap'] });
    s.engine.start();
    const asked = () => parseAuthOption(s.opts(s.last()).find((o) => o.type === LcpOption.AuthenticationProtocol)!.data);
    expect(asked()).toBe('chap');
    s.send(PppCode.ConfigureNak, s.last().identifier, [authOption('pap')]);
    expect(asked()).toBe('pap'); // the peer's suggestion, since we offer it
    s.send(PppCode.ConfigureNak, s.last().identifier, [authOption('chap')]);
    expect(asked()).toBe('mschapv2'); // chap was refused already: our next one
    s.send(PppCode.ConfigureNak, s.last().identifier, [authOption('chap')]);
    expect(s.last().code).toBe(PppCode.TerminateRequest);
    s.clock.runUntilIdle();
    expect(s.downs.map((d) => d.cause)).toEqual(['auth-refused']);
  });

  it('a Reject of Authentication-Protocol ends the link; of Magic-Number it stops asking', () => {
    const s = scripted();
    s.engine.start();
    s.send(PppCode.ConfigureReject, s.last().identifier, [s.opts(s.last()).find((o) => o.type === LcpOption.MagicNumber)!]);
    expect(s.opts(s.last()).map((o) => o.type)).toEqual([LcpOption.AuthenticationProtocol]);
    s.send(PppCode.ConfigureReject, s.last().identifier, [authOption('pap')]);
    s.clock.runUntilIdle();
    expect(s.downs.map((d) => d.cause)).toEqual(['auth-refused']);
  });

  it('Code-Rejects an unknown code; RXJ+ for a rejected Echo, RXJ- for a rejected Configure-Request', () => {
    const s = scripted({ auth: [] });
    s.engine.start();
    s.send(PppCode.ConfigureRequest, 1, [magic(0x42)]);
    s.send(PppCode.ConfigureAck, s.out[0]!.identifier, s.out[0]!.data);
    expect(s.engine.lcp.state).toBe('Opened');
    s.engine.receive(encodeControlFrame(LCP, { code: 0x20, identifier: 3, data: Buffer.from('xyz') }));
    expect(s.last().code).toBe(PppCode.CodeReject);
    expect(s.last().data).toEqual(Buffer.from([0x20, 3, 0, 7, ...Buffer.from('xyz')]));
    s.send(PppCode.CodeReject, 4, Buffer.from([PppCode.EchoRequest, 1, 0, 8, 0, 0, 0, 0]));
    expect(s.engine.lcp.state).toBe('Opened');
    s.send(PppCode.CodeReject, 5, Buffer.from([PppCode.ConfigureRequest, 1, 0, 4]));
    expect(s.engine.lcp.state).toBe('Stopping');
    expect(s.last().code).toBe(PppCode.TerminateRequest);
  });

  it('Echo-Request outside Opened is ignored (RFC 1661 §4.1 RXR)', () => {
    const s = scripted();
    s.engine.start();
    s.send(PppCode.EchoRequest, 1, Buffer.from([0, 0, 0, 0]));
    expect(s.out.map((p) => p.code)).toEqual([PppCode.ConfigureRequest]);
  });
});
