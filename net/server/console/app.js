// The console's entry: routes (#/ the sessions, #/sessions/ID one session, #/start/NAME a new
// session of a served workflow), the token dialog, and opening a session by id prefix.

import {api, auth, setToken} from "./api.js";
import {h, clear} from "./dom.js";
import {renderList} from "./list.js";
import {renderStart} from "./form.js";
import {renderSession} from "./session.js";

const main = document.getElementById("main");
const conn = document.getElementById("conn");
const dialog = document.getElementById("token-dialog");
const tokenInput = document.getElementById("token-input");
let view = null;  // the current view: {dispose()}

export function setConnection(text, kind = "") {
  conn.textContent = text;
  conn.dataset.kind = kind;
}

function askForToken(reason) {
  document.getElementById("token-reason").textContent =
    reason || "This server asks for a token (scaffold serve --auth jwt).";
  tokenInput.value = auth.token;
  if (!dialog.open) dialog.showModal();
  tokenInput.focus();
}

let asking = false;
auth.onUnauthorized = message => {
  if (asking) return;
  asking = true;
  if (view && view.dispose) view.dispose();
  view = null;
  clear(main, h("section", {class: "empty", id: "need-token"},
    h("h1", {text: "A token is needed"}),
    h("p", {text: message || "The server refused the request without a valid token."}),
    h("button", {class: "primary", onclick: () => askForToken(message)}, "Enter a token")));
  askForToken(message ? `The server says: ${message}` : "");
};

document.getElementById("token-button").addEventListener("click", () => askForToken());
document.getElementById("token-form").addEventListener("submit", () => {
  setToken(tokenInput.value);
  asking = false;
  route();
});
document.getElementById("token-clear").addEventListener("click", () => {
  setToken("");
  tokenInput.value = "";
  dialog.close();
  asking = false;
  route();
});
document.getElementById("token-cancel").addEventListener("click", () => dialog.close());

document.getElementById("open-form").addEventListener("submit", async e => {
  e.preventDefault();
  const input = document.getElementById("open-id");
  const prefix = input.value.trim();
  if (!prefix) return;
  try {
    const {sessions} = await api("GET", "/sessions");
    const found = sessions.filter(s => s.sessionId.startsWith(prefix));
    if (found.length === 1) {
      input.value = "";
      location.hash = `#/sessions/${found[0].sessionId}`;
    } else {
      input.setCustomValidity(found.length ? `${found.length} sessions start with ${prefix}` :
                                             `no session starts with ${prefix}`);
      input.reportValidity();
      setTimeout(() => input.setCustomValidity(""), 2500);
    }
  } catch (err) {
    setConnection(err.message, "error");
  }
});

function route() {
  if (view && view.dispose) view.dispose();
  view = null;
  asking = false;
  const hash = location.hash || "#/";
  let m;
  if ((m = hash.match(/^#\/sessions\/([^/?#]+)/))) {
    view = renderSession(main, decodeURIComponent(m[1]));
  } else if ((m = hash.match(/^#\/start\/([^/?#]+)/))) {
    view = renderStart(main, decodeURIComponent(m[1]));
  } else {
    view = renderList(main);
  }
  main.focus({preventScroll: true});
}

window.addEventListener("hashchange", route);
route();
