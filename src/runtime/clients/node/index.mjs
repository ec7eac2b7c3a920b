// lambdabox node runtime client: the Lambda Runtime API loop for node 18, 20 and 22.
//
// Embedded in the lambdabox binary and mounted read-only at /var/runtime/node. Node built-ins
// only. Behaves like AWS's client where a handler can tell: handler resolution (CommonJS and ES
// modules), async and callback handlers, context, callbackWaitsForEmptyEventLoop, error
// documents ({errorType, errorMessage, trace}) and console log lines. Response streaming:
// `awslambda.streamifyResponse(handler)` handlers get a writable `responseStream` whose bytes go
// to the Runtime API as a chunked `Lambda-Runtime-Function-Response-Mode: streaming` response;
// `awslambda.HttpResponseStream.from(stream, {statusCode, headers, cookies})` starts it with the
// JSON prelude and 8 NUL bytes function URLs read; a failure after the start is reported in the
// `Lambda-Runtime-Function-Error-Type` / `-Error-Body` (base64) trailers.

import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import util from "node:util";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);

// ------------------------------------------------------------------------------------ errors

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const cls of [ImportModuleError, HandlerNotFound, MalformedHandlerName, UserCodeSyntaxError, UnhandledPromiseRejection]) {
  cls.prototype.name = `Runtime.${cls.name}`;
}

function isErrorLike(e) {
  return e && typeof e.name === "string" && typeof e.message === "string" && typeof e.stack === "string";
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

/** The error document posted to the Runtime API. */
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return { errorType: error.name, errorMessage: error.message, trace: error.stack.split("\n") };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch (_) {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
    };
  }
}

/** The error as it appears in a log line: tab, then JSON with enumerable properties. */
function toFormatted(error) {
  const withProps = (_k, v) => {
    if (v instanceof Error) {
      const ret = Object.assign({ errorType: v.name, errorMessage: v.message, code: v.code }, v);
      if (typeof v.stack === "string") ret.stack = v.stack.split("\n");
      return ret;
    }
    return v;
  };
  try {
    return "\t" + JSON.stringify(error, withProps);
  } catch (_) {
    return "\t" + JSON.stringify(toRapidResponse(error));
  }
}

// ------------------------------------------------------------------------------------ logging

let currentRequestId;

function writeStdout(text) {
  try {
    fs.writeSync(1, text);
  } catch (_) {
    process.stdout.write(text);
  }
}

const jsonLogs = (process.env.AWS_LAMBDA_LOG_FORMAT || "").toUpperCase() === "JSON";
// ApplicationLogLevel (AWS_LAMBDA_LOG_LEVEL): console methods below it write nothing.
const levelPriority = { TRACE: 1, DEBUG: 2, INFO: 3, WARN: 4, ERROR: 5, FATAL: 6 };
const minLevel = levelPriority[(process.env.AWS_LAMBDA_LOG_LEVEL || "").toUpperCase()] || 0;

