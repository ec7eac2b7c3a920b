"""lambdabox python runtime client: the Lambda Runtime API loop for python3.9+.

Started by `bootstrap.py` (which calls `main`). Embedded in the lambdabox binary and mounted read-only at /var/runtime/python. Standard library
only. Behaves like awslambdaric (AWS's client) where a handler can tell: handler resolution,
context object, error documents and log lines, JSON encoding (Decimal as its literal digits).
"""

import os
import sys
import time

# Start-up cost is the first invoke's latency (a cold start), so only what that invoke needs is
# imported here: `_socket` and `_json` (C modules, no `re`/`enum`) instead of `socket` and `json`;
# `logging` is set up when something imports it (see `_LoggingHook`); `json`, `traceback`,
# `decimal` and `socket` are imported on the paths that need them (errors, name resolution).
import _socket

try:
    import _json
except ImportError:  # an interpreter without the C accelerator: the json module it is
    _json = None

ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. To determine if the runtime has been updated, check the "
    "runtime version in the INIT_START log entry. If this error correlates with a change in the "
    "runtime version, you may be able to mitigate this error by temporarily rolling back to the "
    "previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


class FaultException(Exception):
    MARSHAL_ERROR = "Runtime.MarshalError"
    UNMARSHAL_ERROR = "Runtime.UnmarshalError"
    USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
    HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
    IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
    BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
    MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
    LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

    def __init__(self, exception_type, msg, trace=None):
        super().__init__(msg)
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# ---------------------------------------------------------------------------- JSON encoding

_ENSURE_ASCII = os.environ.get("AWS_EXECUTION_ENV") not in {
    "AWS_Lambda_python3.12",
    "AWS_Lambda_python3.13",
    "AWS_Lambda_python3.14",
}
_DECIMAL_TOKEN = "__lambdabox_decimal_%s_" % os.urandom(12).hex()


_JSON_WS = " \t\n\r"
_JSON_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _ScannerContext(object):
    """The attributes of json.JSONDecoder() that the C scanner reads (the defaults)."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _JSON_CONSTANTS.__getitem__


_SCAN = _json.make_scanner(_ScannerContext()) if _json is not None and getattr(_json, "make_scanner", None) else None
_MAKE_ENCODER = getattr(_json, "make_encoder", None) if _json is not None else None


def json_loads(data):
    """json.loads(data), through the same C scanner json.loads uses but without importing the
    json package (and `re` behind it). Anything unusual (a BOM, UTF-16/32, invalid JSON, extra
    data) goes to json.loads itself, so results and error messages are json's own."""
    if _SCAN is not None:
        try:
            if isinstance(data, bytes):
                if data[:1] in (b"\xef", b"\xfe", b"\xff") or b"\x00" in data[:4]:
                    raise ValueError("not plain utf-8")
                text = data.decode("utf-8", "surrogatepass")
            elif isinstance(data, str):
                if data.startswith("\ufeff"):
                    raise ValueError("bom")
                text = data
            else:
                raise ValueError("not text")
            start = len(text) - len(text.lstrip(_JSON_WS))
            obj, end = _SCAN(text, start)
            if text[end:].strip(_JSON_WS) == "":
                return obj
        except Exception:
            pass
    import json

    return json.loads(data)


def json_dumps(obj, default, ensure_ascii):
    """json.dumps(obj, default=default, ensure_ascii=ensure_ascii, allow_nan=True) with the
    default separators, through the C encoder json.dumps itself uses (same output, same
    errors) without importing the json package."""
    if _MAKE_ENCODER is None:
        import json

        return json.dumps(obj, default=default, ensure_ascii=ensure_ascii, allow_nan=True)
    quote = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
    if isinstance(obj, str):
        return quote(obj)
    encoder = _MAKE_ENCODER({}, default, quote, None, ": ", ", ", False, False, True)
    return "".join(encoder(obj, 0))


def to_json(obj):
    """json.dumps like awslambdaric: a Decimal is written as its own digits (NaN as NaN)."""
    decimals = []

    def default(o):
        import decimal  # only when a non-JSON type shows up: keeps start-up lean

        if isinstance(o, decimal.Decimal):
            decimals.append("NaN" if o.is_nan() else str(o))
            return "%s%d" % (_DECIMAL_TOKEN, len(decimals) - 1)
        raise TypeError("Object of type %s is not JSON serializable" % o.__class__.__name__)

    text = json_dumps(obj, default, _ENSURE_ASCII)
    for i, literal in enumerate(decimals):
        text = text.replace('"%s%d"' % (_DECIMAL_TOKEN, i), literal, 1)
    return text


