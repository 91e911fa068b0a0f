/** Accounts and organisations: every member organisation and registered account (module queries), and one account's detail. */
import { useState } from "react";
import { client, query } from "../api";
import { useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { Empty, Fields, Hash, Show, Table, Time } from "../ui";

interface Page<T> {
  items: T[];
  next: string | null;
}
interface OrgRow {
  id: string;
  name: string;
}
interface AccountRow {
  address: string;
  org: string;
  roles: string[];
  nonce: number;
}

const PAGE = 50;

/** Every page of `accounts.orgs` (organisations are few: a consortium's members). */
async function allOrgs(): Promise<OrgRow[]> {
  const out: OrgRow[] = [];
  let after: string | null = null;
  for (let i = 0; i < 20; i++) {
    const page: Page<OrgRow> = await query("accounts", "orgs", after === null ? { limit: 1000 } : { limit: 1000, after });
    out.push(...page.items);
    if (page.next === null) break;
    after = page.next;
  }
  return out;
}

export function Accounts() {
  // Cursors of the pages seen so far: going back is going to the previous cursor.
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const after = cursors.at(-1) ?? null;
  const orgs = useLoad(async () => {
    const [list, frozen] = await Promise.all([
      allOrgs(),
      query<{ accounts: string[]; modules: string[] }>("governance", "frozen").catch(() => null),
    ]);
    return { list, frozen };
  }, []);
  const accounts = useLoad(
    () => query<Page<AccountRow>>("accounts", "list", after === null ? { limit: PAGE } : { limit: PAGE, after }),
    [after],
  );
  return (
    <section>
      <h1>Accounts and organisations</h1>
      <Show data={orgs} what="organisations">
        {({ list, frozen }) => (
          <>
            <h2>Organisations ({list.length})</h2>
            <Table head={["Id", "Name"]}>
              {list.map((o) => (
                <tr key={o.id}>
                  <td>
                    <code>{o.id}</code>
                  </td>
                  <td>{o.name}</td>
                </tr>
              ))}
            </Table>
            {frozen !== null && frozen.modules.length > 0 && <p>Frozen modules: {frozen.modules.join(", ")}</p>}
          </>
        )}
      </Show>
      <h2>Accounts</h2>
      <AccountLookup />
      <Show data={accounts} what="accounts">
        {(page) => {
          const frozen = orgs.state === "ok" ? orgs.value.frozen : null;
          return page.items.length === 0 ? (
            <Empty>No accounts on this page.</Empty>
          ) : (
            <>
              <Table head={["Address", "Organisation", "Roles", "Nonce"]}>
                {page.items.map((a) => (
                  <tr key={a.address}>
                    <td>
                      <Hash value={a.address} to={`/accounts/${a.address}`} keep={10} />
                      {frozen?.accounts.includes(a.address) && <span className="badge bad">frozen</span>}
                    </td>
                    <td>{a.org}</td>
                    <td>{a.roles.join(", ") || "—"}</td>
                    <td>{a.nonce}</td>
                  </tr>
                ))}
              </Table>
              <p className="pager">
                <button type="button" disabled={cursors.length < 2} onClick={() => setCursors(cursors.slice(0, -1))}>
                  Previous
                </button>{" "}
                <button
                  type="button"
                  disabled={page.next === null}
                  onClick={() => page.next !== null && setCursors([...cursors, page.next])}
                >
                  Next
                </button>
              </p>
            </>
          );
        }}
      </Show>
    </section>
  );
}

function AccountLookup() {
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        const v = new FormData(e.currentTarget).get("address");
        if (typeof v === "string" && v.trim() !== "") navigate(`/accounts/${v.trim().toLowerCase()}`);
      }}
    >
      <input name="address" placeholder="account address (40 hex digits)" aria-label="account address" pattern="[0-9a-fA-F]{40}" />
      <button type="submit">Open</button>
    </form>
  );
}

export function AccountDetail({ address }: { address: string }) {
  const data = useLoad(async () => {
    const account = await client.account(address);
    const [evidence, frozen] = await Promise.all([
      client.evidenceBySubmitter(address, { limit: 20 }).catch(() => null),
      query<{ frozen: boolean }>("governance", "isFrozen", { address }).catch(() => null),
    ]);
    return { account, evidence, frozen };
  }, [address]);
  return (
    <section>
      <h1>Account</h1>
      <Show data={data} what={`account ${address}`}>
        {({ account, evidence, frozen }) => (
          <>
            <Fields
              rows={[
                ["Address", <code key="a">{account.address}</code>],
                ["Organisation", account.org],
                ["Roles", account.roles.length === 0 ? "none" : account.roles.join(", ")],
                ["Next nonce", String(account.nonce)],
                ["Public key", <code key="k">{account.publicKey}</code>],
                ["Frozen", frozen === null ? "unknown" : frozen.frozen ? "yes, by governance" : "no"],
              ]}
            />
            <h2>Notarised evidence</h2>
            {evidence === null || evidence.records.length === 0 ? (
              <Empty>This account has notarised nothing.</Empty>
            ) : (
              <Table head={["Digest", "Label", "Height", "Time"]}>
                {evidence.records.map((r) => (
                  <tr key={r.digest}>
                    <td>
                      <Hash value={r.digest} to={`/txs/${r.txHash}`} />
                    </td>
                    <td>{r.label ?? "—"}</td>
                    <td>
                      <Link to={`/blocks/${r.height}`}>{r.height}</Link>
                    </td>
                    <td>
                      <Time ms={r.timeMs} />
                    </td>
                  </tr>
                ))}
              </Table>
            )}
          </>
        )}
      </Show>
    </section>
  );
}
