//! One AWS write and everything around it: how to perform it, how to see whether it is in
//! place (the read-back after the call, and the test a resume uses for a call in doubt), and
//! what reverses it.
//!
//! An effect is stored in the journal as JSON (its parameters; never a secret), so a resumed
//! run acts on exactly what the interrupted one intended, down to the policy document's time.

use keywarden_aws::api::{AwsResult, IamRead, IamWrite, RemediationRead};
use serde::{Deserialize, Serialize};

/// A single IAM write.
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
}

impl Effect {
    /// The API action, as the journal and the permissions name it.
    pub fn call(&self) -> &'static str {
        match self {
            Effect::SetKeyStatus { .. } => "iam:UpdateAccessKey",
            Effect::DeleteKey { .. } => "iam:DeleteAccessKey",
            Effect::DeleteLoginProfile { .. } => "iam:DeleteLoginProfile",
            Effect::PutUserPolicy { .. } => "iam:PutUserPolicy",
            Effect::DeleteUserPolicy { .. } => "iam:DeleteUserPolicy",
        }
    }

    pub fn user(&self) -> &str {
        match self {
            Effect::SetKeyStatus { user, .. }
            | Effect::DeleteKey { user, .. }
            | Effect::DeleteLoginProfile { user }
            | Effect::PutUserPolicy { user, .. }
            | Effect::DeleteUserPolicy { user, .. } => user,
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
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(text: &str) -> Result<Effect, serde_json::Error> {
        serde_json::from_str(text)
    }

    pub async fn perform<C: IamWrite>(&self, client: &C) -> AwsResult<()> {
        match self {
            Effect::SetKeyStatus {
                user,
                key_id,
                active,
            } => client.set_access_key_status(user, key_id, *active).await,
            Effect::DeleteKey { user, key_id } => client.delete_access_key(user, key_id).await,
            Effect::DeleteLoginProfile { user } => client.delete_login_profile(user).await,
            Effect::PutUserPolicy {
                user,
                policy_name,
                document,
            } => client.put_user_policy(user, policy_name, document).await,
            Effect::DeleteUserPolicy { user, policy_name } => {
                client.delete_user_policy(user, policy_name).await
            }
        }
    }

    /// Reads AWS to see whether the effect is in place; the text says what was read.
    pub async fn is_in_place<C: IamRead + RemediationRead>(
        &self,
        client: &C,
    ) -> AwsResult<(bool, String)> {
        self.read_back(client).await.map(|r| (r.in_place, r.detail))
    }

    /// Reads AWS to see whether the effect is in place, and what the read saw of the key the
    /// effect acts on (the engine records it as a sighting: it restarts the key's inactive
    /// clock).
    pub async fn read_back<C: IamRead + RemediationRead>(&self, client: &C) -> AwsResult<ReadBack> {
        let plain = |in_place: bool, detail: String| ReadBack {
            in_place,
            detail,
            key_active: None,
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
                        detail: format!(
                            "key {key_id} is {}",
                            if k.active { "Active" } else { "Inactive" }
                        ),
                        key_active: Some(k.active),
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
