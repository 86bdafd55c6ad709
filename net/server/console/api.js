// The console's only way to the server: the public HTTP API and its SSE event streams, with
// the user's token (from `scaffold serve --auth jwt`) sent as a Bearer header; fetch() can
// set headers, so the token never goes in a URL. It lives in sessionStorage: this tab only.

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

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// The events of one SSE chunk: complete frames (a blank line ends each; the server writes "\n"
// line ends) parsed from `text`, and what is left for the next chunk.
function parseFrames(text, after) {
  const events = [];
  let start = 0;
  for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n", start)) {
    const frame = text.slice(start, end);
    start = end + 2;
    let data = null;
    for (const line of frame.split("\n")) {
      if (!line.startsWith("data:")) continue;  // id:, event:, and ": heartbeat" comments
      const value = line.slice(line.startsWith("data: ") ? 6 : 5);
      data = data === null ? value : `${data}\n${value}`;
    }
    if (data === null) continue;
    let event;
    try { event = JSON.parse(data); } catch { continue; }
    if (typeof event.position !== "number" || event.position <= after) continue;  // seen already
    after = event.position;
    events.push(event);
  }
  return {events, rest: text.slice(start), after};
}

// Follows one session's log from `fromPosition` over its SSE route, read with fetch so that the
// token goes in a header and a long history arrives in large chunks rather than one task per
// event. onEvents gets batches of events in position order, each event once: a dropped stream
// (a restarted server, a slow tab the server let go) is opened again from the position after
// the last one seen. onStatus(state, message?) hears "connecting", "live" and "offline", once
// per change. Returns {close()}.
export function followSession(sessionId, fromPosition, onEvents, onStatus) {
  let last = Math.max(0, fromPosition - 1);
  let closed = false;
  let controller = null;
  let status = "";
  const tell = (next, message) => {
    if (next === status && !message) return;
    status = next;
    onStatus(next, message);
  };
  (async () => {
    let delay = 250;
    while (!closed) {
      tell("connecting");
      controller = new AbortController();
      try {
        const headers = {Accept: "text/event-stream"};
        if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
        const res = await fetch(sessionPath(sessionId, `/events?fromPosition=${last + 1}`),
                                {headers, signal: controller.signal, cache: "no-store"});
        if (!res.ok) {
          const body = await res.json().catch(() => null);
          const message = (body && body.error && body.error.message) || res.statusText;
          if (res.status === 401 && auth.onUnauthorized) auth.onUnauthorized(message);
          tell("offline", message);
          if (res.status === 401 || res.status === 403 || res.status === 404) return;
        } else {
          tell("live");
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          let buffer = "";
          for (;;) {
            const {value, done} = await reader.read();
            if (done || closed) break;
            const parsed = parseFrames(buffer + value, last);
            buffer = parsed.rest;
            last = parsed.after;
            if (parsed.events.length) onEvents(parsed.events);
            delay = 250;
          }
        }
      } catch (err) {
        if (closed) return;
      }
      if (closed) return;
      tell("offline");
      await sleep(delay);
      delay = Math.min(delay * 2, 5000);
    }
  })();
  return {
    close() {
      closed = true;
      if (controller) controller.abort();
    },
  };
}
