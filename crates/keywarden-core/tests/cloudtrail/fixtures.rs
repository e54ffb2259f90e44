//! CloudTrail fixtures shared by the CloudTrail tests of keywarden-core and the `trail` / `key`
//! command tests of the binary (included there with `#[path]`).
//!
//! Real events are read from `data/` (copied from ../shared/data/cloudtrail, see README.md).
//! Events for the cases no public data shows are *derived* from a real event: each builder below
//! says which real event it starts from and what it changes; everything else stays as AWS wrote it.

// Each test crate uses a different subset of these.
#![allow(dead_code)]

use serde_json::{json, Value};

// --- The real files -------------------------------------------------------------------------

pub const BACKDOOR_USER: &str =
    include_str!("data/stratus-red-team/aws.persistence.iam-backdoor-user.json");
pub const CREATE_ADMIN_USER: &str =
    include_str!("data/stratus-red-team/aws.persistence.iam-create-admin-user.json");
pub const CREATE_LOGIN_PROFILE: &str =
    include_str!("data/stratus-red-team/aws.persistence.iam-create-user-login-profile.json");
pub const UPDATE_LOGIN_PROFILE: &str = include_str!(
    "data/stratus-red-team/aws.privilege-escalation.iam-update-user-login-profile.json"
);
pub const FEDERATION_TOKEN: &str =
    include_str!("data/stratus-red-team/aws.persistence.sts-federation-token.json");
pub const CONSOLE_LOGIN_WITHOUT_MFA: &str =
    include_str!("data/stratus-red-team/aws.initial-access.console-login-without-mfa.json");
pub const CLOUDTRAIL_STOP: &str =
    include_str!("data/stratus-red-team/aws.defense-evasion.cloudtrail-stop.json");
pub const CLOUDTRAIL_DELETE: &str =
    include_str!("data/stratus-red-team/aws.defense-evasion.cloudtrail-delete.json");
pub const CLOUDTRAIL_EVENT_SELECTORS: &str =
    include_str!("data/stratus-red-team/aws.defense-evasion.cloudtrail-event-selectors.json");
pub const LAUNCH_UNUSUAL_INSTANCES: &str =
    include_str!("data/stratus-red-team/aws.execution.ec2-launch-unusual-instances.json");
/// Seven lines of OTRF's ec2_proxy_s3_exfiltration (Logstash export, `@timestamp`, no
/// `eventTime`): a console session of IAM user pedro (IAMUser with an ASIA key) and the stolen
/// instance-profile session (AssumedRole).
pub const OTRF_EXCERPT: &str = include_str!("data/otrf/ec2_proxy_s3_exfiltration_excerpt.json");
/// Seven lines of the AWS documentation examples, each wrapped as `{"source_file", "block",
/// "event"}`.
pub const AWSDOCS_EXCERPT: &str = include_str!("data/awsdocs/extracted_events_excerpt.jsonl");

/// Every copied file with a name for it, in the formats they come in.
pub const REAL_FILES: &[(&str, &str)] = &[
    ("aws.persistence.iam-backdoor-user.json", BACKDOOR_USER),
    (
        "aws.persistence.iam-create-admin-user.json",
        CREATE_ADMIN_USER,
    ),
    (
        "aws.persistence.iam-create-user-login-profile.json",
        CREATE_LOGIN_PROFILE,
    ),
    (
        "aws.privilege-escalation.iam-update-user-login-profile.json",
        UPDATE_LOGIN_PROFILE,
    ),
    (
        "aws.persistence.sts-federation-token.json",
        FEDERATION_TOKEN,
    ),
    (
        "aws.initial-access.console-login-without-mfa.json",
        CONSOLE_LOGIN_WITHOUT_MFA,
    ),
    ("aws.defense-evasion.cloudtrail-stop.json", CLOUDTRAIL_STOP),
    (
        "aws.defense-evasion.cloudtrail-delete.json",
        CLOUDTRAIL_DELETE,
    ),
    (
        "aws.defense-evasion.cloudtrail-event-selectors.json",
        CLOUDTRAIL_EVENT_SELECTORS,
    ),
    (
        "aws.execution.ec2-launch-unusual-instances.json",
        LAUNCH_UNUSUAL_INSTANCES,
    ),
    ("ec2_proxy_s3_exfiltration_excerpt.json", OTRF_EXCERPT),
    ("extracted_events_excerpt.jsonl", AWSDOCS_EXCERPT),
];

