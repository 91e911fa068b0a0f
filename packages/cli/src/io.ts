/** Small I/O helpers for commands: JSON files, printing, exit codes. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fromKeyFile, type KeyPair, TallyError } from "@tally/core";

export const DEFAULT_API_PORT = 7070;
export const DEFAULT_P2P_PORT = 26650;
export const DEFAULT_RPC = `http://127.0.0.1:${DEFAULT_API_PORT}`;

export function readJsonFile(path: string): unknown {
  if (!existsSync(path)) throw new TallyError("NOT_FOUND", `no such file: ${path}`);
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    throw new TallyError("BAD_REQUEST", `${path} is not valid JSON`);
  }
}

export function writeJsonFile(path: string, value: unknown, options: { mode?: number } = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`, { mode: options.mode ?? 0o644 });
}

export function readKey(path: string): KeyPair {
  return fromKeyFile(readJsonFile(path));
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Thrown by commands for a clean "reason on stderr, exit 1". */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
