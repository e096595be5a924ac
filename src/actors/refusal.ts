/**
 * A Result Code (RFC 2661 §4.4.2, RFC 3931 §5.4.2) as the machines see it (`Refusal`), to and from
 * the Result Code AVP of StopCCN and CDN, and as text for logs and `l2tpctl`.
 */
import { avp, getAvp, type AvpInstance, type ControlMessage } from '../protocol/index.js';
import type { Refusal } from './tunnel-machine.js';

/** The Result Code AVP for `r`: an Error Code is sent when there is one or a message needs it. */
export function resultCodeAvp(r: Refusal): AvpInstance {
  return avp('ResultCode', {
    result: r.resultCode,
    ...(r.errorCode !== undefined || r.message !== undefined ? { error: r.errorCode ?? 0 } : {}),
    ...(r.message !== undefined ? { message: r.message } : {}),
  });
}

/** What a received StopCCN or CDN says (Result Code 0 when the AVP is missing). */
export function refusalOf(m: ControlMessage): Refusal {
  const rc = getAvp(m, 'ResultCode');
  return { resultCode: rc?.result ?? 0, ...(rc?.error !== undefined ? { errorCode: rc.error } : {}), ...(rc?.message ? { message: rc.message } : {}) };
}

export function describeRefusal(r: Refusal): string {
  return `result ${r.resultCode}${r.errorCode !== undefined ? `/${r.errorCode}` : ''}${r.message ? ` (${r.message})` : ''}`;
}