// --- Ids of real events used by name ----------------------------------------------------------

/// iam-backdoor-user: christophe (AKIA30BEZSJBVKOFKZW0) creates AKIAL80DWDVKKM0UXEER for
/// stratus-red-team-backdoor-u-user, 2024-07-30T21:53:13Z.
pub const BACKDOOR_CREATE_KEY: &str = "c64c4ded-ef03-4e5c-81eb-153b118d72f2";
pub const BACKDOOR_KEY: &str = "AKIAL80DWDVKKM0UXEER";
pub const BACKDOOR_USER_NAME: &str = "stratus-red-team-backdoor-u-user";
/// iam-create-admin-user: christophe creates AKIAXAFZN8JEPF6L682H for malicious-iam-user.
pub const ADMIN_CREATE_KEY: &str = "94faedcc-0fa4-46e6-9322-022e8e934f04";
pub const ADMIN_KEY: &str = "AKIAXAFZN8JEPF6L682H";
/// iam-create-user-login-profile: christophe gives stratus-red-team-login-profile-user a password.
pub const CREATE_LOGIN_PROFILE_EVENT: &str = "d3906a7d-604b-407f-acb6-fc425742821e";
/// iam-update-user-login-profile: christophe resets stratus-red-team-update-login-profile-user's.
pub const UPDATE_LOGIN_PROFILE_EVENT: &str = "a46a1a42-9ef1-48d4-9c61-507eb6d4019f";
/// sts-federation-token: AKIA6V1GNZTT65XQH36M mints ASIASTJKC5GCM7ZE6LUP at 08:43:17 ...
pub const FEDERATION_TOKEN_EVENT: &str = "6e882b9d-2af8-4c67-b91f-aeac6a0e5e70";
/// ... which calls GetCallerIdentity (as a FederatedUser) at 08:43:18.
pub const FEDERATED_CALL_EVENT: &str = "91529247-c4c4-4793-afc8-d70bbcfe9d19";
/// console-login-without-mfa: IAM user, MFAUsed No, Success.
pub const CONSOLE_LOGIN_EVENT: &str = "865d9377-9c6b-4fd7-8aad-725e95f6a140";
pub const STOP_LOGGING_EVENT: &str = "10163ed2-2253-469d-a5ee-cbc6651f8934";
pub const DELETE_TRAIL_EVENT: &str = "ee73c230-44bc-4492-8542-cfb189eae287";
pub const PUT_EVENT_SELECTORS_EVENT: &str = "c2a89408-340a-42f0-8ace-75d9f5769393";
/// ec2-launch-unusual-instances: christophe's AKIAR7ISFR69YWROPYAN assumes a role, minting
/// ASIA9F6MXE9HSYOXYQOS, which then calls RunInstances (denied).
pub const ASSUME_ROLE_EVENT: &str = "04c882a5-7652-40d1-b44c-83535fc19268";
pub const RUN_INSTANCES_EVENT: &str = "1a4debbb-12e9-4bde-b8c7-ea29002bb2a7";
/// awsdocs: anaya signs in without MFA (line 1 of the excerpt) ...
pub const DOCS_LOGIN_NO_MFA: &str = "3fcfb182-98f8-4744-bd45-10a395ab61cb";
/// ... with MFA (line 2) ...
pub const DOCS_LOGIN_MFA: &str = "fed06f42-cb12-4764-8c69-121063dc79b9";
/// ... fails to sign in (line 3) ...
pub const DOCS_LOGIN_FAILURE: &str = "d38ce1b3-4575-4cb8-a632-611b8243bfc3";
/// ... root signs in without MFA (line 4) ...
pub const DOCS_ROOT_LOGIN_NO_MFA: &str = "deb1e1f9-c99b-4612-8e9f-21f93b5d79c0";
/// ... root fails to sign in (line 5) ...
pub const DOCS_ROOT_LOGIN_FAILURE: &str = "a4fbbe77-91a0-4238-804a-64314184edb6";
/// ... a failed UpdateTrail (TrailNotFoundException, line 6).
pub const DOCS_FAILED_UPDATE_TRAIL: &str = "b7d4398e-b2f0-4faa-9c76-e2d316a8d67f";
/// OTRF: pedro's console session key (IAMUser with an ASIA key, no minting call in any log).
pub const CONSOLE_SESSION_KEY: &str = "ASIA5FLZVX4OI4ZDQJOL";
pub const CONSOLE_SESSION_EVENT: &str = "fd4f1042-c7f6-4107-a6ee-d841d92596e7";

