#!/usr/bin/env python3
"""Self-test of the moto fixture launcher (tests/moto/launcher.py).

    scripts/ensure-moto.sh && .venv/bin/python tests/moto/selftest.py

Starts the launcher as a subprocess, exactly as an integration test would, and
checks with boto3 that the scenario is served as documented in README.md:
users, keys and their backdated dates, MFA, the password policy, trails, fault
injection, the credential report (in-progress polling, AWS shape, moto's own
shape), IAM authorization, bulk seeding, determinism, S3 objects, LookupEvents
from fixture events (paging, filters, validation, throttling, the call log) and
the launcher's lifetime (stdin EOF, --max-seconds, bad scenarios). Exits 1 on
any mismatch.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import gzip
import io
import json
import os
import re
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

LAUNCHER = Path(__file__).with_name("launcher.py")
NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.timezone.utc)
ACCOUNT = "123456789012"
NO_RETRIES = Config(retries={"total_max_attempts": 1})

failures: list[str] = []


def check(condition: bool, what: str) -> None:
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)


def equal(actual: Any, expected: Any, what: str) -> None:
    check(actual == expected, what if actual == expected else f"{what}: got {actual!r}, expected {expected!r}")


def ago(days: float) -> dt.datetime:
    """The scenario's now minus `days`, as boto3 returns dates."""
    return NOW - dt.timedelta(days=days)


def rep(value: dt.datetime) -> str:
    """A credential-report timestamp."""
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def raw_body(client: Any, operation: str, call: Callable[[], Any]) -> bytes:
    """The HTTP body moto answered to a boto3 call."""
    bodies: list[bytes] = []
    event = f"after-call.{client.meta.service_model.endpoint_prefix}.{operation}"
    client.meta.events.register(event, lambda http_response, **_: bodies.append(http_response.content))
    call()
    return bodies[0]


def error_of(call: Callable[[], Any]) -> tuple[str | None, int | None, str | None]:
    """(code, HTTP status, message) of the ClientError a call raises, or Nones."""
    try:
        call()
    except ClientError as e:
        return (
            e.response["Error"]["Code"],
            e.response["ResponseMetadata"]["HTTPStatusCode"],
            e.response["Error"].get("Message"),
        )
    return None, None, None


class Launch:
    """One launcher subprocess, reached through its JSON line."""

    def __init__(self, scenario: dict, *, via_stdin: bool = False, args: tuple[str, ...] = ()):
        self.tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump(scenario, self.tmp)
        self.tmp.close()
        source = "-" if via_stdin else self.tmp.name
        self.stderr = tempfile.TemporaryFile()
        self.failures_before = len(failures)
        self.proc = subprocess.Popen(
            [sys.executable, str(LAUNCHER), source, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.stdin = self.proc.stdin
        if via_stdin:  # pretty-printed on purpose: the launcher reads until the document is complete
            self.stdin.write(json.dumps(scenario, indent=2).encode() + b"\n")
            self.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], 120)
        line = self.proc.stdout.readline() if ready else b""
        self.info: dict = json.loads(line) if line else {"error": "no JSON line within 120 s"}

    def client(self, service: str, key: str | None = None, secret: str | None = None, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            endpoint_url=self.info["endpoint"],
            region_name=region,
            aws_access_key_id=key or self.info["access_key_id"],
            aws_secret_access_key=secret or self.info["secret_access_key"],
            config=NO_RETRIES,
        )

    def close(self) -> float:
        """Close stdin (as a dying parent would); the seconds the launcher took to exit."""
        started = time.monotonic()
        self.stdin.close()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.unlink(self.tmp.name)
        if len(failures) > self.failures_before:  # show the launcher's log with its failures
            self.stderr.seek(0)
            print(
                "---- launcher stderr ----\n"
                + self.stderr.read().decode(errors="replace")
                + "-------------------------"
            )
        return time.monotonic() - started


