/**
 * One TLS connection to one (claimed) member: hello exchange, framing, the bounded send queue and the
 * inbound token bucket (spec/p2p.md). Membership, duplicates and redialing are the owner's business
 * (`ConnectionOwner`, implemented by P2PNode); a Connection only reports what happened.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { type CryptoSuite, decode, isTallyError, type KeyPair, toHex, type Value } from "@tally/core";
import type { Logger } from "../logger.js";
import { TokenBucket } from "./backoff.js";
import { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder } from "./framing.js";
import { decodeHello, encodeHello, exportedKeyingMaterial, type Hello, makeHello, P2P_ALPN, type Role } from "./handshake.js";
import type { DisconnectReason, HandshakeFailure, P2PMetrics } from "./metrics.js";
import { certFingerprint } from "./tls-identity.js";

export type CloseReason = DisconnectReason | HandshakeFailure;

export type ConnectionState = "tls" | "hello" | "open" | "closed";

/** The subset of the p2p limits a single connection enforces. */
export interface ConnectionLimits {
  readonly frameBytesMax: number;
  readonly helloBytesMax: number;
  readonly handshakeTimeoutMs: number;
  readonly sendQueueMsgsMax: number;
  readonly sendQueueBytesMax: number;
  readonly inboundMsgsPerSecond: number;
  readonly inboundBurstMsgs: number;
  readonly floodDropsMax: number;
  readonly floodWindowMs: number;
  readonly writeStallMs: number;
}

export interface ConnectionOwner {
  readonly chainId: string;
  readonly suite: CryptoSuite;
  readonly key: KeyPair;
  readonly limits: ConnectionLimits;
  readonly metrics: P2PMetrics;
  readonly log: Logger;
  now(): number;
  /** Decide on a decoded hello: null accepts it (the connection then opens), anything else refuses it. */
  authenticate(conn: Connection, hello: Hello, ekm: Uint8Array): CloseReason | null;
  opened(conn: Connection): void;
  message(conn: Connection, message: Value): void;
  /** Called exactly once per connection, after its socket was destroyed. */
  closed(conn: Connection, wasOpen: boolean, reason: CloseReason): void;
}

/** Closing for these is a protocol violation by an authenticated member: the owner bans it for a while. */
export const VIOLATIONS: ReadonlySet<CloseReason> = new Set<CloseReason>([
  "frame_too_large",
  "bad_encoding",
  "invalid_message",
  "flood",
  "write_stall",
]);

export class Connection {
  state: ConnectionState = "tls";
  /** Authenticated peer key (set when the hello is accepted). */
  peerKey: Uint8Array | null = null;
  peerKeyHex = "";
  openedAtMs = 0;
  readonly remote: string;

  private readonly decoder: FrameDecoder;
  private readonly handshakeTimer: NodeJS.Timeout;
  private queue: (Buffer | undefined)[] = [];
  private queueHead = 0;
  private queuedBytesValue = 0;
  private flushScheduled = false;
  private lastProgressMs = 0;
  private bucket: TokenBucket | null = null;
  private floodWindowStartMs = 0;
  private floodDrops = 0;

  constructor(
    private readonly owner: ConnectionOwner,
    readonly socket: TLSSocket,
    /** True when we dialed; `expectedKeyHex` is then the member we meant to reach. */
    readonly outbound: boolean,
    readonly expectedKeyHex: string | null,
    private readonly raw: Socket | null,
  ) {
    this.remote = `${socket.remoteAddress ?? raw?.remoteAddress ?? "?"}:${socket.remotePort ?? raw?.remotePort ?? "?"}`;
    this.decoder = new FrameDecoder(owner.limits.helloBytesMax);
    this.handshakeTimer = setTimeout(() => this.close("timeout"), owner.limits.handshakeTimeoutMs);
    socket.on(outbound ? "secureConnect" : "secure", () => this.onSecure());
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("drain", () => {
      this.lastProgressMs = this.owner.now();
      this.flush();
    });
    socket.on("error", (err: Error & { code?: string }) => {
      this.owner.log.debug({ remote: this.remote, peer: this.peerKeyHex || undefined, err: err.code ?? err.message }, "p2p socket error");
      this.close(this.state === "open" ? "socket_error" : "tls");
    });
    socket.on("close", () => this.close(this.state === "open" ? "remote_closed" : "closed"));
    raw?.on("error", () => this.close(this.state === "open" ? "socket_error" : "tls"));
    raw?.on("close", () => this.close(this.state === "open" ? "remote_closed" : "closed"));
  }

