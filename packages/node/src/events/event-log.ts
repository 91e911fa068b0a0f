/**
 * The events of durable blocks, read back from the stored transaction results (spec/api.md §events).
 * Positions are (height, txIndex, eventIndex) in commit order; a cursor "h:t:e" names the last position
 * a reader has, so reading resumes strictly after it. Recent blocks stay decoded in a byte-bounded
 * cache because every live subscriber reads the block that just committed.
 */

import type { JsonValue } from "@tally/core";
import { blockHash, decodeResult, LIMITS, TallyError, toHex, type Value, valueToJson } from "@tally/core";
import type { Chain } from "../chain.js";

/** One event as the API shows it. */
export interface EventItem {
  readonly height: number;
  readonly txHash: string;
  readonly txIndex: number;
  readonly eventIndex: number;
  readonly module: string;
  readonly name: string;
  readonly data: JsonValue;
  readonly timeMs: number;
}

interface EventRecord {
  readonly item: EventItem;
  /** The emitting contract (hex) of a "contracts" event, for the contract filter. */
  readonly contract: string | null;
  /** JSON of `item`, made once for all subscribers that send it. */
  json?: string;
}

/** A durable block as subscribers see it: its header fields and every event of its successful transactions. */
export interface BlockEvents {
  readonly height: number;
  readonly hash: string;
  readonly timeMs: number;
  readonly proposer: string;
  readonly txCount: number;
  readonly events: readonly EventRecord[];
  /** Approximate memory held, for the cache bound. */
  readonly bytes: number;
}

export interface EventFilter {
  readonly module?: string;
  readonly name?: string;
  /** Hex address of a contract: only "contracts" events whose data.contract is it. */
  readonly contract?: string;
}

/** A position to read from (inclusive). */
export interface Position {
  readonly height: number;
  readonly txIndex: number;
  readonly eventIndex: number;
}

export const CONTRACTS_MODULE = "contracts";
export const CURSOR_PATTERN = "^[0-9]{1,15}:[0-9]{1,9}:[0-9]{1,9}$";
const CURSOR_RE = new RegExp(CURSOR_PATTERN);

export function formatCursor(height: number, txIndex: number, eventIndex: number): string {
  return `${height}:${txIndex}:${eventIndex}`;
}

/** The position right after cursor "h:t:e". */
export function positionAfter(cursor: string): Position {
  if (!CURSOR_RE.test(cursor))
    throw new TallyError("BAD_REQUEST", 'cursor must be "height:txIndex:eventIndex"', { after: cursor.slice(0, 40) });
  const [h, t, e] = cursor.split(":").map(Number) as [number, number, number];
  if (!Number.isSafeInteger(h)) throw new TallyError("BAD_REQUEST", "cursor height out of range", { after: cursor });
  return { height: h, txIndex: t, eventIndex: e + 1 };
}

export function comparePositions(a: Position, b: Position): number {
  return a.height - b.height || a.txIndex - b.txIndex || a.eventIndex - b.eventIndex;
}

/** A cursor after every event of `block` (where a page that stops between blocks resumes). */
export function cursorAfterBlock(block: Pick<BlockEvents, "height" | "txCount">): string {
  return formatCursor(block.height, block.txCount, 0);
}

export function cursorOf(item: EventItem): string {
  return formatCursor(item.height, item.txIndex, item.eventIndex);
}

export function matches(record: EventRecord, filter: EventFilter): boolean {
  if (filter.module !== undefined && record.item.module !== filter.module) return false;
  if (filter.name !== undefined && record.item.name !== filter.name) return false;
  if (filter.contract !== undefined && record.contract !== filter.contract) return false;
  return true;
}

export function recordJson(record: EventRecord): string {
  record.json ??= JSON.stringify(record.item);
  return record.json;
}

/** Index of the first event of `block` at or after `from` (same height), or events.length. */
export function firstIndexAt(block: BlockEvents, from: Position): number {
  if (from.height !== block.height || (from.txIndex === 0 && from.eventIndex === 0)) return 0;
  const i = block.events.findIndex((r) => comparePositions(r.item, from) >= 0);
  return i < 0 ? block.events.length : i;
}

function contractOf(module: string, data: Value): string | null {
  if (module !== CONTRACTS_MODULE || data === null || typeof data !== "object" || Array.isArray(data) || data instanceof Uint8Array)
    return null;
  const c = (data as Record<string, Value>).contract;
  if (c instanceof Uint8Array) return toHex(c);
  if (typeof c === "string") return c.toLowerCase().replace(/^0x/, "");
  return null;
}

export interface EventPageQuery {
  readonly filter: EventFilter;
  readonly fromHeight?: number;
  readonly toHeight?: number;
  readonly after?: string;
  readonly limit: number;
}

