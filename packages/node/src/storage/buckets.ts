/**
 * Every kind of record in the node's database, as a one-byte key prefix (spec/storage.md).
 * Numbers are never reused: a retired bucket keeps its number with a comment.
 */
export enum Bucket {
  /** utf8 name -> value (see MetaKey) */
  meta = 1,
  /** height u64 BE -> encoded block header */
  header = 2,
  /** height u64 BE -> encoded block (header + txs) */
  block = 3,
  /** height u64 BE -> encoded commit certificate */
  commit = 4,
  /** height u64 BE -> CBOR array of encoded tx results */
  results = 5,
  /** block hash -> height u64 BE */
  blockByHash = 6,
  /** tx hash -> height u64 BE || index u32 BE */
  txByHash = 7,
  /** state key -> latest value (reads and range scans) */
  stateLatest = 8,
  /**
   * sparse Merkle node ref (height u64 BE || sequence u32 BE) -> node record (spec/proofs.md §storage).
   * Refs grow in write order, so a block's nodes are appended rather than scattered over the B-tree.
   */
  smtNode = 9,
  // 10: retired before release (values by hash; values now live in leaf records).
  /** height u64 BE -> ref of the state tree's root after that height (empty: the tree is empty) */
  smtRootRef = 11,
  /**
   * sender address (20 bytes) || height u64 BE || index u32 BE -> tx hash: every transaction an account
   * signed, in commit order (the audit trail, spec/api.md §audit). A node-local index, not state.
   */
  txBySender = 12,
}

export enum MetaKey {
  /** height of the last committed block, u64 BE */
  head = "head",
  /** genesis hash the database was created for */
  genesisHash = "genesis",
  /** state root hash after genesis (height 0) */
  genesisStateRoot = "genesis-state-root",
}
