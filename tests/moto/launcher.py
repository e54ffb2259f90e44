#!/usr/bin/env python3
"""keywarden's moto fixture launcher.

Starts moto's server on 127.0.0.1 (a free port), seeds it with a test scenario
(users, backdated passwords, MFA devices and access keys, the password policy,
CloudTrail trails, injected faults, credential-report behaviour, IAM
authorization, S3 objects such as CloudTrail log files, and fixture events that
it serves for CloudTrail's LookupEvents, which moto lacks), prints ONE JSON
line on stdout describing how to reach it, and
serves until its stdin reaches EOF or its maximum lifetime runs out.

    .venv/bin/python tests/moto/launcher.py SCENARIO.json [--max-seconds 600]
    .venv/bin/python tests/moto/launcher.py - < SCENARIO.json   # see README: keep stdin open

The scenario format, the JSON line and the moto quirks this works around are
documented in tests/moto/README.md. Written against moto 5.2.5 (pinned in
tests/moto/requirements.txt); the attribute names it edits were read from that
version's source.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import logging
import os
import random
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape, unescape

import boto3
import requests
from moto.iam.models import AccessKeyLastUsed, IAMBackend, iam_backends
from moto.moto_api._internal import mock_random
from moto.server import ThreadedMotoServer

ROOT_ROW_USER = "<root_account>"
ACCOUNT_ID = "123456789012"  # moto's default account: unknown access keys land here
REGION = "us-east-1"
# The launcher's own credentials. Never a fixture key: moto sets a key's last-used
# date on every request signed with it, so using a fixture key would rewrite the
# scenario. moto accepts any key while authorization is off.
ADMIN_ACCESS_KEY_ID = "AKIAKEYWARDENADMIN00"
ADMIN_SECRET_ACCESS_KEY = "keywarden-launcher-admin-secret-key-0000"
TRAIL_BUCKET = f"keywarden-cloudtrail-{ACCOUNT_ID}"
IAM_XMLNS = "https://iam.amazonaws.com/doc/2010-05-08/"
REPORT_COLUMNS = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,"
    "cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
)

log = logging.getLogger("launcher")


class ScenarioError(ValueError):
    """The scenario is malformed; the message names the offending field."""


# --------------------------------------------------------------------------- time

_OFFSET = re.compile(r"^([+-])((?:\d+[dhms])+)$")
_OFFSET_PART = re.compile(r"(\d+)([dhms])")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_instant(text: str, where: str) -> dt.datetime:
    """An absolute ISO 8601 instant as naive UTC, truncated to whole seconds."""
    if not isinstance(text, str):
        raise ScenarioError(f"{where}: expected an ISO 8601 time string, got {text!r}")
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ScenarioError(f"{where}: {text!r} is not an ISO 8601 time") from None
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value.replace(microsecond=0)


def parse_time(value: Any, now: dt.datetime, where: str) -> dt.datetime:
    """An ISO 8601 instant, "now", or an offset from now such as "-40d", "-3h", "-1d12h"."""
    if not isinstance(value, str):
        raise ScenarioError(f"{where}: expected a time string, got {value!r}")
    if value == "now":
        return now
    match = _OFFSET.match(value)
    if match:
        seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _OFFSET_PART.findall(match[2]))
        return now + dt.timedelta(seconds=seconds if match[1] == "+" else -seconds)
    return parse_instant(value, where)


def iso(value: dt.datetime) -> str:
    """The credential report's timestamp format."""
    return value.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def iso_z(value: dt.datetime) -> str:
    """The Query protocol's timestamp format."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------- scenario


def _fields(obj: Any, where: str, allowed: Iterable[str], required: Iterable[str] = ()) -> dict:
    """Check that obj is an object with only known keys and all required ones."""
    if not isinstance(obj, dict):
        raise ScenarioError(f"{where}: expected an object, got {obj!r}")
    unknown = sorted(set(obj) - set(allowed))
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {', '.join(unknown)}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise ScenarioError(f"{where}: missing field(s) {', '.join(missing)}")
    return obj


def _typed(obj: dict, key: str, kind: type | tuple[type, ...], where: str, default: Any = None) -> Any:
    value = obj.get(key, default)
    if value is not default and (not isinstance(value, kind) or (kind is int and isinstance(value, bool))):
        raise ScenarioError(f"{where}.{key}: unexpected value {value!r}")
    return value


@dataclass
class LastUsed:
    date: dt.datetime
    service: str
    region: str


@dataclass
class KeySpec:
    status: str
    created: dt.datetime
    last_used: LastUsed | None


@dataclass
class PasswordSpec:
    created: dt.datetime
    last_used: dt.datetime | None


@dataclass
class UserSpec:
    name: str
    created: dt.datetime
    tags: dict[str, str] = field(default_factory=dict)
    password: PasswordSpec | None = None
    mfa: bool = False
    access_keys: list[KeySpec] = field(default_factory=list)


@dataclass
class RootSpec:
    created: dt.datetime
    mfa: bool
    password_last_used: dt.datetime | None
    access_keys: list[KeySpec]


@dataclass
class TrailSpec:
    name: str
    multi_region: bool
    logging: bool
    management_events: bool
    read_write_type: str
    region: str


@dataclass
class FaultSpec:
    action: str
    status: int
    code: str
    message: str
    times: int
    # False: the request is answered with the error and never reaches moto (nothing changes).
    # True: moto performs the request first, then the error replaces its answer: the write
    # lands and its reply is lost, as when a connection drops after AWS committed the call.
    after: bool = False


@dataclass
class ReportSpec:
    in_progress_polls: int | None
    aws_shape: bool
    generated: dt.datetime
    # user name (or "<root_account>") -> column -> the cell's text, already formatted
    overrides: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class AuthSpec:
    enforce: bool
    principal_name: str
    policy: dict


@dataclass
class S3ObjectSpec:
    bucket: str
    key: str
    body: bytes  # as stored (already gzipped when the scenario asked for it)


@dataclass
class LookupEventSpec:
    record: dict  # the CloudTrail record, served as the event's CloudTrailEvent
    region: str  # its awsRegion: LookupEvents answers one region per call
    time: dt.datetime  # its eventTime, naive UTC


@dataclass
class Scenario:
    now: dt.datetime
    seed: int
    users: list[UserSpec]
    bulk_users: int
    root: RootSpec
    password_policy: dict | None
    trails: list[TrailSpec]
    faults: list[FaultSpec]
    report: ReportSpec | None
    auth: AuthSpec | None
    s3_objects: list[S3ObjectSpec] = field(default_factory=list)
    # None: LookupEvents is left to moto (HTTP 500); a list (even empty): the launcher serves it.
    lookup_events: list[LookupEventSpec] | None = None
    # Answer ThrottlingException when a region gets a 3rd call within LOOKUP_THROTTLE_WINDOW.
    lookup_throttle: bool = True
    # An AWS Organization with member accounts (see seed_organization).
    organization: OrganizationSpec | None = None


@dataclass
class OrgAccountSpec:
    name: str
    ou: str  # an OU name, or "Root"
    state: str  # ACTIVE, SUSPENDED, PENDING_CLOSURE
    role: bool  # whether the audit role exists in the account
    assume_role_fault: FaultSpec | None  # every AssumeRole into the account answers this
    users: list[UserSpec]
    bulk_users: int


@dataclass
class OrganizationSpec:
    role_name: str
    ous: list[tuple[str, str]]  # (name, parent name), parents first
    accounts: list[OrgAccountSpec]


def _parse_organization(raw: Any, now: dt.datetime) -> OrganizationSpec:
    """`organization`: OUs by name (parents before children) and member accounts."""
    _fields(raw, "organization", ("role_name", "ous", "accounts"))
    ous = []
    known = {"Root"}
    for i, ou in enumerate(_typed(raw, "ous", list, "organization", [])):
        where = f"organization.ous[{i}]"
        _fields(ou, where, ("name", "parent"), ("name",))
        parent = _typed(ou, "parent", str, where, "Root")
        if parent not in known:
            raise ScenarioError(f"{where}.parent: {parent!r} is not the root or an earlier OU")
        known.add(ou["name"])
        ous.append((ou["name"], parent))
    accounts = []
    for i, acct in enumerate(_typed(raw, "accounts", list, "organization", [])):
        where = f"organization.accounts[{i}]"
        _fields(acct, where, ("name", "ou", "state", "role", "assume_role_fault", "users", "bulk_users"), ("name",))
        ou = _typed(acct, "ou", str, where, "Root")
        if ou not in known:
            raise ScenarioError(f"{where}.ou: {ou!r} is not the root or an OU")
        fault_raw = _typed(acct, "assume_role_fault", dict, where)
        fault = None
        if fault_raw is not None:
            _fields(fault_raw, f"{where}.assume_role_fault", ("status", "code", "message"))
            code = _typed(fault_raw, "code", str, where, "Throttling")
            fault = FaultSpec(
                action="AssumeRole",
                status=_typed(fault_raw, "status", int, where, 400),
                code=code,
                message=_typed(fault_raw, "message", str, where, "Rate exceeded"),
                times=1 << 30,
                after=False,
            )
        accounts.append(
            OrgAccountSpec(
                name=acct["name"],
                ou=ou,
                state=_typed(acct, "state", str, where, "ACTIVE"),
                role=_typed(acct, "role", bool, where, True),
                assume_role_fault=fault,
                users=[
                    _parse_user(u, now, f"{where}.users[{j}]")
                    for j, u in enumerate(_typed(acct, "users", list, where, []))
                ],
                bulk_users=max(_typed(acct, "bulk_users", int, where, 0), 0),
            )
        )
    return OrganizationSpec(
        role_name=_typed(raw, "role_name", str, "organization", "keywarden-audit"), ous=ous, accounts=accounts
    )


def _parse_key(raw: Any, now: dt.datetime, where: str) -> KeySpec:
    _fields(raw, where, ("status", "created", "last_used"), ("created",))
    status = _typed(raw, "status", str, where, "Active")
    if status not in ("Active", "Inactive"):
        raise ScenarioError(f"{where}.status: must be Active or Inactive, got {status!r}")
    created = parse_time(raw["created"], now, f"{where}.created")
    last_used = None
    if raw.get("last_used") is not None:
        used = raw["last_used"]
        if isinstance(used, str):
            used = {"date": used}
        uwhere = f"{where}.last_used"
        _fields(used, uwhere, ("date", "service", "region"), ("date",))
        last_used = LastUsed(
            date=parse_time(used["date"], now, f"{uwhere}.date"),
            service=_typed(used, "service", str, uwhere, "iam"),
            region=_typed(used, "region", str, uwhere, REGION),
        )
        if last_used.date < created:
            raise ScenarioError(f"{uwhere}.date: before the key was created")
    return KeySpec(status=status, created=created, last_used=last_used)


def _parse_keys(raw: Any, now: dt.datetime, where: str) -> list[KeySpec]:
    if not isinstance(raw, list) or len(raw) > 2:
        raise ScenarioError(f"{where}: expected a list of at most 2 keys (the AWS limit)")
    return [_parse_key(k, now, f"{where}[{i}]") for i, k in enumerate(raw)]


def _parse_user(raw: Any, now: dt.datetime, where: str) -> UserSpec:
    _fields(raw, where, ("name", "created", "tags", "password", "mfa", "access_keys"), ("name",))
    keys = _parse_keys(raw.get("access_keys", []), now, f"{where}.access_keys")
    pwhere = f"{where}.password"
    pw_raw = raw.get("password")
    pw_raw = _fields({"set": False} if pw_raw is None else pw_raw, pwhere, ("set", "created", "last_used"))
    has_password = _typed(pw_raw, "set", bool, pwhere, True)
    pw_created = parse_time(pw_raw["created"], now, f"{pwhere}.created") if "created" in pw_raw else None
    pw_used = parse_time(pw_raw["last_used"], now, f"{pwhere}.last_used") if pw_raw.get("last_used") else None
    if "created" in raw:
        created = parse_time(raw["created"], now, f"{where}.created")
    else:  # the earliest credential, so that the user predates everything it owns
        created = min([k.created for k in keys] + ([pw_created] if pw_created else []), default=now)
    for i, key in enumerate(keys):
        if key.created < created:
            raise ScenarioError(f"{where}.access_keys[{i}].created: before the user was created")
    password = None
    if has_password:
        password = PasswordSpec(created=pw_created or created, last_used=pw_used)
        if password.created < created:
            raise ScenarioError(f"{pwhere}.created: before the user was created")
        if pw_used and pw_used < password.created:
            raise ScenarioError(f"{pwhere}.last_used: before the password was created")
    tags = _typed(raw, "tags", dict, where, {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise ScenarioError(f"{where}.tags: keys and values must be strings")
    return UserSpec(
        name=_typed(raw, "name", str, where),
        created=created,
        tags=tags,
        password=password,
        mfa=_typed(raw, "mfa", bool, where, False),
        access_keys=keys,
    )


def _parse_s3_object(raw: Any, where: str) -> S3ObjectSpec:
    _fields(raw, where, ("bucket", "key", "body", "body_json", "body_file", "gzip"), ("bucket", "key"))
    sources = [k for k in ("body", "body_json", "body_file") if k in raw]
    if len(sources) != 1:
        raise ScenarioError(f"{where}: exactly one of body, body_json, body_file is required")
    bucket = _typed(raw, "bucket", str, where)
    key = _typed(raw, "key", str, where)
    if not bucket or not key:
        raise ScenarioError(f"{where}: bucket and key must not be empty")
    if "body" in raw:
        body = _typed(raw, "body", str, where).encode()
    elif "body_json" in raw:
        body = json.dumps(raw["body_json"]).encode()
    else:
        path = _typed(raw, "body_file", str, where)
        try:
            with open(path, "rb") as f:
                body = f.read()
        except OSError as error:
            raise ScenarioError(f"{where}.body_file: {error}") from None
    if _typed(raw, "gzip", bool, where, False):
        body = gzip.compress(body, mtime=0)
    return S3ObjectSpec(bucket=bucket, key=key, body=body)


def _parse_lookup_event(raw: Any, where: str) -> LookupEventSpec:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected a CloudTrail record (an object)")
    for name in ("eventID", "eventTime", "awsRegion"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise ScenarioError(f"{where}: missing or non-string {name}")
    return LookupEventSpec(
        record=raw, region=raw["awsRegion"], time=parse_instant(raw["eventTime"], f"{where}.eventTime")
    )


_TIME_LIKE = re.compile(r"^(now|[+-]\d.*|\d{4}-\d{2}-\d{2}T.*)$")


def _parse_overrides(raw: Any, now: dt.datetime) -> dict[str, dict[str, str]]:
    """credential_report.overrides: {user: {column: value}}, cells patched into the AWS-shaped report.

    A value that looks like a time ("now", an offset such as "-100d", an ISO 8601
    instant) is a time and becomes the report's timestamp format; a malformed one
    is an error rather than text. Anything else ("N/A", "no_information", "false")
    is written as given.
    """
    where = "credential_report.overrides"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected an object {{user: {{column: value}}}}")
    columns = REPORT_COLUMNS.split(",")
    overrides: dict[str, dict[str, str]] = {}
    for user, cells in raw.items():
        uwhere = f"{where}.{user}"
        if not isinstance(cells, dict):
            raise ScenarioError(f"{uwhere}: expected an object {{column: value}}")
        patched: dict[str, str] = {}
        for column, value in cells.items():
            cwhere = f"{uwhere}.{column}"
            if column not in columns or column == "user":
                raise ScenarioError(f"{cwhere}: not a credential report column that can be overridden")
            if not isinstance(value, str) or re.search(r'[,"\r\n]', value):
                raise ScenarioError(f"{cwhere}: expected a string without commas, quotes or newlines, got {value!r}")
            patched[column] = iso(parse_time(value, now, cwhere)) if _TIME_LIKE.match(value) else value
        overrides[user] = patched
    return overrides


def parse_scenario(raw: Any) -> Scenario:
    """Validate a scenario document and resolve every time against its `now`."""
    top = (
        "now",
        "seed",
        "users",
        "bulk_users",
        "root",
        "password_policy",
        "trails",
        "faults",
        "credential_report",
        "auth",
        "s3_objects",
        "lookup_events",
        "lookup_throttle",
        "organization",
    )
    _fields(raw, "scenario", top)
    now = (
        parse_instant(raw["now"], "now")
        if "now" in raw
        else dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    )
    users = [_parse_user(u, now, f"users[{i}]") for i, u in enumerate(_typed(raw, "users", list, "scenario", []))]
    names = [u.name for u in users]
    if len(set(names)) != len(names):
        raise ScenarioError("users: duplicate user names")

    root_raw = _fields(raw.get("root", {}), "root", ("created", "mfa", "password_last_used", "access_keys"))
    root = RootSpec(
        created=(
            parse_time(root_raw["created"], now, "root.created")
            if "created" in root_raw
            else min([now - dt.timedelta(days=3650)] + [u.created for u in users])
        ),
        mfa=_typed(root_raw, "mfa", bool, "root", True),
        password_last_used=(
            parse_time(root_raw["password_last_used"], now, "root.password_last_used")
            if root_raw.get("password_last_used")
            else None
        ),
        access_keys=_parse_keys(root_raw.get("access_keys", []), now, "root.access_keys"),
    )

    trails = []
    for i, t in enumerate(_typed(raw, "trails", list, "scenario", [])):
        where = f"trails[{i}]"
        _fields(
            t, where, ("name", "multi_region", "logging", "management_events", "read_write_type", "region"), ("name",)
        )
        trails.append(
            TrailSpec(
                name=_typed(t, "name", str, where),
                multi_region=_typed(t, "multi_region", bool, where, True),
                logging=_typed(t, "logging", bool, where, True),
                management_events=_typed(t, "management_events", bool, where, True),
                read_write_type=_typed(t, "read_write_type", str, where, "All"),
                region=_typed(t, "region", str, where, REGION),
            )
        )

    faults = []
    for i, f in enumerate(_typed(raw, "faults", list, "scenario", [])):
        where = f"faults[{i}]"
        _fields(f, where, ("action", "status", "code", "message", "times", "after"), ("action",))
        code = _typed(f, "code", str, where, "Throttling")
        faults.append(
            FaultSpec(
                action=_typed(f, "action", str, where),
                status=_typed(f, "status", int, where, 400),
                code=code,
                message=_typed(
                    f, "message", str, where, "Rate exceeded" if code == "Throttling" else f"Injected {code}"
                ),
                times=_typed(f, "times", int, where, 1),
                after=_typed(f, "after", bool, where, False),
            )
        )
        if not 400 <= faults[-1].status <= 599:
            raise ScenarioError(f"{where}.status: must be an HTTP error status (400-599)")

    report = None
    if "credential_report" in raw:
        r = _fields(
            raw["credential_report"], "credential_report", ("in_progress_polls", "aws_shape", "generated", "overrides")
        )
        polls = _typed(r, "in_progress_polls", int, "credential_report")
        if polls is not None and polls < 0:
            raise ScenarioError("credential_report.in_progress_polls: must be >= 0")
        report = ReportSpec(
            in_progress_polls=polls,
            aws_shape=_typed(r, "aws_shape", bool, "credential_report", False),
            generated=parse_time(r["generated"], now, "credential_report.generated") if "generated" in r else now,
        )
        if "overrides" in r:
            if not report.aws_shape:
                raise ScenarioError(
                    "credential_report.overrides: needs aws_shape: true (moto's own report is not rebuilt)"
                )
            report.overrides = _parse_overrides(r["overrides"], now)

    auth = None
    if "auth" in raw:
        a = _fields(raw["auth"], "auth", ("enforce", "principal"), ("principal",))
        p = _fields(a["principal"], "auth.principal", ("name", "policy"), ("policy",))
        auth = AuthSpec(
            enforce=_typed(a, "enforce", bool, "auth", True),
            principal_name=_typed(p, "name", str, "auth.principal", "auditor"),
            policy=_typed(p, "policy", dict, "auth.principal"),
        )
        if auth.principal_name in names:
            raise ScenarioError(f"auth.principal.name: {auth.principal_name!r} is also a fixture user")
    if report is not None:
        known = {*names, ROOT_ROW_USER, *([auth.principal_name] if auth else [])}
        for user in report.overrides:
            if user not in known:
                raise ScenarioError(
                    f"credential_report.overrides: {user!r} is not a scenario user, <root_account> or the principal"
                )

    return Scenario(
        now=now,
        seed=_typed(raw, "seed", int, "scenario", 0),
        users=users,
        bulk_users=max(_typed(raw, "bulk_users", int, "scenario", 0), 0),
        root=root,
        password_policy=_typed(raw, "password_policy", dict, "scenario"),
        trails=trails,
        faults=faults,
        report=report,
        auth=auth,
        s3_objects=[
            _parse_s3_object(o, f"s3_objects[{i}]")
            for i, o in enumerate(_typed(raw, "s3_objects", list, "scenario", []))
        ],
        lookup_events=(
            [_parse_lookup_event(e, f"lookup_events[{i}]") for i, e in enumerate(raw["lookup_events"])]
            if isinstance(raw.get("lookup_events"), list)
            else _typed(raw, "lookup_events", list, "scenario")
        ),
        lookup_throttle=_typed(raw, "lookup_throttle", bool, "scenario", True),
        organization=(
            _parse_organization(raw["organization"], now) if raw.get("organization") is not None else None
        ),
    )


def bulk_user_specs(count: int, seed: int, now: dt.datetime) -> list[UserSpec]:
    """`count` deterministic users whose credentials span every age bucket the rules care about."""
    rng = random.Random(seed)
    # Key ages (days) around the default thresholds: fresh, 30 inactive, 45 unused, 90 rotation, old.
    age_buckets = [(0, 5), (25, 35), (40, 50), (85, 95), (100, 400), (400, 2500)]

    def between(start: dt.datetime, end: dt.datetime) -> dt.datetime:
        span = int((end - start).total_seconds())
        return start + dt.timedelta(seconds=rng.randint(0, max(span, 0)))

    specs = []
    for i in range(count):
        created = now - dt.timedelta(days=rng.randint(1, 3000), seconds=rng.randint(0, 86399))
        password = None
        if rng.random() < 0.4:
            pw_created = between(created, now)
            pw_used = between(pw_created, now) if rng.random() < 0.7 else None
            password = PasswordSpec(created=pw_created, last_used=pw_used)
        keys = []
        for _ in range(rng.choice((0, 1, 1, 1, 2))):
            low, high = rng.choice(age_buckets)
            key_created = max(created, now - dt.timedelta(days=rng.randint(low, high), seconds=rng.randint(0, 86399)))
            last_used = None
            if rng.random() < 0.75:
                last_used = LastUsed(
                    date=between(key_created, now),
                    service=rng.choice(("iam", "s3", "sts", "ec2")),
                    region=rng.choice(("us-east-1", "eu-west-1", "N/A")),
                )
            keys.append(
                KeySpec(status="Active" if rng.random() < 0.8 else "Inactive", created=key_created, last_used=last_used)
            )
        specs.append(
            UserSpec(
                name=f"bulk-user-{i:05d}",
                created=created,
                tags={"team": rng.choice(("payments", "data", "platform"))} if rng.random() < 0.5 else {},
                password=password,
                mfa=password is not None and rng.random() < 0.6,
                access_keys=keys,
            )
        )
    return specs


# ------------------------------------------------------------------------ seeding


@dataclass
class SeededKey:
    access_key_id: str
    secret_access_key: str
    status: str


@dataclass
class Fixture:
    """What the launcher created and must remember to answer like AWS."""

    scenario: Scenario
    backend: IAMBackend
    keys: dict[str, list[SeededKey]] = field(default_factory=dict)
    # moto keeps no password-change date (GetLoginProfile reports the user's creation).
    password_created: dict[str, dt.datetime] = field(default_factory=dict)
    principal: dict[str, str] | None = None
    # The organization's ids for the JSON line, and the AssumeRole answer per member account.
    organization: dict[str, Any] | None = None
    assume_role_faults: dict[str, FaultSpec] = field(default_factory=dict)


def seed_user(fixture: Fixture, spec: UserSpec) -> list[SeededKey]:
    """Create one user through moto's backend, then backdate its in-memory objects."""
    backend = fixture.backend
    user = backend.create_user(REGION, spec.name, tags=[{"Key": k, "Value": v} for k, v in spec.tags.items()])
    user.create_date = spec.created
    if spec.password:
        backend.create_login_profile(spec.name, "Keywarden-fixture-1!")
        user.password_last_used = spec.password.last_used  # type: ignore[assignment]  # moto annotates None
        fixture.password_created[spec.name] = spec.password.created
    if spec.mfa:
        device = backend.create_virtual_mfa_device(spec.name, "/")
        backend.enable_mfa_device(spec.name, device.serial_number, "123456", "654321")
        device.enable_date = spec.created
        user.mfa_devices[device.serial_number].enable_date = spec.created
    seeded = []
    for key_spec in spec.access_keys:
        key = backend.create_access_key(spec.name, status=key_spec.status)
        key.create_date = key_spec.created
        if key_spec.last_used:
            used = key_spec.last_used
            key.last_used = AccessKeyLastUsed(timestamp=used.date, service=used.service, region=used.region)
        seeded.append(SeededKey(key.access_key_id, key.secret_access_key, key.status))
    return seeded


