/** Accounts and organisations: the genesis members with their current roles, and one account's detail. */
import { addressOf, fromHex, getSuite } from "@tally/core";
import type { AccountView } from "@tally/sdk";
import { client, query } from "../api";
import { useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { Empty, Fields, Hash, Show, Time } from "../ui";

export function Accounts() {
  const data = useLoad(async () => {
    const genesis = await client.genesis();
    const suite = getSuite(genesis.crypto);
    const addresses = genesis.accounts.map((a) => addressOf(suite, fromHex(a.publicKey)));
    // Current org and roles (governance may have changed them since genesis); a removed account reads as null.
    const accounts = await Promise.all(addresses.map((a) => client.account(a).catch(() => null)));
    const frozen = await query<{ accounts: string[]; modules: string[] }>("governance", "frozen").catch(() => null);
    return { genesis, addresses, accounts, frozen };
  }, []);
  return (
    <section>
      <h1>Accounts and organisations</h1>
      <Show data={data} what="accounts">
        {({ genesis, addresses, accounts, frozen }) => {
          const byOrg = new Map<string, AccountView[]>();
          for (const a of accounts) if (a !== null) byOrg.set(a.org, [...(byOrg.get(a.org) ?? []), a]);
          return (
            <>
              <h2>Organisations ({genesis.orgs.length} at genesis)</h2>
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>Id</th>
                      <th>Name</th>
                      <th>Accounts</th>
                    </tr>
                  </thead>
                  <tbody>
                    {genesis.orgs.map((o) => (
                      <tr key={o.id}>
                        <td>
                          <code>{o.id}</code>
                        </td>
                        <td>{o.name}</td>
                        <td>{byOrg.get(o.id)?.length ?? 0}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <p className="muted">Organisations added later by governance appear in the governance proposals that added them.</p>
              <h2>Accounts</h2>
              <AccountLookup />
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>Address</th>
                      <th>Organisation</th>
                      <th>Roles</th>
                      <th>Nonce</th>
                    </tr>
                  </thead>
                  <tbody>
                    {addresses.map((address, i) => {
                      const a = accounts[i];
                      return (
                        <tr key={address}>
                          <td>
                            <Hash value={address} to={`/accounts/${address}`} keep={10} />
                            {frozen?.accounts.includes(address) && <span className="badge bad">frozen</span>}
                          </td>
                          <td>{a?.org ?? "(removed)"}</td>
                          <td>{a === null || a === undefined ? "—" : a.roles.join(", ") || "—"}</td>
                          <td>{a?.nonce ?? "—"}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              {frozen !== null && frozen.modules.length > 0 && <p>Frozen modules: {frozen.modules.join(", ")}</p>}
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
              <div className="table-wrap">
                <table>
                  <thead>
                    <tr>
                      <th>Digest</th>
                      <th>Label</th>
                      <th>Height</th>
                      <th>Time</th>
                    </tr>
                  </thead>
                  <tbody>
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
                  </tbody>
                </table>
              </div>
            )}
          </>
        )}
      </Show>
    </section>
  );
}
