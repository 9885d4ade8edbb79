// Regenerates docs/dashboard.png: the embedded demo engine (two hosts, nine
// VMs) balancing itself, photographed in Debian's chromium while a migration
// is in flight. `npm run screenshot` (builds first). Needs /usr/bin/chromium.
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { pino } from "pino";
import { Engine } from "../dist/engine/run/engine.js";
import { engineDashboard } from "../dist/engine/run/cluster-view.js";
import { defaultConfig } from "../dist/engine/run/config.js";
import { EngineMetrics } from "../dist/engine/http/metrics.js";
import { startHttpApi } from "../dist/engine/http/server.js";

const CHROMIUM = "/usr/bin/chromium";
if (!existsSync(CHROMIUM)) {
  console.error(`${CHROMIUM} is missing: apt-get install chromium`);
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "docs", "dashboard.png");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const config = { ...defaultConfig(root), journal: join(mkdtempSync(join(tmpdir(), "vmpolicy-screenshot-")), "journal.jsonl") };
const engine = new Engine({ config, log: pino({ level: "silent" }), timer: false, watch: false, pollMs: 100 });
// One point per round here (the engine keeps one per 5 s), so a short run draws a chart.
const dashboard = engineDashboard(engine, { minGapS: 0 });
await engine.start();
const api = await startHttpApi(engine, { listen: "127.0.0.1:0", metrics: new EngineMetrics(), dashboard });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${api.url}/`);
  await page.waitForSelector('#connection:text("live")');
  // A few planned-only rounds for the chart, then one that executes: photographed mid-migration.
  engine.pause();
  for (let i = 0; i < 5; i++) {
    await engine.runRound();
    await sleep(2000);
  }
  engine.resume();
  const round = engine.runRound();
  await page.waitForSelector(".flight");
  await sleep(600);
  await page.screenshot({ path: out, fullPage: true });
  await round;
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await api.close();
  await engine.stop();
}