# ---------------------------------------------------------------------------- Runtime API


class RuntimeClient(object):
    """Keep-alive HTTP/1.1 client of the Runtime API.

    A few lines over a socket rather than http.client: importing http.client (and the email
    package behind it) costs more than the rest of this client's start-up; the peer is always
    lambdabox's server, which answers with Content-Length bodies. The socket is `_socket`'s
    (`socket.py` imports `enum` and `selectors`); responses are read with `recv` into a buffer.
    """

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.target = (host or "127.0.0.1", int(port))
        self.host_header = address
        self.sock = None
        self.buf = b""

    def _connect(self):
        try:
            # A numeric address skips getaddrinfo, whose idna codec import costs milliseconds.
            _socket.inet_aton(self.target[0])
            sock = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
            try:
                sock.connect(self.target)
            except OSError:
                sock.close()
                raise
        except OSError:
            import socket

            sock = socket.create_connection(self.target)
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        self.sock = sock
        self.buf = b""

    def _close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("runtime api closed the connection")
        return chunk

    def _read_response(self):
        buf = self.buf
        while True:
            head_end = buf.find(b"\r\n\r\n")
            if head_end >= 0:
                break
            if len(buf) > 1 << 20:
                raise ConnectionError("runtime api response head too long")
            buf += self._recv()
        lines = buf[:head_end].decode("utf-8", "replace").split("\r\n")
        status = int(lines[0].split(None, 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        start = head_end + 4
        have = len(buf) - start
        if have >= length:
            body = buf[start : start + length]
            self.buf = buf[start + length :]
        else:
            chunks = [buf[start:]]
            self.buf = b""
            while have < length:
                chunk = self.sock.recv(min(length - have, 1 << 20))
                if not chunk:
                    raise ConnectionError("runtime api response cut short")
                chunks.append(chunk)
                have += len(chunk)
            body = b"".join(chunks)
        if headers.get("connection", "").lower() == "close":
            self._close()
        return status, headers, body

    def _call(self, method, path, body=None, headers=()):
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: " + self.host_header]
        if body is not None:
            lines.append("Content-Length: %d" % len(body))
        lines.extend("%s: %s" % h for h in headers)
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
        if body:
            request += body
        # One retry on a fresh connection when a kept-alive one went stale.
        for attempt in (0, 1):
            if self.sock is None:
                self._connect()
            try:
                self.sock.sendall(request)
                return self._read_response()
            except (OSError, ValueError):
                self._close()
                if attempt == 1:
                    raise

    def next(self):
        status, headers, body = self._call("GET", "/2018-06-01/runtime/invocation/next")
        if status != 200:
            raise RuntimeError("runtime api /next answered %d: %r" % (status, body))
        return headers, body

    def post(self, path, body, content_type="application/json", error_type=None):
        headers = [("Content-Type", content_type)]
        if error_type:
            headers.append((ERROR_TYPE_HEADER, error_type))
        if isinstance(body, str):
            body = body.encode("utf-8")
        status, _, data = self._call("POST", path, body, headers)
        if status != 202:
            sys.stderr.write("runtime api %s answered %d: %s\n" % (path, status, data.decode("utf-8", "replace")))

    def post_result(self, request_id, body, content_type):
        self.post("/2018-06-01/runtime/invocation/%s/response" % request_id, body, content_type)

    def post_error(self, request_id, error):
        self.post("/2018-06-01/runtime/invocation/%s/error" % request_id, to_json(error), error_type=error["errorType"])

    def post_init_error(self, error):
        self.post("/2018-06-01/runtime/init/error", to_json(error), error_type=error["errorType"])


# ---------------------------------------------------------------------------- context


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client(object):
    __slots__ = ["installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name"]


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]


def _obj_from_dict(cls, values):
    if values is None:
        return None
    obj = cls()
    for field in cls.__slots__:
        setattr(obj, field, values.get(field, None))
    return obj


class LambdaContext(object):
    def __init__(self, request_id, client_context, cognito_identity, deadline_ms, invoked_function_arn, tenant_id=None):
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.client_context = _obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = _obj_from_dict(Client, self.client_context.client)
        self.identity = _obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        delta = self._deadline_ms - int(time.time() * 1000)
        return delta if delta > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,client_context=%s,"
            "identity=%s,tenant_id=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


def _parse_json_header(value, name):
    try:
        return json_loads(value)
    except Exception as e:
        raise FaultException(
            FaultException.LAMBDA_CONTEXT_UNMARSHAL_ERROR, "Unable to parse %s JSON: %s" % (name, e)
        )


# ---------------------------------------------------------------------------- logging


class Unbuffered(object):
    """Flushes after every write, so each line reaches the log at once."""

    def __init__(self, stream):
        self.stream = stream

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        n = self.stream.write(msg)
        self.stream.flush()
        return n

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


_REQUEST_ID = None


_JSON_LOGS = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"

# AWS_LAMBDA_LOG_LEVEL (ApplicationLogLevel) as the logging module's levels.
_ENV_LEVELS = {"TRACE": 0, "DEBUG": 10, "INFO": 20, "WARN": 30, "ERROR": 40, "FATAL": 50}

# The logging module's level names as AWS's JSON records spell them.
_JSON_LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL", "NOTSET": "TRACE"}


def _iso_ms(created):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + ".%03dZ" % (int(created * 1000) % 1000)


def setup_logging(logging):
    """The root logger's Lambda handler (AWS text or JSON format, AWS_LAMBDA_LOG_LEVEL), as
    awslambdaric installs it. Called with the logging module once it is imported."""
    # LogRecord attributes that are not "extra" fields of a JSON record.
    reserved = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
        "message",
        "asctime",
        "aws_request_id",
    }

    class JsonFormatter(logging.Formatter):
        """AWS's JSON record: timestamp, level, message, logger, requestId, extra fields, and
        errorType/errorMessage/stackTrace when the record carries an exception."""

        def format(self, record):
            result = {
                "timestamp": _iso_ms(record.created),
                "level": _JSON_LEVEL_NAMES.get(record.levelname, record.levelname),
                "message": record.getMessage(),
                "logger": record.name,
                "requestId": getattr(record, "aws_request_id", None) or None,
            }
            if record.exc_info and record.exc_info[0] is not None:
                import traceback

                etype, value, tb = record.exc_info
                result["errorType"] = etype.__name__
                result["errorMessage"] = str(value)
                result["stackTrace"] = traceback.format_tb(tb)
            for key, value in record.__dict__.items():
                if key not in reserved and key not in result:
                    result[key] = value
            result = {k: v for k, v in result.items() if v is not None}
            return json_dumps(result, str, False) + "\n"

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            sys.stdout.write(self.format(record))

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _REQUEST_ID or ""
            return True

    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    if _JSON_LOGS:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    level = (os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "").upper()
    if level in _ENV_LEVELS:
        logging.getLogger().setLevel(_ENV_LEVELS[level])
    elif level in logging._nameToLevel:
        logging.getLogger().setLevel(level)
    handler.addFilter(LambdaLoggerFilter())
    logging.getLogger().addHandler(handler)