  get role(): Role {
    return this.outbound ? "dialer" : "listener";
  }

  /** Messages and bytes waiting in this link's send queue (not yet handed to the socket). */
  get queuedMessages(): number {
    return this.queue.length - this.queueHead;
  }

  get queuedBytes(): number {
    return this.queuedBytesValue;
  }

  /**
   * Queues one frame. When the queue is full the OLDEST queued frames are dropped until this one fits
   * (spec/p2p.md §send-queue); returns how many were dropped.
   */
  enqueue(frame: Buffer): number {
    if (this.state !== "open") return 0;
    const { sendQueueMsgsMax, sendQueueBytesMax } = this.owner.limits;
    if (!this.hasPendingOutput()) this.lastProgressMs = this.owner.now();
    let dropped = 0;
    while (
      this.queuedMessages > 0 &&
      (this.queuedMessages >= sendQueueMsgsMax || this.queuedBytesValue + frame.length > sendQueueBytesMax)
    ) {
      const old = this.queue[this.queueHead] as Buffer;
      this.queue[this.queueHead] = undefined;
      this.queueHead++;
      this.queuedBytesValue -= old.length;
      dropped++;
    }
    this.queue.push(frame);
    this.queuedBytesValue += frame.length;
    if (dropped > 0) this.owner.metrics.drops.inc({ reason: "queue_full" }, dropped);
    this.scheduleFlush();
    return dropped;
  }

  /** Whether queued output has made no progress for the stall limit. */
  isStalled(nowMs: number): boolean {
    return this.state === "open" && this.hasPendingOutput() && nowMs - this.lastProgressMs >= this.owner.limits.writeStallMs;
  }

  close(reason: CloseReason): void {
    if (this.state === "closed") return;
    const wasOpen = this.state === "open";
    this.state = "closed";
    clearTimeout(this.handshakeTimer);
    this.queue = [];
    this.queueHead = 0;
    this.queuedBytesValue = 0;
    this.socket.destroy();
    this.raw?.destroy();
    this.owner.closed(this, wasOpen, reason);
  }

  private hasPendingOutput(): boolean {
    return this.queuedMessages > 0 || this.socket.writableNeedDrain;
  }

  private onSecure(): void {
    if (this.state !== "tls") return;
    const { owner, socket } = this;
    if (socket.alpnProtocol !== P2P_ALPN) {
      owner.log.warn({ remote: this.remote, alpn: socket.alpnProtocol }, "p2p peer does not speak the p2p protocol");
      this.close("tls");
      return;
    }
    const cert = socket.getPeerX509Certificate();
    if (cert === undefined) {
      owner.log.warn({ remote: this.remote }, "p2p peer presented no TLS certificate");
      this.close("no_certificate");
      return;
    }
    owner.log.debug({ remote: this.remote, tlsFingerprint: certFingerprint(cert) }, "p2p tls session up");
    const hello = makeHello(owner.suite, owner.key, owner.chainId, this.role, exportedKeyingMaterial(socket, owner.chainId));
    this.state = "hello";
    socket.write(encodeFrame(encodeHello(hello), owner.limits.helloBytesMax));
  }

