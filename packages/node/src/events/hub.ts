/**
 * WebSocket subscriptions to blocks and events (spec/api.md §events).
 *
 * Each subscription is a cursor over the durable chain: the next (height, txIndex, eventIndex) it has
 * not been sent. Replay and live delivery are the same loop reading blocks up to the durable head, so a
 * subscriber that starts in the past reaches the present with no gap and no duplicate at the boundary,
 * and nothing is ever queued per subscription besides its cursor. A commit only wakes the connections;
 * each connection's pump does a bounded amount of work per event-loop turn and yields, and pauses while
 * the socket's outbound queue is above half its limit. A client that stops reading is disconnected.
 */
import type { WebSocket } from "@fastify/websocket";
import { LIMITS, TallyError } from "@tally/core";
import type { Chain } from "../chain.js";
import type { Logger } from "../logger.js";
import type { NodeMetrics } from "../metrics.js";
import { TokenBucket } from "../p2p/backoff.js";
import {
  type BlockEvents,
  type EventFilter,
  EventLog,
  firstIndexAt,
  matches,
  type Position,
  positionAfter,
  recordJson,
} from "./event-log.js";
import { type ClientMessage, messageId, parseClientMessage, type Topic } from "./protocol.js";

export interface EventStreamLimits {
  readonly connectionsMax: number;
  readonly subscriptionsPerConnectionMax: number;
  readonly messageBytesMax: number;
  readonly frameBytesMax: number;
  readonly inboundMessagesPerSecond: number;
  readonly inboundMessagesBurst: number;
  readonly outboundQueueBytesMax: number;
  readonly slowConsumerMs: number;
  readonly replayBlocksMax: number;
  readonly pumpBlocksPerTurn: number;
  readonly pumpMessagesPerTurn: number;
  readonly pumpBytesPerTurn: number;
  readonly blockCacheBytesMax: number;
  readonly heartbeatMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: EventStreamLimits = {
  connectionsMax: LIMITS.wsConnectionsMax,
  subscriptionsPerConnectionMax: LIMITS.wsSubscriptionsPerConnectionMax,
  messageBytesMax: LIMITS.wsMessageBytesMax,
  frameBytesMax: LIMITS.wsFrameBytesMax,
  inboundMessagesPerSecond: LIMITS.wsInboundMessagesPerSecond,
  inboundMessagesBurst: LIMITS.wsInboundMessagesBurst,
  outboundQueueBytesMax: LIMITS.wsOutboundQueueBytesMax,
  slowConsumerMs: LIMITS.wsSlowConsumerMs,
  replayBlocksMax: LIMITS.wsReplayBlocksMax,
  pumpBlocksPerTurn: LIMITS.wsPumpBlocksPerTurn,
  pumpMessagesPerTurn: LIMITS.wsPumpMessagesPerTurn,
  pumpBytesPerTurn: LIMITS.wsPumpBytesPerTurn,
  blockCacheBytesMax: LIMITS.wsBlockCacheBytesMax,
  heartbeatMs: LIMITS.wsHeartbeatMs,
};

/** WebSocket close codes (RFC 6455 §7.4.1). */
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_INTERNAL_ERROR = 1011;
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** How often a paused pump looks at the outbound queue again. */
const DRAIN_POLL_MS = 20;
/** After a close frame, how long a client gets to finish the closing handshake before the socket is dropped. */
const CLOSE_GRACE_MS = 1_000;
/** Blocks this close to the head are kept decoded: every live subscriber reads them. */
const RECENT_BLOCKS = 64;

type MessageType = "block" | "event" | "subscribed" | "unsubscribed" | "error" | "pong";

interface Subscription {
  readonly id: string;
  readonly topic: Topic;
  readonly filter: EventFilter;
  /** The first position not yet sent. */
  next: Position;
}

interface Budget {
  blocks: number;
  messages: number;
  bytes: number;
}

export class EventHub {
  readonly log: EventLog;
  private readonly connections = new Set<Connection>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly onCommitted = (): void => {
    for (const c of this.connections) c.wake();
  };

  constructor(
    readonly chain: Chain,
    readonly metrics: NodeMetrics,
    readonly logger: Logger,
    readonly limits: EventStreamLimits = DEFAULT_EVENT_STREAM_LIMITS,
  ) {
    this.log = new EventLog(chain, limits.blockCacheBytesMax);
    chain.on("committed", this.onCommitted);
    this.heartbeat = setInterval(() => {
      for (const c of this.connections) c.beat();
    }, limits.heartbeatMs);
    this.heartbeat.unref();
  }

  /** Takes a new connection, or refuses it (BUSY, close 1013) when the node serves its most. */
  accept(socket: WebSocket): void {
    if (this.connections.size >= this.limits.connectionsMax) {
      this.metrics.wsDisconnects.inc({ reason: "busy" });
      const err = new TallyError("BUSY", "too many WebSocket connections", { max: this.limits.connectionsMax });
      socket.send(JSON.stringify({ type: "error", code: err.code, message: err.message, meta: err.meta }));
      socket.close(CLOSE_TRY_AGAIN_LATER, "too many connections");
      return;
    }
    const connection = new Connection(this, socket, () => {
      this.connections.delete(connection);
      this.metrics.wsConnections.set(this.connections.size);
    });
    this.connections.add(connection);
    this.metrics.wsConnections.set(this.connections.size);
  }