MAIN_SCENARIO = {
    "now": "2025-06-01T12:00:00Z",
    "users": [
        {
            "name": "alice",
            "created": "-400d",
            "tags": {"team": "payments"},
            "password": {"set": True, "created": "-300d", "last_used": "-2d"},
            "mfa": True,
            "access_keys": [
                {
                    "status": "Active",
                    "created": "-200d",
                    "last_used": {"date": "-1d", "service": "s3", "region": "eu-west-1"},
                },
                {"status": "Inactive", "created": "-100d"},
            ],
        },
        {"name": "bob", "created": "-50d", "access_keys": [{"created": "-50d", "last_used": "-47d"}]},
        {"name": "carol", "password": {"created": "-10d"}},
        {"name": "dave", "created": "2024-01-01T00:00:00+02:00", "password": {"set": False}},
    ],
    "root": {
        "created": "2015-03-01T00:00:00Z",
        "mfa": False,
        "password_last_used": "-30d",
        "access_keys": [
            {"created": "2016-01-01T00:00:00Z", "last_used": {"date": "-400d", "service": "ec2", "region": "us-west-2"}}
        ],
    },
    "password_policy": {
        "MinimumPasswordLength": 14,
        "RequireSymbols": True,
        "RequireNumbers": True,
        "RequireUppercaseCharacters": True,
        "RequireLowercaseCharacters": True,
        "PasswordReusePrevention": 24,
        "MaxPasswordAge": 90,
    },
    "trails": [
        {"name": "org-trail", "multi_region": True, "logging": True, "management_events": True},
        {
            "name": "local-data",
            "multi_region": False,
            "logging": False,
            "management_events": False,
            "region": "eu-west-1",
        },
    ],
    "faults": [
        {"action": "ListAccessKeys", "status": 400, "code": "Throttling", "times": 2},
        {"action": "GetAccessKeyLastUsed", "status": 500, "code": "ServiceFailure", "message": "boom", "times": 1},
        {"action": "DescribeTrails", "status": 400, "code": "ThrottlingException", "times": 1},
        # The write lands, its reply is lost.
        {"action": "CreateUser", "status": 500, "code": "InternalFailure", "message": "lost", "after": True},
    ],
    "credential_report": {
        "in_progress_polls": 3,
        "aws_shape": True,
        # The report disagrees with the API on purpose: bob's key looks used 49 days ago, from nowhere.
        "overrides": {"bob": {"access_key_1_last_used_date": "-49d", "access_key_1_last_used_region": "N/A"}},
    },
}