  private onData(chunk: Buffer): void {
    // Application data can only follow a completed TLS handshake, even if its event has not run yet.
    if (this.state === "tls") this.onSecure();
    if (this.state !== "hello" && this.state !== "open") return;
    let frames = 0;
    let bytes = 0;
    try {
      this.decoder.push(chunk, (payload) => {
        if (this.state === "open") {
          frames++;
          bytes += payload.length + FRAME_HEADER_BYTES;
          this.onMessageFrame(payload);
        } else {
          this.onHelloFrame(payload);
        }
        return this.state === "hello" || this.state === "open";
      });
    } catch (err) {
      // The decoder refuses with TallyError (length above the limit, empty frame); anything else came
      // out of a callback (a broken invariant) and must not be mistaken for a bad peer.
      if (!isTallyError(err)) throw err;
      const reason =
        this.state === "open" ? ((err as { code?: string }).code === "TOO_LARGE" ? "frame_too_large" : "bad_encoding") : "bad_hello";
      this.owner.log.warn({ peer: this.peerKeyHex || undefined, remote: this.remote, err: (err as Error).message }, "p2p bad frame");
      this.close(reason);
    }
    if (frames > 0) {
      this.owner.metrics.messagesIn.inc(frames);
      this.owner.metrics.bytesIn.inc(bytes);
    }
  }

  private onHelloFrame(payload: Uint8Array): void {
    const { owner } = this;
    let hello: Hello;
    try {
      hello = decodeHello(payload, owner.limits.helloBytesMax);
    } catch (err) {
      owner.log.warn({ remote: this.remote, err: (err as Error).message }, "p2p malformed hello");
      this.close("bad_hello");
      return;
    }
    const refusal = owner.authenticate(this, hello, exportedKeyingMaterial(this.socket, owner.chainId));
    if (this.state !== "hello") return;
    if (refusal !== null) {
      const level = refusal === "duplicate" ? "info" : "warn";
      owner.log[level]({ remote: this.remote, claimedKey: toHex(hello.publicKey).slice(0, 160), reason: refusal }, "p2p peer refused");
      this.close(refusal);
      return;
    }
    this.peerKey = hello.publicKey;
    this.peerKeyHex = toHex(hello.publicKey);
    this.state = "open";
    this.openedAtMs = owner.now();
    this.lastProgressMs = this.openedAtMs;
    this.decoder.maxBytes = owner.limits.frameBytesMax;
    this.bucket = new TokenBucket(owner.limits.inboundMsgsPerSecond, owner.limits.inboundBurstMsgs, this.openedAtMs);
    this.floodWindowStartMs = this.openedAtMs;
    clearTimeout(this.handshakeTimer);
    owner.opened(this);
  }

  private onMessageFrame(payload: Uint8Array): void {
    const { owner } = this;
    const now = owner.now();
    if (!(this.bucket as TokenBucket).take(now)) {
      owner.metrics.drops.inc({ reason: "rate_limited" });
      if (now - this.floodWindowStartMs >= owner.limits.floodWindowMs) {
        this.floodWindowStartMs = now;
        this.floodDrops = 0;
      }
      this.floodDrops++;
      if (this.floodDrops > owner.limits.floodDropsMax) {
        owner.log.warn({ peer: this.peerKeyHex, drops: this.floodDrops }, "p2p peer floods: disconnecting");
        this.close("flood");
      }
      return;
    }
    let message: Value;
    try {
      message = decode(payload, owner.limits.frameBytesMax);
    } catch (err) {
      owner.log.warn({ peer: this.peerKeyHex, remote: this.remote, err: (err as Error).message }, "p2p undecodable message");
      this.close("bad_encoding");
      return;
    }
    owner.message(this, message);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.socket.writableNeedDrain) return;
    this.flushScheduled = true;
    // Sends made in one turn of the event loop leave in one corked batch.
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.state !== "open" || this.socket.writableNeedDrain || this.queuedMessages === 0) return;
    const { socket } = this;
    let frames = 0;
    let bytes = 0;
    socket.cork();
    while (this.queueHead < this.queue.length) {
      const frame = this.queue[this.queueHead] as Buffer;
      this.queue[this.queueHead] = undefined;
      this.queueHead++;
      this.queuedBytesValue -= frame.length;
      frames++;
      bytes += frame.length;
      // Stop at the socket's high-water mark: what the socket holds stays bounded by it plus one frame.
      if (!socket.write(frame)) break;
    }
    socket.uncork();
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
    this.lastProgressMs = this.owner.now();
    this.owner.metrics.messagesOut.inc(frames);
    this.owner.metrics.bytesOut.inc(bytes);
  }
}