class _LoggingHook(object):
    """A `sys.meta_path` entry that sets up logging when `logging` is first imported.

    Importing logging costs milliseconds (re, traceback, threading, string); a handler that
    never logs should not pay them on its cold start. The root logger still has the Lambda
    handler before any code can use it: it is installed as the import of `logging` finishes,
    before the importer's next statement. The entry removes itself on first use.
    """

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        self.remove()
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec
        spec.loader = _SetupAfterExec(loader)
        return spec

    def remove(self):
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass

    def install(self):
        if "logging" in sys.modules:
            setup_logging(sys.modules["logging"])
        else:
            sys.meta_path.insert(0, self)


class _SetupAfterExec(object):
    """Runs the real loader, then `setup_logging`, then puts the real loader back on the
    module (so `__loader__`, `__spec__.loader` and reloads are the standard ones)."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        create = getattr(self.loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        module.__loader__ = self.loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        setup_logging(module)

    def __getattr__(self, attr):
        return getattr(self.loader, attr)


_LOGGING_HOOK = _LoggingHook()


def _indent(line):
    stripped = line.lstrip(" ")
    return ERROR_LOG_IDENT * (len(line) - len(stripped)) + stripped


def log_error(error):
    if _JSON_LOGS:
        record = {
            "timestamp": _iso_ms(time.time()),
            "level": "ERROR",
            "message": error.get("errorMessage", ""),
            "errorType": error.get("errorType", ""),
            "errorMessage": error.get("errorMessage", ""),
            "stackTrace": error.get("stackTrace") or [],
            "requestId": error.get("requestId") or _REQUEST_ID or "",
        }
        sys.stdout.write(json_dumps(record, str, False) + "\n")
        return
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    stack = error.get("stackTrace")
    if stack is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack:
            if element == "":
                lines.append("")
            else:
                lines.extend(_indent(line) for line in element.splitlines())
    sys.stdout.write(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


# ---------------------------------------------------------------------------- errors


def make_error(message, error_type, stack_trace, request_id=None):
    return {
        "errorMessage": message if message else "",
        "errorType": error_type if error_type else "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    import traceback

    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i, frame in enumerate(frames):
        if "/bootstrap.py" not in frame[0] and "/_lambdabox_bootstrap.py" not in frame[0]:
            return frames[i:]
    return frames


def fault_result(exc_info, request_id=None):
    import traceback

    etype, value, tb = exc_info
    return make_error(str(value), etype.__name__, traceback.format_list(_user_frames(tb)), request_id)


# ---------------------------------------------------------------------------- handler


def get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(FaultException.MALFORMED_HANDLER_NAME, "Bad handler '%s': %s" % (handler, e))
    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                FaultException.BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module %s as a handler module" % modname,
            )
        import importlib  # loaded by site on most interpreters; AWS's frames start in it

        module = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(FaultException.IMPORT_MODULE_ERROR, "Unable to import module '%s': %s" % (modname, e))
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            FaultException.USER_CODE_SYNTAX_ERROR, "Syntax error in module '%s': %s" % (modname, e), trace
        )
    try:
        return getattr(module, fname)
    except AttributeError:
        raise FaultException(
            FaultException.HANDLER_NOT_FOUND, "Handler '%s' missing on module '%s'" % (fname, modname)
        )


def setup_sys_path(task_root):
    """/var/task, the layer paths, /var/runtime first; this client's own directory not at all."""
    own = os.path.dirname(os.path.abspath(__file__))
    version = "python%d.%d" % sys.version_info[:2]
    front = [task_root, "/opt/python/lib/%s/site-packages" % version, "/opt/python"]
    rest = [p for p in sys.path if p not in front and p != own and p != ""]
    if "/var/runtime" not in rest:
        rest.insert(0, "/var/runtime")
    sys.path[:] = front + rest