def test_main(launch: Launch) -> None:
    info = launch.info
    equal(info.get("error"), None, "main: launcher started")
    if "error" in info:
        return
    check(info["endpoint"].startswith("http://127.0.0.1:"), "main: endpoint on 127.0.0.1")
    equal(
        (info["account_id"], info["now"], info["auth_enforced"]),
        (ACCOUNT, "2025-06-01T12:00:00Z", False),
        "main: account, now, auth",
    )
    equal(
        {n: [k["status"] for k in ks] for n, ks in info["users"].items()},
        {"alice": ["Active", "Inactive"], "bob": ["Active"], "carol": [], "dave": []},
        "main: users and keys in the JSON line",
    )
    alice_keys = [k["access_key_id"] for k in info["users"]["alice"]]
    bob_key = info["users"]["bob"][0]["access_key_id"]
    admin = info["access_key_id"]
    check(admin not in [*alice_keys, bob_key], "main: admin key is not a fixture key")

    iam = launch.client("iam")
    equal([u["UserName"] for u in iam.list_users()["Users"]], ["alice", "bob", "carol", "dave"], "ListUsers")
    alice = iam.get_user(UserName="alice")["User"]
    equal(alice["CreateDate"], ago(400), "alice CreateDate")
    equal(alice.get("PasswordLastUsed"), ago(2), "alice PasswordLastUsed")
    equal(
        iam.get_user(UserName="dave")["User"]["CreateDate"],
        dt.datetime(2023, 12, 31, 22, tzinfo=dt.timezone.utc),
        "dave CreateDate (offset converted to UTC)",
    )
    equal(iam.get_user(UserName="carol")["User"]["CreateDate"], ago(10), "carol CreateDate defaults to the password's")
    equal(iam.list_user_tags(UserName="alice")["Tags"], [{"Key": "team", "Value": "payments"}], "alice tags")
    equal(
        iam.get_login_profile(UserName="alice")["LoginProfile"]["CreateDate"],
        ago(300),
        "alice GetLoginProfile CreateDate = password created",
    )
    equal(error_of(lambda: iam.get_login_profile(UserName="dave"))[0], "NoSuchEntity", "dave has no login profile")

    mfa = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    equal(
        [(d["SerialNumber"], d["EnableDate"]) for d in mfa],
        [(f"arn:aws:iam::{ACCOUNT}:mfa/alice", ago(400))],
        "alice MFA device, enable date",
    )
    equal(iam.list_mfa_devices(UserName="carol")["MFADevices"], [], "carol has no MFA")
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    equal(
        [(d["SerialNumber"], d["EnableDate"]) for d in assigned],
        [(f"arn:aws:iam::{ACCOUNT}:mfa/alice", ago(400))],
        "virtual MFA device assigned",
    )

    # Faults: the first two ListAccessKeys are throttled, the third succeeds.
    equal(
        error_of(lambda: iam.list_access_keys(UserName="alice")),
        ("Throttling", 400, "Rate exceeded"),
        "fault 1/2: ListAccessKeys Throttling",
    )
    equal(
        error_of(lambda: iam.list_access_keys(UserName="alice"))[0],
        "Throttling",
        "fault 2/2: ListAccessKeys Throttling",
    )
    keys = iam.list_access_keys(UserName="alice")["AccessKeyMetadata"]
    equal(
        [(k["AccessKeyId"], k["Status"], k["CreateDate"]) for k in keys],
        [(alice_keys[0], "Active", ago(200)), (alice_keys[1], "Inactive", ago(100))],
        "alice ListAccessKeys after the faults",
    )
    equal(
        error_of(lambda: iam.get_access_key_last_used(AccessKeyId=alice_keys[0])),
        ("ServiceFailure", 500, "boom"),
        "fault: GetAccessKeyLastUsed 500",
    )
    used = iam.get_access_key_last_used(AccessKeyId=alice_keys[0])["AccessKeyLastUsed"]
    equal(
        (used.get("LastUsedDate"), used["ServiceName"], used["Region"]),
        (ago(1), "s3", "eu-west-1"),
        "alice key 1 last used",
    )
    used = iam.get_access_key_last_used(AccessKeyId=alice_keys[1])["AccessKeyLastUsed"]
    equal(
        (used.get("LastUsedDate"), used["ServiceName"], used["Region"]), (None, "N/A", "N/A"), "alice key 2 never used"
    )
    used = iam.get_access_key_last_used(AccessKeyId=bob_key)["AccessKeyLastUsed"]
    equal(
        (used.get("LastUsedDate"), used["ServiceName"], used["Region"]),
        (ago(47), "iam", "us-east-1"),
        "bob key last used (string form, defaults)",
    )

    policy = iam.get_account_password_policy()["PasswordPolicy"]
    equal(
        (
            policy["MinimumPasswordLength"],
            policy["PasswordReusePrevention"],
            policy["MaxPasswordAge"],
            policy["ExpirePasswords"],
        ),
        (14, 24, 90, True),
        "password policy",
    )
    summary = iam.get_account_summary()["SummaryMap"]
    equal((summary["AccountMFAEnabled"], summary["AccountAccessKeysPresent"]), (0, 1), "account summary follows root")

    # Credential report: in_progress_polls = 3 -> STARTED, INPROGRESS, (Get: ReportInProgress), COMPLETE.
    equal(iam.generate_credential_report()["State"], "STARTED", "GenerateCredentialReport 1: STARTED")
    equal(iam.generate_credential_report()["State"], "INPROGRESS", "GenerateCredentialReport 2: INPROGRESS")
    equal(error_of(iam.get_credential_report)[:2], ("ReportInProgress", 404), "GetCredentialReport while in progress")
    equal(iam.generate_credential_report()["State"], "COMPLETE", "GenerateCredentialReport 3: COMPLETE")
    report = iam.get_credential_report()
    equal(report["GeneratedTime"], NOW, "report GeneratedTime = now")
    content = report["Content"].decode()
    check(not content.endswith("\n"), "report has no final newline, like AWS's")
    rows = list(csv.reader(io.StringIO(content)))
    check(all(len(r) == 22 for r in rows), "report: 22 columns in every row")
    by_user = {r[0]: r for r in rows[1:]}
    equal(list(by_user), ["<root_account>", "alice", "bob", "carol", "dave"], "report rows")
    equal(
        by_user["<root_account>"],
        [
            "<root_account>",
            f"arn:aws:iam::{ACCOUNT}:root",
            "2015-03-01T00:00:00+00:00",
            "not_supported",
            rep(ago(30)),
            "not_supported",
            "not_supported",
            "false",
            "true",
            "2016-01-01T00:00:00+00:00",
            rep(ago(400)),
            "us-west-2",
            "ec2",
            "false",
            "N/A",
            "N/A",
            "N/A",
            "N/A",
            "false",
            "N/A",
            "false",
            "N/A",
        ],
        "report: root row",
    )
    equal(
        by_user["alice"],
        [
            "alice",
            f"arn:aws:iam::{ACCOUNT}:user/alice",
            rep(ago(400)),
            "true",
            rep(ago(2)),
            rep(ago(300)),
            rep(ago(210)),
            "true",
            "true",
            rep(ago(200)),
            rep(ago(1)),
            "eu-west-1",
            "s3",
            "false",
            rep(ago(100)),
            "N/A",
            "N/A",
            "N/A",
            "false",
            "N/A",
            "false",
            "N/A",
        ],
        "report: alice row",
    )
    equal(
        by_user["bob"][2:18],
        [
            rep(ago(50)),
            "false",
            "N/A",
            "N/A",
            "N/A",
            "false",
            "true",
            rep(ago(50)),
            rep(ago(49)),
            "N/A",
            "iam",
            "false",
            "N/A",
            "N/A",
            "N/A",
            "N/A",
        ],
        "report: bob row (overrides patch the last-used date and region)",
    )
    used = iam.get_access_key_last_used(AccessKeyId=bob_key)["AccessKeyLastUsed"]
    equal(
        (used.get("LastUsedDate"), used["Region"]),
        (ago(47), "us-east-1"),
        "overrides change the report only: GetAccessKeyLastUsed still answers the seeded last use",
    )
    equal(
        by_user["carol"][3:8],
        ["true", "no_information", rep(ago(10)), rep(ago(-80)), "false"],
        "report: carol password never used",
    )

    # Trails (CloudTrail speaks the JSON protocol: the fault comes back as JSON).
    cloudtrail = launch.client("cloudtrail")
    equal(
        error_of(cloudtrail.describe_trails)[:2], ("ThrottlingException", 400), "fault: DescribeTrails (JSON protocol)"
    )
    trails = cloudtrail.describe_trails()["trailList"]
    equal(
        [(t["Name"], t["IsMultiRegionTrail"], t["HomeRegion"]) for t in trails],
        [("org-trail", True, "us-east-1")],
        "DescribeTrails in us-east-1",
    )
    equal(cloudtrail.get_trail_status(Name="org-trail")["IsLogging"], True, "org-trail is logging")
    selectors = cloudtrail.get_event_selectors(TrailName="org-trail")["EventSelectors"]
    equal(
        [(s["ReadWriteType"], s["IncludeManagementEvents"]) for s in selectors],
        [("All", True)],
        "org-trail event selectors",
    )
    cloudtrail_eu = launch.client("cloudtrail", region="eu-west-1")
    equal(
        sorted(t["Name"] for t in cloudtrail_eu.describe_trails()["trailList"]),
        ["local-data", "org-trail"],
        "DescribeTrails in eu-west-1",
    )
    equal(cloudtrail_eu.get_trail_status(Name="local-data")["IsLogging"], False, "local-data is not logging")
    selectors = cloudtrail_eu.get_event_selectors(TrailName="local-data")["EventSelectors"]
    equal([s["IncludeManagementEvents"] for s in selectors], [False], "local-data excludes management events")

    # All the calls above used the admin key: fixture keys are untouched ...
    used = iam.get_access_key_last_used(AccessKeyId=alice_keys[0])["AccessKeyLastUsed"]
    equal(used.get("LastUsedDate"), ago(1), "admin requests leave fixture last-used dates alone")
    # ... while any request signed with a fixture key rewrites its last use (moto quirk).
    bob = info["users"]["bob"][0]
    launch.client("sts", bob["access_key_id"], bob["secret_access_key"]).get_caller_identity()
    used = iam.get_access_key_last_used(AccessKeyId=bob_key)["AccessKeyLastUsed"]
    check(
        used["LastUsedDate"] > dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
        and used["ServiceName"] == "sts",
        "quirk: a request signed with a fixture key sets its last use to the wall clock",
    )

    # Other moto behaviour the integration tests must know about.
    iam.update_access_key(UserName="bob", AccessKeyId=bob_key, Status="Bogus")
    equal(
        iam.list_access_keys(UserName="bob")["AccessKeyMetadata"][0]["Status"],
        "Bogus",
        "quirk: UpdateAccessKey accepts any status",
    )
    equal(error_of(cloudtrail.lookup_events)[1], 500, "quirk: LookupEvents is not implemented (HTTP 500)")
    cloudtrail.create_trail(Name="bare", S3BucketName=f"keywarden-cloudtrail-{ACCOUNT}")
    equal(
        cloudtrail.get_event_selectors(TrailName="bare")["EventSelectors"],
        [],
        "quirk: a new trail has no event selectors",
    )
    # A fault with "after": moto performs the write, the caller gets the error anyway.
    equal(
        error_of(lambda: iam.create_user(UserName="yan")),
        ("InternalFailure", 500, "lost"),
        "fault after: CreateUser answers 500",
    )
    equal(iam.get_user(UserName="yan")["User"]["UserName"], "yan", "fault after: the write landed")
    equal(
        error_of(lambda: iam.create_user(UserName="yan"))[0],
        "EntityAlreadyExists",
        "fault after: the retry finds the write done",
    )
    iam.create_user(UserName="zed")
    raw = raw_body(iam, "GetUser", lambda: iam.get_user(UserName="zed"))
    check(
        re.search(rb"<CreateDate>[0-9T:-]+\.[0-9]{6}Z</CreateDate>", raw) is not None,
        "quirk: objects moto dates itself carry microseconds (2025-06-01T12:00:00.123456Z)",
    )


