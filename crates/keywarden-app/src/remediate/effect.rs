//! One AWS write and everything around it: how to perform it, how to see whether it is in
//! place (the read-back after the call, and the test a resume uses for a call in doubt), and
//! what reverses it. Every write keywarden makes is an [`Effect`], and this file is the only one
//! that calls a write trait's method (`tests/tidy.rs`).
//!
//! An effect is stored in the journal as JSON (its parameters; never a secret), so a resumed
//! run acts on exactly what the interrupted one intended, down to the policy document's time.
//! The one write that carries a secret, the hand-over to Secrets Manager, gets the value as a
//! separate argument of [`Effect::perform`], never as a field.

use keywarden_aws::api::{
    AccessKeyMeta, AwsError, AwsResult, IamRead, IamWrite, NewAccessKey, RemediationRead,
    SecretRead, SecretString, SecretWrite, IAM_CREATE_ACCESS_KEY, IAM_DELETE_ACCESS_KEY,
    IAM_DELETE_LOGIN_PROFILE, IAM_DELETE_USER_POLICY, IAM_PUT_USER_POLICY, IAM_UPDATE_ACCESS_KEY,
    SECRETSMANAGER_CREATE_SECRET,
};
use serde::{Deserialize, Serialize};

/// What AWS needs to be written through: the writes, and the reads that check them.
pub trait EffectClient: IamRead + RemediationRead + SecretRead + IamWrite + SecretWrite {}
impl<T: IamRead + RemediationRead + SecretRead + IamWrite + SecretWrite> EffectClient for T {}

/// A single AWS write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "call", rename_all = "kebab-case")]
pub enum Effect {
    /// UpdateAccessKey.
    SetKeyStatus {
        user: String,
        key_id: String,
        active: bool,
    },
    /// DeleteAccessKey.
    DeleteKey { user: String, key_id: String },
    /// DeleteLoginProfile.
    DeleteLoginProfile { user: String },
    /// PutUserPolicy.
    PutUserPolicy {
        user: String,
        policy_name: String,
        document: String,
    },
    /// DeleteUserPolicy.
    DeleteUserPolicy { user: String, policy_name: String },
    /// CreateAccessKey: a new key for `user`, whose secret only the call's reply holds. In place
    /// when the user has a key not among `existing_key_ids` (the user's keys before the call).
    CreateAccessKey {
        user: String,
        existing_key_ids: Vec<String>,
    },
    /// secretsmanager:CreateSecret: a new key's secret stored under `name` (the value is an
    /// argument of the call, never stored here). In place when a secret of that name exists and
    /// its description names `access_key_id` (a secret someone else stored under the name is
    /// not this one).
    CreateSecret {
        name: String,
        access_key_id: String,
        #[serde(default)]
        user: String,
        #[serde(default)]
        description: String,
    },
}

/// What a write's reply carried beyond success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Nothing: the call succeeded.
    Done,
    /// CreateAccessKey's new key, its secret included (AWS cannot show it again).
    NewKey(NewAccessKey),
    /// CreateSecret's ARN.
    SecretArn(String),
}

