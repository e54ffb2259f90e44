//! IAM: the audit's reads, remediation's reads and the writes.

use super::{all_items, aws_error, none_if_not_found, required_time, timestamp, LiveClient};
use crate::api::{
    decode_policy_document, AccessKeyMeta, AccountSummary, AwsError, AwsResult,
    CredentialReportBlob, IamRead, IamUser, IamWrite, KeyLastUsed, NewAccessKey, RemediationRead,
    ReportGeneration, SecretString, TaggedUser, IAM_CREATE_ACCESS_KEY, IAM_DELETE_ACCESS_KEY,
    IAM_DELETE_LOGIN_PROFILE, IAM_DELETE_USER_POLICY, IAM_GENERATE_CREDENTIAL_REPORT,
    IAM_GET_ACCESS_KEY_LAST_USED, IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS,
    IAM_GET_ACCOUNT_PASSWORD_POLICY, IAM_GET_ACCOUNT_SUMMARY, IAM_GET_CREDENTIAL_REPORT,
    IAM_GET_LOGIN_PROFILE, IAM_GET_USER, IAM_GET_USER_POLICY, IAM_LIST_ACCESS_KEYS,
    IAM_LIST_MFA_DEVICES, IAM_LIST_USERS, IAM_LIST_USER_POLICIES, IAM_LIST_USER_TAGS,
    IAM_PUT_USER_POLICY, IAM_UPDATE_ACCESS_KEY,
};
use aws_config::retry::RetryConfig;
use keywarden_core::model::{PasswordPolicy, Tag};
use keywarden_core::Timestamp;

fn iam_user(user: &aws_sdk_iam::types::User) -> IamUser {
    IamUser {
        name: user.user_name().to_owned(),
        arn: user.arn().to_owned(),
        created: timestamp(user.create_date()).unwrap_or_default(),
        password_last_used: user.password_last_used().and_then(timestamp),
    }
}

impl IamRead for LiveClient {
    async fn generate_credential_report(&self) -> AwsResult<ReportGeneration> {
        const ACTION: &str = IAM_GENERATE_CREDENTIAL_REPORT;
        let out = self
            .iam
            .generate_credential_report()
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        use aws_sdk_iam::types::ReportStateType;
        Ok(match out.state() {
            Some(ReportStateType::Complete) => ReportGeneration::Complete,
            Some(ReportStateType::Started) => ReportGeneration::Started,
            _ => ReportGeneration::InProgress,
        })
    }

    async fn get_credential_report(&self) -> AwsResult<CredentialReportBlob> {
        const ACTION: &str = IAM_GET_CREDENTIAL_REPORT;
        let out = self
            .iam
            .get_credential_report()
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        Ok(CredentialReportBlob {
            content: out
                .content()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default(),
            generated_at: required_time(ACTION, "GeneratedTime", out.generated_time())?,
        })
    }

    async fn list_users(&self) -> AwsResult<Vec<IamUser>> {
        const ACTION: &str = IAM_LIST_USERS;
        Ok(all_items!(ACTION, self.iam.list_users(), |user| iam_user(
            &user
        )))
    }

    async fn list_user_tags(&self, user: &str) -> AwsResult<Vec<Tag>> {
        const ACTION: &str = IAM_LIST_USER_TAGS;
        Ok(all_items!(
            ACTION,
            self.iam.list_user_tags().user_name(user),
            |tag| Tag {
                key: tag.key().to_owned(),
                value: tag.value().to_owned(),
            }
        ))
    }

    async fn list_users_with_tags(&self) -> AwsResult<Vec<TaggedUser>> {
        const ACTION: &str = IAM_GET_ACCOUNT_AUTHORIZATION_DETAILS;
        let malformed = |what: &str| AwsError {
            action: ACTION,
            code: "MalformedResponse".into(),
            message: format!("a UserDetailList entry has no {what}"),
        };
        // 1,000 a page, IAM's largest: an account of 5,000 users in 5 calls.
        Ok(all_items!(
            ACTION,
            self.iam
                .get_account_authorization_details()
                .filter(aws_sdk_iam::types::EntityType::User)
                .max_items(1000),
            pages | page | page.user_detail_list.unwrap_or_default(),
            |user| TaggedUser {
                name: user
                    .user_name()
                    .ok_or_else(|| malformed("UserName"))?
                    .to_owned(),
                arn: user.arn().ok_or_else(|| malformed("Arn"))?.to_owned(),
                created: required_time(ACTION, "CreateDate", user.create_date())?,
                tags: user
                    .tags()
                    .iter()
                    .map(|tag| Tag {
                        key: tag.key().to_owned(),
                        value: tag.value().to_owned(),
                    })
                    .collect(),
            }
        ))
    }

