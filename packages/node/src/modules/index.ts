import type { Module } from "../execution/module.js";
import { accountsModule } from "./accounts.js";
import { evidenceModule } from "./evidence.js";
import { tokensModule } from "./tokens.js";
import { validatorsModule } from "./validators.js";

/**
 * The built-in modules, in a fixed order (genesis initialisation runs in this order). New modules
 * are appended so that existing genesis state roots and test vectors stay unchanged.
 */
export const BUILTIN_MODULES: readonly Module[] = [accountsModule, evidenceModule, validatorsModule, tokensModule];
