/**
 * Validator-set changes and equivocation reports (spec/validators.md, spec/modules/validators.md).
 *
 * Governance changes the set (`setValidator`, called by a `setValidator` proposal: there is no
 * method for it here); a change committed in block h takes effect at height
 * h + 2, so every header can name the next set (`nextValidatorsHash`) before its block executes. The
 * module keeps the scheduled set (what the next change builds on, and set(h + 2) after block h) and an
 * append-only list of epochs `{fromHeight, set}` from which the set of any past height is found.
 *
 * Anyone registered may report equivocation evidence (two conflicting signed votes); it is checked
 * against the set of the votes' height and recorded once per (validator, height, round, kind).
 */
import {
  AssertionFailure,
  assert,
  type CryptoSuite,
  compareBytes,
  concatBytes,
  decode,
  decodeEquivocation,
  type Equivocation,
  encode,
  equalBytes,
  fromHex,
  isValueMap,
  LIMITS,
  makeValidatorSet,
  moduleKey,
  TallyError,
  toHex,
  utf8,
  type Validator,
  type ValidatorSet,
  type Value,
  type VoteKind,
  validatorsFromValue,
  validatorsToValue,
  verifyEquivocation,
} from "@tally/core";
import { PROPOSER_TOTAL_POWER_MAX } from "../consensus/proposer.js";
import { type CallContext, defineMethod, type Module } from "../execution/module.js";
import type { Schema } from "../execution/schema.js";
import { s } from "../execution/schema.js";

export const VALIDATORS_MODULE = "validators";

/** Reads committed (or overlay) state: the shape of `CallContext.get` and of the chain's state reader. */
export type StateGet = (key: Uint8Array) => Uint8Array | null;
/** Scans keys under `prefix` in key order, strictly after `after`, at most `limit` entries (Chain.scanState). */
export type StateScan = (prefix: Uint8Array, limit: number, after?: Uint8Array) => Iterable<readonly [Uint8Array, Uint8Array]>;

// ---- state keys (spec/modules/validators.md §state) ------------------------------------------------

function u32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

const KIND_BYTE: Record<VoteKind, number> = { prevote: 1, precommit: 2 };

/** validators/scheduled -> [[publicKey, power], ...]: set(h + 2) once block h has executed. */
export function scheduledValidatorsKey(): Uint8Array {
  return moduleKey(VALIDATORS_MODULE, utf8("scheduled"));
}

/** validators/epochs -> uint: number of epochs. */
export function validatorEpochCountKey(): Uint8Array {
  return moduleKey(VALIDATORS_MODULE, utf8("epochs"));
}

/** validators/e/<index u32 BE> -> {fromHeight, validators: [[publicKey, power], ...]}. */
export function validatorEpochKey(index: number): Uint8Array {
  return moduleKey(VALIDATORS_MODULE, concatBytes(utf8("e/"), u32(index)));
}

export interface MisbehaviourId {
  /** Public key of the equivocating validator. */
  readonly validator: Uint8Array;
  readonly height: number;
  readonly round: number;
  readonly kind: VoteKind;
}

/** validators/m/<publicKey>/<height u64 BE><round u64 BE><kind u8: 1 prevote, 2 precommit> -> misbehaviour record. */
export function misbehaviourKey(id: MisbehaviourId): Uint8Array {
  return moduleKey(
    VALIDATORS_MODULE,
    concatBytes(utf8("m/"), id.validator, utf8("/"), u64(id.height), u64(id.round), new Uint8Array([KIND_BYTE[id.kind]])),
  );
}

/** validators/o/<reportedHeight u64 BE><txIndex u32 BE> -> record key: every report, in commit order. */
export function misbehaviourOrderPrefix(): Uint8Array {
  return moduleKey(VALIDATORS_MODULE, utf8("o/"));
}

/** validators/v/<publicKey>/<reportedHeight u64 BE><txIndex u32 BE> -> record key: one validator's reports, in commit order. */
export function misbehaviourByValidatorPrefix(publicKey: Uint8Array): Uint8Array {
  return moduleKey(VALIDATORS_MODULE, concatBytes(utf8("v/"), publicKey, utf8("/")));
}

function position(reportedHeight: number, txIndex: number): Uint8Array {
  return concatBytes(u64(reportedHeight), u32(txIndex));
}

// ---- reading the sets --------------------------------------------------------------------------

export interface ValidatorEpoch {
  /** First height this set commits. */
  readonly fromHeight: number;
  readonly validators: ValidatorSet;
}

function corrupt(what: string): never {
  throw new AssertionFailure(`validators module state: ${what}`);
}

