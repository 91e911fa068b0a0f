/**
 * Built-in roles (spec/modules/governance.md §roles). An account's roles are in its account record;
 * every module method names the roles that may call it. Governance can define further roles
 * (`definedRoleKey`), which accounts can then be granted like these.
 */
export const ROLES = {
  /** The chain operator of a young consortium: registers accounts of any org. */
  admin: "admin",
  /** Acts for its organisation: registers its accounts, proposes and votes in governance. */
  orgAdmin: "org-admin",
  /** Reads everything (signed queries), lists audit trails, freezes tokens, proposes freezes. */
  regulator: "regulator",
  /** Creates tokens. */
  issuer: "issuer",
  /** Lists invoices by issuer. */
  taxAuthority: "tax-authority",
  /** Issues electronic invoices. */
  invoiceIssuer: "invoice-issuer",
  /** Registers documents and records financing and payment uses of them. */
  bank: "bank",
  /** Records verifiable credentials for its organisation (spec/modules/credentials.md). */
  credentialIssuer: "credential-issuer",
  /** Opens lottery rounds (close and reveal heights, drawers, purchase cap) (spec/modules/lottery.md). */
  lotteryCentre: "lottery-centre",
  /** A lottery sales terminal: seals batches of sold tickets. */
  lotteryTerminal: "lottery-terminal",
  /** Deploys smart contracts (spec/modules/contracts.md); admin and org-admin may too. */
  contractDeployer: "contract-deployer",
} as const;

export type BuiltinRole = (typeof ROLES)[keyof typeof ROLES];

export const BUILTIN_ROLES: readonly string[] = Object.values(ROLES);

export function isBuiltinRole(role: string): boolean {
  return BUILTIN_ROLES.includes(role);
}
