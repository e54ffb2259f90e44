//! The in-memory account's write side: writes change an overlay the reads consult (apply, then
//! read back), every write is recorded in `calls()`, an injected failure changes nothing, and
//! the fake answers AWS's errors where AWS would (a key of another user, a third key, a secret
//! name in use).

mod support;

use keywarden_aws::api::{
    AccessKeyMeta, CallerIdentity, IamRead, IamUser, IamWrite, KeyLastUsed, RemediationRead,
    SecretString, SecretWrite, WhoAmI,
};
use keywarden_aws::fake::FakeAccount;
use std::collections::{BTreeMap, HashMap};
use support::ts;

fn key(id: &str, active: bool) -> AccessKeyMeta {
    AccessKeyMeta {
        id: id.into(),
        active,
        created: ts(1_600_000_000),
    }
}

fn user(name: &str) -> IamUser {
    IamUser {
        name: name.into(),
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        created: ts(1_500_000_000),
        password_last_used: None,
    }
}

const ALICE_KEY: &str = "AKIAALICE00000000001";
const BOB_KEY: &str = "AKIABOB0000000000001";

fn account() -> FakeAccount {
    let mut fake = FakeAccount::default();
    fake.users = vec![user("alice"), user("bob")];
    fake.keys = HashMap::from([
        ("alice".to_owned(), vec![key(ALICE_KEY, true)]),
        ("bob".to_owned(), vec![key(BOB_KEY, true)]),
    ]);
    fake.login_profiles = HashMap::from([("alice".to_owned(), ts(1_550_000_000))]);
    fake.user_policies = HashMap::from([(
        "bob".to_owned(),
        BTreeMap::from([(
            "existing".to_owned(),
            r#"{"Version":"2012-10-17"}"#.to_owned(),
        )]),
    )]);
    fake.now = ts(1_700_000_000);
    fake
}

const DENY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}"#;

#[tokio::test]
async fn a_deactivated_key_reads_back_inactive_and_reactivates() {
    let fake = account();
    fake.set_access_key_status("alice", ALICE_KEY, false)
        .await
        .unwrap();
    assert_eq!(
        fake.list_access_keys("alice").await.unwrap(),
        [key(ALICE_KEY, false)]
    );
    // The starting state is left as it was.
    assert!(fake.keys["alice"][0].active);
    fake.set_access_key_status("alice", ALICE_KEY, true)
        .await
        .unwrap();
    assert_eq!(
        fake.list_access_keys("alice").await.unwrap(),
        [key(ALICE_KEY, true)]
    );
    assert_eq!(
        fake.calls(),
        [
            format!("iam:UpdateAccessKey(alice/{ALICE_KEY}:Inactive)"),
            "iam:ListAccessKeys(alice)".to_owned(),
            format!("iam:UpdateAccessKey(alice/{ALICE_KEY}:Active)"),
            "iam:ListAccessKeys(alice)".to_owned(),
        ]
    );
}

#[tokio::test]
async fn a_deleted_key_is_gone_from_every_read() {
    let fake = account();
    fake.delete_access_key("alice", ALICE_KEY).await.unwrap();
    assert!(fake.list_access_keys("alice").await.unwrap().is_empty());
    let error = fake.get_access_key_last_used(ALICE_KEY).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    // Deleting it again, or updating it, is AWS's NoSuchEntity.
    let again = fake
        .delete_access_key("alice", ALICE_KEY)
        .await
        .unwrap_err();
    assert_eq!(again.code, "NoSuchEntity");
    let update = fake
        .set_access_key_status("alice", ALICE_KEY, true)
        .await
        .unwrap_err();
    assert_eq!(
        (update.action, update.code.as_str()),
        ("iam:UpdateAccessKey", "NoSuchEntity")
    );
    assert_eq!(fake.count("iam:DeleteAccessKey"), 2);
}

