/**
 * How a node serves the explorer (packages/node/src/api/explorer-routes.ts), without a browser: the
 * built files and the client-side routes answer with the app, the API's own paths are never
 * shadowed, and a node without a build says so with a 503 page.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { EXPLORER_SECTIONS, registerExplorerRoutes } from "../../packages/node/src/api/explorer-routes.js";
import { tempDir } from "../helpers.js";

async function app(distDir: string | null): Promise<FastifyInstance> {
  const server = Fastify();
  server.get("/v1/status", async () => ({ ok: "api" }));
  server.get("/health", async () => ({ ok: true }));
  server.setNotFoundHandler((_req, reply) => void reply.status(404).send({ error: { code: "NOT_FOUND" } }));
  await registerExplorerRoutes(server, distDir);
  await server.ready();
  return server;
}

describe("explorer routes", () => {
  const dir = tempDir("explorer-routes");
  after(() => dir.cleanup());

  test("a built explorer is served at / and at every client route; the API is not shadowed", async () => {
    const dist = join(dir.path, "dist");
    mkdirSync(join(dist, "assets"), { recursive: true });
    writeFileSync(join(dist, "index.html"), "<!doctype html><title>app</title>");
    writeFileSync(join(dist, "assets", "index-abc.js"), "console.log(1)");
    const server = await app(dist);
    try {
      for (const path of ["/", ...EXPLORER_SECTIONS.flatMap((s) => [`/${s}`, `/${s}/x`])]) {
        const res = await server.inject(path);
        assert.equal(res.statusCode, 200, path);
        assert.match(res.headers["content-type"] as string, /text\/html/, path);
        assert.match(res.body, /<title>app<\/title>/, path);
        assert.equal(res.headers["cache-control"], "no-cache", path);
      }
      const asset = await server.inject("/assets/index-abc.js");
      assert.equal(asset.statusCode, 200);
      assert.match(asset.headers["cache-control"] as string, /immutable/);
      // A rebuild while the node runs is served without a restart.
      writeFileSync(join(dist, "assets", "index-def.js"), "console.log(2)");
      writeFileSync(join(dist, "index.html"), "<!doctype html><title>app 2</title>");
      assert.equal((await server.inject("/assets/index-def.js")).body, "console.log(2)");
      assert.match((await server.inject("/blocks")).body, /app 2/);
      assert.deepEqual((await server.inject("/v1/status")).json(), { ok: "api" });
      assert.deepEqual((await server.inject("/health")).json(), { ok: true });
      for (const path of ["/v1/unknown", "/assets/missing.js", "/blocksx", "/metricsx"]) {
        const res = await server.inject(path);
        assert.equal(res.statusCode, 404, path);
        assert.deepEqual(res.json(), { error: { code: "NOT_FOUND" } }, path);
      }
    } finally {
      await server.close();
    }
  });

  test("without a build the explorer's paths answer 503 with how to build it; the API still works", async () => {
    for (const distDir of [join(dir.path, "missing"), null]) {
      const server = await app(distDir);
      try {
        for (const path of ["/", "/blocks/5", "/evidence"]) {
          const res = await server.inject(path);
          assert.equal(res.statusCode, 503, path);
          assert.match(res.body, /explorer is not built/);
          assert.match(res.body, /npm run build/);
        }
        assert.deepEqual((await server.inject("/v1/status")).json(), { ok: "api" });
      } finally {
        await server.close();
      }
    }
  });
});
