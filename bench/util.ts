/** Small helpers shared by the benchmark phases: timing loops, statistics, formatting, progress lines. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { availableParallelism, cpus, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";

export const REPO = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** A progress line (stdout, prefixed, so it is easy to tell apart from the final table). */
export function progress(message: string): void {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface Throughput {
  /** Operations counted in the timed window. */
  readonly ops: number;
  readonly seconds: number;
  readonly perSecond: number;
}

/**
 * Runs `run(n)` (which performs n operations) repeatedly for about `seconds`, after a warm-up of a tenth of
 * that, and returns the rate. The chunk size grows until a chunk takes ~20 ms, so the clock is read rarely.
 * Time-bounded: stops after `seconds` whatever the rate.
 */
export function measureSync(run: (n: number) => void, seconds: number): Throughput {
  const warmupMs = Math.max(50, seconds * 100);
  let chunk = 1;
  let start = performance.now();
  while (performance.now() - start < warmupMs) {
    const t0 = performance.now();
    run(chunk);
    if (performance.now() - t0 < 20) chunk *= 2;
  }
  let ops = 0;
  start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    run(chunk);
    ops += chunk;
    now = performance.now();
  }
  const elapsed = (now - start) / 1000;
  return { ops, seconds: elapsed, perSecond: ops / elapsed };
}

/** Weighted percentile: `samples` are [value, weight] pairs (e.g. a batch latency counted once per transaction). */
export function percentile(samples: ReadonlyArray<readonly [number, number]>, p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a[0] - b[0]);
  let total = 0;
  for (const [, w] of sorted) total += w;
  const target = (p / 100) * total;
  let seen = 0;
  for (const [v, w] of sorted) {
    seen += w;
    if (seen >= target) return v;
  }
  return (sorted[sorted.length - 1] as readonly [number, number])[0];
}

/** 12345.6 -> "12,346"; small numbers keep a little precision. */
export function fmt(n: number | undefined | null, digits?: number): string {
  if (n === undefined || n === null || !Number.isFinite(n)) return "–";
  const d = digits ?? (Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
}

export interface MachineInfo {
  readonly cores: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly kernel: string;
  readonly date: string;
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? "unknown";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line !== undefined) cpuModel = line.split(":")[1]?.trim() ?? cpuModel;
  } catch {
    // not Linux: keep os.cpus()
  }
  return {
    cores: availableParallelism(),
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: release(),
    date: new Date().toISOString(),
  };
}

/** A bounded promise: rejects after `ms` with `what` in the message. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const tempDirs = new Set<string>();

/** A temporary directory to remove on exit, including exit by signal (where `finally` blocks do not run). */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** Forget a directory without removing it (--keep). */
export function keepTempDir(dir: string): void {
  tempDirs.delete(dir);
}

export function removeAllTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
