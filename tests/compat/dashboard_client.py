"""A small HTTP client for the dashboard (cookie jar, no automatic redirects, CSRF tokens
scraped from the pages), shared by the dashboard tests and the dashboard benchmark."""

from __future__ import annotations

import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


def first_admin_password(data_dir: Path) -> str:
    """The generated password of `admin` from `<data>/dashboard-credentials`."""
    for line in (Path(data_dir) / "dashboard-credentials").read_text().splitlines():
        if line.startswith("password = "):
            return line.split(" = ", 1)[1].strip()
    raise AssertionError("no password line in dashboard-credentials")


class Dashboard:
    """One browser-like session against a daemon's dashboard."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.csrf = ""

    def request(self, method: str, path: str, data: dict | list | None = None,
                headers: dict | None = None, body: bytes | None = None) -> Response:
        if data is not None:
            body = urllib.parse.urlencode(data).encode()
            headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        req = urllib.request.Request(self.endpoint + path, data=body, method=method,
                                     headers=headers or {})
        try:
            with self.opener.open(req, timeout=60) as r:
                resp = Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            resp = Response(e.code, e.headers, e.read())
        m = re.search(rb'name="csrf" value="([0-9a-f]+)"', resp.body)
        if m and path != "/ui/login":
            self.csrf = m.group(1).decode()
        return resp

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, data: dict | list, csrf: bool = True) -> Response:
        if csrf and isinstance(data, dict):
            data = {"csrf": self.csrf, **data}
        return self.request("POST", path, data=data)

    def post_multipart(self, path: str, fields: dict, files: dict | None = None,
                       csrf: bool = True) -> Response:
        """POST multipart/form-data; `files` maps field -> (filename, bytes). The CSRF token
        is the first field, as the dashboard's upload forms send it (never in the URL)."""
        boundary = "----lambdabox-test-boundary"
        parts = []
        if csrf:
            fields = {"csrf": self.csrf, **fields}
        for k, v in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
        for k, (fname, data) in (files or {}).items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{fname}"\r\nContent-Type: application/zip\r\n\r\n'.encode() + data + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request("POST", path, body=b"".join(parts),
                            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def create_function(self, name: str, runtime: str = "python3.11", code: str | None = None,
                        env: str = "", memory: int = 128, timeout: int = 3) -> Response:
        fields = {"name": name, "runtime": runtime, "architecture": "x86_64",
                  "handler": "lambda_function.lambda_handler" if runtime.startswith("python") else "index.handler",
                  "memory": str(memory), "timeout": str(timeout), "env": env, "source": "inline",
                  "code": code if code is not None else
                  "import os\ndef lambda_handler(event, context):\n    print('hello from', context.function_name)\n    return {'greeting': os.environ.get('GREETING'), 'event': event}\n"}
        return self.post_multipart("/ui/functions/new", fields)

    def login(self, username: str, password: str) -> Response:
        page = self.get("/ui/login")
        token = re.search(rb'name="csrf" value="([0-9a-f]+)"', page.body)
        assert token, page.text
        return self.request("POST", "/ui/login", data={
            "csrf": token.group(1).decode(), "next": "/ui/functions",
            "username": username, "password": password,
        })

    def login_ok(self, username: str, password: str) -> None:
        r = self.login(username, password)
        assert r.status == 303 and r.location == "/ui/functions", (r.status, r.text[:500])
        home = self.get("/ui/functions")
        assert home.status == 200, home.status

    def timed_get(self, path: str) -> tuple[float, float | None, Response]:
        """(client seconds, server-side app milliseconds from Server-Timing, response)."""
        t = time.perf_counter()
        r = self.get(path)
        dt = time.perf_counter() - t
        st = r.headers.get("Server-Timing", "")
        m = re.search(r"app;dur=([0-9.]+)", st)
        return dt, float(m.group(1)) if m else None, r
