// Browser tests of the lambdabox dashboard: playwright-core driving Debian's chromium against
// the real daemon (target/release/lambdabox) on 127.0.0.1:0 with a temporary data directory.
//
// Flows: sign in; create a Python function in the inline editor; run a test event and see the
// result and log lines; change an environment variable and see it take effect; publish a
// version and an alias; watch the live log tail while invoking from the AWS CLI; send, peek
// and purge on the Queues page (an XSS body), create and delete queues with the form, add and edit a
// queue trigger on the Triggers tab; an HTTP API made with the CLI listed on the HTTP APIs page
// (stages, routes, function links, copy by keyboard, the curl example answering); sign out.
// Then the console flows of tests/browser/console.mjs: a keyboard-only walk, a draft kept across
// the end of a session, contrast and axe-core on every page in both themes.
// A screenshot of every page goes to target/browser-artifacts/ (also on failure), and of every
// page at desktop and phone width in both themes to target/browser-artifacts/pages/.
//
// Usage: node tests/browser/run.mjs   (env: LAMBDABOX_BIN, CHROMIUM, LAMBDABOX_AWS_CLI)

import { spawn, execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { keyboardWalk, draftAcrossSignIn, contrastAndAxe, codeEditorFlows } from "./console.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const BIN = process.env.LAMBDABOX_BIN || join(root, "target/release/lambdabox");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const AWS = process.env.LAMBDABOX_AWS_CLI || "/usr/bin/aws";
const ARTIFACTS = join(root, "target/browser-artifacts");
const TIMEOUT = 20_000;

rmSync(ARTIFACTS, { recursive: true, force: true });
mkdirSync(ARTIFACTS, { recursive: true });

function assert(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

async function startDaemon() {
  const work = mkdtempSync(join(tmpdir(), "lambdabox-browser-"));
  const dataDir = join(work, "data");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("LAMBDABOX_")));
  const proc = spawn(BIN, ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  proc.stderr.on("data", (d) => { log += d.toString(); });
  const endpoint = await new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error(`daemon did not start:\n${log}`)), 20_000);
    createInterface({ input: proc.stdout }).once("line", (line) => {
      clearTimeout(t);
      if (!line.startsWith("listening on ")) fail(new Error(`unexpected first line ${line}\n${log}`));
      ok(line.slice("listening on ".length).trim());
    });
    proc.once("exit", (code) => fail(new Error(`daemon exited ${code}:\n${log}`)));
  });
  const creds = readFileSync(join(dataDir, "dashboard-credentials"), "utf8");
  const password = /password = (\S+)/.exec(creds)[1];
  return { proc, endpoint, dataDir, work, password, log: () => log };
}

function awsCli(daemon, args) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_")));
  Object.assign(env, {
    AWS_SHARED_CREDENTIALS_FILE: join(daemon.dataDir, "admin-credentials"),
    AWS_CONFIG_FILE: join(daemon.dataDir, "aws-config"),
    AWS_PAGER: "",
    AWS_MAX_ATTEMPTS: "1",
  });
  return new Promise((ok, fail) => {
    execFile(AWS, ["--endpoint-url", daemon.endpoint, ...args], { env, cwd: daemon.work, timeout: 60_000 },
      (err, stdout, stderr) => (err ? fail(new Error(`aws ${args.join(" ")}: ${stderr || err}`)) : ok(stdout)));
  });
}

const results = [];
let shot = 0;
async function snap(page, name) {
  shot += 1;
  await page.screenshot({ path: join(ARTIFACTS, `${String(shot).padStart(2, "0")}-${name}.png`), fullPage: true });
}

async function step(name, page, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true, ms: Date.now() - t0 });
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false, error: String(e.stack || e) });
    console.log(`FAIL ${name}\n${e.stack || e}`);
    await page.screenshot({ path: join(ARTIFACTS, `FAILED-${name.replace(/\W+/g, "-")}.png`), fullPage: true }).catch(() => {});
    throw e;
  }
}

const PY_CODE = `import json
import os


def lambda_handler(event, context):
    print("handled", json.dumps(event))
    return {"greeting": os.environ.get("GREETING"), "event": event}
`;