def admin_client(service: str, endpoint: str, region: str = REGION) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=ADMIN_ACCESS_KEY_ID,
        aws_secret_access_key=ADMIN_SECRET_ACCESS_KEY,
    )


def seed(scenario: Scenario, endpoint: str) -> Fixture:
    """Seed everything except the request-time behaviour (faults, report, auth)."""
    backend = iam_backends[ACCOUNT_ID]["aws"]  # "global" is an alias of the "aws" partition
    mock_random.seed(scenario.seed)  # deterministic key ids, user ids and secrets
    fixture = Fixture(scenario=scenario, backend=backend)
    for spec in scenario.users:
        fixture.keys[spec.name] = seed_user(fixture, spec)
    for spec in bulk_user_specs(scenario.bulk_users, scenario.seed, scenario.now):
        seed_user(fixture, spec)

    summary = backend.account_summary  # moto hard-codes both to 0
    summary._account_mfa_enabled = int(scenario.root.mfa)
    summary._account_access_keys_present = int(bool(scenario.root.access_keys))

    if scenario.password_policy is not None:
        admin_client("iam", endpoint).update_account_password_policy(**scenario.password_policy)

    if scenario.trails:
        admin_client("s3", endpoint).create_bucket(Bucket=TRAIL_BUCKET)
    for trail in scenario.trails:
        cloudtrail = admin_client("cloudtrail", endpoint, trail.region)
        cloudtrail.create_trail(
            Name=trail.name,
            S3BucketName=TRAIL_BUCKET,
            IsMultiRegionTrail=trail.multi_region,
            IncludeGlobalServiceEvents=True,
        )
        cloudtrail.put_event_selectors(
            TrailName=trail.name,
            EventSelectors=[
                {"ReadWriteType": trail.read_write_type, "IncludeManagementEvents": trail.management_events}
            ],
        )
        if trail.logging:
            cloudtrail.start_logging(Name=trail.name)

    if scenario.s3_objects:
        s3 = admin_client("s3", endpoint)
        existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        for obj in scenario.s3_objects:
            if obj.bucket not in existing:
                s3.create_bucket(Bucket=obj.bucket)
                existing.add(obj.bucket)
            s3.put_object(Bucket=obj.bucket, Key=obj.key, Body=obj.body)

    if scenario.auth:
        iam = admin_client("iam", endpoint)
        name = scenario.auth.principal_name
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="keywarden-test", PolicyDocument=json.dumps(scenario.auth.policy))
        created = iam.create_access_key(UserName=name)["AccessKey"]
        # Dated at the scenario's now like everything else (moto would use the wall clock).
        backend.users[name].create_date = scenario.now
        backend.access_keys[created["AccessKeyId"]].create_date = scenario.now
        fixture.principal = {
            "user_name": name,
            "access_key_id": created["AccessKeyId"],
            "secret_access_key": created["SecretAccessKey"],
        }
        date_principal_uses_at(created["AccessKeyId"], scenario.now)

    if scenario.organization is not None:
        seed_organization(fixture, scenario.organization, endpoint)

    if ADMIN_ACCESS_KEY_ID in backend.access_keys:  # cannot happen with moto's key ids
        raise RuntimeError("the launcher's admin key id collides with a fixture key")
    return fixture


