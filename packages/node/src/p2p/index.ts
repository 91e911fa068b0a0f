/** The node-to-node transport (spec/p2p.md). Not wired into TallyNode yet. */
export { backoffDelayMs, type RandomSource, TokenBucket } from "./backoff.js";
export { encodeFrame, FRAME_HEADER_BYTES, FrameDecoder } from "./framing.js";
export {
  authSignBytes,
  decodeHello,
  EKM_BYTES,
  EKM_LABEL,
  encodeHello,
  exportedKeyingMaterial,
  type Hello,
  makeHello,
  P2P_ALPN,
  P2P_AUTH_DOMAIN,
  P2P_PROTOCOL_VERSION,
  type Role,
  verifyHello,
} from "./handshake.js";
export { type DisconnectReason, type DropReason, type HandshakeFailure, P2PMetrics } from "./metrics.js";
export {
  DEFAULT_P2P_LIMITS,
  type MessageHandler,
  type P2PLimits,
  type P2PMember,
  P2PNode,
  type P2POptions,
  type PeerAddress,
  type PeerHandler,
} from "./p2p-node.js";
export { createTlsIdentity, type TlsIdentity } from "./tls-identity.js";
