// lambdabox dashboard: small progressive enhancements. Every page works without them.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  // On a narrow screen the tab row scrolls: keep the current tab in view.
  const current = document.querySelector(".tabs [aria-current]");
  if (current) current.scrollIntoView({ block: "nearest", inline: "center" });

  // Destructive actions ask first.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (e) => {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
  document.querySelectorAll("button[data-confirm]").forEach((b) => {
    b.addEventListener("click", (e) => {
      if (!window.confirm(b.dataset.confirm)) e.preventDefault();
    });
  });

  // Copy buttons: the value of the input they name.
  document.querySelectorAll("button[data-copy]").forEach((b) => {
    b.addEventListener("click", () => {
      const el = document.getElementById(b.dataset.copy);
      if (!el) return;
      const done = () => { b.textContent = "Copied"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(el.value).then(done, () => { el.select(); });
      } else {
        el.select();
        if (document.execCommand("copy")) done();
      }
    });
  });

  // Create function: show the chosen code source; starter code follows the runtime.
  const sources = document.querySelectorAll("input[name=source]");
  const showSource = () => {
    const chosen = document.querySelector("input[name=source]:checked");
    document.querySelectorAll("[data-source]").forEach((el) => {
      el.classList.toggle("shown", chosen && el.dataset.source === chosen.value);
    });
  };
  sources.forEach((r) => r.addEventListener("change", showSource));
  if (sources.length) showSource();
  const runtime = document.getElementById("runtime");
  const code = document.getElementById("code");
  const handler = document.getElementById("handler");
  if (runtime && code && handler) {
    const hint = document.getElementById("upload-hint");
    runtime.addEventListener("change", () => {
      const r = runtime.value;
      const family = ["nodejs", "ruby", "java", "provided"].find((f) => r.startsWith(f)) || "python";
      const starters = [code.dataset.python, code.dataset.node, code.dataset.ruby];
      const starter = { nodejs: code.dataset.node, ruby: code.dataset.ruby }[family] || code.dataset.python;
      if (starters.includes(code.value) || code.value.trim() === "") code.value = starter;
      const handlers = {
        nodejs: "index.handler",
        java: "example.Handler::handleRequest",
        provided: "bootstrap",
      };
      const defaults = ["lambda_function.lambda_handler", ...Object.values(handlers), ""];
      if (defaults.includes(handler.value)) {
        handler.value = handlers[family] || "lambda_function.lambda_handler";
      }
      const upload = family === "java" || family === "provided";
      if (hint) hint.textContent = upload ? hint.dataset[family] : "";
      if (upload) {
        const zip = document.querySelector("input[name=source][value=zip]");
        if (zip) zip.checked = true;
        showSource();
      }
    });
  }

  // Tab inserts spaces in code editors; Esc releases the keyboard, so the next Tab (or
  // Shift+Tab) moves focus on, as in CodeMirror.
  document.querySelectorAll("textarea.editor").forEach((ta) => {
    let released = false;
    ta.addEventListener("blur", () => { released = false; });
    ta.addEventListener("keydown", (e) => {
      if (e.key === "Escape") { released = true; return; }
      if (e.key !== "Tab") { released = false; return; }
      if (released || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return;
      e.preventDefault();
      const s = ta.selectionStart;
      ta.setRangeText("    ", s, ta.selectionEnd, "end");
    });
  });

  // Logs: live tail over server-sent events.
  const toggle = document.getElementById("tail-toggle");
  const lines = document.getElementById("log-lines");
  const status = document.getElementById("tail-status");
  if (toggle && lines) {
    let source = null;
    const stop = () => {
      if (source) source.close();
      source = null;
      toggle.textContent = "Start live tail";
      status.textContent = "";
    };
    toggle.addEventListener("click", () => {
      if (source) return stop();
      source = new EventSource(toggle.dataset.src);
      toggle.textContent = "Stop live tail";
      status.textContent = "Live tail: connecting…";
      source.onopen = () => { status.textContent = "Live tail: waiting for new log events…"; };
      source.onerror = () => { status.textContent = "Live tail: reconnecting…"; };
      source.onmessage = (m) => {
        const e = JSON.parse(m.data);
        const none = document.getElementById("no-events");
        if (none) none.remove();
        const ts = document.createElement("span");
        ts.className = "ts";
        ts.textContent = e.time;
        lines.append(ts, " " + e.message + "\n");
        lines.scrollTop = lines.scrollHeight;
        status.textContent = "Live tail: streaming";
      };
    });
  }
});

// --- issue 24: feedback, announcements, drafts -------------------------------------------

// Tell screen readers what a page came back with (flashes, results, errors), and put the
// keyboard on the first field with an error.
document.addEventListener("DOMContentLoaded", () => {
  const announcer = document.getElementById("announcer");
  const said = [...document.querySelectorAll(".flash, .field-error, [data-announce], #error-message")]
    .map((el) => el.textContent.trim()).filter(Boolean);
  if (announcer && said.length) setTimeout(() => { announcer.textContent = said.join(" "); }, 150);
  const invalid = document.querySelector("[aria-invalid=true]");
  if (invalid) invalid.focus();
});

