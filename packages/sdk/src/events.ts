/**
 * Events and blocks from a node (spec/api.md §events): pages of past events over HTTP, and live
 * subscriptions over the node's WebSocket that reconnect with backoff and resume right after the last
 * item they delivered, so a caller sees every item once, in commit order, across reconnects.
 *
 * Browsers have a global WebSocket; Node 20 does not: pass one (e.g. `import WebSocket from "ws"`) as
 * the client's `WebSocket` option.
 */
import { type ErrorCode, TallyError } from "@tally/core";

/** An event of a successful transaction of a durable block. `data` is JSON (bytes as "0x…" strings). */
export interface EventView {
  readonly height: number;
  readonly txHash: string;
  readonly txIndex: number;
  readonly eventIndex: number;
  readonly module: string;
  readonly name: string;
  readonly data: unknown;
  readonly timeMs: number;
}

export interface EventPageView {
  readonly events: EventView[];
  /** Pass as `after` for the next page; null once the range is read to its end (or the head). */
  readonly next: string | null;
}

export interface EventFilter {
  readonly module?: string;
  readonly name?: string;
  /** Hex address of a contract: only its events (module "contracts"). */
  readonly contract?: string;
}

export interface EventRange {
  readonly fromHeight?: number;
  readonly toHeight?: number;
}

export interface EventPageOptions {
  /** 1..1000, default 100. */
  readonly limit?: number;
  readonly after?: string;
}

/** A durable block as the blocks topic announces it. */
export interface BlockStreamView {
  readonly height: number;
  readonly hash: string;
  readonly timeMs: number;
  /** Number of transactions. */
  readonly txs: number;
  /** Hex public key of the proposer. */
  readonly proposer: string;
}

/** The parts of a WebSocket (browser or `ws`) a subscription uses. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  // `never` parameters accept both the DOM's and ws's event types; the handlers read only what is documented.
  onopen: ((event: never) => void) | null;
  onmessage: ((event: never) => void) | null;
  onclose: ((event: never) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type SubscriptionStatus = "connecting" | "open" | "reconnecting" | "closed";

export interface SubscriptionHandlers<T> {
  /** Each item once, in commit order. */
  onItem(item: T): void;
  /**
   * A refusal from the node. When it refuses the subscription itself (BAD_REQUEST, TOO_LARGE for a
   * replay further back than the node keeps streaming, SUBSCRIPTION_LIMIT) the subscription closes;
   * other errors (BUSY) are followed by a reconnect.
   */
  onError?(err: TallyError): void;
  onStatus?(status: SubscriptionStatus): void;
}

export interface SubscribeOptions {
  /** Replay from this height first (default: only blocks committed after the subscription starts). */
  readonly fromHeight?: number;
  /** Events only: start right after this cursor ("height:txIndex:eventIndex", e.g. a page's `next`). */
  readonly after?: string;
  /** Reconnect delay: initial * 2^attempt, at most max, with jitter (defaults 250 ms, 10 s). */
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
}

export interface Subscription {
  readonly status: SubscriptionStatus;
  /** Stops for good: no reconnect. */
  close(): void;
}

type Topic = "blocks" | "events";

/** Where a resumed subscription starts: after the last delivered item, or where the first one began. */
type Resume = { readonly after: string } | { readonly fromHeight: number } | null;

const SUBSCRIPTION_ID = "s";
/** Codes with which the node refuses a subscription request itself: retrying the same request cannot help. */
const FATAL: readonly string[] = ["BAD_REQUEST", "TOO_LARGE", "SUBSCRIPTION_LIMIT"];

class StreamSubscription<T> implements Subscription {
  status: SubscriptionStatus = "connecting";
  private socket: WebSocketLike | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private attempt = 0;
  private stopped = false;
  private resume: Resume;
  /** Position of the last delivered item: (height, txIndex, eventIndex), or (height) for blocks. */
  private last: readonly number[] | undefined;