// --- The EVT006 scenario: one leaked key and the sessions it minted ---------------------------

/// The long-term key of the sts-federation-token detonation.
pub const LEAKED_KEY: &str = "AKIA6V1GNZTT65XQH36M";
pub const LEAKED_KEY_OWNER: &str = "stratus-red-team-user-federation-user";
pub const LEAKED_ACCOUNT: &str = "742491224508";
/// Minted by the real GetFederationToken.
pub const FEDERATION_SESSION: &str = "ASIASTJKC5GCM7ZE6LUP";
/// Minted by the derived GetSessionToken.
pub const SESSION: &str = "ASIASTJKC5GCM7ZE6SES";
/// Minted by the derived AssumeRole signed with SESSION (role chaining).
pub const CHAINED_SESSION: &str = "ASIASTJKC5GCM7ZECHAN";

// --- Reading and editing ----------------------------------------------------------------------

/// The events of a JSON array file, or of a file with one (possibly wrapped) event per line.
pub fn events_of(text: &str) -> Vec<Value> {
    if text.trim_start().starts_with('[') {
        serde_json::from_str::<Vec<Value>>(text).expect("a JSON array of events")
    } else {
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("one JSON event per line");
                match v.get("event") {
                    Some(inner) => inner.clone(),
                    None => v,
                }
            })
            .collect()
    }
}

/// The real event with this `eventID` in `text`.
pub fn real(text: &str, event_id: &str) -> Value {
    events_of(text)
        .into_iter()
        .find(|e| e["eventID"] == event_id)
        .unwrap_or_else(|| panic!("no event {event_id} in the fixture"))
}

/// Sets the value at `path` (object keys), creating objects on the way.
pub fn set(event: &mut Value, path: &[&str], value: Value) {
    let (last, parents) = path.split_last().expect("a non-empty path");
    let mut node = event;
    for key in parents {
        if !node[*key].is_object() {
            node[*key] = json!({});
        }
        node = &mut node[*key];
    }
    node[*last] = value;
}

/// Removes the key at `path`, if there.
pub fn remove(event: &mut Value, path: &[&str]) {
    let (last, parents) = path.split_last().expect("a non-empty path");
    let mut node = event;
    for key in parents {
        node = &mut node[*key];
    }
    if let Some(object) = node.as_object_mut() {
        object.remove(*last);
    }
}

/// The same event with a new id and time: the usual first step of a derivation.
pub fn retimed(mut event: Value, event_id: &str, time: &str) -> Value {
    set(&mut event, &["eventID"], json!(event_id));
    set(&mut event, &["eventTime"], json!(time));
    event
}

/// `{"Records":[...]}` on one line, as CloudTrail writes its files.
pub fn records(events: &[Value]) -> String {
    serde_json::to_string(&json!({ "Records": events })).unwrap()
}

/// One event per line.
pub fn json_lines(events: &[Value]) -> String {
    events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap() + "\n")
        .collect()
}

// --- Derived IAM events ---------------------------------------------------------------------