    async fn list_access_keys(&self, user: &str) -> AwsResult<Vec<AccessKeyMeta>> {
        const ACTION: &str = IAM_LIST_ACCESS_KEYS;
        Ok(all_items!(
            ACTION,
            self.iam.list_access_keys().user_name(user),
            |key| AccessKeyMeta {
                id: key.access_key_id().unwrap_or_default().to_owned(),
                active: key.status() == Some(&aws_sdk_iam::types::StatusType::Active),
                created: required_time(ACTION, "CreateDate", key.create_date())?,
            }
        ))
    }

    async fn get_access_key_last_used(&self, key_id: &str) -> AwsResult<KeyLastUsed> {
        const ACTION: &str = IAM_GET_ACCESS_KEY_LAST_USED;
        let out = self
            .iam
            .get_access_key_last_used()
            .access_key_id(key_id)
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        let known = |s: &str| (!s.is_empty() && s != "N/A").then(|| s.to_owned());
        let user = out.user_name().filter(|u| !u.is_empty()).map(str::to_owned);
        Ok(match out.access_key_last_used() {
            Some(used) => KeyLastUsed {
                date: used.last_used_date().and_then(timestamp),
                service: known(used.service_name()),
                region: known(used.region()),
                user,
            },
            None => KeyLastUsed {
                date: None,
                service: None,
                region: None,
                user,
            },
        })
    }

    async fn get_login_profile(&self, user: &str) -> AwsResult<Option<Timestamp>> {
        const ACTION: &str = IAM_GET_LOGIN_PROFILE;
        let out = self.iam.get_login_profile().user_name(user).send().await;
        Ok(none_if_not_found(out.map_err(|e| aws_error(ACTION, e)))?
            .and_then(|out| out.login_profile().and_then(|p| timestamp(p.create_date()))))
    }

    async fn list_mfa_devices(&self, user: &str) -> AwsResult<usize> {
        const ACTION: &str = IAM_LIST_MFA_DEVICES;
        let devices = all_items!(
            ACTION,
            self.iam.list_mfa_devices().user_name(user),
            |device| device
        );
        Ok(devices.len())
    }

    async fn get_account_summary(&self) -> AwsResult<AccountSummary> {
        const ACTION: &str = IAM_GET_ACCOUNT_SUMMARY;
        let out = self
            .iam
            .get_account_summary()
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        use aws_sdk_iam::types::SummaryKeyType;
        let map = out.summary_map();
        let get = |key: SummaryKeyType| map.and_then(|m| m.get(&key)).copied();
        match (
            get(SummaryKeyType::AccountAccessKeysPresent),
            get(SummaryKeyType::AccountMfaEnabled),
        ) {
            (Some(keys), Some(mfa)) => Ok(AccountSummary {
                root_access_keys_present: keys.max(0) as u32,
                root_mfa_enabled: mfa > 0,
            }),
            _ => Err(AwsError {
                action: ACTION,
                code: "MalformedResponse".into(),
                message: "the summary lacks AccountAccessKeysPresent or AccountMFAEnabled".into(),
            }),
        }
    }

    async fn get_account_password_policy(&self) -> AwsResult<Option<PasswordPolicy>> {
        const ACTION: &str = IAM_GET_ACCOUNT_PASSWORD_POLICY;
        let out = self.iam.get_account_password_policy().send().await;
        let Some(out) = none_if_not_found(out.map_err(|e| aws_error(ACTION, e)))? else {
            return Ok(None);
        };
        Ok(out.password_policy().map(|p| PasswordPolicy {
            minimum_password_length: p.minimum_password_length().unwrap_or(6).max(0) as u32,
            require_uppercase_characters: p.require_uppercase_characters(),
            require_lowercase_characters: p.require_lowercase_characters(),
            require_numbers: p.require_numbers(),
            require_symbols: p.require_symbols(),
            password_reuse_prevention: p
                .password_reuse_prevention()
                .filter(|n| *n > 0)
                .map(|n| n as u32),
            max_password_age: p.max_password_age().filter(|n| *n > 0).map(|n| n as u32),
        }))
    }
}

