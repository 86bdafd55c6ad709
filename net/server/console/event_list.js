// The raw events: a virtual list (only the rows in view exist, so 100,000 events scroll as
// lightly as 100), filtered by name, with the selected event's JSON and, for a state:intent,
// each change shown before → after.

import {h, clear, fmtTime, compactJson, frameScheduler} from "./dom.js";
import {atPointer} from "./json_tree.js";

const ROW = 24;

export class EventList {
  // onSelect(event) is told of the chosen event (to move the state slider there); stateAt(N)
  // resolves to the state at position N (for an intent's before and after).
  constructor(box, onSelect, stateAt) {
    this.onSelect = onSelect;
    this.stateAt = stateAt;
    this.events = [];
    this.shown = [];   // indexes into events matching the filter
    this.filter = "";
    this.selected = null;
    this.filterInput = h("input", {type: "search", id: "event-filter", placeholder: "Filter by name (e.g. state:, text:delta)",
      "aria-label": "Filter events by name", oninput: e => { this.filter = e.target.value.trim(); this.refilter(); }});
    this.count = h("span", {class: "muted", id: "event-count"});
    this.spacer = h("div", {class: "spacer"});
    this.rows = h("div", {class: "rows"});
    this.viewport = h("div", {class: "event-viewport", tabindex: "0", role: "listbox", "aria-label": "Events",
      onscroll: () => this.draw(), onkeydown: e => this.key(e)}, this.spacer, this.rows);
    this.detail = h("div", {class: "event-detail", id: "event-detail"}, h("p", {class: "muted"}, "Select an event to see it whole."));
    clear(box, h("div", {class: "toolbar"}, this.filterInput, this.count), this.viewport, this.detail);
    this.follow = true;
    this.grown = false;
    this.drawSoon = frameScheduler(() => { this.draw(this.grown); this.grown = false; });
  }

  matches(e) {
    return !this.filter || e.name.includes(this.filter);
  }

  append(events) {
    const start = this.events.length;
    for (const e of events) this.events.push(e);
    for (let i = start; i < this.events.length; ++i) if (this.matches(this.events[i])) this.shown.push(i);
    this.grown = true;
    this.drawSoon();  // once a frame however many chunks arrive
  }

  refilter() {
    this.shown = [];
    this.events.forEach((e, i) => { if (this.matches(e)) this.shown.push(i); });
    this.viewport.scrollTop = 0;
    this.draw();
  }

  draw(grew = false) {
    const vp = this.viewport;
    const atEnd = vp.scrollTop + vp.clientHeight >= vp.scrollHeight - ROW * 2;
    this.spacer.style.height = `${this.shown.length * ROW}px`;
    if (grew && atEnd && this.follow) vp.scrollTop = vp.scrollHeight;
    const first = Math.max(0, Math.floor(vp.scrollTop / ROW) - 5);
    const last = Math.min(this.shown.length, first + Math.ceil((vp.clientHeight || 400) / ROW) + 10);
    const rows = [];
    for (let i = first; i < last; ++i) {
      const e = this.events[this.shown[i]];
      const row = h("div", {class: `row${this.selected === e ? " selected" : ""}`, role: "option",
                            "aria-selected": this.selected === e ? "true" : "false",
                            style: {top: `${i * ROW}px`}, dataset: {position: e.position},
                            onclick: () => this.select(e)},
        h("span", {class: "pos"}, e.position), h("span", {class: `name n-${e.name.split(":")[0]}`}, e.name),
        h("span", {class: "summary"}, compactJson(e.payload, 140)));
      rows.push(row);
    }
    this.rows.replaceChildren(...rows);
    this.count.textContent = this.filter ? `${this.shown.length} of ${this.events.length}` : `${this.events.length} events`;
  }

  key(e) {
    if (!["ArrowDown", "ArrowUp", "Home", "End"].includes(e.key) || !this.shown.length) return;
    e.preventDefault();
    let i = this.selected ? this.shown.indexOf(this.selected.position - 1) : -1;
    if (e.key === "ArrowDown") i = Math.min(this.shown.length - 1, i + 1);
    if (e.key === "ArrowUp") i = Math.max(0, i - 1);
    if (e.key === "Home") i = 0;
    if (e.key === "End") i = this.shown.length - 1;
    this.select(this.events[this.shown[i]]);
    const top = i * ROW;
    if (top < this.viewport.scrollTop) this.viewport.scrollTop = top;
    if (top + ROW > this.viewport.scrollTop + this.viewport.clientHeight) this.viewport.scrollTop = top + ROW - this.viewport.clientHeight;
  }

  select(e) {
    this.selected = e;
    this.draw();
    const parts = [h("div", {class: "detail-head"},
      h("strong", {}, `#${e.position} ${e.name}`), h("span", {class: "muted"}, ` ${fmtTime(e.timestamp)}`),
      h("button", {type: "button", class: "small", id: "state-here", onclick: () => this.onSelect(e)}, "State at this position"))];
    let changes = null;
    if (e.name === "state:intent") {
      changes = h("table", {class: "changes", id: "intent-changes"},
        h("thead", {}, h("tr", {}, ["Path", "Before", "After"].map(t => h("th", {scope: "col"}, t)))),
        h("tbody", {}, h("tr", {}, h("td", {colspan: 3, class: "muted"}, "Reading the state…"))));
      parts.push(changes);
      this.showChanges(e, changes.lastChild);
    }
    parts.push(h("pre", {class: "event-json"}, JSON.stringify(e, null, 2)));
    clear(this.detail, parts);
  }

  // Each path the intent's patches touch, as it was before the intent and after it.
  async showChanges(e, tbody) {
    try {
      const [before, after] = await Promise.all([this.stateAt(e.position - 1), this.stateAt(e.position)]);
      if (this.selected !== e) return;
      const paths = [...new Set((e.payload.patches || []).map(op => op.path.replace(/\/-$/, "")))];
      const show = v => v === undefined ? "(absent)" : compactJson(v, 400);
      clear(tbody, paths.map(path => h("tr", {},
        h("td", {class: "mono"}, path || "/"),
        h("td", {class: "mono before"}, show(atPointer(before, path))),
        h("td", {class: "mono after"}, show(atPointer(after, path))))));
    } catch (err) {
      clear(tbody, h("tr", {}, h("td", {colspan: 3, class: "error"}, err.message)));
    }
  }
}