function log(level, message) {
  const line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${message}`;
  writeStdout(line.replace(/\n/g, "\r") + "\n");
}

/** Errors inside a JSON record: {errorType, errorMessage, stackTrace}, as AWS's runtime. */
function jsonErrorReplacer(_key, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? "UnknownError",
        errorMessage: value.message,
        stackTrace: typeof value.stack === "string" ? value.stack.split("\n") : value.stack,
      },
      value,
    );
  }
  return value;
}

/** AWS's JSON record of a console call: timestamp, level, requestId, message (+ error fields). */
function jsonLine(level, message, params) {
  const result = { timestamp: new Date().toISOString(), level, requestId: currentRequestId };
  if (params.length === 0) {
    result.message = message;
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch (_) {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(message, ...params);
  for (const param of params) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? "UnknownError";
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === "string" ? param.stack.split("\n") : [];
      break;
    }
  }
  return JSON.stringify(result);
}

function patchConsole() {
  const levels = { log: "INFO", info: "INFO", debug: "DEBUG", warn: "WARN", error: "ERROR", trace: "TRACE", fatal: "FATAL" };
  for (const [method, level] of Object.entries(levels)) {
    if (levelPriority[level] < minLevel) {
      console[method] = () => {};
    } else if (jsonLogs) {
      console[method] = (msg, ...params) => writeStdout(jsonLine(level, msg, params) + "\n");
    } else {
      console[method] = (msg, ...params) => log(level, util.format(msg, ...params));
    }
  }
}

// ------------------------------------------------------------------------------------ Runtime API

const [apiHost, apiPort] = (process.env.AWS_LAMBDA_RUNTIME_API || "127.0.0.1:9001").split(":");

/**
 * One kept-alive HTTP/1.1 connection to the Runtime API, one request at a time.
 *
 * A few lines over `net` rather than `http`: node's HTTP client costs about as much per request
 * as the whole rest of an invoke. The peer is always lambdabox's server (Content-Length bodies).
 * The socket is unref'd between requests so it never keeps the event loop alive: that is what
 * lets `callbackWaitsForEmptyEventLoop` and "handler never answered" complete on `beforeExit`.
 */
class Connection {
  constructor(host, port) {
    this.host = host;
    this.port = Number(port);
    this.sock = null;
    this.pending = null;
  }

  connect() {
    const sock = net.connect({ host: this.host, port: this.port });
    sock.setNoDelay(true);
    sock.on("data", (chunk) => this.onData(chunk));
    sock.on("error", (e) => this.fail(sock, e));
    sock.on("close", () => this.fail(sock, new Error("runtime api closed the connection")));
    this.sock = sock;
  }

  request(method, urlPath, headers, body) {
    if (!this.sock) this.connect();
    const sock = this.sock;
    let head = `${method} ${urlPath} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n`;
    if (body !== undefined) head += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
    for (const [k, v] of Object.entries(headers || {})) head += `${k}: ${v}\r\n`;
    head += "\r\n";
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, chunks: [], size: 0, head: null, length: 0 };
      sock.ref();
      if (body === undefined) {
        sock.write(head);
      } else if (typeof body === "string" && body.length < 65536) {
        sock.write(head + body);
      } else {
        sock.cork();
        sock.write(head);
        sock.write(body);
        sock.uncork();
      }
    });
  }

  onData(chunk) {
    const p = this.pending;
    if (!p) return;
    p.chunks.push(chunk);
    p.size += chunk.length;
    if (!p.head) {
      const buf = p.chunks.length === 1 ? p.chunks[0] : Buffer.concat(p.chunks);
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) {
        p.chunks = [buf];
        return;
      }
      const lines = buf.toString("utf8", 0, end).split("\r\n");
      const headers = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(":");
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      p.head = { status: Number(lines[0].split(" ")[1]), headers };
      p.length = Number(headers["content-length"] || 0);
      const rest = buf.subarray(end + 4);
      p.chunks = [rest];
      p.size = rest.length;
    }
    if (p.size < p.length) return;
    const all = p.chunks.length === 1 ? p.chunks[0] : Buffer.concat(p.chunks, p.size);
    this.pending = null;
    this.sock.unref();
    p.resolve({ status: p.head.status, headers: p.head.headers, body: all.subarray(0, p.length) });
  }

  fail(sock, error) {
    if (sock !== this.sock) return;
    this.sock = null;
    sock.destroy();
    const p = this.pending;
    this.pending = null;
    if (p) p.reject(error);
  }
}

const connection = new Connection(apiHost, apiPort);

async function call(method, urlPath, body, headers) {
  try {
    return await connection.request(method, urlPath, headers, body);
  } catch (_) {
    // One retry on a fresh connection when the kept-alive one went stale.
    return await connection.request(method, urlPath, headers, body);
  }
}

async function post(urlPath, body, errorType) {
  const headers = { "Content-Type": "application/json" };
  if (errorType) headers["Lambda-Runtime-Function-Error-Type"] = errorType;
  const res = await call("POST", urlPath, body, headers);
  if (res.status !== 202) {
    process.stderr.write(`runtime api ${urlPath} answered ${res.status}: ${res.body.toString()}\n`);
  }
}

const client = {
  async next() {
    const res = await call("GET", "/2018-06-01/runtime/invocation/next");
    if (res.status !== 200) throw new Error(`runtime api /next answered ${res.status}: ${res.body.toString()}`);
    return res;
  },
  postResponse(id, result) {
    const body = JSON.stringify(result === undefined ? null : result);
    return post(`/2018-06-01/runtime/invocation/${id}/response`, body);
  },
  postError(id, error) {
    const doc = toRapidResponse(error);
    return post(`/2018-06-01/runtime/invocation/${id}/error`, JSON.stringify(doc), doc.errorType);
  },
  postInitError(error) {
    const doc = toRapidResponse(error);
    return post("/2018-06-01/runtime/init/error", JSON.stringify(doc), doc.errorType);
  },
};

// ------------------------------------------------------------------------------------ response streaming

const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";

// node:http and node:stream are loaded only when a streaming handler first responds: a cold
// start of any other handler does not pay for them (≈ 10 ms of CPU at node start-up).
let ResponseStreamClass = null;

function newResponseStream(id) {
  if (ResponseStreamClass === null) {
    ResponseStreamClass = defineResponseStream(require("node:stream").Writable, require("node:http"));
  }
  return new ResponseStreamClass(id);
}

/**
 * The `responseStream` of a streaming handler: one chunked POST to `/response`, opened at the
 * first write (so `setContentType` and `HttpResponseStream.from` can still set the head), on
 * its own connection (node's `http`, which writes each chunk as it comes).
 */
function defineResponseStream(Writable, http) {
  return class ResponseStream extends Writable {
    constructor(id) {
      super();
      this.id = id;
      this.contentType = "application/octet-stream";
      this.req = null;
      this.failed = false;
      this._onBeforeFirstWrite = null;
      this.done = new Promise((resolve) => (this._settle = resolve));
    }

    setContentType(contentType) {
      if (this.req) throw new Error("Cannot set content-type, too late.");
      this.contentType = contentType;
    }

    open() {
      if (this.req) return;
      const req = http.request({
        host: apiHost,
        port: Number(apiPort),
        method: "POST",
        path: `/2018-06-01/runtime/invocation/${this.id}/response`,
        agent: false,
        headers: {
          "Content-Type": this.contentType,
          "Lambda-Runtime-Function-Response-Mode": "streaming",
          "Transfer-Encoding": "chunked",
          Trailer: "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
        },
      });
      req.setNoDelay(true);
      req.on("response", (res) => {
        const body = [];
        res.on("data", (c) => body.push(c));
        res.on("end", () => {
          if (res.statusCode !== 202) {
            process.stderr.write(`runtime api streamed response answered ${res.statusCode}: ${Buffer.concat(body).toString()}\n`);
          }
          this._settle();
        });
      });
      req.on("error", (e) => {
        process.stderr.write(`runtime api streamed response failed: ${e}\n`);
        this._settle();
      });
      this.req = req;
      const before = this._onBeforeFirstWrite;
      this._onBeforeFirstWrite = null;
      if (before) before((chunk) => req.write(chunk));
    }

    _write(chunk, _encoding, cb) {
      this.open();
      this.req.write(chunk, cb);
    }

    _final(cb) {
      this.open();
      if (!this.failed) this.req.end();
      cb();
    }

    /** Ends the response with the error in the trailers. */
    fail(error) {
      if (this.failed) return this.done;
      this.failed = true;
      this.open();
      const doc = toRapidResponse(error);
      if (!this.req.writableEnded) {
        this.req.addTrailers({
          "Lambda-Runtime-Function-Error-Type": doc.errorType,
          "Lambda-Runtime-Function-Error-Body": Buffer.from(JSON.stringify(doc)).toString("base64"),
        });
        this.req.end();
      }
      return this.done;
    }
  };
}

class HttpResponseStream {
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION);
    const metadata = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadata);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

// ------------------------------------------------------------------------------------ handler loading

function hasTypeModule(folder) {
  if (folder.endsWith("/node_modules")) return false;
  const pj = path.join(folder, "package.json");
  if (fs.existsSync(pj)) {
    try {
      return JSON.parse(fs.readFileSync(pj, "utf8")).type === "module";
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === "/") return false;
  return hasTypeModule(path.resolve(folder, ".."));
}

function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImport(file) {
  return fs.existsSync(file) ? await import(pathToFileURL(file).href) : undefined;
}

async function loadModule(appRoot, moduleRoot, name) {
  const base = path.resolve(appRoot, moduleRoot, name);
  const extensionless = tryRequire(base);
  if (extensionless) return extensionless;
  const esm = fs.existsSync(base + ".js") && hasTypeModule(path.dirname(path.resolve(base + ".js")));
  if (!esm) {
    const cjs = tryRequire(base + ".js");
    if (cjs) return cjs;
  }
  const loaded = (esm && (await tryImport(base + ".js"))) || (await tryImport(base + ".mjs")) || tryRequire(base + ".cjs");
  if (loaded) return loaded;
  return require(require.resolve(name, { paths: [appRoot, moduleRoot] }));
}

/** Resolves `dir/file.prop.path` under `appRoot` to a function (lambda-compat §5.3). */
async function loadHandler(appRoot, fullHandler) {
  if (fullHandler.includes("..")) {
    throw new MalformedHandlerName(
      `'${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const handlerString = path.basename(fullHandler);
  const moduleRoot = fullHandler.substring(0, fullHandler.indexOf(handlerString));
  const match = handlerString.match(/^([^.]*)\.(.*)$/);
  if (!match || match.length !== 3) throw new MalformedHandlerName("Bad handler");
  const [, moduleName, propertyPath] = match;
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, moduleName);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e && e.code === "MODULE_NOT_FOUND") throw new ImportModuleError(e);
    throw e;
  }
  const fn = propertyPath.split(".").reduce((obj, key) => obj && obj[key], app);
  if (!fn) throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  if (typeof fn !== "function") throw new HandlerNotFound(`${fullHandler} is not a function`);
  return fn;
}

