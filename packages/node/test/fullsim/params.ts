/**
 * What one seed of the full-node simulator looks like (docs/simulation.md): every random choice of a
 * run is drawn here, up front and in a fixed order, from the seed's PRNG, except the choices made while
 * the run goes (message fates, the adversary's splits), which come from the same PRNG in event order.
 */
import type { ConsensusConfig } from "../../src/config.js";
import type { Prng } from "../consensus/sim.js";

export type ByzantineMode = "none" | "0..f" | "1..f" | "f+1";

export interface FullSimOptions {
  readonly seed: number;
  /** 4..7; absent: drawn from the seed. The draw happens either way, so `--validators` equal to the drawn value replays exactly. */
  readonly validators?: number;
  /** Virtual milliseconds the run lasts. */
  readonly durationMs: number;
  /**
   * Equivocating validators: "0..f" (default) draws 0..f per seed and "1..f" 1..f, always holding less
   * than 1/3 of the power; "none" has none; "f+1" is the negative control, Byzantine power above 1/3
   * (f+1 validators at equal powers), with which the checker must be able to find a fork.
   */
  readonly byzantine?: ByzantineMode;
  /** Node logs at this level to stderr, prefixed with virtual time (default: captured, shown on failure). */
  readonly logLevel?: string;
  /** Keep the nodes' data directories. */
  readonly keepDirs?: boolean;
}

/** Default virtual duration of a seed. */
export const DEFAULT_DURATION_MS = 60_000;

/**
 * The liveness bound: once the network is synchronous (GST: no loss, no partition, delays within
 * `delayAfterGstMaxMs`) and honest validators holding more than 2/3 of the power are up, a new height
 * commits at most this long after the previous one (or after the moment those conditions began). It is
 * also the bound for a restarted node to catch up and for a client transaction to commit.
 */
export const LIVENESS_BOUND_MS = 30_000;

/** Timeouts of the simulated validators: the in-process cluster's, with a shorter empty-block interval. */
export const SIM_CONSENSUS: ConsensusConfig = {
  timeoutProposeMs: 1_500,
  timeoutPrevoteMs: 500,
  timeoutPrecommitMs: 500,
  timeoutDeltaMs: 250,
  emptyBlockIntervalMs: 500,
};

export const SIM_WORLD = {
  /** Message delay after GST: uniform in [1, delayAfterGstMaxMs]. */
  delayAfterGstMaxMs: 40,
  /** Before GST, this share of messages is held up to longDelayMaxMs (reordering across rounds). */
  longDelayShare: 0.05,
  longDelayMaxMs: 1_500,
  /** Connection set-up after a restart or a ban (ms). */
  connectMinMs: 5,
  connectMaxMs: 100,
  /** A member disconnected for an invalid message is reconnected after this long (ms). */
  banMinMs: 1_000,
  banMaxMs: 3_000,
  /** Disk: a block write becomes durable after 1..diskLatencyMaxMs, or slowDiskMax for a share of writes. */
  diskLatencyMaxMs: 20,
  slowDiskShare: 0.05,
  slowDiskMaxMs: 300,
  /** The checkers run this often (virtual ms). */
  checkEveryMs: 250,
  /** Client accounts submitting transactions, and the most each keeps uncommitted. */
  clientAccounts: 3,
  clientOutstandingMax: 4,
} as const;

export type PartitionKind = "none" | "symmetric" | "asymmetric";

export interface PartitionPeriod {
  readonly fromMs: number;
  readonly kind: PartitionKind;
  /** blocked[from][to]: messages from `from` to `to` are dropped. */
  readonly blocked: readonly (readonly boolean[])[];
  readonly label: string;
}

export interface CrashPlan {
  readonly id: number;
  readonly node: number;
  readonly atMs: number;
  readonly downMs: number;
  /** Crash while a block write is in flight: armed at `atMs`, it strikes during the node's next write. */
  readonly duringWrite: boolean;
}

