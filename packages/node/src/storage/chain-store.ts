/**
 * The node's embedded database (LMDB). A block, its results, its commit certificate and the state it
 * produces are written in one LMDB transaction (spec/storage.md), so after a crash the database holds
 * either all of block h or none of it. `commitBlock` resolves only once the data is flushed to disk:
 * the API reports a transaction committed after that, never before.
 */
import {
  type Block,
  type BlockHeader,
  type CommitCertificate,
  concatBytes,
  decode,
  decodeBlock,
  decodeCommit,
  decodeHeader,
  encode,
  encodeBlock,
  encodeCommit,
  encodeHeader,
  plainBytes,
  type SmtNodeReader,
  type SmtRoot,
  type Value,
} from "@tally/core";
import { type Database, open, type RootDatabase } from "lmdb";
import { Bucket, MetaKey } from "./buckets.js";
import { bucketKey, heightKey, metaKey, readTxLocation, readU64, txLocation, u64 } from "./keys.js";

export interface StateWrite {
  readonly key: Uint8Array;
  /** null deletes the key. */
  readonly value: Uint8Array | null;
}

export interface BlockCommit {
  readonly block: Block;
  readonly blockHash: Uint8Array;
  readonly txHashes: readonly Uint8Array[];
  /** Sender address (20 bytes) of each transaction, in block order. */
  readonly txSenders: readonly Uint8Array[];
  readonly results: readonly Uint8Array[];
  readonly commit: CommitCertificate;
  readonly stateWrites: readonly StateWrite[];
  readonly stateRoot: SmtRoot;
  readonly smtNodes: ReadonlyArray<readonly [Uint8Array, Uint8Array]>;
}

export interface SenderTx {
  readonly height: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

export interface GenesisCommit {
  readonly genesisHash: Uint8Array;
  readonly stateRoot: SmtRoot;
  readonly stateWrites: readonly StateWrite[];
  readonly smtNodes: ReadonlyArray<readonly [Uint8Array, Uint8Array]>;
}

export class ChainStore implements SmtNodeReader {
  private readonly db: RootDatabase<Buffer, Buffer>;
  private readonly raw: Database<Buffer, Buffer>;

  private constructor(path: string) {
    this.db = open<Buffer, Buffer>({ path, encoding: "binary", keyEncoding: "binary", compression: false });
    this.raw = this.db;
  }

  static open(path: string): ChainStore {
    return new ChainStore(path);
  }

  async close(): Promise<void> {
    await this.db.flushed;
    await this.db.close();
  }

  private get(key: Buffer): Uint8Array | undefined {
    const v = this.raw.get(key);
    return v === undefined ? undefined : plainBytes(v);
  }

  headHeight(): number {
    const v = this.get(metaKey(MetaKey.head));
    return v === undefined ? 0 : readU64(v);
  }

  genesisHash(): Uint8Array | undefined {
    return this.get(metaKey(MetaKey.genesisHash));
  }

  genesisStateRoot(): Uint8Array | undefined {
    return this.get(metaKey(MetaKey.genesisStateRoot));
  }

  header(height: number): BlockHeader | undefined {
    const v = this.get(heightKey(Bucket.header, height));
    return v === undefined ? undefined : decodeHeader(v);
  }

  block(height: number): Block | undefined {
    const v = this.get(heightKey(Bucket.block, height));
    return v === undefined ? undefined : decodeBlock(v);
  }

  commit(height: number): CommitCertificate | undefined {
    const v = this.get(heightKey(Bucket.commit, height));
    return v === undefined ? undefined : decodeCommit(v);
  }

  results(height: number): Uint8Array[] | undefined {
    const v = this.get(heightKey(Bucket.results, height));
    return v === undefined ? undefined : (decode(v) as Uint8Array[]);
  }

  heightOfBlock(hash: Uint8Array): number | undefined {
    const v = this.get(bucketKey(Bucket.blockByHash, hash));
    return v === undefined ? undefined : readU64(v);
  }

  txLocation(hash: Uint8Array): { height: number; index: number } | undefined {
    const v = this.get(bucketKey(Bucket.txByHash, hash));
    return v === undefined ? undefined : readTxLocation(v);
  }

  /**
   * Transactions signed by `sender` (20-byte address), in commit order, at most `limit`, strictly after
   * the position `after` if given.
   */
  *txsBySender(sender: Uint8Array, limit: number, after?: { height: number; index: number }): Generator<SenderTx> {
    const prefix = bucketKey(Bucket.txBySender, sender);
    const start = after === undefined ? prefix : Buffer.concat([prefix, txLocation(after.height, after.index)]);
    const end = bucketKey(Bucket.txBySender, prefixEnd(sender));
    let count = 0;
    for (const { key, value } of this.raw.getRange({ start, end })) {
      const location = readTxLocation(key.subarray(prefix.length));
      if (after !== undefined && location.height === after.height && location.index === after.index) continue;
      yield { ...location, hash: plainBytes(value) };
      if (++count >= limit) return;
    }
  }

