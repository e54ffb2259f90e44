//! Secrets Manager: the rotation's hand-over (CreateSecret) and its read-back (DescribeSecret).

use super::{aws_error, LiveClient};
use crate::api::{
    AwsError, AwsResult, SecretInfo, SecretRead, SecretString, SecretWrite,
    SECRETSMANAGER_CREATE_SECRET, SECRETSMANAGER_DESCRIBE_SECRET,
};

impl SecretWrite for LiveClient {
    async fn create_secret(
        &self,
        name: &str,
        secret: &SecretString,
        description: &str,
    ) -> AwsResult<String> {
        const ACTION: &str = SECRETSMANAGER_CREATE_SECRET;
        let out = self
            .secretsmanager
            .create_secret()
            .name(name)
            .description(description)
            .secret_string(secret.expose())
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        out.arn().map(str::to_owned).ok_or_else(|| AwsError {
            action: ACTION,
            code: "MalformedResponse".into(),
            message: "the response has no ARN".into(),
        })
    }
}

impl SecretRead for LiveClient {
    async fn describe_secret(&self, name: &str) -> AwsResult<Option<SecretInfo>> {
        const ACTION: &str = SECRETSMANAGER_DESCRIBE_SECRET;
        let out = match self
            .secretsmanager
            .describe_secret()
            .secret_id(name)
            .send()
            .await
        {
            Ok(out) => out,
            Err(error) => {
                let error = aws_error(ACTION, error);
                return if error.code == "ResourceNotFoundException" {
                    Ok(None)
                } else {
                    Err(error)
                };
            }
        };
        Ok(Some(SecretInfo {
            arn: out.arn().unwrap_or_default().to_owned(),
            description: out.description().unwrap_or_default().to_owned(),
        }))
    }
}
