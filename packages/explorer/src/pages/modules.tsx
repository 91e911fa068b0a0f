/**
 * Scenario modules: one page per module that answers its public questions with the module's own
 * queries (POST /v1/query/<module>/<name>), and an index of every module's methods and queries.
 * Inputs live in the URL, so an answer can be linked.
 */
import { loadGenesis, TallyError, type VerifiedPresentation } from "@tally/core";
import { type ReactNode, useState } from "react";
import { client, describeError, modules, query } from "../api";
import { useLoad } from "../hooks";
import { Link, navigate } from "../router";
import { Empty, Fields, Json, Show } from "../ui";

interface Field {
  readonly name: string;
  readonly label: string;
  readonly placeholder: string;
  readonly pattern?: string;
  readonly optional?: boolean;
}

interface ModulePage {
  readonly module: string;
  readonly title: string;
  readonly intro: string;
  readonly fields: readonly Field[];
  /** Queries run with the form's values (each gets the arguments it names). */
  readonly queries: ReadonlyArray<{ readonly name: string; readonly title: string; readonly args: readonly string[] }>;
}

export const MODULE_PAGES: readonly ModulePage[] = [
  {
    module: "documents",
    title: "Documents (trade finance, cross-border payments)",
    intro:
      "A registered document (invoice, contract, customs form) is identified by a salted key; the ledger holds how much of its face value is financed or paid, across all banks. Enter the document key to see its totals.",
    fields: [{ name: "key", label: "Document key", placeholder: "64 hex digits", pattern: "(0x)?[0-9a-fA-F]{64}" }],
    queries: [{ name: "document", title: "Totals", args: ["key"] }],
  },
  {
    module: "invoices",
    title: "Electronic invoices",
    intro:
      "An invoice's status (issued, reimbursed, reversed) is public to anyone who knows the issuing organisation and the invoice number.",
    fields: [
      { name: "issuerOrg", label: "Issuing organisation", placeholder: "e.g. seller-co" },
      { name: "number", label: "Invoice number", placeholder: "e.g. INV-2026-0001" },
    ],
    queries: [{ name: "status", title: "Status", args: ["issuerOrg", "number"] }],
  },
  {
    module: "credentials",
    title: "Credentials",
    intro: "A credential's ledger record: issuer key, schema, hash, issuance, expiry and revocation (never its attributes).",
    fields: [
      { name: "issuer", label: "Issuer organisation", placeholder: "e.g. gov-id" },
      { name: "id", label: "Credential id", placeholder: "e.g. cred-0001" },
    ],
    queries: [{ name: "credential", title: "Credential", args: ["issuer", "id"] }],
  },
  {
    module: "credit",
    title: "Credit standing and history",
    intro: "An entity's current standing, and every credit event and repair decision in order; the history is never rewritten.",
    fields: [{ name: "entityId", label: "Entity id", placeholder: "e.g. 91310000MA1FL0000X" }],
    queries: [
      { name: "standing", title: "Standing", args: ["entityId"] },
      { name: "history", title: "History", args: ["entityId"] },
    ],
  },
  {
    module: "lottery",
    title: "Lottery rounds",
    intro: "A round's configuration, sealed batches and tickets sold, the drawers' commitments and reveals, and the draw.",
    fields: [{ name: "roundId", label: "Round id", placeholder: "e.g. 2026-001" }],
    queries: [
      { name: "round", title: "Round", args: ["roundId"] },
      { name: "draw", title: "Draw", args: ["roundId"] },
    ],
  },
];

export function ModulesIndex() {
  const data = useLoad(() => modules() as Promise<{ modules: Array<{ name: string; methods: unknown; queries: unknown }> }>, []);
  return (
    <section>
      <h1>Modules</h1>
      <ul className="module-links">
        {MODULE_PAGES.map((p) => (
          <li key={p.module}>
            <Link to={`/modules/${p.module}`}>{p.title}</Link>
          </li>
        ))}
        <li>
          <Link to="/governance">Governance proposals and votes</Link>
        </li>
        <li>
          <Link to="/evidence">Evidence: verify a file</Link>
        </li>
      </ul>
      <h2>Every module this node runs</h2>
      <Show data={data} what="modules">
        {({ modules: list }) => (
          <div className="module-list">
            {list.map((m) => (
              <details key={m.name}>
                <summary>
                  <code>{m.name}</code>: {names(m.methods).length} methods, {names(m.queries).length} queries
                </summary>
                <Catalogue title="Methods" entries={m.methods} />
                <Catalogue title="Queries" entries={m.queries} />
              </details>
            ))}
          </div>
        )}
      </Show>
    </section>
  );
}

type Entry = { name?: string; description?: string; roles?: string[] | null };

function entries(v: unknown): Entry[] {
  if (Array.isArray(v)) return v as Entry[];
  if (v !== null && typeof v === "object") return Object.entries(v as Record<string, Entry>).map(([name, e]) => ({ ...e, name }));
  return [];
}

function names(v: unknown): string[] {
  return entries(v).map((e) => e.name ?? "?");
}

function Catalogue({ title, entries: v }: { title: string; entries: unknown }) {
  const list = entries(v);
  if (list.length === 0) return null;
  return (
    <>
      <h3>{title}</h3>
      <ul className="catalogue">
        {list.map((e) => (
          <li key={e.name}>
            <code>{e.name}</code> {e.roles === null || e.roles === undefined ? "" : <span className="muted">({e.roles.join(", ")})</span>}
            {e.description === undefined ? null : <div className="muted">{e.description}</div>}
          </li>
        ))}
      </ul>
    </>
  );
}

