/** Small shared pieces: hashes, times, JSON, and the loading / empty / error states every page uses. */
import type { ReactNode } from "react";
import { describeError, isNotFound, isUnreachable } from "./api";
import type { Loaded } from "./hooks";
import { Link } from "./router";

export function short(hex: string, keep = 8): string {
  return hex.length <= keep * 2 + 1 ? hex : `${hex.slice(0, keep)}…${hex.slice(-keep)}`;
}

export function Hash({ value, to, keep }: { value: string; to?: string; keep?: number }) {
  const text = <code title={value}>{short(value, keep)}</code>;
  return to === undefined ? text : <Link to={to}>{text}</Link>;
}

export function Time({ ms }: { ms: number }) {
  const d = new Date(ms);
  return (
    <time dateTime={d.toISOString()}>
      {d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC")}
    </time>
  );
}

export function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function ErrorBox({ error, what }: { error: unknown; what: string }) {
  if (isUnreachable(error))
    return (
      <div className="notice error" role="alert">
        <strong>Node unreachable.</strong> {describeError(error)}
      </div>
    );
  if (isNotFound(error))
    return (
      <div className="notice warn" role="alert">
        <strong>Not found.</strong> {describeError(error)}
      </div>
    );
  return (
    <div className="notice error" role="alert">
      <strong>Could not load {what}.</strong> {describeError(error)}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

/** Renders a loaded value, or its loading / error state. */
export function Show<T>({ data, what, children }: { data: Loaded<T>; what: string; children: (value: T) => ReactNode }) {
  if (data.state === "loading") return <Loading what={what} />;
  if (data.state === "error") return <ErrorBox error={data.error} what={what} />;
  return <>{children(data.value)}</>;
}

/** A two-column list of labelled values (a table on wide screens, stacked on phones). */
export function Fields({ rows }: { rows: ReadonlyArray<readonly [string, ReactNode]> }) {
  return (
    <dl className="fields">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A table with one header row, scrolling sideways inside its own box on narrow screens. */
export function Table({ head, children }: { head: readonly string[]; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h}>{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function Pager({ prev, next, label }: { prev: string | null; next: string | null; label: string }) {
  return (
    <nav className="pager" aria-label="pages">
      {prev === null ? <span className="disabled">← newer</span> : <Link to={prev}>← newer</Link>}
      <span>{label}</span>
      {next === null ? <span className="disabled">older →</span> : <Link to={next}>older →</Link>}
    </nav>
  );
}
