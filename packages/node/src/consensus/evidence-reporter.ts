/**
 * Turns equivocation evidence this node verified into a `validators.report-equivocation` transaction
 * signed with the node's key, so the misbehaviour is committed in a block and queryable. The node's
 * key must be a registered account (`tally init` registers validator keys); otherwise it is logged.
 */
import { addressOf, type Equivocation, encodeEquivocation, type KeyPair, signTx, TallyError, toHex } from "@tally/core";
import type { Chain } from "../chain.js";
import type { Logger } from "../logger.js";

export class EquivocationReporter {
  private readonly address: string;

  constructor(
    private readonly chain: Chain,
    private readonly key: KeyPair,
    private readonly log: Logger,
    /** Gossips an admitted report, as the API does for client transactions. */
    private readonly admitted: (txs: readonly Uint8Array[]) => void,
  ) {
    this.address = addressOf(chain.genesis.suite, key.publicKey);
  }

  report(evidence: Equivocation): void {
    if (this.chain.account(this.address) === null) {
      this.log.warn({ address: this.address }, "equivocation seen but this node's key is not a registered account; not reported on chain");
      return;
    }
    const { suite } = this.chain.genesis;
    const { bytes } = signTx(suite, this.key, {
      chainId: this.chain.chainId,
      nonce: this.chain.nextNonce(this.address),
      module: "validators",
      method: "report-equivocation",
      args: { evidence: toHex(encodeEquivocation(evidence)) },
    });
    this.chain.submit([bytes]).then(
      ([outcome]) => {
        if (outcome === undefined) return;
        if (outcome instanceof TallyError) {
          this.log.warn({ code: outcome.code, err: outcome.message }, "equivocation report refused");
          return;
        }
        this.admitted([outcome.bytes]);
        this.log.info({ tx: outcome.hashHex, height: evidence.first.height }, "equivocation reported");
      },
      (err: unknown) => this.log.error({ err }, "equivocation report failed"),
    );
  }
}
