/**
 * The full simulator's checkers (docs/simulation.md §checkers). They read only what a client could
 * read from a node: durable blocks (`chain.blockAt`), transactions (`chain.tx`), state and its proofs.
 *
 * - agreement: at every height, every honest node that holds a block holds the same one, with a
 *   commit certificate that verifies against the height's validator set;
 * - committed transactions stay committed: a transaction is at one (height, index) on every honest
 *   node, a durable block survives its node's crash and restart, and every transaction a client was
 *   told is committed is still there, at the same place, on every honest node that reached its height;
 * - state: equal state roots at equal heights, honest nodes at one height hold equal account records,
 *   and the stored state proves against the header's state root;
 * - liveness: after GST, while honest validators with more than 2/3 of the power are up, a new height
 *   commits within LIVENESS_BOUND_MS; an honest node up for that long has caught up with where the
 *   network was that long ago; a client transaction commits within that long.
 */
import { accountKey, type CryptoSuite, encode, toHex, verifyCommit, verifySmtProof } from "@tally/core";
import type { Chain } from "../../src/chain.js";
import { LIVENESS_BOUND_MS } from "./params.js";

export type ViolationKind =
  | "agreement"
  | "certificate"
  | "tx-moved"
  | "durability"
  | "state"
  | "liveness"
  | "catch-up"
  | "tx-liveness"
  | "honest-equivocation"
  | "false-evidence"
  | "honest-peer-rejected"
  | "evidence-report"
  | "fatal";

/** Violations that end a run at once; the others (liveness) are recorded once per kind and the run goes on. */
export const SAFETY_KINDS: ReadonlySet<ViolationKind> = new Set<ViolationKind>([
  "agreement",
  "certificate",
  "tx-moved",
  "durability",
  "state",
  "honest-equivocation",
  "false-evidence",
  "honest-peer-rejected",
  "evidence-report",
  "fatal",
]);

export function isSafety(v: Violation): boolean {
  return SAFETY_KINDS.has(v.kind);
}

export interface Violation {
  readonly kind: ViolationKind;
  readonly atMs: number;
  readonly detail: string;
}

export interface CheckedNode {
  readonly index: number;
  readonly honest: boolean;
  readonly power: number;
  /** The running chain, or null while the node is down. */
  readonly chain: Chain | null;
  readonly upSinceMs: number;
}

export interface CommittedTx {
  readonly hash: Uint8Array;
  readonly hex: string;
  readonly height: number;
  readonly blockHash: string;
}

interface CanonicalBlock {
  readonly hash: string;
  readonly stateRoot: string;
  readonly node: number;
}

export class Checkers {
  readonly violations: Violation[] = [];
  /** Canonical block per height: the first honest node to hold it. */
  private readonly canonical = new Map<number, CanonicalBlock>();
  private readonly scanned: number[];
  /** Where each transaction seen in an honest node's block sits. */
  private readonly txLocations = new Map<string, { height: number; index: number; node: number }>();
  /** (time, highest honest durable height) whenever it grew. */
  private readonly progress: Array<{ atMs: number; height: number }> = [{ atMs: 0, height: 0 }];
  private eligibleSinceMs: number | null = null;
  /** Longest wait for a new height while the liveness condition held (ms). */
  worstGapMs = 0;
  /** Longest wait for a client transaction submitted after GST (ms). */
  worstTxLatencyMs = 0;
  blocksChecked = 0;

  constructor(
    private readonly suite: CryptoSuite,
    nodes: number,
    private readonly totalPower: number,
    private readonly gstMs: number,
    /** Addresses whose records are compared across nodes (clients and validators). */
    private readonly addresses: readonly string[],
  ) {
    this.scanned = Array.from({ length: nodes }, () => 0);
  }

  get maxHeight(): number {
    return (this.progress[this.progress.length - 1] as { height: number }).height;
  }

  /** No safety violation so far: the run may go on. */
  get safe(): boolean {
    return !this.violations.some(isSafety);
  }

  private failed(kind: ViolationKind): boolean {
    return this.violations.some((v) => v.kind === kind);
  }

  fail(kind: ViolationKind, atMs: number, detail: string): void {
    if (!SAFETY_KINDS.has(kind) && this.failed(kind)) return;
    this.violations.push({ kind, atMs, detail });
  }