  /** Node stopping: closes every connection (1001) and stops listening to the chain. */
  close(): void {
    clearInterval(this.heartbeat);
    this.chain.off("committed", this.onCommitted);
    for (const c of [...this.connections]) c.disconnect(CLOSE_GOING_AWAY, "node stopping");
  }
}

class Connection {
  private readonly subs = new Map<string, Subscription>();
  private closed = false;
  private pumping = false;
  /** When the outbound queue was first seen above half its limit with work waiting; null while it drains. */
  private stalledSince: number | null = null;
  /** Answered the last heartbeat ping. */
  private alive = true;
  /** Rotates which subscription a turn serves first, so a long replay does not starve the others. */
  private turnStart = 0;
  /** The client's message budget: every message it sends costs work and a reply. */
  private readonly inbound: TokenBucket;

  constructor(
    private readonly hub: EventHub,
    private readonly socket: WebSocket,
    private readonly onGone: () => void,
  ) {
    this.inbound = new TokenBucket(hub.limits.inboundMessagesPerSecond, hub.limits.inboundMessagesBurst, performance.now());
    socket.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    socket.on("pong", () => {
      this.alive = true;
    });
    socket.on("close", () => this.gone());
  }

  wake(): void {
    if (this.pumping || this.closed) return;
    this.pump().catch((err: unknown) => {
      // A bug or a store failure: this connection ends, the node goes on.
      this.hub.logger.error({ err }, "WebSocket delivery failed");
      this.disconnect(CLOSE_INTERNAL_ERROR, "internal error");
    });
  }

  /** Heartbeat: a connection that did not answer the previous ping is dead (or not reading at all). */
  beat(): void {
    if (this.closed) return;
    if (!this.alive) {
      this.hub.metrics.wsDisconnects.inc({ reason: "heartbeat" });
      this.socket.terminate();
      this.gone();
      return;
    }
    this.alive = false;
    this.socket.ping();
  }

  disconnect(code: number, reason: string): void {
    if (this.closed) return;
    this.socket.close(code, reason);
    // The close frame waits behind whatever is queued; a client that does not read never answers it.
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
    this.gone();
  }

  private gone(): void {
    if (this.closed) return;
    this.closed = true;
    this.hub.metrics.wsSubscriptions.dec(this.subs.size);
    this.subs.clear();
    this.onGone();
  }

  private slowConsumer(why: string): void {
    this.hub.metrics.wsDisconnects.inc({ reason: "slow_consumer" });
    this.hub.logger.info({ queued: this.socket.bufferedAmount, why }, "disconnecting a slow WebSocket consumer");
    this.disconnect(CLOSE_POLICY_VIOLATION, "slow consumer");
  }

  private send(text: string, type: MessageType): number {
    this.socket.send(text);
    this.hub.metrics.wsMessagesSent.inc({ type });
    return text.length;
  }

  private sendError(err: TallyError, id?: string): void {
    const { id: _, ...meta } = err.meta;
    this.send(JSON.stringify({ type: "error", ...(id === undefined ? {} : { id }), code: err.code, message: err.message, meta }), "error");
  }

