// Browser flows of the dashboard as a console (issue 24), run by run.mjs after its own flows:
// - a keyboard-only walk (no mouse call at all) through create, edit code, test, configure,
//   publish and alias, leaving each editor with Esc then Tab, with the Test button disabled
//   and showing progress while a slow run is under way;
// - unsaved code kept across a session that ended: Deploy goes to sign-in, and back on the
//   Code tab the draft is offered again and deploys;
// - WCAG AA contrast of primary buttons, text and links in both themes;
// - axe-core on every page in both themes (zero critical or serious violations), with a
//   screenshot of every page at desktop and phone width in both themes.

import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

/** The axe-core script: AXE_CORE names it, else the pinned package in node_modules. */
function axeSource() {
  if (process.env.AXE_CORE) return readFileSync(process.env.AXE_CORE, "utf8");
  const require = createRequire(import.meta.url);
  try {
    return readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
  } catch (e) {
    throw new Error(`axe-core is not installed: run (cd tests/browser && npm ci) (${e.message})`);
  }
}

/** Presses Tab until the focused element matches `selector` (a keyboard user's way there). */
async function tabTo(page, selector, max = 120) {
  for (let i = 0; i < max; i += 1) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press("Tab");
  }
  const at = await page.evaluate(() => document.activeElement && document.activeElement.outerHTML.slice(0, 120));
  throw new Error(`Tab never reached ${selector} (focus is on ${at})`);
}

/** Replaces the focused field's text by typing. */
async function typeOver(page, text) {
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.type(text);
}

/** Esc then Tab must move focus out of the editor `selector`. */
async function escapeEditor(page, selector, assert) {
  await page.keyboard.press("Tab");
  assert(await page.evaluate((s) => document.activeElement.matches(s), selector), `Tab stays in ${selector} (it indents)`);
  assert((await page.inputValue(selector)).endsWith("    "), "Tab indented");
  await page.keyboard.press("Backspace");
  for (let i = 0; i < 3; i += 1) await page.keyboard.press("Backspace");
  await page.keyboard.press("Escape");
  await page.keyboard.press("Tab");
  assert(!(await page.evaluate((s) => document.activeElement.matches(s), selector)), `Esc then Tab leaves ${selector}`);
}

/** In the code editor (CodeMirror): Tab indents the line, Shift+Tab takes it back, and
 * Esc then Tab moves focus out. */
async function escapeCodeEditor(page, assert) {
  const inEditor = () => page.evaluate(() => document.activeElement.matches("#editor-cm .cm-content"));
  const before = await page.inputValue("#editor");
  await page.keyboard.press("Tab");
  assert(await inEditor(), "Tab stays in the code editor (it indents)");
  const indented = await page.inputValue("#editor");
  assert(indented !== before && indented.endsWith("    "), "Tab indented the line (the textarea follows the editor)");
  await page.keyboard.press("Shift+Tab");
  assert((await page.inputValue("#editor")) === before, "Shift+Tab took the indent back");
  await page.keyboard.press("Escape");
  await page.keyboard.press("Tab");
  assert(!(await inEditor()), "Esc then Tab leaves the code editor");
}

/** The 1-based line of the code editor's cursor. */
function cursorLine(page) {
  return page.evaluate(() => {
    const v = document.getElementById("editor").editorView;
    return v.state.doc.lineAt(v.state.selection.main.head).number;
  });
}

const SLOW_CODE = `import time
def lambda_handler(event, context):
    time.sleep(event.get("sleep", 0))
    return {"kb": event.get("k")}
`;

