/** JSON views of ledger objects for the HTTP API (spec/api.md). Bytes are lowercase hex without prefix. */
import { type BlockHeader, type CommitCertificate, decodeTx, type EvidenceRecord, type TxResult, toHex, valueToJson } from "@tally/core";

export function headerJson(h: BlockHeader) {
  return {
    chainId: h.chainId,
    height: h.height,
    timeMs: h.timeMs,
    time: new Date(h.timeMs).toISOString(),
    prevHash: toHex(h.prevHash),
    txCount: h.txCount,
    txRoot: toHex(h.txRoot),
    stateRoot: toHex(h.stateRoot),
    resultsRoot: toHex(h.resultsRoot),
    validatorsHash: toHex(h.validatorsHash),
    nextValidatorsHash: toHex(h.nextValidatorsHash),
    proposer: toHex(h.proposer),
  };
}

export function commitJson(c: CommitCertificate) {
  return {
    height: c.height,
    round: c.round,
    blockHash: toHex(c.blockHash),
    signatures: c.signatures.map((s) => ({ validator: s.validator, signature: toHex(s.signature) })),
  };
}

export function resultJson(r: TxResult) {
  return {
    status: r.status,
    code: r.code,
    message: r.message,
    value: valueToJson(r.value),
    events: r.events.map((e) => ({ module: e.module, name: e.name, data: valueToJson(e.data) })),
  };
}

export function txJson(bytes: Uint8Array, sender: string) {
  const tx = decodeTx(bytes);
  return {
    chainId: tx.chainId,
    sender,
    signer: toHex(tx.signer),
    nonce: tx.nonce,
    module: tx.module,
    method: tx.method,
    args: valueToJson(tx.args),
    signature: toHex(tx.signature),
    raw: toHex(bytes),
  };
}

export function evidenceJson(r: EvidenceRecord) {
  return {
    digest: toHex(r.digest),
    submitter: r.submitter,
    height: r.height,
    timeMs: r.timeMs,
    time: new Date(r.timeMs).toISOString(),
    txHash: toHex(r.txHash),
    label: r.label,
    metadata: r.metadata,
  };
}