// Busy feedback: a form being sent disables its buttons (so it is not sent twice) and, when
// the answer takes longer than 300 ms, shows what is happening on the button it was sent by.
function announce(text) {
  const a = document.getElementById("announcer");
  if (a) a.textContent = text;
}
document.addEventListener("submit", (e) => {
  const form = e.target;
  if (e.defaultPrevented || !(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  const by = e.submitter;
  const label = (by && by.dataset.busy) || form.dataset.busy || "Working…";
  // disabled after the browser has read the form (a disabled submitter would not be sent)
  setTimeout(() => {
    form.setAttribute("aria-busy", "true");
    form.querySelectorAll("button[type=submit], button:not([type])").forEach((b) => {
      b.disabled = true;
      b.setAttribute("aria-disabled", "true");
    });
  }, 0);
  form._busyTimer = setTimeout(() => {
    if (by) {
      by.dataset.idleText = by.textContent;
      by.textContent = label;
      by.classList.add("busy");
    }
    let bar = form.querySelector("progress.busy-bar");
    if (!bar) {
      bar = document.createElement("progress");
      bar.className = "busy-bar";
      bar.setAttribute("aria-label", label);
      (by || form).insertAdjacentElement(by ? "afterend" : "beforeend", bar);
    }
    announce(label);
  }, 300);
}, false);
// Back/forward cache: a page shown again is not busy any more.
window.addEventListener("pageshow", (e) => {
  if (!e.persisted) return;
  document.querySelectorAll("form[aria-busy]").forEach((form) => {
    clearTimeout(form._busyTimer);
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button").forEach((b) => {
      b.disabled = false;
      b.removeAttribute("aria-disabled");
      if (b.dataset.idleText) b.textContent = b.dataset.idleText;
      b.classList.remove("busy");
    });
    form.querySelectorAll("progress.busy-bar").forEach((p) => p.remove());
  });
});

// Drafts: code and events typed into a box with data-draft are kept in this browser until the
// server has them, so a deploy that lands on the sign-in page (the session ended) loses
// nothing: back on the page, the draft is offered again.
document.addEventListener("DOMContentLoaded", () => {
  let store;
  try { store = window.localStorage; } catch (_) { return; }
  if (!store) return;
  document.querySelectorAll("textarea[data-draft]").forEach((ta) => {
    const key = "lambdabox-draft:" + ta.dataset.draft;
    const server = ta.value;
    const save = () => {
      if (ta.value === server) { store.removeItem(key); return; }
      try { store.setItem(key, JSON.stringify({ value: ta.value, base: server, at: Date.now() })); } catch (_) { /* full */ }
    };
    let timer = null;
    ta.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(save, 250); });
    if (ta.form) ta.form.addEventListener("submit", save);
    let draft = null;
    try { draft = JSON.parse(store.getItem(key) || "null"); } catch (_) { draft = null; }
    if (ta.hasAttribute("data-draft-saved") || !draft || draft.value === server) {
      store.removeItem(key);
      return;
    }
    const box = document.createElement("div");
    box.className = "draft-banner";
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", "Unsaved draft");
    const when = new Date(draft.at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    const p = document.createElement("p");
    p.id = "draft-note";
    p.textContent = `You have edits from ${when} that were not saved (the session may have ended before they were sent).` +
      (draft.base !== server ? " The saved version changed since you started them." : "");
    const restore = document.createElement("button");
    restore.type = "button";
    restore.id = "draft-restore";
    restore.textContent = "Restore my edits";
    const discard = document.createElement("button");
    discard.type = "button";
    discard.id = "draft-discard";
    discard.textContent = "Discard them";
    // the code editor (editor.js) over a textarea takes its text from an lbx:set event
    const focusBox = () => (ta.editorView || ta).focus();
    restore.addEventListener("click", () => {
      ta.value = draft.value;
      ta.dispatchEvent(new Event("lbx:set"));
      box.remove();
      focusBox();
      announce("Your edits are back in the editor. They are not saved until you send the form.");
    });
    discard.addEventListener("click", () => {
      store.removeItem(key);
      box.remove();
      focusBox();
      announce("Draft discarded.");
    });
    box.append(p, restore, " ", discard);
    ta.insertAdjacentElement("beforebegin", box);
    announce(p.textContent);
  });
});

// Environment variables: "Add variable" copies the last (empty) row of the table with the
// next index (without JavaScript the page has two empty rows; save to get more).
document.addEventListener("DOMContentLoaded", () => {
  const add = document.getElementById("env-add");
  const body = document.querySelector("#env-table tbody");
  if (!add || !body) return;
  add.hidden = false;
  add.addEventListener("click", () => {
    const rows = body.querySelectorAll("tr.env-row");
    const last = rows[rows.length - 1];
    if (!last) return;
    const n = rows.length;
    const row = last.cloneNode(true);
    row.querySelectorAll("input").forEach((input) => {
      const field = input.name.replace(/_\d+$/, "");
      input.name = `${field}_${n}`;
      input.id = input.id.replace(/-\d+$/, `-${n}`);
      const what = { env_key: "Name of variable", env_value: "Value of variable", env_secret: "Variable" }[field];
      input.setAttribute("aria-label", field === "env_secret" ? `${what} ${n + 1} is secret` : `${what} ${n + 1}`);
      if (input.type === "checkbox") input.checked = false;
      else { input.value = ""; input.type = field === "env_value" ? "text" : input.type; input.removeAttribute("placeholder"); }
    });
    body.append(row);
    row.querySelector("input").focus();
  });
});