export async function keyboardWalk({ page, url, fn, assert, snap }) {
  await page.goto(url("/ui/functions"));
  // skip link first
  await page.keyboard.press("Tab");
  assert(await page.evaluate(() => document.activeElement.classList.contains("skip-link")), "the first Tab reaches the skip link");
  await page.keyboard.press("Enter");
  assert(await page.evaluate(() => document.activeElement.id === "main"), "the skip link moves focus to the content");
  await tabTo(page, "a[href='/ui/functions/new']");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/ui\/functions\/new$/);
  await tabTo(page, "input[name=name]");
  await page.keyboard.type(fn);
  await tabTo(page, "input[name=timeout]");
  await typeOver(page, "5");
  await tabTo(page, "#code");
  await typeOver(page, SLOW_CODE);
  await escapeEditor(page, "#code", assert);
  await tabTo(page, "#create");
  await page.keyboard.press("Enter");
  await page.waitForSelector("text=Function created.");

  // edit code in CodeMirror: highlighted, numbered lines; Esc then Tab leaves it
  await page.waitForSelector("#editor-cm[data-ready=true] .cm-content");
  assert(await page.isHidden("#editor"), "the textarea gives way to the editor");
  assert((await page.textContent("#editor-cm .tok-keyword")) === "import", "Python is highlighted");
  assert((await page.$$("#editor-cm .cm-lineNumbers .cm-gutterElement")).length >= 4, "lines are numbered");
  await tabTo(page, "#editor-cm .cm-content");
  await page.keyboard.press("Control+End");
  await page.keyboard.type("# edited by keyboard\n");
  await escapeCodeEditor(page, assert);
  await tabTo(page, "#deploy");
  await page.keyboard.press("Enter");
  await page.waitForSelector("text=Deployed.");
  assert((await page.inputValue("#editor")).includes("# edited by keyboard"), "the edit was deployed");

  // test: a slow run keeps the Test button disabled and says what is going on
  await tabTo(page, "nav.tabs a[href$='/test']");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/test$/);
  await tabTo(page, "#event");
  await typeOver(page, '{"k": 7, "sleep": 2}');
  await escapeEditor(page, "#event", assert);
  await tabTo(page, "#run");
  // what the page shows while the run is under way, kept across the navigation that ends it
  await page.evaluate(() => {
    const note = () => {
      const b = document.getElementById("run");
      const seen = {
        disabled: b.disabled,
        busy: b.classList.contains("busy"),
        text: b.textContent,
        bar: document.querySelector("progress.busy-bar") !== null,
        announced: document.getElementById("announcer").textContent,
      };
      if (seen.busy) sessionStorage.setItem("lbx-test-busy", JSON.stringify(seen));
    };
    new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.keyboard.press("Enter");
  await page.waitForSelector("#result h2:has-text('Succeeded')", { timeout: 20_000 });
  const seen = JSON.parse((await page.evaluate(() => sessionStorage.getItem("lbx-test-busy"))) || "null");
  assert(seen && seen.disabled && /Running/.test(seen.text), `Test was disabled and said it was running: ${JSON.stringify(seen)}`);
  assert(seen.bar, "a progress bar was shown");
  assert(/Running/.test(seen.announced), "the run was announced to screen readers");
  assert(JSON.parse(await page.textContent("#result-payload")).kb === 7, "the event reached the function");
  assert(!(await page.evaluate(() => document.getElementById("run").disabled)), "Test is enabled again");

  // configure
  await tabTo(page, "nav.tabs a[href$='/configuration']");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/configuration$/);
  await tabTo(page, "#cfg-handler");
  assert((await page.inputValue("#cfg-handler")) === "lambda_function.lambda_handler", "the handler is editable here");
  await tabTo(page, "input[name=memory]");
  await typeOver(page, "256");
  await tabTo(page, "#save-config");
  await page.keyboard.press("Enter");
  await page.waitForSelector("text=Configuration saved.");

  // publish and alias
  await tabTo(page, "nav.tabs a[href$='/versions']");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/versions$/);
  await tabTo(page, "#publish");
  await page.keyboard.press("Enter");
  await page.waitForSelector("text=Version published.");
  await tabTo(page, "#alias-name");
  await page.keyboard.type("kb");
  await tabTo(page, "#alias-version");
  assert((await page.inputValue("#alias-version")) === "1", "the newest version is preselected");
  await tabTo(page, "#save-alias");
  await page.keyboard.press("Enter");
  await page.waitForSelector("text=Alias saved.");
  assert((await page.textContent("#aliases")).includes("kb"), "the alias is listed");
  // log pane is reachable by keyboard
  await tabTo(page, "nav.tabs a[href$='/logs']");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/logs$/);
  await tabTo(page, "#log-lines");
}

