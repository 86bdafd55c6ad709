// Forms generated from a JSON Schema: the start form of a workflow (its input schema) and the
// answer to a json ask. Objects become one field per property; strings, numbers, integers,
// booleans and enums get inputs of their kind; anything else is edited as JSON. Checked here
// for the user's convenience (type, required, enum, bounds, length, pattern); the server checks
// again and its errors, which name JSON paths, are shown next to the field they name.

import {api} from "./api.js";
import {h, clear} from "./dom.js";

function typeOf(schema) {
  if (!schema || typeof schema !== "object") return "json";
  if (Array.isArray(schema.enum)) return "enum";
  const t = Array.isArray(schema.type) ? schema.type.find(x => x !== "null") : schema.type;
  if (["string", "number", "integer", "boolean", "object"].includes(t)) return t;
  return "json";
}

function jsonType(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

// Problems of `value` against `schema`, as [{path, message}]: a subset of draft-07, enough to
// catch mistakes before sending.
export function check(schema, value, path = "") {
  const out = [];
  if (!schema || typeof schema !== "object") return out;
  if (schema.type) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = jsonType(value);
    const ok = types.some(x => x === t || (x === "number" && t === "integer"));
    if (!ok) return [{path, message: `expected ${types.join(" or ")}, got ${t}`}];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some(e => JSON.stringify(e) === JSON.stringify(value)))
    out.push({path, message: `must be one of ${schema.enum.map(e => JSON.stringify(e)).join(", ")}`});
  if (typeof value === "string") {
    const len = [...value].length;
    if (schema.minLength !== undefined && len < schema.minLength)
      out.push({path, message: schema.minLength === 1 ? "must not be empty" : `needs at least ${schema.minLength} characters`});
    if (schema.maxLength !== undefined && len > schema.maxLength)
      out.push({path, message: `takes at most ${schema.maxLength} characters`});
    if (typeof schema.pattern === "string") {
      try {
        if (!new RegExp(schema.pattern, "u").test(value)) out.push({path, message: `must match ${schema.pattern}`});
      } catch { /* the server judges patterns JavaScript cannot read */ }
    }
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum) out.push({path, message: `must be at least ${schema.minimum}`});
    if (schema.maximum !== undefined && value > schema.maximum) out.push({path, message: `must be at most ${schema.maximum}`});
  }
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const key of schema.required || []) {
      if (!(key in value)) out.push({path: `${path}/${key}`, message: "is required"});
    }
    for (const [key, sub] of Object.entries(schema.properties || {})) {
      if (key in value) out.push(...check(sub, value[key], `${path}/${key}`));
    }
  }
  if (Array.isArray(value) && schema.items && typeof schema.items === "object" && !Array.isArray(schema.items)) {
    value.forEach((item, i) => out.push(...check(schema.items, item, `${path}/${i}`)));
  }
  return out;
}

let fieldCounter = 0;

// A field for one value of `schema`: {el, read() -> {value, present, error?}, showError(msg)}.
function field(schema, label, required) {
  const id = `field-${++fieldCounter}`;
  const kind = typeOf(schema);
  const hint = schema && schema.description ? h("p", {class: "hint", id: `${id}-hint`}, schema.description) : null;
  const error = h("p", {class: "field-error", id: `${id}-error`, role: "alert"});
  let input;
  if (kind === "enum") {
    input = h("select", {id}, required ? null : h("option", {value: ""}, "—"),
      schema.enum.map((v, i) => h("option", {value: String(i)}, typeof v === "string" ? v : JSON.stringify(v))));
  } else if (kind === "boolean") {
    input = h("input", {id, type: "checkbox", checked: schema.default === true});
  } else if (kind === "number" || kind === "integer") {
    input = h("input", {id, type: "number", step: kind === "integer" ? "1" : "any",
                        value: schema.default ?? ""});
  } else if (kind === "string") {
    const long = !schema.maxLength || schema.maxLength > 120;
    input = long ? h("textarea", {id, rows: 3}) : h("input", {id, type: "text"});
    if (schema.default !== undefined) input.value = schema.default;
  } else {
    input = h("textarea", {id, rows: 4, class: "mono", spellcheck: "false",
                           placeholder: "JSON"});
    if (schema && schema.default !== undefined) input.value = JSON.stringify(schema.default, null, 2);
  }
  input.setAttribute("aria-describedby", `${id}-error${hint ? ` ${id}-hint` : ""}`);
  if (required) input.setAttribute("aria-required", "true");
  const el = h("div", {class: `field ${kind}`},
    h("label", {for: id}, label, required ? h("span", {class: "required", title: "required"}, " *") : null),
    input, hint, error);
  return {
    el, input,
    read() {
      if (kind === "boolean") return {value: input.checked, present: true};
      const text = input.value;
      if (kind === "enum") return text === "" ? {present: false} : {value: schema.enum[Number(text)], present: true};
      if (kind === "number" || kind === "integer") {
        if (text.trim() === "") return {present: false};
        return {value: Number(text), present: true};
      }
      if (kind === "string") return {value: text, present: text !== "" || required};
      if (text.trim() === "") return {present: false};
      try { return {value: JSON.parse(text), present: true}; } catch (e) {
        return {present: true, error: `not JSON: ${e.message}`};
      }
    },
    showError(message) {
      error.textContent = message || "";
      input.setAttribute("aria-invalid", message ? "true" : "false");
    },
  };
}

