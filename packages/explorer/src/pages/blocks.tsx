/** Blocks: a paged list (newest first) and a block's detail with its transactions and commit signers. */
import type { BlockView, TxView } from "@tally/sdk";
import { client, validators } from "../api";
import { useLoad } from "../hooks";
import { useLive } from "../live";
import { Link } from "../router";
import { Empty, Fields, Hash, Pager, Show, Table, Time } from "../ui";

export const PAGE = 20;

export function BlockList({ before }: { before: number | null }) {
  const live = useLive();
  const head = live.status?.height ?? null;
  // Without `before` the list follows the head; with it the page stays put.
  const top = before === null ? head : Math.min(before - 1, head ?? before - 1);
  const data = useLoad(async () => {
    if (top === null) return null;
    const heights: number[] = [];
    for (let h = top; h >= 1 && heights.length < PAGE; h--) heights.push(h);
    return Promise.all(heights.map((h) => client.block(h)));
  }, [top]);
  return (
    <section>
      <h1>Blocks</h1>
      {top === null && live.error !== null && <div className="notice error">Node unreachable: {live.error}</div>}
      <Show data={data} what="blocks">
        {(blocks) =>
          blocks === null ? (
            <p className="muted">Connecting…</p>
          ) : blocks.length === 0 ? (
            <Empty>No block has been committed yet.</Empty>
          ) : (
            <>
              <BlockTable blocks={blocks} />
              <Pager
                label={`heights ${blocks[blocks.length - 1]?.header.height}–${blocks[0]?.header.height}`}
                prev={before === null ? null : head === null || before + PAGE > head ? "/blocks" : `/blocks?before=${before + PAGE}`}
                next={
                  (blocks[blocks.length - 1]?.header.height ?? 1) > 1 ? `/blocks?before=${blocks[blocks.length - 1]?.header.height}` : null
                }
              />
            </>
          )
        }
      </Show>
    </section>
  );
}

function BlockTable({ blocks }: { blocks: readonly BlockView[] }) {
  return (
    <Table head={["Height", "Hash", "Txs", "Proposer", "Signers", "Time"]}>
      {blocks.map((b) => (
        <tr key={b.hash}>
          <td>
            <Link to={`/blocks/${b.header.height}`}>{b.header.height}</Link>
          </td>
          <td>
            <Hash value={b.hash} to={`/blocks/${b.header.height}`} />
          </td>
          <td>{b.header.txCount}</td>
          <td>
            <Hash value={b.header.proposer} keep={6} />
          </td>
          <td>{b.commit.signatures.length}</td>
          <td>
            <Time ms={b.header.timeMs} />
          </td>
        </tr>
      ))}
    </Table>
  );
}

export function BlockDetail({ id }: { id: string }) {
  const data = useLoad(async () => {
    const block = await client.block(id);
    const [txs, set, genesis] = await Promise.all([
      Promise.all(block.txs.slice(0, 200).map((h) => client.tx(h))),
      validators(block.header.height).catch(() => null),
      client.genesis(),
    ]);
    return { block, txs, set, genesis };
  }, [id]);
  return (
    <section>
      <Show data={data} what={`block ${id}`}>
        {({ block, txs, set, genesis }) => {
          const h = block.header;
          const names = new Map(genesis.validators.map((v) => [v.publicKey, v.name]));
          return (
            <>
              <h1>Block {h.height}</h1>
              <nav className="pager">
                {h.height > 1 ? (
                  <Link to={`/blocks/${h.height - 1}`}>← block {h.height - 1}</Link>
                ) : (
                  <span className="disabled">← genesis</span>
                )}
                <Link to={`/blocks/${h.height + 1}`}>block {h.height + 1} →</Link>
              </nav>
              <Fields
                rows={[
                  ["Hash", <code key="h">{block.hash}</code>],
                  ["Time", <Time key="t" ms={h.timeMs} />],
                  ["Chain id", h.chainId],
                  ["Transactions", String(h.txCount)],
                  [
                    "Previous block",
                    h.height > 1 ? <Hash key="p" value={h.prevHash} to={`/blocks/${h.height - 1}`} /> : <Hash key="p" value={h.prevHash} />,
                  ],
                  [
                    "Proposer",
                    <span key="pr">
                      {names.get(h.proposer) ?? ""} <Hash value={h.proposer} />
                    </span>,
                  ],
                  ["Transaction root", <code key="tr">{h.txRoot}</code>],
                  ["State root", <code key="sr">{h.stateRoot}</code>],
                  ["Results root", <code key="rr">{h.resultsRoot}</code>],
                  ["Validators hash", <code key="vh">{h.validatorsHash}</code>],
                  ["Next validators hash", <code key="nv">{h.nextValidatorsHash}</code>],
                ]}
              />
              <h2>Transactions ({block.txs.length})</h2>
              {txs.length === 0 ? <Empty>This block has no transactions.</Empty> : <TxTable txs={txs} />}
              <h2>Commit certificate</h2>
              <p className="muted">
                Round {block.commit.round}; {block.commit.signatures.length} of {set?.validators.length ?? "?"} validators signed
                {set === null
                  ? "."
                  : ` (${block.commit.signatures.reduce((p, s) => p + (set.validators[s.validator]?.power ?? 0), 0)} of ${set.totalPower} voting power).`}
              </p>
              <Table head={["#", "Validator", "Power", "Signature"]}>
                {block.commit.signatures.map((s) => {
                  const v = set?.validators[s.validator];
                  return (
                    <tr key={s.validator}>
                      <td>{s.validator}</td>
                      <td>
                        {v === undefined ? "?" : (names.get(v.publicKey) ?? "")} {v !== undefined && <Hash value={v.publicKey} keep={6} />}
                      </td>
                      <td>{v?.power ?? "?"}</td>
                      <td>
                        <Hash value={s.signature} keep={8} />
                      </td>
                    </tr>
                  );
                })}
              </Table>
            </>
          );
        }}
      </Show>
    </section>
  );
}

export function TxTable({ txs }: { txs: readonly TxView[] }) {
  return (
    <Table head={["Hash", "Call", "Sender", "Status", "Block"]}>
      {txs.map((t) => (
        <tr key={t.hash} data-testid="tx-row">
          <td>
            <Hash value={t.hash} to={`/txs/${t.hash}`} />
          </td>
          <td>
            <code>
              {t.tx.module}.{t.tx.method}
            </code>
          </td>
          <td>
            <Hash value={t.tx.sender} to={`/accounts/${t.tx.sender}`} keep={6} />
          </td>
          <td>
            <span className={t.result.status === "ok" ? "badge ok" : "badge bad"}>
              {t.result.status === "ok" ? "ok" : (t.result.code ?? "failed")}
            </span>
          </td>
          <td>
            <Link to={`/blocks/${t.height}`}>{t.height}</Link>
          </td>
        </tr>
      ))}
    </Table>
  );
}
