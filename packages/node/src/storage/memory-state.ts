/**
 * Committed state and state-tree nodes in memory, read the way a node's store is read: for in-memory
 * chains (`@tally/contract/testing`, module tests), never for a node, which keeps them in LMDB.
 */
import type { SmtNodeReader, SmtRoot } from "@tally/core";
import type { StateWrite } from "./chain-store.js";

function hexKey(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("hex");
}

export class MemoryState implements SmtNodeReader {
  readonly values = new Map<string, Uint8Array>();
  readonly nodes = new Map<string, Uint8Array>();
  root!: SmtRoot;
  /** Height of the last block applied (0: genesis). */
  height = 0;

  read = (key: Uint8Array): Uint8Array | null => this.values.get(hexKey(key)) ?? null;

  /** Entries under `prefix` in key order, strictly after `after`, at most `limit` (ChainStore.scanState). */
  scan = (prefix: Uint8Array, limit: number, after?: Uint8Array): Array<[Uint8Array, Uint8Array]> => {
    const p = hexKey(prefix);
    const a = after === undefined ? undefined : hexKey(after);
    return [...this.values.entries()]
      .filter(([k]) => k.startsWith(p) && (a === undefined || k > a))
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .slice(0, limit)
      .map(([k, v]) => [Uint8Array.from(Buffer.from(k, "hex")), v]);
  };

  getNode(ref: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(hexKey(ref));
  }

  /** Applies a block's (or the genesis's) execution output. */
  apply(out: { stateWrites: readonly StateWrite[]; stateRoot: SmtRoot; smtNodes: ReadonlyArray<readonly [Uint8Array, Uint8Array]> }): void {
    for (const w of out.stateWrites) {
      if (w.value === null) this.values.delete(hexKey(w.key));
      else this.values.set(hexKey(w.key), w.value);
    }
    for (const [ref, record] of out.smtNodes) this.nodes.set(hexKey(ref), record);
    this.root = out.stateRoot;
  }
}
