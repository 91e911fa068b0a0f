/** Structured logs: one root pino logger per node, a child per subsystem (`{subsystem: "mempool"}`). */
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ level: options.level ?? process.env.TALLY_LOG_LEVEL ?? "info", name: options.name ?? "tally" });
}

export function subsystemLogger(root: Logger, subsystem: string): Logger {
  return root.child({ subsystem });
}
