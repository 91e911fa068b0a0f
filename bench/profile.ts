/** Reads V8 .cpuprofile files (`node --cpu-prof`) and ranks functions by self time. */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { REPO } from "./util.js";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface HotSpot {
  readonly fn: string;
  readonly where: string;
  readonly selfMs: number;
  /** Percent of all samples of the profile (idle included). */
  readonly selfPercent: number;
  /** Percent of the samples in which the thread was not idle. */
  readonly busyPercent: number;
}

export interface InclusiveSpot {
  readonly fn: string;
  readonly where: string;
  readonly totalMs: number;
  /** Percent of the samples in which the thread was not idle. */
  readonly busyPercent: number;
}

export interface ProfileSummary {
  readonly file: string;
  /** "main" or "worker" (V8 names worker profiles with a non-zero thread id). */
  readonly thread: string;
  readonly durationMs: number;
  readonly busyPercent: number;
  readonly top: HotSpot[];
  /** Tally's own functions (packages/*) by inclusive time: which stage of the pipeline costs what. */
  readonly tallyInclusive: InclusiveSpot[];
}

function shortUrl(url: string): string {
  if (url === "") return "";
  const path = url.startsWith("file://") ? new URL(url).pathname : url;
  if (path.startsWith(REPO)) return relative(REPO, path).replace(/^node_modules\//, "");
  return path.replace(/^node:/, "node:");
}

/** Self time per function (by name and location), from per-sample time deltas. */
export function summariseProfile(file: string, topN = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // timeDeltas[i] is the time between sample i-1 and sample i; it is charged to sample i-1 (what was running).
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const totals = new Map<string, { fn: string; where: string; us: number }>();
  let allUs = 0;
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const fn = functionName === "" ? "(anonymous)" : functionName;
    const where = url === "" ? "" : `${shortUrl(url)}:${lineNumber + 1}`;
    const key = `${fn}\u0000${where}`;
    const entry = totals.get(key) ?? { fn, where, us: 0 };
    entry.us += us;
    totals.set(key, entry);
    allUs += us;
    if (fn === "(idle)") idleUs += us;
  }
  const busyUs = Math.max(1, allUs - idleUs);
  // Inclusive time of Tally's functions: each sample's time goes to every distinct function on its stack.
  const inclusive = new Map<string, { fn: string; where: string; us: number }>();
  for (const [leaf, us] of selfUs) {
    const seen = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id);
      if (node === undefined) break;
      const { functionName, url, lineNumber } = node.callFrame;
      if (!url.includes("/packages/")) continue;
      const fn = functionName === "" ? "(anonymous)" : functionName;
      const where = `${shortUrl(url)}:${lineNumber + 1}`;
      const key = `${fn}\u0000${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = inclusive.get(key) ?? { fn, where, us: 0 };
      entry.us += us;
      inclusive.set(key, entry);
    }
  }
  const tallyInclusive = [...inclusive.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((t) => ({ fn: t.fn, where: t.where, totalMs: t.us / 1000, busyPercent: (t.us / busyUs) * 100 }));
  const top = [...totals.values()]
    .filter((t) => t.fn !== "(idle)")
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((t) => ({
      fn: t.fn,
      where: t.where,
      selfMs: t.us / 1000,
      selfPercent: (t.us / Math.max(1, allUs)) * 100,
      busyPercent: (t.us / busyUs) * 100,
    }));
  // CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile: thread id 0 is the main thread.
  const threadId = basename(file).split(".").at(-3);
  return {
    file,
    thread: threadId === "0" ? "main" : `worker ${threadId}`,
    durationMs: (profile.endTime - profile.startTime) / 1000,
    busyPercent: (busyUs / Math.max(1, allUs)) * 100,
    top,
    tallyInclusive,
  };
}

export function summariseProfileDir(dir: string, topN = 25): ProfileSummary[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  } catch {
    return [];
  }
  return files
    .sort()
    .map((f) => summariseProfile(join(dir, f), topN))
    .sort((a, b) => (a.thread === "main" ? -1 : b.thread === "main" ? 1 : 0));
}

export function profileMarkdown(summary: ProfileSummary, rows = 20): string {
  const lines = [
    `Profile of the node's ${summary.thread} thread (${relative(REPO, summary.file)}): ${(summary.durationMs / 1000).toFixed(1)} s, busy ${summary.busyPercent.toFixed(0)}% of samples.`,
    "",
    "| # | function | where | self ms | % of busy |",
    "|---:|---|---|---:|---:|",
    ...summary.top
      .slice(0, rows)
      .map((h, i) => `| ${i + 1} | \`${h.fn}\` | ${h.where} | ${h.selfMs.toFixed(0)} | ${h.busyPercent.toFixed(1)} |`),
  ];
  if (summary.thread === "main" && summary.tallyInclusive.length > 0) {
    lines.push(
      "",
      "Tally functions by inclusive time (self + callees):",
      "",
      "| function | where | total ms | % of busy |",
      "|---|---|---:|---:|",
      ...summary.tallyInclusive
        .slice(0, rows)
        .map((h) => `| \`${h.fn}\` | ${h.where} | ${h.totalMs.toFixed(0)} | ${h.busyPercent.toFixed(1)} |`),
    );
  }
  return lines.join("\n");
}