def seed_organization(fixture: Fixture, spec: OrganizationSpec, endpoint: str) -> None:
    """An organization whose management account is ACCOUNT_ID: OUs, member accounts created
    with the audit role (`role_name`, or moto's default role only when `role: false`), moved
    to their OU, given their state, their users seeded in their own IAM backend."""
    org = admin_client("organizations", endpoint)
    created = org.create_organization(FeatureSet="ALL")["Organization"]
    root = org.list_roots()["Roots"][0]["Id"]
    ou_ids = {"Root": root}
    for name, parent in spec.ous:
        ou_ids[name] = org.create_organizational_unit(ParentId=ou_ids[parent], Name=name)["OrganizationalUnit"]["Id"]
    from moto.organizations.models import organizations_backends

    backend = organizations_backends[ACCOUNT_ID]["aws"]
    accounts = []
    for i, acct in enumerate(spec.accounts):
        kwargs = {"Email": f"account-{i}@example.com", "AccountName": acct.name}
        if acct.role:
            kwargs["RoleName"] = spec.role_name
        status = org.create_account(**kwargs)["CreateAccountStatus"]
        account_id = status["AccountId"]
        if acct.ou != "Root":
            org.move_account(AccountId=account_id, SourceParentId=root, DestinationParentId=ou_ids[acct.ou])
        for member in backend.accounts:
            if member.id == account_id:
                member.status = "SUSPENDED" if acct.state == "SUSPENDED" else "ACTIVE"
                member.state = acct.state
        if acct.assume_role_fault is not None:
            fixture.assume_role_faults[account_id] = acct.assume_role_fault
        member_fixture = Fixture(scenario=fixture.scenario, backend=iam_backends[account_id]["aws"])
        users = {spec_user.name: seed_user(member_fixture, spec_user) for spec_user in acct.users}
        for bulk in bulk_user_specs(acct.bulk_users, fixture.scenario.seed + i + 1, fixture.scenario.now):
            seed_user(member_fixture, bulk)
        accounts.append(
            {"name": acct.name, "id": account_id, "ou": acct.ou, "users": {n: [vars(k) for k in ks] for n, ks in users.items()}}
        )
    fixture.organization = {
        "id": created["Id"],
        "root": root,
        "role_name": spec.role_name,
        "ous": ou_ids,
        "accounts": accounts,
    }


