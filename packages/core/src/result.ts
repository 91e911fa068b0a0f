/** Transaction results (spec/transaction.md §results): what executing a transaction produced. */
import { decode, encode, type Value } from "./encoding.js";
import { TallyError } from "./errors.js";

export interface TxEvent {
  readonly module: string;
  readonly name: string;
  readonly data: Value;
}

export interface TxResult {
  readonly txHash: Uint8Array;
  /** "ok": state changes applied; "failed": none applied except the nonce. */
  readonly status: "ok" | "failed";
  /** The error code of a failed call (see errors.ts), null when ok. */
  readonly code: string | null;
  readonly message: string | null;
  readonly value: Value;
  readonly events: readonly TxEvent[];
}

export function resultToValue(r: TxResult): Value {
  return {
    txHash: r.txHash,
    status: r.status,
    code: r.code,
    message: r.message,
    value: r.value,
    events: r.events.map((e) => ({ module: e.module, name: e.name, data: e.data })),
  };
}

export function encodeResult(r: TxResult): Uint8Array {
  return encode(resultToValue(r));
}

export function decodeResult(bytes: Uint8Array): TxResult {
  const v = decode(bytes) as Record<string, Value>;
  const ok =
    v !== null &&
    typeof v === "object" &&
    v.txHash instanceof Uint8Array &&
    (v.status === "ok" || v.status === "failed") &&
    (v.code === null || typeof v.code === "string") &&
    (v.message === null || typeof v.message === "string") &&
    "value" in v &&
    Array.isArray(v.events);
  if (!ok) throw new TallyError("BAD_ENCODING", "malformed transaction result");
  const events = (v.events as Value[]).map((e) => {
    const ev = e as Record<string, Value>;
    if (ev === null || typeof ev !== "object" || typeof ev.module !== "string" || typeof ev.name !== "string" || !("data" in ev)) {
      throw new TallyError("BAD_ENCODING", "malformed event");
    }
    return { module: ev.module, name: ev.name, data: ev.data as Value };
  });
  return {
    txHash: v.txHash as Uint8Array,
    status: v.status as "ok" | "failed",
    code: v.code as string | null,
    message: v.message as string | null,
    value: v.value as Value,
    events,
  };
}