AUTH_SCENARIO = {
    "now": "2025-06-01T12:00:00Z",
    "users": [
        {"name": "erin", "created": "-20d", "access_keys": [{"status": "Inactive", "created": "-10d"}]},
        {"name": "frank", "created": "-5d", "password": {"created": "-5d"}, "access_keys": [{"created": "-5d"}]},
    ],
    "auth": {
        "enforce": True,
        "principal": {
            "name": "auditor",
            "policy": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["iam:Get*", "iam:List*", "iam:GenerateCredentialReport"],
                        "Resource": "*",
                    }
                ],
            },
        },
    },
}


def test_auth_and_moto_report(launch: Launch) -> None:
    info = launch.info
    equal(info.get("error"), None, "auth: launcher started (scenario on stdin)")
    if "error" in info:
        return
    equal(info["auth_enforced"], True, "auth: JSON line says auth is enforced")
    principal = info.get("principal", {})
    equal(principal.get("user_name"), "auditor", "auth: principal credentials in the JSON line")
    iam = launch.client("iam", principal["access_key_id"], principal["secret_access_key"])
    equal(
        [u["UserName"] for u in iam.list_users()["Users"]],
        ["erin", "frank", "auditor"],
        "auth: principal may ListUsers (and is itself a user)",
    )
    equal(iam.get_user(UserName="auditor")["User"]["CreateDate"], NOW, "auth: principal created at now")
    equal(
        error_of(lambda: iam.delete_user(UserName="erin"))[:2],
        ("AccessDenied", 403),
        "auth: principal may not DeleteUser",
    )
    # moto answers <ErrorResponse><Errors><Error>, which the AWS SDK for Rust cannot read; the
    # launcher re-encodes it in the Query shape AWS uses.
    denied = raw_body(iam, "DeleteUser", lambda: error_of(lambda: iam.delete_user(UserName="erin")))
    check(
        re.fullmatch(
            rb"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: "
            rb"arn:aws:iam::123456789012:user/auditor is not authorized to perform: iam:DeleteUser</Message>"
            rb"</Error><RequestId>[0-9a-f]+</RequestId></ErrorResponse>",
            denied,
        )
        is not None,
        f"auth: a denied Query request gets AWS's Query error shape ({denied[:100]!r})",
    )
    cloudtrail = launch.client("cloudtrail", principal["access_key_id"], principal["secret_access_key"])
    equal(
        error_of(cloudtrail.describe_trails)[:2],
        ("AccessDeniedException", 403),
        "auth: principal may not DescribeTrails (JSON error)",
    )
    equal(
        error_of(launch.client("iam").list_users)[:2],
        ("InvalidClientTokenId", 403),
        "auth: admin credentials rejected once auth is on",
    )
    bad_secret = launch.client("iam", principal["access_key_id"], "wrong-secret")
    equal(error_of(bad_secret.list_users)[0], "SignatureDoesNotMatch", "auth: signatures are checked")

    reset = requests.post(
        f"{info['endpoint']}/moto-api/reset-auth",
        data=b"0",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    equal(reset.status_code, 500, "quirk: /moto-api/reset-auth with a form content type fails (HTTP 500)")

    erin_key = info["users"]["erin"][0]
    identity = launch.client("sts", erin_key["access_key_id"], erin_key["secret_access_key"]).get_caller_identity()
    equal(identity["Arn"], f"arn:aws:iam::{ACCOUNT}:user/erin", "quirk: an Inactive key still authenticates")
    used = iam.get_access_key_last_used(AccessKeyId=erin_key["access_key_id"])["AccessKeyLastUsed"]
    check(
        used.get("LastUsedDate", NOW) > dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5),
        "quirk: with auth on too, signing with a key sets its last use to the wall clock",
    )

    # moto's own credential report (no credential_report section in the scenario).
    equal(iam.generate_credential_report()["State"], "STARTED", "moto report: Generate 1 STARTED")
    equal(iam.generate_credential_report()["State"], "COMPLETE", "moto report: Generate 2 COMPLETE")
    report = iam.get_credential_report()
    equal(
        report["GeneratedTime"],
        dt.datetime(2015, 2, 2, 20, 2, 2, tzinfo=dt.timezone.utc),
        "quirk: moto's GeneratedTime is fixed",
    )
    rows = {r[0]: r for r in csv.reader(io.StringIO(report["Content"].decode()))}
    check("<root_account>" not in rows, "quirk: moto's report has no <root_account> row")
    equal(
        rows["erin"][3:7],
        ["false", "not_supported", rep(ago(20)), "not_supported"],
        "quirk: moto's report for a user without password (not_supported, creation as password_last_changed)",
    )
    equal(
        rows["frank"][3:7],
        ["true", "no_information", rep(ago(5)), "not_supported"],
        "moto report: frank's password columns",
    )
    equal(
        rows["frank"][10:18],
        ["N/A", "not_supported", "not_supported", "false", "N/A", "N/A", "not_supported", "not_supported"],
        "quirk: moto's report writes not_supported for last-used region/service",
    )