def date_principal_uses_at(key_id: str, now: dt.datetime) -> None:
    """Stamp the principal's uses at the scenario's now, not the wall clock.

    moto marks a key used (at the wall clock) on every request it signs. The principal is the tool
    under test's own key: its last use must belong to the scenario's world, or an audit at the
    scenario's now sees a use dated after its data (a date that cannot be true) and says `unknown`.
    Fixture keys keep moto's behaviour: tests sign with them on purpose to move their last use.
    """
    import moto.iam.models as iam_models

    original = iam_models.mark_account_as_visited

    def mark(account_id: str, access_key: str, service: str, region: str) -> None:
        original(account_id, access_key, service, region)
        if access_key == key_id:
            key = iam_backends[account_id]["aws"].access_keys.get(key_id)
            if key is not None:
                key.last_used = AccessKeyLastUsed(timestamp=now, service=service, region=region)

    iam_models.mark_account_as_visited = mark


def enable_authorization(endpoint: str) -> None:
    """Make moto check signatures and IAM policies on every request from now on.

    moto's /moto-api/reset-auth sets INITIAL_NO_AUTH_ACTION_COUNT to float(body) and
    resets its request counter: "0" means no unauthenticated requests left, "inf"
    turns checking off again. The body is read raw, so the content type must not be
    a form type (a form body is parsed away and float("") fails with HTTP 500).
    """
    response = requests.post(
        f"{endpoint}/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"}, timeout=10
    )
    response.raise_for_status()


