/** Contract metrics from committed blocks: calls by method and status, failures by code, gas used. */
import type { TxEnvelope, TxResult } from "@tally/core";
import type { NodeMetrics } from "../metrics.js";

export function observeContractResults(metrics: NodeMetrics, txs: readonly TxEnvelope[], results: readonly TxResult[]): void {
  for (let i = 0; i < txs.length; i++) {
    const tx = txs[i]?.tx;
    const r = results[i];
    if (tx === undefined || r === undefined || tx.module !== "contracts" || (tx.method !== "call" && tx.method !== "deploy")) continue;
    metrics.contractCalls.inc({ method: tx.method, status: r.status });
    if (r.status === "failed" && r.code !== null) metrics.contractFailures.inc({ code: r.code });
    const gas =
      r.value !== null && typeof r.value === "object" && !Array.isArray(r.value) ? (r.value as { gasUsed?: unknown }).gasUsed : undefined;
    if (typeof gas === "number") metrics.contractGasUsed.observe(gas);
  }
}