/// An IAM call by christophe in the leaked key's account. Starts from the real CreateAccessKey
/// of iam-backdoor-user (christophe, AKIA30BEZSJBVKOFKZW0, 211.9.016.253); changes: eventName,
/// eventID, eventTime, the account (946986569305 -> `account`) in recipientAccountId and
/// userIdentity, requestParameters as given, responseElements null (IAM answers UpdateAccessKey
/// and DeleteAccessKey with no body).
fn admin_iam_call(name: &str, event_id: &str, time: &str, account: &str, request: Value) -> Value {
    let mut e = retimed(real(BACKDOOR_USER, BACKDOOR_CREATE_KEY), event_id, time);
    set(&mut e, &["eventName"], json!(name));
    set(&mut e, &["recipientAccountId"], json!(account));
    set(&mut e, &["userIdentity", "accountId"], json!(account));
    set(
        &mut e,
        &["userIdentity", "arn"],
        json!(format!("arn:aws:iam::{account}:user/christophe")),
    );
    set(&mut e, &["requestParameters"], request);
    set(&mut e, &["responseElements"], Value::Null);
    e
}

/// UpdateAccessKey of `key` (owned by `user`) to `status`, by christophe. Derived from the real
/// CreateAccessKey of iam-backdoor-user (see `admin_iam_call`); requestParameters become
/// `{userName, accessKeyId, status}` as CloudTrail logs UpdateAccessKey.
pub fn update_access_key(
    event_id: &str,
    time: &str,
    account: &str,
    user: &str,
    key: &str,
    status: &str,
) -> Value {
    admin_iam_call(
        "UpdateAccessKey",
        event_id,
        time,
        account,
        json!({ "userName": user, "accessKeyId": key, "status": status }),
    )
}

/// DeleteAccessKey of `key` (owned by `user`), by christophe. Derived from the real
/// CreateAccessKey of iam-backdoor-user (see `admin_iam_call`); requestParameters become
/// `{userName, accessKeyId}`.
pub fn delete_access_key(
    event_id: &str,
    time: &str,
    account: &str,
    user: &str,
    key: &str,
) -> Value {
    admin_iam_call(
        "DeleteAccessKey",
        event_id,
        time,
        account,
        json!({ "userName": user, "accessKeyId": key }),
    )
}

/// The same call failed: `errorCode` and `errorMessage` added (as IAM logs a refused call).
pub fn failed(mut event: Value, error_code: &str) -> Value {
    set(&mut event, &["errorCode"], json!(error_code));
    set(
        &mut event,
        &["errorMessage"],
        json!(format!("derived failure: {error_code}")),
    );
    set(&mut event, &["responseElements"], Value::Null);
    event
}

/// The key of the backdoor user, deactivated at 22:00 then reactivated at 23:00 on the day it was
/// created (2024-07-30): two UpdateAccessKey calls derived with `update_access_key`.
pub fn backdoor_key_deactivated() -> Value {
    update_access_key(
        "derived-evt002-deactivate",
        "2024-07-30T22:00:00Z",
        "946986569305",
        BACKDOOR_USER_NAME,
        BACKDOOR_KEY,
        "Inactive",
    )
}

pub fn backdoor_key_reactivated() -> Value {
    update_access_key(
        "derived-evt002-reactivate",
        "2024-07-30T23:00:00Z",
        "946986569305",
        BACKDOOR_USER_NAME,
        BACKDOOR_KEY,
        "Active",
    )
}

/// CreateAccessKey by christophe for himself. Derived from the real CreateAccessKey of
/// iam-backdoor-user: requestParameters set to `own_request` (null when the CLI is called
/// without --user-name, or `{"userName": "christophe"}`), responseElements.accessKey.userName
/// christophe and a new key id AKIAL80DWDVKKM0OWN01, new eventID.
pub fn create_own_key(event_id: &str, own_request: Value) -> Value {
    let mut e = real(BACKDOOR_USER, BACKDOOR_CREATE_KEY);
    set(&mut e, &["eventID"], json!(event_id));
    set(&mut e, &["requestParameters"], own_request);
    set(
        &mut e,
        &["responseElements", "accessKey", "userName"],
        json!("christophe"),
    );
    set(
        &mut e,
        &["responseElements", "accessKey", "accessKeyId"],
        json!("AKIAL80DWDVKKM0OWN01"),
    );
    e
}

