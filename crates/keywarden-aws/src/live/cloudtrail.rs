//! CloudTrail: the trails' configuration (TRAIL001) and the event history (LookupEvents).

use super::{aws_error, LiveClient};
use crate::api::{
    AwsError, AwsResult, TrailInfo, TrailRead, CLOUDTRAIL_DESCRIBE_TRAILS,
    CLOUDTRAIL_GET_EVENT_SELECTORS, CLOUDTRAIL_GET_TRAIL_STATUS,
};
use crate::logs::{
    EventHistoryRead, LookupPage, LookupQuery, CLOUDTRAIL_LOOKUP_EVENTS, LOOKUP_MAX_RESULTS,
};
use keywarden_core::Timestamp;

impl TrailRead for LiveClient {
    async fn describe_trails(&self) -> AwsResult<Vec<TrailInfo>> {
        const ACTION: &str = CLOUDTRAIL_DESCRIBE_TRAILS;
        let out = self
            .cloudtrail
            .describe_trails()
            .include_shadow_trails(true)
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        Ok(out
            .trail_list()
            .iter()
            .map(|t| TrailInfo {
                name: t.name().unwrap_or_default().to_owned(),
                arn: t.trail_arn().or(t.name()).unwrap_or_default().to_owned(),
                home_region: t.home_region().unwrap_or_default().to_owned(),
                is_multi_region: t.is_multi_region_trail().unwrap_or(false),
            })
            .collect())
    }

    async fn get_trail_status(&self, trail_arn: &str) -> AwsResult<bool> {
        const ACTION: &str = CLOUDTRAIL_GET_TRAIL_STATUS;
        let out = self
            .cloudtrail
            .get_trail_status()
            .name(trail_arn)
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        Ok(out.is_logging().unwrap_or(false))
    }

    async fn get_event_selectors(&self, trail_arn: &str) -> AwsResult<bool> {
        const ACTION: &str = CLOUDTRAIL_GET_EVENT_SELECTORS;
        let out = self
            .cloudtrail
            .get_event_selectors()
            .trail_name(trail_arn)
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        use aws_sdk_cloudtrail::types::ReadWriteType;
        let basic = out.event_selectors().iter().any(|s| {
            s.include_management_events().unwrap_or(true)
                && !matches!(s.read_write_type(), Some(ReadWriteType::ReadOnly))
        });
        // Advanced selectors: a selector logs write management events when it selects the
        // Management category and does not restrict itself to read-only events.
        let advanced = out.advanced_event_selectors().iter().any(|s| {
            let fields = s.field_selectors();
            let equals = |field: &str, value: &str| {
                fields
                    .iter()
                    .any(|f| f.field() == field && f.equals().iter().any(|v| v == value))
            };
            equals("eventCategory", "Management") && !equals("readOnly", "true")
        });
        Ok(basic || advanced)
    }
}

impl EventHistoryRead for LiveClient {
    async fn lookup_events(
        &self,
        region: &str,
        query: &LookupQuery,
        next_token: Option<&str>,
    ) -> AwsResult<LookupPage> {
        const ACTION: &str = CLOUDTRAIL_LOOKUP_EVENTS;
        use aws_sdk_cloudtrail::primitives::DateTime;
        use aws_sdk_cloudtrail::types::{LookupAttribute as SdkAttribute, LookupAttributeKey};
        let time =
            |t: Timestamp| DateTime::from_secs_and_nanos(t.timestamp(), t.timestamp_subsec_nanos());
        let mut request = self
            .cloudtrail()
            .lookup_events()
            .max_results(query.max_results.clamp(1, LOOKUP_MAX_RESULTS) as i32)
            .set_start_time(query.start.map(time))
            .set_end_time(query.end.map(time))
            .set_next_token(next_token.map(str::to_owned));
        if let Some(attribute) = &query.attribute {
            let attribute = SdkAttribute::builder()
                .attribute_key(LookupAttributeKey::from(attribute.key.as_str()))
                .attribute_value(&attribute.value)
                .build()
                .map_err(|e| AwsError {
                    action: ACTION,
                    code: "ConstructionFailure".into(),
                    message: e.to_string(),
                })?;
            request = request.lookup_attributes(attribute);
        }
        let out = request
            .customize()
            .config_override(
                aws_sdk_cloudtrail::config::Builder::default()
                    .region(aws_sdk_cloudtrail::config::Region::new(region.to_owned())),
            )
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        let mut page = LookupPage {
            next_token: out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            ..LookupPage::default()
        };
        for event in out.events() {
            match event.cloud_trail_event() {
                Some(record) if !record.trim().is_empty() => page.events.push(record.to_owned()),
                _ => page.without_record += 1,
            }
        }
        Ok(page)
    }
}