# ---------------------------------------------------------------------------- loop


def handle_invocation(client, handler, headers, body):
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    error = None
    try:
        client_context = headers.get("lambda-runtime-client-context")
        cognito = headers.get("lambda-runtime-cognito-identity")
        context = LambdaContext(
            request_id,
            _parse_json_header(client_context, "Client Context") if client_context else None,
            _parse_json_header(cognito, "Cognito Identity") if cognito else None,
            int(headers.get("lambda-runtime-deadline-ms") or 0),
            headers.get("lambda-runtime-invoked-function-arn"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        content_type = headers.get("content-type", "application/json")
        if content_type == "application/json":
            try:
                event = json_loads(body)
            except Exception as e:
                raise FaultException(FaultException.UNMARSHAL_ERROR, "Unable to unmarshal input: %s" % e)
        else:
            event = body
        result = handler(event, context)
        if isinstance(result, bytes):
            payload, result_type = result, "application/unknown"
        else:
            try:
                payload, result_type = to_json(result), "application/json"
            except Exception as e:
                raise FaultException(FaultException.MARSHAL_ERROR, "Unable to marshal response: %s" % e)
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace, request_id)
    except Exception:
        error = fault_result(sys.exc_info(), request_id)
    if error is not None:
        log_error(error)
        client.post_error(request_id, error)
    else:
        client.post_result(request_id, payload, result_type)


def main():
    global _REQUEST_ID
    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or "/var/task"
    setup_sys_path(task_root)
    client = RuntimeClient(os.environ.get("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"))
    error = None
    try:
        _LOGGING_HOOK.install()
        handler = get_handler(os.environ.get("_HANDLER", ""))
    except FaultException as e:
        error = make_error(e.msg, e.exception_type, e.trace)
    except Exception:
        error = fault_result(sys.exc_info())
    if error is not None:
        import logging

        logging.warning(UNHANDLED_WARNING)
        log_error(error)
        client.post_init_error(error)
        sys.exit(1)
    while True:
        headers, body = client.next()
        _REQUEST_ID = headers.get("lambda-runtime-aws-request-id")
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id is not None:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        handle_invocation(client, handler, headers, body)


if __name__ == "__main__":
    main()
