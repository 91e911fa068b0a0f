/** The explorer's frame: header with navigation, search and live height; the page for the current path. */
import { type FormEvent, useState } from "react";
import { useLive } from "./live";
import { AccountDetail, Accounts } from "./pages/accounts";
import { BlockDetail, BlockList } from "./pages/blocks";
import { Dashboard } from "./pages/dashboard";
import { Evidence } from "./pages/evidence";
import { Governance, ProposalDetail } from "./pages/governance";
import { ModulesIndex, ModuleView } from "./pages/modules";
import { resolve, Search } from "./pages/search";
import { TxDetail, TxList } from "./pages/txs";
import { Link, type Location, navigate, useLocation } from "./router";

const NAV = [
  ["/", "Dashboard"],
  ["/blocks", "Blocks"],
  ["/txs", "Transactions"],
  ["/accounts", "Accounts"],
  ["/evidence", "Verify a file"],
  ["/governance", "Governance"],
  ["/modules", "Modules"],
] as const;

function intParam(params: URLSearchParams, name: string): number | null {
  const v = params.get(name);
  return v !== null && /^[0-9]{1,15}$/.test(v) ? Number(v) : null;
}

function NotFound({ path }: { path: string }) {
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{path}</code>. Go to the <Link to="/">dashboard</Link>.
      </p>
    </section>
  );
}

function Page({ loc }: { loc: Location }) {
  const parts = loc.path.split("/").filter((p) => p !== "");
  const [section, id, extra] = parts;
  if (extra !== undefined) return <NotFound path={loc.path} />;
  switch (section) {
    case undefined:
      return <Dashboard />;
    case "blocks":
      if (id === undefined) return <BlockList before={intParam(loc.params, "before")} />;
      if (!/^([0-9]{1,15}|[0-9a-fA-F]{64})$/.test(id)) return <NotFound path={loc.path} />;
      return <BlockDetail key={id} id={id.toLowerCase()} />;
    case "txs":
      if (id === undefined) return <TxList before={intParam(loc.params, "before")} />;
      if (!/^[0-9a-fA-F]{64}$/.test(id)) return <NotFound path={loc.path} />;
      return <TxDetail hash={id.toLowerCase()} />;
    case "accounts":
      if (id === undefined) return <Accounts />;
      if (!/^[0-9a-fA-F]{40}$/.test(id)) return <NotFound path={loc.path} />;
      return <AccountDetail address={id.toLowerCase()} />;
    case "evidence":
      return id === undefined ? <Evidence /> : <NotFound path={loc.path} />;
    case "governance":
      if (id === undefined) return <Governance status={loc.params.get("status")} after={intParam(loc.params, "after")} />;
      if (!/^[0-9]{1,9}$/.test(id)) return <NotFound path={loc.path} />;
      return <ProposalDetail id={Number(id)} />;
    case "modules":
      return id === undefined ? <ModulesIndex /> : <ModuleView module={id} params={loc.params} />;
    case "search":
      return <Search q={loc.params.get("q") ?? ""} />;
    default:
      return <NotFound path={loc.path} />;
  }
}

function SearchBox() {
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const form = e.currentTarget;
    const q = String(new FormData(form).get("q") ?? "").trim();
    if (q === "") return;
    setBusy(true);
    try {
      // One match goes straight to it; none or several go to the results page.
      const hits = await resolve(q).catch(() => []);
      const only = hits.length === 1 ? hits[0] : undefined;
      navigate(only === undefined ? `/search?q=${encodeURIComponent(q)}` : only.to);
      form.reset();
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="search" aria-label="search the chain" onSubmit={submit}>
      <input name="q" placeholder="Height, hash, address or digest" aria-label="search" autoComplete="off" spellCheck={false} />
      <button type="submit" disabled={busy}>
        {busy ? "…" : "Search"}
      </button>
    </form>
  );
}

export function App() {
  const loc = useLocation();
  const live = useLive();
  const [menu, setMenu] = useState(false);
  const active = (to: string) => (to === "/" ? loc.path === "/" : loc.path === to || loc.path.startsWith(`${to}/`));
  return (
    <>
      <header className="top">
        <div className="brand">
          <Link to="/">Tally</Link>
          <span className="chain" title="chain id">
            {live.status?.chainId ?? ""}
          </span>
          <span className={`live ${live.transport}`} title={`live updates: ${live.transport}`} data-testid="header-height">
            {live.status === null ? (live.error === null ? "connecting" : "offline") : `#${live.status.height}`}
          </span>
          <button type="button" className="menu-button" aria-expanded={menu} aria-controls="nav" onClick={() => setMenu(!menu)}>
            Menu
          </button>
        </div>
        <nav id="nav" className={menu ? "main open" : "main"} aria-label="main">
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} className={active(to) ? "active" : ""} onClick={() => setMenu(false)}>
              {label}
            </Link>
          ))}
        </nav>
        <SearchBox />
      </header>
      <main>
        <Page key={loc.path} loc={loc} />
      </main>
      <footer>
        Tally explorer · served by node {live.status?.node ?? "?"} · proofs are verified in this browser against the genesis ·{" "}
        <a href="/openapi.json">API</a>
      </footer>
    </>
  );
}
