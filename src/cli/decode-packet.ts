/**
 * One L2TP packet → its report. A `PacketDecoder` decodes the packets of one input in order and remembers what
 * earlier control messages said:
 * - L2TPv3 sessions' cookie length, L2-Specific Sublayer and pseudowire type, from their ICRQ/ICRP/OCRQ/OCRP
 *   (RFC 3931 §5.4.4: each side states what it wants to RECEIVE, so it applies to data sent to that side);
 * - with a secret, the Challenge/Response and Message Digest exchanges (decode-auth.ts).
 * Nothing is lost on a bad packet: it keeps what its header said plus the codec's typed error, with the field
 * and the byte offset counted from the first octet of the L2TP payload (UDP payload, or IP payload over IP).
 */
import {
  AVP_BY_TYPE,
  Avp,
  HiddenAvpError,
  L2tpCodecError,
  MessageTypes,
  avpTitle,
  decodePacket,
  messageName,
  peekHeader,
  type AvpInstance,
  type AvpValue,
  type DataMessage,
  type DecodedControl,
  type HeaderInfo,
  type V3SessionFraming,
} from '../protocol/index.js';
import { AuthTracker, type Verdicts } from './decode-auth.js';
import { describeEthernet, describePpp } from './decode-format.js';
import type { AvpReport, DataReport, DecodeOptions, ErrorReport, PacketOrigin, PacketReport } from './decode-report.js';

interface V3Session {
  cookieLength?: number;
  defaultL2SpecificSublayer?: boolean;
  pseudowireType?: number;
}

const SESSION_SETUP = new Set<number>([MessageTypes.ICRQ, MessageTypes.ICRP, MessageTypes.ICCN, MessageTypes.OCRQ, MessageTypes.OCRP, MessageTypes.OCCN]);

/** Decodes packets one after the other, remembering what earlier control messages said (see the file comment). */
export class PacketDecoder {
  private readonly secret: Buffer | undefined;
  private readonly auth: AuthTracker;
  /** L2TPv3 sessions by "receiver address|its Local Session ID". */
  private readonly v3Sessions = new Map<string, V3Session>();

  constructor(private readonly opts: DecodeOptions = {}) {
    const s = opts.secret;
    this.secret = s === undefined || s.length === 0 ? undefined : typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s);
    this.auth = new AuthTracker(this.secret);
  }

  decode(payload: Buffer, origin: PacketOrigin): PacketReport {
    const r = emptyReport(payload.length, origin);
    let header: HeaderInfo;
    try {
      header = peekHeader(payload, origin.transport);
    } catch (e) {
      r.error = errorReport(e);
      return r;
    }
    r.version = header.version;
    r.kind = header.isControl ? 'control' : 'data';
    r.tunnelId = header.isControl || header.version === 2 ? header.tunnelId : undefined;
    r.sessionId = header.version === 3 && header.isControl ? undefined : header.sessionId;
    r.ns = header.ns;
    r.nr = header.nr;
    try {
      if (header.isControl) this.decodeControl(payload, header, origin, r);
      else this.decodeData(payload, header, origin, r);
    } catch (e) {
      r.error = errorReport(e);
    }
    return r;
  }

  private decodeControl(payload: Buffer, header: HeaderInfo, origin: PacketOrigin, r: PacketReport): void {
    // The codec derives the L2TPv3 hiding key (RFC 3931 §5.3) from the secret itself.
    const secret = this.secret;
    let decoded: DecodedControl;
    try {
      decoded = controlOf(decodePacket(payload, { transport: origin.transport, secret, keepHidden: true }));
    } catch (e) {
      // A wrong secret fails at the first hidden AVP: still show the message, with that AVP left hidden.
      if (!(e instanceof HiddenAvpError) || !secret) throw e;
      decoded = controlOf(decodePacket(payload, { transport: origin.transport, keepHidden: true }));
      r.error = errorReport(e);
    }
    const m = decoded.message;
    r.messageType = m.messageType;
    r.messageName = messageName(m.messageType);
    r.violation = decoded.violation;
    const verdicts = this.auth.observe(decoded, origin, payload);
    if (m.messageType === undefined) return;
    r.avps.push({
      index: 0,
      vendorId: 0,
      type: Avp.MessageType.type,
      name: Avp.MessageType.title,
      mandatory: m.messageTypeMandatory,
      hidden: false,
      value: m.messageType,
      undecoded: undefined,
      raw: undefined,
      verified: undefined,
      spec: AVP_BY_TYPE[Avp.MessageType.type],
    });
    const byInstance = new Map<AvpInstance, AvpReport>();
    m.avps.forEach((a, i) => {
      const report = avpReport(a, i + 1, m.version, verdicts);
      byInstance.set(a, report);
      r.avps.push(report);
    });
    r.unexpected = decoded.unexpected.map((a) => byInstance.get(a)!).filter(Boolean);
    r.ignored = decoded.ignored.map((a) => byInstance.get(a)!).filter(Boolean);
    if (m.version === 3 && SESSION_SETUP.has(m.messageType)) this.learnV3Session(r, origin);
  }

  private learnV3Session(r: PacketReport, origin: PacketOrigin): void {
    const value = (type: number): AvpValue | undefined => r.avps.find((a) => a.type === type && a.vendorId === 0 && a.value !== undefined)?.value;
    const local = value(Avp.LocalSessionId.type) as number | undefined;
    if (local === undefined || local === 0) return;
    const key = `${origin.src ?? ''}|${local}`;
    const s = this.v3Sessions.get(key) ?? {};
    const cookie = value(Avp.AssignedCookie.type) as Buffer | undefined;
    if (r.messageType !== MessageTypes.ICCN && r.messageType !== MessageTypes.OCCN) s.cookieLength = cookie?.length ?? 0;
    const sublayer = value(Avp.L2SpecificSublayer.type) as number | undefined;
    if (sublayer !== undefined) s.defaultL2SpecificSublayer = sublayer === 1;
    const pw = value(Avp.PseudowireType.type) as number | undefined;
    const remote = value(Avp.RemoteSessionId.type) as number | undefined;
    // Only the ICRQ/OCRQ names the pseudowire type; the replying side's session inherits it from there.
    if (pw !== undefined) s.pseudowireType = pw;
    else if (remote) s.pseudowireType ??= this.v3Sessions.get(`${origin.dst ?? ''}|${remote}`)?.pseudowireType;
    this.v3Sessions.set(key, s);
  }

  private decodeData(payload: Buffer, header: HeaderInfo, origin: PacketOrigin, r: PacketReport): void {
    let framing: DataReport['framing'];
    let v3Data: V3SessionFraming | undefined;
    let session: V3Session | undefined;
    if (header.version === 3) {
      session = this.v3Sessions.get(`${origin.dst ?? ''}|${header.sessionId}`);
      const given = this.opts.cookieLength !== undefined || this.opts.l2SpecificSublayer !== undefined;
      framing = given ? 'options' : session ? 'capture' : 'none';
      v3Data = {
        cookieLength: this.opts.cookieLength ?? session?.cookieLength ?? 0,
        defaultL2SpecificSublayer: this.opts.l2SpecificSublayer ?? session?.defaultL2SpecificSublayer ?? false,
      };
    }
    const decoded = decodePacket(payload, { transport: origin.transport, v3Data });
    if (decoded.kind !== 'data') return;
    r.data = dataReport(decoded.data, framing, session?.pseudowireType);
  }
}