/// The root identity as the AWS docs log it (awsdocs excerpt line 4, root ConsoleLogin), moved to
/// iam-backdoor-user's account 946986569305, with a console session key (root creates keys from
/// the console).
pub fn root_identity() -> Value {
    json!({
        "type": "Root",
        "principalId": "946986569305",
        "arn": "arn:aws:iam::946986569305:root",
        "accountId": "946986569305",
        "accessKeyId": "ASIAROOTCONSOLE00001"
    })
}

/// Root creates its own access key. Derived from the real CreateAccessKey of iam-backdoor-user:
/// userIdentity replaced by `root_identity()`, requestParameters null (no --user-name: the
/// caller's own key), responseElements.accessKey without userName (root has none) and with key
/// id AKIAL80DWDVKKMROOT01, new eventID.
pub fn root_creates_own_key() -> Value {
    let mut e = real(BACKDOOR_USER, BACKDOOR_CREATE_KEY);
    set(&mut e, &["eventID"], json!("derived-evt008-root-own-key"));
    set(&mut e, &["userIdentity"], root_identity());
    set(&mut e, &["requestParameters"], Value::Null);
    remove(&mut e, &["responseElements", "accessKey", "userName"]);
    set(
        &mut e,
        &["responseElements", "accessKey", "accessKeyId"],
        json!("AKIAL80DWDVKKMROOT01"),
    );
    e
}

/// Root creates a key for IAM user stratus-red-team-backdoor-u-user: the real CreateAccessKey of
/// iam-backdoor-user with userIdentity replaced by `root_identity()`, new eventID.
pub fn root_creates_key_for_user() -> Value {
    let mut e = real(BACKDOOR_USER, BACKDOOR_CREATE_KEY);
    set(&mut e, &["eventID"], json!("derived-evt008-root-for-user"));
    set(&mut e, &["userIdentity"], root_identity());
    e
}

/// UpdateLoginProfile by christophe on his own password: the real UpdateLoginProfile of
/// iam-update-user-login-profile with requestParameters.userName christophe, new eventID.
pub fn update_own_login_profile() -> Value {
    let mut e = real(UPDATE_LOGIN_PROFILE, UPDATE_LOGIN_PROFILE_EVENT);
    set(&mut e, &["eventID"], json!("derived-evt004-own-password"));
    set(
        &mut e,
        &["requestParameters", "userName"],
        json!("christophe"),
    );
    e
}

// --- Derived STS events and session use (EVT005, EVT006) -------------------------------------

/// GetSessionToken signed by the leaked key, minting SESSION. Derived from the real
/// GetFederationToken of sts-federation-token (same caller, key, IP, user agent): eventName
/// GetSessionToken, eventID, eventTime, requestParameters `{"durationSeconds": 129600}` (36 h),
/// responseElements.credentials.accessKeyId SESSION, `federatedUser` and `packedPolicySize`
/// removed (GetSessionToken returns credentials only).
pub fn get_session_token(event_id: &str, time: &str) -> Value {
    let mut e = retimed(
        real(FEDERATION_TOKEN, FEDERATION_TOKEN_EVENT),
        event_id,
        time,
    );
    set(&mut e, &["eventName"], json!("GetSessionToken"));
    set(
        &mut e,
        &["requestParameters"],
        json!({ "durationSeconds": 129600 }),
    );
    set(
        &mut e,
        &["responseElements", "credentials", "accessKeyId"],
        json!(SESSION),
    );
    remove(&mut e, &["responseElements", "federatedUser"]);
    remove(&mut e, &["responseElements", "packedPolicySize"]);
    e
}

/// A call signed by SESSION. Derived from the real GetCallerIdentity of sts-federation-token
/// (signed by the federation session): eventID, eventTime, and userIdentity as a GetSessionToken
/// session logs it: type IAMUser, the owner's arn and userName, accessKeyId SESSION, session
/// attributes without a sessionIssuer.
pub fn session_call(event_id: &str, time: &str) -> Value {
    let mut e = retimed(real(FEDERATION_TOKEN, FEDERATED_CALL_EVENT), event_id, time);
    set(
        &mut e,
        &["userIdentity"],
        json!({
            "type": "IAMUser",
            "principalId": "AIDAN7SEM6PEVTNQR8M4",
            "arn": format!("arn:aws:iam::{LEAKED_ACCOUNT}:user/{LEAKED_KEY_OWNER}"),
            "accountId": LEAKED_ACCOUNT,
            "accessKeyId": SESSION,
            "userName": LEAKED_KEY_OWNER,
            "sessionContext": {
                "attributes": { "creationDate": "2024-11-30T09:00:00Z", "mfaAuthenticated": "false" }
            }
        }),
    );
    e
}