def test_bulk() -> float:
    launch = Launch({"now": "2025-06-01T12:00:00Z", "bulk_users": 5000, "seed": 42})
    try:
        equal(launch.info.get("error"), None, "bulk: launcher started")
        if "error" in launch.info:
            return float("nan")
        seconds = launch.info["seed_seconds"]
        check(seconds < 3, f"bulk: 5,000 users seeded in {seconds:.2f} s (< 3 s)")
        iam = launch.client("iam")
        users = iam.list_users(MaxItems=10)["Users"]
        equal(len(users), 5000, "quirk: ListUsers ignores MaxItems (bulk: all 5,000 users in one page)")
        iam.generate_credential_report()
        rows = list(csv.reader(io.StringIO(iam.get_credential_report()["Content"].decode())))
        equal(len(rows), 5001, "bulk: credential report rows")
        created = [dt.datetime.fromisoformat(r[9]) for r in rows[1:] if r[9] != "N/A"]
        ages = [(NOW - c).days for c in created]
        check(
            min(ages) <= 5 and max(ages) >= 400 and any(85 <= a <= 95 for a in ages),
            "bulk: key ages span fresh to very old",
        )
        check(
            {r[8] for r in rows[1:]} == {"true", "false"} and {r[7] for r in rows[1:]} == {"true", "false"},
            "bulk: active/inactive keys, MFA on and off",
        )
        return seconds
    finally:
        launch.close()


