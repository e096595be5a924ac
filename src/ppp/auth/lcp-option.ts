/**
 * The LCP Authentication-Protocol option (RFC 1661 §6.2, type 3) data for each protocol here: the PPP protocol
 * number, and for CHAP the Algorithm octet (RFC 1994 §3: 5 = MD5; RFC 2759 §2: 0x81 = MS-CHAPv2). PAP has no
 * data after the protocol (RFC 1334 §2.1).
 */
import { CHAP_MD5, CHAP_MSCHAPV2, PPP_CHAP, PPP_PAP, type AuthProtocolName } from './types.js';

const OPTION_DATA: Readonly<Record<AuthProtocolName, readonly number[]>> = {
  pap: [PPP_PAP >> 8, PPP_PAP & 0xff],
  chap: [PPP_CHAP >> 8, PPP_CHAP & 0xff, CHAP_MD5],
  mschapv2: [PPP_CHAP >> 8, PPP_CHAP & 0xff, CHAP_MSCHAPV2],
};

/** PPP protocol number that carries each authentication protocol's packets. */
export const AUTH_PPP_PROTOCOL: Readonly<Record<AuthProtocolName, number>> = { pap: PPP_PAP, chap: PPP_CHAP, mschapv2: PPP_CHAP };

/** Option data (after Type and Length) asking the peer to authenticate with `name`. */
export function authProtocolOptionData(name: AuthProtocolName): Buffer {
  return Buffer.from(OPTION_DATA[name]);
}

/** OPTION_DATA's entries, listed once: every received Authentication-Protocol option is looked up here. */
const OPTION_ENTRIES = Object.entries(OPTION_DATA) as [AuthProtocolName, readonly number[]][];

/** The protocol an Authentication-Protocol option's data asks for, or undefined if we do not do it. */
export function authProtocolOfOptionData(data: Uint8Array): AuthProtocolName | undefined {
  for (const [name, want] of OPTION_ENTRIES) {
    if (data.length === want.length && want.every((b, i) => data[i] === b)) return name;
  }
  return undefined;
}
