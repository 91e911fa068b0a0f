/**
 * The node-to-node transport (spec/p2p.md): authenticated TLS links to the members of a chain
 * (validators and observers), one link per member, carrying canonical CBOR messages.
 *
 * Delivery is best effort and ordered per link: a message is lost when its link drops, when a send
 * queue overflows (oldest first) or when the receiver's rate limit drops it. Consensus must tolerate
 * that (it re-sends on timeouts and on `onPeer` reconnects).
 */

import { createServer, type Server, type Socket } from "node:net";
import { createSecureContext, type SecureContext, TLSSocket, connect as tlsConnect } from "node:tls";
import { AssertionFailure, type CryptoSuite, compareBytes, encode, type KeyPair, LIMITS, TallyError, toHex, type Value } from "@tally/core";
import type { Registry } from "prom-client";
import type { Clock } from "../clock.js";
import { type Logger, subsystemLogger } from "../logger.js";
import { backoffDelayMs, type RandomSource } from "./backoff.js";
import { type CloseReason, Connection, type ConnectionLimits, type ConnectionOwner, VIOLATIONS } from "./connection.js";
import { encodeFrame } from "./framing.js";
import { type Hello, P2P_ALPN, verifyHello } from "./handshake.js";
import { P2PMetrics } from "./metrics.js";
import { createTlsIdentity, type TlsIdentity } from "./tls-identity.js";

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** A validator or observer of the chain. Without an address it cannot be dialed (it dials us). */
export interface P2PMember {
  readonly publicKey: Uint8Array;
  readonly address?: PeerAddress | undefined;
}

export interface P2PLimits extends ConnectionLimits {
  readonly peersMax: number;
  readonly pendingConnectionsMax: number;
  readonly violationBanMs: number;
  readonly dialBackoffBaseMs: number;
  readonly dialBackoffMaxMs: number;
  readonly linkStableMs: number;
}

export const DEFAULT_P2P_LIMITS: P2PLimits = {
  peersMax: LIMITS.p2pPeersMax,
  frameBytesMax: LIMITS.p2pFrameBytesMax,
  helloBytesMax: LIMITS.p2pHelloBytesMax,
  handshakeTimeoutMs: LIMITS.p2pHandshakeTimeoutMs,
  pendingConnectionsMax: LIMITS.p2pPendingConnectionsMax,
  sendQueueMsgsMax: LIMITS.p2pSendQueueMsgsMax,
  sendQueueBytesMax: LIMITS.p2pSendQueueBytesMax,
  inboundMsgsPerSecond: LIMITS.p2pInboundMsgsPerSecond,
  inboundBurstMsgs: LIMITS.p2pInboundBurstMsgs,
  floodDropsMax: LIMITS.p2pFloodDropsMax,
  floodWindowMs: LIMITS.p2pFloodWindowMs,
  violationBanMs: LIMITS.p2pViolationBanMs,
  dialBackoffBaseMs: LIMITS.p2pDialBackoffBaseMs,
  dialBackoffMaxMs: LIMITS.p2pDialBackoffMaxMs,
  linkStableMs: LIMITS.p2pLinkStableMs,
  writeStallMs: LIMITS.p2pWriteStallMs,
};

export interface P2POptions {
  readonly chainId: string;
  readonly suite: CryptoSuite;
  /** This node's chain key (validator or observer); it must be in the member set of its peers. */
  readonly key: KeyPair;
  /** Validators and observers; may include this node (its entry's address tells whether peers can dial it). */
  readonly members: readonly P2PMember[];
  /** Where to accept connections; omitted: this node only dials. Port 0 picks a free port. */
  readonly listen?: PeerAddress | undefined;
  /** TLS key and certificate; omitted: a fresh Ed25519 pair is made by `start`. */
  readonly tls?: TlsIdentity | undefined;
  /** The node's root logger; the transport logs through a `{subsystem: "p2p"}` child. */
  readonly logger: Logger;
  readonly registry: Registry;
  /** Uniform [0, 1) source for redial jitter (simulations pass a seeded one). */
  readonly random: RandomSource;
  /** Milliseconds, for rate limits and stall checks; defaults to a monotonic clock. */
  readonly clock?: Clock | undefined;
  /** Tighter limits (tests); each must be positive and at most the LIMITS value where one exists. */
  readonly limits?: Partial<P2PLimits> | undefined;
}

