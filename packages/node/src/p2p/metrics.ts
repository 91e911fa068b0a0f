/** Prometheus metrics of the p2p transport, registered on the node's registry (spec/p2p.md §observability). */
import { Counter, Gauge, type Registry } from "prom-client";

export type DropReason = "queue_full" | "not_connected" | "rate_limited" | "handler_error";

export type DisconnectReason =
  | "remote_closed"
  | "socket_error"
  | "frame_too_large"
  | "bad_encoding"
  | "invalid_message"
  | "flood"
  | "write_stall"
  | "duplicate"
  | "removed"
  | "stopping";

export type HandshakeFailure =
  | "timeout"
  | "tls"
  | "no_certificate"
  | "bad_hello"
  | "wrong_chain"
  | "self"
  | "not_member"
  | "unexpected_peer"
  | "bad_signature"
  | "banned"
  | "pending_full"
  | "closed"
  | "stopping";

export class P2PMetrics {
  readonly peers: Gauge;
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly drops: Counter<"reason">;
  readonly disconnects: Counter<"reason">;
  readonly handshakeFailures: Counter<"reason">;
  readonly dials: Counter<"result">;

  constructor(registry: Registry) {
    const registers = [registry];
    this.peers = new Gauge({ name: "tally_p2p_peers", help: "Authenticated peer links", registers });
    this.messagesIn = new Counter({ name: "tally_p2p_messages_received_total", help: "Frames received on authenticated links", registers });
    this.messagesOut = new Counter({ name: "tally_p2p_messages_sent_total", help: "Frames written to authenticated links", registers });
    this.bytesIn = new Counter({ name: "tally_p2p_bytes_received_total", help: "Frame bytes received (with length prefix)", registers });
    this.bytesOut = new Counter({ name: "tally_p2p_bytes_sent_total", help: "Frame bytes written (with length prefix)", registers });
    this.drops = new Counter({
      name: "tally_p2p_dropped_messages_total",
      help: "Messages dropped, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.disconnects = new Counter({
      name: "tally_p2p_disconnects_total",
      help: "Authenticated links closed, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.handshakeFailures = new Counter({
      name: "tally_p2p_handshake_failures_total",
      help: "Connections closed before authentication, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.dials = new Counter({ name: "tally_p2p_dials_total", help: "Outbound dials, by result", labelNames: ["result"], registers });
  }
}
