/**
 * Gas (spec/contracts.md §gas): the price of each thing a contract does, and the meter a call tree
 * shares. Execution is priced by QuickJS interrupt-handler invocations: the engine calls the handler
 * after a fixed number of internal steps (function calls and backward jumps), so the count is a pure
 * function of the code, its input and the engine build — the same on every node. Everything the host
 * does for a contract (state, events, nested calls, queries) is priced per operation and per byte.
 */
import { TallyError } from "@tally/core";

export const GAS = {
  /** Every call (top level or nested): a fresh QuickJS runtime and context (≈ 2–3 ticks of work), and the source evaluated. */
  callBase: 25_000,
  /** Per byte of source evaluated for a call (parsing is not metered by ticks). */
  codeByte: 1,
  /**
   * One interrupt-handler invocation: about 3,000–5,000 iterations of a simple loop, ≈ 0.1–0.2 ms on
   * this machine, so the largest gas limit is a fraction of a second of execution.
   */
  tick: 10_000,
  /** Per byte of JSON crossing the sandbox boundary (arguments, results, host return values). */
  ioByte: 2,
  stateRead: 200,
  stateWrite: 1_000,
  /** Per byte of key + value written (storage is paid once, when written). */
  storedByte: 20,
  /** A key that did not exist: its place in the ordered key index. */
  newKey: 2_000,
  stateDelete: 500,
  scan: 500,
  scanEntry: 100,
  event: 500,
  eventByte: 10,
  /** Deploy: per byte of new code stored (code already stored under its hash costs nothing more). */
  deployByte: 20,
  nestedCall: 2_000,
  query: 1_000,
  /** A native module method run for the contract (`invoke`): its own work is native and bounded by its arguments. */
  invoke: 5_000,
} as const;

/** One transaction's gas: shared by the call and every call it makes, so nesting cannot reset it. */
export class GasMeter {
  private usedGas = 0;
  private out = false;

  constructor(readonly limit: number) {}

  get used(): number {
    return this.usedGas;
  }

  get exhausted(): boolean {
    return this.out;
  }

  /** Charges `amount`; past the limit the meter stays exhausted and OUT_OF_GAS is thrown. */
  charge(amount: number): void {
    if (this.out) throw outOfGas(this);
    this.usedGas += amount;
    if (this.usedGas > this.limit) {
      this.usedGas = this.limit;
      this.out = true;
      throw outOfGas(this);
    }
  }

  /** A failure whose point of failure may depend on the engine's allocator history (out of memory) costs all the gas. */
  consumeAll(): void {
    this.usedGas = this.limit;
  }

  /** For the interrupt handler: charges one tick and answers whether execution must stop. */
  tick(): boolean {
    if (this.out) return true;
    this.usedGas += GAS.tick;
    if (this.usedGas > this.limit) {
      this.usedGas = this.limit;
      this.out = true;
    }
    return this.out;
  }
}

export function outOfGas(meter: GasMeter): TallyError {
  return new TallyError("OUT_OF_GAS", undefined, { gasUsed: meter.used, gasLimit: meter.limit });
}
