/**
 * A minimal History-API router: the node answers every explorer path with index.html
 * (packages/node/src/api/explorer-routes.ts lists the same top-level sections).
 */
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from "react";

export const SECTIONS = ["blocks", "txs", "accounts", "evidence", "governance", "modules", "search"] as const;

const listeners = new Set<() => void>();

export function navigate(to: string): void {
  window.history.pushState(null, "", to);
  window.scrollTo(0, 0);
  for (const l of listeners) l();
}

export interface Location {
  readonly path: string;
  readonly params: URLSearchParams;
}

function current(): Location {
  return { path: window.location.pathname.replace(/\/+$/, "") || "/", params: new URLSearchParams(window.location.search) };
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const update = () => setLoc(current());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return loc;
}

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const { to, onClick, children, ...rest } = props;
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    // Let the browser handle new-tab and modified clicks.
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={to} onClick={click} {...rest}>
      {children}
    </a>
  );
}