export interface EventPage {
  readonly events: EventItem[];
  /** Where the next page starts (pass as `after`); null once the range up to min(toHeight, head) is read. */
  readonly next: string | null;
}

export class EventLog {
  /** Insertion order is recency order: a hit is moved to the end, eviction takes from the front. */
  private readonly cache = new Map<number, BlockEvents>();
  private cacheBytes = 0;

  constructor(
    private readonly chain: Chain,
    private readonly cacheBytesMax: number = LIMITS.wsBlockCacheBytesMax,
    private readonly scanBlocksMax: number = LIMITS.eventsScanBlocksMax,
    private readonly scanResultsMax: number = LIMITS.eventsScanResultsMax,
  ) {}

  get head(): number {
    return this.chain.head.height;
  }

  /**
   * The block at `height` with its events, once it is durable (undefined above the durable head).
   * `keep`: put it in the cache (live reads); one-off reads of old blocks would only evict recent ones.
   */
  block(height: number, keep: boolean): BlockEvents | undefined {
    if (height < 1 || height > this.chain.head.height) return undefined;
    const hit = this.cache.get(height);
    if (hit !== undefined) {
      this.cache.delete(height);
      this.cache.set(height, hit);
      return hit;
    }
    const loaded = this.load(height);
    if (keep) this.remember(loaded);
    return loaded;
  }

  /** A page of events in commit order (GET /v1/events): bounded by `limit` and by the blocks and results it reads. */
  page(q: EventPageQuery): EventPage {
    let from: Position = { height: Math.max(1, q.fromHeight ?? 1), txIndex: 0, eventIndex: 0 };
    if (q.after !== undefined) {
      const after = positionAfter(q.after);
      if (comparePositions(after, from) > 0) from = after;
    }
    const to = Math.min(q.toHeight ?? Number.MAX_SAFE_INTEGER, this.chain.head.height);
    const events: EventItem[] = [];
    let blocks = 0;
    let results = 0;
    let last: BlockEvents | undefined;
    for (let height = from.height; height <= to; height++) {
      // A cursor at the end of a block (a page that stopped between blocks) resumes at the next one.
      if (height === from.height && (from.txIndex > 0 || from.eventIndex > 0) && from.txIndex >= this.txCount(height)) continue;
      if (last !== undefined && (blocks >= this.scanBlocksMax || results >= this.scanResultsMax)) {
        return { events, next: cursorAfterBlock(last) };
      }
      const block = this.block(height, false);
      if (block === undefined) throw new TallyError("INTERNAL", "durable block missing from the store", { height });
      blocks++;
      results += block.txCount;
      for (let i = firstIndexAt(block, from); i < block.events.length; i++) {
        const record = block.events[i] as EventRecord;
        if (!matches(record, q.filter)) continue;
        events.push(record.item);
        if (events.length === q.limit) return { events, next: cursorOf(record.item) };
      }
      last = block;
    }
    return { events, next: null };
  }

  private txCount(height: number): number {
    return this.cache.get(height)?.txCount ?? this.chain.store.header(height)?.txCount ?? 0;
  }

  private load(height: number): BlockEvents {
    const header = this.chain.store.header(height);
    const results = this.chain.store.results(height);
    if (header === undefined || results === undefined) {
      throw new TallyError("INTERNAL", "durable block missing from the store", { height });
    }
    const events: EventRecord[] = [];
    let bytes = 256;
    results.forEach((bytesOfResult, txIndex) => {
      const result = decodeResult(bytesOfResult);
      // A failed transaction's writes and events are discarded with it.
      if (result.status !== "ok") return;
      const txHash = toHex(result.txHash);
      result.events.forEach((e, eventIndex) => {
        const item: EventItem = {
          height,
          txHash,
          txIndex,
          eventIndex,
          module: e.module,
          name: e.name,
          data: valueToJson(e.data),
          timeMs: header.timeMs,
        };
        events.push({ item, contract: contractOf(e.module, e.data) });
      });
      bytes += bytesOfResult.length * 3;
    });
    return {
      height,
      hash: toHex(blockHash(this.chain.genesis.suite, header)),
      timeMs: header.timeMs,
      proposer: toHex(header.proposer),
      txCount: header.txCount,
      events,
      bytes,
    };
  }

  private remember(block: BlockEvents): void {
    // A block larger than the whole cache is served without being kept.
    if (block.bytes > this.cacheBytesMax) return;
    this.cache.set(block.height, block);
    this.cacheBytes += block.bytes;
    for (const [height, old] of this.cache) {
      if (this.cacheBytes <= this.cacheBytesMax) break;
      this.cache.delete(height);
      this.cacheBytes -= old.bytes;
    }
  }
}
