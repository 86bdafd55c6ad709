// The Bun peer of the fan-out benchmark: the same subset of scaffold's protocol as the Node
// peer (POST /sessions, POST /sessions/:id/input, GET /sessions/:id/events as SSE, /ws with
// subscribe), on Bun.serve: SSE as a streamed Response, WebSocket delivery through Bun's
// uWebSockets publish/subscribe (one publish per event reaches every subscriber of the
// session's topic). A session waits for one input, then emits COUNT text:delta events DELAY_MS
// apart and workflow:completed, each serialized once. Events live in memory only (scaffold
// commits each one to SQLite first).
//
//   bun server.ts PORT COUNT DELAY_MS     (prints "listening on PORT")
const [port, count, delayMs] = process.argv.slice(2).map(Number);

type Sse = (name: string, chunk: Uint8Array) => void;
interface Session {
  events: string[];
  sse: Set<Sse>;
  started: boolean;
}
const sessions = new Map<string, Session>();
const encoder = new TextEncoder();

function emit(id: string, session: Session, name: string, payload: unknown) {
  const position = session.events.length + 1;
  const event = { id: crypto.randomUUID(), position, name, payload, timestamp: Date.now() };
  const wire = JSON.stringify(event);
  session.events.push(wire);
  const chunk = encoder.encode(`id: ${position}\nevent: ${name}\ndata: ${wire}\n\n`);
  for (const write of session.sse) write(name, chunk);
  server.publish(id, `{"type":"event","sessionId":"${id}","event":${wire}}`);
}

function json(body: unknown, status = 200) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port,
  idleTimeout: 0,
  fetch(req, srv) {
    const url = new URL(req.url);
    const parts = url.pathname.split("/").filter(Boolean);
    if (url.pathname.startsWith("/ws")) {
      return srv.upgrade(req) ? undefined : new Response("upgrade failed", { status: 400 });
    }
    if (req.method === "POST" && url.pathname === "/sessions") {
      const id = crypto.randomUUID();
      sessions.set(id, { events: [], sse: new Set(), started: false });
      return json({ sessionId: id }, 201);
    }
    const session = parts[0] === "sessions" ? sessions.get(parts[1]) : undefined;
    if (!session) return json({ error: { code: "not_found", message: "no session" } }, 404);
    const id = parts[1];
    if (req.method === "POST" && parts[2] === "input") {
      if (!session.started) {
        session.started = true;
        let sent = 0;
        const timer = setInterval(() => {
          if (sent++ < count) return emit(id, session, "text:delta", { agent: "writer", delta: "tok " });
          clearInterval(timer);
          emit(id, session, "workflow:completed", { result: null });
        }, delayMs);
      }
      return json({ ok: true });
    }
    if (req.method === "GET" && parts[2] === "events") {
      let write: Sse;
      const body = new ReadableStream({
        type: "direct",
        pull(controller) {
          return new Promise<void>((resolve) => {
            write = (name, chunk) => {
              controller.write(chunk);
              controller.flush();
              if (name === "workflow:completed") {
                session.sse.delete(write);
                controller.close();
                resolve();
              }
            };
            session.sse.add(write);
            req.signal.addEventListener("abort", () => {
              session.sse.delete(write);
              resolve();
            });
          });
        },
      } as any);
      return new Response(body, {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
      });
    }
    return json({ error: { code: "not_found", message: "no route" } }, 404);
  },
  websocket: {
    message(ws, data) {
      let msg: any;
      try {
        msg = JSON.parse(String(data));
      } catch {
        return;
      }
      if (msg?.type !== "subscribe") return;
      if (!sessions.has(msg.sessionId)) {
        ws.send(JSON.stringify({ type: "error", code: "not_found", message: "no session" }));
        return;
      }
      ws.subscribe(msg.sessionId);
    },
  },
});
console.log(`listening on ${port}`);
