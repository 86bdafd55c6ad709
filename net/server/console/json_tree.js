// A JSON value as a tree of <details>: objects and arrays fold, the first levels open, long
// containers show their first entries with a button for the rest.

import {h} from "./dom.js";

const PAGE = 200;

function leaf(value) {
  const t = value === null ? "null" : typeof value;
  return h("span", {class: `json-${t}`}, JSON.stringify(value));
}

function node(key, value, depth) {
  const label = key === null ? null : h("span", {class: "json-key"}, `${key}: `);
  if (value === null || typeof value !== "object") return h("div", {class: "json-row"}, label, leaf(value));
  const isArray = Array.isArray(value);
  const entries = isArray ? value.map((v, i) => [i, v]) : Object.entries(value);
  const summary = h("summary", {}, label,
    h("span", {class: "json-meta"}, isArray ? `[${entries.length}]` : `{${entries.length}}`));
  const details = h("details", {class: "json-node", open: depth < 2});
  details.append(summary);
  let shown = 0;
  const more = () => {
    const next = entries.slice(shown, shown + PAGE);
    for (const [k, v] of next) details.insertBefore(node(k, v, depth + 1), button);
    shown += next.length;
    if (shown >= entries.length) button.remove();
    else button.textContent = `show ${Math.min(PAGE, entries.length - shown)} more of ${entries.length - shown}`;
  };
  const button = h("button", {type: "button", class: "quiet small", onclick: more});
  details.append(button);
  // Children are built when the node is first opened, so a large state costs what is seen.
  if (details.open) more();
  else details.addEventListener("toggle", () => { if (details.open && shown === 0) more(); });
  return details;
}

export function jsonTree(value) {
  return h("div", {class: "json-tree"}, node(null, value, 0));
}

// Follows an RFC 6901 pointer into `doc`; undefined when it names nothing.
export function atPointer(doc, pointer) {
  if (pointer === "") return doc;
  let cur = doc;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (cur === null || typeof cur !== "object" || !(key in cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}
