/**
 * Fixtures for p2p tests: deterministic keys, seeded randomness, a harness that starts P2PNodes on
 * 127.0.0.1:0 and closes everything it opened, and a "raw peer" that speaks the wire protocol by
 * hand (so tests can send what a correct node never would).
 */
import { once } from "node:events";
import { createServer as createNetServer, connect as netConnect, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer, connect as tlsConnect } from "node:tls";
import { type CryptoSuite, decode, encode, getSuite, type KeyPair, type SuiteId, toHex, utf8, type Value } from "@tally/core";
import { Registry } from "prom-client";
import { createLogger } from "../../src/logger.js";
import {
  createTlsIdentity,
  decodeHello,
  encodeFrame,
  encodeHello,
  exportedKeyingMaterial,
  FrameDecoder,
  type Hello,
  makeHello,
  P2P_ALPN,
  type P2PLimits,
  type P2PMember,
  P2PNode,
  type PeerAddress,
  type Role,
  type TlsIdentity,
} from "../../src/p2p/index.js";

export const SUITE_IDS: readonly SuiteId[] = ["ed25519", "sm2"];
export const CHAIN_ID = "tally-p2p-test";
export const LOCALHOST = "127.0.0.1";

export function p2pKey(suite: CryptoSuite, label: string): KeyPair {
  return suite.keyPairFromPrivate(suite.hash(utf8(`tally-p2p-test/${suite.id}/${label}`)));
}

/** `count` keys sorted by public key bytes, so index 0 is the lowest (the first dialer of every pair). */
export function sortedKeys(suite: CryptoSuite, labels: readonly string[]): KeyPair[] {
  return labels.map((l) => p2pKey(suite, l)).sort((a, b) => (toHex(a.publicKey) < toHex(b.publicKey) ? -1 : 1));
}

import { seededRandom } from "@tally/core";

export { seededRandom };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(10);
  }
}

/** Value of a prom-client counter/gauge (for one label set, or summed over all). */
export async function metricValue(
  metric: { get(): Promise<{ values: { value: number; labels: Partial<Record<string, string | number>> }[] }> },
  labels?: Record<string, string>,
): Promise<number> {
  const { values } = await metric.get();
  let sum = 0;
  for (const v of values) {
    if (labels === undefined || Object.entries(labels).every(([k, want]) => v.labels[k] === want)) sum += v.value;
  }
  return sum;
}

export interface LinkEnds {
  readonly outbound: boolean;
  readonly localPort: number | undefined;
  readonly remotePort: number | undefined;
}

/**
 * The link `t` keeps to `peerHex`, or null (white-box: reads P2PNode's member table, so tests can check
 * that both ends of a pair kept the same TCP connection, not just "a" link each).
 */
export function linkOf(t: TestNode, peerHex: string): LinkEnds | null {
  const members = (t.node as unknown as { members: Map<string, { link: { outbound: boolean; socket: TLSSocket } | null }> }).members;
  const link = members.get(peerHex)?.link ?? null;
  return link === null ? null : { outbound: link.outbound, localPort: link.socket.localPort, remotePort: link.socket.remotePort };
}

/**
 * Connections in their handshake plus members with a dial in flight or scheduled (white-box, like
 * `linkOf`): 0 once a node has settled.
 */
export function dialsInFlight(t: TestNode): number {
  const internals = t.node as unknown as {
    pending: Set<unknown>;
    members: Map<string, { dialing: unknown | null; dialTimer: unknown | null }>;
  };
  let n = internals.pending.size;
  for (const m of internals.members.values()) if (m.dialing !== null || m.dialTimer !== null) n++;
  return n;
}

let identityCache: Promise<TlsIdentity> | null = null;
/** One TLS identity reused by test nodes that do not care (each real node normally has its own). */
export function sharedTlsIdentity(): Promise<TlsIdentity> {
  identityCache ??= createTlsIdentity();
  return identityCache;
}

export interface Received {
  readonly from: string;
  readonly message: Value;
  readonly atMs: number;
}

export interface TestNode {
  readonly node: P2PNode;
  readonly key: KeyPair;
  readonly hex: string;
  readonly received: Received[];
  readonly registry: Registry;
  address(): PeerAddress;
}

export interface NodeSpec {
  readonly key: KeyPair;
  readonly port?: number;
  readonly limits?: Partial<P2PLimits>;
  readonly seed?: number;
  readonly listen?: boolean;
}

