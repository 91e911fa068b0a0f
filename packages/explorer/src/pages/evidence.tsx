/**
 * Evidence: drop a file; this page hashes it in the browser with the chain's suite (the file never
 * leaves the machine), fetches the receipt of that digest, and verifies it here with @tally/core's
 * `verifyEvidenceReceiptFile` against a genesis: the node's by default, or a genesis file the user
 * trusts. Only the digest is sent to the node.
 */
import {
  type EvidenceSummary,
  formatEvidenceReceiptFile,
  type Genesis,
  loadGenesis,
  TallyError,
  toHex,
  verifyEvidenceReceiptFile,
} from "@tally/core";
import { type ChangeEvent, type DragEvent, useEffect, useRef, useState } from "react";
import { client, describeError, isNotFound } from "../api";
import { Link } from "../router";
import { Fields, Hash } from "../ui";
import { download } from "./txs";

interface TrustedGenesis {
  readonly genesis: Genesis;
  /** Where it came from, as shown to the user. */
  readonly source: string;
}

type Outcome =
  | { kind: "idle" }
  | { kind: "working"; step: string }
  | { kind: "valid"; summary: EvidenceSummary; receipt: string; source: "node" | "file" }
  | { kind: "invalid"; reason: string; receipt: string | null }
  | { kind: "not-notarised" }
  | { kind: "error"; message: string };