export async function draftAcrossSignIn({ page, context, url, fn, password, assert }) {
  await page.goto(url(`/ui/functions/${fn}/code`));
  await page.waitForSelector("#editor-cm[data-ready=true] .cm-content");
  const edited = `${await page.inputValue("#editor")}# typed before the session ended`;
  await page.click("#editor-cm .cm-content");
  await page.keyboard.press("Control+End");
  await page.keyboard.type("# typed before the session ended");
  assert((await page.inputValue("#editor")) === edited, "the textarea follows the editor");
  // the draft is saved 250 ms after the last key
  await page.waitForFunction(() => Object.keys(localStorage).some((k) => k.startsWith("lambdabox-draft:code:")
    && localStorage.getItem(k).includes("typed before the session ended")));
  // the session ends elsewhere (another tab signs out)
  const other = await context.newPage();
  await other.goto(url("/ui/functions"));
  await other.click("#logout");
  await other.waitForURL(/\/ui\/login$/);
  await other.close();
  await page.click("#deploy");
  await page.waitForURL(/\/ui\/login\?next=/);
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.waitForURL(new RegExp(`/ui/functions/${fn}/code`));
  await page.waitForSelector("#draft-restore");
  assert(!(await page.inputValue("#editor")).includes("typed before the session ended"), "the server has the old code");
  await page.click("#draft-restore");
  assert((await page.inputValue("#editor")) === edited, "the draft is back in the form");
  assert((await page.textContent("#editor-cm .cm-content")).includes("typed before the session ended"), "and in the editor");
  await page.click("#deploy");
  await page.waitForSelector("text=Deployed.");
  await page.reload();
  assert((await page.inputValue("#editor")).includes("typed before the session ended"), "the draft was deployed");
  assert((await page.$("#draft-restore")) === null, "no draft is offered once it is deployed");
}

/** WCAG contrast ratio of two CSS colours, computed in the page. */
async function contrastReport(page) {
  return page.evaluate(() => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const ratio = (a, b) => { const [x, y] = [lum(rgb(a)), lum(rgb(b))].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
    const out = [];
    document.querySelectorAll("button.primary, .button.primary, a, .muted, .hint, .flash, .field-error, .warning").forEach((el) => {
      const cs = getComputedStyle(el);
      if (cs.display === "none" || el.offsetParent === null) return;
      let bgEl = el; let bg = cs.backgroundColor;
      while ((bg === "rgba(0, 0, 0, 0)" || bg === "transparent") && bgEl.parentElement) {
        bgEl = bgEl.parentElement; bg = getComputedStyle(bgEl).backgroundColor;
      }
      if (bg === "rgba(0, 0, 0, 0)") bg = "rgb(255, 255, 255)";
      out.push({ what: el.className || el.tagName, text: el.textContent.trim().slice(0, 30), ratio: ratio(cs.color, bg) });
    });
    return out;
  });
}

export async function contrastAndAxe({ browser, context, url, fn, queue, assert, artifacts }) {
  const dir = join(artifacts, "pages");
  mkdirSync(dir, { recursive: true });
  const axe = axeSource();
  const state = await context.storageState();
  const pages = [
    ["functions", "/ui/functions"], ["create", "/ui/functions/new"],
    ...["code", "test", "configuration", "versions", "logs", "monitoring", "triggers"].map((t) => [t, `/ui/functions/${fn}/${t}`]),
    ["layers", "/ui/layers"], ["schedules", "/ui/schedules"], ["queues", "/ui/queues"], ["queue", `/ui/queues/${queue}`],
    ["apis", "/ui/apis"], ["settings", "/ui/settings"], ["not-found", "/ui/no/such/page"],
  ];
  const failures = [];
  for (const scheme of ["light", "dark"]) {
    for (const [width, height, label] of [[1280, 900, "desktop"], [390, 844, "phone"]]) {
      const ctx = await browser.newContext({ viewport: { width, height }, colorScheme: scheme, storageState: state, bypassCSP: true });
      const p = await ctx.newPage();
      const all = [["login", "/ui/login", true], ...pages.map(([n, u]) => [n, u, false])];
      for (const [name, path, anonymous] of all) {
        if (anonymous) await ctx.clearCookies();
        await p.goto(url(path));
        if (anonymous) { await ctx.addCookies(state.cookies); }
        await p.screenshot({ path: join(dir, `${name}-${label}-${scheme}.png`), fullPage: true });
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 1) failures.push(`${path} (${label}, ${scheme}) is ${overflow}px wider than the screen`);
        if (label !== "desktop") continue;
        for (const c of await contrastReport(p)) {
          if (c.ratio < 4.5) failures.push(`${path} (${scheme}): contrast ${c.ratio.toFixed(2)} of ${c.what} "${c.text}"`);
        }
        await p.addScriptTag({ content: axe });
        const found = await p.evaluate(async () => {
          // eslint-disable-next-line no-undef
          const r = await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } });
          return r.violations.filter((v) => v.impact === "critical" || v.impact === "serious")
            .map((v) => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
        });
        for (const f of found) failures.push(`${path} (${scheme}) axe: ${f}`);
      }
      await ctx.close();
    }
  }
  assert(failures.length === 0, `accessibility problems:\n  ${failures.join("\n  ")}`);
}