  /** Agreement, certificates and transaction locations for blocks an honest node made durable since the last scan. */
  scan(node: CheckedNode, nowMs: number): void {
    const chain = node.chain;
    if (!node.honest || chain === null) return;
    const head = chain.head.height;
    for (let h = (this.scanned[node.index] as number) + 1; h <= head; h++) {
      const found = chain.blockAt(h);
      if (found === undefined) {
        this.fail("durability", nowMs, `node${node.index}: head is ${head} but block ${h} is missing`);
        return;
      }
      const hash = toHex(found.hash);
      const stateRoot = toHex(found.header.stateRoot);
      const known = this.canonical.get(h);
      if (known === undefined) this.canonical.set(h, { hash, stateRoot, node: node.index });
      else if (known.hash !== hash) {
        this.fail(
          "agreement",
          nowMs,
          `height ${h}: node${known.node} committed ${known.hash.slice(0, 16)}, node${node.index} committed ${hash.slice(0, 16)}`,
        );
        return;
      } else if (known.stateRoot !== stateRoot) {
        this.fail("state", nowMs, `height ${h}: state roots differ between node${known.node} and node${node.index}`);
        return;
      }
      try {
        verifyCommit(this.suite, chain.validatorSet(h), found.header, found.commit);
      } catch (err) {
        this.fail("certificate", nowMs, `node${node.index} height ${h}: ${(err as Error).message}`);
        return;
      }
      found.block.txs.forEach((bytes, index) => {
        const tx = toHex(this.suite.hash(bytes));
        const at = this.txLocations.get(tx);
        if (at === undefined) this.txLocations.set(tx, { height: h, index, node: node.index });
        else if (at.height !== h || at.index !== index) {
          this.fail(
            "tx-moved",
            nowMs,
            `tx ${tx.slice(0, 16)} at ${at.height}/${at.index} on node${at.node}, at ${h}/${index} on node${node.index}`,
          );
        }
      });
      this.scanned[node.index] = h;
      this.blocksChecked++;
    }
    if (head > 0) {
      const executedRoot = toHex(chain.head.stateRoot.hash);
      const expected = this.canonical.get(head)?.stateRoot;
      if (expected !== undefined && executedRoot !== expected) {
        this.fail("state", nowMs, `node${node.index}: stored state root at head ${head} differs from the header's`);
      }
    }
  }

  /** A restarted node still holds every block it had made durable, and every committed transaction below its head. */
  afterRestart(node: CheckedNode, durableBefore: number, committed: readonly CommittedTx[], nowMs: number): void {
    const chain = node.chain;
    if (!node.honest || chain === null) return;
    const head = chain.head.height;
    if (head < durableBefore) {
      this.fail("durability", nowMs, `node${node.index} restarted at height ${head} but had made ${durableBefore} durable`);
      return;
    }
    for (let h = 1; h <= Math.min(head, this.scanned[node.index] as number); h++) {
      const found = chain.blockAt(h);
      if (found === undefined || toHex(found.hash) !== this.canonical.get(h)?.hash) {
        this.fail("durability", nowMs, `node${node.index} lost or changed block ${h} across a restart`);
        return;
      }
    }
    this.checkTxs(node, committed, nowMs);
  }

  /** Every transaction a client saw committed is at the same place on this node, if it reached that height. */
  checkTxs(node: CheckedNode, committed: readonly CommittedTx[], nowMs: number): void {
    const chain = node.chain;
    if (!node.honest || chain === null) return;
    for (const tx of committed) {
      if (tx.height > chain.head.height) continue;
      const found = chain.tx(tx.hash);
      if (found === undefined || found.height !== tx.height || toHex(found.blockHash) !== tx.blockHash) {
        const where = found === undefined ? "missing" : `at height ${found.height}`;
        this.fail("tx-moved", nowMs, `node${node.index}: committed tx ${tx.hex.slice(0, 16)} (height ${tx.height}) is ${where}`);
        return;
      }
    }
  }

