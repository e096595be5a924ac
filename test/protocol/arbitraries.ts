/**
 * fast-check generators driven by the protocol tables: one value generator per AVP format, and
 * control messages built from each message's required/optional AVP lists. Shared by the vitest
 * property tests and the long fuzz script (test/fuzz).
 */
import fc from 'fast-check';
import {
  Avp,
  AVP_BY_TYPE,
  MESSAGES,
  type AvpInstance,
  type AvpKey,
  type AvpSpec,
  type AvpValue,
  type ControlMessage,
  type FormatName,
} from '../../src/protocol/index.js';

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
// Text fields are UTF-8 (RFC 3931 §5.4.2); any code point but lone surrogates round-trips.
const text = (min: number, max: number) => fc.string({ unit: 'binary', minLength: min, maxLength: max });

function formatArb(spec: AvpSpec, version: 2 | 3): fc.Arbitrary<AvpValue> {
  const min = spec.length?.min ?? 0;
  const max = Math.min(spec.length?.max ?? 64, 64);
  const f: FormatName = spec.format;
  switch (f) {
    case 'u8':
      return u8;
    case 'u16':
      return u16;
    case 'u32':
      return u32;
    case 'u64':
      return fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
    case 'bytes':
      if (spec.key === 'AssignedCookie') return fc.constantFrom(0, 4, 8).chain((n) => bytes(n, n));
      return bytes(Math.max(min, 0), Math.max(max, min));
    case 'string':
      return text(Math.max(min, 0), 40);
    case 'empty':
      return fc.constant(true as const);
    case 'proxyAuthenId':
      return u8;
    case 'u16list':
      return fc.array(u16, { maxLength: 8 });
    case 'resultCode':
      return fc.oneof(
        fc.record({ result: u16 }),
        fc.record({ result: u16, error: u16 }),
        fc.record({ result: u16, error: u16, message: text(1, 40) }),
      );
    case 'protocolVersion':
      return fc.record({ version: u8, revision: u8 });
    case 'q931Cause':
      return fc.oneof(fc.record({ cause: u16, message: u8 }), fc.record({ cause: u16, message: u8, advisory: text(1, 40) }));
    case 'callErrors': {
      const v3 = fc.record({ hardwareOverruns: u32, bufferOverruns: u32, timeoutErrors: u32, alignmentErrors: u32 });
      const v2 = fc.record({ crcErrors: u32, framingErrors: u32, hardwareOverruns: u32, bufferOverruns: u32, timeoutErrors: u32, alignmentErrors: u32 });
      return version === 2 ? v2 : v3;
    }
    case 'accm':
      return fc.record({ sendAccm: u32, receiveAccm: u32 });
    case 'messageDigest':
      return fc.oneof(
        fc.record({ digestType: fc.constant(0), digest: bytes(16, 16) }),
        fc.record({ digestType: fc.constant(1), digest: bytes(20, 20) }),
      );
    case 'extendedVendor':
      return fc.record({ vendorId: u32, attributeType: u16, value: bytes(0, 32) });
    case 'failoverCapability':
      return fc.record({ controlChannel: fc.boolean(), dataChannel: fc.boolean(), recoveryTimeMs: u32 });
    case 'tunnelRecovery':
      return fc.record({ recoverTunnelId: u32, recoverRemoteTunnelId: u32 });
    case 'suggestedControlSequence':
      return fc.record({ suggestedNs: u32, suggestedNr: u32 });
    case 'failoverSessionState':
      return fc.record({ sessionId: u32, remoteSessionId: u32 });
  }
}

/** A known AVP of the table with a random value; hidden when `hide` and the RFC allows it. */
export function knownAvpArb(key: AvpKey, version: 2 | 3, hide: boolean): fc.Arbitrary<AvpInstance> {
  const spec: AvpSpec = Avp[key];
  return fc.record({ value: formatArb(spec, version), m: fc.boolean(), h: fc.boolean() }).map(({ value, m, h }) => ({
    vendorId: 0,
    type: spec.type,
    mandatory: m,
    hidden: hide && h && spec.hidable,
    value,
  }));
}

/** Vendor AVPs (kept, raw) and unknown IETF AVPs without M (ignored but kept). */
export const foreignAvpArb: fc.Arbitrary<AvpInstance> = fc.oneof(
  fc.record({ vendorId: fc.integer({ min: 1, max: 0xffff }), type: u16, mandatory: fc.constant(false), hidden: fc.constant(false), value: bytes(0, 40) }),
  fc
    .record({ type: fc.integer({ min: 80, max: 0xffff }), value: bytes(0, 40) })
    .filter(({ type }) => AVP_BY_TYPE[type] === undefined)
    .map(({ type, value }) => ({ vendorId: 0, type, mandatory: false, hidden: false, value })),
);

const MESSAGE_VERSIONS = MESSAGES.flatMap((m) => [
  ...(m.v2 ? [{ spec: m, version: 2 as const, rules: m.v2 }] : []),
  ...(m.v3 ? [{ spec: m, version: 3 as const, rules: m.v3 }] : []),
]);

/** Every (message type, version) pair of the table. */
export const MESSAGE_CASES = MESSAGE_VERSIONS.map((c) => ({ type: c.spec.type, key: c.spec.key, version: c.version }));

/** A valid control message of the given type and version: required AVPs, some optional, some foreign. */
export function controlMessageArb(type: number, version: 2 | 3, o: { hide: boolean }): fc.Arbitrary<ControlMessage> {
  const c = MESSAGE_VERSIONS.find((x) => x.spec.type === type && x.version === version);
  if (!c) throw new Error(`no message ${type} v${version}`);
  const required = c.rules.required.filter((k) => k !== 'MessageType');
  const optional = c.rules.optional.filter((k) => k !== 'RandomVector');
  return fc
    .record({
      req: fc.tuple(...required.map((k) => knownAvpArb(k, version, o.hide))),
      opt: fc.subarray(optional).chain((ks) => fc.tuple(...ks.map((k) => knownAvpArb(k, version, o.hide)))),
      foreign: fc.array(foreignAvpArb, { maxLength: 3 }),
      rv: bytes(1, 32),
      tunnelId: version === 2 ? u16 : u32,
      sessionId: version === 2 ? u16 : fc.constant(0),
      ns: u16,
      nr: u16,
    })
    .map(({ req, opt, foreign, rv, tunnelId, sessionId, ns, nr }) => {
      const avps: AvpInstance[] = [...req, ...opt, ...foreign];
      if (avps.some((a) => a.hidden)) avps.unshift({ vendorId: 0, type: Avp.RandomVector.type, mandatory: true, hidden: false, value: rv });
      return { version, tunnelId, sessionId, ns, nr, messageType: type, messageTypeMandatory: true, avps };
    });
}

/** Any valid control message of any type and version, or a ZLB. */
export function anyControlMessageArb(o: { hide: boolean }): fc.Arbitrary<ControlMessage> {
  const zlb = fc.record({
    version: fc.constantFrom(2 as const, 3 as const),
    tunnelId: u16,
    ns: u16,
    nr: u16,
  }).map(({ version, tunnelId, ns, nr }) => ({ version, tunnelId, sessionId: 0, ns, nr, messageType: undefined, messageTypeMandatory: true, avps: [] }));
  return fc.oneof(
    { weight: 1, arbitrary: zlb },
    { weight: 20, arbitrary: fc.constantFrom(...MESSAGE_CASES).chain((c) => controlMessageArb(c.type, c.version, o)) },
  );
}