/// A call signed by the federation session the real GetFederationToken minted: the real
/// GetCallerIdentity of sts-federation-token with a new eventID and eventTime only.
pub fn federation_session_call(event_id: &str, time: &str) -> Value {
    retimed(real(FEDERATION_TOKEN, FEDERATED_CALL_EVENT), event_id, time)
}

/// Role chaining: SESSION assumes a role, minting CHAINED_SESSION. Derived from the real
/// AssumeRole of ec2-launch-unusual-instances: eventID, eventTime, userIdentity replaced by
/// SESSION's (as in `session_call`), the account 900138736586 -> LEAKED_ACCOUNT in
/// recipientAccountId and the role ARN, responseElements.credentials.accessKeyId CHAINED_SESSION.
pub fn chained_assume_role(event_id: &str, time: &str) -> Value {
    let mut e = retimed(
        real(LAUNCH_UNUSUAL_INSTANCES, ASSUME_ROLE_EVENT),
        event_id,
        time,
    );
    let identity = session_call("unused", time)["userIdentity"].clone();
    set(&mut e, &["userIdentity"], identity);
    set(&mut e, &["recipientAccountId"], json!(LEAKED_ACCOUNT));
    set(
        &mut e,
        &["requestParameters", "roleArn"],
        json!(format!(
            "arn:aws:iam::{LEAKED_ACCOUNT}:role/stratus-red-team-ec2lui-role-idtzskbvtd"
        )),
    );
    set(
        &mut e,
        &["responseElements", "credentials", "accessKeyId"],
        json!(CHAINED_SESSION),
    );
    e
}

/// A call signed by CHAINED_SESSION. Derived from the real RunInstances of
/// ec2-launch-unusual-instances (an AssumedRole session, denied): eventID, eventTime,
/// userIdentity.accessKeyId CHAINED_SESSION, the account -> LEAKED_ACCOUNT.
pub fn chained_call(event_id: &str, time: &str) -> Value {
    run_instances_signed_by(CHAINED_SESSION, LEAKED_ACCOUNT, event_id, time)
}

/// The real RunInstances of ec2-launch-unusual-instances (an AssumedRole session, denied) with
/// eventID and eventTime, signed by `session` in `account` (userIdentity.accessKeyId,
/// userIdentity.accountId and recipientAccountId changed).
fn run_instances_signed_by(session: &str, account: &str, event_id: &str, time: &str) -> Value {
    let mut e = retimed(
        real(LAUNCH_UNUSUAL_INSTANCES, RUN_INSTANCES_EVENT),
        event_id,
        time,
    );
    set(&mut e, &["userIdentity", "accessKeyId"], json!(session));
    set(&mut e, &["userIdentity", "accountId"], json!(account));
    set(&mut e, &["recipientAccountId"], json!(account));
    e
}

/// The leaked key deleted by christophe at `time` (`delete_access_key`).
pub fn leaked_key_deleted(time: &str) -> Value {
    delete_access_key(
        "derived-evt006-delete",
        time,
        LEAKED_ACCOUNT,
        LEAKED_KEY_OWNER,
        LEAKED_KEY,
    )
}

/// The leaked key deactivated by christophe at `time` (`update_access_key`).
pub fn leaked_key_deactivated(time: &str) -> Value {
    update_access_key(
        "derived-evt006-deactivate",
        time,
        LEAKED_ACCOUNT,
        LEAKED_KEY_OWNER,
        LEAKED_KEY,
        "Inactive",
    )
}

