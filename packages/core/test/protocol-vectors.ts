/**
 * Protocol test vectors (spec/test-vectors/protocol.json): fixed keys and inputs, and the exact bytes
 * and hashes Tally produces for them. `npx tsx packages/core/test/protocol-vectors.ts --write`
 * regenerates the file; the test recomputes every vector and requires identical output, so any
 * accidental change of a format fails CI.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  blockHash,
  encodeHeader,
  encodeTx,
  fromHex,
  getSuite,
  loadGenesis,
  precommitSignBytes,
  type SuiteId,
  signTx,
  toHex,
  txSignBytes,
} from "../src/index.js";

export const VECTORS_PATH = join(import.meta.dirname, "..", "..", "..", "spec", "test-vectors", "protocol.json");

export function computeVectors(suiteId: SuiteId, signatureFor?: (signBytes: Uint8Array) => Uint8Array) {
  const suite = getSuite(suiteId);
  const key = suite.keyPairFromPrivate(fromHex(`${"01".repeat(31)}02`));
  const genesisDoc = {
    chainId: "vector-chain",
    crypto: suiteId,
    genesisTimeMs: 1_700_000_000_000,
    validators: [{ name: "v0", publicKey: toHex(key.publicKey), power: 1 }],
    orgs: [{ id: "consortium", name: "Consortium" }],
    accounts: [{ publicKey: toHex(key.publicKey), org: "consortium", roles: ["admin"] }],
  };
  const genesis = loadGenesis(genesisDoc);
  const body = {
    chainId: "vector-chain",
    nonce: 7,
    module: "evidence",
    method: "notarize",
    args: { digest: new Uint8Array(32).fill(0xab), label: "vector" },
  };
  const signBytes = txSignBytes({ ...body, signer: key.publicKey });
  // Ed25519 is deterministic; SM2 is not, so an SM2 vector carries a signature made once.
  const signed = signTx(suite, key, body);
  const tx = signatureFor ? { ...signed.tx, signature: signatureFor(signBytes) } : signed.tx;
  const header = {
    chainId: "vector-chain",
    height: 1,
    timeMs: 1_700_000_001_000,
    prevHash: genesis.hash,
    txCount: 1,
    txRoot: new Uint8Array(32).fill(1),
    stateRoot: new Uint8Array(32).fill(2),
    resultsRoot: new Uint8Array(32).fill(3),
    validatorsHash: genesis.validators.hash,
    nextValidatorsHash: genesis.validators.hash,
    proposer: key.publicKey,
  };
  return { suite, key, genesisDoc, genesis, tx, signBytes, header, hash: blockHash(suite, header) };
}

function render(suiteId: SuiteId, existingSignature?: string) {
  const v = computeVectors(suiteId, existingSignature ? () => fromHex(existingSignature) : undefined);
  const txBytes = encodeTx(v.tx);
  return {
    privateKey: toHex(v.key.privateKey),
    publicKey: toHex(v.key.publicKey),
    genesis: v.genesisDoc,
    genesisHash: v.genesis.hashHex,
    validatorsHash: toHex(v.genesis.validators.hash),
    txSignBytes: toHex(v.signBytes),
    txSignature: toHex(v.tx.signature),
    tx: toHex(txBytes),
    txHash: toHex(v.suite.hash(txBytes)),
    header: toHex(encodeHeader(v.header)),
    blockHash: toHex(v.hash),
    precommitSignBytes: toHex(precommitSignBytes("vector-chain", 1, 0, v.hash)),
  };
}

export function renderAll(previous?: Record<string, { txSignature: string }>) {
  return { ed25519: render("ed25519"), sm2: render("sm2", previous?.sm2?.txSignature) };
}

if (process.argv.includes("--write")) {
  writeFileSync(VECTORS_PATH, `${JSON.stringify(renderAll(), null, 2)}\n`);
}
