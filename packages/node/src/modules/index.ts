import type { Module } from "../execution/module.js";
import { accountsModule } from "./accounts.js";
import { createContractsModule } from "./contracts.js";
import { credentialsModule } from "./credentials.js";
import { creditModule } from "./credit.js";
import { documentsModule } from "./documents.js";
import { evidenceModule } from "./evidence.js";
import { createGovernanceModule } from "./governance.js";
import { invoicesModule } from "./invoices.js";
import { lotteryModule } from "./lottery.js";
import { tokensModule } from "./tokens.js";
import { validatorsModule } from "./validators.js";

/** Governance freezes modules by name: it checks them against this list (read when a proposal runs). */
export const governanceModule: Module = createGovernanceModule(() => BUILTIN_MODULES.map((m) => m.name));

/** Contracts may run the other modules' unrestricted point queries (read when a call runs). */
export const contractsModule: Module = createContractsModule(() => BUILTIN_MODULES);

/**
 * The built-in modules, in a fixed order (genesis initialisation runs in this order). New modules
 * are appended so that existing genesis state roots and test vectors stay unchanged.
 */
export const BUILTIN_MODULES: readonly Module[] = [
  accountsModule,
  evidenceModule,
  validatorsModule,
  tokensModule,
  governanceModule,
  documentsModule,
  invoicesModule,
  creditModule,
  credentialsModule,
  lotteryModule,
  contractsModule,
];