/** Stored validator lists already checked, per suite, by their canonical encoding (see `setFromValue`). */
const checkedSets = new WeakMap<CryptoSuite, Map<string, ValidatorSet>>();
const CHECKED_SETS_MAX = 32;

/**
 * Consensus, sync and the API ask for set(h) several times per block, and building a set checks every
 * public key (for ed25519 a point decompression: most of a node's CPU under load when done each time).
 * A stored list's set never changes, so it is built once per distinct list and shared; the cache is
 * keyed by the list's bytes, not by height, so it cannot go stale.
 */
function setFromValue(suite: CryptoSuite, value: Value): ValidatorSet {
  let sets = checkedSets.get(suite);
  if (sets === undefined) {
    sets = new Map();
    checkedSets.set(suite, sets);
  }
  const id = toHex(encode(value));
  const known = sets.get(id);
  if (known !== undefined) return known;
  let set: ValidatorSet;
  try {
    set = makeValidatorSet(suite, validatorsFromValue(value));
  } catch (err) {
    if (err instanceof TallyError) corrupt(`stored validator list is invalid: ${err.message}`);
    throw err;
  }
  if (sets.size >= CHECKED_SETS_MAX) sets.delete(sets.keys().next().value as string);
  sets.set(id, set);
  return set;
}

function readList(get: StateGet, key: Uint8Array, what: string): Value {
  const bytes = get(key);
  if (bytes === null) corrupt(`${what} missing (state not initialised by genesis?)`);
  return decode(bytes);
}

/** The scheduled set: after block h has executed, the set that commits height h + 2 (spec/validators.md). */
export function scheduledValidatorSet(suite: CryptoSuite, get: StateGet): ValidatorSet {
  return setFromValue(suite, readList(get, scheduledValidatorsKey(), "scheduled set"));
}

export function validatorEpochCount(get: StateGet): number {
  const n = readList(get, validatorEpochCountKey(), "epoch count");
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1) corrupt("epoch count is not a positive integer");
  return n;
}

function epochFromHeight(get: StateGet, index: number): { fromHeight: number; value: Value } {
  const v = readList(get, validatorEpochKey(index), `epoch ${index}`);
  if (!isValueMap(v) || typeof v.fromHeight !== "number" || v.validators === undefined) corrupt(`epoch ${index} is malformed`);
  return { fromHeight: v.fromHeight, value: v.validators };
}

/** Epoch `index` (0: genesis, fromHeight 1). */
export function validatorEpoch(suite: CryptoSuite, get: StateGet, index: number): ValidatorEpoch {
  const { fromHeight, value } = epochFromHeight(get, index);
  return { fromHeight, validators: setFromValue(suite, value) };
}

