/**
 * Copy-on-write state views used during execution: the block overlay reads through to committed
 * state; each transaction gets a child overlay that is merged on success and dropped on failure.
 * Map keys are latin1 strings of the key bytes (1:1 and cheaper than hex).
 */
export type StateReader = (key: Uint8Array) => Uint8Array | null;

interface Entry {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

function mapKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

export class StateOverlay {
  private readonly writes = new Map<string, Entry>();

  constructor(private readonly base: StateReader) {}

  get(key: Uint8Array): Uint8Array | null {
    const hit = this.writes.get(mapKey(key));
    return hit === undefined ? this.base(key) : hit.value;
  }

  set(key: Uint8Array, value: Uint8Array): void {
    this.writes.set(mapKey(key), { key, value });
  }

  delete(key: Uint8Array): void {
    this.writes.set(mapKey(key), { key, value: null });
  }

  child(): StateOverlay {
    return new StateOverlay((key) => this.get(key));
  }

  /** Applies this overlay's writes to `parent` (the overlay it was created from). */
  mergeInto(parent: StateOverlay): void {
    for (const entry of this.writes.values()) {
      if (entry.value === null) parent.delete(entry.key);
      else parent.set(entry.key, entry.value);
    }
  }

  /** Writes in key order: the order is part of nothing hashed, but keeps storage writes deterministic. */
  entries(): Entry[] {
    return [...this.writes.values()].sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
  }
}