export type MessageHandler = (peerKeyHex: string, message: Value) => void;
export type PeerHandler = (peerKeyHex: string, connected: boolean) => void;

interface MemberState {
  readonly publicKey: Uint8Array;
  readonly hex: string;
  address: PeerAddress | undefined;
  link: Connection | null;
  dialing: Connection | null;
  dialTimer: NodeJS.Timeout | null;
  /** Consecutive dials that did not give a stable link (drives the backoff). */
  failures: number;
  bannedUntilMs: number;
}

const monotonicClock: Clock = { now: () => performance.now() };

export class P2PNode {
  readonly publicKeyHex: string;
  readonly metrics: P2PMetrics;

  private readonly owner: ConnectionOwner;
  private readonly log: Logger;
  private readonly limits: P2PLimits;
  private readonly clock: Clock;
  private readonly members = new Map<string, MemberState>();
  private readonly pending = new Set<Connection>();
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly peerHandlers: PeerHandler[] = [];
  private selfDialable = false;
  private state: "new" | "starting" | "running" | "stopped" = "new";
  private secureContext: SecureContext | null = null;
  private server: Server | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private boundAddress: PeerAddress | undefined;

  constructor(private readonly options: P2POptions) {
    this.limits = checkLimits({ ...DEFAULT_P2P_LIMITS, ...options.limits });
    if (options.key.suite !== options.suite.id) throw new TallyError("WRONG_SUITE", "p2p key is not of the chain's suite");
    this.publicKeyHex = toHex(options.key.publicKey);
    this.clock = options.clock ?? monotonicClock;
    this.log = subsystemLogger(options.logger, "p2p");
    this.metrics = new P2PMetrics(options.registry);
    this.owner = {
      chainId: options.chainId,
      suite: options.suite,
      key: options.key,
      limits: this.limits,
      metrics: this.metrics,
      log: this.log,
      now: () => this.clock.now(),
      authenticate: (conn, hello, ekm) => this.authenticate(conn, hello, ekm),
      opened: (conn) => this.opened(conn),
      message: (conn, message) => this.deliver(conn, message),
      closed: (conn, wasOpen, reason) => this.closed(conn, wasOpen, reason),
    };
    this.setMembers(options.members);
  }

  /** Listens (when configured) and starts dialing. */
  async start(): Promise<void> {
    if (this.state !== "new") throw new TallyError("INTERNAL", "p2p node can be started once");
    this.state = "starting";
    const identity = this.options.tls ?? (await createTlsIdentity());
    this.secureContext = createSecureContext({ key: identity.keyPem, cert: identity.certPem, minVersion: "TLSv1.3" });
    if (this.options.listen !== undefined) {
      const server = createServer({ noDelay: true }, (raw) => this.accept(raw));
      server.maxConnections = this.limits.peersMax + this.limits.pendingConnectionsMax;
      this.server = server;
      const { host, port } = this.options.listen;
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      server.on("error", (err) => this.log.error({ err: err.message }, "p2p server error"));
      const address = server.address();
      if (address !== null && typeof address === "object") this.boundAddress = { host: address.address, port: address.port };
    }
    if ((this.state as string) === "stopped") {
      this.server?.close();
      return;
    }
    this.state = "running";
    const tickMs = Math.max(20, Math.min(1_000, Math.floor(this.limits.writeStallMs / 4)));
    this.tickTimer = setInterval(() => this.tick(), tickMs);
    this.tickTimer.unref();
    this.log.info({ listen: this.boundAddress, members: this.members.size, key: this.publicKeyHex }, "p2p started");
    // A node that starts is typically one that was down, whose peers are in (possibly long) backoff
    // towards it: it dials every member rather than wait to be dialed (the second dialer of a pair
    // after its head start, spec/p2p.md §dialing).
    for (const m of this.members.values()) this.maybeDial(m, 0);
  }

