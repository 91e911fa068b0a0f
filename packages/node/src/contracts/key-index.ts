/**
 * The ordered index of a contract's keys (spec/contracts.md §scan). Execution reads state through
 * point lookups only, so a contract's range scans walk an index kept in state next to its values: a
 * directory of pages, each page a sorted list of keys. A page holds keys from its lower bound up to
 * the next page's bound; a full page splits in two, an empty page (other than the first) is dropped.
 * Keys are ordered as JavaScript strings (UTF-16 code units), the order the contract sees.
 */
import { contractIndexDirKey, contractIndexPageKey, decode, encode, TallyError, type Value } from "@tally/core";

/** Keys per page: a split rewrites one page of at most this many keys (each ≤ LIMITS.contractKeyBytesMax). */
export const INDEX_PAGE_KEYS_MAX = 64;

export interface IndexStore {
  get(key: Uint8Array): Uint8Array | null;
  set(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
  /** Called with the size of every index record read or written, for gas. */
  touched(bytes: number): void;
}

interface Directory {
  next: number;
  /** [lower bound, page id], sorted by bound; the first bound is "". */
  pages: Array<[string, number]>;
}

function corrupt(): never {
  throw new TallyError("BAD_ENCODING", "corrupt contract key index");
}

function readDir(store: IndexStore, address: string): Directory {
  const bytes = store.get(contractIndexDirKey(address));
  if (bytes === null) return { next: 1, pages: [["", 0]] };
  store.touched(bytes.length);
  const v = decode(bytes) as { next?: Value; pages?: Value };
  if (typeof v.next !== "number" || !Array.isArray(v.pages)) corrupt();
  return { next: v.next, pages: (v.pages as Value[]).map((p) => p as unknown as [string, number]) };
}

function writeDir(store: IndexStore, address: string, dir: Directory): void {
  if (dir.pages.length === 1 && readPage(store, address, 0).length === 0) {
    store.delete(contractIndexDirKey(address));
    return;
  }
  const bytes = encode({ next: dir.next, pages: dir.pages.map(([b, id]) => [b, id]) });
  store.touched(bytes.length);
  store.set(contractIndexDirKey(address), bytes);
}

function readPage(store: IndexStore, address: string, id: number): string[] {
  const bytes = store.get(contractIndexPageKey(address, id));
  if (bytes === null) return [];
  store.touched(bytes.length);
  const v = decode(bytes);
  if (!Array.isArray(v)) corrupt();
  return v as string[];
}

function writePage(store: IndexStore, address: string, id: number, keys: readonly string[]): void {
  if (keys.length === 0) {
    store.delete(contractIndexPageKey(address, id));
    return;
  }
  const bytes = encode([...keys]);
  store.touched(bytes.length);
  store.set(contractIndexPageKey(address, id), bytes);
}

/** Index in `dir.pages` of the page whose range holds `key`: the last bound ≤ key. */
function pageFor(dir: Directory, key: string): number {
  let lo = 0;
  let hi = dir.pages.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const bound = dir.pages[mid]?.[0] ?? "";
    if (bound <= key) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** First position in sorted `keys` whose key is ≥ `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((keys[mid] ?? "") < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function indexInsert(store: IndexStore, address: string, key: string): void {
  const dir = readDir(store, address);
  const slot = pageFor(dir, key);
  const [, id] = dir.pages[slot] ?? corrupt();
  const keys = readPage(store, address, id);
  const at = lowerBound(keys, key);
  if (keys[at] === key) return;
  keys.splice(at, 0, key);
  if (keys.length <= INDEX_PAGE_KEYS_MAX) {
    writePage(store, address, id, keys);
    return;
  }
  const half = keys.length >> 1;
  const right = keys.slice(half);
  const newId = dir.next;
  writePage(store, address, id, keys.slice(0, half));
  writePage(store, address, newId, right);
  dir.pages.splice(slot + 1, 0, [right[0] ?? corrupt(), newId]);
  dir.next += 1;
  writeDir(store, address, dir);
}

export function indexRemove(store: IndexStore, address: string, key: string): void {
  const dir = readDir(store, address);
  const slot = pageFor(dir, key);
  const [, id] = dir.pages[slot] ?? corrupt();
  const keys = readPage(store, address, id);
  const at = lowerBound(keys, key);
  if (keys[at] !== key) return;
  keys.splice(at, 1);
  writePage(store, address, id, keys);
  if (keys.length === 0 && slot > 0) {
    dir.pages.splice(slot, 1);
    writeDir(store, address, dir);
  } else if (keys.length === 0 && dir.pages.length === 1) {
    writeDir(store, address, dir);
  }
}

/** Keys starting with `prefix`, in order, strictly after `after` when given, at most `limit`. */
export function indexScan(store: IndexStore, address: string, prefix: string, limit: number, after: string | null): string[] {
  const out: string[] = [];
  if (limit <= 0) return out;
  const start = after !== null && after >= prefix ? after : prefix;
  const dir = readDir(store, address);
  for (let slot = pageFor(dir, start); slot < dir.pages.length; slot++) {
    const [, id] = dir.pages[slot] ?? corrupt();
    const keys = readPage(store, address, id);
    for (let i = lowerBound(keys, start); i < keys.length; i++) {
      const k = keys[i] ?? "";
      if (after !== null && k <= after) continue;
      if (!k.startsWith(prefix)) return out;
      out.push(k);
      if (out.length >= limit) return out;
    }
  }
  return out;
}