def test_lifetime(first_run_keys: dict) -> None:
    started = time.monotonic()
    launch = Launch(MAIN_SCENARIO, args=("--max-seconds", "2"))
    equal(launch.info.get("users"), first_run_keys, "determinism: same scenario, same key ids and secrets")
    with contextlib.suppress(subprocess.TimeoutExpired):
        launch.proc.wait(timeout=20)
    elapsed = time.monotonic() - started
    equal(launch.proc.returncode, 0, f"--max-seconds 2: exited by itself after {elapsed:.1f} s with stdin still open")
    launch.close()

    bad = Launch({"users": [{"name": "x", "acess_keys": []}]})
    check(
        "acess_keys" in bad.info.get("error", ""), f"bad scenario: error line names the field ({bad.info.get('error')})"
    )
    bad.proc.wait(timeout=15)
    equal(bad.proc.returncode, 2, "bad scenario: exit status 2")
    bad.close()


def test_override_validation() -> None:
    """credential_report.overrides fails loudly on a typo (checked in-process: no server needed)."""
    sys.path.insert(0, str(LAUNCHER.parent))
    import launcher  # noqa: PLC0415  (imports moto: only once the server tests have run)

    def error(report: dict) -> str:
        try:
            launcher.parse_scenario({"users": [{"name": "bob"}], "credential_report": report})
        except launcher.ScenarioError as e:
            return str(e)
        return ""

    cases = [
        ({"overrides": {"bob": {"mfa_active": "true"}}}, "needs aws_shape"),
        ({"aws_shape": True, "overrides": {"bob": {"acces_key_1_active": "true"}}}, "acces_key_1_active"),
        ({"aws_shape": True, "overrides": {"bob": {"user": "eve"}}}, "bob.user"),
        ({"aws_shape": True, "overrides": {"zed": {"mfa_active": "true"}}}, "'zed'"),
        ({"aws_shape": True, "overrides": {"bob": {"password_last_used": "-3x"}}}, "password_last_used"),
        ({"aws_shape": True, "overrides": {"bob": {"arn": "a,b"}}}, "commas"),
    ]
    for report, expected in cases:
        message = error(report)
        check(expected in message, f"overrides: {report['overrides']} is refused ({message or 'accepted'})")
    scenario = launcher.parse_scenario(
        {
            "now": "2025-06-01T12:00:00Z",
            "users": [{"name": "bob"}],
            "credential_report": {
                "aws_shape": True,
                "overrides": {
                    "bob": {"password_last_used": "-1d12h", "mfa_active": "TRUE"},
                    "<root_account>": {"password_last_used": "2025-01-01T00:00:00+02:00"},
                },
            },
        }
    )
    equal(
        scenario.report.overrides if scenario.report else None,
        {
            "bob": {"password_last_used": "2025-05-31T00:00:00+00:00", "mfa_active": "TRUE"},
            "<root_account>": {"password_last_used": "2024-12-31T22:00:00+00:00"},
        },
        "overrides: times become report timestamps, other text is kept as written",
    )