/// The whole incident, in time order:
/// 08:43:17 real GetFederationToken (leaked key -> FEDERATION_SESSION),
/// 08:43:18 real GetCallerIdentity by FEDERATION_SESSION,
/// 09:00:00 GetSessionToken (leaked key -> SESSION),
/// 09:05:00 SESSION used,
/// 09:10:00 SESSION assumes a role (-> CHAINED_SESSION),
/// 10:00:00 `revocation` (the leaked key deleted or deactivated),
/// 11:00:00 SESSION used, 11:05:00 CHAINED_SESSION used, 11:10:00 FEDERATION_SESSION used.
pub fn incident(revocation: Value) -> Vec<Value> {
    vec![
        real(FEDERATION_TOKEN, FEDERATION_TOKEN_EVENT),
        real(FEDERATION_TOKEN, FEDERATED_CALL_EVENT),
        get_session_token("derived-evt006-gst", "2024-11-30T09:00:00Z"),
        session_call("derived-evt006-use-before", "2024-11-30T09:05:00Z"),
        chained_assume_role("derived-evt006-chain", "2024-11-30T09:10:00Z"),
        revocation,
        session_call("derived-evt006-use-after", "2024-11-30T11:00:00Z"),
        chained_call("derived-evt006-chained-use-after", "2024-11-30T11:05:00Z"),
        federation_session_call("derived-evt006-federated-use-after", "2024-11-30T11:10:00Z"),
    ]
}

// --- Derived sign-in and trail events ----------------------------------------------------------

/// An SSO / federated console sign-in: the real ConsoleLogin of console-login-without-mfa with
/// userIdentity as an AssumedRole (AWSReservedSSO role), new eventID. CloudTrail writes MFAUsed
/// No for these whatever the identity provider did.
pub fn sso_console_login() -> Value {
    let mut e = real(CONSOLE_LOGIN_WITHOUT_MFA, CONSOLE_LOGIN_EVENT);
    set(&mut e, &["eventID"], json!("derived-evt007-sso"));
    set(
        &mut e,
        &["userIdentity"],
        json!({
            "type": "AssumedRole",
            "principalId": "AROA1ERT0661IN5R239V:alice@example.com",
            "arn": "arn:aws:sts::562283505220:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com",
            "accountId": "562283505220",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "userName": "AWSReservedSSO_Admin_0123456789abcdef"
                }
            }
        }),
    );
    e
}

/// A CloudTrail configuration call by christophe on the stopped trail. Derived from the real
/// StopLogging of cloudtrail-stop: eventName, eventID and requestParameters as given.
pub fn trail_call(name: &str, event_id: &str, request: Value) -> Value {
    let mut e = real(CLOUDTRAIL_STOP, STOP_LOGGING_EVENT);
    set(&mut e, &["eventName"], json!(name));
    set(&mut e, &["eventID"], json!(event_id));
    set(&mut e, &["requestParameters"], request);
    e
}

/// The real PutEventSelectors of cloudtrail-event-selectors with its selector changed to keep
/// every management event (readWriteType All, includeManagementEvents true), new eventID.
pub fn harmless_event_selectors() -> Value {
    let mut e = real(CLOUDTRAIL_EVENT_SELECTORS, PUT_EVENT_SELECTORS_EVENT);
    set(&mut e, &["eventID"], json!("derived-evt009-selectors-all"));
    e["requestParameters"]["eventSelectors"][0]["readWriteType"] = json!("All");
    e["requestParameters"]["eventSelectors"][0]["includeManagementEvents"] = json!(true);
    e
}

// --- An organization trail: three accounts and a cross-account role session -------------------
//
// Laid out as `AWSLogs/ORG_ID/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/` by the tests that use them.

