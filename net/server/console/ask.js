// A pending ask as a form of its type: approval (approve or reject, with an optional comment),
// choice (one of its options), text, or JSON checked against its schema; with its timeout
// counting down. Answers go to POST /sessions/:id/input.

import {api, sessionPath} from "./api.js";
import {h, clear} from "./dom.js";
import {schemaForm, problemsFromMessage} from "./form.js";

export function askForm(sessionId, ask) {
  const error = h("p", {class: "field-error", role: "alert"});
  const countdown = h("span", {class: "countdown", "aria-live": "off"});
  const send = async (body, buttons) => {
    error.textContent = "";
    buttons.forEach(b => { b.disabled = true; });
    try {
      await api("POST", sessionPath(sessionId, "/input"), {id: ask.id, ...body});
    } catch (err) {
      buttons.forEach(b => { b.disabled = false; });
      error.textContent = err.message;
      return false;
    }
    return true;
  };
  let body;
  if (ask.type === "approval") {
    const comment = h("input", {type: "text", id: `ask-comment`, placeholder: "Comment (optional)", "aria-label": "Comment"});
    const approve = h("button", {type: "button", class: "primary", id: "ask-approve"}, "Approve");
    const reject = h("button", {type: "button", class: "danger", id: "ask-reject"}, "Reject");
    approve.onclick = () => send({value: comment.value || "yes", approved: true}, [approve, reject]);
    reject.onclick = () => send({value: comment.value || "no", approved: false}, [approve, reject]);
    body = [comment, h("div", {class: "buttons"}, approve, reject)];
  } else if (ask.type === "choice") {
    const name = `choice-${ask.id}`;
    const options = (ask.options || []).map((o, i) => h("label", {class: "option"},
      h("input", {type: "radio", name, value: o, checked: i === 0}), " ", o));
    const submit = h("button", {type: "submit", class: "primary", id: "ask-submit"}, "Answer");
    body = [h("form", {onsubmit: e => {
      e.preventDefault();
      const picked = e.target.querySelector("input:checked");
      if (picked) send({value: picked.value}, [submit]);
    }}, h("fieldset", {}, h("legend", {class: "sr-only"}, "Options"), options), h("div", {class: "buttons"}, submit))];
  } else if (ask.type === "json") {
    const form = schemaForm(ask.schema || {}, "Answer (JSON)");
    const submit = h("button", {type: "submit", class: "primary", id: "ask-submit"}, "Answer");
    body = [h("form", {novalidate: true, onsubmit: async e => {
      e.preventDefault();
      const {value, problems} = form.read();
      if (problems.length) { form.showErrors(problems); return; }
      form.showErrors([]);
      if (!(await send({value}, [submit]))) form.showErrors(problemsFromMessage(error.textContent));
    }}, form.el, h("div", {class: "buttons"}, submit))];
  } else {
    const text = h("textarea", {id: "ask-text", rows: 3, "aria-label": "Answer"});
    const submit = h("button", {type: "submit", class: "primary", id: "ask-submit"}, "Answer");
    body = [h("form", {onsubmit: e => { e.preventDefault(); send({value: text.value}, [submit]); }},
      text, h("div", {class: "buttons"}, submit))];
  }
  const el = h("section", {class: "ask", id: "ask", "aria-labelledby": "ask-title"},
    h("div", {class: "ask-head"}, h("h2", {id: "ask-title"}, `Input requested: ${ask.id}`), countdown),
    h("pre", {class: "prompt"}, ask.prompt || ""), body, error);
  let timer = null;
  if (ask.timeoutMs) {
    const deadline = ask.timestamp + ask.timeoutMs;
    const tick = () => {
      const left = Math.max(0, deadline - Date.now());
      countdown.textContent = left > 0 ? `${Math.ceil(left / 1000)} s left` : "timed out";
      countdown.classList.toggle("urgent", left < 10000);
      if (left > 0) timer = setTimeout(tick, 250);
    };
    tick();
  }
  return {el, dispose() { clearTimeout(timer); }};
}

export function renderAsks(box, sessionId, asks, views) {
  for (const [id, view] of views) {
    if (!asks.has(id)) { view.dispose(); views.delete(id); }
  }
  for (const [id, ask] of asks) {
    if (!views.has(id)) views.set(id, askForm(sessionId, ask));
  }
  clear(box, [...views.values()].map(v => v.el));
}