# --------------------------------------------------------------- request hooks


def _request_id() -> str:
    return uuid.uuid4().hex


def query_error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """An error in the AWS Query protocol's XML shape."""
    request_id = _request_id()
    kind = "Receiver" if status >= 500 else "Sender"
    body = (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()


def json_error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """An error in the AWS JSON protocol's shape (CloudTrail, Organizations, ...)."""
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", _request_id()),
        ("x-amzn-ErrorType", code),
    ]
    return status, headers, body


def query_result(action: str, result_xml: str) -> bytes:
    return (
        f'<{action}Response xmlns="{IAM_XMLNS}"><{action}Result>{result_xml}</{action}Result>'
        f"<ResponseMetadata><RequestId>{_request_id()}</RequestId></ResponseMetadata></{action}Response>"
    ).encode()


class FaultInjector:
    """Answers the first `times` requests for an action with the configured error."""

    def __init__(self, faults: list[FaultSpec]):
        self._faults = faults
        self._remaining = [f.times for f in faults]
        self._lock = threading.Lock()

    def take(self, action: str) -> FaultSpec | None:
        with self._lock:
            for i, fault in enumerate(self._faults):
                if fault.action == action and self._remaining[i] > 0:
                    self._remaining[i] -= 1
                    return fault
        return None


