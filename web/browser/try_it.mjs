// The README's "Try it" steps in headless Chromium, against a server holding the demo world:
// GraphiQL opens with its default document; run "Login", paste the token into the Headers tab
// as the document's comments say, run "Feed", and take the screenshot the README shows.
// Usage: node try_it.mjs <base-url> <screenshot-path>
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
const external = [];
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = { external, document: null, login: null, feed: null };
// The response editor's text (innerText would include CodeMirror's gutters).
const responseText = () =>
  document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue() || "";
try {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (!["127.0.0.1", "localhost"].includes(url.hostname) && url.protocol !== "data:") {
      external.push(req.url());
    }
  });
  // No query in the URL: the page's own default document.
  await page.goto(`${base}/graphql`, { waitUntil: "networkidle" });
  await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 15000 });
  result.document = await page.evaluate(
    () => document.querySelector(".graphiql-query-editor .CodeMirror").CodeMirror.getValue());

  // With several operations the run button offers them by name.
  const run = async (name, expect) => {
    await page.click(".graphiql-execute-button");
    await page.locator(".graphiql-dropdown-item", { hasText: name }).first().click();
    await page.waitForFunction(
      (re) => new RegExp(re).test(
        document.querySelector(".graphiql-response .CodeMirror")?.CodeMirror.getValue() || ""),
      expect, { timeout: 20000 });
    return await page.evaluate(responseText);
  };

  result.login = await run("Login", '"accessToken"');
  const token = JSON.parse(result.login).data.login.accessToken;

  // Step 2: the Headers tab, then its editor (the one not hidden).
  await page.locator(".graphiql-editor-tools button", { hasText: "Headers" }).click();
  await page.evaluate((value) => {
    const editors = [...document.querySelectorAll(".graphiql-editor-tool .graphiql-editor")];
    const shown = editors.find((e) => !e.classList.contains("hidden"));
    shown.querySelector(".CodeMirror").CodeMirror.setValue(value);
  }, JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2));

  result.feed = await run("Feed", '"feed"');
  await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
