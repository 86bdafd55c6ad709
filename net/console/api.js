// The console's only way to the server: the public HTTP API and the WebSocket, with the
// user's token (from `scaffold serve --auth jwt`) sent as a Bearer header, and as ?token= where
// browsers cannot set headers. The token lives in sessionStorage: this tab only.

const TOKEN_KEY = "scaffold.token";

export const auth = {
  token: sessionStorage.getItem(TOKEN_KEY) || "",
  // Called with the server's message when a request is refused for want of a valid token.
  onUnauthorized: null,
};

export function setToken(token) {
  auth.token = token.trim();
  if (auth.token) sessionStorage.setItem(TOKEN_KEY, auth.token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = {};
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  const init = {method, headers, cache: "no-store"};
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, "unreachable", "the server does not answer");
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const err = (data && data.error) || {};
    if (res.status === 401 && auth.onUnauthorized) auth.onUnauthorized(err.message || "");
    throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || res.statusText);
  }
  return data;
}

export const sessionPath = (id, rest = "") => `/sessions/${encodeURIComponent(id)}${rest}`;

function withToken(url) {
  if (!auth.token) return url;
  return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(auth.token);
}

// Follows one session's log over the WebSocket from `fromPosition`, calling onEvents with
// batches of events in position order, each once: a dropped connection (a restarted server,
// a slow tab the server let go) is opened again and resumes after the last position seen.
// onStatus gets "connecting", "live" or "offline". Returns {close()}.
export function followSession(sessionId, fromPosition, onEvents, onStatus) {
  let last = Math.max(0, fromPosition - 1);
  let ws = null;
  let closed = false;
  let delay = 250;
  let batch = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    const events = batch;
    batch = [];
    if (events.length) onEvents(events);
  };
  const open = () => {
    if (closed) return;
    onStatus("connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(withToken(`${scheme}//${location.host}/ws?client=web`));
    ws.onopen = () => {
      ws.send(JSON.stringify({type: "subscribe", sessionId, fromPosition: last + 1}));
    };
    ws.onmessage = m => {
      let msg;
      try { msg = JSON.parse(m.data); } catch { return; }
      if (msg.type === "event" && msg.sessionId === sessionId && msg.event) {
        delay = 250;
        if (msg.event.position <= last) return;  // already seen
        last = msg.event.position;
        batch.push(msg.event);
        if (!flushQueued) { flushQueued = true; setTimeout(flush, 16); }
        onStatus("live");
      } else if (msg.type === "subscribed" || msg.type === "pong") {
        onStatus("live");
      } else if (msg.type === "error") {
        onStatus("offline", msg.message || msg.code);
        if (msg.code === "unauthorized" && auth.onUnauthorized) auth.onUnauthorized(msg.message || "");
      }
    };
    ws.onclose = () => {
      flush();
      if (closed) return;
      onStatus("offline");
      setTimeout(open, delay);
      delay = Math.min(delay * 2, 5000);
    };
  };
  open();
  return {
    close() {
      closed = true;
      if (ws) ws.close();
    },
    get position() { return last; },
  };
}