#[tokio::test]
async fn a_key_of_another_user_is_not_found() {
    let fake = account();
    let error = fake
        .set_access_key_status("alice", BOB_KEY, false)
        .await
        .unwrap_err();
    assert!(error.is_not_found());
    let error = fake.delete_access_key("alice", BOB_KEY).await.unwrap_err();
    assert!(error.is_not_found());
    assert!(fake.list_access_keys("bob").await.unwrap()[0].active);
}

#[tokio::test]
async fn a_deleted_login_profile_reads_back_as_none() {
    let fake = account();
    assert_eq!(
        fake.get_login_profile("alice").await,
        Ok(Some(ts(1_550_000_000)))
    );
    fake.delete_login_profile("alice").await.unwrap();
    assert_eq!(fake.get_login_profile("alice").await, Ok(None));
    let again = fake.delete_login_profile("alice").await.unwrap_err();
    assert_eq!(
        (again.action, again.code.as_str()),
        ("iam:DeleteLoginProfile", "NoSuchEntity")
    );
    assert!(fake
        .delete_login_profile("bob")
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn inline_policies_put_and_deleted_read_back() {
    let fake = account();
    assert_eq!(fake.list_user_policies("alice").await, Ok(vec![]));
    assert_eq!(
        fake.get_user_policy("alice", "keywarden-revoke").await,
        Ok(None)
    );
    fake.put_user_policy("alice", "keywarden-revoke", DENY)
        .await
        .unwrap();
    assert_eq!(
        fake.get_user_policy("alice", "keywarden-revoke").await,
        Ok(Some(DENY.to_owned()))
    );
    assert_eq!(
        fake.list_user_policies("alice").await,
        Ok(vec!["keywarden-revoke".to_owned()])
    );
    // Put again replaces; the starting policies of another user are untouched.
    fake.put_user_policy(
        "alice",
        "keywarden-revoke",
        r#"{"Version":"2012-10-17","Statement":[]}"#,
    )
    .await
    .unwrap();
    assert_eq!(
        fake.get_user_policy("alice", "keywarden-revoke")
            .await
            .unwrap()
            .unwrap(),
        r#"{"Version":"2012-10-17","Statement":[]}"#
    );
    assert_eq!(
        fake.list_user_policies("bob").await,
        Ok(vec!["existing".to_owned()])
    );

    fake.delete_user_policy("alice", "keywarden-revoke")
        .await
        .unwrap();
    assert_eq!(
        fake.get_user_policy("alice", "keywarden-revoke").await,
        Ok(None)
    );
    assert!(fake
        .delete_user_policy("alice", "keywarden-revoke")
        .await
        .unwrap_err()
        .is_not_found());
    // A starting policy can be deleted, then put back.
    fake.delete_user_policy("bob", "existing").await.unwrap();
    assert_eq!(fake.list_user_policies("bob").await, Ok(vec![]));
    fake.put_user_policy("bob", "existing", DENY).await.unwrap();
    assert_eq!(
        fake.get_user_policy("bob", "existing").await,
        Ok(Some(DENY.to_owned()))
    );

    // The document is never recorded in the calls, only user/name.
    assert!(fake
        .calls()
        .contains(&"iam:PutUserPolicy(alice/keywarden-revoke)".to_owned()));
    assert!(fake
        .calls()
        .contains(&"iam:GetUserPolicy(alice/keywarden-revoke)".to_owned()));
    assert!(fake
        .calls()
        .contains(&"iam:DeleteUserPolicy(bob/existing)".to_owned()));
}

#[tokio::test]
async fn policies_need_a_user_and_valid_json() {
    let fake = account();
    let error = fake.put_user_policy("ghost", "p", DENY).await.unwrap_err();
    assert!(error.is_not_found());
    let error = fake
        .put_user_policy("alice", "p", "{not json")
        .await
        .unwrap_err();
    assert_eq!(error.code, "MalformedPolicyDocument");
    assert!(fake
        .list_user_policies("ghost")
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn created_keys_are_deterministic_listed_and_limited_to_two() {
    let fake = account();
    let new = fake.create_access_key("alice").await.unwrap();
    assert_eq!(new.id, "AKIAFAKE000000000001");
    assert_eq!(new.id.len(), 20);
    assert_eq!(new.created, ts(1_700_000_000));
    assert_eq!(new.secret.expose().len(), 40);
    assert!(!format!("{new:?}").contains(new.secret.expose()));
    assert_eq!(
        fake.list_access_keys("alice").await.unwrap(),
        [
            key(ALICE_KEY, true),
            AccessKeyMeta {
                id: "AKIAFAKE000000000001".into(),
                active: true,
                created: ts(1_700_000_000),
            }
        ]
    );
    // The new key has an owner and no use yet.
    assert_eq!(
        fake.get_access_key_last_used("AKIAFAKE000000000001").await,
        Ok(KeyLastUsed {
            date: None,
            service: None,
            region: None,
            user: Some("alice".into()),
        })
    );
    // A third key: LimitExceeded, nothing created.
    let error = fake.create_access_key("alice").await.unwrap_err();
    assert_eq!(
        (error.action, error.code.as_str()),
        ("iam:CreateAccessKey", "LimitExceeded")
    );
    assert_eq!(fake.list_access_keys("alice").await.unwrap().len(), 2);
    // Rotation: delete the old key, create another; ids keep counting.
    fake.delete_access_key("alice", ALICE_KEY).await.unwrap();
    let second = fake.create_access_key("alice").await.unwrap();
    assert_eq!(second.id, "AKIAFAKE000000000002");
    assert_ne!(second.secret, new.secret);
    // A created key can be deactivated and deleted like any other.
    fake.set_access_key_status("alice", &second.id, false)
        .await
        .unwrap();
    assert!(!fake.list_access_keys("alice").await.unwrap()[1].active);
    assert!(fake
        .create_access_key("ghost")
        .await
        .unwrap_err()
        .is_not_found());
}

#[tokio::test]
async fn get_access_key_last_used_names_the_owner() {
    let mut fake = account();
    fake.last_used.insert(
        BOB_KEY.into(),
        KeyLastUsed {
            date: Some(ts(1_650_000_000)),
            service: Some("s3".into()),
            region: Some("us-east-1".into()),
            user: None,
        },
    );
    let used = fake.get_access_key_last_used(BOB_KEY).await.unwrap();
    assert_eq!(used.user.as_deref(), Some("bob"));
    assert_eq!(used.date, Some(ts(1_650_000_000)));
    assert_eq!(
        fake.get_access_key_last_used(ALICE_KEY)
            .await
            .unwrap()
            .user
            .as_deref(),
        Some("alice")
    );
}

#[tokio::test]
async fn get_user_answers_listed_users_only() {
    let fake = account();
    assert_eq!(fake.get_user("alice").await, Ok(Some(user("alice"))));
    assert_eq!(fake.get_user("ghost").await, Ok(None));
    assert_eq!(fake.calls(), ["iam:GetUser(alice)", "iam:GetUser(ghost)"]);
}

#[tokio::test]
async fn an_injected_failure_fails_the_write_and_changes_nothing() {
    let mut fake = account();
    for action in [
        "iam:UpdateAccessKey",
        "iam:DeleteAccessKey",
        "iam:DeleteLoginProfile",
        "iam:PutUserPolicy",
        "iam:DeleteUserPolicy",
        "iam:CreateAccessKey",
        "secretsmanager:CreateSecret",
        "sts:GetCallerIdentity",
    ] {
        fake.failures.insert(action, "AccessDenied".into());
    }
    let secret = SecretString::new("s3cr3t-value");
    let results = [
        fake.set_access_key_status("alice", ALICE_KEY, false)
            .await
            .unwrap_err(),
        fake.delete_access_key("alice", ALICE_KEY)
            .await
            .unwrap_err(),
        fake.delete_login_profile("alice").await.unwrap_err(),
        fake.put_user_policy("alice", "p", DENY).await.unwrap_err(),
        fake.delete_user_policy("bob", "existing")
            .await
            .unwrap_err(),
        fake.create_access_key("alice")
            .await
            .map(|_| ())
            .unwrap_err(),
        fake.create_secret("s", &secret, "d")
            .await
            .map(|_| ())
            .unwrap_err(),
        fake.caller_identity().await.map(|_| ()).unwrap_err(),
    ];
    for error in &results {
        assert_eq!(error.code, "AccessDenied", "{error}");
    }
    assert_eq!(
        fake.list_access_keys("alice").await.unwrap(),
        [key(ALICE_KEY, true)]
    );
    assert!(fake.get_login_profile("alice").await.unwrap().is_some());
    assert_eq!(fake.list_user_policies("alice").await, Ok(vec![]));
    assert_eq!(
        fake.list_user_policies("bob").await,
        Ok(vec!["existing".to_owned()])
    );
    assert!(fake.secrets().is_empty());
    // Failed calls are recorded like successful ones.
    assert_eq!(fake.count("iam:UpdateAccessKey"), 1);
    assert_eq!(fake.count("secretsmanager:CreateSecret"), 1);

    // Reads fail on demand too.
    fake.failures
        .insert("iam:GetUserPolicy", "Throttling".into());
    fake.failures
        .insert("iam:ListUserPolicies", "Throttling".into());
    fake.failures.insert("iam:GetUser", "Throttling".into());
    assert_eq!(
        fake.get_user_policy("bob", "existing")
            .await
            .unwrap_err()
            .code,
        "Throttling"
    );
    assert_eq!(
        fake.list_user_policies("bob").await.unwrap_err().code,
        "Throttling"
    );
    assert_eq!(fake.get_user("bob").await.unwrap_err().code, "Throttling");
}

#[tokio::test]
async fn secrets_are_stored_once_and_never_recorded() {
    let fake = account();
    let secret = SecretString::new("s3cr3t-value");
    let arn = fake
        .create_secret("keywarden/alice", &secret, "alice's new key")
        .await
        .unwrap();
    assert_eq!(
        arn,
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:keywarden/alice-fake"
    );
    let error = fake
        .create_secret("keywarden/alice", &SecretString::new("other"), "again")
        .await
        .unwrap_err();
    assert_eq!(error.code, "ResourceExistsException");
    assert!(error.is_already_exists());
    let secrets = fake.secrets();
    assert_eq!(secrets.len(), 1);
    assert_eq!(secrets[0].value.expose(), "s3cr3t-value");
    assert_eq!(secrets[0].description, "alice's new key");
    assert_eq!(secrets[0].arn, arn);
    let calls = fake.calls().join("\n");
    assert!(calls.contains("secretsmanager:CreateSecret(keywarden/alice)"));
    assert!(!calls.contains("s3cr3t"), "{calls}");
    assert!(!format!("{secrets:?}").contains("s3cr3t"));
}

#[tokio::test]
async fn the_caller_is_the_default_or_the_one_given() {
    let fake = account();
    let caller = fake.caller_identity().await.unwrap();
    assert_eq!(caller.account, "123456789012");
    assert_eq!(caller.access_key_id, "AKIAFAKECALLER000000");
    let mut fake = account();
    fake.caller = Some(CallerIdentity {
        account: "210987654321".into(),
        arn: "arn:aws:iam::210987654321:user/alice".into(),
        access_key_id: ALICE_KEY.into(),
    });
    assert_eq!(
        fake.caller_identity().await.unwrap().access_key_id,
        ALICE_KEY
    );
    assert_eq!(fake.calls(), ["sts:GetCallerIdentity"]);
}
