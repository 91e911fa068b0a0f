/**
 * The live view of the chain shared by every page: node status and the recent blocks (height, time,
 * transaction count) for the dashboard's rates. New blocks arrive over the node's WebSocket
 * (`/v1/ws`, topic "blocks"); when the socket is unavailable the page polls /v1/status every second
 * and reads the blocks it missed.
 */
import type { StatusView } from "@tally/sdk";
import { useEffect, useState } from "react";
import { type ConsensusStatus, client } from "./api";

export interface BlockPoint {
  readonly height: number;
  readonly hash: string;
  readonly timeMs: number;
  readonly txs: number;
}

export type Transport = "connecting" | "websocket" | "polling" | "offline";

export interface LiveState {
  readonly status: (StatusView & { consensus?: ConsensusStatus }) | null;
  readonly blocks: readonly BlockPoint[];
  readonly transport: Transport;
  readonly error: string | null;
  /** Transactions waiting in this node's mempool (from /metrics; null when unavailable). */
  readonly mempool: number | null;
}

/** How far back the dashboard's rates reach, and how many blocks it keeps for them. */
const WINDOW_MS = 5 * 60_000;
const BLOCKS_KEPT = 600;
/** Blocks read on start (and at most per poll) to fill the chart. */
const BACKFILL = 60;
const POLL_MS = 1_000;
const STATUS_REFRESH_MS = 5_000;

let state: LiveState = { status: null, blocks: [], transport: "connecting", error: null, mempool: null };
let statusAt = 0;
const listeners = new Set<(s: LiveState) => void>();
let started = false;
let fetching = false;

function set(patch: Partial<LiveState>): void {
  state = { ...state, ...patch };
  for (const l of listeners) l(state);
}

function addBlocks(points: readonly BlockPoint[]): void {
  if (points.length === 0) return;
  const byHeight = new Map(state.blocks.map((b) => [b.height, b]));
  for (const p of points) byHeight.set(p.height, p);
  const sorted = [...byHeight.values()].sort((a, b) => a.height - b.height);
  const newest = sorted[sorted.length - 1]?.timeMs ?? 0;
  const kept = sorted.filter((b) => b.timeMs >= newest - WINDOW_MS).slice(-BLOCKS_KEPT);
  const top = kept[kept.length - 1];
  const status = state.status;
  const patch: { -readonly [K in keyof LiveState]?: LiveState[K] } = { blocks: kept };
  if (status !== null && top !== undefined && top.height > status.height) {
    patch.status = { ...status, height: top.height, latestHash: top.hash, latestTimeMs: top.timeMs };
  }
  set(patch);
}

/** Reads the blocks between what we have and `height` (the newest BACKFILL of them). */
async function backfill(height: number): Promise<void> {
  if (fetching) return;
  fetching = true;
  try {
    const have = state.blocks[state.blocks.length - 1]?.height ?? 0;
    const from = Math.max(have + 1, height - BACKFILL + 1, 1);
    const heights: number[] = [];
    for (let h = from; h <= height; h++) heights.push(h);
    const blocks = await Promise.all(heights.map((h) => client.block(h)));
    addBlocks(blocks.map((b) => ({ height: b.header.height, hash: b.hash, timeMs: b.header.timeMs, txs: b.header.txCount })));
  } finally {
    fetching = false;
  }
}

/** The mempool gauge is only in the Prometheus text; the status endpoint does not carry it. */
async function refreshMempool(): Promise<void> {
  try {
    const res = await fetch("/metrics", { signal: AbortSignal.timeout(5_000) });
    const match = /^tally_mempool_txs (\d+)/m.exec(await res.text());
    set({ mempool: match?.[1] === undefined ? null : Number(match[1]) });
  } catch {
    set({ mempool: null });
  }
}

async function refreshStatus(): Promise<void> {
  statusAt = Date.now();
  void refreshMempool();
  try {
    const status = (await client.status()) as LiveState["status"];
    if (status === null) return;
    const top = state.status?.height ?? 0;
    // A block event may already have moved the height past this answer.
    set({ status: top > status.height ? { ...status, height: top } : status, error: null });
    if (status.height > (state.blocks[state.blocks.length - 1]?.height ?? 0)) await backfill(status.height);
  } catch (err) {
    set({ error: (err as Error).message, transport: state.transport === "websocket" ? "websocket" : "offline" });
  }
}

function poll(): void {
  void refreshStatus().then(() => {
    if (state.transport !== "websocket" && state.error === null) set({ transport: "polling" });
  });
}

function connect(): void {
  const url = `${window.location.protocol === "https:" ? "wss" : "ws"}://${window.location.host}/v1/ws`;
  let ws: WebSocket;
  let timer: ReturnType<typeof setInterval> | undefined;
  const fallback = () => {
    if (timer === undefined) timer = setInterval(poll, POLL_MS);
    if (state.transport === "websocket" || state.transport === "connecting") set({ transport: "polling" });
    // Try the socket again later: the node may have restarted.
    setTimeout(() => {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      connect();
    }, 30_000);
  };
  try {
    ws = new WebSocket(url);
  } catch {
    fallback();
    return;
  }
  let opened = false;
  ws.onopen = () => {
    opened = true;
    ws.send(JSON.stringify({ op: "subscribe", id: "b", topic: "blocks" }));
    set({ transport: "websocket", error: null });
    void refreshStatus();
    timer = setInterval(() => void refreshStatus(), STATUS_REFRESH_MS);
  };
  ws.onmessage = (ev) => {
    let msg: { type?: string; height?: number; hash?: string; timeMs?: number; txs?: number | string[] };
    try {
      msg = JSON.parse(String(ev.data));
    } catch {
      return;
    }
    if (msg.type !== "block" || typeof msg.height !== "number") return;
    // Consensus round, peers and mempool change with blocks; refresh them at most every 2 s.
    if (Date.now() - statusAt > 2_000) void refreshStatus();
    const have = state.blocks[state.blocks.length - 1]?.height ?? 0;
    // A gap (missed events) is filled from the API.
    if (have > 0 && msg.height > have + 1) void backfill(msg.height);
    else
      addBlocks([
        {
          height: msg.height,
          hash: msg.hash ?? "",
          timeMs: msg.timeMs ?? Date.now(),
          txs: Array.isArray(msg.txs) ? msg.txs.length : (msg.txs ?? 0),
        },
      ]);
  };
  ws.onclose = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    if (!opened) set({ transport: "polling" });
    fallback();
  };
}

function start(): void {
  if (started) return;
  started = true;
  void refreshStatus();
  connect();
}

export function useLive(): LiveState {
  const [s, setS] = useState(state);
  useEffect(() => {
    start();
    listeners.add(setS);
    setS(state);
    return () => {
      listeners.delete(setS);
    };
  }, []);
  return s;
}
