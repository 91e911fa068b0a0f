/**
 * Evidence notarisation records and their receipt file (spec/receipt.md §evidence). Shared by the
 * node's evidence module, the SDK, the CLI and the explorer so that all of them agree byte for byte.
 */
import { fromHex, toHex } from "./bytes.js";
import { decode, encode, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";
import type { Genesis } from "./genesis.js";
import { decodeReceipt, encodeReceipt, type Receipt, verifyReceipt } from "./receipt.js";
import { evidenceRecordKey } from "./state-keys.js";
import { addressOf } from "./tx.js";

export const EVIDENCE_RECEIPT_FORMAT = "tally-evidence-receipt/1";

export interface EvidenceRecord {
  readonly digest: Uint8Array;
  readonly submitter: string;
  readonly height: number;
  readonly timeMs: number;
  readonly txHash: Uint8Array;
  readonly label: string | null;
  readonly metadata: Readonly<Record<string, string>> | null;
}

export function encodeEvidenceRecord(r: EvidenceRecord): Uint8Array {
  return encode({
    digest: r.digest,
    submitter: r.submitter,
    height: r.height,
    timeMs: r.timeMs,
    txHash: r.txHash,
    label: r.label,
    metadata: r.metadata,
  });
}

export function decodeEvidenceRecord(bytes: Uint8Array): EvidenceRecord {
  const v = decode(bytes) as Record<string, Value>;
  const ok =
    v !== null &&
    typeof v === "object" &&
    v.digest instanceof Uint8Array &&
    typeof v.submitter === "string" &&
    typeof v.height === "number" &&
    typeof v.timeMs === "number" &&
    v.txHash instanceof Uint8Array &&
    (v.label === null || typeof v.label === "string") &&
    (v.metadata === null || (typeof v.metadata === "object" && !Array.isArray(v.metadata) && !(v.metadata instanceof Uint8Array)));
  if (!ok) throw new TallyError("BAD_ENCODING", "malformed evidence record");
  return v as unknown as EvidenceRecord;
}

/** The human-readable part of a receipt file; the verifier recomputes it and requires equality. */
export interface EvidenceSummary {
  readonly digest: string;
  readonly hashAlgorithm: "sha256" | "sm3";
  readonly submitter: string;
  readonly height: number;
  readonly time: string;
  readonly txHash: string;
  readonly blockHash: string;
  readonly label: string | null;
  readonly metadata: Readonly<Record<string, string>> | null;
}

export interface EvidenceReceiptFile {
  readonly format: typeof EVIDENCE_RECEIPT_FORMAT;
  readonly chainId: string;
  readonly genesisHash: string;
  readonly evidence: EvidenceSummary;
  readonly receipt: string;
}

/** The exact text of a receipt file. Verification requires the file to be byte-identical to this. */
export function formatEvidenceReceiptFile(file: EvidenceReceiptFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}

function bad(message: string): never {
  throw new TallyError("BAD_RECEIPT", message);
}

/** Verifies a receipt and extracts the evidence summary it proves. */
export function verifyEvidenceReceipt(genesis: Genesis, receipt: Receipt): EvidenceSummary {
  const verified = verifyReceipt(genesis, receipt);
  const { tx, result, state, header } = verified;
  if (tx.module !== "evidence" || tx.method !== "notarize") bad("transaction is not an evidence notarisation");
  if (result.status !== "ok") bad("notarisation failed");
  if (state === null || state.value === null) bad("receipt does not prove the evidence record");
  const record = (() => {
    try {
      return decodeEvidenceRecord(state.value);
    } catch {
      return bad("evidence record is malformed");
    }
  })();
  const key = evidenceRecordKey(record.digest);
  if (toHex(key) !== toHex(state.key)) bad("state proof is for another key");
  if (record.height !== header.height || record.timeMs !== header.timeMs) bad("record names another block");
  if (toHex(record.txHash) !== toHex(verified.txHash)) bad("record names another transaction");
  if (record.submitter !== addressOf(genesis.suite, tx.signer)) bad("record names another submitter");
  return {
    digest: toHex(record.digest),
    hashAlgorithm: genesis.suite.id === "sm2" ? "sm3" : "sha256",
    submitter: record.submitter,
    height: record.height,
    time: new Date(record.timeMs).toISOString(),
    txHash: toHex(verified.txHash),
    blockHash: toHex(verified.blockHash),
    label: record.label,
    metadata: record.metadata,
  };
}

export function makeEvidenceReceiptFile(genesis: Genesis, receipt: Receipt): EvidenceReceiptFile {
  return {
    format: EVIDENCE_RECEIPT_FORMAT,
    chainId: genesis.doc.chainId,
    genesisHash: genesis.hashHex,
    evidence: verifyEvidenceReceipt(genesis, receipt),
    receipt: toHex(encodeReceipt(receipt)),
  };
}

/**
 * Offline verification of a receipt file's text (and, optionally, the notarised file's bytes).
 * Throws TallyError BAD_RECEIPT with the reason; returns the proven summary.
 */
export function verifyEvidenceReceiptFile(genesis: Genesis, text: string, fileBytes?: Uint8Array): EvidenceSummary {
  let parsed: EvidenceReceiptFile;
  try {
    parsed = JSON.parse(text) as EvidenceReceiptFile;
  } catch {
    bad("receipt file is not JSON");
  }
  if (parsed === null || typeof parsed !== "object" || parsed.format !== EVIDENCE_RECEIPT_FORMAT) bad("not an evidence receipt file");
  if (parsed.chainId !== genesis.doc.chainId) bad("receipt is for another chain");
  if (parsed.genesisHash !== genesis.hashHex) bad("receipt is for another genesis");
  if (typeof parsed.receipt !== "string") bad("receipt field missing");
  let receiptBytes: Uint8Array;
  try {
    receiptBytes = fromHex(parsed.receipt);
  } catch {
    bad("receipt field is not hex");
  }
  const summary = verifyEvidenceReceipt(genesis, decodeReceipt(receiptBytes));
  const expected: EvidenceReceiptFile = {
    format: EVIDENCE_RECEIPT_FORMAT,
    chainId: parsed.chainId,
    genesisHash: parsed.genesisHash,
    evidence: summary,
    receipt: parsed.receipt,
  };
  if (formatEvidenceReceiptFile(expected) !== text)
    bad("receipt file text was altered (summary or layout differs from what the proof shows)");
  if (fileBytes !== undefined && toHex(genesis.suite.hash(fileBytes)) !== summary.digest) {
    bad(`file digest ${toHex(genesis.suite.hash(fileBytes))} differs from the notarised digest ${summary.digest}`);
  }
  return summary;
}