async function main() {
  const daemon = await startDaemon();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on("dialog", (d) => d.accept());
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    // the deliberate wrong password answers 401, the deliberately refused forms 422
    const expected = ["status of 401", "status of 422"].some((t) => m.text().includes(t));
    if (m.type() === "error" && !expected) errors.push(m.text());
  });
  const url = (p) => daemon.endpoint + p;
  const fn = `browser-${Date.now().toString(36)}`;
  let failed = false;
  try {
    await step("sign in", page, async () => {
      await page.goto(url("/ui/functions"));
      assert(page.url().includes("/ui/login?next="), `redirected to login, at ${page.url()}`);
      await snap(page, "login");
      await page.fill("input[name=username]", "admin");
      await page.fill("input[name=password]", "not the password");
      await page.click("button[type=submit]");
      await page.waitForSelector("#login-error");
      assert((await page.textContent("#login-error")).includes("Wrong username or password"), "wrong password message");
      await page.fill("input[name=password]", daemon.password);
      await page.click("button[type=submit]");
      await page.waitForURL(/\/ui\/functions$/);
      await page.waitForSelector("text=No functions yet");
      await snap(page, "functions-empty");
    });

    await step("create a Python function in the inline editor", page, async () => {
      await page.click("text=Create function");
      await page.waitForURL(/\/ui\/functions\/new$/);
      const options = await page.$$eval("#runtime option", (os) => os.map((o) => o.value));
      const py = await page.inputValue("#runtime");
      assert(py.startsWith("python"), `a python runtime is preselected: ${py} of ${options}`);
      assert(py, `a python runtime is offered: ${options}`);
      await page.selectOption("#runtime", py);
      assert((await page.inputValue("#code")).includes("def lambda_handler"), "python starter code");
      await page.fill("input[name=name]", fn);
      await page.fill("textarea[name=env]", "GREETING=hello");
      await page.fill("#code", PY_CODE);
      await snap(page, "create");
      await page.click("#create");
      await page.waitForSelector("text=Function created.");
      assert(page.url().endsWith(`/ui/functions/${fn}/code?created=1`), page.url());
      assert((await page.inputValue("#editor")).includes("GREETING"), "the code tab shows the file");
      await snap(page, "code");
    });

    await step("run a test event and see the result and log lines", page, async () => {
      await page.click("nav.tabs >> text=Test");
      await page.fill("#event", '{"from": "browser"}');
      await page.click("#run");
      await page.waitForSelector("#result");
      const h = await page.textContent("#result h2");
      assert(h.includes("Succeeded"), `result heading ${h}`);
      const payload = JSON.parse(await page.textContent("#result-payload"));
      assert(payload.greeting === "hello" && payload.event.from === "browser", JSON.stringify(payload));
      for (const id of ["#duration", "#billed", "#max-memory"]) {
        assert(/\d/.test(await page.textContent(id)), `${id} shown`);
      }
      const log = await page.textContent("#result-log");
      assert(log.includes('handled {"from": "browser"}'), `log has the function's line: ${log}`);
      assert(log.includes("REPORT RequestId:"), "log has REPORT");
      await snap(page, "test-result");
      await page.click("text=API Gateway HTTP API (v2)");
      assert((await page.inputValue("#event")).includes('"routeKey"'), "template loaded");
    });

    await step("change an environment variable and see it take effect", page, async () => {
      await page.click("nav.tabs >> text=Configuration");
      assert((await page.inputValue("#env-key-0")) === "GREETING", "variables are a table");
      await page.fill("#env-value-0", "changed in the browser");
      await page.click("#env-add");
      assert(await page.evaluate(() => document.activeElement.id === "env-key-3"), "Add variable adds a row and focuses its name");
      await page.fill("#env-key-3", "ADDED");
      await page.fill("#env-value-3", "by the new row");
      await snap(page, "configuration");
      await page.click("#save-config");
      await page.waitForSelector("text=Configuration saved.");
      await page.click("nav.tabs >> text=Test");
      await page.click("#run");
      await page.waitForSelector("#result");
      const payload = JSON.parse(await page.textContent("#result-payload"));
      assert(payload.greeting === "changed in the browser", JSON.stringify(payload));
    });

    await step("publish a version and an alias", page, async () => {
      await page.click("nav.tabs >> text=Versions & aliases");
      await page.fill("input[name=description]", "first release");
      await page.click("#publish");
      await page.waitForSelector("text=Version published.");
      await page.waitForSelector("#versions >> text=first release");
      await page.fill("input[name=alias]", "live");
      await page.selectOption("select[name=alias_version]", "1");
      await page.click("#save-alias");
      await page.waitForSelector("text=Alias saved.");
      const row = await page.textContent("#aliases");
      assert(row.includes("live") && row.includes("1"), `alias row: ${row}`);
      await snap(page, "versions-aliases");
      const out = JSON.parse(await awsCli(daemon, ["lambda", "get-alias", "--function-name", fn, "--name", "live"]));
      assert(out.FunctionVersion === "1", JSON.stringify(out));
    });

    await step("watch the live log tail while invoking from the CLI", page, async () => {
      await page.click("nav.tabs >> text=Logs");
      await page.click("#tail-toggle");
      await page.waitForSelector("#tail-status:has-text('waiting for new log events')");
      await awsCli(daemon, ["lambda", "invoke", "--function-name", `${fn}:live`, "--cli-binary-format", "raw-in-base64-out",
        "--payload", '{"from": "the cli"}', join(daemon.work, "out.json")]);
      await page.waitForSelector("#log-lines:has-text('handled {\"from\": \"the cli\"}')");
      await page.waitForSelector("#log-lines:has-text('Version: 1')");
      await page.waitForSelector("#tail-status:has-text('streaming')");
      await snap(page, "logs-live-tail");
      await page.click("#tail-toggle");
    });

    await step("monitoring, triggers, layers and settings pages render", page, async () => {
      await page.click("nav.tabs >> text=Monitoring");
      await page.waitForSelector("figure.chart svg rect");
      await snap(page, "monitoring");
      await page.click("nav.tabs >> text=Triggers");
      await page.waitForSelector("#esm-empty");
      await snap(page, "triggers");
      await page.click("header >> text=Layers");
      await page.waitForSelector("h1:has-text('Layers')");
      await snap(page, "layers");
      await page.click("header >> text=Settings");
      await page.click("#create-key");
      await page.waitForSelector("#new-key-secret");
      await snap(page, "settings");
      await page.goto(url("/ui/functions"));
      await page.waitForSelector(`#functions >> text=${fn}`);
      await snap(page, "functions");
    });

    await step("queues: create with a DLQ, send, peek, purge, delete, and a queue trigger created and edited", page, async () => {
      const q = `bq-${Date.now().toString(36)}`;
      const dlq = `${q}-dlq`;
      await page.click("header >> text=Queues");
      if (!(await page.getAttribute("#create-queue", "open") !== null)) await page.click("#create-queue summary");
      await page.fill("#cq-name", dlq);
      await page.click("#create-queue-submit");
      await page.waitForURL(new RegExp(`/ui/queues/${dlq}\\?done=created$`));
      await page.click("header >> text=Queues");
      await page.click("#create-queue summary");
      await page.fill("#cq-name", q);
      await page.fill("#cq-visibility", "45");
      await page.fill("#cq-retention", "2");
      await page.selectOption("#cq-retention-unit", "hours");
      await page.selectOption("#cq-dlq", dlq);
      await page.fill("#cq-max-receives", "3");
      await snap(page, "queue-create");
      await page.click("#create-queue-submit");
      await page.waitForSelector("text=Queue created.");
      const qurl = JSON.parse(await awsCli(daemon, ["sqs", "get-queue-url", "--queue-name", q])).QueueUrl;
      const attrs = JSON.parse(await awsCli(daemon, ["sqs", "get-queue-attributes", "--queue-url", qurl,
        "--attribute-names", "All"]));
      assert(attrs.Attributes.VisibilityTimeout === "45", "visibility timeout from the form");
      assert(attrs.Attributes.MessageRetentionPeriod === "7200", "retention 2 hours from the form");
      assert(JSON.parse(attrs.Attributes.RedrivePolicy).maxReceiveCount == 3, "DLQ after 3 receives");
      await page.click("header >> text=Queues");
      await page.click("#create-queue summary");
      await page.fill("#cq-name", q);
      await page.click("#create-queue-submit");
      await page.waitForSelector("#err-name");
      assert((await page.textContent("#err-name")).includes("exists already"), "a taken name is refused");
      await page.goto(url(`/ui/queues/${q}`));
      const body = `<b>bold?</b><script>window.__xss = 1</script> ${q}`;
      await page.fill("#send-body", body);
      await page.click("#send-message");
      await page.waitForSelector("text=Message sent.");
      assert((await page.textContent("#q-visible")).trim() === "1", "one visible message");
      await page.click("#peek-messages");
      await page.waitForSelector("#peeked");
      assert((await page.textContent("#peeked pre.body")) === body, "the body is shown as text");
      assert((await page.evaluate(() => window.__xss)) === undefined, "the body's script did not run");
      assert((await page.textContent("#q-visible")).trim() === "1", "a peek leaves the message visible");
      await snap(page, "queue-peek");
      await page.click("#purge summary");
      await page.fill("#purge-confirm", q);
      await page.click("#purge-queue");
      await page.waitForSelector("text=Queue purged");
      assert((await page.textContent("#q-visible")).trim() === "0", "purged");
      await page.goto(url(`/ui/functions/${fn}/triggers`));
      await page.selectOption("#esm-queue", q);
      await page.fill("#esm-batch", "5");
      await page.click("#esm-create");
      await page.waitForSelector("text=Event source mapping created.");
      assert((await page.textContent("#mappings")).includes(q), "the mapping lists its queue");
      const row = `#mappings tr:has-text("${q}")`;
      await page.click(`${row} .esm-edit summary`);
      await page.fill(`${row} .esm-edit-batch`, "20");
      await page.click(`${row} .esm-edit-save`);
      await page.waitForSelector("#err-edit");
      assert((await page.textContent("#err-edit")).includes("batch window"), "a batch over 10 without a window is refused");
      assert((await page.inputValue(`${row} .esm-edit-batch`)) === "20", "the refused value stays in the form");
      await page.fill(`${row} .esm-edit-batch`, "7");
      await page.fill(`${row} .esm-edit-max`, "3");
      await page.check(`${row} .esm-edit-report`);
      await page.click(`${row} .esm-edit-save`);
      await page.waitForSelector("text=Event source mapping updated.");
      const maps = JSON.parse(await awsCli(daemon, ["lambda", "list-event-source-mappings", "--function-name", fn]));
      const mp = maps.EventSourceMappings.find((m) => m.EventSourceArn.endsWith(`:${q}`));
      assert(mp.BatchSize === 7 && mp.ScalingConfig.MaximumConcurrency === 3, "the edit is saved");
      assert(mp.FunctionResponseTypes.includes("ReportBatchItemFailures"), "report failures saved");
      await snap(page, "triggers-mapping");
      await page.goto(url(`/ui/queues/${dlq}`));
      await page.click("#delete summary");
      await page.fill("#delete-confirm", dlq);
      await page.click("#delete-queue");
      await page.waitForSelector("text=Queue deleted");
      const names = await page.$$eval("#queues td[data-label=Name]", (tds) => tds.map((td) => td.textContent.trim()));
      assert(names.includes(q) && !names.includes(dlq), `the deleted queue is gone from the list (${names})`);
    });

    await step("HTTP APIs: listed with stages, routes, function links, a copy button and a working curl example", page, async () => {
      const arn = `arn:aws:lambda:us-east-1:000000000000:function:${fn}`;
      const api = JSON.parse(await awsCli(daemon, ["apigatewayv2", "create-api", "--name", `web-${fn}`,
        "--protocol-type", "HTTP", "--target", arn, "--route-key", "GET /hello/{who}"]));
      await awsCli(daemon, ["apigatewayv2", "create-stage", "--api-id", api.ApiId, "--stage-name", "prod",
        "--auto-deploy", "--stage-variables", "env=prod"]);
      await page.click("header >> text=HTTP APIs");
      await page.waitForURL(/\/ui\/apis$/);
      const sec = `#api-${api.ApiId}`;
      await page.waitForSelector(sec);
      assert((await page.getAttribute("header nav a[href='/ui/apis']", "aria-current")) === "page", "the nav marks the page");
      assert((await page.textContent(`${sec} h2`)).includes(`web-${fn}`), "the API's name");
      const urls = await page.$$eval(`${sec} input.invoke-url`, (is) => is.map((i) => i.value));
      assert(urls[0] === api.ApiEndpoint && urls[1] === `${api.ApiEndpoint}/prod`, `stage URLs ${urls}`);
      assert((await page.textContent(`${sec} .stage:has-text('prod')`)).includes("env=prod"), "stage variables shown");
      const route = `${sec} table.routes tr:has-text("GET /hello/{who}")`;
      assert((await page.getAttribute(`${route} a`, "href")) === `/ui/functions/${fn}`, "the route links its function");
      assert((await page.textContent(`${route} td[data-label=Payload]`)).trim() === "2.0", "payload format");
      const cmd = await page.inputValue(`${route} input`);
      assert(cmd === `curl -i '${api.ApiEndpoint}/hello/1'`, `curl example ${cmd}`);
      // The example works as shown.
      const r = await fetch(`${api.ApiEndpoint}/hello/1`);
      const ev = (await r.json()).event;
      assert(r.status === 200 && ev.pathParameters.who === "1" && ev.routeKey === "GET /hello/{who}", "the route answers");
      // By keyboard: Tab from the URL field reaches its copy button; Enter copies.
      await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: daemon.endpoint });
      await page.focus(`${sec} input.invoke-url >> nth=0`);
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => document.activeElement.dataset.copy || "");
      assert(focused.startsWith(`api-${api.ApiId}-stage-`), `focus on the copy button (${focused})`);
      await page.keyboard.press("Enter");
      await page.waitForSelector(`${sec} button[data-copy="${focused}"]:has-text('Copied')`);
      assert((await page.evaluate(() => navigator.clipboard.readText())) === api.ApiEndpoint, "the URL is on the clipboard");
      await snap(page, "http-apis");
    });

    // issue 24: the console flows (tests/browser/console.mjs)
    await step("keyboard only: create, edit code, test (busy button), configure, publish, alias", page, () =>
      keyboardWalk({ page, url, fn: `${fn}-kb`, assert, snap }));
    await step("code editor: go-to-line from a test error, syntax check before deploy, new/rename/delete file", page, () =>
      codeEditorFlows({ page, url, fn: `${fn}-cm`, assert, snap }));
    await step("unsaved code survives the end of the session and deploys after sign-in", page, () =>
      draftAcrossSignIn({ page, context, url, fn, password: daemon.password, assert }));
    await step("contrast and axe-core on every page in both themes; screenshots at desktop and phone width", page, async () => {
      const queue = `axe-${Date.now().toString(36)}`;
      await awsCli(daemon, ["sqs", "create-queue", "--queue-name", queue]);
      await contrastAndAxe({ browser, context, url, fn, queue, assert, artifacts: ARTIFACTS });
    });

    await step("phone width and dark mode", page, async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, colorScheme: "dark",
        storageState: await context.storageState() });
      const p = await phone.newPage();
      const tabs = ["code", "test", "configuration", "versions", "logs", "monitoring", "triggers"];
      const pages = [["/ui/functions", "phone-dark-functions"], ["/ui/functions/new", "phone-dark-create"],
        ["/ui/layers", "phone-dark-layers"], ["/ui/queues", "phone-dark-queues"], ["/ui/apis", "phone-dark-apis"], ["/ui/settings", "phone-dark-settings"],
        ...tabs.map((t) => [`/ui/functions/${fn}/${t}`, `phone-dark-${t}`])];
      for (const [path, name] of pages) {
        await p.goto(url(path));
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert(overflow <= 1, `${path} fits a phone screen (overflow ${overflow}px)`);
        await p.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
      }
      const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert(bg !== "rgb(246, 247, 249)", `dark background in dark mode (${bg})`);
      await phone.close();
    });

    await step("sign out", page, async () => {
      await page.click("#logout");
      await page.waitForURL(/\/ui\/login$/);
      await page.goto(url("/ui/functions"));
      assert(page.url().includes("/ui/login"), `signed out: ${page.url()}`);
      await snap(page, "signed-out");
    });
    assert(errors.length === 0, `no script errors in the pages: ${errors.join("; ")}`);
  } catch (e) {
    failed = true;
    if (!results.some((r) => !r.ok)) console.log(`FAIL ${e.stack || e}`);
    console.log(`\n--- daemon log (tail) ---\n${daemon.log().slice(-8000)}`);
  } finally {
    await browser.close();
    daemon.proc.kill("SIGTERM");
    rmSync(daemon.work, { recursive: true, force: true });
  }
  writeFileSync(join(ARTIFACTS, "results.json"), JSON.stringify(results, null, 2));
  console.log(`\n${results.filter((r) => r.ok).length}/${results.length} browser flows passed; screenshots in ${ARTIFACTS}`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
