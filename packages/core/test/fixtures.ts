/** Builds small, fully valid chains in memory for core tests: genesis, signed txs, blocks, commits, receipts. */
import assert from "node:assert/strict";
import {
  addressOf,
  applySmtUpdates,
  type BlockHeader,
  blockHash,
  type CommitCertificate,
  type CryptoSuite,
  encodeEvidenceRecord,
  encodeResult,
  evidenceRecordKey,
  type Genesis,
  type GenesisDoc,
  getSuite,
  type KeyPair,
  loadGenesis,
  merkleProof,
  merkleRoot,
  precommitSignBytes,
  type Receipt,
  type SmtNodeReader,
  type SuiteId,
  signTx,
  smtEmptyRoot,
  smtProve,
  TallyError,
  toHex,
} from "../src/index.js";

export class MapReader implements SmtNodeReader {
  readonly nodes = new Map<string, Uint8Array>();
  getNode(ref: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(toHex(ref));
  }
  add(nodes: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): void {
    for (const [ref, record] of nodes) this.nodes.set(toHex(ref), record);
  }
}

export interface TestChain {
  readonly suite: CryptoSuite;
  readonly genesis: Genesis;
  readonly validators: KeyPair[];
  readonly admin: KeyPair;
}

export function makeChain(suiteId: SuiteId, validatorCount = 1, powers?: number[]): TestChain {
  const suite = getSuite(suiteId);
  const validators = Array.from({ length: validatorCount }, () => suite.generateKeyPair());
  const admin = suite.generateKeyPair();
  const doc: GenesisDoc = {
    chainId: "test-chain",
    crypto: suiteId,
    genesisTimeMs: 1_700_000_000_000,
    validators: validators.map((v, i) => ({ name: `v${i}`, publicKey: toHex(v.publicKey), power: powers?.[i] ?? 1 })),
    orgs: [{ id: "consortium", name: "Consortium" }],
    accounts: [{ publicKey: toHex(admin.publicKey), org: "consortium", roles: ["admin"] }],
  };
  return { suite, genesis: loadGenesis(doc), validators, admin };
}

/** Signs a precommit for `header` by each key in `signers` (keys must be validators). */
export function commitBy(chain: TestChain, header: BlockHeader, signers: KeyPair[], round = 0): CommitCertificate {
  const hash = blockHash(chain.suite, header);
  const signBytes = precommitSignBytes(header.chainId, header.height, round, hash);
  const set = chain.genesis.validators.validators;
  return {
    height: header.height,
    round,
    blockHash: hash,
    signatures: signers.map((k) => ({
      validator: set.findIndex((v) => toHex(v.publicKey) === toHex(k.publicKey)),
      signature: chain.suite.sign(k.privateKey, signBytes),
    })),
  };
}

/** A one-block chain notarising `digest` by the admin, and a receipt proving the evidence record. */
export function notarisedReceipt(chain: TestChain, digest: Uint8Array, signers = chain.validators): Receipt {
  const { suite, genesis, admin } = chain;
  const { bytes: tx } = signTx(suite, admin, { chainId: "test-chain", nonce: 0, module: "evidence", method: "notarize", args: { digest } });
  const txHash = suite.hash(tx);
  const height = 1;
  const timeMs = genesis.doc.genesisTimeMs + 1000;
  const submitter = addressOf(suite, admin.publicKey);
  const record = encodeEvidenceRecord({ digest, submitter, height, timeMs, txHash, label: null, metadata: null });
  const key = evidenceRecordKey(digest);
  const reader = new MapReader();
  const { root, newNodes } = applySmtUpdates(
    suite.hash,
    reader,
    smtEmptyRoot(),
    [{ path: suite.hash(key), valueHash: suite.hash(record), value: record }],
    height,
  );
  reader.add(newNodes);
  const result = encodeResult({ txHash, status: "ok", code: null, message: null, value: null, events: [] });
  const header: BlockHeader = {
    chainId: "test-chain",
    height,
    timeMs,
    prevHash: genesis.hash,
    txCount: 1,
    txRoot: merkleRoot(suite.hash, [tx]),
    stateRoot: root.hash,
    resultsRoot: merkleRoot(suite.hash, [result]),
    validatorsHash: genesis.validators.hash,
    nextValidatorsHash: genesis.validators.hash,
    proposer: chain.validators[0]?.publicKey ?? new Uint8Array(32),
  };
  return {
    header,
    commit: commitBy(chain, header, signers),
    tx,
    txProof: merkleProof(suite.hash, [tx], 0),
    result,
    resultProof: merkleProof(suite.hash, [result], 0),
    state: { key, value: record, proof: smtProve(reader, root, suite.hash(key)).proof },
  };
}

/** The TallyError code `fn` throws, or "none". Any other exception fails the test. */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TallyError, `expected a TallyError, got ${String(err)}`);
    return err.code;
  }
  return "none";
}
