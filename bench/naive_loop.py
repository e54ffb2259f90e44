"""The naive audit loop that the calls-economy benchmark compares keywarden against.

    .venv/bin/python bench/naive_loop.py

What a home-made boto3 script does to find unused and unrotated keys: list every user, then for
every user ListAccessKeys and, for every key, GetAccessKeyLastUsed; one request at a time. It
talks to whatever AWS_ENDPOINT_URL names (scripts/bench-live.sh points it at the timed moto
launcher on 127.0.0.1) and prints one JSON line: users, keys, requests.
"""

from __future__ import annotations

import json

import boto3


def main() -> None:
    iam = boto3.client("iam")
    requests = 0
    users = []
    for page in iam.get_paginator("list_users").paginate():
        requests += 1
        users.extend(u["UserName"] for u in page["Users"])
    keys = 0
    for user in users:
        listed = iam.list_access_keys(UserName=user)
        requests += 1
        for key in listed["AccessKeyMetadata"]:
            iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
            requests += 1
            keys += 1
    print(json.dumps({"users": len(users), "keys": keys, "requests": requests}))


if __name__ == "__main__":
    main()