  stateValue(key: Uint8Array): Uint8Array | undefined {
    return this.get(bucketKey(Bucket.stateLatest, key));
  }

  getNode(ref: Uint8Array): Uint8Array | undefined {
    return this.get(bucketKey(Bucket.smtNode, ref));
  }

  /** The state tree root after `height` (0: genesis), or undefined if that height is not stored. */
  stateRoot(height: number, rootHash: Uint8Array): SmtRoot | undefined {
    const ref = this.get(heightKey(Bucket.smtRootRef, height));
    if (ref === undefined) return undefined;
    return { hash: rootHash, ref: ref.length === 0 ? null : ref };
  }

  /** Latest values of keys starting with `prefix`, in key order, at most `limit`, after `after` if given. */
  *scanState(prefix: Uint8Array, limit: number, after?: Uint8Array): Generator<[Uint8Array, Uint8Array]> {
    // Never start before the prefix, whatever cursor a caller passes.
    const from = after !== undefined && Buffer.compare(Buffer.from(after), Buffer.from(prefix)) > 0 ? after : prefix;
    const start = bucketKey(Bucket.stateLatest, from);
    const end = bucketKey(Bucket.stateLatest, prefixEnd(prefix));
    let count = 0;
    for (const { key, value } of this.raw.getRange({ start, end })) {
      const stateKey = plainBytes(key.subarray(1));
      if (after !== undefined && Buffer.compare(Buffer.from(stateKey), Buffer.from(after)) === 0) continue;
      yield [stateKey, plainBytes(value)];
      if (++count >= limit) return;
    }
  }

  private putState(
    height: number,
    writes: readonly StateWrite[],
    root: SmtRoot,
    nodes: ReadonlyArray<readonly [Uint8Array, Uint8Array]>,
  ): void {
    for (const w of writes) {
      const key = bucketKey(Bucket.stateLatest, w.key);
      if (w.value === null) this.raw.remove(key);
      else this.raw.put(key, Buffer.from(w.value));
    }
    for (const [ref, record] of nodes) this.raw.put(bucketKey(Bucket.smtNode, ref), Buffer.from(record));
    this.raw.put(heightKey(Bucket.smtRootRef, height), Buffer.from(root.ref ?? new Uint8Array(0)));
  }

  async commitGenesis(g: GenesisCommit): Promise<void> {
    await this.db.transaction(() => {
      this.putState(0, g.stateWrites, g.stateRoot, g.smtNodes);
      this.raw.put(metaKey(MetaKey.genesisHash), Buffer.from(g.genesisHash));
      this.raw.put(metaKey(MetaKey.genesisStateRoot), Buffer.from(g.stateRoot.hash));
      this.raw.put(metaKey(MetaKey.head), u64(0));
    });
    await this.db.flushed;
  }

  /** Writes block h atomically and resolves once it is durable. */
  async commitBlock(c: BlockCommit): Promise<void> {
    const { height } = c.block.header;
    await this.db.transaction(() => {
      this.putState(height, c.stateWrites, c.stateRoot, c.smtNodes);
      this.raw.put(heightKey(Bucket.header, height), Buffer.from(encodeHeader(c.block.header)));
      this.raw.put(heightKey(Bucket.block, height), Buffer.from(encodeBlock(c.block)));
      this.raw.put(heightKey(Bucket.commit, height), Buffer.from(encodeCommit(c.commit)));
      this.raw.put(heightKey(Bucket.results, height), Buffer.from(encode(c.results as Value)));
      this.raw.put(bucketKey(Bucket.blockByHash, c.blockHash), u64(height));
      c.txHashes.forEach((hash, index) => {
        this.raw.put(bucketKey(Bucket.txByHash, hash), txLocation(height, index));
      });
      c.txSenders.forEach((sender, index) => {
        const hash = c.txHashes[index];
        if (hash !== undefined)
          this.raw.put(bucketKey(Bucket.txBySender, concatBytes(sender, txLocation(height, index))), Buffer.from(hash));
      });
      this.raw.put(metaKey(MetaKey.head), u64(height));
    });
    await this.db.flushed;
  }
}

/** The smallest byte string greater than every string that starts with `prefix`. */
function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return new Uint8Array([0xff, 0xff, 0xff, 0xff]);
}
