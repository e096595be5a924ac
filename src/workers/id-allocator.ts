/**
 * Allocation of tunnel and session IDs: O(1) allocate and release, never 0, never an ID in use.
 * IDs can be restricted to one residue class (id % stride == residue) so the ID names its shard.
 *
 * A cursor walks the ID space; released IDs go on a free list and are reused only after the cursor
 * has wrapped, so a just-closed ID is not handed out again at once (a late retransmission for the
 * old tunnel/session would otherwise hit the new one).
 */
export class IdAllocator {
  private readonly used = new Set<number>();
  private readonly free: number[] = [];
  private cursor: number;
  private wrapped = false;

  constructor(
    private readonly min: number,
    private readonly max: number,
    private readonly stride = 1,
    private readonly residue = 0,
  ) {
    this.cursor = this.first();
  }

  private first(): number {
    let v = this.min + ((this.residue - (this.min % this.stride) + this.stride) % this.stride);
    if (v === 0) v += this.stride;
    return v;
  }

  get size(): number {
    return this.used.size;
  }

  allocate(): number | undefined {
    while (!this.wrapped && this.cursor <= this.max) {
      const id = this.cursor;
      this.cursor += this.stride;
      if (this.used.has(id)) continue; // claimed by a restore: a restarted shard's first new tunnel must not get ID 1 again
      this.used.add(id);
      return id;
    }
    this.wrapped = true;
    while (this.free.length > 0) {
      const id = this.free.shift()!;
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
    return undefined;
  }

  /** Mark an ID as taken (restoring state after a restart). */
  claim(id: number): boolean {
    if (this.used.has(id)) return false;
    this.used.add(id);
    return true;
  }

  release(id: number): void {
    if (this.used.delete(id)) this.free.push(id);
  }
}