export function ModuleView({ module, params }: { module: string; params: URLSearchParams }) {
  const page = MODULE_PAGES.find((p) => p.module === module);
  if (page === undefined)
    return (
      <section>
        <h1>Unknown module page</h1>
        <p>
          There is no page for <code>{module}</code>. See <Link to="/modules">all modules</Link>.
        </p>
      </section>
    );
  const values = Object.fromEntries(page.fields.map((f) => [f.name, params.get(f.name) ?? ""]));
  const complete = page.fields.every((f) => f.optional === true || (values[f.name] ?? "") !== "");
  return (
    <section>
      <h1>{page.title}</h1>
      <p>{page.intro}</p>
      <form
        className="query-form"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const qs = new URLSearchParams();
          for (const f of page.fields) {
            const v = form.get(f.name);
            if (typeof v === "string" && v.trim() !== "") qs.set(f.name, v.trim());
          }
          navigate(`/modules/${module}?${qs}`);
        }}
      >
        {page.fields.map((f) => (
          <label key={f.name}>
            {f.label}
            <input
              name={f.name}
              defaultValue={values[f.name]}
              placeholder={f.placeholder}
              pattern={f.pattern}
              required={f.optional !== true}
            />
          </label>
        ))}
        <button type="submit">Look up</button>
      </form>
      {complete ? (
        page.queries.map((q) => (
          <QueryResult
            key={`${q.name}:${JSON.stringify(values)}`}
            module={module}
            name={q.name}
            title={q.title}
            args={Object.fromEntries(
              q.args.map((a) => [a, a === "key" ? (values[a] ?? "").replace(/^0x/, "").toLowerCase() : (values[a] ?? "")]),
            )}
          />
        ))
      ) : (
        <Empty>Fill in the form to look something up.</Empty>
      )}
      {module === "credentials" && <PresentationCheck />}
    </section>
  );
}

type Check =
  | { kind: "idle" }
  | { kind: "working" }
  | { kind: "valid"; result: VerifiedPresentation }
  | { kind: "invalid"; code: string; reason: string };

/**
 * Verifies a credential presentation (the JSON a holder shows) in the browser with @tally/core:
 * disclosed attributes against their hashes, the issuer's signature with the key the ledger records,
 * and the credential's status from a fresh status proof checked against the node's genesis.
 */
function PresentationCheck() {
  const [check, setCheck] = useState<Check>({ kind: "idle" });
  const verify = async (file: File) => {
    setCheck({ kind: "working" });
    try {
      const presentation: unknown = JSON.parse(await file.text());
      const genesis = loadGenesis(await client.genesis());
      setCheck({ kind: "valid", result: await client.credentials.verify(presentation, { genesis }) });
    } catch (err) {
      const code = err instanceof TallyError ? err.code : "CREDENTIAL_INVALID";
      const reason = err instanceof SyntaxError ? "the file is not JSON" : describeError(err);
      setCheck({ kind: "invalid", code, reason });
    }
  };
  return (
    <>
      <h2>Verify a presentation</h2>
      <p className="muted">
        Choose a presentation file (from <code>tally credential present</code>). It is checked here, in your browser, against the node's
        genesis; only the credential's issuer and id are sent to fetch its status proof.
      </p>
      <input
        type="file"
        accept="application/json,.json"
        aria-label="presentation file"
        data-testid="presentation-input"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          if (file !== undefined) void verify(file);
        }}
      />
      {check.kind === "working" && <p className="muted">Verifying…</p>}
      {check.kind === "valid" && (
        <div className="verdict ok" data-testid="presentation-verdict">
          <strong>Valid</strong>: issued by <code>{check.result.issuer}</code> ({check.result.schema}), status checked at height{" "}
          {check.result.ledger.height}.
          <Fields rows={Object.entries(check.result.disclosed).map(([k, v]) => [k, v] as const)} />
          {check.result.undisclosed.length > 0 && <p className="muted">Not disclosed: {check.result.undisclosed.join(", ")}</p>}
        </div>
      )}
      {check.kind === "invalid" && (
        <div className="verdict bad" data-testid="presentation-verdict">
          <strong>Invalid</strong> ({check.code}): {check.reason}
        </div>
      )}
    </>
  );
}

function QueryResult({ module, name, title, args }: { module: string; name: string; title: string; args: Record<string, string> }) {
  const data = useLoad(() => query<unknown>(module, name, args), [module, name, JSON.stringify(args)]);
  return (
    <>
      <h2>{title}</h2>
      <Show data={data} what={`${module} ${name}`}>
        {(value) => <Value value={value} />}
      </Show>
    </>
  );
}

/** Flat fields as a list, nested values as JSON under their name. */
function Value({ value }: { value: unknown }) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return <Json value={value} />;
  const flat: Array<[string, ReactNode]> = [];
  const nested: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(value)) {
    if (v !== null && typeof v === "object") nested.push([k, v]);
    else flat.push([k, v === null ? "—" : String(v)]);
  }
  return (
    <>
      <Fields rows={flat} />
      {nested.map(([k, v]) => (
        <details key={k} open={Array.isArray(v) ? v.length <= 20 : true}>
          <summary>
            {k}
            {Array.isArray(v) ? ` (${v.length})` : ""}
          </summary>
          <Json value={v} />
        </details>
      ))}
    </>
  );
}