const BROKEN_CODE = `def lambda_handler(event, context):
    x = 1
    return x / 0
`;

/** Go-to-line from a failed test, a syntax error stopped before deploy (and deployed
 * anyway), and new, rename and delete of a file, in the editor of the Code tab. */
export async function codeEditorFlows({ page, url, fn, assert, snap }) {
  // a function whose line 3 fails
  await page.goto(url("/ui/functions/new"));
  await page.fill("input[name=name]", fn);
  await page.fill("#code", BROKEN_CODE);
  await page.click("#create");
  await page.waitForSelector("text=Function created.");
  await page.click("nav.tabs >> text=Test");
  await page.click("#run");
  await page.waitForSelector("#result h2:has-text('Failed')");
  await page.waitForSelector("#error-links a");
  assert((await page.textContent("#error-links a")) === "lambda_function.py, line 3", "the error's place is linked");
  await snap(page, "test-error-links");
  await page.click("#error-links a");
  await page.waitForURL(/\/code\?file=lambda_function.py&line=3$/);
  await page.waitForSelector("#editor-cm .cm-editor.cm-focused");
  assert((await cursorLine(page)) === 3, "the editor opened at line 3, focused");
  assert((await page.evaluate(() => window.getSelection().toString())).includes("return x / 0"), "line 3 is selected");
  await snap(page, "code-goto-line");

  // a syntax error is reported before deploy, in the editor at its line
  await page.keyboard.type("return {'broken': True");
  await page.click("#deploy");
  await page.waitForSelector("#err-content");
  assert((await page.textContent("#err-content")).includes("checked the syntax"), "the runtime checked it");
  await page.waitForSelector("#editor-cm .cm-editor.cm-focused");
  assert((await cursorLine(page)) === 3, "the editor is at the error's line");
  assert((await page.inputValue("#editor")).includes("return {'broken': True"), "the typed code is kept");
  await snap(page, "code-syntax-error");
  await page.click("#deploy-anyway");
  await page.waitForSelector("text=Deployed.");

  // new, rename and delete a file
  await page.click("#file-actions summary");
  await page.fill("#new-file", "lib/helpers.py");
  await page.click("#create-file");
  await page.waitForSelector("text=File created and deployed.");
  await page.waitForSelector("#editor-cm[data-ready=true]");
  assert((await page.inputValue("#editor")) === "", "the new file is empty");
  await page.click("#editor-cm .cm-content");
  await page.keyboard.type("HELLO = 'from helpers'");
  await page.click("#deploy");
  await page.waitForSelector("text=Deployed.");
  await page.click("#file-actions summary");
  await page.fill("#rename-to", "helpers.py");
  await page.click("#rename-file");
  await page.waitForSelector("text=File renamed and deployed.");
  assert((await page.inputValue("#editor")) === "HELLO = 'from helpers'", "the renamed file keeps its text");
  await page.click("#file-actions summary");
  await page.click("#delete-file");
  await page.waitForSelector("text=File deleted and deployed.");
  assert(!(await page.textContent("aside.tree")).includes("helpers.py"), "the file is gone");
  // the package downloads
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-package")]);
  assert(download.suggestedFilename() === `${fn}.zip`, download.suggestedFilename());
}
