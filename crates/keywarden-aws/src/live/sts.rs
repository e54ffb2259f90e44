//! STS: who the client acts as, and the access key it signs with.

use super::{aws_error, required_time, LiveClient};
use crate::api::{
    AssumeRole, AwsError, AwsResult, CallerIdentity, RoleCredentials, SecretString, WhoAmI,
    STS_ASSUME_ROLE, STS_GET_CALLER_IDENTITY,
};
use std::sync::{Arc, Mutex};

/// Captures the access key id a request was signed with, from its SigV4 `Authorization` header
/// (`AWS4-HMAC-SHA256 Credential=AKIA.../20250101/us-east-1/sts/aws4_request, ...`). This is the
/// key the client really uses, as resolved through the SDK's identity cache; asking the
/// credentials provider again would resolve a second time (a new assume-role session, a
/// `credential_process` run again) and could name another key.
#[derive(Debug, Clone, Default)]
struct SigningKey(Arc<Mutex<Option<String>>>);

impl SigningKey {
    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|k| k.clone())
    }
}

impl aws_sdk_iam::config::Intercept for SigningKey {
    fn name(&self) -> &'static str {
        "keywarden-signing-key"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_iam::config::RuntimeComponents,
        _cfg: &mut aws_sdk_iam::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let key = context
            .request()
            .headers()
            .get("authorization")
            .and_then(signing_key_id);
        if let (Some(key), Ok(mut slot)) = (key, self.0.lock()) {
            *slot = Some(key);
        }
        Ok(())
    }
}

/// The access key id of a SigV4 `Authorization` header's `Credential=` scope.
fn signing_key_id(authorization: &str) -> Option<String> {
    let scope = authorization.split("Credential=").nth(1)?;
    let key = scope.split('/').next()?.trim();
    (!key.is_empty()).then(|| key.to_owned())
}

impl WhoAmI for LiveClient {
    async fn caller_identity(&self) -> AwsResult<CallerIdentity> {
        const ACTION: &str = STS_GET_CALLER_IDENTITY;
        let signing_key = SigningKey::default();
        let out = self
            .sts
            .get_caller_identity()
            .customize()
            .interceptor(signing_key.clone())
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        let access_key_id = signing_key.get().ok_or_else(|| AwsError {
            action: ACTION,
            code: "UnsignedRequest".into(),
            message: "the request carried no SigV4 credential scope to read the access key id from"
                .into(),
        })?;
        Ok(CallerIdentity {
            account: out.account().unwrap_or_default().to_owned(),
            arn: out.arn().unwrap_or_default().to_owned(),
            access_key_id,
        })
    }
}

impl AssumeRole for LiveClient {
    async fn assume_role(
        &self,
        role_arn: &str,
        external_id: Option<&str>,
        session_name: &str,
    ) -> AwsResult<RoleCredentials> {
        const ACTION: &str = STS_ASSUME_ROLE;
        let out = self
            .sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session_name)
            .set_external_id(external_id.map(str::to_owned))
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        let credentials = out.credentials().ok_or_else(|| AwsError {
            action: ACTION,
            code: "MalformedResponse".into(),
            message: "the response has no Credentials".into(),
        })?;
        Ok(RoleCredentials {
            access_key_id: credentials.access_key_id().to_owned(),
            secret_access_key: SecretString::new(credentials.secret_access_key().to_owned()),
            session_token: SecretString::new(credentials.session_token().to_owned()),
            expiration: required_time(ACTION, "Expiration", Some(credentials.expiration()))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::signing_key_id;

    #[test]
    fn the_signing_key_is_read_from_the_credential_scope() {
        assert_eq!(
            signing_key_id(
                "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/us-east-1/sts/aws4_request, \
                 SignedHeaders=host;x-amz-date, Signature=abc"
            ),
            Some("AKIAEXAMPLE".to_owned())
        );
        assert_eq!(signing_key_id("Bearer token"), None);
        assert_eq!(signing_key_id("AWS4-HMAC-SHA256 Credential=/x"), None);
    }
}