export interface SeedParams {
  readonly seed: number;
  readonly validators: number;
  readonly powers: readonly number[];
  /** Node indices of the Byzantine validators. */
  readonly byzantine: readonly number[];
  readonly negativeControl: boolean;
  readonly mode: ByzantineMode;
  readonly durationMs: number;
  readonly gstMs: number;
  readonly loss: number;
  readonly duplication: number;
  readonly delayMaxMs: number;
  readonly partitions: readonly PartitionPeriod[];
  readonly crashes: readonly CrashPlan[];
  /** Per node clock offset (ms). */
  readonly skews: readonly number[];
  /** Adversary: chance that it equivocates on a message, and that an honest node gets both versions. */
  readonly intensity: number;
  readonly leak: number;
  /** Share of the adversary's second proposals that are invalid blocks. */
  readonly invalidAlt: number;
  readonly clientIntervalMinMs: number;
  readonly clientIntervalMaxMs: number;
}

function matrix(n: number, blocked: (from: number, to: number) => boolean): boolean[][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => i !== j && blocked(i, j)));
}

function drawPartition(prng: Prng, n: number, fromMs: number): PartitionPeriod {
  const r = prng.float();
  if (r < 0.35) return { fromMs, kind: "none", blocked: matrix(n, () => false), label: "healed" };
  if (r < 0.7) {
    const groups = prng.int(2, 3);
    const group = Array.from({ length: n }, () => prng.int(0, groups - 1));
    return {
      fromMs,
      kind: "symmetric",
      blocked: matrix(n, (i, j) => group[i] !== group[j]),
      label: `groups ${group.join("")}`,
    };
  }
  const variant = prng.int(0, 2);
  const node = prng.int(0, n - 1);
  if (variant === 0) {
    // One node's outgoing links are cut (it hears everyone, nobody hears it).
    const others = new Set(prng.shuffle([...Array(n).keys()].filter((j) => j !== node)).slice(0, prng.int(1, n - 1)));
    return { fromMs, kind: "asymmetric", blocked: matrix(n, (i, j) => i === node && others.has(j)), label: `node${node} mute` };
  }
  if (variant === 1) {
    const others = new Set(prng.shuffle([...Array(n).keys()].filter((j) => j !== node)).slice(0, prng.int(1, n - 1)));
    return { fromMs, kind: "asymmetric", blocked: matrix(n, (i, j) => j === node && others.has(i)), label: `node${node} deaf` };
  }
  const cut = matrix(n, () => prng.chance(0.3));
  return { fromMs, kind: "asymmetric", blocked: cut, label: "random one-way links" };
}

