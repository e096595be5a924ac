/**
 * Proxy LCP and proxy authentication (RFC 2661 §4.4.5, §9.5): the LAC already ran LCP (and maybe
 * authentication) with the subscriber and hands the LNS what was negotiated in the ICCN.
 *
 * We take over the LAC's LCP only when we would have agreed to the same thing ourselves:
 * - both Last Sent (the LAC's side, now ours) and Last Received (the subscriber's) are present and
 *   well formed; the Initial Received request is informational only;
 * - the subscriber's options are ones our LCP policy would Ack as they are (no Nak, no Reject);
 * - our side holds only options we understand, with an MRU of at least 128, no equal Magic-Numbers
 *   (a loop), and an Authentication-Protocol we offer exactly when we require authentication.
 * Otherwise LCP is renegotiated from scratch, which RFC 2661 §4.4.5 allows the LNS at any time.
 *
 * Proxy authentication is used only with the protocol LCP agreed (PAP for types 1 and 3, CHAP-MD5
 * for type 2; MS-CHAPv1 is not supported and MS-CHAPv2 has no proxy type); otherwise the LNS runs
 * its own round with the negotiated protocol (§9.5 "requiring a new round of PPP authentication").
 * The LNS answers the subscriber itself, with the Identifier the LAC used (Proxy Authen ID).
 */
import { ChapCode, encodeChap, encodePap, PapCode } from './auth/packets.js';
import { PPP_CHAP, PPP_PAP, type AuthProtocolName, type AuthRequest } from './auth/types.js';
import { decodeOptions, PppCodecError, type PppOption } from './frame.js';
import { LcpOption, MIN_MRU, parseAuthOption, type LcpPolicy } from './lcp.js';
import { ProxyAuthenType, type ProxyAuth, type ProxyLcp } from './types.js';

export type ProxyLcpVerdict = { ok: true; ours: PppOption[]; peers: PppOption[]; auth?: AuthProtocolName } | { ok: false; reason: string };

const OUR_SIDE_OPTIONS = new Set<number>([
  LcpOption.MaximumReceiveUnit,
  LcpOption.AsyncControlCharacterMap,
  LcpOption.AuthenticationProtocol,
  LcpOption.MagicNumber,
  LcpOption.ProtocolFieldCompression,
  LcpOption.AddressControlFieldCompression,
]);

export function judgeProxyLcp(p: ProxyLcp, policy: LcpPolicy, auth: readonly AuthProtocolName[]): ProxyLcpVerdict {
  if (!p.lastSentConfReq || !p.lastReceivedConfReq) return { ok: false, reason: 'no Last Sent/Last Received LCP CONFREQ' };
  let ours: PppOption[];
  let peers: PppOption[];
  try {
    ours = decodeOptions(p.lastSentConfReq);
    peers = decodeOptions(p.lastReceivedConfReq);
  } catch (e) {
    if (e instanceof PppCodecError) return { ok: false, reason: `malformed proxy LCP CONFREQ: ${e.message}` };
    throw e;
  }
  const j = policy.judge(peers);
  if (j.fatal || j.nakOnly || j.reject.length || j.nak.length) return { ok: false, reason: "we would not Ack the subscriber's LCP options" };
  let agreedAuth: AuthProtocolName | undefined;
  let magic = 0;
  for (const o of ours) {
    if (!OUR_SIDE_OPTIONS.has(o.type)) return { ok: false, reason: `the LAC negotiated LCP option ${o.type}` };
    const len = o.type === LcpOption.AuthenticationProtocol ? undefined : { 1: 2, 2: 4, 5: 4, 7: 0, 8: 0 }[o.type];
    if (len !== undefined && o.data.length !== len) return { ok: false, reason: `malformed LCP option ${o.type}` };
    if (o.type === LcpOption.MaximumReceiveUnit && o.data.readUInt16BE(0) < MIN_MRU) return { ok: false, reason: 'MRU below 128' };
    if (o.type === LcpOption.MagicNumber) magic = o.data.readUInt32BE(0);
    if (o.type === LcpOption.AuthenticationProtocol) {
      agreedAuth = parseAuthOption(o.data);
      if (!agreedAuth || !auth.includes(agreedAuth)) return { ok: false, reason: 'the LAC negotiated an authentication protocol we do not offer' };
    }
  }
  if (auth.length > 0 && !agreedAuth) return { ok: false, reason: 'the LAC negotiated no authentication and we require it' };
  const peerMagic = peers.find((o) => o.type === LcpOption.MagicNumber)?.data.readUInt32BE(0) ?? 0;
  if (magic !== 0 && magic === peerMagic) return { ok: false, reason: 'equal Magic-Numbers (looped back)' };
  return { ok: true, ours, peers, ...(agreedAuth ? { auth: agreedAuth } : {}) };
}

/** The verifier request for proxy authentication data, or undefined when we must authenticate ourselves. */
export function proxyAuthRequest(a: ProxyAuth | undefined, agreed: AuthProtocolName | undefined): AuthRequest | undefined {
  if (!a || a.name === undefined || !a.response) return undefined;
  if (agreed === 'pap' && (a.type === ProxyAuthenType.Pap || a.type === ProxyAuthenType.Textual)) {
    return { protocol: 'pap', user: a.name, password: a.response.toString('utf8') };
  }
  if (agreed === 'chap' && a.type === ProxyAuthenType.Chap && a.challenge && a.id !== undefined) {
    return { protocol: 'chap', user: a.name, id: a.id & 0xff, challenge: a.challenge, response: a.response };
  }
  return undefined;
}

/** PAP Authenticate-Ack/Nak or CHAP Success/Failure for the subscriber, with the LAC's Identifier. */
export function proxyAuthReply(agreed: AuthProtocolName, id: number, ok: boolean, message: string): { protocol: number; packet: Buffer } {
  const text = Buffer.from(message.slice(0, 200), 'utf8');
  if (agreed === 'pap') {
    return { protocol: PPP_PAP, packet: encodePap({ code: ok ? PapCode.AuthenticateAck : PapCode.AuthenticateNak, id: id & 0xff, message: text }) };
  }
  return { protocol: PPP_CHAP, packet: encodeChap({ code: ok ? ChapCode.Success : ChapCode.Failure, id: id & 0xff, message: text }) };
}
