/** Resource use of another process from /proc (Linux): memory, CPU time, per-thread CPU time. */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

let clockTicks: number | undefined;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on Linux almost everywhere). */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * VmRSS, VmHWM (peak RSS) and RssAnon (heap and other private memory; the rest of VmRSS is mostly LMDB's
 * memory-mapped data file) in KiB, or undefined once the process is gone.
 */
export function memoryKiB(pid: number): { rss: number; hwm: number; anon: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? Number.NaN);
    return { rss: field("VmRSS"), hwm: field("VmHWM"), anon: field("RssAnon") };
  } catch {
    return undefined;
  }
}

/** utime + stime in clock ticks from a /proc stat file (fields 14 and 15, counted after the ")" of comm). */
function statTicks(path: string): number | undefined {
  try {
    const stat = readFileSync(path, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state), so utime (14) and stime (15) are at 11 and 12.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

export function cpuTicks(pid: number): number | undefined {
  return statTicks(`/proc/${pid}/stat`);
}

/** CPU ticks per thread, keyed by "tid name" (names from /proc/<pid>/task/<tid>/comm). */
export function threadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    const ticks = statTicks(`/proc/${pid}/task/${tid}/stat`);
    let name = "?";
    try {
      name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
    } catch {
      // thread ended
    }
    // The main thread's tid is the pid; other threads of a node process are all named "node" (V8 and libuv
    // helpers, worker threads, LMDB's writer), so they are told apart by tid only.
    if (ticks !== undefined) out.set(tid === String(pid) ? `main (${name})` : `tid ${tid} (${name})`, ticks);
  }
  return out;
}

export interface ThreadCpu {
  readonly thread: string;
  /** Percent of one core over the window. */
  readonly cpuPercent: number;
}

/** Per-thread CPU over a window, busiest first; threads under 1% are summed into one row. */
export function threadCpuDelta(before: Map<string, number>, after: Map<string, number>, seconds: number): ThreadCpu[] {
  const hz = clockTicksPerSecond();
  const rows: ThreadCpu[] = [];
  let rest = 0;
  for (const [thread, ticks] of after) {
    const pct = ((ticks - (before.get(thread) ?? 0)) / hz / seconds) * 100;
    if (pct >= 1) rows.push({ thread, cpuPercent: pct });
    else rest += pct;
  }
  rows.sort((a, b) => b.cpuPercent - a.cpuPercent);
  if (rest > 0) rows.push({ thread: "(other threads)", cpuPercent: rest });
  return rows;
}

/** Samples VmRSS every `intervalMs` until stopped; keeps the peak and the count. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  peakKiB = 0;
  peakAnonKiB = 0;
  samples = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 500,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    const m = memoryKiB(this.pid);
    if (m === undefined) return;
    this.samples++;
    if (m.rss > this.peakKiB) this.peakKiB = m.rss;
    if (m.anon > this.peakAnonKiB) this.peakAnonKiB = m.anon;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** Busy clock ticks of the whole machine (all cores) from /proc/stat: everything but idle and iowait. */
export function machineBusyTicks(): number | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user and nice)
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
    return total - (f[3] ?? 0) - (f[4] ?? 0);
  } catch {
    return undefined;
  }
}

/** CPU used by processes other than ours over a window, in percent of one core. */
export class OtherLoad {
  private readonly machine0 = machineBusyTicks();
  private readonly ours0: number;

  constructor(private readonly pids: readonly number[]) {
    this.ours0 = this.ours();
  }

  private ours(): number {
    return this.pids.reduce((sum, pid) => sum + (cpuTicks(pid) ?? 0), 0);
  }

  percent(seconds: number): number {
    const machine1 = machineBusyTicks();
    if (this.machine0 === undefined || machine1 === undefined) return Number.NaN;
    const other = machine1 - this.machine0 - (this.ours() - this.ours0);
    return Math.max(0, (other / clockTicksPerSecond() / seconds) * 100);
  }
}
