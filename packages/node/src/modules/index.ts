import type { Module } from "../execution/module.js";
import { accountsModule } from "./accounts.js";
import { evidenceModule } from "./evidence.js";
import { validatorsModule } from "./validators.js";

/** The built-in modules, in a fixed order (genesis initialisation runs in this order). */
export const BUILTIN_MODULES: readonly Module[] = [accountsModule, evidenceModule, validatorsModule];