def test_logs_validation() -> None:
    """s3_objects and lookup_events fail loudly on a typo (in-process, like the overrides)."""
    sys.path.insert(0, str(LAUNCHER.parent))
    import launcher  # noqa: PLC0415

    def error(raw: dict) -> str:
        try:
            launcher.parse_scenario(raw)
        except launcher.ScenarioError as e:
            return str(e)
        return ""

    cases = [
        ({"s3_objects": [{"bucket": "b-logs", "key": "k"}]}, "s3_objects[0]: exactly one of"),
        ({"s3_objects": [{"bucket": "b-logs", "key": "k", "body": "x", "body_json": {}}]}, "exactly one of"),
        ({"s3_objects": [{"bucket": "b-logs", "key": "k", "body": "x", "gzipped": True}]}, "gzipped"),
        ({"s3_objects": [{"bucket": "b-logs", "key": "k", "body_file": "/nonexistent/x"}]}, "body_file"),
        ({"lookup_events": [{"eventID": "a", "eventTime": "2025-01-01T00:00:00Z"}]}, "lookup_events[0]: missing"),
        ({"lookup_events": [{"eventID": "a", "eventTime": "yesterday", "awsRegion": "r"}]}, "eventTime"),
        ({"lookup_events": {"eventID": "a"}}, "lookup_events"),
    ]
    for raw, expected in cases:
        message = error(raw)
        check(expected in message, f"logs: {json.dumps(raw)} is refused ({message or 'accepted'})")


def lookup_record(i: int, region: str, key: str, name: str, when: str) -> dict:
    return {
        "eventID": f"evt-{i:04d}",
        "eventTime": when,
        "awsRegion": region,
        "eventName": name,
        "eventSource": "iam.amazonaws.com",
        "readOnly": name.startswith("List"),
        "userIdentity": {"type": "IAMUser", "accessKeyId": key, "userName": f"user-{key[-1]}"},
        "resources": [{"ARN": f"arn:aws:iam::{ACCOUNT}:user/target", "type": "AWS::IAM::User"}],
    }


LOGS_SCENARIO = {
    "now": "2025-06-01T12:00:00Z",
    "lookup_throttle": False,
    "s3_objects": [
        {"bucket": "keywarden-logs", "key": "AWSLogs/1/CloudTrail/us-east-1/2025/05/31/a.json.gz",
         "body_json": {"Records": [{"eventID": "a"}]}, "gzip": True},
        {"bucket": "keywarden-logs", "key": "plain.txt", "body": "hello"},
        {"bucket": "other-logs", "key": "x.json", "body_file": str(LAUNCHER)},
    ],
    # 120 in us-east-1 (even keys AKIAEVEN, odd AKIAODD), 5 in eu-west-1, 1 older than 90 days.
    "lookup_events": [
        lookup_record(i, "us-east-1", "AKIAEVEN" if i % 2 == 0 else "AKIAODD",
                      "CreateAccessKey" if i % 3 == 0 else "ListUsers", f"2025-05-30T10:{i // 60:02d}:{i % 60:02d}Z")
        for i in range(120)
    ]
    + [lookup_record(200 + i, "eu-west-1", "AKIAEU", "ListUsers", f"2025-05-29T00:00:0{i}Z") for i in range(5)]
    + [lookup_record(300, "us-east-1", "AKIAEVEN", "ListUsers", "2025-01-01T00:00:00Z")],
}