  private onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.closed) return;
    if (!this.inbound.take(performance.now())) {
      const { inboundMessagesPerSecond: perSecond, inboundMessagesBurst: burst } = this.hub.limits;
      this.sendError(new TallyError("BUSY", "too many messages on this connection", { perSecond, burst }));
      this.hub.metrics.wsDisconnects.inc({ reason: "rate_limited" });
      this.disconnect(CLOSE_POLICY_VIOLATION, "too many messages");
      return;
    }
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    const size = bytes.length;
    if (size > this.hub.limits.messageBytesMax) {
      this.sendError(new TallyError("TOO_LARGE", "message too large", { max: this.hub.limits.messageBytesMax, size }));
      return;
    }
    if (isBinary) {
      this.sendError(new TallyError("BAD_REQUEST", "messages are JSON text"));
      return;
    }
    const text = bytes.toString("utf8");
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(text);
      this.handle(msg);
    } catch (err) {
      const refusal = err instanceof TallyError ? err : new TallyError("INTERNAL");
      if (!(err instanceof TallyError)) this.hub.logger.error({ err }, "WebSocket message failed");
      const id = typeof refusal.meta.id === "string" ? refusal.meta.id : messageIdOf(text);
      this.sendError(refusal, id);
    }
  }

  private handle(msg: ClientMessage): void {
    switch (msg.op) {
      case "ping":
        this.send('{"type":"pong"}', "pong");
        return;
      case "unsubscribe": {
        if (!this.subs.delete(msg.id)) throw new TallyError("NOT_FOUND", "no subscription with this id", { id: msg.id });
        this.hub.metrics.wsSubscriptions.dec();
        this.send(JSON.stringify({ type: "unsubscribed", id: msg.id }), "unsubscribed");
        return;
      }
      case "subscribe": {
        const { limits } = this.hub;
        if (this.subs.has(msg.id)) throw new TallyError("BAD_REQUEST", "a subscription with this id exists", { id: msg.id });
        if (this.subs.size >= limits.subscriptionsPerConnectionMax) {
          throw new TallyError("SUBSCRIPTION_LIMIT", "this connection holds the most subscriptions it may", {
            id: msg.id,
            max: limits.subscriptionsPerConnectionMax,
          });
        }
        const head = this.hub.log.head;
        const next: Position =
          msg.after !== undefined ? positionAfter(msg.after) : { height: msg.fromHeight ?? head + 1, txIndex: 0, eventIndex: 0 };
        const oldest = Math.max(1, head + 1 - limits.replayBlocksMax);
        if (next.height < oldest) {
          throw new TallyError("TOO_LARGE", "replay range too long: page older events with GET /v1/events", {
            id: msg.id,
            fromHeight: next.height,
            oldest,
          });
        }
        this.subs.set(msg.id, { id: msg.id, topic: msg.topic, filter: msg.filter, next });
        this.hub.metrics.wsSubscriptions.inc();
        // Sent before the first item: the pump only runs on a later turn.
        this.send(JSON.stringify({ type: "subscribed", id: msg.id, fromHeight: next.height }), "subscribed");
        this.wake();
        return;
      }
    }
  }

  private hasWork(head: number): boolean {
    for (const s of this.subs.values()) if (s.next.height <= head) return true;
    return false;
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      const { limits } = this.hub;
      while (!this.closed) {
        const head = this.hub.log.head;
        if (!this.hasWork(head)) return;
        if (this.socket.bufferedAmount >= limits.outboundQueueBytesMax / 2) {
          const now = performance.now();
          this.stalledSince ??= now;
          if (now - this.stalledSince >= limits.slowConsumerMs) {
            this.slowConsumer("outbound queue did not drain");
            return;
          }
          await sleep(DRAIN_POLL_MS);
          continue;
        }
        this.stalledSince = null;
        this.turn(head);
        if (this.socket.bufferedAmount > limits.outboundQueueBytesMax) {
          this.slowConsumer("outbound queue over its limit");
          return;
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      this.pumping = false;
    }
  }

  /** One turn's work: subscriptions in rotating order, each advanced up to `head` while the budget lasts. */
  private turn(head: number): void {
    const { limits } = this.hub;
    const budget: Budget = { blocks: limits.pumpBlocksPerTurn, messages: limits.pumpMessagesPerTurn, bytes: limits.pumpBytesPerTurn };
    const subs = [...this.subs.values()];
    this.turnStart = (this.turnStart + 1) % subs.length;
    for (let k = 0; k < subs.length; k++) {
      const sub = subs[(this.turnStart + k) % subs.length] as Subscription;
      while (sub.next.height <= head && budget.blocks > 0 && budget.messages > 0 && budget.bytes > 0) {
        const block = this.hub.log.block(sub.next.height, sub.next.height > head - RECENT_BLOCKS);
        if (block === undefined) return;
        budget.blocks--;
        if (sub.topic === "blocks") this.sendBlock(sub, block, budget);
        else this.sendEvents(sub, block, budget);
      }
      if (budget.blocks <= 0 || budget.messages <= 0 || budget.bytes <= 0) return;
    }
  }

  private sendBlock(sub: Subscription, block: BlockEvents, budget: Budget): void {
    const text = JSON.stringify({
      type: "block",
      id: sub.id,
      height: block.height,
      hash: block.hash,
      timeMs: block.timeMs,
      txs: block.txCount,
      proposer: block.proposer,
    });
    budget.bytes -= this.send(text, "block");
    budget.messages--;
    sub.next = { height: block.height + 1, txIndex: 0, eventIndex: 0 };
  }

  /** Sends the matching events of `block` from the subscription's cursor; stops mid-block when the budget runs out. */
  private sendEvents(sub: Subscription, block: BlockEvents, budget: Budget): void {
    const prefix = `{"type":"event","id":${JSON.stringify(sub.id)},`;
    for (let i = firstIndexAt(block, sub.next); i < block.events.length; i++) {
      const record = block.events[i];
      if (record === undefined || !matches(record, sub.filter)) continue;
      budget.bytes -= this.send(prefix + recordJson(record).slice(1), "event");
      budget.messages--;
      if (budget.messages <= 0 || budget.bytes <= 0) {
        const { txIndex, eventIndex } = record.item;
        // Later events of this block are read on the next turn, from here.
        sub.next = i + 1 < block.events.length ? { height: block.height, txIndex, eventIndex: eventIndex + 1 } : nextBlock(block);
        return;
      }
    }
    sub.next = nextBlock(block);
  }
}

function nextBlock(block: BlockEvents): Position {
  return { height: block.height + 1, txIndex: 0, eventIndex: 0 };
}

function messageIdOf(text: string): string | undefined {
  try {
    return messageId(JSON.parse(text));
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