// A form for a value of `schema`: {el, read() -> {value, problems}, showErrors(problems)}.
export function schemaForm(schema, rootLabel = "Input") {
  const fields = new Map();  // JSON pointer -> field
  let el;
  if (typeOf(schema) === "object" && schema.properties) {
    const required = new Set(schema.required || []);
    el = h("div", {class: "schema-form"});
    for (const [key, sub] of Object.entries(schema.properties)) {
      const f = field(sub, sub.title || key, required.has(key));
      fields.set(`/${key}`, f);
      el.append(f.el);
    }
  } else {
    const f = field(schema || {}, (schema && schema.title) || rootLabel, true);
    fields.set("", f);
    el = h("div", {class: "schema-form"}, f.el);
  }
  return {
    el,
    focus() { const first = fields.values().next().value; if (first) first.input.focus(); },
    read() {
      const problems = [];
      let value;
      if (fields.has("")) {
        const r = fields.get("").read();
        if (r.error) problems.push({path: "", message: r.error});
        value = r.present ? r.value : (typeOf(schema) === "string" ? "" : null);
      } else {
        value = {};
        for (const [pointer, f] of fields) {
          const r = f.read();
          if (r.error) problems.push({path: pointer, message: r.error});
          else if (r.present) value[pointer.slice(1)] = r.value;
        }
      }
      if (!problems.length) problems.push(...check(schema, value));
      return {value, problems};
    },
    // Shows each problem next to its field (the nearest one its path falls in); returns the
    // problems no field took.
    showErrors(problems) {
      for (const f of fields.values()) f.showError("");
      const rest = [];
      for (const p of problems) {
        let pointer = p.path;
        while (pointer && !fields.has(pointer)) pointer = pointer.slice(0, pointer.lastIndexOf("/"));
        const f = fields.get(pointer) || (fields.size === 1 ? fields.values().next().value : null);
        if (f) f.showError(p.message);
        else rest.push(p);
      }
      const firstBad = [...fields.values()].find(f => f.input.getAttribute("aria-invalid") === "true");
      if (firstBad) firstBad.input.focus();
      return rest;
    },
  };
}

// The server's "… schema: /a: expected string; /b: is required" as problems with paths.
export function problemsFromMessage(message, prefix = "") {
  const at = message.lastIndexOf("schema: ");
  const list = at >= 0 ? message.slice(at + 8) : message;
  return list.split("; ").map(part => {
    const m = part.match(/^(\/[^:]*|): (.*)$/s);
    if (m) return {path: m[1].startsWith(prefix) ? m[1].slice(prefix.length) : m[1], message: m[2]};
    return {path: "", message: part};
  });
}

// #/start/NAME: a new session of a served workflow.
export function renderStart(main, name) {
  let disposed = false;
  const box = h("section", {class: "panel start"}, h("p", {class: "muted"}, "Loading the workflow…"));
  clear(main, h("p", {}, h("a", {href: "#/"}, "← Sessions")), box);
  (async () => {
    let workflow;
    try {
      const {workflows} = await api("GET", "/workflows");
      workflow = workflows.find(w => w.name === name);
    } catch (err) {
      if (!disposed) clear(box, h("p", {class: "error"}, err.message));
      return;
    }
    if (disposed) return;
    if (!workflow) {
      clear(box, h("p", {class: "error"}, `This server serves no workflow named ${name}.`));
      return;
    }
    const form = schemaForm(workflow.inputSchema, "Input");
    const general = h("p", {class: "field-error", role: "alert", id: "start-error"});
    const submit = h("button", {type: "submit", class: "primary", id: "start-submit"}, "Start the session");
    const f = h("form", {novalidate: true, onsubmit: async e => {
      e.preventDefault();
      general.textContent = "";
      const {value, problems} = form.read();
      if (problems.length) {
        general.textContent = form.showErrors(problems).map(p => `${p.path || "input"}: ${p.message}`).join("; ");
        return;
      }
      form.showErrors([]);
      submit.disabled = true;
      try {
        const body = {workflow: name};
        if (workflow.inputSchema || value !== null) body.input = value;
        const created = await api("POST", "/sessions", body);
        location.hash = `#/sessions/${created.sessionId}`;
      } catch (err) {
        submit.disabled = false;
        const rest = form.showErrors(err.status === 400 ? problemsFromMessage(err.message) : []);
        general.textContent = err.status === 400 ? rest.map(p => p.message).join("; ") : err.message;
      }
    }}, form.el, general, h("div", {class: "buttons"}, submit));
    clear(box, h("h1", {}, `Start ${workflow.name}`),
      workflow.description ? h("p", {class: "muted"}, workflow.description) : null, f);
    form.focus();
  })();
  return {dispose() { disposed = true; }};
}
