/**
 * Signature verification worker: checks whole transactions (decode, chain id, suite, signature) off
 * the main thread. Pure function of its inputs; answers one message per request, in order.
 */
import { parentPort, workerData } from "node:worker_threads";
import { getSuite, isTallyError, verifyTxBytes } from "@tally/core";
import type { VerifyReply, VerifyRequest, WorkerInit } from "./protocol.js";

const { suiteId, chainId } = workerData as WorkerInit;
const suite = getSuite(suiteId);

parentPort?.on("message", (request: VerifyRequest) => {
  const verdicts = request.txs.map((bytes) => {
    try {
      verifyTxBytes(suite, chainId, bytes);
      return null;
    } catch (err) {
      if (!isTallyError(err)) return { code: "INTERNAL" as const, message: String(err), meta: {} };
      return { code: err.code, message: err.message, meta: err.meta };
    }
  });
  const reply: VerifyReply = { id: request.id, verdicts };
  parentPort?.postMessage(reply);
});