// ------------------------------------------------------------------------------------ invocation

let beforeExitListener = () => {};
const errorCallbacks = {
  uncaughtException: (error) => client.postInitError(error).finally(() => process.exit(129)),
  unhandledRejection: (error) => client.postInitError(error).finally(() => process.exit(128)),
};

function parseJsonHeader(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

/** callback, context (callback part) and a "mark completed" hook, each answer posted once. */
function callbackContext(id, scheduleNext) {
  let completed = false;
  let finished = false;
  let waitForEmptyEventLoop = true;
  const postError = (err) => {
    console.error("Invoke Error", toFormatted(intoError(err)));
    client.postError(id, err).then(scheduleNext, fatal);
  };
  const complete = (result) => {
    if (completed) {
      console.error("Invocation has already been reported as done. Cannot call complete more than once per invocation.");
      return;
    }
    completed = true;
    let posting;
    try {
      posting = client.postResponse(id, result);
    } catch (_) {
      completed = false;
      postError(new Error("Unable to stringify response body"));
      return;
    }
    posting.then(scheduleNext, fatal);
  };
  const once = (fn) =>
    function (...args) {
      if (!finished) {
        finished = true;
        fn(...args);
      }
    };
  const callback = once((err, result) => {
    beforeExitListener = () => {};
    if (err !== undefined && err !== null) {
      postError(err);
    } else if (!waitForEmptyEventLoop) {
      complete(result);
    } else {
      beforeExitListener = () => setImmediate(() => complete(result));
    }
  });
  const done = (err, result) => {
    beforeExitListener = () => {};
    if (err !== undefined && err !== null) postError(err);
    else complete(result);
  };
  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed: once((result) => done(null, result)),
    fail: once((err) => done(err === undefined || err === null ? "handled" : err, null)),
    done: once(done),
  };
  return [callback, context, () => (completed = true)];
}

