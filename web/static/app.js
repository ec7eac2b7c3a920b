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

  // Tab inserts spaces in code editors.
  document.querySelectorAll("textarea.editor").forEach((ta) => {
    ta.addEventListener("keydown", (e) => {
      if (e.key !== "Tab" || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey) return;
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