  /** Honest nodes at one height hold equal account records, and their state proves against the header's root. */
  state(nodes: readonly CheckedNode[], nowMs: number, proveIndex: number): void {
    const byHeight = new Map<number, { node: number; digest: string }>();
    for (const node of nodes) {
      const chain = node.chain;
      if (!node.honest || chain === null) continue;
      const height = chain.head.height;
      const records = this.addresses.map((a) => {
        const r = chain.account(a);
        return r === null ? null : encode({ nonce: r.nonce, roles: [...r.roles], org: r.org, publicKey: r.publicKey });
      });
      const digest = toHex(this.suite.hash(encode(records)));
      const other = byHeight.get(height);
      if (other === undefined) byHeight.set(height, { node: node.index, digest });
      else if (other.digest !== digest) {
        this.fail("state", nowMs, `height ${height}: account state of node${other.node} and node${node.index} differ`);
        return;
      }
      if (height === 0) continue;
      const key = accountKey(this.addresses[proveIndex % this.addresses.length] as string);
      const proof = chain.stateProof(key, height);
      const root = this.canonical.get(height)?.stateRoot;
      if (
        (root !== undefined && toHex(proof.stateRoot) !== root) ||
        !verifySmtProof(this.suite.hash, proof.stateRoot, key, proof.value, proof.proof)
      ) {
        this.fail("state", nowMs, `node${node.index}: stored state does not prove against the state root of height ${height}`);
        return;
      }
    }
  }

  /** New heights keep coming after GST while enough honest power is up; nodes up long enough have caught up. */
  liveness(nodes: readonly CheckedNode[], nowMs: number): void {
    let height = 0;
    let honestUpPower = 0;
    for (const n of nodes) {
      if (!n.honest || n.chain === null) continue;
      honestUpPower += n.power;
      height = Math.max(height, n.chain.head.height);
    }
    const last = this.progress[this.progress.length - 1] as { atMs: number; height: number };
    const eligible = nowMs >= this.gstMs && honestUpPower * 3 > this.totalPower * 2;
    if (!eligible) this.eligibleSinceMs = null;
    else this.eligibleSinceMs ??= nowMs;
    if (height > last.height) {
      if (this.eligibleSinceMs !== null) this.worstGapMs = Math.max(this.worstGapMs, nowMs - Math.max(last.atMs, this.eligibleSinceMs));
      this.progress.push({ atMs: nowMs, height });
    } else if (this.eligibleSinceMs !== null) {
      const waited = nowMs - Math.max(last.atMs, this.eligibleSinceMs);
      this.worstGapMs = Math.max(this.worstGapMs, waited);
      if (waited > LIVENESS_BOUND_MS && !this.failed("liveness")) {
        this.fail("liveness", nowMs, `no new height for ${waited} ms after GST with > 2/3 honest power up (stuck at ${last.height})`);
        return;
      }
    }
    const then = nowMs - LIVENESS_BOUND_MS;
    if (then < this.gstMs || this.failed("catch-up")) return;
    const target = this.heightAt(then);
    for (const n of nodes) {
      if (!n.honest || n.chain === null || n.upSinceMs > then) continue;
      if (n.chain.head.height < target) {
        this.fail(
          "catch-up",
          nowMs,
          `node${n.index} (up since ${n.upSinceMs} ms) is at ${n.chain.head.height}; the network was at ${target} ${LIVENESS_BOUND_MS} ms ago`,
        );
        return;
      }
    }
  }

  /** A client transaction first submitted at `firstMs` must commit by max(firstMs, GST, liveness start) + the bound. */
  txLiveness(pending: ReadonlyArray<{ hex: string; firstMs: number }>, nowMs: number): void {
    if (this.eligibleSinceMs === null || this.failed("tx-liveness")) return;
    for (const tx of pending) {
      const waited = nowMs - Math.max(tx.firstMs, this.eligibleSinceMs);
      if (waited > LIVENESS_BOUND_MS) {
        this.fail(
          "tx-liveness",
          nowMs,
          `client tx ${tx.hex.slice(0, 16)} (first submitted at ${tx.firstMs} ms) not committed after ${waited} ms`,
        );
        return;
      }
    }
  }

  noteTxLatency(firstMs: number, nowMs: number): void {
    if (firstMs >= this.gstMs) this.worstTxLatencyMs = Math.max(this.worstTxLatencyMs, nowMs - firstMs);
  }

  private heightAt(atMs: number): number {
    for (let i = this.progress.length - 1; i >= 0; i--) {
      const p = this.progress[i] as { atMs: number; height: number };
      if (p.atMs <= atMs) return p.height;
    }
    return 0;
  }
}
