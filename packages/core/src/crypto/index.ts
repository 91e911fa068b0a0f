/**
 * Crypto suites by id. `#crypto-backend` is node:crypto under Node and pure JavaScript elsewhere
 * (packages/core/package.json `imports`); both produce and accept exactly the same bytes.
 */
import * as backend from "#crypto-backend";
import { TallyError } from "../errors.js";
import { createEd25519Suite, type Ed25519Backend } from "./ed25519.js";
import { createSm2Suite, type Sm2Backend } from "./sm2.js";
import { type CryptoSuite, SUITE_IDS, type SuiteId } from "./suite.js";

export type { CryptoSuite, KeyPair, SuiteId } from "./suite.js";
export { SUITE_IDS } from "./suite.js";

export type CryptoBackend = Ed25519Backend & Sm2Backend & { readonly name: string };

const nativeBackend: CryptoBackend = backend;
const suites: Readonly<Record<SuiteId, CryptoSuite>> = {
  ed25519: createEd25519Suite(nativeBackend),
  sm2: createSm2Suite(nativeBackend),
};

/** "node" or "web": which implementation `getSuite` uses in this runtime. */
export const cryptoBackendName: string = nativeBackend.name;

export function isSuiteId(id: string): id is SuiteId {
  return (SUITE_IDS as readonly string[]).includes(id);
}

export function getSuite(id: SuiteId | string): CryptoSuite {
  if (!isSuiteId(id)) {
    throw new TallyError("UNKNOWN_SUITE", `unknown crypto suite ${JSON.stringify(id.slice(0, 64))}`, {
      suite: id.slice(0, 64),
    });
  }
  return suites[id];
}
