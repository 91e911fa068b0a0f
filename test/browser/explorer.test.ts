/**
 * The web explorer in a real browser (Debian's Chromium driven by playwright-core) against a real
 * node process: live dashboard, in-browser verification of a notarised file by drag and drop, a
 * changed file, a tampered receipt, navigation, and the error states. One node and one browser for
 * every test. `TALLY_SCREENSHOTS=1` also saves the main pages under docs/screenshots/.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";
import { freePort, type NodeProcess, REPO, startNode, tally, tempDir, waitFor } from "../helpers.js";

const CHROMIUM = process.env.TALLY_CHROMIUM ?? "/usr/bin/chromium";
const BUILT = existsSync(join(REPO, "packages", "explorer", "dist", "index.html"));
// CI installs Chromium (.ci/run) and builds the explorer (npm install): there, a missing one is a failure.
const skip =
  process.env.CI === undefined && !existsSync(CHROMIUM)
    ? `no browser at ${CHROMIUM} (apt-get install -y chromium)`
    : process.env.CI === undefined && !BUILT
      ? "explorer not built (npm run build)"
      : false;

/** The text a user sees in an element (its text content; empty when it has none). */
async function text(locator: Locator): Promise<string> {
  return (await locator.textContent()) ?? "";
}

describe("web explorer in Chromium", { skip }, () => {
  const dir = tempDir("explorer");
  const net = join(dir.path, "net");
  const admin = join(net, "accounts", "admin.json");
  let node: NodeProcess;
  let url: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let notarised: { file: string; digest: string; height: number; txHash: string };

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}`);
    assert.ok(BUILT, "the explorer is not built: run npm run build");
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const init = tally(["init", net, "--chain-id", "explorer-e2e", "--api-port", String(port)]);
    assert.equal(init.code, 0, init.stderr);
    // Empty blocks every 400 ms, so the height advances without traffic (as on a multi-validator chain).
    const configPath = join(net, "node0", "config.json");
    const config = JSON.parse(readFileSync(configPath, "utf8")) as { producer: Record<string, unknown> };
    config.producer.blockIntervalMs = 400;
    config.producer.emptyBlocks = true;
    writeFileSync(configPath, JSON.stringify(config, null, 2));
    node = await startNode(join(net, "node0"), url, join(dir.path, "node0.log"));

    const file = join(dir.path, "contract.txt");
    writeFileSync(file, `contract signed ${Date.now()}\n`);
    const out = tally(["evidence", "notarize", file, "--key", admin, "--rpc", url, "--label", "contract", "--meta", "case=2026-17"]);
    assert.equal(out.code, 0, out.stderr);
    const record = JSON.parse(out.stdout) as { digest: string; height: number; txHash: string };
    notarised = { file, digest: record.digest, height: record.height, txHash: record.txHash };

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  });

  after(async () => {
    await browser?.close();
    if (node !== undefined) assert.equal(await node.stop(), 0, "node exits cleanly on SIGTERM");
    dir.cleanup();
  });

  /** Drops `bytes` as a file named `name` on the evidence page's drop zone, as a user dragging it in would. */
  async function dropFile(name: string, bytes: Buffer): Promise<void> {
    const transfer = await page.evaluateHandle(
      ({ name, b64 }) => {
        const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([data], name, { type: "application/octet-stream" }));
        return dt;
      },
      { name, b64: bytes.toString("base64") },
    );
    await page.dispatchEvent('[data-testid="dropzone"]', "dragover", { dataTransfer: transfer });
    await page.dispatchEvent('[data-testid="dropzone"]', "drop", { dataTransfer: transfer });
  }

  async function verdict(): Promise<{ cls: string; text: string }> {
    const el = page.locator('[data-testid="verdict"]');
    await el.waitFor();
    return { cls: (await el.getAttribute("class")) ?? "", text: await text(el) };
  }

  async function openEvidence(): Promise<void> {
    await page.goto(`${url}/evidence`);
    await page.locator('[data-testid="genesis-source"]').waitFor();
  }

  test("the accounts page lists organisations and accounts registered after genesis, and the last signed height", async () => {
    const key = join(dir.path, "clerk.json");
    const created = tally(["keys", "new", "--out", key]);
    assert.equal(created.code, 0, created.stderr);
    const { address, publicKey } = JSON.parse(created.stdout) as { address: string; publicKey: string };
    const reg = tally([
      "accounts",
      "register",
      "--key",
      admin,
      "--public-key",
      publicKey,
      "--org",
      "consortium",
      "--roles",
      "bank",
      "--rpc",
      url,
    ]);
    assert.equal(reg.code, 0, reg.stderr);
    await page.goto(`${url}/accounts`);
    const row = page.locator("tr", { hasText: "bank" });
    await row.first().waitFor();
    assert.match(await text(page.locator("main")), /consortium/);
    assert.ok((await page.locator(`a[href="/accounts/${address}"]`).count()) === 1, "the new account is listed");
    // The dashboard's validator table links each validator's last signed block.
    await page.goto(url);
    const validatorRow = page
      .locator("table", { has: page.locator("th", { hasText: "Last signed" }) })
      .locator("tbody tr")
      .first();
    await validatorRow.locator("a[href^='/blocks/']").waitFor();
  });

  test("a credential presentation verifies in the browser; a tampered one is invalid with the reason", async () => {
    const run = (args: string[], online = true) => {
      const r = tally(online ? [...args, "--rpc", url] : args);
      assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
      return r;
    };
    const signing = join(dir.path, "signing.json");
    run(["keys", "new", "--out", signing], false);
    run(["credential", "register-key", "--key", admin, "--key-id", "k1", "--signing-key", signing]);
    const cred = join(dir.path, "cred.json");
    run(
      ["credential", "issue", "--key", admin, "--signing-key", signing, "--key-id", "k1", "--id", "dip-1", "--schema", "diploma/v1"].concat(
        ["--attr", "name=Alice Example", "--attr", "degree=MSc Physics", "--out", cred],
      ),
    );
    const pres = join(dir.path, "presentation.json");
    run(["credential", "present", cred, "--disclose", "degree", "--out", pres]);

    await page.goto(`${url}/modules/credentials`);
    await page.locator('[data-testid="presentation-input"]').setInputFiles(pres);
    const verdict = page.locator('[data-testid="presentation-verdict"]');
    await verdict.waitFor();
    assert.match(await text(verdict), /Valid.*consortium.*MSc Physics/s);
    assert.doesNotMatch(await text(verdict), /Alice/);

    const tampered = JSON.parse(readFileSync(pres, "utf8"));
    tampered.disclosed.degree.value = "PhD Physics";
    const bad = join(dir.path, "tampered.json");
    writeFileSync(bad, JSON.stringify(tampered));
    await page.locator('[data-testid="presentation-input"]').setInputFiles(bad);
    await page.locator('[data-testid="presentation-verdict"]', { hasText: "Invalid" }).waitFor();
    assert.match(await text(page.locator('[data-testid="presentation-verdict"]')), /CREDENTIAL_INVALID/);
  });

  test("the dashboard shows the chain and an advancing height", async () => {
    await page.goto(url);
    const height = page.locator('[data-testid="height"]');
    await height.waitFor();
    const first = Number(await text(height));
    assert.ok(first >= notarised.height, `height ${first} is at least the notarisation's ${notarised.height}`);
    // The page updates by itself (WebSocket, or polling when the node has none): no reload.
    const later = await waitFor("the dashboard height to advance", async () => {
      const h = Number(await text(height));
      return h >= first + 2 ? h : undefined;
    });
    assert.ok(later >= first + 2);
    // New blocks arrive over the node's WebSocket (/v1/ws, topic "blocks").
    await page.locator("dd", { hasText: /^WebSocket$/ }).waitFor();
    const body = await text(page.locator("main"));
    assert.match(body, /explorer-e2e/);
    assert.match(body, /Ed25519 signatures, SHA-256 hashing/);
    assert.match(body, /Validators/);
    assert.equal(await page.locator("svg[role=img]").count(), 1, "the throughput chart is drawn");
  });

  test("without the WebSocket the dashboard falls back to polling and still advances", async () => {
    const polling = await context.newPage();
    // The socket is refused as by a proxy that does not pass WebSockets.
    await polling.routeWebSocket(/\/v1\/ws$/, (ws) => ws.close({ code: 1011, reason: "refused by the test" }));
    await polling.goto(url);
    const height = polling.locator('[data-testid="height"]');
    await height.waitFor();
    await polling.getByText("polling every second").waitFor();
    const first = Number(await text(height));
    await waitFor("the polled height to advance", async () => (Number(await text(height)) >= first + 2 ? true : undefined));
    await polling.close();
  });

  test("a notarised file dropped on the evidence page verifies as valid in the browser", async () => {
    await openEvidence();
    assert.match(await text(page.locator('[data-testid="genesis-source"]')), /served by this node/);
    await dropFile("contract.txt", readFileSync(notarised.file));
    const v = await verdict();
    assert.match(v.cls, /\bok\b/, v.text);
    assert.match(v.text, new RegExp(`Valid: notarised at height ${notarised.height}`));
    assert.match(v.text, new RegExp(notarised.digest));
    assert.match(v.text, /case=2026-17/);
    assert.equal(await text(page.locator('[data-testid="digest"]')), notarised.digest, "digest computed in the browser");

    // The downloaded receipt is byte-identical to the CLI's, and the CLI verifies it offline.
    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download receipt" }).click()]);
    const saved = join(dir.path, "browser.receipt.json");
    await download.saveAs(saved);
    const cliReceipt = join(dir.path, "cli.receipt.json");
    assert.equal(tally(["evidence", "receipt", notarised.file, "--rpc", url, "--out", cliReceipt]).code, 0);
    assert.equal(readFileSync(saved, "utf8"), readFileSync(cliReceipt, "utf8"));
    const verified = tally(["evidence", "verify", saved, "--genesis", join(net, "genesis.json"), "--file", notarised.file]);
    assert.equal(verified.code, 0, verified.stderr);
  });

  test("a changed file shows not notarised (chosen with the file picker)", async () => {
    await openEvidence();
    const changed = Buffer.concat([readFileSync(notarised.file), Buffer.from(" ")]);
    await page.locator('[data-testid="file-input"]').setInputFiles({ name: "contract.txt", mimeType: "text/plain", buffer: changed });
    const v = await verdict();
    assert.match(v.cls, /\bwarn\b/);
    assert.match(v.text, /Not notarised/);
    assert.notEqual(await text(page.locator('[data-testid="digest"]')), notarised.digest);
  });

  test("a tampered receipt shows invalid with the reason", async () => {
    const receiptPath = join(dir.path, "cli.receipt.json");
    if (!existsSync(receiptPath)) assert.equal(tally(["evidence", "receipt", notarised.file, "--rpc", url, "--out", receiptPath]).code, 0);
    const original = readFileSync(receiptPath, "utf8");
    const cases: Array<[string, string, RegExp]> = [
      // The summary claims another height than the proof shows.
      ["summary", original.replace(`"height": ${notarised.height}`, `"height": ${notarised.height + 1}`), /altered/],
      // One byte of the proof changed.
      [
        "proof",
        original.replace(/("receipt": "[0-9a-f]{200})([0-9a-f])/, (_m, a: string, c: string) => `${a}${c === "0" ? "1" : "0"}`),
        /./,
      ],
      ["chain", original.replace('"chainId": "explorer-e2e"', '"chainId": "other-chain"'), /another chain/],
    ];
    await openEvidence();
    for (const [what, tampered, reason] of cases) {
      assert.notEqual(tampered, original, `${what} tampering changed the file`);
      await page.locator("details.more summary").click();
      await page
        .locator('[data-testid="receipt-input"]')
        .setInputFiles({ name: `${what}.json`, mimeType: "application/json", buffer: Buffer.from(tampered) });
      const v = await verdict();
      assert.match(v.cls, /\bbad\b/, `${what}: ${v.text}`);
      assert.match(v.text, /Invalid receipt/);
      assert.match(await text(page.locator('[data-testid="reason"]')), reason);
      await openEvidence();
    }
    // The untampered file is valid through the same path.
    await page.locator("details.more summary").click();
    await page
      .locator('[data-testid="receipt-input"]')
      .setInputFiles({ name: "good.json", mimeType: "application/json", buffer: Buffer.from(original) });
    assert.match((await verdict()).cls, /\bok\b/);
  });

  test("a genesis file the user trusts replaces the node's, and decides the verdict", async () => {
    const other = join(dir.path, "other");
    assert.equal(tally(["init", other, "--chain-id", "other-chain", "--api-port", String(await freePort())]).code, 0);
    await openEvidence();
    await page.locator('[data-testid="genesis-input"]').setInputFiles(join(other, "genesis.json"));
    await page.getByText("Verifying against the genesis file genesis.json").waitFor();
    assert.match(await text(page.locator('[data-testid="genesis-source"]')), /other-chain/);
    await dropFile("contract.txt", readFileSync(notarised.file));
    let v = await verdict();
    assert.match(v.cls, /\bbad\b/, v.text);
    assert.match(v.text, /another chain/);
    await page.locator('[data-testid="genesis-input"]').setInputFiles(join(net, "genesis.json"));
    await page.locator('[data-testid="genesis-source"]', { hasText: "explorer-e2e" }).waitFor();
    await dropFile("contract.txt", readFileSync(notarised.file));
    v = await verdict();
    assert.match(v.cls, /\bok\b/, v.text);
  });

  test("a block links to its transactions, and a transaction back to its block", async () => {
    // The list starts at the head: page back ("older") until the notarisation's block is listed.
    await page.goto(`${url}/blocks`);
    const link = page.locator("main table").getByRole("link", { name: String(notarised.height), exact: true });
    for (let pages = 0; ; pages++) {
      await page.locator("main table").waitFor();
      if ((await link.count()) > 0) break;
      assert.ok(pages < 100, "paged back to the notarisation's block");
      const first = await text(page.locator("main table tbody tr td").first());
      await page.getByRole("link", { name: "older →" }).click();
      await waitFor("the older page", async () =>
        (await text(page.locator("main table tbody tr td").first())) !== first ? true : undefined,
      );
    }
    await link.first().click();
    await page.waitForURL(`${url}/blocks/${notarised.height}`);
    await page.getByRole("heading", { name: `Block ${notarised.height}` }).waitFor();
    const row = page.locator('[data-testid="tx-row"]');
    assert.equal(await row.count(), 1);
    assert.match(await text(row), /evidence\.notarize/);
    await row.locator(`a[href="/txs/${notarised.txHash}"]`).click();
    await page.waitForURL(`${url}/txs/${notarised.txHash}`);
    // The page renders "Loading transaction …" first; wait for the transaction itself.
    await page.locator("main", { hasText: "committed, ok" }).waitFor();
    const body = await text(page.locator("main"));
    assert.match(body, /evidence\.notarize/);
    assert.match(body, /committed, ok/);
    assert.match(body, /"label": "contract"/, "decoded arguments");
    assert.match(body, /evidence\.notarized|notarized/, "events");
    await page.getByRole("button", { name: "Verify receipt here" }).click();
    // The verdict appears once the in-browser check is done.
    const check = page.locator('[data-testid="tx-receipt-check"]');
    await check.waitFor();
    assert.match(await text(check), new RegExp(`^Valid: .* block ${notarised.height}`));
    await page.getByRole("link", { name: new RegExp(`^${notarised.height} \\(index 0\\)`) }).click();
    await page.waitForURL(`${url}/blocks/${notarised.height}`);
    // Search by digest finds the notarisation.
    await page.locator("form.search input").fill(notarised.digest);
    await page.locator("form.search button").click();
    await page.waitForURL(`${url}/txs/${notarised.txHash}`);
  });

  test("unknown hashes and an unreachable node get clear messages", async () => {
    await page.goto(`${url}/txs/${"0".repeat(64)}`);
    assert.match(await text(page.locator('[role="alert"]')), /Not found/);
    const offline = await context.newPage();
    await offline.route("**/v1/**", (route) => route.abort("connectionrefused"));
    await offline.goto(url);
    await offline.getByText("Node unreachable").waitFor();
    await offline.close();
  });

  test("pages render at phone width", async () => {
    const phone = await context.newPage();
    await phone.setViewportSize({ width: 375, height: 800 });
    for (const path of ["/", "/blocks", `/txs/${notarised.txHash}`, "/evidence"]) {
      await phone.goto(`${url}${path}`);
      await phone.locator("main h1").waitFor();
      // Wide content scrolls inside its own box; the page itself never scrolls sideways.
      const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${path} overflows by ${overflow}px at 375px`);
    }
    await phone.close();
  });

  test("screenshots of the main pages", { skip: process.env.TALLY_SCREENSHOTS !== "1" }, async () => {
    const out = join(REPO, "docs", "screenshots");
    mkdirSync(out, { recursive: true });
    // Some traffic so the lists and the chart have something to show.
    for (let i = 0; i < 6; i++) {
      const f = join(dir.path, `doc-${i}.txt`);
      writeFileSync(f, `document ${i} ${Date.now()}`);
      assert.equal(tally(["evidence", "notarize", f, "--key", admin, "--rpc", url, "--label", `doc-${i}`]).code, 0);
    }
    const shots: Array<[string, string, number]> = [
      ["dashboard", "/", 1280],
      ["blocks", "/blocks", 1280],
      ["block", `/blocks/${notarised.height}`, 1280],
      ["transaction", `/txs/${notarised.txHash}`, 1280],
      ["accounts", "/accounts", 1280],
      ["governance", "/governance", 1280],
      ["modules", "/modules", 1280],
      ["dashboard-phone", "/", 375],
      ["evidence-phone", "/evidence", 375],
    ];
    const shot = await context.newPage();
    for (const [name, path, width] of shots) {
      await shot.setViewportSize({ width, height: width < 500 ? 800 : 900 });
      await shot.goto(`${url}${path}`);
      await shot.locator("main h1").waitFor();
      await shot.waitForTimeout(1500);
      await shot.screenshot({ path: join(out, `${name}.png`), fullPage: width >= 500 });
    }
    await shot.setViewportSize({ width: 1280, height: 900 });
    await shot.goto(`${url}/evidence`);
    await shot.locator('[data-testid="genesis-source"]').waitFor();
    await shot.locator('[data-testid="file-input"]').setInputFiles(notarised.file);
    await shot.locator('[data-testid="verdict"]').waitFor();
    await shot.screenshot({ path: join(out, "evidence-valid.png"), fullPage: true });
    await shot.close();
  });
});
