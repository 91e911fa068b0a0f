import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// @tally/core picks its crypto backend by the `#crypto-backend` import condition (packages/core/package.json):
// "node" selects node:crypto, anything else the pure-JavaScript (noble) backend. The explorer runs in the
// browser, so it resolves with browser conditions only and never "node".
export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ["browser", "module", "import", "default"] },
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 1500, sourcemap: false },
  server: {
    // `npm run dev -w @tally/explorer` against a local node (TALLY_API, default http://127.0.0.1:7070).
    proxy: { "/v1": { target: process.env.TALLY_API ?? "http://127.0.0.1:7070", ws: true } },
  },
});
