/**
 * `npm run sim -- --seeds N [--seed S] [--validators 4..7] [--duration SECONDS] [--negative-control]`
 *
 * Runs the deterministic full-node simulator (docs/simulation.md) over seeds S..S+N-1 (default S = 1;
 * `--seed S` alone runs that one seed). Prints one line per seed and a summary; a failing seed prints
 * its violations, the tail of the implicated nodes' logs and the command that replays it exactly.
 * Exits 1 if any seed failed. With `--negative-control` (Byzantine power above 1/3) the expectation is
 * reversed: it exits 0 only if the checker found a fork in at least one seed.
 *
 * --byzantine none|0..f|1..f|f+1 (default 0..f equivocators per seed; f+1 is --negative-control).
 * Other flags: --log LEVEL (node logs to stderr, with virtual time `t`), --keep (keep data directories),
 * --stop-on-failure.
 */
import { parseArgs } from "node:util";
import { DEFAULT_DURATION_MS, replayCommand } from "./params.js";
import { describeFailure, formatResult, runSeed } from "./simulator.js";

function usage(message: string): never {
  console.error(
    `${message}\nusage: npm run sim -- --seeds N [--seed S] [--validators 4..7] [--duration SECONDS] [--byzantine none|0..f|1..f|f+1 | --negative-control]`,
  );
  process.exit(2);
}

function int(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) usage(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seeds: { type: "string" },
      seed: { type: "string" },
      validators: { type: "string" },
      duration: { type: "string" },
      "negative-control": { type: "boolean", default: false },
      log: { type: "string" },
      keep: { type: "boolean", default: false },
      "stop-on-failure": { type: "boolean", default: false },
      byzantine: { type: "string" },
    },
    strict: true,
  });
  const first = int(values.seed, "seed", 0, 2 ** 32 - 1) ?? 1;
  const count = int(values.seeds, "seeds", 1, 1_000_000) ?? (values.seed === undefined ? 20 : 1);
  const validators = int(values.validators, "validators", 4, 7);
  const durationS = int(values.duration, "duration", 1, 86_400);
  const durationMs = durationS === undefined ? DEFAULT_DURATION_MS : durationS * 1000;
  const byzantine = values["negative-control"] === true ? "f+1" : (values.byzantine ?? "0..f");
  if (byzantine !== "none" && byzantine !== "0..f" && byzantine !== "1..f" && byzantine !== "f+1") {
    usage("--byzantine must be none, 0..f, 1..f or f+1");
  }
  const negative = byzantine === "f+1";

  const started = performance.now();
  let passed = 0;
  let forks = 0;
  let virtualMs = 0;
  const failed: number[] = [];
  for (let seed = first; seed < first + count; seed++) {
    const r = await runSeed({
      seed,
      durationMs,
      byzantine,
      ...(validators === undefined ? {} : { validators }),
      ...(values.log === undefined ? {} : { logLevel: values.log }),
      keepDirs: values.keep === true,
    });
    virtualMs += r.virtualMs;
    console.log(formatResult(r));
    const fork = r.violations.some((v) => v.kind === "agreement");
    if (fork) forks++;
    if (r.violations.length === 0) passed++;
    else {
      failed.push(seed);
      if (!negative) console.log(describeFailure(r));
      else console.log(`  ${r.violations[0]?.kind}: ${r.violations[0]?.detail}\n  replay: ${replayCommand(r.params)}`);
      if (values["stop-on-failure"] === true) break;
    }
  }
  const realS = ((performance.now() - started) / 1000).toFixed(1);
  const hours = (virtualMs / 3_600_000).toFixed(2);
  const total = passed + failed.length;
  if (negative) {
    console.log(
      `negative control: a fork in ${forks} of ${total} seeds (other violations in ${failed.length - forks}); ${hours} simulated hours in ${realS} s`,
    );
    if (forks === 0) {
      console.log("the checker found no fork with Byzantine power above 1/3: it cannot be trusted to find one");
      process.exitCode = 1;
    }
    return;
  }
  console.log(`${passed} of ${total} seeds passed, ${failed.length} failed; ${hours} simulated hours in ${realS} s`);
  if (failed.length > 0) {
    console.log(`failed seeds: ${failed.join(" ")}`);
    process.exitCode = 1;
  }
}

await main();
