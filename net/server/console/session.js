// #/sessions/ID: one session, live. Its log arrives over the WebSocket from position 1 (and
// after a reconnect, from the position after the last one seen) and is folded into a model;
// panels redraw at most once per frame, and only those whose part of the model changed.

import {api, followSession, sessionPath} from "./api.js";
import {h, clear, fmtTime, fmtCount, fmtCost, fmtUsageCost, short, frameScheduler, throttle} from "./dom.js";
import {setConnection} from "./app.js";
import {SessionModel} from "./model.js";
import {renderTimeline, ActivityView} from "./timeline.js";
import {drawGraph} from "./graph.js";
import {jsonTree} from "./json_tree.js";
import {EventList} from "./event_list.js";
import {renderAsks} from "./ask.js";

const TABS = ["graph", "state", "events", "usage"];

export function renderSession(main, id) {
  let disposed = false;
  const model = new SessionModel();
  const asks = new Map();
  let info = null;
  let graph = null;
  let follow = null;
  let statePosition = null;  // null: follow the latest position
  let usage = null;

  const title = h("h1", {class: "session-title"}, h("span", {class: "mono", title: id}, short(id)));
  const status = h("span", {class: "badge", id: "session-status"}, "…");
  const meta = h("p", {class: "muted", id: "session-meta"});
  const tokens = h("span", {class: "tokens", id: "session-tokens"});
  const pause = h("button", {type: "button", id: "pause", onclick: () => act("pause")}, "Pause");
  const resume = h("button", {type: "button", id: "resume", onclick: () => act("resume")}, "Resume");
  const fork = h("button", {type: "button", id: "fork", onclick: () => forkHere()}, "Fork");
  const del = h("button", {type: "button", class: "danger", id: "delete", onclick: () => remove()}, "Delete");
  const notice = h("p", {class: "notice", role: "status", id: "session-notice"});
  const asksBox = h("div", {id: "asks"});
  const outcome = h("div", {id: "outcome"});
  const timelineBox = h("div", {class: "timeline", id: "timeline"});
  const activityBox = h("div", {});
  const activity = new ActivityView(activityBox);

  // Tabs: graph, state (time travel), events, usage.
  const panels = {};
  const tabButtons = {};
  let tab = sessionStorage.getItem("scaffold.tab") || "graph";
  const tabList = h("div", {class: "tabs", role: "tablist", "aria-label": "Session views"},
    TABS.map(name => (tabButtons[name] = h("button", {type: "button", role: "tab", id: `tab-${name}`,
      "aria-controls": `panel-${name}`, onclick: () => show(name), onkeydown: e => tabKey(e, name)}, name))));
  for (const name of TABS) panels[name] = h("section", {role: "tabpanel", id: `panel-${name}`, "aria-labelledby": `tab-${name}`, class: "tab-panel"});

  // State: a slider over the log.
  const slider = h("input", {type: "range", id: "state-slider", min: 0, max: 0, value: 0, step: 1,
                             "aria-label": "Position in the log", oninput: () => { setPosition(Number(slider.value), false); }});
  const positionLabel = h("output", {id: "state-position", for: "state-slider"});
  const latest = h("button", {type: "button", class: "small", id: "state-latest", onclick: () => setPosition(null, true)}, "Latest");
  const stateView = h("div", {id: "state-view"});
  const forkAt = h("button", {type: "button", id: "fork-here", onclick: () => forkHere()}, "Fork at this position");
  panels.state.append(h("div", {class: "toolbar"}, slider, positionLabel, latest, forkAt), stateView);
  const eventList = new EventList(panels.events, e => { show("state"); setPosition(e.position, true); }, stateAt);
  const usageBox = h("div", {id: "usage"});
  panels.usage.append(usageBox);
  const graphBox = h("div", {class: "graph-box", id: "graph"});
  panels.graph.append(graphBox);

  clear(main,
    h("p", {}, h("a", {href: "#/"}, "← Sessions")),
    h("section", {class: "panel session-head"},
      h("div", {class: "row-between"}, h("div", {}, title, " ", status), h("div", {class: "buttons"}, pause, resume, fork, del)),
      meta, tokens, notice),
    asksBox, outcome,
    h("div", {class: "columns"},
      h("div", {class: "column"},
        h("section", {class: "panel"}, h("h2", {}, "Phases"), timelineBox),
        h("section", {class: "panel"}, h("h2", {}, "Agents"), activityBox)),
      h("div", {class: "column"}, h("section", {class: "panel"}, tabList, Object.values(panels)))));

  function show(name) {
    tab = name;
    sessionStorage.setItem("scaffold.tab", name);
    for (const t of TABS) {
      tabButtons[t].setAttribute("aria-selected", t === name ? "true" : "false");
      tabButtons[t].tabIndex = t === name ? 0 : -1;
      panels[t].hidden = t !== name;
    }
    if (name === "state") loadState();
    if (name === "usage") loadUsage();
    if (name === "events") eventList.draw();
  }
  function tabKey(e, name) {
    const i = TABS.indexOf(name);
    let j = null;
    if (e.key === "ArrowRight") j = (i + 1) % TABS.length;
    if (e.key === "ArrowLeft") j = (i + TABS.length - 1) % TABS.length;
    if (j === null) return;
    e.preventDefault();
    show(TABS[j]);
    tabButtons[TABS[j]].focus();
  }

  async function stateAt(position) {
    const r = await api("GET", sessionPath(id, `/state?position=${Math.max(0, position)}`));
    return r.state;
  }

  let stateRequest = 0;
  const loadState = throttle(async () => {
    if (tab !== "state" || disposed) return;
    const position = statePosition === null ? model.lastPosition : statePosition;
    const mine = ++stateRequest;
    try {
      const r = await api("GET", sessionPath(id, `/state?position=${position}`));
      if (mine !== stateRequest || disposed) return;
      clear(stateView, h("p", {class: "muted", id: "state-caption"}, `State at position ${r.position}` +
        (statePosition === null ? " (latest)" : "")), jsonTree(r.state));
      stateView.dataset.position = String(r.position);
    } catch (err) {
      clear(stateView, h("p", {class: "error"}, err.message));
    }
  }, 150);

  function setPosition(position, moveSlider) {
    statePosition = position;
    const shown = statePosition === null ? model.lastPosition : statePosition;
    if (moveSlider || statePosition === null) slider.value = String(shown);
    positionLabel.textContent = `${fmtCount(shown)} / ${fmtCount(model.lastPosition)}`;
    forkAt.textContent = `Fork at position ${shown}`;
    loadState();
  }

  async function loadUsage() {
    try {
      usage = await api("GET", sessionPath(id, "/usage"));
    } catch { return; }
    if (disposed) return;
    drawUsage();
  }
  const refreshUsage = throttle(loadUsage, 1000);

  function drawUsage() {
    const total = usage && usage.total;
    tokens.textContent = total && total.agentCalls ? `${fmtCount(total.agentCalls)} agent call${total.agentCalls === 1 ? "" : "s"} · ${fmtCount(total.inputTokens)} tokens in · ${fmtCount(total.outputTokens)} out` +
      (total.costUsd !== undefined ? ` · ${fmtCost(total.costUsd)}` : ` · no price for ${total.unpriced.join(", ")}`) : "";
    if (!usage) return;
    const row = (name, t) => h("tr", {},
      h("th", {scope: "row"}, name), h("td", {}, (t.models || []).join(", ")), h("td", {class: "num"}, fmtCount(t.agentCalls)),
      h("td", {class: "num"}, fmtCount(t.inputTokens)), h("td", {class: "num"}, fmtCount(t.outputTokens)),
      h("td", {class: "num"}, fmtUsageCost(t)));
    clear(usageBox, h("table", {class: "usage"},
      h("thead", {}, h("tr", {}, ["Agent", "Model", "Calls", "Tokens in", "Tokens out", "Cost"].map((t, i) => h("th", {scope: "col", class: i > 1 ? "num" : null}, t)))),
      h("tbody", {}, Object.entries(usage.agents).map(([name, t]) => row(name, t))),
      h("tfoot", {}, row("Total", usage.total))));
  }

  async function act(what) {
    notice.textContent = "";
    try {
      await api("POST", sessionPath(id, `/${what}`), {});
      await loadInfo();
    } catch (err) {
      notice.textContent = err.message;
    }
  }

  async function forkHere() {
    const position = statePosition === null ? model.lastPosition : statePosition;
    try {
      const r = await api("POST", sessionPath(id, "/fork"), {position});
      location.hash = `#/sessions/${r.sessionId}`;
    } catch (err) {
      notice.textContent = err.message;
    }
  }

  async function remove() {
    if (!confirm(`Delete session ${short(id)} and its whole log? This cannot be undone.`)) return;
    try {
      await api("DELETE", sessionPath(id));
      location.hash = "#/";
    } catch (err) {
      notice.textContent = err.message;
    }
  }

  async function loadInfo() {
    try {
      info = await api("GET", sessionPath(id));
    } catch (err) {
      if (err.status !== 401) clear(main, h("p", {}, h("a", {href: "#/"}, "← Sessions")),
        h("section", {class: "panel"}, h("h1", {}, "Session not found"), h("p", {class: "error"}, err.message)));
      return false;
    }
    if (disposed) return false;
    drawHead();
    return true;
  }

  function drawHead() {
    if (!info) return;
    // The log says when it ended; the server says whether it is paused (a fork starts paused
    // with no event saying so), and is asked again whenever the log records a change.
    let shown;
    if (model.status === "completed" || model.status === "failed") shown = model.status;
    else if (["paused", "cancelled", "completed", "failed"].includes(info.status)) shown = info.status;
    else shown = model.asks.size ? "waiting" : "running";
    status.textContent = shown;
    status.className = `badge ${shown}`;
    clear(meta, `${info.workflow} · started ${fmtTime(info.createdAt)} · ${fmtCount(model.lastPosition)} events`,
      info.parentSessionId ? [" · forked from ", h("a", {href: `#/sessions/${info.parentSessionId}`, class: "mono"}, short(info.parentSessionId)), ` at ${info.forkPosition}`] : null);
    pause.disabled = !["running", "waiting"].includes(shown);
    resume.disabled = shown !== "paused";
    document.title = `${short(id)} · ${info.workflow} · scaffold`;
  }

  function drawOutcome() {
    if (model.status === "completed") {
      clear(outcome, h("section", {class: "panel outcome completed", id: "result"}, h("h2", {}, "Completed"),
        model.result !== undefined ? h("pre", {}, typeof model.result === "string" ? model.result : JSON.stringify(model.result, null, 2)) : null));
    } else if (model.status === "failed" && model.error) {
      clear(outcome, h("section", {class: "panel outcome failed", id: "result"}, h("h2", {}, "Failed"),
        h("p", {class: "error"}, `${model.error.code || "error"}: ${model.error.message || ""}`, model.error.path ? ` (at ${model.error.path})` : "")));
    } else {
      clear(outcome);
    }
  }

  const draw = frameScheduler(() => {
    if (disposed) return;
    if (model.take("timeline")) {
      renderTimeline(timelineBox, model);
      if (graph) graph.update(model.current, new Map([...model.phaseStats].map(([k, v]) => [k, v.visits])));
    }
    if (model.take("activity")) activity.render(model);
    if (model.take("asks")) {
      renderAsks(asksBox, id, model.asks, asks);
    }
    if (model.take("status")) { drawOutcome(); loadInfo(); }
    if (model.take("usage")) refreshUsage();
    slider.max = String(model.lastPosition);
    if (statePosition === null) setPosition(null, true);
    else positionLabel.textContent = `${fmtCount(statePosition)} / ${fmtCount(model.lastPosition)}`;
    drawHead();
  });

  show(TABS.includes(tab) ? tab : "graph");
  (async () => {
    if (!(await loadInfo())) return;
    try {
      const workflow = await api("GET", sessionPath(id, "/workflow"));
      if (!disposed) {
        graph = drawGraph(graphBox, workflow);
        graph.update(model.current, new Map([...model.phaseStats].map(([k, v]) => [k, v.visits])));
      }
    } catch (err) {
      clear(graphBox, h("p", {class: "error"}, err.message));
    }
    if (disposed) return;
    loadUsage();
    follow = followSession(id, 1, events => {
      if (disposed) return;
      model.add(events);
      eventList.append(events);
      draw();
    }, (state, message) => {
      if (disposed) return;
      setConnection(state === "live" ? "live" : state === "connecting" ? "connecting…" : `offline${message ? `: ${message}` : ""}, reconnecting`,
                    state === "live" ? "live" : "error");
    });
  })();

  // Phase durations of the running visit grow while nothing arrives.
  const ticker = setInterval(() => { if (model.current) renderTimeline(timelineBox, model); }, 1000);

  return {
    dispose() {
      disposed = true;
      clearInterval(ticker);
      if (follow) follow.close();
      for (const v of asks.values()) v.dispose();
      setConnection("", "");
      document.title = "scaffold";
    },
  };
}