/** Index of the epoch with the greatest fromHeight ≤ height (binary search: fromHeight increases with the index). */
function epochIndexAt(get: StateGet, height: number): number {
  let lo = 0;
  let hi = validatorEpochCount(get) - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (epochFromHeight(get, mid).fromHeight <= height) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * set(height): the validator set that commits block `height` (≥ 1), from the epochs. Valid for heights
 * up to the state's height + 2; epochs at or below the state's height + 1 never change afterwards, so
 * reading them from a later state gives the same answer.
 */
export function validatorSetAt(suite: CryptoSuite, get: StateGet, height: number): ValidatorSet {
  assert(Number.isSafeInteger(height) && height >= 1, "validator sets start at height 1");
  return validatorEpoch(suite, get, epochIndexAt(get, height)).validators;
}

export interface ValidatorSetChange {
  /** The height k whose header (nextValidatorsHash) and commit certify the change: set(k + 1) = nextValidators ≠ set(k). */
  readonly height: number;
  readonly nextValidators: ValidatorSet;
}

/**
 * The set changes a receipt for block `targetHeight` must prove (its `validatorProof`), oldest first:
 * one per epoch after genesis with fromHeight ≤ targetHeight. The caller adds header(k) and commit(k).
 * Throws TallyError TOO_LARGE beyond `LIMITS.validatorHopsMax` changes.
 */
export function validatorSetChanges(suite: CryptoSuite, get: StateGet, targetHeight: number): ValidatorSetChange[] {
  const last = epochIndexAt(get, targetHeight);
  if (last > LIMITS.validatorHopsMax) {
    throw new TallyError("TOO_LARGE", "more validator-set changes than a proof may carry", { max: LIMITS.validatorHopsMax, got: last });
  }
  const out: ValidatorSetChange[] = [];
  for (let i = 1; i <= last; i++) {
    const epoch = validatorEpoch(suite, get, i);
    out.push({ height: epoch.fromHeight - 1, nextValidators: epoch.validators });
  }
  return out;
}

// ---- misbehaviour records ----------------------------------------------------------------------

export interface MisbehaviourRecord extends MisbehaviourId {
  /** The two block hashes voted for (null: nil), in the evidence's order. */
  readonly blockHashes: readonly [Uint8Array | null, Uint8Array | null];
  /** The evidence as reported: encodeEquivocation bytes, verifiable offline against set(height). */
  readonly evidence: Uint8Array;
  /** Address of the account that reported it. */
  readonly reporter: string;
  readonly reportedHeight: number;
  readonly txHash: Uint8Array;
}

export function encodeMisbehaviour(r: MisbehaviourRecord): Uint8Array {
  return encode({
    validator: r.validator,
    height: r.height,
    round: r.round,
    kind: r.kind,
    blockHashes: [r.blockHashes[0], r.blockHashes[1]],
    evidence: r.evidence,
    reporter: r.reporter,
    reportedHeight: r.reportedHeight,
    txHash: r.txHash,
  });
}

export function decodeMisbehaviour(bytes: Uint8Array): MisbehaviourRecord {
  const v = decode(bytes);
  if (!isValueMap(v) || !Array.isArray(v.blockHashes) || v.blockHashes.length !== 2) corrupt("misbehaviour record is malformed");
  const [a, b] = v.blockHashes as readonly (Uint8Array | null)[];
  return {
    validator: v.validator as Uint8Array,
    height: v.height as number,
    round: v.round as number,
    kind: v.kind as VoteKind,
    blockHashes: [a ?? null, b ?? null],
    evidence: v.evidence as Uint8Array,
    reporter: v.reporter as string,
    reportedHeight: v.reportedHeight as number,
    txHash: v.txHash as Uint8Array,
  };
}

/** The record of one equivocation, or null. Callers that answer queries drop records above the durable head. */
export function getMisbehaviour(get: StateGet, id: MisbehaviourId): MisbehaviourRecord | null {
  const bytes = get(misbehaviourKey(id));
  return bytes === null ? null : decodeMisbehaviour(bytes);
}

export interface MisbehaviourPage {
  readonly records: MisbehaviourRecord[];
  /** Cursor (`after`) of the next page, or null when this page is the last one so far. */
  readonly next: Uint8Array | null;
}

export interface MisbehaviourListOptions {
  /** Only this validator's records; all records otherwise. */
  readonly validator?: Uint8Array;
  readonly limit: number;
  /** A `next` from a previous page of the same list. */
  readonly after?: Uint8Array;
  /** Records reported above this height (not durable yet) end the page. */
  readonly durableHeight: number;
}

/**
 * Misbehaviour records in commit order (all, or one validator's), paged like the evidence list: the
 * index is in commit order, so records of blocks still being written can only come last and the page
 * ends before the first of them. Throws BAD_REQUEST for a cursor outside the list's key range.
 */
export function listMisbehaviour(get: StateGet, scan: StateScan, options: MisbehaviourListOptions): MisbehaviourPage {
  const prefix = options.validator === undefined ? misbehaviourOrderPrefix() : misbehaviourByValidatorPrefix(options.validator);
  const { after } = options;
  if (after !== undefined && (after.length < prefix.length || !equalBytes(after.subarray(0, prefix.length), prefix))) {
    throw new TallyError("BAD_REQUEST", "cursor does not belong to this list", { after: toHex(after).slice(0, 80) });
  }
  const records: MisbehaviourRecord[] = [];
  let lastKey: Uint8Array | undefined;
  for (const [key, recordKey] of scan(prefix, options.limit, after)) {
    const bytes = get(recordKey);
    assert(bytes !== null, "misbehaviour index entry without its record");
    const record = decodeMisbehaviour(bytes);
    if (record.reportedHeight > options.durableHeight) break;
    records.push(record);
    lastKey = key;
    if (records.length >= options.limit) break;
  }
  const full = records.length === options.limit && lastKey !== undefined;
  return { records, next: full ? (lastKey as Uint8Array) : null };
}

// ---- the module --------------------------------------------------------------------------------

const HEX_RE = /^(?:[0-9a-f]{2})+$/;

function hexArg(maxBytes: number): Schema<string> {
  return s.string({ maxLength: 2 * maxBytes, pattern: HEX_RE });
}

const POWER_EXPECTED = `an integer from 0 to ${LIMITS.validatorPowerMax}`;
const powerArg: Schema<number> = {
  description: POWER_EXPECTED,
  parse(v, path) {
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > LIMITS.validatorPowerMax) {
      throw new TallyError("BAD_ARGS", `${path} must be ${POWER_EXPECTED}`, { field: path, expected: POWER_EXPECTED });
    }
    return v;
  },
};

