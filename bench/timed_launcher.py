"""tests/moto/launcher.py with a WSGI timing wrapper, for scripts/bench-live.sh.

    .venv/bin/python bench/timed_launcher.py SCENARIO.json [launcher options]

Runs the project's launcher unchanged (same scenario format, same JSON line, same lifeline on
stdin) with one addition: every request that reaches the WSGI app is timed, from the moment
werkzeug hands it to the app until the response body has been produced and closed. That is the
time moto (with the launcher's fixture middleware) spends serving it; werkzeug's own HTTP parsing
and socket writes are outside it, and so is the client.

Two extra paths, answered by the wrapper and never passed to moto:

    GET /__bench/reset   forget every recorded request
    GET /__bench/stats   JSON: {"requests": N, "busy_seconds": union of the serving intervals,
                         "sum_seconds": sum of per-request times, "first"/"last": monotonic
                         bounds, "by_action": {action: {"n", "sum_seconds", "max_seconds"}},
                         "log": [[action, params], ...] when ?log=1}

`busy_seconds` is the time during which the server was serving at least one request: with
several requests in flight it is less than `sum_seconds`. Only the clock is read on the request
path; the statistics are computed when /__bench/stats is asked.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "moto"))

import launcher  # noqa: E402  (the project's launcher, unchanged)

# Query-protocol API versions of the services the benchmarked tools call.
QUERY_SERVICES = {"2010-05-08": "iam", "2011-06-15": "sts", "2016-11-15": "ec2"}
# JSON-protocol services, by the X-Amz-Target prefix before the operation.
JSON_SERVICES = {"CloudTrail_20131101": "cloudtrail", "AWSOrganizationsV20161128": "organizations"}

_lock = threading.Lock()
_records: list[tuple[float, float, str, str]] = []  # (start, end, action, key params)


def _action(environ: dict) -> tuple[str, str]:
    """(action, identifying parameters) without consuming the body for the app."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        prefix, _, operation = target.rpartition(".")
        return JSON_SERVICES.get(prefix.rsplit(".", 1)[-1], prefix) + ":" + operation, ""
    params = parse_qs(environ.get("QUERY_STRING", ""))
    if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        import io

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params.update(parse_qs(body.decode("utf-8", "replace")))
    action = params.get("Action", [None])[0]
    if action is None:
        return f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}", ""
    service = QUERY_SERVICES.get(params.get("Version", [""])[0], "query")
    ident = ",".join(f"{k}={params[k][0]}" for k in ("UserName", "AccessKeyId") if k in params)
    return f"{service}:{action}", ident


def _stats(with_log: bool) -> dict[str, Any]:
    with _lock:
        records = list(_records)
    records.sort()
    busy = 0.0
    cur_start = cur_end = None
    for start, end, _, _ in records:
        if cur_end is None or start > cur_end:
            if cur_end is not None:
                busy += cur_end - cur_start
            cur_start, cur_end = start, end
        else:
            cur_end = max(cur_end, end)
    if cur_end is not None:
        busy += cur_end - cur_start
    by_action: dict[str, dict[str, float]] = {}
    for start, end, action, _ in records:
        entry = by_action.setdefault(action, {"n": 0, "sum_seconds": 0.0, "max_seconds": 0.0})
        entry["n"] += 1
        entry["sum_seconds"] += end - start
        entry["max_seconds"] = max(entry["max_seconds"], end - start)
    out: dict[str, Any] = {
        "requests": len(records),
        "busy_seconds": busy,
        "sum_seconds": sum(end - start for start, end, _, _ in records),
        "first": records[0][0] if records else None,
        "last": max(end for _, end, _, _ in records) if records else None,
        "by_action": dict(sorted(by_action.items())),
    }
    if with_log:
        out["log"] = [[action, ident] for _, _, action, ident in records]
    return out


class _Timed:
    """Wraps a response iterable; records the request when the server closes it."""

    def __init__(self, body: Iterable[bytes], start: float, action: str, ident: str):
        self.body, self.start, self.action, self.ident = body, start, action, ident
        self.chunks = list(body)  # produce the whole body inside the timed interval
        close = getattr(body, "close", None)
        if close:
            close()
        end = time.perf_counter()
        with _lock:
            _records.append((start, end, action, ident))

    def __iter__(self):
        return iter(self.chunks)


class TimedMiddleware:
    """Outermost WSGI layer: times the launcher's FixtureMiddleware (and moto under it)."""

    def __init__(self, app: Callable, fixture: Any):
        self.inner = launcher_fixture_middleware(app, fixture)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/__bench/"):
            if path == "/__bench/reset":
                with _lock:
                    _records.clear()
                body = b'{"reset": true}'
            else:
                body = json.dumps(_stats("log=1" in environ.get("QUERY_STRING", ""))).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        start = time.perf_counter()
        action, ident = _action(environ)
        try:
            body = self.inner(environ, start_response)
        except BaseException:
            # moto raises for actions it does not implement (werkzeug answers 500): still served.
            with _lock:
                _records.append((start, time.perf_counter(), action + " (error)", ident))
            raise
        return _Timed(body, start, action, ident)


launcher_fixture_middleware = launcher.FixtureMiddleware
# main() looks FixtureMiddleware up in the module's globals when it wraps the server's app.
launcher.FixtureMiddleware = TimedMiddleware

if __name__ == "__main__":
    sys.exit(launcher.main())