  /** Closes every link and the listener; in-flight and queued messages are lost. */
  async stop(): Promise<void> {
    if (this.state === "stopped") return;
    this.state = "stopped";
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    for (const m of this.members.values()) this.clearDialTimer(m);
    for (const conn of [...this.pending]) conn.close("stopping");
    for (const m of this.members.values()) m.link?.close("stopping");
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log.info("p2p stopped");
  }

  /** The address actually bound (port 0 resolved), once started with `listen`. */
  listenAddress(): PeerAddress | undefined {
    return this.boundAddress;
  }

  /**
   * Replaces the member set (validator set changes). Links to keys no longer in it are closed; new
   * members with an address are dialed.
   */
  setMembers(members: readonly P2PMember[]): void {
    if (members.length > this.limits.peersMax + 1) {
      throw new TallyError("TOO_LARGE", "too many p2p members", { max: this.limits.peersMax, got: members.length });
    }
    const next = new Map<string, P2PMember>();
    for (const member of members) {
      const hex = toHex(member.publicKey);
      // Checking a key is costly (a point decompression for ed25519) and the node passes the whole
      // list after every block: only keys new to the set are checked.
      if (!this.members.has(hex) && hex !== this.publicKeyHex) this.options.suite.checkPublicKey(member.publicKey);
      next.set(hex, member);
    }
    this.selfDialable = next.get(this.publicKeyHex)?.address !== undefined;
    next.delete(this.publicKeyHex);
    const removedLinks: string[] = [];
    for (const [hex, m] of this.members) {
      if (next.has(hex)) continue;
      this.members.delete(hex);
      this.clearDialTimer(m);
      m.dialing?.close("removed");
      if (m.link !== null) removedLinks.push(hex);
      m.link?.close("removed");
    }
    if (removedLinks.length > 0) {
      // The close of a removed member's link finds no member and reports nothing: report it here, so
      // that no subscriber goes on addressing a key `send` no longer accepts.
      this.metrics.peers.set(this.peers().length);
      for (const hex of removedLinks) for (const handler of [...this.peerHandlers]) handler(hex, false);
    }
    for (const [hex, member] of next) {
      const existing = this.members.get(hex);
      if (existing !== undefined) {
        if (!sameAddress(existing.address, member.address)) {
          // A corrected address is worth trying at once rather than after the backoff of the old one.
          existing.address = member.address;
          existing.failures = 0;
          this.clearDialTimer(existing);
        }
      } else {
        this.members.set(hex, {
          publicKey: member.publicKey,
          hex,
          address: member.address,
          link: null,
          dialing: null,
          dialTimer: null,
          failures: 0,
          bannedUntilMs: 0,
        });
      }
    }
    if (this.state === "running") for (const m of this.members.values()) this.maybeDial(m, 0);
  }

  /** Keys (hex) of the members with an authenticated link, sorted. */
  peers(): string[] {
    const out: string[] = [];
    for (const m of this.members.values()) if (m.link !== null) out.push(m.hex);
    return out.sort();
  }

  /**
   * Queues `message` for one member. Returns false (and counts a `not_connected` drop) when there is no
   * link to it. Throws NOT_FOUND for a key outside the member set, TOO_LARGE/BAD_ENCODING for a message
   * that cannot be framed, NODE_STOPPING after `stop`.
   */
  send(peerKeyHex: string, message: Value): boolean {
    this.checkRunning();
    const m = this.members.get(peerKeyHex);
    if (m === undefined) throw new TallyError("NOT_FOUND", "not a p2p member", { peer: peerKeyHex.slice(0, 160) });
    const frame = encodeFrame(encode(message), this.limits.frameBytesMax);
    if (m.link === null) {
      this.metrics.drops.inc({ reason: "not_connected" });
      return false;
    }
    m.link.enqueue(frame);
    return true;
  }