/** Arguments of a validator change: `publicKey` in hex, `power` 0 (remove) to validatorPowerMax. */
export const validatorChangeArgs = s.object({ publicKey: hexArg(128), power: powerArg });
const reportArgs = s.object({ evidence: hexArg(LIMITS.equivocationBytesMax) });

interface PlannedChange {
  readonly publicKey: Uint8Array;
  readonly previousPower: number;
  readonly next: ValidatorSet;
}

/** The scheduled set after applying `set(publicKey, power)`, or the refusal. Reads only. */
function planChange(suite: CryptoSuite, get: StateGet, args: { publicKey: string; power: number }): PlannedChange {
  const publicKey = fromHex(args.publicKey);
  try {
    suite.checkPublicKey(publicKey);
  } catch {
    throw new TallyError("BAD_ARGS", `publicKey is not a valid ${suite.id} key`, { field: "publicKey" });
  }
  const current = scheduledValidatorSet(suite, get).validators;
  const index = current.findIndex((v) => compareBytes(v.publicKey, publicKey) === 0);
  const previousPower = current[index]?.power ?? 0;
  const keyHex = toHex(publicKey);
  if (args.power === 0 && index < 0) throw new TallyError("NOT_FOUND", "not a validator", { publicKey: keyHex });
  if (args.power === previousPower) throw new TallyError("BAD_ARGS", "the validator already has this power", { field: "power" });
  let next: Validator[];
  if (args.power === 0) next = current.filter((_, i) => i !== index);
  else if (index < 0) next = [...current, { publicKey, power: args.power }];
  else next = current.map((v, i) => (i === index ? { publicKey, power: args.power } : v));
  if (next.length === 0) throw new TallyError("FORBIDDEN", "the last validator cannot be removed", { publicKey: keyHex });
  if (next.length > LIMITS.validatorsMax) {
    throw new TallyError("TOO_LARGE", "the validator set would exceed validatorsMax", { max: LIMITS.validatorsMax });
  }
  const total = next.reduce((sum, v) => sum + v.power, 0);
  if (total > PROPOSER_TOTAL_POWER_MAX) {
    throw new TallyError("TOO_LARGE", "total voting power would exceed the proposer's limit", {
      max: PROPOSER_TOTAL_POWER_MAX,
      got: total,
    });
  }
  return { publicKey, previousPower, next: makeValidatorSet(suite, next) };
}

function encodeEpoch(fromHeight: number, set: ValidatorSet): Uint8Array {
  return encode({ fromHeight, validators: validatorsToValue(set.validators) });
}

interface Writer {
  readonly suite: CryptoSuite;
  get: StateGet;
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
}

/**
 * Makes `next` the scheduled set and the epoch starting at `fromHeight`. Several changes in one block
 * share that epoch; if they cancel out, the epoch is removed, so every epoch boundary is a real change.
 */
function schedule(ctx: Writer, fromHeight: number, next: ValidatorSet): void {
  ctx.set(scheduledValidatorsKey(), encode(validatorsToValue(next.validators)));
  const count = validatorEpochCount(ctx.get);
  const last = validatorEpoch(ctx.suite, ctx.get, count - 1);
  assert(last.fromHeight <= fromHeight, "epochs must start at increasing heights");
  if (last.fromHeight === fromHeight) {
    // count ≥ 2 here: epoch 0 starts at height 1 and changes start at height 3 or later.
    const before = validatorEpoch(ctx.suite, ctx.get, count - 2);
    if (equalBytes(before.validators.hash, next.hash)) {
      ctx.delete(validatorEpochKey(count - 1));
      ctx.set(validatorEpochCountKey(), encode(count - 1));
    } else {
      ctx.set(validatorEpochKey(count - 1), encodeEpoch(fromHeight, next));
    }
    return;
  }
  assert(!equalBytes(last.validators.hash, next.hash), "a change must change the scheduled set");
  ctx.set(validatorEpochKey(count), encodeEpoch(fromHeight, next));
  ctx.set(validatorEpochCountKey(), encode(count + 1));
}

interface CheckedReport {
  readonly evidence: Uint8Array;
  readonly equivocation: Equivocation;
  readonly set: ValidatorSet;
  readonly id: MisbehaviourId;
  readonly key: Uint8Array;
}

function badEvidence(message: string, meta: Record<string, string | number> = {}): never {
  throw new TallyError("BAD_EVIDENCE", message, meta);
}

