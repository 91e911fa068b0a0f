/**
 * The validator's signing record (spec/consensus.md §restart): the last (height, round, step) it signed
 * and the lock it held then, written durably before any signature leaves the node. A restarted node
 * reads it back and never signs at or below that point again, so it cannot sign conflicting messages;
 * it re-enters the height one round later holding the recorded lock.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import {
  assert,
  decode,
  encode,
  isValueMap,
  type SignedVote,
  signedVoteFromValue,
  signedVoteToValue,
  TallyError,
  type Value,
} from "@tally/core";
import { CONSENSUS_LIMITS } from "./machine.js";
import type { ResumePoint } from "./types.js";

/** Steps in signing order within a round. */
export const SIGN_STEPS = { proposal: 0, prevote: 1, precommit: 2 } as const;
export type SignStep = keyof typeof SIGN_STEPS;

/** Own signed votes kept per height: the latest ones, re-sent after a restart (their first sending may have been lost). */
export const SIGNED_VOTES_KEPT_MAX = 8;

export interface SignPoint {
  readonly height: number;
  readonly round: number;
  readonly step: SignStep;
}

export interface SignRecord extends SignPoint {
  readonly lockedValue: Uint8Array | null;
  readonly lockedRound: number;
  /** This node's latest signed votes at `height`, oldest first. */
  readonly votes: readonly SignedVote[];
}

/** Durable storage of one record. `save` returns only once the record survives a crash. */
export interface SignRecordStore {
  load(): SignRecord | undefined;
  save(record: SignRecord): void;
}

function toValue(r: SignRecord): Value {
  return {
    v: 1,
    height: r.height,
    round: r.round,
    step: SIGN_STEPS[r.step],
    lockedValue: r.lockedValue,
    lockedRound: r.lockedRound,
    votes: r.votes.map(signedVoteToValue),
  };
}

function fromValue(value: Value): SignRecord {
  const steps = Object.keys(SIGN_STEPS) as SignStep[];
  if (!isValueMap(value) || value.v !== 1) throw new TallyError("BAD_ENCODING", "signing record must be a v1 map");
  const { height, round, step, lockedValue, lockedRound, votes } = value;
  const uint = (x: Value | undefined): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
  if (!uint(height) || !uint(round) || typeof step !== "number" || steps[step] === undefined) {
    throw new TallyError("BAD_ENCODING", "signing record fields are invalid");
  }
  if (!(lockedValue === null || lockedValue instanceof Uint8Array) || typeof lockedRound !== "number") {
    throw new TallyError("BAD_ENCODING", "signing record lock is invalid");
  }
  if (!Array.isArray(votes) || votes.length > SIGNED_VOTES_KEPT_MAX)
    throw new TallyError("BAD_ENCODING", "signing record votes are invalid");
  return {
    height,
    round,
    step: steps[step] as SignStep,
    lockedValue,
    lockedRound,
    votes: votes.map((v) => signedVoteFromValue(v as Value)),
  };
}

/** `priv_validator_state`: a small file replaced atomically (write, fsync, rename, fsync directory). */
export class FileSignRecordStore implements SignRecordStore {
  constructor(private readonly path: string) {}

  load(): SignRecord | undefined {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    return fromValue(decode(new Uint8Array(bytes)));
  }

  save(record: SignRecord): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, encode(toValue(record)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dir = openSync(dirname(this.path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}

/** Compares signing points: (height, round, step) in lexicographic order. */
function compare(a: SignPoint, b: SignPoint): number {
  return a.height - b.height || a.round - b.round || SIGN_STEPS[a.step] - SIGN_STEPS[b.step];
}

/**
 * Guards signing: every signature is at a strictly later point than the last, and is recorded durably
 * before it leaves the node. Use: `maySign(point)`, sign, `record(...)`, then send.
 */
export class SignGuard {
  private last: SignRecord | undefined;

  constructor(private readonly store: SignRecordStore) {
    this.last = store.load();
  }

  get lastSigned(): SignRecord | undefined {
    return this.last;
  }

  /** Whether `point` is strictly after the last signed point; if not, the caller must not sign. */
  maySign(point: SignPoint): boolean {
    return this.last === undefined || compare(point, this.last) > 0;
  }

  /**
   * Durably records a signature at `point` (with the lock held then, and the vote if it is one) before
   * it is sent. Throws if `point` is not after the last signed point: a signature must never be made there.
   */
  record(point: SignPoint, lock: { readonly lockedValue: Uint8Array | null; readonly lockedRound: number }, vote?: SignedVote): void {
    assert(this.maySign(point), "signing at or before the last signed point");
    assert(Number.isSafeInteger(point.height) && point.height >= 1, "signing height must be positive");
    const earlier = this.last?.height === point.height ? this.last.votes : [];
    const votes = vote === undefined ? earlier : [...earlier, vote].slice(-SIGNED_VOTES_KEPT_MAX);
    const next: SignRecord = { height: point.height, round: point.round, step: point.step, ...lock, votes };
    this.store.save(next);
    this.last = next;
  }

  /** This node's signed votes at `height` that the record kept (to send again after a restart). */
  votesAt(height: number): readonly SignedVote[] {
    return this.last?.height === height ? this.last.votes : [];
  }

  /**
   * How to enter `height`: normally ("fresh"); at the last signed round and step, with the recorded
   * lock, if this node signed at this height before a restart ("resume"); or without voting ("watch")
   * if it already signed at a later height (it had decided this one, but the block's write was lost
   * in the crash): it learns the block from its peers.
   */
  entryFor(
    height: number,
  ): { readonly mode: "fresh" } | { readonly mode: "resume"; readonly resume: ResumePoint } | { readonly mode: "watch" } {
    const last = this.last;
    if (last === undefined || last.height < height) return { mode: "fresh" };
    if (last.height > height) return { mode: "watch" };
    assert(last.round < CONSENSUS_LIMITS.resumeRoundMax, "signing record round out of range");
    const step = last.step === "proposal" ? "propose" : last.step;
    return { mode: "resume", resume: { round: last.round, step, lockedValue: last.lockedValue, lockedRound: last.lockedRound } };
  }
}

/** An in-memory store for simulations: `crash()` loses nothing because `save` is synchronous and durable. */
export class MemorySignRecordStore implements SignRecordStore {
  private record: SignRecord | undefined;

  load(): SignRecord | undefined {
    return this.record;
  }

  save(record: SignRecord): void {
    this.record = record;
  }
}
