//! Entering the other accounts of an organization: [`AccountClients`], the one factory of
//! per-account clients. It connects once with the caller's credentials, learns who the caller
//! is, and hands out a [`LiveClient`] per account: the caller's own account gets the caller's
//! client, every other account a client whose credentials come from sts:AssumeRole on
//! `arn:<partition>:iam::<account>:role/<role name>` (with the ExternalId and a session name
//! CloudTrail shows in that account). `--via-role` assumes a role first and enters the accounts
//! from its session (a role chain). The assumed credentials are refreshed by AssumeRole again
//! when they expire, so an account that takes longer than a session still completes.
//!
//! The first AssumeRole of an account is made at once by [`AccountClients::enter`], so a role
//! that is missing, does not trust the caller or wants another ExternalId is that account's
//! error (`AccessDenied`), with AWS's code, before any audit call.

use super::{shared_config, ConnectOptions, LiveClient, RequestCounter};
use crate::api::{AssumeRole, AwsError, AwsResult, EnterAccount, RoleCredentials, WhoAmI};
use aws_credential_types::provider::{
    error::CredentialsError, future, ProvideCredentials, SharedCredentialsProvider,
};
use aws_credential_types::Credentials;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// Which role to assume in every account, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleSpec {
    /// The role's name in each account (`keywarden-audit` by default: a read-only role, never
    /// a full-admin one).
    pub role_name: String,
    /// The ExternalId the role's trust policy asks for.
    pub external_id: Option<String>,
    /// The session name (`keywarden-audit-<run id>`): what CloudTrail shows in each account.
    pub session_name: String,
    /// A role ARN assumed first; the accounts' roles are assumed from its session.
    pub via_role: Option<String>,
}

/// The per-account clients of an organization run (see the module documentation). Cheap to
/// share: wrap it in an `Arc`.
pub struct AccountClients {
    shared: aws_config::SdkConfig,
    requests: RequestCounter,
    home: Arc<LiveClient>,
    home_account: String,
    partition: String,
    /// The client that calls AssumeRole: the caller's, or the `--via-role` session's.
    assumer: LiveClient,
    spec: RoleSpec,
}

impl AccountClients {
    /// Connects with the caller's credentials, asks who the caller is (its account is entered
    /// with these credentials), and assumes `--via-role` once if there is one. An error here
    /// is the run's: no account can be entered.
    pub async fn connect(options: &ConnectOptions, spec: RoleSpec) -> AwsResult<Self> {
        let shared = shared_config(options).await;
        let requests = RequestCounter::default();
        let home = Arc::new(LiveClient::from_shared(&shared, requests.clone()));
        let identity = home.caller_identity().await?;
        let partition = identity
            .arn
            .split(':')
            .nth(1)
            .filter(|p| !p.is_empty())
            .unwrap_or("aws")
            .to_owned();
        let assumer = match &spec.via_role {
            Some(via) => session_client(&shared, &requests, &home, via, &spec).await?,
            None => (*home).clone(),
        };
        Ok(AccountClients {
            shared,
            requests,
            home,
            home_account: identity.account,
            partition,
            assumer,
            spec,
        })
    }

    /// The caller's own client (its account, its credentials): Organizations is read with it.
    pub fn home(&self) -> &Arc<LiveClient> {
        &self.home
    }

    /// The caller's account id.
    pub fn home_account(&self) -> &str {
        &self.home_account
    }

    /// The ARN of the role assumed in `account_id`.
    pub fn role_arn(&self, account_id: &str) -> String {
        format!(
            "arn:{}:iam::{account_id}:role/{}",
            self.partition, self.spec.role_name
        )
    }

    /// The requests of every client this factory made, the caller's included (`--stats`).
    pub fn requests(&self) -> &RequestCounter {
        &self.requests
    }
}

impl EnterAccount for AccountClients {
    type Client = LiveClient;

    async fn enter(&self, account_id: &str) -> AwsResult<Arc<LiveClient>> {
        if account_id == self.home_account {
            return Ok(Arc::clone(&self.home));
        }
        let arn = self.role_arn(account_id);
        let client = session_client(
            &self.shared,
            &self.requests,
            &self.assumer,
            &arn,
            &self.spec,
        )
        .await?;
        Ok(Arc::new(client))
    }
}

/// A client acting as `role_arn`, assumed by `assumer`: the first AssumeRole now (its error is
/// the caller's), later ones when the credentials expire.
async fn session_client(
    shared: &aws_config::SdkConfig,
    requests: &RequestCounter,
    assumer: &LiveClient,
    role_arn: &str,
    spec: &RoleSpec,
) -> AwsResult<LiveClient> {
    let first = assumer
        .assume_role(role_arn, spec.external_id.as_deref(), &spec.session_name)
        .await?;
    let provider = RoleSession {
        assumer: assumer.clone(),
        role_arn: role_arn.to_owned(),
        external_id: spec.external_id.clone(),
        session_name: spec.session_name.clone(),
        first: Mutex::new(Some(first)),
    };
    let config = shared
        .clone()
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build();
    Ok(LiveClient::from_shared(&config, requests.clone()))
}

/// The credentials of one assumed role: the first AssumeRole's answer, then a new AssumeRole
/// each time the SDK's identity cache finds them expired.
#[derive(Debug)]
struct RoleSession {
    assumer: LiveClient,
    role_arn: String,
    external_id: Option<String>,
    session_name: String,
    first: Mutex<Option<RoleCredentials>>,
}

impl RoleSession {
    async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let first = self.first.lock().ok().and_then(|mut first| first.take());
        let role = match first {
            Some(role) => role,
            None => self
                .assumer
                .assume_role(
                    &self.role_arn,
                    self.external_id.as_deref(),
                    &self.session_name,
                )
                .await
                .map_err(|e: AwsError| CredentialsError::provider_error(e))?,
        };
        let expiry = u64::try_from(role.expiration.timestamp())
            .ok()
            .map(|secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
        Ok(Credentials::new(
            role.access_key_id,
            role.secret_access_key.expose(),
            Some(role.session_token.expose().to_owned()),
            expiry,
            "keywarden-assume-role",
        ))
    }
}

impl ProvideCredentials for RoleSession {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}