class ReportProgress:
    """The GenerateCredentialReport / GetCredentialReport state machine.

    The first GenerateCredentialReport answers STARTED and opens N-1 further
    in-progress polls; each later Generate (INPROGRESS) or Get (ReportInProgress)
    uses one. After that Generate answers COMPLETE and Get returns the report.
    N = 0 answers COMPLETE straight away.
    """

    def __init__(self, polls: int):
        self._polls = polls
        self._started = False
        self._remaining = 0
        self._lock = threading.Lock()

    def generate(self) -> str:
        with self._lock:
            if not self._started:
                self._started = True
                self._remaining = max(self._polls - 1, 0)
                return "STARTED" if self._polls > 0 else "COMPLETE"
            if self._remaining > 0:
                self._remaining -= 1
                return "INPROGRESS"
            return "COMPLETE"

    def get_in_progress(self) -> bool:
        with self._lock:
            if self._started and self._remaining > 0:
                self._remaining -= 1
                return True
            return False


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _key_columns(keys: list[KeySpec]) -> list[str]:
    """access_key_N_{active,last_rotated,last_used_date,last_used_region,last_used_service} for N = 1, 2."""
    columns: list[str] = []
    for key in keys[:2]:
        used = key.last_used
        columns += [
            _bool(key.status == "Active"),
            iso(key.created),
            iso(used.date) if used else "N/A",
            used.region if used else "N/A",
            used.service if used else "N/A",
        ]
    return columns + ["false", "N/A", "N/A", "N/A", "N/A"] * (2 - len(columns) // 5)


def aws_shape_report(fixture: Fixture) -> str:
    """The credential report as AWS writes it, built from moto's current state."""
    backend = fixture.backend
    policy = backend.account_password_policy
    max_age = policy.max_password_age if policy is not None and policy.expire_passwords else None
    root = fixture.scenario.root
    root_row = [
        ROOT_ROW_USER,
        f"arn:aws:iam::{ACCOUNT_ID}:root",
        iso(root.created),
        "not_supported",
        iso(root.password_last_used) if root.password_last_used else "no_information",
        "not_supported",
        "not_supported",
        _bool(root.mfa),
        *_key_columns(root.access_keys),
        *["false", "N/A", "false", "N/A"],
    ]
    overrides = fixture.scenario.report.overrides if fixture.scenario.report else {}
    rows = [REPORT_COLUMNS, ",".join(patch_cells(root_row, overrides))]
    for user in backend.users.values():
        password = ["false", "N/A", "N/A", "N/A"]
        if user.password:
            changed = fixture.password_created.get(user.name, user.create_date)
            password = [
                "true",
                iso(user.password_last_used) if user.password_last_used else "no_information",
                iso(changed),
                iso(changed + dt.timedelta(days=max_age)) if max_age else "N/A",
            ]
        keys = [
            KeySpec(
                status=k.status,
                created=k.create_date,
                last_used=LastUsed(k.last_used.timestamp, k.last_used.service, k.last_used.region)
                if k.last_used
                else None,
            )
            for k in user.access_keys
        ]
        certs: list[str] = []
        for cert in list(user.signing_certificates.values())[:2]:
            certs += [_bool(cert.status == "Active"), iso(cert.upload_date)]
        certs += ["false", "N/A"] * (2 - len(certs) // 2)
        row = [user.name, user.arn, iso(user.create_date), *password, _bool(bool(user.mfa_devices))]
        rows.append(",".join(patch_cells([*row, *_key_columns(keys), *certs], overrides)))
    return "\n".join(rows)  # AWS's report has no final newline


def patch_cells(cells: list[str], overrides: dict[str, dict[str, str]]) -> list[str]:
    """Apply credential_report.overrides to one row: make the report disagree with the API on purpose."""
    columns = REPORT_COLUMNS.split(",")
    patched = list(cells)
    for column, value in overrides.get(cells[0], {}).items():
        patched[columns.index(column)] = value
    return patched


Response = tuple[int, list[tuple[str, str]], bytes]


def call_app(app: Callable, environ: dict) -> Response:
    """Run a WSGI app to completion and capture its response."""
    captured: dict[str, Any] = {}
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
        captured["status"] = int(status.split()[0])
        captured["headers"] = headers
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return captured["status"], captured["headers"], b"".join(chunks)


def with_body(headers: list[tuple[str, str]], body: bytes) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in headers if k.lower() != "content-length"]
    return [*kept, ("Content-Length", str(len(body)))]


def xml_error_as_json(response: Response) -> Response:
    """Re-encode moto's XML error to a JSON-protocol request as JSON.

    With authorization on, moto rejects requests to JSON-protocol services
    (CloudTrail, Organizations) with an XML <ErrorResponse> served as text/html,
    which AWS SDKs cannot parse (boto3 reports code "403"). AWS's JSON services
    call the policy failure AccessDeniedException.
    """
    status, _, body = response
    code = re.search(rb"<Code>([^<]*)</Code>", body)
    if status < 400 or not body.lstrip().startswith(b"<") or code is None:
        return response
    message = re.search(rb"<Message>([^<]*)</Message>", body)
    name = unescape(code[1].decode())
    name = "AccessDeniedException" if name == "AccessDenied" else name
    return json_error(status, name, unescape(message[1].decode()) if message else name)


def xml_error_as_query(response: Response) -> Response:
    """Re-encode moto's REST-style XML error to a Query-protocol request in the Query shape.

    With authorization on, moto rejects requests (AccessDenied, InvalidClientTokenId,
    SignatureDoesNotMatch) with <ErrorResponse><Errors><Error>..., the EC2/REST
    shape. AWS's Query services (IAM, STS) answer <ErrorResponse><Error>...
    <RequestId>, and that is the only shape the AWS SDK for Rust reads: it reports
    moto's as "UnknownServiceError" with no message. boto3 reads both.
    """
    status, _, body = response
    if status < 400 or b"<Errors>" not in body:
        return response
    code = re.search(rb"<Code>([^<]*)</Code>", body)
    if code is None:
        return response
    message = re.search(rb"<Message>([^<]*)</Message>", body)
    name = unescape(code[1].decode())
    return query_error(status, name, unescape(message[1].decode()) if message else name)


# ------------------------------------------------------------------ LookupEvents

LOOKUP_KEYS = (
    "AccessKeyId",
    "EventId",
    "EventName",
    "EventSource",
    "ReadOnly",
    "ResourceName",
    "ResourceType",
    "Username",
)
LOOKUP_MAX_RESULTS = 50  # AWS's page size limit
LOOKUP_RETENTION = dt.timedelta(days=90)  # event history reaches back 90 days
# AWS allows 2 LookupEvents calls a second per account and region. A 3rd call within this many
# seconds of the 2 before it is throttled: a little more lenient than 1 s so that a client that
# spaces its calls 500 ms apart is never tripped by scheduling jitter.
LOOKUP_THROTTLE_WINDOW = 0.9
LOOKUP_CALLS_PATH = "/_keywarden/lookup-calls"
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/")


def _as_text(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else None


def lookup_matches(record: dict, key: str, value: str) -> bool:
    """Whether a CloudTrail record matches one LookupEvents attribute.

    AWS derives Username and the resources itself; this reads them from the record:
    userIdentity.userName (else the session issuer's), resources[].ARN and .type.
    """
    identity = record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else {}
    resources = [r for r in record.get("resources") or [] if isinstance(r, dict)]
    if key == "AccessKeyId":
        return _as_text(identity.get("accessKeyId")) == value
    if key == "EventId":
        return _as_text(record.get("eventID")) == value
    if key == "EventName":
        return _as_text(record.get("eventName")) == value
    if key == "EventSource":
        return _as_text(record.get("eventSource")) == value
    if key == "ReadOnly":
        return _as_text(record.get("readOnly")) == value
    if key == "Username":
        issuer = ((identity.get("sessionContext") or {}).get("sessionIssuer") or {}).get("userName")
        return _as_text(identity.get("userName") or issuer) == value
    if key == "ResourceName":
        return any(_as_text(r.get("ARN")) == value for r in resources)
    if key == "ResourceType":
        return any(_as_text(r.get("type")) == value for r in resources)
    return False


def _epoch(value: dt.datetime) -> float:
    return value.replace(tzinfo=dt.timezone.utc).timestamp()


class LookupHistory:
    """CloudTrail's event history, served for LookupEvents from the scenario's lookup_events.

    One region per call (the region of the request's SigV4 credential scope, matched against
    each record's awsRegion), at most one lookup attribute, StartTime/EndTime (default: the
    90 days before the scenario's now; nothing older than that is ever returned), newest first,
    MaxResults up to 50 per page, an opaque NextToken bound to its query. Every call is logged
    (GET /_keywarden/lookup-calls) so tests can check what a client asked and how fast.
    """

    def __init__(self, events: list[LookupEventSpec], now: dt.datetime, throttle: bool):
        self.events = sorted(events, key=lambda e: (e.time, str(e.record["eventID"])), reverse=True)
        self.now = now
        self.throttle = throttle
        self.calls: list[dict] = []
        self._recent: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def region_of(environ: dict) -> str:
        match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        return match[1] if match else REGION

    def answer(self, region: str, body: bytes) -> Response:
        arrived = time.time()
        entry: dict[str, Any] = {"time": arrived, "region": region}
        with self._lock:
            recent = [t for t in self._recent.get(region, []) if arrived - t < LOOKUP_THROTTLE_WINDOW]
            throttled = self.throttle and len(recent) >= 2
            if not throttled:
                recent.append(arrived)
            self._recent[region] = recent
            self.calls.append(entry)
        if throttled:
            entry["status"] = "ThrottlingException"
            return json_error(400, "ThrottlingException", "Rate exceeded")
        try:
            result = self._page(region, body, entry)
        except LookupError_ as error:
            entry["status"] = error.code
            return json_error(400, error.code, error.message)
        entry["status"] = "ok"
        payload = json.dumps(result).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", _request_id())]
        return 200, headers, payload

    def _page(self, region: str, body: bytes, entry: dict) -> dict:
        try:
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError as error:
            raise LookupError_("SerializationException", f"cannot read the request: {error}") from None
        attributes = request.get("LookupAttributes") or []
        entry["attributes"] = [f"{a.get('AttributeKey')}={a.get('AttributeValue')}" for a in attributes]
        entry["max_results"] = request.get("MaxResults")
        entry["next_token"] = request.get("NextToken")
        entry["start_time"] = request.get("StartTime")
        entry["end_time"] = request.get("EndTime")
        if len(attributes) > 1:
            raise LookupError_("InvalidLookupAttributesException", "You can specify only one lookup attribute.")
        for attribute in attributes:
            if attribute.get("AttributeKey") not in LOOKUP_KEYS or not attribute.get("AttributeValue"):
                raise LookupError_("InvalidLookupAttributesException", f"Invalid lookup attribute {attribute}")
        max_results = request.get("MaxResults", LOOKUP_MAX_RESULTS)
        if not isinstance(max_results, int) or not 1 <= max_results <= LOOKUP_MAX_RESULTS:
            raise LookupError_("InvalidMaxResultsException", f"MaxResults must be 1 to {LOOKUP_MAX_RESULTS}")

        def instant(name: str, default: dt.datetime) -> dt.datetime:
            value = request.get(name)
            if value is None:
                return default
            if not isinstance(value, (int, float)):
                raise LookupError_("InvalidTimeRangeException", f"{name} is not a timestamp")
            return dt.datetime.fromtimestamp(value, dt.timezone.utc).replace(tzinfo=None)

        oldest = self.now - LOOKUP_RETENTION
        start = instant("StartTime", oldest)
        end = instant("EndTime", self.now)
        if start > end:
            raise LookupError_("InvalidTimeRangeException", "StartTime is after EndTime")
        query = hashlib.sha256(json.dumps([region, attributes, str(start), str(end)]).encode()).hexdigest()[:16]
        offset = 0
        token = request.get("NextToken")
        if token is not None:
            try:
                decoded = json.loads(base64.b64decode(token))
                offset, token_query = int(decoded["offset"]), decoded["query"]
            except (ValueError, KeyError, TypeError):
                raise LookupError_("InvalidNextTokenException", "Invalid NextToken") from None
            if token_query != query:
                raise LookupError_("InvalidNextTokenException", "The NextToken belongs to another query")
        matching = [
            e
            for e in self.events
            if e.region == region
            and max(start, oldest) <= e.time <= end
            and all(lookup_matches(e.record, a["AttributeKey"], a["AttributeValue"]) for a in attributes)
        ]
        page = matching[offset : offset + max_results]
        entry["events"] = len(page)
        result: dict[str, Any] = {"Events": [self._event(e) for e in page]}
        if offset + max_results < len(matching):
            next_token = json.dumps({"offset": offset + max_results, "query": query}).encode()
            result["NextToken"] = base64.b64encode(next_token).decode()
        return result

    @staticmethod
    def _event(spec: LookupEventSpec) -> dict:
        record = spec.record
        identity = record.get("userIdentity") if isinstance(record.get("userIdentity"), dict) else {}
        event: dict[str, Any] = {
            "EventId": record["eventID"],
            "EventTime": _epoch(spec.time),
            "CloudTrailEvent": json.dumps(record),
            "Resources": [
                {"ResourceType": r.get("type"), "ResourceName": r.get("ARN")}
                for r in record.get("resources") or []
                if isinstance(r, dict)
            ],
        }
        for name, value in (
            ("EventName", record.get("eventName")),
            ("EventSource", record.get("eventSource")),
            ("ReadOnly", _as_text(record.get("readOnly"))),
            ("AccessKeyId", identity.get("accessKeyId")),
            ("Username", identity.get("userName")),
        ):
            if isinstance(value, str):
                event[name] = value
        return event

    def log(self) -> Response:
        with self._lock:
            body = json.dumps({"calls": self.calls}).encode()
        return 200, [("Content-Type", "application/json")], body


class LookupError_(Exception):
    """A LookupEvents validation error, answered in the JSON protocol's shape."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class FixtureMiddleware:
    """WSGI middleware in front of moto: fault injection and AWS-faithful answers.

    The action of a Query-protocol request (IAM, STS) is the `Action` form field
    (POST body, or query string); of a JSON-protocol request (CloudTrail,
    Organizations) the part of the X-Amz-Target header after the last dot.
    Faults short-circuit before moto sees the request. moto's XML errors to
    JSON-protocol requests are re-encoded as JSON, and its REST-shaped auth
    errors to Query-protocol requests in the Query shape. Rewritten actions go
    through moto first, so signature and policy checks still apply, and only
    moto's successful answers are replaced.
    """

    def __init__(self, app: Callable, fixture: Fixture):
        self.app = app
        self.fixture = fixture
        self.faults = FaultInjector(fixture.scenario.faults)
        report = fixture.scenario.report
        self.progress = (
            ReportProgress(report.in_progress_polls) if report and report.in_progress_polls is not None else None
        )
        self.aws_shape = bool(report and report.aws_shape)
        scenario = fixture.scenario
        self.lookup = (
            LookupHistory(scenario.lookup_events, scenario.now, scenario.lookup_throttle)
            if scenario.lookup_events is not None
            else None
        )
        self.auth_enforced = bool(scenario.auth and scenario.auth.enforce)

    @staticmethod
    def action_of(environ: dict) -> tuple[str | None, dict[str, list[str]], bool]:
        """(action, query parameters, is JSON protocol); re-arms the body it reads."""
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target.rsplit(".", 1)[-1], {}, True
        params = parse_qs(environ.get("QUERY_STRING", ""))
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            params.update(parse_qs(body.decode("utf-8", "replace")))
        action = params.get("Action", [None])[0]
        return action, params, False

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if self.lookup is not None and environ.get("PATH_INFO") == LOOKUP_CALLS_PATH:
            return self.respond(start_response, self.lookup.log())
        if environ.get("PATH_INFO") == "/findings/batchupdate" and environ.get("REQUEST_METHOD") == "PATCH":
            return self.respond(start_response, self.batch_update_findings(environ))
        action, params, is_json = self.action_of(environ)
        if action is None:
            if environ.get("PATH_INFO", "").startswith("/findings"):
                # Security Hub's REST-JSON API: moto's auth errors are XML, re-encoded as JSON.
                return self.respond(start_response, xml_error_as_json(call_app(self.app, environ)))
            return self.app(environ, start_response)
        fault = self.faults.take(action)
        if fault and fault.after:
            # The write lands (moto's answer, success or error, is thrown away), the reply is lost.
            status, _headers, _body = call_app(self.app, environ)
            log.info("%s answered %s, replaced by %s %s (after)", action, status, fault.status, fault.code)
            return self.respond(
                start_response, (json_error if is_json else query_error)(fault.status, fault.code, fault.message)
            )
        if fault:
            log.info("injecting %s %s into %s", fault.status, fault.code, action)
            return self.respond(
                start_response, (json_error if is_json else query_error)(fault.status, fault.code, fault.message)
            )
        if action == "AssumeRole" and self.fixture.organization is not None:
            denied = self.assume_role_refusal(params)
            if denied is not None:
                return self.respond(start_response, denied)
        if is_json and action == "LookupEvents" and self.lookup is not None:
            return self.respond(start_response, self.lookup_events(environ))
        if is_json:
            return self.respond(start_response, xml_error_as_json(call_app(self.app, environ)))

        status, headers, body = call_app(self.app, environ)
        if status != 200:
            return self.respond(start_response, xml_error_as_query((status, headers, body)))
        if not self.rewrites(action):
            return self.respond(start_response, (status, headers, body))
        rewritten = self.rewrite(action, params, body)
        if isinstance(rewritten, tuple):
            return self.respond(start_response, rewritten)
        return self.respond(start_response, (status, headers, rewritten))

    def assume_role_refusal(self, params: dict[str, list[str]]) -> Response | None:
        """AssumeRole into a member account: the account's fault, or AccessDenied as AWS
        answers when the role does not exist there (moto, auth off, would let it through)."""
        role_arn = params.get("RoleArn", [""])[0]
        match = re.fullmatch(r"arn:aws:iam::(\d{12}):role/(?:.*/)?([^/]+)", role_arn)
        if not match:
            return None
        account_id, role_name = match.groups()
        fault = self.fixture.assume_role_faults.get(account_id)
        if fault is not None:
            log.info("injecting %s %s into AssumeRole of %s", fault.status, fault.code, account_id)
            return query_error(fault.status, fault.code, fault.message)
        if account_id != ACCOUNT_ID and role_name not in {r.name for r in iam_backends[account_id]["aws"].roles.values()}:
            return query_error(
                403,
                "AccessDenied",
                f"User is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            )
        return None

    def lookup_events(self, environ: dict) -> Response:
        """LookupEvents from the scenario's events, after moto's auth checks when auth is on."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        if self.auth_enforced:
            # moto authenticates and authorizes before it finds the action missing (HTTP 500):
            # a 4xx is its auth answer, anything else means the caller may call LookupEvents.
            environ["wsgi.input"] = io.BytesIO(body)
            try:
                status, headers, answer = call_app(self.app, environ)
            except NotImplementedError:  # raised through Flask once the caller is authorized
                status, headers, answer = 500, [], b""
            if 400 <= status < 500:
                return xml_error_as_json((status, headers, answer))
        assert self.lookup is not None
        return self.lookup.answer(LookupHistory.region_of(environ), body)

    def authorize(self, environ: dict, body: bytes, action: str) -> Response | None:
        """None when moto's IAMRequest finds the request signed and `action` allowed by the
        caller's policies; else moto's error as a JSON answer (403 AccessDenied and the like)."""
        from moto.iam.access_control import IAMRequest
        from werkzeug.datastructures import EnvironHeaders
        from werkzeug.exceptions import HTTPException

        path = environ.get("RAW_URI") or environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING") and "?" not in path:
            path += "?" + environ["QUERY_STRING"]
        try:
            request = IAMRequest(
                account_id=self.caller_account(environ),
                method=environ.get("REQUEST_METHOD", "POST"),
                path=path,
                data={},
                body=body,
                headers=EnvironHeaders(environ),
                action=action,
            )
            request.check_signature()
            request.check_action_permitted("*")
        except HTTPException as error:
            code = getattr(error, "code", 403) or 403
            name = getattr(error, "error_type", None) or type(error).__name__.removesuffix("Error")
            message = getattr(error, "message", None) or error.description or name
            # As xml_error_as_json names it: AWS's JSON services call the policy failure so.
            name = "AccessDeniedException" if name == "AccessDenied" else name
            return json_error(code, name, str(message))
        return None

    @staticmethod
    def caller_account(environ: dict) -> str:
        """The account of the request's signing key, as moto finds it (an assumed role's
        session key is in its account): the stand-ins act in the caller's account."""
        from moto.iam.models import get_account_id_from

        match = re.search(r"Credential=([A-Z0-9]+)/", environ.get("HTTP_AUTHORIZATION", ""))
        return get_account_id_from(match[1]) if match else ACCOUNT_ID

    def batch_update_findings(self, environ: dict) -> Response:
        """Security Hub's BatchUpdateFindings, which moto 5.2 lacks (its URL is not routed): the
        workflow status of moto's stored findings is set, as AWS does, in the caller's account.
        With authorization enforced, the request is checked first as moto checks its own
        actions: the signature, then the caller's policies for securityhub:BatchUpdateFindings
        (moto's IAMRequest, as its ActionAuthenticatorMixin calls it)."""
        from moto.securityhub.models import securityhub_backends

        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b"{}"
        if self.auth_enforced:
            refused = self.authorize(environ, raw, "BatchUpdateFindings")
            if refused is not None:
                return refused
        request = json.loads(raw or b"{}")
        backend = securityhub_backends[self.caller_account(environ)][LookupHistory.region_of(environ)]
        status = (request.get("Workflow") or {}).get("Status")
        processed, unprocessed = [], []
        for ident in request.get("FindingIdentifiers", []):
            found = next(
                (f for f in backend.findings if f.id == ident.get("Id") and f.data.get("ProductArn") == ident.get("ProductArn")),
                None,
            )
            if found is None:
                unprocessed.append({"FindingIdentifier": ident, "ErrorCode": "FindingNotFound", "ErrorMessage": "no such finding"})
                continue
            if status:
                found.data["Workflow"] = {"Status": status}
            processed.append(ident)
        body = json.dumps({"ProcessedFindings": processed, "UnprocessedFindings": unprocessed}).encode()
        return 200, [("Content-Type", "application/json")], body

    def rewrites(self, action: str) -> bool:
        """Whether moto's answer to this Query action is replaced."""
        if action == "GenerateCredentialReport":
            return self.progress is not None
        if action == "GetCredentialReport":
            return self.progress is not None or self.aws_shape
        return action == "GetLoginProfile"

    def rewrite(self, action: str, params: dict[str, list[str]], body: bytes) -> bytes | Response:
        """Replace a successful moto answer (bytes), or turn it into an error (Response)."""
        if action == "GenerateCredentialReport":
            assert self.progress is not None
            state = self.progress.generate()
            description = {
                "STARTED": "No report exists. Starting a new report generation task",
                "INPROGRESS": "Report generation in progress",
                "COMPLETE": "",
            }[state]
            result = f"<State>{state}</State>" + (f"<Description>{description}</Description>" if description else "")
            return query_result(action, result)
        if action == "GetCredentialReport":
            if self.progress is not None and self.progress.get_in_progress():
                return query_error(404, "ReportInProgress", "Report generation in progress")
            if not self.aws_shape:
                return body
            content = base64.b64encode(aws_shape_report(self.fixture).encode()).decode()
            generated = iso_z(self.fixture.scenario.report.generated)  # type: ignore[union-attr]
            result = (
                f"<Content>{content}</Content><ReportFormat>text/csv</ReportFormat>"
                f"<GeneratedTime>{generated}</GeneratedTime>"
            )
            return query_result(action, result)
        # GetLoginProfile: moto answers the user's creation date as the password's.
        user_name = params.get("UserName", [None])[0]
        changed = self.fixture.password_created.get(user_name or "")
        if changed is None:
            return body
        return re.sub(rb"<CreateDate>[^<]*</CreateDate>", f"<CreateDate>{iso_z(changed)}</CreateDate>".encode(), body)

    @staticmethod
    def respond(start_response: Callable, response: Response) -> list[bytes]:
        status, headers, body = response
        reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
        start_response(f"{status} {reason}", with_body(headers, body))
        return [body]


# ----------------------------------------------------------------------- main


def read_scenario(source: str) -> Any:
    """Read the scenario from a file, or from stdin ("-") without waiting for EOF.

    From stdin, lines are read until they form a complete JSON document, so the
    parent can keep the pipe open as the launcher's lifeline.
    """
    if source != "-":
        with open(source, encoding="utf-8") as f:
            text = f.read()
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ScenarioError(f"{source}: {error}") from None
    text = ""
    while True:
        line = sys.stdin.buffer.readline()
        text += line.decode("utf-8")
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            if not line:
                raise ScenarioError(f"stdin (EOF before a complete JSON document): {error}") from None


def watch_stdin(stop: threading.Event) -> None:
    """Set `stop` when stdin reaches EOF: the parent closed the pipe or died.

    Reads the file descriptor, not sys.stdin: a daemon thread blocked inside the
    buffered reader would hold its lock and abort the interpreter at exit.
    """
    try:
        while os.read(0, 65536):
            pass
    except OSError:
        pass
    log.info("stdin closed")
    stop.set()


def main(argv: list[str] | None = None) -> int:
    """Run the launcher; returns 2 on a setup failure, exits 0 when told to stop."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", help="scenario JSON file, or - for stdin")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop after this long (default 600)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    # stdout carries exactly one JSON line; anything else printed goes to stderr.
    out = sys.stdout
    sys.stdout = sys.stderr
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="launcher: %(message)s", stream=sys.stderr
    )
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.ERROR)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())

    server: ThreadedMotoServer | None = None
    try:
        scenario = parse_scenario(read_scenario(args.scenario))
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"

        started = time.monotonic()
        fixture = seed(scenario, endpoint)
        seed_seconds = time.monotonic() - started
        # ThreadedMotoServer builds its werkzeug server in its thread; every request
        # reads server.app, so wrapping it here covers all requests from now on.
        wsgi_server = server._server  # private, but moto 5.2 has no public hook
        if wsgi_server is None or not hasattr(wsgi_server, "app"):
            raise RuntimeError("moto's ThreadedMotoServer changed: no werkzeug server to wrap")
        wsgi_server.app = FixtureMiddleware(wsgi_server.app, fixture)
        if scenario.auth and scenario.auth.enforce:
            enable_authorization(endpoint)
    except Exception as error:  # report any setup failure on the protocol line too
        if isinstance(error, ScenarioError):
            log.error("bad scenario: %s", error)
        else:
            traceback.print_exc()
        out.write(json.dumps({"error": f"{type(error).__name__}: {error}"}) + "\n")
        out.flush()
        if server is not None:
            server.stop()
        return 2

    line: dict[str, Any] = {
        "endpoint": endpoint,
        "region": REGION,
        "account_id": ACCOUNT_ID,
        "access_key_id": ADMIN_ACCESS_KEY_ID,
        "secret_access_key": ADMIN_SECRET_ACCESS_KEY,
        "now": iso_z(scenario.now),
        "auth_enforced": bool(scenario.auth and scenario.auth.enforce),
        "users": {name: [vars(k) for k in keys] for name, keys in fixture.keys.items()},
        "bulk_users": scenario.bulk_users,
        "seed_seconds": round(seed_seconds, 3),
    }
    if fixture.principal:
        line["principal"] = fixture.principal
    if scenario.lookup_events is not None:
        line["lookup_calls_url"] = f"{endpoint}{LOOKUP_CALLS_PATH}"
    if fixture.organization is not None:
        line["organization"] = fixture.organization
    out.write(json.dumps(line) + "\n")
    out.flush()

    threading.Thread(target=watch_stdin, args=(stop,), daemon=True).start()
    if not stop.wait(args.max_seconds):
        log.warning("max lifetime of %ss reached, stopping", args.max_seconds)
    # Nothing to persist: skip server.stop() (a 0.5 s shutdown poll) and the slow
    # interpreter teardown so that tests waiting for the launcher are not held up.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
