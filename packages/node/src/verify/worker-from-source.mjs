// Entry of a verification worker when the node runs from its TypeScript sources (tests, benchmarks):
// on Node 20 a worker does not inherit the parent's `--import tsx` hooks, so it registers them itself.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
