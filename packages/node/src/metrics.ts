/** Prometheus metrics, one registry per node, served at /metrics. Grouped by subsystem. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

export class NodeMetrics {
  readonly registry = new Registry();

  readonly chainHeight = new Gauge({ name: "tally_chain_height", help: "Height of the last committed block", registers: [this.registry] });
  readonly blocksCommitted = new Counter({ name: "tally_blocks_committed_total", help: "Blocks committed", registers: [this.registry] });
  readonly txsCommitted = new Counter({
    name: "tally_txs_committed_total",
    help: "Transactions committed, by result status",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });
  readonly blockTxs = new Histogram({
    name: "tally_block_txs",
    help: "Transactions per block",
    buckets: [1, 10, 100, 500, 1000, 2000, 5000],
    registers: [this.registry],
  });
  readonly blockExecuteSeconds = new Histogram({
    name: "tally_block_execute_seconds",
    help: "Time to execute a block and compute its state root",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly blockPersistSeconds = new Histogram({
    name: "tally_block_persist_seconds",
    help: "Time to write a block durably",
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly mempoolTxs = new Gauge({ name: "tally_mempool_txs", help: "Pending transactions", registers: [this.registry] });
  readonly mempoolBytes = new Gauge({ name: "tally_mempool_bytes", help: "Pending transaction bytes", registers: [this.registry] });
  readonly mempoolAdmitted = new Counter({
    name: "tally_mempool_admitted_total",
    help: "Transactions admitted",
    registers: [this.registry],
  });
  readonly mempoolRejected = new Counter({
    name: "tally_mempool_rejected_total",
    help: "Transactions refused at admission, by error code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly txsSkipped = new Counter({
    name: "tally_txs_skipped_total",
    help: "Pooled transactions left out of a block because they could no longer execute",
    registers: [this.registry],
  });

  readonly apiRequests = new Counter({
    name: "tally_api_requests_total",
    help: "HTTP API requests, by route and status code",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });
  readonly apiRequestSeconds = new Histogram({
    name: "tally_api_request_seconds",
    help: "HTTP API request duration",
    labelNames: ["route"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly commitWaiters = new Gauge({
    name: "tally_api_commit_waiters",
    help: "Requests waiting for a commit",
    registers: [this.registry],
  });

  readonly wsConnections = new Gauge({ name: "tally_ws_connections", help: "Open WebSocket connections", registers: [this.registry] });
  readonly wsSubscriptions = new Gauge({
    name: "tally_ws_subscriptions",
    help: "Active WebSocket subscriptions",
    registers: [this.registry],
  });
  readonly wsMessagesSent = new Counter({
    name: "tally_ws_messages_sent_total",
    help: "WebSocket messages sent, by type",
    labelNames: ["type"] as const,
    registers: [this.registry],
  });
  readonly wsDisconnects = new Counter({
    name: "tally_ws_disconnects_total",
    help: "WebSocket connections the node closed, by reason (slow_consumer, heartbeat, busy, rate_limited)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });

  readonly contractCalls = new Counter({
    name: "tally_contract_calls_total",
    help: "Committed contract transactions (contracts.deploy and contracts.call), by method and result status",
    labelNames: ["method", "status"] as const,
    registers: [this.registry],
  });
  readonly contractFailures = new Counter({
    name: "tally_contract_failures_total",
    help: "Committed contract transactions that failed, by error code",
    labelNames: ["code"] as const,
    registers: [this.registry],
  });
  readonly contractGasUsed = new Histogram({
    name: "tally_contract_gas_used",
    help: "Gas used per committed contract transaction",
    buckets: [5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000],
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "tally_" });
  }
}
