// The Node peer of the fan-out benchmark: the subset of scaffold's protocol the load generator
// uses (POST /sessions, POST /sessions/:id/input, GET /sessions/:id/events as SSE, /ws with
// subscribe), on Hono with @hono/node-server and the ws package, as a TypeScript agent
// framework's server would be built. A session waits for one input, then emits COUNT
// text:delta events DELAY_MS apart and workflow:completed, each serialized once and written to
// every subscriber. It keeps events in memory only (scaffold commits each one to SQLite first).
//
//   node server.mjs PORT COUNT DELAY_MS     (prints "listening on PORT")
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { WebSocketServer } from 'ws';
import { randomUUID } from 'node:crypto';

const [port, count, delayMs] = process.argv.slice(2).map(Number);
const sessions = new Map();

function emit(session, name, payload) {
  const event = { id: randomUUID(), position: session.events.length + 1, name, payload, timestamp: Date.now() };
  const wire = JSON.stringify(event);
  session.events.push(wire);
  for (const sub of session.subscribers) sub(event, wire);
}

const app = new Hono();
app.post('/sessions', async (c) => {
  const id = randomUUID();
  sessions.set(id, { events: [], subscribers: new Set(), started: false });
  return c.json({ sessionId: id }, 201);
});
app.post('/sessions/:id/input', async (c) => {
  const session = sessions.get(c.req.param('id'));
  if (!session) return c.json({ error: { code: 'not_found', message: 'no session' } }, 404);
  if (!session.started) {
    session.started = true;
    let sent = 0;
    const timer = setInterval(() => {
      if (sent++ < count) return emit(session, 'text:delta', { agent: 'writer', delta: 'tok ' });
      clearInterval(timer);
      emit(session, 'workflow:completed', { result: null });
    }, delayMs);
  }
  return c.json({ ok: true });
});
app.get('/sessions/:id/events', (c) => {
  const session = sessions.get(c.req.param('id'));
  if (!session) return c.json({ error: { code: 'not_found', message: 'no session' } }, 404);
  return streamSSE(c, async (stream) => {
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    const sub = (event, wire) => {
      const written = stream.writeSSE({ id: String(event.position), event: event.name, data: wire });
      if (event.name === 'workflow:completed') written.then(done);
    };
    session.subscribers.add(sub);
    stream.onAbort(() => done());
    await finished;
    session.subscribers.delete(sub);
  });
});

const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => console.log(`listening on ${port}`));
const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, socket, head) => {
  if (!req.url.startsWith('/ws')) return socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    const subs = new Map();
    ws.on('message', (data) => {
      let msg;
      try { msg = JSON.parse(data); } catch { return; }
      if (msg.type !== 'subscribe') return;
      const session = sessions.get(msg.sessionId);
      if (!session) return ws.send(JSON.stringify({ type: 'error', code: 'not_found', message: 'no session' }));
      const prefix = `{"type":"event","sessionId":"${msg.sessionId}","event":`;
      const sub = (event, wire) => ws.send(prefix + wire + '}');
      subs.set(msg.sessionId, sub);
      session.subscribers.add(sub);
    });
    ws.on('close', () => {
      for (const [id, sub] of subs) sessions.get(id)?.subscribers.delete(sub);
    });
  });
});
