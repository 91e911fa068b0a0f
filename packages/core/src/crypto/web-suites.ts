/**
 * The suites on the pure-JavaScript backend, whatever the runtime: lets Node tests and benchmarks check that
 * both backends agree byte for byte. Production code uses getSuite (index.ts).
 */
import * as backend from "./backend-web.js";
import { createEd25519Suite } from "./ed25519.js";
import type { CryptoBackend } from "./index.js";
import { createSm2Suite } from "./sm2.js";
import type { CryptoSuite, SuiteId } from "./suite.js";

const webBackend: CryptoBackend = backend;

export const webSuites: Readonly<Record<SuiteId, CryptoSuite>> = {
  ed25519: createEd25519Suite(webBackend),
  sm2: createSm2Suite(webBackend),
};