impl RemediationRead for LiveClient {
    async fn get_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<Option<String>> {
        const ACTION: &str = IAM_GET_USER_POLICY;
        let out = self
            .iam
            .get_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .send()
            .await;
        let Some(out) = none_if_not_found(out.map_err(|e| aws_error(ACTION, e)))? else {
            return Ok(None);
        };
        decode_policy_document(out.policy_document())
            .map(Some)
            .map_err(|message| AwsError {
                action: ACTION,
                code: "MalformedResponse".into(),
                message,
            })
    }

    async fn list_user_policies(&self, user: &str) -> AwsResult<Vec<String>> {
        const ACTION: &str = IAM_LIST_USER_POLICIES;
        Ok(all_items!(
            ACTION,
            self.iam.list_user_policies().user_name(user),
            |name| name
        ))
    }

    async fn get_user(&self, user: &str) -> AwsResult<Option<IamUser>> {
        const ACTION: &str = IAM_GET_USER;
        let out = self.iam.get_user().user_name(user).send().await;
        Ok(none_if_not_found(out.map_err(|e| aws_error(ACTION, e)))?
            .and_then(|out| out.user().map(iam_user)))
    }
}

impl IamWrite for LiveClient {
    async fn set_access_key_status(&self, user: &str, key_id: &str, active: bool) -> AwsResult<()> {
        use aws_sdk_iam::types::StatusType;
        self.iam
            .update_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .status(if active {
                StatusType::Active
            } else {
                StatusType::Inactive
            })
            .send()
            .await
            .map_err(|e| aws_error(IAM_UPDATE_ACCESS_KEY, e))?;
        Ok(())
    }

    async fn delete_access_key(&self, user: &str, key_id: &str) -> AwsResult<()> {
        self.iam
            .delete_access_key()
            .user_name(user)
            .access_key_id(key_id)
            .send()
            .await
            .map_err(|e| aws_error(IAM_DELETE_ACCESS_KEY, e))?;
        Ok(())
    }

    async fn delete_login_profile(&self, user: &str) -> AwsResult<()> {
        self.iam
            .delete_login_profile()
            .user_name(user)
            .send()
            .await
            .map_err(|e| aws_error(IAM_DELETE_LOGIN_PROFILE, e))?;
        Ok(())
    }

    async fn put_user_policy(
        &self,
        user: &str,
        policy_name: &str,
        document: &str,
    ) -> AwsResult<()> {
        self.iam
            .put_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .policy_document(document)
            .send()
            .await
            .map_err(|e| aws_error(IAM_PUT_USER_POLICY, e))?;
        Ok(())
    }

    async fn delete_user_policy(&self, user: &str, policy_name: &str) -> AwsResult<()> {
        self.iam
            .delete_user_policy()
            .user_name(user)
            .policy_name(policy_name)
            .send()
            .await
            .map_err(|e| aws_error(IAM_DELETE_USER_POLICY, e))?;
        Ok(())
    }

    async fn create_access_key(&self, user: &str) -> AwsResult<NewAccessKey> {
        const ACTION: &str = IAM_CREATE_ACCESS_KEY;
        // Not retried: CreateAccessKey is not idempotent, and a retry after a reply that was
        // lost (the key created) would create a second key. An error reply is settled by the
        // engine's read-back instead (a key not among the ones before the call).
        let out = self
            .iam
            .create_access_key()
            .user_name(user)
            .customize()
            .config_override(
                aws_sdk_iam::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        let key = out.access_key.ok_or_else(|| AwsError {
            action: ACTION,
            code: "MalformedResponse".into(),
            message: "the response has no AccessKey".into(),
        })?;
        Ok(NewAccessKey {
            id: key.access_key_id().to_owned(),
            created: required_time(ACTION, "CreateDate", key.create_date())?,
            // Moved, not copied: the only copy keywarden holds is zeroed on drop.
            secret: SecretString::new(key.secret_access_key),
        })
    }
}