  /** Queues `message` for every connected member (encoded once); returns how many that was. */
  broadcast(message: Value): number {
    this.checkRunning();
    const frame = encodeFrame(encode(message), this.limits.frameBytesMax);
    let sent = 0;
    for (const m of this.members.values()) {
      if (m.link === null) continue;
      m.link.enqueue(frame);
      sent++;
    }
    return sent;
  }

  /**
   * Drops the link to a member that sent a message the layer above found invalid (bad signature,
   * wrong proposer, undecodable consensus message): logged, counted and banned like any other violation.
   */
  disconnect(peerKeyHex: string, detail: string): void {
    const m = this.members.get(peerKeyHex);
    if (m?.link == null) return;
    this.log.warn({ peer: peerKeyHex, detail }, "p2p peer sent an invalid message; disconnecting");
    m.link.close("invalid_message");
  }

  /** Handlers run synchronously, in registration order, for every accepted message. Returns an unsubscribe function. */
  onMessage(handler: MessageHandler): () => void {
    return subscribe(this.messageHandlers, handler);
  }

  /** Called when a member's link comes up or goes down (not when a duplicate replaces a live link). */
  onPeer(handler: PeerHandler): () => void {
    return subscribe(this.peerHandlers, handler);
  }

  /** Messages waiting in a member's send queue (0 when not connected). */
  queuedMessages(peerKeyHex: string): number {
    return this.members.get(peerKeyHex)?.link?.queuedMessages ?? 0;
  }

  private checkRunning(): void {
    if (this.state === "stopped") throw new TallyError("NODE_STOPPING", "p2p node is stopped");
  }

  private accept(raw: Socket): void {
    if (this.state !== "running" || this.secureContext === null) {
      raw.destroy();
      return;
    }
    if (this.pending.size >= this.limits.pendingConnectionsMax) {
      this.metrics.handshakeFailures.inc({ reason: "pending_full" });
      this.log.warn({ remote: `${raw.remoteAddress}:${raw.remotePort}` }, "p2p too many pending connections: refused");
      raw.destroy();
      return;
    }
    raw.setKeepAlive(true, 10_000);
    const socket = new TLSSocket(raw, {
      isServer: true,
      secureContext: this.secureContext,
      requestCert: true,
      // Certificates are self-signed: the hello, not the CA chain, authenticates (spec/p2p.md §hello).
      rejectUnauthorized: false,
      ALPNProtocols: [P2P_ALPN],
    });
    this.pending.add(new Connection(this.owner, socket, false, null, raw));
  }

