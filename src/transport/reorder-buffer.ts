/**
 * Holds control messages that arrived ahead of a gap until the gap fills (RFC 2661 §5.8: "Messages
 * arriving out of order may be queued for in-order delivery when the missing messages are
 * received"). A ring of exactly our Receive Window Size slots: slot `head` is the next expected Ns,
 * so placing and draining are O(1) and the buffer can never outgrow the window we advertised.
 */
export class ReorderBuffer<M extends NonNullable<unknown>> {
  private slots: (M | undefined)[] | null = null; // allocated on the first out-of-order arrival
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.count;
  }

  /** Stores `msg` at `offset` (1..capacity-1) past the next expected Ns; false if already held. */
  put(offset: number, msg: M): boolean {
    const slots = (this.slots ??= new Array<M | undefined>(this.capacity).fill(undefined));
    const i = (this.head + offset) % this.capacity;
    if (slots[i] !== undefined) return false;
    slots[i] = msg;
    this.count++;
    return true;
  }

  /** The message held for the next expected Ns, if any. */
  peek(): M | undefined {
    return this.count > 0 ? this.slots![this.head] : undefined;
  }

  /** The next expected Ns moved on by one: its slot (delivered, or never filled) is released. */
  advance(): void {
    const slots = this.slots;
    if (slots === null) return;
    if (slots[this.head] !== undefined) {
      slots[this.head] = undefined;
      this.count--;
    }
    this.head = (this.head + 1) % this.capacity;
  }

  /** Held messages in ascending Ns, given the next expected Ns. */
  entries(nextNs: number): { ns: number; msg: M }[] {
    const out: { ns: number; msg: M }[] = [];
    if (this.slots === null || this.count === 0) return out;
    for (let off = 1; off < this.capacity; off++) {
      const m = this.slots[(this.head + off) % this.capacity];
      if (m !== undefined) out.push({ ns: (nextNs + off) & 0xffff, msg: m });
    }
    return out;
  }
}