/// The organization of the org-trail fixtures (an id of Organizations' shape).
pub const ORG_ID: &str = "o-a1b2c3d4e5";
/// IAM user JohnDoe's account in the IAM user guide's cross-account example: the key's account.
pub const ORG_CALLER_ACCOUNT: &str = "777788889999";
/// The account of the role EC2-dev that JohnDoe assumes: where the session is used.
pub const ORG_ROLE_ACCOUNT: &str = "111122223333";
/// The account of the iam-backdoor-user detonation (its real CreateAccessKey, unchanged): a third
/// account of the organization, with a finding of its own (EVT001).
pub const ORG_OTHER_ACCOUNT: &str = "946986569305";
/// JohnDoe's long-term key.
pub const CROSS_ACCOUNT_KEY: &str = "AKIAQRSTUVWXYZEXAMPLE";
pub const CROSS_ACCOUNT_OWNER: &str = "JohnDoe";
/// The session JohnDoe's AssumeRole mints in ORG_ROLE_ACCOUNT.
pub const CROSS_ACCOUNT_SESSION: &str = "ASIAQRSTUVWXYZCROSSB";
/// The AssumeRole's eventID, the same in both accounts' copies in AWS's sample.
pub const CROSS_ACCOUNT_ASSUME_ROLE_EVENT: &str = "dEXAMPLE-ac7f-466c-a608-4ac8dEXAMPLE";
/// Lines 20 and 21 of the AWS documentation examples, unchanged (`{"source_file", "block",
/// "event"}`): the cross-account AssumeRole in the role's account, then in the caller's.
pub const CROSS_ACCOUNT_DOCS: &str = include_str!("data/awsdocs/cross_account_assume_role.jsonl");

fn cross_account_docs(line: usize) -> Value {
    events_of(CROSS_ACCOUNT_DOCS).swap_remove(line)
}

/// JohnDoe (CROSS_ACCOUNT_KEY, account 777788889999) assumes EC2-dev of 111122223333, as the
/// role's account logs it (recipientAccountId 111122223333). The real sample (line 20, block 1),
/// with one change: responseElements.credentials.accessKeyId AKIAQRSTUVWXYZEXAMPLE ->
/// CROSS_ACCOUNT_SESSION (the sample repeats the caller's long-term key there; AWS returns a
/// temporary ASIA key).
pub fn org_assume_role_in_role_account() -> Value {
    let mut e = cross_account_docs(0);
    set(
        &mut e,
        &["responseElements", "credentials", "accessKeyId"],
        json!(CROSS_ACCOUNT_SESSION),
    );
    e
}

/// The same AssumeRole as the caller's account logs it: the real sample (line 21, block 2),
/// unchanged: an `AWSAccount` identity without an access key, the same eventID, no
/// recipientAccountId.
pub fn org_assume_role_in_caller_account() -> Value {
    cross_account_docs(1)
}

/// A call signed by CROSS_ACCOUNT_SESSION in the role's account. Derived from the real
/// RunInstances of ec2-launch-unusual-instances (an AssumedRole session, denied): eventID,
/// eventTime, userIdentity.accessKeyId -> CROSS_ACCOUNT_SESSION, userIdentity.accountId and
/// recipientAccountId 900138736586 -> ORG_ROLE_ACCOUNT, userIdentity.arn -> the EC2-dev session
/// of the AssumeRole above.
pub fn org_session_call(event_id: &str, time: &str) -> Value {
    let mut e = run_instances_signed_by(CROSS_ACCOUNT_SESSION, ORG_ROLE_ACCOUNT, event_id, time);
    set(
        &mut e,
        &["userIdentity", "arn"],
        json!(format!(
            "arn:aws:sts::{ORG_ROLE_ACCOUNT}:assumed-role/EC2-dev/JohnDoe-EC2-dev"
        )),
    );
    e
}

/// The organization trail's events, by account: the caller's copy of the AssumeRole in
/// ORG_CALLER_ACCOUNT; the role account's copy and two uses of the session (15:20 and 16:00 the
/// same day) in ORG_ROLE_ACCOUNT; the real CreateAccessKey of iam-backdoor-user in
/// ORG_OTHER_ACCOUNT.
pub fn org_trail_events() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        (
            ORG_CALLER_ACCOUNT,
            vec![org_assume_role_in_caller_account()],
        ),
        (
            ORG_ROLE_ACCOUNT,
            vec![
                org_assume_role_in_role_account(),
                org_session_call("derived-org-session-call-1", "2014-07-18T15:20:00Z"),
                org_session_call("derived-org-session-call-2", "2014-07-18T16:00:00Z"),
            ],
        ),
        (ORG_OTHER_ACCOUNT, events_of(BACKDOOR_USER)),
    ]
}
