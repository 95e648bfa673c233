// Many cheap graphql-transport-ws clients in one Node process, for bench/realtime_width.py
// (Python's asyncio clients would be the bottleneck at 10,000 sockets). No npm package: Node's
// own WebSocket (node --experimental-websocket on Node 20, built in from Node 22).
//
// Commands arrive as JSON lines on stdin; each answer is one JSON line on stdout:
//   {"cmd":"open","url":..,"tokens":[..],"perToken":5,"query":..,"variables":{..}}
//   {"cmd":"wait","count":N,"t0":ms,"timeout":s}    delays of the first message with >= N likes
//   {"cmd":"delays","likes":[[count,ms],..],"timeout":s}  per like and socket, the delay to a
//                                                   message with at least that count
//   {"cmd":"clear"} / {"cmd":"exit"}
import readline from "node:readline";

const sockets = [];
const now = () => performance.timeOrigin + performance.now();
const reply = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function openOne(url, token, query, variables) {
  return new Promise((resolve) => {
    const client = { recv: [], done: false };
    let settled = false;
    const finish = (ok) => {
      if (!settled) {
        settled = true;
        resolve(ok ? client : null);
      }
    };
    const ws = new WebSocket(url, ["graphql-transport-ws"]);
    client.ws = ws;
    ws.onopen = () =>
      ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      if (msg.type === "connection_ack") {
        ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query, variables } }));
      } else if (msg.type === "next") {
        const post = msg.payload.data && msg.payload.data.postUpdated;
        if (!settled) return finish(Boolean(post));
        if (post) client.recv.push([post.likeCount, now()]);
      } else if (msg.type === "ping") {
        ws.send('{"type":"pong"}');
      } else if (msg.type === "error" || msg.type === "complete") {
        client.done = true;
        finish(false);
      }
    };
    ws.onerror = () => finish(false);
    ws.onclose = () => {
      client.done = true;
      finish(false);
    };
  });
}

async function open({ url, tokens, perToken, query, variables, concurrency = 100 }) {
  const started = now();
  const jobs = [];
  for (const t of tokens) for (let i = 0; i < perToken; i++) jobs.push(t);
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const c = await openOne(url, jobs[next++], query, variables);
      if (c) sockets.push(c);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { open: sockets.length, failed, ms: Math.round(now() - started) };
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] : null);
const stats = (values) => {
  const s = Float64Array.from(values).sort();
  const r = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return { n: s.length, p50_ms: r(pct(s, 0.5)), p99_ms: r(pct(s, 0.99)), max_ms: r(s.length ? s[s.length - 1] : null) };
};

async function until(pred, timeoutS) {
  const deadline = now() + timeoutS * 1000;
  while (!pred() && now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const reached = (c, count) => c.recv.length && c.recv[c.recv.length - 1][0] >= count;

async function wait({ count, t0, timeout = 30 }) {
  await until(() => sockets.every((c) => c.done || reached(c, count)), timeout);
  const delays = [];
  let missing = 0;
  for (const c of sockets) {
    const hit = c.recv.find(([n]) => n >= count);
    if (hit) delays.push(hit[1] - t0);
    else missing++;
  }
  return { ...stats(delays), missing };
}

async function delays({ likes, timeout = 30 }) {
  const last = Math.max(...likes.map(([n]) => n));
  await until(() => sockets.every((c) => c.done || reached(c, last)), timeout);
  const all = [];
  let messages = 0;
  let starved = 0;
  let worstSocket = 0;
  const byCount = [...likes].sort((a, b) => a[0] - b[0]);
  for (const c of sockets) {
    messages += c.recv.length;
    let j = 0;
    let worst = 0;
    let ok = true;
    for (const [n, t] of byCount) {
      while (j < c.recv.length && c.recv[j][0] < n) j++;
      if (j === c.recv.length) {
        ok = false;
        break;
      }
      const d = Math.max(0, c.recv[j][1] - t);
      all.push(d);
      if (d > worst) worst = d;
    }
    if (!ok) starved++;
    if (worst > worstSocket) worstSocket = worst;
  }
  return { ...stats(all), messages, sockets: sockets.length, starved, worst_socket_ms: Math.round(worstSocket) };
}

const rl = readline.createInterface({ input: process.stdin });
for await (const line of rl) {
  const msg = JSON.parse(line);
  if (msg.cmd === "open") reply(await open(msg));
  else if (msg.cmd === "wait") reply(await wait(msg));
  else if (msg.cmd === "delays") reply(await delays(msg));
  else if (msg.cmd === "clear") {
    for (const c of sockets) c.recv = [];
    reply({ ok: true });
  } else if (msg.cmd === "now") reply({ now: now() });
  else if (msg.cmd === "exit") {
    for (const c of sockets) c.ws.close();
    reply({ ok: true });
    process.exit(0);
  }
}
