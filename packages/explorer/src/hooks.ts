import { type DependencyList, useEffect, useState } from "react";

export type Loaded<T> = { state: "loading" } | { state: "ok"; value: T } | { state: "error"; error: unknown };

/** Runs `load` whenever `deps` change; a stale answer (deps changed meanwhile) is dropped. */
/**
 * Loads `load()` whenever `deps` change. With `refresh`, a reload keeps showing the previous answer
 * until the new one arrives (live tables), instead of going back to "loading".
 */
export function useLoad<T>(load: () => Promise<T>, deps: DependencyList, options: { refresh?: boolean } = {}): Loaded<T> {
  const [result, setResult] = useState<Loaded<T>>({ state: "loading" });
  useEffect(() => {
    let live = true;
    if (options.refresh !== true) setResult({ state: "loading" });
    load().then(
      (value) => live && setResult({ state: "ok", value }),
      (error: unknown) => live && setResult({ state: "error", error }),
    );
    return () => {
      live = false;
    };
    // The caller names what the load depends on (like useEffect's own list).
    // biome-ignore lint/correctness/useExhaustiveDependencies: deps is the caller's dependency list
  }, deps);
  return result;
}
