// Drives the extension in a real VS Code (code-server in chromium) as docs/editors.md
// describes: opens demo.policy of $WORKSPACE (a `let upper = meen + …` typo on line 6),
// prints the squiggles and Problems panel, a hover, the quick fix and a completion, and
// saves screenshots. Not run in CI: code-server's install fetches ripgrep from GitHub.
import { chromium } from "playwright-core";
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"] });
const page = await browser.newPage({ viewport: { width: 1400, height: 800 } });
await page.goto(`${process.env.CODE_SERVER_URL ?? "http://127.0.0.1:8099"}/?folder=${process.env.WORKSPACE}`);
await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
await page.waitForTimeout(5000);
await page.locator(".explorer-folders-view").getByText("demo.policy").click();
await page.waitForTimeout(10000);
const squiggles = await page.locator(".squiggly-error").count();
console.log("squiggly-error elements:", squiggles);
await page.keyboard.press("Control+Shift+M");
await page.waitForTimeout(2000);
console.log("problems:", (await page.locator(".markers-panel").innerText().catch(e => String(e))).slice(0, 500));
const lang = await page.locator(".statusbar").innerText().catch(e => String(e));
console.log("status bar:", lang.replace(/\n/g, " | ").slice(0, 400));
await page.screenshot({ path: "vscode-problems.png" });
await page.locator(".view-line", { hasText: "let upper" }).locator("span", { hasText: "band" }).last().hover();
await page.waitForTimeout(3000);
console.log("hover:", (await page.locator(".monaco-hover:not(.hidden)").first().innerText().catch(e => String(e))).slice(0, 300));
await page.screenshot({ path: "vscode-hover.png" });
await page.locator(".view-line", { hasText: "let upper" }).locator("span", { hasText: "meen" }).first().click();
await page.keyboard.press("Control+.");
await page.waitForTimeout(3000);
console.log("quick fixes:", (await page.locator(".action-widget").innerText().catch(e => String(e))).replace(/\n/g, " | ").slice(0, 300));
await page.screenshot({ path: "vscode-fix.png" });
await page.keyboard.press("Enter");
await page.waitForTimeout(3000);
console.log("line 6 after fix:", await page.locator(".view-line", { hasText: "let upper" }).innerText());
await page.keyboard.press("End");
await page.keyboard.press("Enter");
await page.keyboard.type("group hot when host.");
await page.waitForTimeout(4000);
console.log("completion:", (await page.locator(".suggest-widget").innerText().catch(e => String(e))).replace(/\n/g, " | ").slice(0, 300));
await page.screenshot({ path: "vscode-complete.png" });
await browser.close();
