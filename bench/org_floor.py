"""The floor of `audit --org --no-enrich` on moto: the same minimal calls, one at a time, with a
plain boto3 client (what the server needs to serve them, with no concurrency).

    python bench/org_floor.py ENDPOINT ROLE_NAME

Walks the organization (ListRoots, ListOrganizationalUnitsForParent, ListAccountsForParent),
then for every ACTIVE account but the caller's: AssumeRole, and with its credentials
GetCredentialReport (GenerateCredentialReport first when there is none), GetAccountPasswordPolicy,
GetAccountSummary and DescribeTrails; the caller's account with its own credentials. Prints one
JSON line: accounts, requests, the seconds spent in the calls (the floor) and in all.
"""

import json
import sys
import time

import boto3
from botocore.config import Config

ENDPOINT, ROLE = sys.argv[1], sys.argv[2]
KEY = {"aws_access_key_id": "AKIAKEYWARDENADMIN00", "aws_secret_access_key": "keywarden-launcher-admin-secret-key-0000"}
CONFIG = Config(retries={"max_attempts": 1})


def client(service, **credentials):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name="us-east-1", config=CONFIG, **(credentials or KEY))


requests = 0
in_calls = 0.0


def call(fn, **kwargs):
    """One request; only the time inside calls counts (boto3 builds a client in ~0.1 s)."""
    global requests, in_calls
    requests += 1
    started = time.monotonic()
    try:
        return fn(**kwargs)
    finally:
        in_calls += time.monotonic() - started


def audit(**credentials):
    iam = client("iam", **credentials)
    try:
        call(iam.get_credential_report)
    except iam.exceptions.CredentialReportNotPresentException:
        call(iam.generate_credential_report)
        call(iam.get_credential_report)
    try:
        call(iam.get_account_password_policy)
    except iam.exceptions.NoSuchEntityException:
        pass
    call(iam.get_account_summary)
    call(client("cloudtrail", **credentials).describe_trails)


started = time.monotonic()
org = client("organizations")
sts = client("sts")
home = call(sts.get_caller_identity)["Account"]
accounts = []


def pages(operation, key, **kwargs):
    """Every item of every page, each page one request."""
    items, token = [], None
    while True:
        page = call(getattr(org, operation), **kwargs, **({"NextToken": token} if token else {}))
        items += page[key]
        token = page.get("NextToken")
        if not token:
            return items


pending = [r["Id"] for r in pages("list_roots", "Roots")]
while pending:
    parent = pending.pop()
    accounts += pages("list_accounts_for_parent", "Accounts", ParentId=parent)
    pending += [ou["Id"] for ou in pages("list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent)]
audited = 0
for account in accounts:
    if account.get("State", account.get("Status")) != "ACTIVE":
        continue
    if account["Id"] == home:
        audit()
    else:
        creds = call(
            sts.assume_role, RoleArn=f"arn:aws:iam::{account['Id']}:role/{ROLE}", RoleSessionName="floor"
        )["Credentials"]
        audit(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
    audited += 1
print(
    json.dumps(
        {
            "accounts": audited,
            "requests": requests,
            "seconds_in_calls": round(in_calls, 3),
            "seconds_total": round(time.monotonic() - started, 3),
        }
    )
)
