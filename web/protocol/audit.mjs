// Runs the GraphQL-over-HTTP spec's audit suite (graphql-http's serverAudits: every MUST,
// SHOULD and MAY) against a running server and prints one JSON line: a result per audit.
// Usage: node audit.mjs <graphql-url>
import { serverAudits } from "graphql-http";

const [url] = process.argv.slice(2);
const results = [];
// One at a time: the results stay readable in a failure and a loaded machine is not flooded.
for (const audit of serverAudits({ url })) {
  const result = await audit.fn();
  results.push({
    id: result.id,
    name: result.name,
    status: result.status,
    reason: result.status === "ok" ? undefined : result.reason,
  });
}
console.log(JSON.stringify(results));
