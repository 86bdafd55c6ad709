// The sessions: a list kept fresh every two seconds, filtered by status and workflow, with
// tokens and cost fetched for the rows shown (only again when a row has new events), and the
// served workflows with a button to start each.

import {api, sessionPath} from "./api.js";
import {h, clear, fmtTime, fmtAgo, fmtCount, fmtUsageCost, short} from "./dom.js";
import {setConnection} from "./app.js";

const STATUSES = ["running", "waiting", "paused", "completed", "failed", "cancelled"];
const MAX_ROWS = 200;

// A row's tokens and cost cells; empty until the session's usage is known.
function usageCells(total) {
  return [h("td", {class: "num"}, total ? fmtCount(total.inputTokens + total.outputTokens) : ""),
          h("td", {class: "num"}, total ? fmtUsageCost(total) : "")];
}

export function renderList(main) {
  let timer = null;
  let disposed = false;
  const usage = new Map();  // sessionId -> {eventCount, total}
  const filters = {status: sessionStorage.getItem("scaffold.filter.status") || "",
                   workflow: sessionStorage.getItem("scaffold.filter.workflow") || ""};

  const statusSelect = h("select", {id: "filter-status", "aria-label": "Filter by status",
                                    onchange: e => { filters.status = e.target.value; save(); draw(); }},
    h("option", {value: ""}, "every status"),
    STATUSES.map(s => h("option", {value: s, selected: filters.status === s}, s)));
  const workflowSelect = h("select", {id: "filter-workflow", "aria-label": "Filter by workflow",
                                      onchange: e => { filters.workflow = e.target.value; save(); draw(); }},
    h("option", {value: ""}, "every workflow"));
  const tbody = h("tbody", {id: "session-rows"});
  const summary = h("p", {class: "muted", id: "session-count"});
  const workflowsBox = h("div", {class: "workflows", id: "workflows"});
  clear(main,
    h("section", {class: "panel"},
      h("div", {class: "panel-head"}, h("h1", {text: "Sessions"}), summary,
        h("div", {class: "filters"}, statusSelect, workflowSelect))),
    h("div", {class: "table-wrap"},
      h("table", {class: "sessions"},
        h("thead", {}, h("tr", {},
          ["Session", "Workflow", "Status", "Started", "Last event", "Events", "Tokens", "Cost"]
            .map((t, i) => h("th", {scope: "col", class: i >= 5 ? "num" : null}, t)))),
        tbody)),
    h("section", {class: "panel"}, h("h2", {text: "Start a session"}), workflowsBox));

  function save() {
    sessionStorage.setItem("scaffold.filter.status", filters.status);
    sessionStorage.setItem("scaffold.filter.workflow", filters.workflow);
  }

  let sessions = [];
  function draw() {
    const names = [...new Set(sessions.map(s => s.workflow))].sort();
    const current = filters.workflow;
    clear(workflowSelect, h("option", {value: ""}, "every workflow"),
      names.map(n => h("option", {value: n, selected: n === current}, n)));
    const shown = sessions
      .filter(s => (!filters.status || s.status === filters.status) &&
                   (!filters.workflow || s.workflow === filters.workflow))
      .sort((a, b) => (b.createdAt || 0) - (a.createdAt || 0));
    summary.textContent = `${fmtCount(shown.length)} of ${fmtCount(sessions.length)} sessions`;
    const rows = shown.slice(0, MAX_ROWS).map(s => {
      const u = usage.get(s.sessionId);
      const total = u && u.total;
      return h("tr", {dataset: {id: s.sessionId}},
        h("td", {}, h("a", {href: `#/sessions/${s.sessionId}`, class: "mono", title: s.sessionId}, short(s.sessionId))),
        h("td", {}, s.workflow),
        h("td", {}, h("span", {class: `badge ${s.status}`}, s.status)),
        h("td", {}, fmtTime(s.createdAt)),
        h("td", {title: fmtTime(s.lastEventAt)}, fmtAgo(s.lastEventAt)),
        h("td", {class: "num"}, fmtCount(s.eventCount)),
        usageCells(total));
    });
    if (!rows.length) {
      rows.push(h("tr", {}, h("td", {colspan: 8, class: "muted"},
        sessions.length ? "No session matches these filters." : "No sessions yet.")));
    }
    clear(tbody, rows);
    for (const s of shown.slice(0, MAX_ROWS)) fetchUsage(s);
  }

  async function fetchUsage(s) {
    const known = usage.get(s.sessionId);
    if (known && known.eventCount === s.eventCount) return;
    usage.set(s.sessionId, {eventCount: s.eventCount, total: known && known.total});
    try {
      const u = await api("GET", sessionPath(s.sessionId, "/usage"));
      usage.set(s.sessionId, {eventCount: s.eventCount, total: u.total});
      const row = tbody.querySelector(`tr[data-id="${CSS.escape(s.sessionId)}"]`);
      if (row && !disposed) {
        const [tokens, cost] = usageCells(u.total);
        row.children[6].replaceWith(tokens);
        row.children[7].replaceWith(cost);
      }
    } catch { /* shown without usage */ }
  }

  async function refresh() {
    try {
      const data = await api("GET", "/sessions");
      if (disposed) return;
      sessions = data.sessions;
      setConnection("", "");
      draw();
    } catch (err) {
      if (err.status === 401) return;
      setConnection(err.message, "error");
    }
    if (!disposed) timer = setTimeout(refresh, 2000);
  }

  async function loadWorkflows() {
    try {
      const {workflows} = await api("GET", "/workflows");
      if (disposed) return;
      clear(workflowsBox, workflows.length ? workflows.map(w =>
        h("div", {class: "workflow-card"},
          h("div", {}, h("strong", {}, w.name), h("p", {class: "muted"}, w.description || "")),
          h("a", {class: "button primary", href: `#/start/${encodeURIComponent(w.name)}`,
                  id: `start-${w.name}`}, "Start…"))) :
        h("p", {class: "muted"}, "This server serves no workflows (scaffold serve --workflows DIR)."));
    } catch { /* the list shows the error */ }
  }

  refresh();
  loadWorkflows();
  return {dispose() { disposed = true; clearTimeout(timer); }};
}
