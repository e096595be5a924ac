/**
 * Slow start and congestion avoidance for the control channel, RFC 2661 Appendix A (RFC 3931
 * Appendix A is the same text), after TCP (Stevens §21.6).
 */
import { MAX_WINDOW } from './control-channel-config.js';

export class CongestionWindow {
  /** "CWND is initialized to one packet". */
  cwnd = 1;
  /** "SSTHRESH is initialized to the advertised window (obtained from the Receive Window AVP)". */
  ssthresh: number;
  /** Acks counted towards the next +1 during congestion avoidance. */
  caAcks = 0;
  private lossSeen = false;

  constructor(private peerRws: number) {
    this.ssthresh = peerRws;
  }

  get peerReceiveWindowSize(): number {
    return this.peerRws;
  }

  /** How many messages may be unacknowledged: CWND "is never allowed to exceed" the peer's window. */
  get window(): number {
    return this.cwnd < this.peerRws ? this.cwnd : this.peerRws;
  }

  /**
   * One message acknowledged: +1 in slow start (cwnd < ssthresh), +1 per cwnd acks in congestion
   * avoidance. Counting acknowledged messages rather than ack packets keeps the appendix's
   * "doubling CWND with each round trip" when the peer acknowledges several messages at once.
   */
  onAck(): void {
    if (this.cwnd >= this.peerRws) {
      this.cwnd = this.peerRws;
      this.caAcks = 0;
    } else if (this.cwnd < this.ssthresh) {
      this.cwnd++;
    } else if (++this.caAcks >= this.cwnd) {
      this.cwnd++;
      this.caAcks = 0;
    }
  }

  /** "one half of the CWND is saved in SSTHRESH, and CWND is set to one" — floor, and at least 1. */
  onTimeout(): void {
    this.lossSeen = true;
    this.ssthresh = Math.max(this.cwnd >> 1, 1);
    this.cwnd = 1;
    this.caAcks = 0;
  }

  /** The Receive Window Size AVP arrived (SCCRQ/SCCRP); clamped so sequence comparisons stay valid. */
  setPeerReceiveWindowSize(n: number): void {
    const w = Math.min(n, MAX_WINDOW);
    this.peerRws = w;
    // Appendix A initialises SSTHRESH to the advertised window; keep a lower value a loss has set.
    this.ssthresh = this.lossSeen ? Math.min(this.ssthresh, w) : w;
    if (this.cwnd > w) this.cwnd = w;
  }

  restore(s: { peerReceiveWindowSize: number; cwnd: number; ssthresh: number; congestionAvoidanceAcks: number; timeouts: number }): void {
    this.peerRws = Math.min(s.peerReceiveWindowSize, MAX_WINDOW);
    this.cwnd = Math.min(s.cwnd, this.peerRws);
    this.ssthresh = s.ssthresh;
    this.caAcks = s.congestionAvoidanceAcks;
    this.lossSeen = s.timeouts > 0;
  }
}