  constructor(
    private readonly url: string,
    private readonly Ctor: WebSocketConstructor,
    private readonly topic: Topic,
    private readonly filter: EventFilter,
    private readonly handlers: SubscriptionHandlers<T>,
    private readonly options: SubscribeOptions,
  ) {
    this.resume =
      options.after !== undefined ? { after: options.after } : options.fromHeight !== undefined ? { fromHeight: options.fromHeight } : null;
    this.connect();
  }

  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, "closed by the client");
    this.setStatus("closed");
  }

  private setStatus(status: SubscriptionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.handlers.onStatus?.(status);
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = new this.Ctor(this.url);
    this.socket = socket;
    socket.onopen = () => {
      const request: Record<string, unknown> = { op: "subscribe", id: SUBSCRIPTION_ID, topic: this.topic };
      if (this.topic === "events" && Object.keys(this.filter).length > 0) request.filter = this.filter;
      if (this.resume !== null) Object.assign(request, this.resume);
      socket.send(JSON.stringify(request));
    };
    socket.onmessage = (event: { data: unknown }) => this.onMessage(event.data);
    socket.onerror = () => {};
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.stopped) return;
      this.setStatus("reconnecting");
      const initial = this.options.reconnectInitialMs ?? 250;
      const delay = Math.min(this.options.reconnectMaxMs ?? 10_000, initial * 2 ** this.attempt);
      this.attempt = Math.min(this.attempt + 1, 30);
      this.timer = setTimeout(() => this.connect(), delay * (0.5 + Math.random() / 2));
    };
  }

  private onMessage(data: unknown): void {
    if (this.stopped) return;
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(String(data)) as Record<string, unknown>;
    } catch {
      return;
    }
    switch (msg.type) {
      case "subscribed":
        this.attempt = 0;
        // Nothing delivered yet: a reconnect must start where this subscription began, not at a later head.
        if (this.resume === null && typeof msg.fromHeight === "number") this.resume = { fromHeight: msg.fromHeight };
        this.setStatus("open");
        return;
      case "event":
      case "block": {
        if (msg.id !== SUBSCRIPTION_ID) return;
        const { type: _type, id: _id, ...item } = msg;
        const position = msg.type === "event" ? [item.height, item.txIndex, item.eventIndex].map(Number) : [Number(item.height)];
        // The node resumes exactly after `last`; this only guards against delivering anything twice.
        if (this.last !== undefined && compare(position, this.last) <= 0) return;
        this.last = position;
        this.resume = msg.type === "event" ? { after: position.join(":") } : { fromHeight: (position[0] as number) + 1 };
        this.handlers.onItem(item as T);
        return;
      }
      case "error": {
        const meta = (msg.meta ?? {}) as Record<string, string | number | boolean | null>;
        const err = new TallyError(String(msg.code) as ErrorCode, String(msg.message), meta);
        this.handlers.onError?.(err);
        if (msg.id === SUBSCRIPTION_ID && FATAL.includes(err.code)) this.close();
        return;
      }
    }
  }
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** `client.events`: pages of past events and live subscriptions (also as `client.subscribe`). */
export class EventReads {
  constructor(
    private readonly get: <T>(path: string) => Promise<T>,
    private readonly baseUrl: string,
    private readonly webSocket?: WebSocketConstructor,
  ) {}

  /** One page of events of durable blocks in commit order (`GET /v1/events`); follow `next` for more. */
  list(filter: EventFilter & EventRange = {}, page: EventPageOptions = {}): Promise<EventPageView> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...filter, ...page })) if (value !== undefined) query.set(key, String(value));
    const text = query.toString();
    return this.get(`/v1/events${text.length === 0 ? "" : `?${text}`}`);
  }

  /** Every event matching `filter` in the range, following the pages. */
  async *all(filter: EventFilter & EventRange = {}, limit = 1000): AsyncGenerator<EventView> {
    let after: string | undefined;
    for (;;) {
      const page = await this.list(filter, { limit, ...(after === undefined ? {} : { after }) });
      yield* page.events;
      if (page.next === null) return;
      after = page.next;
    }
  }

  subscribe(topic: "events", filter: EventFilter, handlers: SubscriptionHandlers<EventView>, options?: SubscribeOptions): Subscription;
  subscribe(topic: "blocks", filter: null, handlers: SubscriptionHandlers<BlockStreamView>, options?: SubscribeOptions): Subscription;
  subscribe(
    topic: Topic,
    filter: EventFilter | null,
    handlers: SubscriptionHandlers<EventView> | SubscriptionHandlers<BlockStreamView>,
    options: SubscribeOptions = {},
  ): Subscription {
    const Ctor = this.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Ctor === undefined) {
      throw new TallyError("BAD_REQUEST", "no WebSocket implementation: pass the client option WebSocket (e.g. from the ws package)");
    }
    if (topic === "blocks" && options.after !== undefined) throw new TallyError("BAD_REQUEST", "after is for the events topic");
    const url = `${this.baseUrl.replace(/^http/, "ws")}/v1/ws`;
    return new StreamSubscription(url, Ctor, topic, filter ?? {}, handlers as SubscriptionHandlers<unknown>, options);
  }
}