function controlOf(p: ReturnType<typeof decodePacket>): DecodedControl {
  if (p.kind !== 'control') throw new Error('control header decoded as data');
  return p;
}

function emptyReport(length: number, o: PacketOrigin): PacketReport {
  return {
    index: o.index,
    timeNs: o.timeNs,
    src: o.src,
    dst: o.dst,
    sport: o.sport,
    dport: o.dport,
    transport: o.transport,
    length,
    version: undefined,
    kind: undefined,
    messageType: undefined,
    messageName: undefined,
    tunnelId: undefined,
    sessionId: undefined,
    ns: undefined,
    nr: undefined,
    avps: [],
    violation: undefined,
    unexpected: [],
    ignored: [],
    data: undefined,
    error: undefined,
  };
}

function avpReport(a: AvpInstance, index: number, version: 2 | 3, verdicts: Verdicts): AvpReport {
  const spec = a.vendorId === 0 ? AVP_BY_TYPE[a.type] : undefined;
  const name = spec ? avpTitle(spec, version) : a.vendorId === 0 ? `Unknown attribute ${a.type}` : `Vendor ${a.vendorId} attribute ${a.type}`;
  return {
    index,
    vendorId: a.vendorId,
    type: a.type,
    name,
    mandatory: a.mandatory,
    hidden: a.hidden,
    value: a.undecoded ? undefined : a.value,
    undecoded: a.undecoded,
    raw: a.undecoded ? (a.value as Buffer) : undefined,
    verified: verdicts.get(a),
    spec,
  };
}

function dataReport(d: DataMessage, framing: DataReport['framing'], pseudowireType: number | undefined): DataReport {
  const isPpp = d.version === 2 || pseudowireType === 0x0007;
  const isEthernet = d.version === 3 && (pseudowireType === 0x0004 || pseudowireType === 0x0005);
  return {
    payloadLength: d.payload.length,
    priority: d.version === 2 ? d.priority : undefined,
    offsetSize: d.version === 2 ? d.offsetSize : undefined,
    cookie: d.version === 3 ? d.cookie : undefined,
    l2SpecificSublayer: d.version === 3 ? d.l2SpecificSublayer : undefined,
    framing,
    pseudowireType,
    ppp: isPpp ? describePpp(d.payload) : null,
    ethernet: isEthernet ? describeEthernet(d.payload) : null,
  };
}

export function errorReport(e: unknown): ErrorReport {
  if (e instanceof L2tpCodecError) return { name: e.name, message: e.message, field: e.field, offset: e.offset };
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, field: undefined, offset: undefined };
}