export function Evidence() {
  const [trusted, setTrusted] = useState<TrustedGenesis | null>(null);
  const [genesisError, setGenesisError] = useState<string | null>(null);
  const [file, setFile] = useState<{ name: string; size: number; bytes: Uint8Array; digest: string } | null>(null);
  const [outcome, setOutcome] = useState<Outcome>({ kind: "idle" });
  const [dragging, setDragging] = useState(false);
  const fileInput = useRef<HTMLInputElement>(null);

  useEffect(() => {
    client.genesis().then(
      (doc) => {
        try {
          const genesis = loadGenesis(doc);
          setTrusted((t) => t ?? { genesis, source: "served by this node" });
        } catch (err) {
          setGenesisError(`the node's genesis is invalid: ${describeError(err)}`);
        }
      },
      (err: unknown) => setGenesisError(describeError(err)),
    );
  }, []);

  const verifyText = (genesis: Genesis, text: string, bytes: Uint8Array | undefined, source: "node" | "file"): Outcome => {
    try {
      return { kind: "valid", summary: verifyEvidenceReceiptFile(genesis, text, bytes), receipt: text, source };
    } catch (err) {
      return { kind: "invalid", reason: err instanceof TallyError ? err.message : String(err), receipt: text };
    }
  };

  const checkFile = async (f: File) => {
    if (trusted === null) {
      setOutcome({ kind: "error", message: "No genesis to verify against yet: load a genesis file, or wait for the node." });
      return;
    }
    setOutcome({ kind: "working", step: `hashing ${f.name} in this browser` });
    const bytes = new Uint8Array(await f.arrayBuffer());
    const digest = toHex(trusted.genesis.suite.hash(bytes));
    setFile({ name: f.name, size: f.size, bytes, digest });
    setOutcome({ kind: "working", step: "looking up the digest" });
    try {
      const receipt = await client.evidenceReceipt(digest);
      setOutcome(verifyText(trusted.genesis, formatEvidenceReceiptFile(receipt), bytes, "node"));
    } catch (err) {
      setOutcome(isNotFound(err) ? { kind: "not-notarised" } : { kind: "error", message: describeError(err) });
    }
  };

  const checkReceiptFile = async (f: File) => {
    if (trusted === null) return;
    const text = await f.text();
    setOutcome(verifyText(trusted.genesis, text, file?.bytes, "file"));
  };

  const loadGenesisFile = async (f: File) => {
    try {
      const genesis = loadGenesis(JSON.parse(await f.text()));
      setTrusted({ genesis, source: `file ${f.name}` });
      setGenesisError(null);
      setOutcome({ kind: "idle" });
      setFile(null);
    } catch (err) {
      setGenesisError(`${f.name} is not a valid genesis file: ${describeError(err)}`);
    }
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    const f = e.dataTransfer.files[0];
    if (f !== undefined) void checkFile(f);
  };
  const picked = (handler: (f: File) => Promise<void>) => (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    if (f !== undefined) void handler(f);
    e.target.value = "";
  };

  return (
    <section>
      <h1>Verify a file</h1>
      <p>
        Drop a file to check whether it was notarised on this chain. Your browser computes the file's digest and verifies the receipt and
        its commit certificate itself; <strong>the file never leaves this machine</strong> (only its digest is looked up).
      </p>
      <div className="genesis-box">
        {trusted === null ? (
          <span>{genesisError ?? "Loading the genesis…"}</span>
        ) : (
          <span data-testid="genesis-source">
            Verifying against the genesis {trusted.source}: chain <code>{trusted.genesis.doc.chainId}</code>, {trusted.genesis.doc.crypto},
            hash <Hash value={trusted.genesis.hashHex} />.
          </span>
        )}
        {trusted !== null && genesisError !== null && <div className="notice error">{genesisError}</div>}
        <label className="button secondary">
          Use a genesis file I trust…
          <input type="file" accept=".json,application/json" onChange={picked(loadGenesisFile)} data-testid="genesis-input" hidden />
        </label>
      </div>
      {/* biome-ignore lint/a11y/noStaticElementInteractions: the drop zone also has a keyboard-usable button inside */}
      <div
        className={dragging ? "dropzone over" : "dropzone"}
        data-testid="dropzone"
        onDragOver={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={onDrop}
      >
        <p>
          <strong>Drop a file here</strong>
        </p>
        <p>or</p>
        <button type="button" onClick={() => fileInput.current?.click()} disabled={trusted === null}>
          Choose a file
        </button>
        <input ref={fileInput} type="file" onChange={picked(checkFile)} data-testid="file-input" hidden />
      </div>
      {file !== null && (
        <Fields
          rows={[
            ["File", `${file.name} (${file.size.toLocaleString()} bytes)`],
            [
              `Digest (${trusted?.genesis.suite.id === "sm2" ? "SM3" : "SHA-256"})`,
              <code key="d" data-testid="digest">
                {file.digest}
              </code>,
            ],
          ]}
        />
      )}
      <Result outcome={outcome} fileName={file?.name ?? "file"} />
      <details className="more">
        <summary>Check a receipt file you already have</summary>
        <p>
          Load a receipt (from <code>tally evidence receipt</code> or this page). It is verified against the genesis above
          {file === null ? "" : `, and against the digest of ${file.name}`}.
        </p>
        <label className="button secondary">
          Load a receipt file…
          <input type="file" accept=".json,application/json" onChange={picked(checkReceiptFile)} data-testid="receipt-input" hidden />
        </label>
      </details>
    </section>
  );
}

function Result({ outcome, fileName }: { outcome: Outcome; fileName: string }) {
  switch (outcome.kind) {
    case "idle":
      return null;
    case "working":
      return (
        <p className="muted" role="status">
          {outcome.step}…
        </p>
      );
    case "not-notarised":
      return (
        <div className="verdict warn" data-testid="verdict" role="status">
          <h2>Not notarised</h2>
          <p>No record of this digest exists on this chain. A file that differs by even one byte has a different digest.</p>
        </div>
      );
    case "error":
      return (
        <div className="verdict bad" data-testid="verdict" role="alert">
          <h2>Could not check</h2>
          <p>{outcome.message}</p>
        </div>
      );
    case "invalid":
      return (
        <div className="verdict bad" data-testid="verdict" role="alert">
          <h2>Invalid receipt</h2>
          <p data-testid="reason">{outcome.reason}</p>
        </div>
      );
    case "valid": {
      const s = outcome.summary;
      return (
        <div className="verdict ok" data-testid="verdict" role="status">
          <h2>Valid: notarised at height {s.height}</h2>
          <p>
            The receipt{outcome.source === "file" ? " you loaded" : ""} proves, under the validators' commit certificate and the genesis
            above, that this digest was recorded at <strong>{s.time}</strong>.
          </p>
          <Fields
            rows={[
              ["Digest", <code key="d">{s.digest}</code>],
              ["Block", <Link key="b" to={`/blocks/${s.height}`}>{`${s.height} (${s.blockHash.slice(0, 16)}…)`}</Link>],
              ["Time", s.time],
              [
                "Submitter",
                <Link key="s" to={`/accounts/${s.submitter}`}>
                  {s.submitter}
                </Link>,
              ],
              [
                "Transaction",
                <Link key="t" to={`/txs/${s.txHash}`}>
                  {s.txHash}
                </Link>,
              ],
              ["Label", s.label ?? "—"],
              [
                "Metadata",
                s.metadata === null
                  ? "—"
                  : Object.entries(s.metadata)
                      .map(([k, v]) => `${k}=${v}`)
                      .join(", "),
              ],
            ]}
          />
          <button type="button" onClick={() => download(`${fileName}.receipt.json`, outcome.receipt)}>
            Download receipt
          </button>
        </div>
      );
    }
  }
}