/** Owns every node, socket and server a test opens; `close()` in `after`/`finally` releases all. */
export class Harness {
  readonly nodes: TestNode[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly servers = new Set<Server | TlsServer>();

  constructor(
    readonly suite: CryptoSuite,
    readonly chainId = CHAIN_ID,
  ) {}

  static forSuite(id: SuiteId): Harness {
    return new Harness(getSuite(id));
  }

  /** Creates and starts a node listening on 127.0.0.1 (members are set later with `connectAll`). */
  async node(spec: NodeSpec, members: readonly P2PMember[] = []): Promise<TestNode> {
    const registry = new Registry();
    const node = new P2PNode({
      chainId: this.chainId,
      suite: this.suite,
      key: spec.key,
      members,
      listen: spec.listen === false ? undefined : { host: LOCALHOST, port: spec.port ?? 0 },
      tls: await sharedTlsIdentity(),
      logger: createLogger({ level: process.env.TALLY_TEST_LOG ?? "silent" }),
      registry,
      random: seededRandom(spec.seed ?? 1),
      limits: spec.limits,
    });
    const received: Received[] = [];
    node.onMessage((from, message) => received.push({ from, message, atMs: performance.now() }));
    await node.start();
    const t: TestNode = {
      node,
      key: spec.key,
      hex: toHex(spec.key.publicKey),
      received,
      registry,
      address: () => node.listenAddress() as PeerAddress,
    };
    this.nodes.push(t);
    return t;
  }

  /** Gives every node the full member set (with addresses) plus `extra` members, then waits for a full mesh. */
  async connectAll(nodes: readonly TestNode[], extra: readonly P2PMember[] = []): Promise<void> {
    const members: P2PMember[] = [...nodes.map((n) => ({ publicKey: n.key.publicKey, address: n.address() })), ...extra];
    for (const n of nodes) n.node.setMembers(members);
    await waitFor(() => nodes.every((n) => n.node.peers().length >= nodes.length - 1), "full mesh");
  }

  track<T extends Socket>(socket: T): T {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    return socket;
  }

  trackServer<T extends Server | TlsServer>(server: T): T {
    this.servers.add(server);
    return server;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    for (const n of this.nodes) await n.node.stop();
    for (const server of this.servers) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.sockets.clear();
    this.servers.clear();
    this.nodes.length = 0;
  }
}

export interface RawPeer {
  readonly socket: TLSSocket;
  /** The remote's hello, once it arrived. */
  readonly peerHello: () => Hello | null;
  /** Messages received after the hello. */
  readonly received: Value[];
  readonly closed: Promise<void>;
  isClosed(): boolean;
  sendValue(value: Value): boolean;
  writeRaw(bytes: Uint8Array): boolean;
}

export interface RawOptions {
  readonly suite: CryptoSuite;
  readonly key: KeyPair;
  readonly chainId?: string;
  /** Role claimed in the signed bytes (the true one is "dialer"). */
  readonly role?: Role;
  /** Replaces the exporter value the hello signs (a wrong channel binding). */
  readonly ekm?: Uint8Array;
  /** Do not send a hello at all. */
  readonly silent?: boolean;
  /** Extra bytes written in the same write as the hello. */
  readonly afterHello?: Uint8Array;
}

/** Dials `address` over TLS like a node would, but sends exactly what the options say. */
export async function rawDial(h: Harness, address: PeerAddress, options: RawOptions): Promise<RawPeer> {
  const identity = await sharedTlsIdentity();
  const chainId = options.chainId ?? h.chainId;
  const socket = h.track(
    tlsConnect({
      host: address.host,
      port: address.port,
      key: identity.keyPem,
      cert: identity.certPem,
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
      ALPNProtocols: [P2P_ALPN],
      minVersion: "TLSv1.3",
    }),
  );
  socket.on("error", () => {});
  let closed = false;
  const closedPromise = new Promise<void>((resolve) =>
    socket.once("close", () => {
      closed = true;
      resolve();
    }),
  );
  let peerHello: Hello | null = null;
  const received: Value[] = [];
  const decoder = new FrameDecoder(16 * 1024 * 1024);
  socket.on("data", (chunk: Buffer) => {
    decoder.push(chunk, (payload) => {
      if (peerHello === null) peerHello = decodeHello(payload, 1024);
      else received.push(decode(payload));
      return true;
    });
  });
  await once(socket, "secureConnect");
  if (options.silent !== true) {
    const ekm = options.ekm ?? exportedKeyingMaterial(socket, chainId);
    const hello = makeHello(options.suite, options.key, chainId, options.role ?? "dialer", ekm);
    const frame = encodeFrame(encodeHello(hello), 1024);
    socket.write(options.afterHello === undefined ? frame : Buffer.concat([frame, options.afterHello]));
  }
  return {
    socket,
    peerHello: () => peerHello,
    received,
    closed: closedPromise,
    isClosed: () => closed,
    sendValue: (value) => !closed && socket.write(encodeFrame(encode(value), 16 * 1024 * 1024)),
    writeRaw: (bytes) => !closed && socket.write(bytes),
  };
}

/** A plain TCP connection (no TLS) to `address`. */
export async function tcpDial(h: Harness, address: PeerAddress): Promise<Socket> {
  const socket = h.track(netConnect(address.port, address.host));
  socket.on("error", () => {});
  await once(socket, "connect");
  return socket;
}

/**
 * A man in the middle: terminates TLS from whoever dials it (with its own certificate) and opens its
 * own TLS session to `target`, relaying the plaintext both ways.
 */
export async function startRelay(h: Harness, target: PeerAddress): Promise<PeerAddress> {
  const identity = await createTlsIdentity();
  const server = h.trackServer(
    createTlsServer(
      { key: identity.keyPem, cert: identity.certPem, requestCert: true, rejectUnauthorized: false, ALPNProtocols: [P2P_ALPN] },
      (inbound) => {
        h.track(inbound);
        inbound.on("error", () => {});
        const outbound = h.track(
          tlsConnect({
            host: target.host,
            port: target.port,
            key: identity.keyPem,
            cert: identity.certPem,
            rejectUnauthorized: false,
            checkServerIdentity: () => undefined,
            ALPNProtocols: [P2P_ALPN],
          }),
        );
        outbound.on("error", () => {});
        inbound.pipe(outbound);
        outbound.pipe(inbound);
        inbound.on("close", () => outbound.destroy());
        outbound.on("close", () => inbound.destroy());
      },
    ),
  );
  server.on("tlsClientError", () => {});
  server.listen(0, LOCALHOST);
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("relay did not bind");
  return { host: LOCALHOST, port: address.port };
}

/** A TCP server that accepts and holds connections without ever answering (for dial timeouts). */
export async function startSilentServer(h: Harness): Promise<PeerAddress> {
  const server = h.trackServer(createNetServer((socket) => h.track(socket)));
  server.listen(0, LOCALHOST);
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address !== "object") throw new Error("server did not bind");
  return { host: LOCALHOST, port: address.port };
}
