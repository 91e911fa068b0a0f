/** Transactions: the latest ones (read from recent blocks) and a transaction's detail with its receipt. */
import { decodeReceipt, fromHex, loadGenesis, TallyError, toHex, verifyReceipt } from "@tally/core";
import type { TxView } from "@tally/sdk";
import { useState } from "react";
import { client, describeError } from "../api";
import { useLoad } from "../hooks";
import { useLive } from "../live";
import { Link } from "../router";
import { Empty, Fields, Hash, Json, Pager, Show, Table, Time } from "../ui";
import { TxTable } from "./blocks";

const TX_PAGE = 25;
/** Blocks read per page at most: empty blocks are common, and a page must not read the whole chain. */
const SCAN_BLOCKS = 100;

export function TxList({ before }: { before: number | null }) {
  const live = useLive();
  const head = live.status?.height ?? null;
  const top = before === null ? head : before - 1;
  const data = useLoad(async () => {
    if (top === null) return null;
    const hashes: string[] = [];
    let lowest = top + 1;
    for (let h = top; h >= 1 && hashes.length < TX_PAGE && top - h < SCAN_BLOCKS; h -= 10) {
      const heights = Array.from({ length: Math.min(10, h) }, (_, i) => h - i);
      const blocks = await Promise.all(heights.map((x) => client.block(x)));
      for (const b of blocks) {
        lowest = b.header.height;
        hashes.push(...b.txs);
        if (hashes.length >= TX_PAGE) break;
      }
    }
    const txs = await Promise.all(hashes.map((x) => client.tx(x)));
    return { txs, lowest };
    // Following the head would re-read on every block; the list refreshes when the page is opened.
  }, [top === null, before]);
  return (
    <section>
      <h1>Transactions</h1>
      <Show data={data} what="transactions">
        {(page) =>
          page === null ? (
            <p className="muted">Connecting…</p>
          ) : (
            <>
              {page.txs.length === 0 ? (
                <Empty>
                  No transactions in blocks {page.lowest}–{top}.
                </Empty>
              ) : (
                <TxTable txs={page.txs} />
              )}
              <Pager
                label={`blocks ${page.lowest}–${top}`}
                prev={before === null ? null : "/txs"}
                next={page.lowest > 1 ? `/txs?before=${page.lowest}` : null}
              />
            </>
          )
        }
      </Show>
    </section>
  );
}

function download(name: string, text: string, type = "application/json"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export { download };

export function TxDetail({ hash }: { hash: string }) {
  const data = useLoad(() => client.tx(hash), [hash]);
  return (
    <section>
      <Show data={data} what={`transaction ${hash.slice(0, 16)}`}>
        {(t: TxView) => (
          <>
            <h1>Transaction</h1>
            <Fields
              rows={[
                ["Hash", <code key="h">{t.hash}</code>],
                [
                  "Status",
                  <span key="s" className={t.result.status === "ok" ? "badge ok" : "badge bad"}>
                    {t.result.status === "ok" ? "committed, ok" : `committed, failed: ${t.result.code ?? ""} ${t.result.message ?? ""}`}
                  </span>,
                ],
                ["Block", <Link key="b" to={`/blocks/${t.height}`}>{`${t.height} (index ${t.index})`}</Link>],
                ["Time", <Time key="t" ms={t.timeMs} />],
                ["Call", <code key="c">{`${t.tx.module}.${t.tx.method}`}</code>],
                ["Sender", <Hash key="s" value={t.tx.sender} to={`/accounts/${t.tx.sender}`} keep={20} />],
                ["Nonce", String(t.tx.nonce)],
                ["Signer key", <Hash key="k" value={t.tx.signer} keep={12} />],
              ]}
            />
            <h2>Arguments</h2>
            <Json value={t.tx.args} />
            <h2>Result</h2>
            <Json value={t.result.value} />
            <h2>Events ({t.result.events.length})</h2>
            {t.result.events.length === 0 ? (
              <Empty>No events.</Empty>
            ) : (
              <Table head={["Event", "Data"]}>
                {t.result.events.map((e, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: events are an ordered, immutable list
                  <tr key={i}>
                    <td>
                      <code>
                        {e.module}.{e.name}
                      </code>
                    </td>
                    <td>
                      <Json value={e.data} />
                    </td>
                  </tr>
                ))}
              </Table>
            )}
            <h2>Receipt</h2>
            <p>
              A receipt proves this transaction and its result against the block's commit certificate; anyone can check it offline with{" "}
              <code>tally</code> and the genesis file.
            </p>
            <ReceiptActions hash={t.hash} />
          </>
        )}
      </Show>
    </section>
  );
}

type Check = { state: "idle" | "working" } | { state: "valid"; text: string } | { state: "invalid"; text: string };

/** Verifies the transaction's receipt here, with core, against the node's genesis; or downloads it. */
function ReceiptActions({ hash }: { hash: string }) {
  const [check, setCheck] = useState<Check>({ state: "idle" });
  const verify = async () => {
    setCheck({ state: "working" });
    try {
      const [genesisDoc, r] = await Promise.all([client.genesis(), client.txReceipt(hash)]);
      const verified = verifyReceipt(loadGenesis(genesisDoc), decodeReceipt(fromHex(r.receipt)));
      if (toHex(verified.txHash) !== hash) throw new TallyError("BAD_RECEIPT", "the receipt proves another transaction");
      setCheck({
        state: "valid",
        text: `Valid: this transaction and its result are in block ${verified.header.height}, committed by ${verified.validators.validators.length} validators' certificate, checked in this browser against the node's genesis.`,
      });
    } catch (err) {
      setCheck({ state: "invalid", text: `Invalid receipt: ${describeError(err)}` });
    }
  };
  return (
    <>
      <div className="inline-form">
        <button type="button" onClick={verify} disabled={check.state === "working"}>
          Verify receipt here
        </button>
        <button
          type="button"
          className="button secondary"
          onClick={async () => {
            const r = await client.txReceipt(hash);
            download(`tx-${hash.slice(0, 16)}.receipt.json`, `${JSON.stringify(r, null, 2)}\n`);
          }}
        >
          Download receipt
        </button>
      </div>
      {check.state === "valid" && (
        <p className="notice ok" role="status" data-testid="tx-receipt-check">
          {check.text}
        </p>
      )}
      {check.state === "invalid" && (
        <p className="notice error" role="alert" data-testid="tx-receipt-check">
          {check.text}
        </p>
      )}
    </>
  );
}
