/** `tally keys new`: a fresh key pair in a key file (mode 0600). */
import { existsSync } from "node:fs";
import { getSuite, toKeyFile } from "@tally/core";
import { CommandFailure, printJson, writeJsonFile } from "../io.js";

export function newKey(options: { out: string; crypto: string; force?: boolean }): void {
  if (existsSync(options.out) && !options.force) throw new CommandFailure(`${options.out} exists; use --force to overwrite`);
  const file = toKeyFile(getSuite(options.crypto).generateKeyPair());
  writeJsonFile(options.out, file, { mode: 0o600 });
  printJson({ crypto: file.crypto, address: file.address, publicKey: file.publicKey, file: options.out });
}
