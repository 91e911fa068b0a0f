/**
 * The node this page was served by (same origin): a TallyClient plus the few reads the SDK has no
 * typed method for. Every call throws TallyError; `describeError` turns one into a sentence.
 */
import { TallyClient, TallyError } from "@tally/sdk";

export const client = new TallyClient(window.location.origin, { timeoutMs: 15_000 });

export interface ValidatorSetView {
  height: number;
  validatorsHash: string;
  totalPower: number;
  /** `lastSignedHeight`: the latest block whose commit certificate it signed (null: none in the last 256). */
  validators: Array<{ publicKey: string; power: number; lastSignedHeight: number | null }>;
}

export interface ConsensusStatus {
  height?: number;
  round?: number;
  step?: string;
  role?: string;
  peers?: number;
  syncing?: boolean;
  proposer?: string | null;
}

export interface ModuleInfo {
  name: string;
  methods?: Array<{ name: string; description?: string }>;
  queries?: Array<{ name: string; description?: string }>;
}

async function getJson<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    throw new TallyError("TIMEOUT", `cannot reach the node: ${(err as Error).message}`);
  }
  const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok) throw new TallyError((body?.error?.code ?? "INTERNAL") as "INTERNAL", body?.error?.message ?? `HTTP ${res.status}`);
  return body as T;
}

export function validators(height?: number): Promise<ValidatorSetView> {
  return getJson(`/v1/validators${height === undefined ? "" : `?height=${height}`}`);
}

export function modules(): Promise<unknown> {
  return getJson("/v1/modules");
}

/** A module query's value (POST /v1/query/<module>/<name>). */
export async function query<T>(module: string, name: string, args: Record<string, string | number> = {}): Promise<T> {
  return (await client.query<T>(module, name, args)).value;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof TallyError && (err.code === "NOT_FOUND" || err.code.startsWith("NO_SUCH") || err.meta.status === 404);
}

export function isUnreachable(err: unknown): boolean {
  return err instanceof TallyError && err.code === "TIMEOUT" && String(err.message).startsWith("cannot reach");
}

export function describeError(err: unknown): string {
  if (isUnreachable(err)) return "The node is unreachable. Check that it is running, then reload.";
  if (err instanceof TallyError) return `${err.message} (${err.code})`;
  return err instanceof Error ? err.message : String(err);
}
