/** Governance: parameters, proposals (paged, by status) and one proposal with its votes. */
import { query } from "../api";
import { useLoad } from "../hooks";
import { Link } from "../router";
import { Empty, Fields, Json, Pager, Show, Table } from "../ui";

interface Proposal {
  id: number;
  proposer: string;
  proposerOrg: string;
  action: unknown;
  description: string;
  height: number;
  expiresAt: number;
  status: string;
  yes: number;
  no: number;
  lastError: { code: string; message: string } | null;
  expired: boolean;
}

interface Vote {
  org: string;
  voter: string;
  approve: boolean;
  height: number;
}

const STATUSES = ["open", "passed", "executed", "rejected"] as const;
const PAGE = 20;

function actionKind(action: unknown): string {
  if (action !== null && typeof action === "object" && "kind" in action) return String((action as { kind: unknown }).kind);
  return "action";
}

function statusBadge(p: Proposal) {
  const cls = p.status === "executed" || p.status === "passed" ? "ok" : p.status === "rejected" ? "bad" : "";
  return <span className={`badge ${cls}`}>{p.status === "open" && p.expired ? "expired" : p.status}</span>;
}

export function Governance({ status, after }: { status: string | null; after: number | null }) {
  const params = useLoad(() => query<{ threshold: number[]; votingPeriodBlocks: number; members: number }>("governance", "params"), []);
  const list = useLoad(
    () =>
      query<{ items: Proposal[]; next: number | null }>("governance", "proposals", {
        limit: PAGE,
        ...(status === null ? {} : { status }),
        ...(after === null ? {} : { after }),
      }),
    [status, after],
  );
  const qs = (a: number | null) => {
    const p = new URLSearchParams();
    if (status !== null) p.set("status", status);
    if (a !== null) p.set("after", String(a));
    const s = p.toString();
    return s === "" ? "/governance" : `/governance?${s}`;
  };
  return (
    <section>
      <h1>Governance</h1>
      <Show data={params} what="governance parameters">
        {(p) => (
          <p>
            A proposal passes with {p.threshold[0]}/{p.threshold[1]} of the {p.members} member organisations voting yes, within{" "}
            {p.votingPeriodBlocks} blocks.
          </p>
        )}
      </Show>
      <nav className="tabs" aria-label="proposal status">
        <Link to="/governance" className={status === null ? "active" : ""}>
          all
        </Link>
        {STATUSES.map((s) => (
          <Link key={s} to={`/governance?status=${s}`} className={status === s ? "active" : ""}>
            {s}
          </Link>
        ))}
      </nav>
      <Show data={list} what="proposals">
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No {status ?? ""} proposals.</Empty>
          ) : (
            <>
              <Table head={["#", "Action", "Description", "By", "Votes", "Status"]}>
                {page.items.map((p) => (
                  <tr key={p.id}>
                    <td>
                      <Link to={`/governance/${p.id}`}>{p.id}</Link>
                    </td>
                    <td>
                      <code>{actionKind(p.action)}</code>
                    </td>
                    <td>{p.description}</td>
                    <td>{p.proposerOrg}</td>
                    <td>
                      {p.yes} yes / {p.no} no
                    </td>
                    <td>{statusBadge(p)}</td>
                  </tr>
                ))}
              </Table>
              <Pager
                label={`${page.items.length} proposals`}
                prev={after === null ? null : qs(null)}
                next={page.next === null ? null : qs(page.next)}
              />
            </>
          )
        }
      </Show>
    </section>
  );
}

export function ProposalDetail({ id }: { id: number }) {
  const data = useLoad(() => query<Proposal & { votes: Vote[] }>("governance", "proposal", { id }), [id]);
  return (
    <section>
      <h1>Proposal {id}</h1>
      <Show data={data} what={`proposal ${id}`}>
        {(p) => (
          <>
            <Fields
              rows={[
                ["Status", statusBadge(p)],
                ["Description", p.description],
                ["Proposer", <Link key="p" to={`/accounts/${p.proposer}`}>{`${p.proposer} (${p.proposerOrg})`}</Link>],
                ["Proposed at", <Link key="h" to={`/blocks/${p.height}`}>{`height ${p.height}`}</Link>],
                ["Voting ends", `height ${p.expiresAt}${p.expired ? " (ended)" : ""}`],
                ["Tally", `${p.yes} yes, ${p.no} no`],
                ...(p.lastError === null ? [] : ([["Last execution error", `${p.lastError.code}: ${p.lastError.message}`]] as const)),
              ]}
            />
            <h2>Action</h2>
            <Json value={p.action} />
            <h2>Votes ({p.votes.length})</h2>
            {p.votes.length === 0 ? (
              <Empty>No organisation has voted yet.</Empty>
            ) : (
              <Table head={["Organisation", "Vote", "Voter", "Height"]}>
                {p.votes.map((v) => (
                  <tr key={v.org}>
                    <td>{v.org}</td>
                    <td>
                      <span className={v.approve ? "badge ok" : "badge bad"}>{v.approve ? "yes" : "no"}</span>
                    </td>
                    <td>
                      <Link to={`/accounts/${v.voter}`}>
                        <code>{v.voter.slice(0, 12)}…</code>
                      </Link>
                    </td>
                    <td>
                      <Link to={`/blocks/${v.height}`}>{v.height}</Link>
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
