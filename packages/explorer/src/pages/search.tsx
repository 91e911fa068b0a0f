/** Search: a height, a block or transaction hash, an evidence digest, or an account address. */
import { client, isNotFound } from "../api";
import { useLoad } from "../hooks";
import { Link } from "../router";
import { Hash, Show } from "../ui";

export interface Hit {
  readonly kind: string;
  readonly to: string;
  readonly label: string;
}

/** Every reading of `q` that names something on the chain (a 64-hex string may be a block, a tx or a digest). */
export async function resolve(q: string): Promise<Hit[]> {
  const text = q.trim().toLowerCase().replace(/^0x/, "");
  const found = <T,>(p: Promise<T>): Promise<T | null> =>
    p.catch((err: unknown) => {
      if (isNotFound(err)) return null;
      throw err;
    });
  if (/^[0-9]{1,15}$/.test(text)) {
    const b = await found(client.block(Number(text)));
    return b === null ? [] : [{ kind: "block", to: `/blocks/${b.header.height}`, label: `block ${b.header.height}` }];
  }
  if (/^[0-9a-f]{40}$/.test(text)) {
    const a = await found(client.account(text));
    return a === null ? [] : [{ kind: "account", to: `/accounts/${text}`, label: `account of ${a.org}` }];
  }
  if (/^[0-9a-f]{64}$/.test(text)) {
    const [b, t, e] = await Promise.all([found(client.block(text)), found(client.tx(text)), found(client.evidence(text))]);
    const hits: Hit[] = [];
    if (b !== null) hits.push({ kind: "block", to: `/blocks/${b.header.height}`, label: `block ${b.header.height}` });
    if (t !== null)
      hits.push({ kind: "transaction", to: `/txs/${text}`, label: `transaction ${t.tx.module}.${t.tx.method} at height ${t.height}` });
    if (e !== null)
      hits.push({
        kind: "evidence",
        to: `/txs/${e.txHash}`,
        label: `evidence digest notarised at height ${e.height}${e.label ? ` (${e.label})` : ""}`,
      });
    return hits;
  }
  return [];
}

export function Search({ q }: { q: string }) {
  const data = useLoad(() => resolve(q), [q]);
  return (
    <section>
      <h1>Search</h1>
      <p>
        Results for <code>{q}</code>
      </p>
      <Show data={data} what="search results">
        {(hits) =>
          hits.length === 0 ? (
            <div className="notice warn" role="status">
              Nothing on this chain matches <code>{q}</code>. Search takes a block height, a block or transaction hash, an evidence digest
              (64 hex digits), or an account address (40 hex digits).
            </div>
          ) : (
            <ul className="hits">
              {hits.map((h) => (
                <li key={h.to + h.kind}>
                  <span className="badge">{h.kind}</span> <Link to={h.to}>{h.label}</Link>{" "}
                  {h.kind !== "block" && h.kind !== "account" && <Hash value={q} />}
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </section>
  );
}
