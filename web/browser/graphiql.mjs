// Drives GraphiQL in headless Chromium: the page must render with no request leaving this
// machine, run a query, and run a subscription with an Authorization header.
// Usage: node graphiql.mjs <base-url> <access-token> <screenshot-path>
import { chromium } from "playwright-core";

const [base, token, screenshot] = process.argv.slice(2);
const external = [];
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const result = { external, query: null, subscription: null };
try {
  const page = await browser.newPage();
  page.on("request", (req) => {
    const url = new URL(req.url());
    if (!["127.0.0.1", "localhost"].includes(url.hostname) && url.protocol !== "data:") {
      external.push(req.url());
    }
  });
  const run = async (query, headers) => {
    // The page decodes its parameters with decodeURIComponent, which keeps '+' as is.
    let params = `q=${encodeURIComponent(query)}`;
    if (headers) params += `&headers=${encodeURIComponent(JSON.stringify(headers))}`;
    await page.goto(`${base}/graphql?${params}`, { waitUntil: "networkidle" });
    await page.waitForSelector(".graphiql-query-editor .CodeMirror", { timeout: 15000 });
    await page.click(".graphiql-execute-button");
    await page.waitForFunction(
      () => /"data"/.test(document.querySelector(".graphiql-response")?.innerText || ""),
      null, { timeout: 15000 });
    return await page.innerText(".graphiql-response");
  };
  result.query = await run("{ serverTime }");
  result.subscription = await run("subscription { heartbeat(count: 2, intervalMs: 100) }",
                                  { Authorization: `Bearer ${token}` });
  await page.screenshot({ path: screenshot });
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