def test_logs(launch: Launch) -> None:
    """s3_objects are stored; LookupEvents is answered from lookup_events like AWS answers it."""
    info = launch.info
    check("error" not in info, f"logs: launcher started ({info.get('error')})")
    s3 = launch.client("s3")
    key = "AWSLogs/1/CloudTrail/us-east-1/2025/05/31/a.json.gz"
    body = s3.get_object(Bucket="keywarden-logs", Key=key)["Body"].read()
    equal(body[:2], b"\x1f\x8b", "s3_objects: gzip: true stores the body gzipped")
    equal(json.loads(gzip.decompress(body)), {"Records": [{"eventID": "a"}]}, "s3_objects: body_json round-trips")
    equal(s3.get_object(Bucket="keywarden-logs", Key="plain.txt")["Body"].read(), b"hello", "s3_objects: body as given")
    equal(
        s3.get_object(Bucket="other-logs", Key="x.json")["Body"].read(),
        LAUNCHER.read_bytes(),
        "s3_objects: body_file, buckets created as needed",
    )

    cloudtrail = launch.client("cloudtrail")
    pages = []
    token = None
    while True:
        page = cloudtrail.lookup_events(**({"NextToken": token} if token else {}))
        pages.append(page["Events"])
        token = page.get("NextToken")
        if not token:
            break
    equal([len(p) for p in pages], [50, 50, 20], "LookupEvents: 50 a page, NextToken until the last")
    times = [e["EventTime"] for p in pages for e in p]
    check(times == sorted(times, reverse=True), "LookupEvents: newest first")
    record = json.loads(pages[0][0]["CloudTrailEvent"])
    equal(record["eventID"], pages[0][0]["EventId"], "LookupEvents: CloudTrailEvent is the record")
    check(all(e["EventId"] != "evt-0300" for p in pages for e in p), "LookupEvents: nothing older than 90 days")

    def ids(**kwargs: Any) -> list[str]:
        return [e["EventId"] for e in cloudtrail.lookup_events(**kwargs)["Events"]]

    even = ids(LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": "AKIAEVEN"}])
    equal(len(even), 50, "LookupEvents: AccessKeyId filter (60 even, first page)")
    equal(len(ids(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateAccessKey"}])), 40,
          "LookupEvents: EventName filter")
    equal(len(ids(LookupAttributes=[{"AttributeKey": "ReadOnly", "AttributeValue": "true"}])), 50,
          "LookupEvents: ReadOnly filter")
    equal(len(ids(LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "user-D"}], MaxResults=10)), 10,
          "LookupEvents: Username filter, MaxResults")
    equal(
        len(ids(LookupAttributes=[{"AttributeKey": "ResourceType", "AttributeValue": "AWS::IAM::User"}])),
        50,
        "LookupEvents: ResourceType filter",
    )
    window = ids(StartTime=dt.datetime(2025, 5, 30, 10, 1, 0, tzinfo=dt.timezone.utc),
                 EndTime=dt.datetime(2025, 5, 30, 10, 1, 9, tzinfo=dt.timezone.utc))
    equal(window, [f"evt-{i:04d}" for i in range(69, 59, -1)], "LookupEvents: StartTime/EndTime, inclusive")
    equal(len(launch.client("cloudtrail", region="eu-west-1").lookup_events()["Events"]), 5,
          "LookupEvents: the region of the request's credential scope")
    equal(
        error_of(lambda: cloudtrail.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "A"},
            {"AttributeKey": "EventName", "AttributeValue": "B"},
        ]))[0],
        "InvalidLookupAttributesException",
        "LookupEvents: one lookup attribute per call",
    )
    equal(error_of(lambda: cloudtrail.lookup_events(MaxResults=51))[0], "InvalidMaxResultsException",
          "LookupEvents: at most 50 a page")
    other = cloudtrail.lookup_events(MaxResults=1)["NextToken"]
    equal(
        error_of(lambda: cloudtrail.lookup_events(
            NextToken=other, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "ListUsers"}]
        ))[0],
        "InvalidNextTokenException",
        "LookupEvents: a NextToken belongs to its query",
    )
    calls = requests.get(info["lookup_calls_url"], timeout=10).json()["calls"]
    check(len(calls) >= 12 and all("time" in c and "region" in c and "status" in c for c in calls),
          "LookupEvents: every call is logged with its time, region and status")
    equal(calls[3]["attributes"], ["AccessKeyId=AKIAEVEN"], "LookupEvents: the log names the attribute")


def test_lookup_throttle() -> None:
    launch = Launch({"lookup_events": []})
    try:
        cloudtrail = launch.client("cloudtrail")
        codes = [error_of(cloudtrail.lookup_events)[0] for _ in range(3)]
        equal(codes, [None, None, "ThrottlingException"], "LookupEvents: a 3rd call within a second is throttled")
        time.sleep(1.0)
        equal(error_of(cloudtrail.lookup_events)[0], None, "LookupEvents: calls spaced out are not throttled")
        equal(
            error_of(launch.client("cloudtrail", region="eu-west-1").lookup_events)[0],
            None,
            "LookupEvents: each region has its own rate",
        )
    finally:
        launch.close()


def main() -> int:
    logs_launch = Launch(LOGS_SCENARIO)
    try:
        test_logs(logs_launch)
    finally:
        logs_launch.close()
    test_lookup_throttle()

    main_launch = Launch(MAIN_SCENARIO)
    try:
        test_main(main_launch)
    finally:
        seconds = main_launch.close()
    equal(main_launch.proc.returncode, 0, f"main: exits when stdin closes ({seconds:.1f} s)")

    auth_launch = Launch(AUTH_SCENARIO, via_stdin=True)
    try:
        test_auth_and_moto_report(auth_launch)
    finally:
        seconds = auth_launch.close()
    equal(auth_launch.proc.returncode, 0, f"auth: exits when stdin closes ({seconds:.1f} s)")

    bulk_seconds = test_bulk()
    test_lifetime(main_launch.info.get("users", {}))
    test_override_validation()
    test_logs_validation()

    print(f"\nbulk seeding of 5,000 users: {bulk_seconds:.2f} s")
    if failures:
        print(f"{len(failures)} check(s) failed:", *failures, sep="\n  ")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