/** Every per-seed choice, in a fixed order. */
export function drawParams(prng: Prng, options: FullSimOptions): SeedParams {
  const drawn = prng.int(4, 7);
  const n = options.validators ?? drawn;
  if (!Number.isSafeInteger(n) || n < 4 || n > 7) throw new Error("validators must be 4..7");
  const weighted = prng.chance(0.3);
  const powers = Array.from({ length: n }, () => (weighted ? prng.int(1, 3) : 1));
  const total = powers.reduce((a, b) => a + b, 0);
  const order = prng.shuffle([...Array(n).keys()]);
  const mode = options.byzantine ?? "0..f";
  const negativeControl = mode === "f+1";
  const byzantine: number[] = [];
  let byzPower = 0;
  if (negativeControl) {
    // The smallest prefix of `order` holding more than 1/3 of the power.
    for (const i of order) {
      if (byzPower * 3 > total) break;
      byzantine.push(i);
      byzPower += powers[i] as number;
    }
  } else {
    const f = Math.floor((n - 1) / 3);
    const u = prng.float();
    const want = mode === "none" ? 0 : mode === "1..f" ? 1 + Math.floor(u * f) : Math.floor(u * (f + 1));
    for (const i of order) {
      if (byzantine.length >= want) break;
      const p = powers[i] as number;
      if ((byzPower + p) * 3 >= total) continue;
      byzantine.push(i);
      byzPower += p;
    }
  }
  byzantine.sort((a, b) => a - b);
  const durationMs = options.durationMs;
  // GST in the first third of the run: with the default 60 s, at least 40 s (more than the liveness
  // bound) are synchronous and checked for liveness.
  const faulty = prng.chance(0.9);
  const gstMs = faulty ? prng.int(0, Math.floor(durationMs / 3)) : 0;
  const loss = faulty && prng.chance(0.8) ? prng.float() * 0.3 : 0;
  const duplication = prng.float() * 0.1;
  const delayMaxMs = prng.int(5, SIM_WORLD.delayAfterGstMaxMs);

  const partitions: PartitionPeriod[] = [];
  if (gstMs > 0 && prng.chance(0.8)) {
    for (let t = 0; t < gstMs; t += prng.int(300, 5_000)) partitions.push(drawPartition(prng, n, t));
  }

  const honest = [...Array(n).keys()].filter((i) => !byzantine.includes(i));
  const crashes: CrashPlan[] = [];
  const preGstCrashes = gstMs > 0 ? prng.int(0, 3) : 0;
  for (let k = 0; k < preGstCrashes; k++) {
    const node = honest[prng.int(0, honest.length - 1)] as number;
    const atMs = prng.int(0, gstMs);
    // Everyone crashed before GST is back up by GST.
    const downMs = Math.max(50, Math.min(prng.int(200, 10_000), gstMs - atMs));
    crashes.push({ id: crashes.length, node, atMs, downMs, duringWrite: prng.chance(0.4) });
  }
  // After GST, one honest validator may still crash if the honest power left up stays above 2/3.
  if (prng.chance(0.3)) {
    const node = honest[prng.int(0, honest.length - 1)] as number;
    const honestPower = honest.reduce((a, i) => a + (powers[i] as number), 0);
    const atMs = prng.int(gstMs, Math.max(gstMs, durationMs - LIVENESS_BOUND_MS / 2));
    const downMs = prng.int(1_000, 10_000);
    const duringWrite = prng.chance(0.4);
    if ((honestPower - (powers[node] as number)) * 3 > total * 2) crashes.push({ id: crashes.length, node, atMs, downMs, duringWrite });
  }

  const skews = Array.from({ length: n }, () => prng.int(-500, 500));
  if (prng.chance(0.1)) {
    const node = prng.int(0, n - 1);
    skews[node] = (skews[node] as number) + (prng.chance(0.5) ? 1 : -1) * prng.int(5_000, 25_000);
  }
  const intensity = 0.5 + prng.float() * 0.5;
  const leak = prng.float() * 0.2;
  const invalidAlt = 0.2;
  const clientIntervalMinMs = prng.int(50, 300);
  const clientIntervalMaxMs = clientIntervalMinMs + prng.int(100, 1_200);
  return {
    seed: options.seed,
    validators: n,
    powers,
    byzantine,
    negativeControl,
    mode,
    durationMs,
    gstMs,
    loss,
    duplication,
    delayMaxMs,
    partitions,
    crashes,
    skews,
    intensity,
    leak,
    invalidAlt,
    clientIntervalMinMs,
    clientIntervalMaxMs,
  };
}

export function describeParams(p: SeedParams): string {
  const parts = p.partitions.filter((x) => x.kind !== "none");
  const sym = parts.filter((x) => x.kind === "symmetric").length;
  const skew = Math.max(...p.skews.map(Math.abs));
  return [
    `n=${p.validators}`,
    `powers=[${p.powers.join(",")}]`,
    `byzantine=[${p.byzantine.join(",")}]${p.negativeControl ? " (negative control)" : ""}`,
    `loss=${(p.loss * 100).toFixed(0)}%`,
    `dup=${(p.duplication * 100).toFixed(0)}%`,
    `partitions=${sym}sym+${parts.length - sym}asym`,
    `crashes=${p.crashes.length}${p.crashes.some((c) => c.duringWrite) ? "(w)" : ""}`,
    `skew≤${skew}ms`,
    `gst=${(p.gstMs / 1000).toFixed(1)}s`,
  ].join(" ");
}

/** The command that replays exactly this run. */
export function replayCommand(p: SeedParams): string {
  const extra = [
    p.durationMs === DEFAULT_DURATION_MS ? "" : ` --duration ${p.durationMs / 1000}`,
    p.mode === "0..f" ? "" : p.negativeControl ? " --negative-control" : ` --byzantine ${p.mode}`,
  ].join("");
  return `npm run sim -- --seed ${p.seed} --validators ${p.validators}${extra}`;
}
