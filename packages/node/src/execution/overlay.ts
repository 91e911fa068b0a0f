/**
 * Copy-on-write state views used during execution: the block overlay reads through to committed
 * state; each transaction gets a child overlay that is merged on success and dropped on failure.
 * Map keys are latin1 strings of the key bytes (1:1 and cheaper than hex).
 */
import { isTallyError, type TallyError } from "@tally/core";

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

/** Where a call's writes go: the innermost open step (a transaction's overlay, or a nested one). */
export interface OverlayCursor {
  current: StateOverlay;
}

/**
 * `CallContext.attempt` (spec/execution.md): runs `fn` on a child of `cursor.current`; keeps its writes
 * and the events it appended when it returns, drops both and returns the error when it throws a
 * TallyError. Any other error propagates (a bug stops the node).
 */
export function attemptStep<T>(
  cursor: OverlayCursor,
  events: { length: number },
  fn: () => T,
): { ok: true; value: T } | { ok: false; error: TallyError } {
  const outer = cursor.current;
  const eventCount = events.length;
  cursor.current = outer.child();
  try {
    const value = fn();
    cursor.current.mergeInto(outer);
    return { ok: true, value };
  } catch (err) {
    if (!isTallyError(err)) throw err;
    events.length = eventCount;
    return { ok: false, error: err };
  } finally {
    cursor.current = outer;
  }
}