function fatal(err) {
  process.stderr.write(`lambdabox runtime: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
}

class Runtime {
  constructor(handler) {
    this.handler = handler;
  }

  scheduleIteration() {
    setImmediate(() => this.handleOnce().catch(fatal));
  }

  async handleOnce() {
    const { headers, body } = await client.next();
    const id = headers["lambda-runtime-aws-request-id"];
    currentRequestId = id;
    if (this.handler[STREAMING] === "response") return this.handleStreaming(id, headers, body);
    const [callback, context, markCompleted] = callbackContext(id, () => this.scheduleIteration());
    errorCallbacks.uncaughtException = (error) => client.postError(id, error).finally(() => process.exit(129));
    errorCallbacks.unhandledRejection = (error) => client.postError(id, error).finally(() => process.exit(128));
    beforeExitListener = () => {
      markCompleted();
      client.postResponse(id, null).then(() => this.scheduleIteration(), fatal);
    };
    try {
      describe(context, id, headers);
      const result = this.handler(JSON.parse(body.toString("utf8")), context, callback);
      if (result && typeof result.then === "function") {
        result.then(context.succeed, context.fail).catch(context.fail);
      }
    } catch (err) {
      callback(err);
    }
  }

  /** A streamifyResponse handler: (event, responseStream, context); its promise ends it. */
  handleStreaming(id, headers, body) {
    const stream = newResponseStream(id);
    let waitForEmptyEventLoop = true;
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
    };
    const fail = (error) => {
      console.error("Invoke Error", toFormatted(intoError(error)));
      return stream.fail(error);
    };
    errorCallbacks.uncaughtException = (error) => fail(error).finally(() => process.exit(129));
    errorCallbacks.unhandledRejection = (error) => fail(error).finally(() => process.exit(128));
    beforeExitListener = () => {};
    let result;
    try {
      describe(context, id, headers);
      result = Promise.resolve(this.handler(JSON.parse(body.toString("utf8")), stream, context));
    } catch (err) {
      result = Promise.reject(err);
    }
    result
      .then(
        () => {
          if (!stream.writableEnded) stream.end();
          return stream.done;
        },
        (err) => fail(err),
      )
      .then(() => this.scheduleIteration(), fatal);
  }
}

/** The invocation's part of the context object. */
function describe(context, id, headers) {
  if (headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"];
  else delete process.env._X_AMZN_TRACE_ID;
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  Object.assign(context, {
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJsonHeader(headers["lambda-runtime-client-context"], "ClientContext"),
    identity: parseJsonHeader(headers["lambda-runtime-cognito-identity"], "CognitoIdentity"),
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    awsRequestId: id,
    tenantId: headers["lambda-runtime-aws-tenant-id"],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  });
}

// ------------------------------------------------------------------------------------ main

patchConsole();
process.on("uncaughtException", (error) => {
  console.error("Uncaught Exception", toFormatted(error));
  errorCallbacks.uncaughtException(error);
});
process.on("unhandledRejection", (reason, promise) => {
  const error = new UnhandledPromiseRejection(reason && reason.toString(), promise);
  console.error("Unhandled Promise Rejection", toFormatted(error));
  errorCallbacks.unhandledRejection(error);
});
process.on("beforeExit", () => beforeExitListener());

globalThis.awslambda = {
  streamifyResponse: (handler) => {
    handler[STREAMING] = "response";
    return handler;
  },
  HttpResponseStream,
};

const taskRoot = process.env.LAMBDA_TASK_ROOT || "/var/task";
let handler;
try {
  handler = await loadHandler(taskRoot, process.env._HANDLER || "");
} catch (error) {
  console.error("Uncaught Exception", toFormatted(error));
  await client.postInitError(error).catch(() => {});
  process.exit(129);
}
new Runtime(handler).scheduleIteration();
