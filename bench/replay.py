"""Replays a recorded request sequence against the timed launcher, one request at a time.

    python3 bench/replay.py ENDPOINT LOG.json [--drop ACTION,...] [--append ACTION[?K=V&...]]...

LOG.json is `/__bench/stats?log=1` from bench/timed_launcher.py after a keywarden run: the
actions (and user names / key ids) keywarden sent, in the order the server began serving them.
This sends the same requests, in the same order, over one keep-alive HTTP/1.1 connection, unsigned
(moto accepts unsigned requests while auth is off), with the smallest client the standard library
has. It prints one JSON object: the replay's wall time and the number of requests. With the
timing wrapper's own `busy_seconds` for the replay, that is what the server costs for exactly
keywarden's requests when nothing else competes for the CPU or the GIL.

What-if plans: `--drop iam:GetAccessKeyLastUsed,iam:ListUserTags` leaves those actions out;
`--append 'iam:GetAccountAuthorizationDetails?Filter.member.1=User'` sends one more request
(after the recorded ones). The server's time for the result is what a keywarden making exactly
those calls would wait for.
"""

from __future__ import annotations

import http.client
import json
import sys
import time
from urllib.parse import urlencode, urlparse

QUERY_VERSION = {"iam": "2010-05-08", "sts": "2011-06-15"}
CLOUDTRAIL_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
TRAIL_ARN = "arn:aws:cloudtrail:us-east-1:123456789012:trail/"


def request_for(action: str, ident: str, trails: list[str]) -> tuple[dict[str, str], bytes]:
    service, name = action.split(":", 1)
    if service == "cloudtrail":
        body: dict = {}
        if name == "DescribeTrails":
            body = {"includeShadowTrails": True}
        elif name == "GetTrailStatus":
            body = {"Name": trails[0] if trails else ""}
        elif name == "GetEventSelectors":
            body = {"TrailName": trails[0] if trails else ""}
        headers = {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": CLOUDTRAIL_TARGET + name,
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAKEYWARDENADMIN00/20250601/us-east-1/cloudtrail/aws4_request, SignedHeaders=host, Signature=0",
        }
        return headers, json.dumps(body).encode()
    params = {"Action": name, "Version": QUERY_VERSION[service]}
    for pair in filter(None, ident.replace("&", ",").split(",")):
        key, value = pair.split("=", 1)
        params[key] = value
    headers = {
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIAKEYWARDENADMIN00/20250601/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0",
    }
    return headers, urlencode(params).encode()


def main() -> int:
    args = sys.argv[1:]
    endpoint, log_path = args[0], args[1]
    drop: set[str] = set()
    append: list[list[str]] = []
    rest = args[2:]
    while rest:
        option, value, rest = rest[0], rest[1], rest[2:]
        if option == "--drop":
            drop.update(filter(None, value.split(",")))
        elif option == "--append":
            action, _, query = value.partition("?")
            append.append([action, query])
        else:
            raise SystemExit(f"replay.py: unknown option {option}")
    with open(log_path, encoding="utf-8") as f:
        log = [entry for entry in json.load(f)["log"] if entry[0] not in drop] + append
    url = urlparse(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    trails = [TRAIL_ARN + "org-trail", TRAIL_ARN + "regional-trail"]
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    for action, ident in log:
        action = action.removesuffix(" (error)")
        if ":" not in action:
            continue
        headers, body = request_for(action, ident, trails)
        conn.request("POST", "/", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        statuses[response.status] = statuses.get(response.status, 0) + 1
    wall = time.perf_counter() - started
    conn.close()
    print(json.dumps({"requests": sum(statuses.values()), "wall_seconds": round(wall, 3), "statuses": statuses}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
