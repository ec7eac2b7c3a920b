// The dashboard's code editor: CodeMirror 6 over the Code tab's textarea (textarea[data-code-editor]).
//
// The textarea stays the form field and the no-JavaScript fallback: it is hidden, kept in step
// with the editor on every change (an `input` event, so app.js's drafts see each edit), and
// sent with the form as before. Python and JavaScript/TypeScript are highlighted (token
// classes, coloured by style.css in both themes), everything else is plain text. Tab indents;
// Esc then Tab (or Shift+Tab) leaves the editor, as CodeMirror does by default. A textarea with
// data-line opens with that line selected (go-to-line from a test's stack trace or a syntax
// error); links with data-goto-line move there without reloading. CodeMirror's own styles are
// injected with the page's CSP nonce (data-csp-nonce).
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, highlightSpecialChars,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { indentOnInput, bracketMatching, syntaxHighlighting, indentUnit } from "@codemirror/language";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { classHighlighter } from "@lezer/highlight";
import { python } from "@codemirror/lang-python";
import { javascript } from "@codemirror/lang-javascript";

/** The language of a file name, or null for plain text. */
function languageFor(file) {
  const ext = (file || "").toLowerCase().split(".").pop();
  if (ext === "py") return python();
  if (["js", "mjs", "cjs"].includes(ext)) return javascript();
  if (ext === "jsx") return javascript({ jsx: true });
  if (["ts", "mts", "cts"].includes(ext)) return javascript({ typescript: true });
  if (ext === "tsx") return javascript({ typescript: true, jsx: true });
  return null;
}

/** Selects line `n` (1-based, clamped), scrolls it to the middle and focuses the editor. */
function goToLine(view, n) {
  const doc = view.state.doc;
  const line = doc.line(Math.min(Math.max(1, n | 0), doc.lines));
  view.dispatch({
    selection: { anchor: line.from, head: line.to },
    effects: EditorView.scrollIntoView(line.from, { y: "center" }),
  });
  view.focus();
  const a = document.getElementById("announcer");
  if (a) a.textContent = `Line ${line.number}: ${line.text.trim() || "(empty)"}`;
}

function mount(ta) {
  const label = document.querySelector(`label[for="${ta.id}"]`);
  if (label && !label.id) label.id = `${ta.id}-label`;
  const described = ta.getAttribute("aria-describedby");
  const contentAttrs = {};
  if (label) contentAttrs["aria-labelledby"] = label.id;
  if (described) contentAttrs["aria-describedby"] = described;
  if (ta.getAttribute("aria-invalid")) contentAttrs["aria-invalid"] = ta.getAttribute("aria-invalid");
  const lang = languageFor(ta.dataset.file);
  const extensions = [
    lineNumbers(),
    highlightActiveLineGutter(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    indentOnInput(),
    bracketMatching(),
    highlightActiveLine(),
    highlightSelectionMatches(),
    syntaxHighlighting(classHighlighter),
    indentUnit.of("    "),
    EditorState.tabSize.of(4),
    keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
    EditorView.contentAttributes.of(contentAttrs),
    EditorView.updateListener.of((u) => {
      if (!u.docChanged) return;
      ta.value = u.state.doc.toString();
      ta.dispatchEvent(new Event("input", { bubbles: true }));
    }),
  ];
  if (lang) extensions.push(lang);
  if (ta.dataset.cspNonce) extensions.push(EditorView.cspNonce.of(ta.dataset.cspNonce));
  const wrap = document.createElement("div");
  wrap.className = "code-editor";
  wrap.id = `${ta.id}-cm`;
  ta.insertAdjacentElement("afterend", wrap);
  const view = new EditorView({ state: EditorState.create({ doc: ta.value, extensions }), parent: wrap });
  ta.hidden = true;
  ta.editorView = view;
  // app.js's "Restore my edits" sets the textarea: take its text
  ta.addEventListener("lbx:set", () => {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: ta.value } });
  });
  // a label click focuses the editor, as it would the textarea
  if (label) label.addEventListener("click", (e) => { e.preventDefault(); view.focus(); });
  const line = parseInt(ta.dataset.line || "", 10);
  if (line > 0) goToLine(view, line);
  document.querySelectorAll("a[data-goto-line]").forEach((a) => {
    a.addEventListener("click", (e) => {
      e.preventDefault();
      goToLine(view, parseInt(a.dataset.gotoLine, 10));
    });
  });
  wrap.dataset.ready = "true";
}

document.querySelectorAll("textarea[data-code-editor]").forEach(mount);
