// Small helpers for building the page: elements from a tag, attributes and children, and
// formatting of times, durations, counts and money.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    // Through the CSSOM: the content security policy refuses style attributes.
    else if (key === "style") Object.assign(el.style, value);
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren(...children.flat().filter(c => c !== null && c !== undefined && c !== false));
  return el;
}

export function fmtTime(ms) {
  if (!ms) return "";
  const d = new Date(ms);
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay ? d.toLocaleTimeString() : d.toLocaleString();
}

export function fmtAgo(ms) {
  if (!ms) return "";
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function fmtDuration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(ms)) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function fmtCount(n) {
  return (n || 0).toLocaleString("en-US");
}

export function fmtCost(usd) {
  if (usd === undefined || usd === null) return "";
  if (usd === 0) return "$0";
  if (usd < 0.0001) return "<$0.0001";
  return "$" + (usd < 0.01 ? usd.toFixed(4) : usd.toFixed(usd < 1 ? 3 : 2));
}

// A usage total's cost (GET /sessions/:id/usage), or why there is none.
export function fmtUsageCost(total) {
  return total.costUsd !== undefined ? fmtCost(total.costUsd) : "no price";
}

export function short(id) {
  return (id || "").slice(0, 8);
}

export function compactJson(value, max = 160) {
  let text;
  try { text = JSON.stringify(value); } catch { text = String(value); }
  if (text === undefined) text = "undefined";
  return text.length > max ? text.slice(0, max - 1) + "…" : text;
}

// Runs `fn` at most once per animation frame, however often it is asked for.
export function frameScheduler(fn) {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fn(); });
  };
}

// Runs `fn` at most once every `ms`, and once more after the last call: a slider being dragged
// or a log still growing gets answers while it moves, and the final one.
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  return () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
  };
}
