//! S3: the log files a trail delivers to its bucket.
//!
//! S3 buckets answer only in their own region. The live client sends S3 calls to the
//! configured region and, when S3 answers that the bucket lives elsewhere (a redirect naming the
//! bucket's region in `x-amz-bucket-region`), repeats the call once in that region and remembers
//! it for the bucket's later calls.

use super::{aws_error, LiveClient};
use crate::api::{AwsError, AwsResult};
use crate::logs::{LogBucketRead, S3Object, S3_GET_OBJECT, S3_LIST_OBJECTS};
use std::future::Future;

type S3Error<E> = aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>;

/// The region S3 names in a redirect or wrong-region answer, when it differs from `current`.
fn redirect_region<E>(error: &S3Error<E>, current: Option<&str>) -> Option<String> {
    let region = error
        .raw_response()?
        .headers()
        .get("x-amz-bucket-region")?
        .trim();
    (!region.is_empty() && Some(region) != current).then(|| region.to_owned())
}

impl LiveClient {
    /// Runs an S3 call in the bucket's region: the configured one until S3 says otherwise.
    async fn in_bucket_region<T, E, F, Fut>(
        &self,
        action: &'static str,
        bucket: &str,
        call: F,
    ) -> AwsResult<T>
    where
        F: Fn(Option<aws_sdk_s3::config::Builder>) -> Fut,
        Fut: Future<Output = Result<T, S3Error<E>>>,
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let known = self.bucket_region(bucket);
        let config = |region: &Option<String>| {
            region.as_ref().map(|r| {
                aws_sdk_s3::config::Builder::default()
                    .region(aws_sdk_s3::config::Region::new(r.clone()))
            })
        };
        match call(config(&known)).await {
            Ok(out) => Ok(out),
            Err(error) => {
                let current = known.as_deref().or(Some(self.region()));
                match redirect_region(&error, current) {
                    Some(region) => {
                        self.remember_bucket_region(bucket, &region);
                        call(config(&Some(region)))
                            .await
                            .map_err(|e| aws_error(action, e))
                    }
                    None => Err(aws_error(action, error)),
                }
            }
        }
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        token: Option<&str>,
    ) -> AwsResult<aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output> {
        self.in_bucket_region(S3_LIST_OBJECTS, bucket, |config| {
            let request = self
                .s3()
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_delimiter(delimiter.map(str::to_owned))
                .set_continuation_token(token.map(str::to_owned));
            async move {
                match config {
                    Some(config) => request.customize().config_override(config).send().await,
                    None => request.send().await,
                }
            }
        })
        .await
    }

    /// Every page of one listing, each handed to `take`.
    async fn list_all(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        mut take: impl FnMut(&aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output),
    ) -> AwsResult<()> {
        let mut token: Option<String> = None;
        loop {
            let page = self
                .list_page(bucket, prefix, delimiter, token.as_deref())
                .await?;
            take(&page);
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => {
                    if token.as_deref() == Some(next) {
                        return Err(AwsError {
                            action: S3_LIST_OBJECTS,
                            code: "MalformedResponse".into(),
                            message: format!(
                                "s3://{bucket}/{prefix}: the listing repeats its continuation token"
                            ),
                        });
                    }
                    token = Some(next.to_owned());
                }
                _ => return Ok(()),
            }
        }
    }
}

impl LogBucketRead for LiveClient {
    async fn list_objects(&self, bucket: &str, prefix: &str) -> AwsResult<Vec<S3Object>> {
        let mut objects = Vec::new();
        self.list_all(bucket, prefix, None, |page| {
            objects.extend(page.contents().iter().filter_map(|o| {
                Some(S3Object {
                    key: o.key()?.to_owned(),
                    size: o.size().unwrap_or(0).max(0) as u64,
                })
            }))
        })
        .await?;
        Ok(objects)
    }

    async fn list_folders(&self, bucket: &str, prefix: &str) -> AwsResult<Vec<String>> {
        let mut folders = Vec::new();
        self.list_all(bucket, prefix, Some("/"), |page| {
            folders.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            )
        })
        .await?;
        Ok(folders)
    }

    async fn get_object(&self, bucket: &str, key: &str) -> AwsResult<Vec<u8>> {
        const ACTION: &str = S3_GET_OBJECT;
        let out = self
            .in_bucket_region(ACTION, bucket, |config| {
                let request = self.s3().get_object().bucket(bucket).key(key);
                async move {
                    match config {
                        Some(config) => request.customize().config_override(config).send().await,
                        None => request.send().await,
                    }
                }
            })
            .await?;
        let body = out.body.collect().await.map_err(|e| AwsError {
            action: ACTION,
            code: "ResponseError".into(),
            message: format!("s3://{bucket}/{key}: the body could not be read: {e}"),
        })?;
        Ok(body.into_bytes().to_vec())
    }
}
