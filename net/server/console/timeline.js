// The session's activity: phases with durations and visit counts (the latest visits, and a
// summary per phase), and the agents' invocations, their text as it streams (one text node
// per invocation, grown in place), thinking folded, tool calls with input and output, retries
// and errors. Long sessions show their latest entries with a button for earlier ones.

import {h, clear, fmtDuration, fmtCount, compactJson} from "./dom.js";

const VISITS_SHOWN = 100;

export function renderTimeline(box, model) {
  const stats = [...model.phaseStats].map(([phase, s]) => h("tr", {},
    h("td", {}, phase), h("td", {class: "num"}, fmtCount(s.visits)), h("td", {class: "num"}, fmtDuration(s.totalMs))));
  const visits = model.visits.slice(-VISITS_SHOWN).map(v => {
    const running = v.exitedAt === undefined;
    const ms = (running ? Date.now() : v.exitedAt) - v.enteredAt;
    return h("li", {class: `visit ${running ? "running" : v.reason || ""}`, dataset: {position: v.position}},
      h("span", {class: "phase-name"}, v.phase),
      v.number > 1 ? h("span", {class: "muted"}, ` #${v.number}`) : null,
      h("span", {class: "duration"}, running ? `${fmtDuration(ms)}…` : fmtDuration(ms)),
      v.reason === "error" ? h("span", {class: "badge failed"}, "error") : null,
      v.next ? h("span", {class: "muted"}, ` → ${v.next}`) : null);
  });
  const hidden = model.visits.length - visits.length;
  clear(box,
    h("table", {class: "phase-stats"}, h("thead", {}, h("tr", {},
      h("th", {scope: "col"}, "Phase"), h("th", {scope: "col", class: "num"}, "Visits"), h("th", {scope: "col", class: "num"}, "Time"))),
      h("tbody", {}, stats)),
    hidden > 0 ? h("p", {class: "muted"}, `${fmtCount(hidden)} earlier visits not shown`) : null,
    h("ol", {class: "visits", id: "visits"}, visits));
}

function toolView(t) {
  return h("details", {class: `tool${t.isError ? " error" : ""}`},
    h("summary", {}, h("span", {class: "mono"}, t.name || t.id || "tool"),
      " ", h("span", {class: "muted"}, compactJson(t.input, 80)),
      "output" in t ? h("span", {class: t.isError ? "badge failed" : "badge completed"}, t.isError ? "error" : "ok")
                    : h("span", {class: "badge running"}, "running")),
    h("div", {class: "kv"}, h("span", {class: "muted"}, "input"), h("pre", {}, JSON.stringify(t.input, null, 2))),
    "output" in t ? h("div", {class: "kv"}, h("span", {class: "muted"}, "output"),
      h("pre", {}, typeof t.output === "string" ? t.output : JSON.stringify(t.output, null, 2))) : null);
}

// Keeps one element per invocation and rewrites only those that changed.
export class ActivityView {
  constructor(box) {
    this.box = box;
    this.limit = 50;
    this.elements = new Map();  // block id -> {el, text, thinking, head, tools}
    this.list = h("div", {class: "activity-list", id: "activity", "aria-live": "off"});
    this.more = h("button", {type: "button", class: "quiet", onclick: () => { this.limit += 200; this.rebuild = true; this.render(this.model); }});
    this.empty = h("p", {class: "muted"}, "No agent has run yet.");
    clear(box, this.more, this.list, this.empty);
    this.rebuild = true;
  }

  render(model) {
    this.model = model;
    const blocks = model.blocks.slice(-this.limit);
    const first = blocks.length ? blocks[0].id : 0;
    if (this.rebuild || [...this.elements.keys()].some(id => id < first)) {
      this.elements.clear();
      this.list.replaceChildren();
      this.rebuild = false;
      for (const b of blocks) b.dirty = true;
    }
    for (const b of blocks) {
      let v = this.elements.get(b.id);
      if (!v) {
        v = this.make(b);
        this.elements.set(b.id, v);
        this.list.append(v.el);
      }
      if (b.dirty) { this.update(b, v); b.dirty = false; }
    }
    const hidden = model.blocks.length - blocks.length;
    this.more.hidden = hidden <= 0;
    this.more.textContent = `Show earlier invocations (${fmtCount(hidden)} more)`;
    this.empty.hidden = model.blocks.length > 0;
  }

  make(b) {
    const head = h("div", {class: "block-head"});
    const thinking = h("details", {class: "thinking", hidden: true}, h("summary", {}, "thinking"), h("pre", {}));
    const textNode = document.createTextNode("");
    const text = h("div", {class: "text"}, textNode);
    const tools = h("div", {class: "tools"});
    const extra = h("div", {class: "extra"});
    const el = h("article", {class: "block", dataset: {agent: b.agent}}, head, thinking, text, tools, extra);
    return {el, head, thinking, textNode, tools, extra, toolCount: -1};
  }

  update(b, v) {
    v.el.classList.toggle("running", b.status === "running");
    v.el.classList.toggle("failed", b.status === "failed");
    clear(v.head,
      h("strong", {}, b.agent), b.index !== undefined && b.index !== null ? h("span", {class: "muted"}, ` [${b.index}]`) : null,
      b.phase ? h("span", {class: "muted"}, ` in ${b.phase}`) : null,
      b.model ? h("span", {class: "chip"}, b.model) : null,
      b.status === "running" ? h("span", {class: "badge running"}, "streaming") : null,
      b.durationMs !== undefined ? h("span", {class: "muted"}, ` ${fmtDuration(b.durationMs)}`) : null,
      b.usage ? h("span", {class: "muted"}, ` · ${fmtCount((b.usage.inputTokens || 0) + (b.usage.cacheReadTokens || 0) + (b.usage.cacheWriteTokens || 0))} in · ${fmtCount(b.usage.outputTokens)} out`) : null);
    if (b.thinking) {
      v.thinking.hidden = false;
      v.thinking.lastChild.textContent = b.thinking;
    }
    if (v.textNode.data !== b.text) {
      // Deltas only add to the end: append what is new rather than rewrite the node.
      if (b.text.startsWith(v.textNode.data)) v.textNode.appendData(b.text.slice(v.textNode.data.length));
      else v.textNode.data = b.text;
    }
    if (!b.text && b.output !== undefined && typeof b.output !== "string") {
      v.textNode.data = JSON.stringify(b.output, null, 2);
      v.el.querySelector(".text").classList.add("mono");
    }
    if (v.toolCount !== b.tools.length || b.tools.some(t => !t.shown && "output" in t)) {
      clear(v.tools, b.tools.map(t => { if ("output" in t) t.shown = true; return toolView(t); }));
      v.toolCount = b.tools.length;
    }
    clear(v.extra, b.retries.map(r => h("p", {class: "retry"},
      `retry ${r.attempt}: ${r.reason}, after ${fmtDuration(r.delayMs)}`)));
  }
}