  private dial(m: MemberState): void {
    if (this.state !== "running" || this.secureContext === null || m.address === undefined) return;
    if (this.pending.size >= this.limits.pendingConnectionsMax) {
      this.metrics.handshakeFailures.inc({ reason: "pending_full" });
      this.metrics.dials.inc({ result: "failed" });
      this.scheduleRedial(m);
      return;
    }
    const socket = tlsConnect({
      host: m.address.host,
      port: m.address.port,
      secureContext: this.secureContext,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      ALPNProtocols: [P2P_ALPN],
      minVersion: "TLSv1.3",
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    const conn = new Connection(this.owner, socket, true, m.hex, null);
    m.dialing = conn;
    this.pending.add(conn);
  }

  /** spec/p2p.md §hello: checks in this order; the first failing one is the refusal reason. */
  private authenticate(conn: Connection, hello: Hello, ekm: Uint8Array): CloseReason | null {
    if (this.state !== "running") return "stopping";
    if (hello.chainId !== this.options.chainId) return "wrong_chain";
    const hex = toHex(hello.publicKey);
    if (hex === this.publicKeyHex) return "self";
    const m = this.members.get(hex);
    if (m === undefined) return "not_member";
    if (conn.outbound && conn.expectedKeyHex !== hex) return "unexpected_peer";
    if (!verifyHello(this.options.suite, hello, this.options.chainId, conn.outbound ? "listener" : "dialer", ekm)) return "bad_signature";
    if (m.bannedUntilMs > this.clock.now()) return "banned";
    if (m.link !== null && !this.newLinkWins(m.link, conn, m.publicKey)) return "duplicate";
    return null;
  }

  /**
   * One link per member (spec/p2p.md §duplicates): between links opened by different sides, the one
   * dialed by the lower key wins, so both ends keep the same one; between two dialed by the same side,
   * the newer wins (the older is presumed dead: the dialer only redials once it lost its link).
   */
  private newLinkWins(existing: Connection, incoming: Connection, peerKey: Uint8Array): boolean {
    if (existing.outbound === incoming.outbound) return true;
    const weAreLower = compareBytes(this.options.key.publicKey, peerKey) < 0;
    return incoming.outbound === weAreLower;
  }

  private opened(conn: Connection): void {
    this.pending.delete(conn);
    const m = this.members.get(conn.peerKeyHex);
    if (m === undefined) throw new AssertionFailure("authenticated link to a non-member");
    if (conn.outbound) {
      m.dialing = null;
      this.metrics.dials.inc({ result: "ok" });
    }
    this.clearDialTimer(m);
    const replaced = m.link;
    // Hand the member over first, so the old link's close neither reports the peer down nor redials.
    m.link = conn;
    replaced?.close("duplicate");
    this.metrics.peers.set(this.peers().length);
    this.log.info(
      { peer: conn.peerKeyHex, remote: conn.remote, direction: conn.outbound ? "out" : "in", replaced: replaced !== null },
      "p2p peer connected",
    );
    if (replaced === null) for (const handler of [...this.peerHandlers]) handler(conn.peerKeyHex, true);
  }

  private deliver(conn: Connection, message: Value): void {
    for (const handler of this.messageHandlers) {
      try {
        handler(conn.peerKeyHex, message);
      } catch (err) {
        if (err instanceof AssertionFailure) throw err;
        this.metrics.drops.inc({ reason: "handler_error" });
        this.log.error({ peer: conn.peerKeyHex, err: (err as Error).message }, "p2p message handler failed");
      }
      if (conn.state !== "open") return;
    }
  }

  private closed(conn: Connection, wasOpen: boolean, reason: CloseReason): void {
    this.pending.delete(conn);
    if (wasOpen || reason === "duplicate") this.metrics.disconnects.inc({ reason });
    else this.metrics.handshakeFailures.inc({ reason });
    const m = this.members.get(conn.peerKeyHex || (conn.expectedKeyHex ?? ""));
    if (m === undefined) return;
    const now = this.clock.now();
    if (VIOLATIONS.has(reason) && wasOpen) m.bannedUntilMs = now + this.limits.violationBanMs;
    const mattered = m.dialing === conn || m.link === conn;
    if (m.dialing === conn) {
      m.dialing = null;
      if (!wasOpen) {
        this.metrics.dials.inc({ result: "failed" });
        this.log.debug({ peer: m.hex, reason, failures: m.failures }, "p2p dial failed");
      }
    }
    if (m.link === conn) {
      m.link = null;
      this.metrics.peers.set(this.peers().length);
      this.log.info({ peer: m.hex, reason, upMs: Math.round(now - conn.openedAtMs) }, "p2p peer disconnected");
      if (now - conn.openedAtMs >= this.limits.linkStableMs) m.failures = 0;
      for (const handler of [...this.peerHandlers]) handler(m.hex, false);
    }
    if (mattered && this.state === "running" && m.link === null && m.dialing === null) this.scheduleRedial(m);
  }

  /**
   * The pair's first dialer: the lower key, or a node that cannot be dialed (its own entry has no
   * address). Its dial is the one both ends keep when two cross (§duplicates); the other end gives it a
   * head start (`maybeDial`).
   */
  private dialsFirst(m: MemberState): boolean {
    return !this.selfDialable || compareBytes(this.options.key.publicKey, m.publicKey) < 0;
  }

  /**
   * Dials `m` after `delayMs`, plus the head start when the other end dials first, unless `m` is
   * linked, being dialed or already waiting.
   *
   * Both ends of a pair dial a member they have no link to, as long as it has an address (a node
   * without one of its own only dials): if only one end did, a restarted member would wait for that
   * end's backoff, which grew while it was down (spec/p2p.md §dialing).
   *
   * The head start: the end that does not dial first waits one more backoff step at the base,
   * [base/2, base), before each dial. Both ends often decide to dial at the same moment (a network
   * that starts together, a set change every node applies at the same block, a link both ends saw
   * drop); the first dialer's link is then usually up before the other dial starts, so the pair makes
   * one handshake instead of two with one thrown away as a duplicate, and nothing is sent over a link
   * that is about to be replaced (what was queued on it is lost). Crossed dials stay correct without
   * it (§duplicates). It costs under one base (250 ms) where only the second dialer can make the link,
   * such as a restarted member whose lower-key peers are still in backoff: small next to the backoff.
   */
  private maybeDial(m: MemberState, delayMs: number, headStart = true): void {
    if (this.state !== "running" || m.address === undefined || m.link !== null || m.dialing !== null || m.dialTimer !== null) return;
    const extra =
      headStart && !this.dialsFirst(m)
        ? backoffDelayMs(0, this.limits.dialBackoffBaseMs, this.limits.dialBackoffMaxMs, this.options.random)
        : 0;
    const wait = Math.max(delayMs + extra, m.bannedUntilMs - this.clock.now());
    if (wait <= 0) {
      this.dial(m);
      return;
    }
    m.dialTimer = setTimeout(() => {
      m.dialTimer = null;
      // The wait included the head start (and any ban): dial now.
      if (this.members.get(m.hex) === m) this.maybeDial(m, 0, false);
    }, wait);
  }

  private scheduleRedial(m: MemberState): void {
    const delay = backoffDelayMs(m.failures, this.limits.dialBackoffBaseMs, this.limits.dialBackoffMaxMs, this.options.random);
    m.failures++;
    this.maybeDial(m, delay);
  }

  private clearDialTimer(m: MemberState): void {
    if (m.dialTimer !== null) clearTimeout(m.dialTimer);
    m.dialTimer = null;
  }

  private tick(): void {
    const now = this.clock.now();
    for (const m of this.members.values()) {
      if (m.link?.isStalled(now)) {
        this.log.warn({ peer: m.hex, queued: m.link.queuedMessages }, "p2p peer stopped reading: disconnecting");
        m.link.close("write_stall");
      }
    }
  }
}

function sameAddress(a: PeerAddress | undefined, b: PeerAddress | undefined): boolean {
  return a?.host === b?.host && a?.port === b?.port;
}

function subscribe<T>(list: T[], item: T): () => void {
  list.push(item);
  return () => {
    const i = list.indexOf(item);
    if (i >= 0) list.splice(i, 1);
  };
}

const CAPPED: readonly (keyof P2PLimits)[] = [
  "peersMax",
  "frameBytesMax",
  "helloBytesMax",
  "pendingConnectionsMax",
  "sendQueueMsgsMax",
  "sendQueueBytesMax",
  "inboundBurstMsgs",
];

function checkLimits(limits: P2PLimits): P2PLimits {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new TallyError("BAD_REQUEST", `p2p limit ${name} must be a positive integer`);
  }
  for (const name of CAPPED) {
    if (limits[name] > DEFAULT_P2P_LIMITS[name])
      throw new TallyError("BAD_REQUEST", `p2p limit ${name} above LIMITS`, { max: DEFAULT_P2P_LIMITS[name] });
  }
  if (limits.sendQueueBytesMax < limits.frameBytesMax + 4)
    throw new TallyError("BAD_REQUEST", "p2p send queue must hold one largest frame");
  return limits;
}
