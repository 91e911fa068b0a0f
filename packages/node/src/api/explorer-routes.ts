/**
 * Serves the web explorer (packages/explorer, built by `npm install`/`prepare`) at `/`.
 * Built files are served under /assets/ only and the client-side routes are listed explicitly, so
 * nothing here can shadow /v1, /metrics, /health or /openapi.json: an unknown API path still gets the
 * API's JSON 404.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import fastifyStatic from "@fastify/static";
// `schema.hide` (kept out of the OpenAPI document) is @fastify/swagger's addition to Fastify's route types.
import type {} from "@fastify/swagger";
import type { FastifyInstance, FastifyReply } from "fastify";

/** Top-level sections of the explorer's client-side router (packages/explorer/src/routes.ts). */
export const EXPLORER_SECTIONS = ["blocks", "txs", "accounts", "evidence", "governance", "modules", "search"] as const;

/** Where the built explorer lives, or null when @tally/explorer is not installed. */
export function explorerDistDir(): string | null {
  const override = process.env.TALLY_EXPLORER_DIR;
  if (override !== undefined && override !== "") return override;
  try {
    const pkg = createRequire(import.meta.url).resolve("@tally/explorer/package.json");
    return join(dirname(pkg), "dist");
  } catch {
    return null;
  }
}

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Tally explorer not built</title></head>
<body style="font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5">
<h1>The explorer is not built</h1>
<p>This node is running, and its API works (<a href="/v1/status">/v1/status</a>,
<a href="/openapi.json">/openapi.json</a>), but the web explorer's files were not found.</p>
<p>Build them from the repository root with <code>npm run build</code> (or <code>npm install</code>), then restart the node.</p>
</body></html>
`;

export async function registerExplorerRoutes(app: FastifyInstance, distDir: string | null = explorerDistDir()): Promise<void> {
  const assets = distDir === null ? null : join(distDir, "assets");
  if (distDir !== null && assets !== null && existsSync(assets)) {
    // Files are looked up per request under /assets/ only, so a rebuild while the node runs is picked up;
    // Vite names them by content hash, so a name never changes content and may be cached for good.
    await app.register(fastifyStatic, {
      root: assets,
      prefix: "/assets/",
      index: false,
      setHeaders(reply, path) {
        if (path.startsWith(assets)) void reply.header("cache-control", "public, max-age=31536000, immutable");
      },
    });
  }
  const sendApp = async (reply: FastifyReply): Promise<FastifyReply> => {
    if (distDir !== null && assets !== null && existsSync(join(distDir, "index.html")) && reply.sendFile !== undefined) {
      // index.html names the current build's assets, so it is never cached.
      return reply.header("cache-control", "no-cache").sendFile("index.html", distDir, { cacheControl: false });
    }
    return reply.status(503).type("text/html; charset=utf-8").header("cache-control", "no-store").send(NOT_BUILT);
  };
  const opts = { schema: { hide: true } };
  app.get("/", opts, async (_req, reply) => sendApp(reply));
  for (const section of EXPLORER_SECTIONS) {
    app.get(`/${section}`, opts, async (_req, reply) => sendApp(reply));
    app.get(`/${section}/*`, opts, async (_req, reply) => sendApp(reply));
  }
}