/**
 * Decodes the evidence, finds the set of its height and refuses a duplicate. Signatures are checked by
 * the caller (`run` only: admission prechecks stay cheap). `currentHeight` undefined skips the
 * future-height check (admission has no block height).
 */
function checkReport(suite: CryptoSuite, get: StateGet, hex: string, currentHeight: number | undefined): CheckedReport {
  const evidence = fromHex(hex);
  let equivocation: Equivocation;
  try {
    equivocation = decodeEquivocation(evidence);
  } catch (err) {
    if (!(err instanceof TallyError)) throw err;
    badEvidence(`undecodable evidence: ${err.message}`);
  }
  const { first, second } = equivocation;
  if (currentHeight !== undefined && first.height > currentHeight) {
    badEvidence("votes are from a future height", { height: first.height, current: currentHeight });
  }
  if (
    first.validator !== second.validator ||
    first.kind !== second.kind ||
    first.height !== second.height ||
    first.round !== second.round
  ) {
    badEvidence("votes are not of one validator, step, height and round");
  }
  const set = validatorSetAt(suite, get, first.height);
  const member = set.validators[first.validator];
  if (member === undefined) badEvidence("vote from a non-member index", { index: first.validator, height: first.height });
  const id: MisbehaviourId = { validator: member.publicKey, height: first.height, round: first.round, kind: first.kind };
  const key = misbehaviourKey(id);
  const existing = get(key);
  if (existing !== null) {
    throw new TallyError("MISBEHAVIOUR_EXISTS", undefined, {
      validator: toHex(id.validator),
      height: id.height,
      round: id.round,
      kind: id.kind,
      reportedHeight: decodeMisbehaviour(existing).reportedHeight,
    });
  }
  return { evidence, equivocation, set, id, key };
}

/** Refuses a change that `setValidator` would refuse, without writing (governance checks proposals with it). */
export function checkValidatorChange(suite: CryptoSuite, get: StateGet, args: { publicKey: string; power: number }): void {
  planChange(suite, get, args);
}

/**
 * Adds a validator, changes its power or removes it (power 0), effective at ctx.height + 2. `ctx` is
 * this module's context (governance calls it through `asModule`).
 */
export function setValidator(ctx: CallContext, args: { publicKey: string; power: number }): Value {
  const { publicKey, previousPower, next } = planChange(ctx.suite, ctx.get, args);
  const effectiveHeight = ctx.height + 2;
  schedule(ctx, effectiveHeight, next);
  ctx.emit("changed", {
    publicKey,
    power: args.power,
    previousPower,
    effectiveHeight,
    validatorsHash: next.hash,
    totalPower: next.totalPower,
  });
  return { effectiveHeight, validatorsHash: next.hash, totalPower: next.totalPower, validators: next.validators.length };
}

export const validatorsModule: Module = {
  name: VALIDATORS_MODULE,
  initGenesis(ctx) {
    const { validators } = ctx.genesis;
    ctx.set(scheduledValidatorsKey(), encode(validatorsToValue(validators.validators)));
    ctx.set(validatorEpochKey(0), encodeEpoch(1, validators));
    ctx.set(validatorEpochCountKey(), encode(1));
  },
  methods: {
    "report-equivocation": defineMethod({
      description: "Report two conflicting signed votes of one validator (hex of the encoded equivocation evidence).",
      args: reportArgs,
      precheck(ctx, args) {
        checkReport(ctx.suite, ctx.get, args.evidence, undefined);
      },
      run(ctx, args) {
        const { evidence, equivocation, set, id, key } = checkReport(ctx.suite, ctx.get, args.evidence, ctx.height);
        verifyEquivocation(ctx.suite, ctx.chainId, set, equivocation);
        const record: MisbehaviourRecord = {
          ...id,
          blockHashes: [equivocation.first.blockHash, equivocation.second.blockHash],
          evidence,
          reporter: ctx.caller,
          reportedHeight: ctx.height,
          txHash: ctx.txHash,
        };
        ctx.set(key, encodeMisbehaviour(record));
        const at = position(ctx.height, ctx.txIndex);
        ctx.set(concatBytes(misbehaviourOrderPrefix(), at), key);
        ctx.set(concatBytes(misbehaviourByValidatorPrefix(id.validator), at), key);
        ctx.emit("equivocation", { validator: id.validator, height: id.height, round: id.round, kind: id.kind, reporter: ctx.caller });
        return { validator: id.validator, height: id.height, round: id.round, kind: id.kind };
      },
    }),
  },
};