impl Effect {
    /// The API action, as the journal and the permissions name it.
    pub fn call(&self) -> &'static str {
        match self {
            Effect::SetKeyStatus { .. } => IAM_UPDATE_ACCESS_KEY,
            Effect::DeleteKey { .. } => IAM_DELETE_ACCESS_KEY,
            Effect::DeleteLoginProfile { .. } => IAM_DELETE_LOGIN_PROFILE,
            Effect::PutUserPolicy { .. } => IAM_PUT_USER_POLICY,
            Effect::DeleteUserPolicy { .. } => IAM_DELETE_USER_POLICY,
            Effect::CreateAccessKey { .. } => IAM_CREATE_ACCESS_KEY,
            Effect::CreateSecret { .. } => SECRETSMANAGER_CREATE_SECRET,
        }
    }

    pub fn user(&self) -> &str {
        match self {
            Effect::SetKeyStatus { user, .. }
            | Effect::DeleteKey { user, .. }
            | Effect::DeleteLoginProfile { user }
            | Effect::PutUserPolicy { user, .. }
            | Effect::DeleteUserPolicy { user, .. }
            | Effect::CreateAccessKey { user, .. }
            | Effect::CreateSecret { user, .. } => user,
        }
    }

    pub fn key_id(&self) -> Option<&str> {
        match self {
            Effect::SetKeyStatus { key_id, .. } | Effect::DeleteKey { key_id, .. } => Some(key_id),
            _ => None,
        }
    }

    /// What a person reads: `deactivate key AKIA... of alice`.
    pub fn describe(&self) -> String {
        match self {
            Effect::SetKeyStatus {
                user,
                key_id,
                active,
            } => format!(
                "{} key {key_id} of {user}",
                if *active { "reactivate" } else { "deactivate" }
            ),
            Effect::DeleteKey { user, key_id } => format!("delete key {key_id} of {user}"),
            Effect::DeleteLoginProfile { user } => format!("delete the console password of {user}"),
            Effect::PutUserPolicy {
                user, policy_name, ..
            } => format!("attach inline policy {policy_name} to {user}"),
            Effect::DeleteUserPolicy { user, policy_name } => {
                format!("remove inline policy {policy_name} from {user}")
            }
            Effect::CreateAccessKey { user, .. } => format!("create a new access key for {user}"),
            Effect::CreateSecret {
                name,
                access_key_id,
                user,
                ..
            } => format!("Secrets Manager secret {name} for key {access_key_id} of {user}"),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Effect, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Makes the call. `secret` is the value [`Effect::CreateSecret`] stores (the only effect
    /// that takes one); the engine is the only caller.
    pub(super) async fn perform<C: EffectClient>(
        &self,
        client: &C,
        secret: Option<&SecretString>,
    ) -> AwsResult<Reply> {
        let done = |result: AwsResult<()>| result.map(|()| Reply::Done);
        match self {
            Effect::SetKeyStatus {
                user,
                key_id,
                active,
            } => done(client.set_access_key_status(user, key_id, *active).await),
            Effect::DeleteKey { user, key_id } => {
                done(client.delete_access_key(user, key_id).await)
            }
            Effect::DeleteLoginProfile { user } => done(client.delete_login_profile(user).await),
            Effect::PutUserPolicy {
                user,
                policy_name,
                document,
            } => done(client.put_user_policy(user, policy_name, document).await),
            Effect::DeleteUserPolicy { user, policy_name } => {
                done(client.delete_user_policy(user, policy_name).await)
            }
            Effect::CreateAccessKey { user, .. } => {
                client.create_access_key(user).await.map(Reply::NewKey)
            }
            Effect::CreateSecret {
                name, description, ..
            } => {
                let Some(secret) = secret else {
                    // Nothing is sent: a secret without its value would be an empty one.
                    return Err(AwsError {
                        action: SECRETSMANAGER_CREATE_SECRET,
                        code: "NoValue".into(),
                        message: "keywarden had no value to store (not sent)".into(),
                    });
                };
                client
                    .create_secret(name, secret, description)
                    .await
                    .map(Reply::SecretArn)
            }
        }
    }

    /// Reads AWS to see whether the effect is in place, and what the read saw of the key the
    /// effect acts on (the engine records it as a sighting: it restarts the key's inactive
    /// clock).
    pub async fn read_back<C: EffectClient>(&self, client: &C) -> AwsResult<ReadBack> {
        let plain = |in_place: bool, detail: String| ReadBack {
            in_place,
            detail,
            key_active: None,
            created: None,
        };
        Ok(match self {
            Effect::SetKeyStatus {
                user,
                key_id,
                active,
            } => {
                let keys = client.list_access_keys(user).await?;
                match keys.iter().find(|k| &k.id == key_id) {
                    Some(k) => ReadBack {
                        in_place: k.active == *active,
                        detail: format!("key {key_id} is {}", status(k)),
                        key_active: Some(k.active),
                        created: None,
                    },
                    None => plain(false, format!("key {key_id} does not exist")),
                }
            }
            Effect::DeleteKey { user, key_id } => {
                let keys = client.list_access_keys(user).await?;
                match keys.iter().find(|k| &k.id == key_id) {
                    Some(k) => ReadBack {
                        in_place: false,
                        detail: format!("key {key_id} still exists"),
                        key_active: Some(k.active),
                        created: None,
                    },
                    None => plain(true, format!("key {key_id} is gone")),
                }
            }
            Effect::DeleteLoginProfile { user } => match client.get_login_profile(user).await? {
                Some(_) => plain(false, format!("{user} still has a console password")),
                None => plain(true, format!("{user} has no console password")),
            },
            Effect::PutUserPolicy {
                user,
                policy_name,
                document,
            } => match client.get_user_policy(user, policy_name).await? {
                Some(found) if same_document(&found, document) => plain(
                    true,
                    format!("{policy_name} on {user} is the intended document"),
                ),
                Some(_) => plain(
                    false,
                    format!("{policy_name} on {user} has another document"),
                ),
                None => plain(false, format!("{user} has no policy {policy_name}")),
            },
            Effect::DeleteUserPolicy { user, policy_name } => {
                match client.get_user_policy(user, policy_name).await? {
                    Some(_) => plain(false, format!("{user} still has policy {policy_name}")),
                    None => plain(true, format!("{user} has no policy {policy_name}")),
                }
            }
            Effect::CreateAccessKey {
                user,
                existing_key_ids,
            } => {
                let keys = client.list_access_keys(user).await?;
                let new: Vec<&AccessKeyMeta> = keys
                    .iter()
                    .filter(|k| !existing_key_ids.contains(&k.id))
                    .collect();
                match new.as_slice() {
                    [] => plain(
                        false,
                        format!(
                            "{user} has no key beyond the ones before the call ({})",
                            list_or_none(existing_key_ids)
                        ),
                    ),
                    [one] => ReadBack {
                        in_place: true,
                        detail: format!("new key {} of {user} exists, {}", one.id, status(one)),
                        key_active: None,
                        created: Some(one.id.clone()),
                    },
                    many => {
                        let ids: Vec<String> = many.iter().map(|k| k.id.clone()).collect();
                        plain(
                            true,
                            format!(
                                "{} keys of {user} are new since the call ({}): which one it \
                                 created cannot be told",
                                ids.len(),
                                ids.join(", ")
                            ),
                        )
                    }
                }
            }
            Effect::CreateSecret {
                name,
                access_key_id,
                ..
            } => match client.describe_secret(name).await? {
                Some(found) if found.description.contains(access_key_id.as_str()) => ReadBack {
                    in_place: true,
                    detail: format!("secret {name} ({}) holds key {access_key_id}", found.arn),
                    key_active: None,
                    created: Some(found.arn),
                },
                Some(found) => plain(
                    false,
                    format!(
                        "secret {name} ({}) exists but is not the one for key {access_key_id}",
                        found.arn
                    ),
                ),
                None => plain(false, format!("there is no secret {name}")),
            },
        })
    }

    /// Whether AWS can put things back as they were after this effect (a deleted key or
    /// console password cannot be restored).
    pub fn is_irreversible(&self) -> bool {
        matches!(
            self,
            Effect::DeleteKey { .. } | Effect::DeleteLoginProfile { .. }
        )
    }
}

/// What reading the state back showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBack {
    /// The effect is in place.
    pub in_place: bool,
    /// What was read, for a person.
    pub detail: String,
    /// The status of the effect's key when the read saw it (`Some(true)`: Active).
    pub key_active: Option<bool>,
    /// What the call created, as the read found it: CreateAccessKey's new key id (`None` when
    /// several keys are new and which one it created cannot be told), CreateSecret's ARN.
    pub created: Option<String>,
}

fn status(key: &AccessKeyMeta) -> &'static str {
    if key.active {
        "Active"
    } else {
        "Inactive"
    }
}

/// Key ids as a person reads them: `A, B`, or `none`.
pub(super) fn list_or_none(ids: &[String]) -> String {
    if ids.is_empty() {
        "none".to_owned()
    } else {
        ids.join(", ")
    }
}

/// Two policy documents are the same when they parse to the same JSON (AWS may re-serialize).
fn same_document(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
