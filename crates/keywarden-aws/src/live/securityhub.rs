//! Security Hub: `--to securityhub` (BatchImportFindings, GetFindings, BatchUpdateFindings).
//!
//! The boundary speaks ASFF JSON, the format AWS documents and `--format asff` prints; this file
//! maps it to the SDK's types and back for the fields keywarden writes. A document with a field
//! outside that set is refused with the field's name (`UnsupportedField`), never sent without
//! it: a silently dropped field would be a finding Security Hub shows differently from the one
//! `--format asff` printed.

use super::{aws_error, LiveClient};
use crate::api::{
    AwsError, AwsResult, FailedFinding, FindingRef, FindingsQuery, ImportOutcome, SecurityHubRead,
    SecurityHubWrite, SECURITYHUB_BATCH_IMPORT_FINDINGS, SECURITYHUB_BATCH_UPDATE_FINDINGS,
    SECURITYHUB_GET_FINDINGS,
};
use aws_sdk_securityhub::types::{
    AwsIamAccessKeyDetails, AwsIamUserDetails, AwsSecurityFinding, AwsSecurityFindingFilters,
    AwsSecurityFindingIdentifier, Compliance, ComplianceStatus, NoteUpdate, Partition,
    Recommendation, RecordState, Remediation, Resource, ResourceDetails, Severity, SeverityLabel,
    StringFilter, StringFilterComparison, Workflow, WorkflowStatus, WorkflowUpdate,
};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// GetFindings' largest page.
const PAGE_SIZE: i32 = 100;

impl SecurityHubWrite for LiveClient {
    async fn batch_import_findings(&self, findings: &[Value]) -> AwsResult<ImportOutcome> {
        const ACTION: &str = SECURITYHUB_BATCH_IMPORT_FINDINGS;
        let findings = findings
            .iter()
            .map(|doc| to_sdk(doc).map_err(|message| unsupported(ACTION, doc, message)))
            .collect::<AwsResult<Vec<_>>>()?;
        let out = self
            .securityhub
            .batch_import_findings()
            .set_findings(Some(findings))
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        Ok(ImportOutcome {
            succeeded: u64::try_from(out.success_count().unwrap_or_default()).unwrap_or_default(),
            failed: out
                .failed_findings()
                .iter()
                .map(|f| FailedFinding {
                    id: f.id().unwrap_or_default().to_owned(),
                    code: f.error_code().unwrap_or_default().to_owned(),
                    message: f.error_message().unwrap_or_default().to_owned(),
                })
                .collect(),
        })
    }

    async fn resolve_findings(
        &self,
        findings: &[FindingRef],
        note: &str,
    ) -> AwsResult<Vec<FailedFinding>> {
        const ACTION: &str = SECURITYHUB_BATCH_UPDATE_FINDINGS;
        let identifiers = findings
            .iter()
            .map(|f| {
                AwsSecurityFindingIdentifier::builder()
                    .id(&f.id)
                    .product_arn(&f.product_arn)
                    .build()
            })
            .collect();
        let out = self
            .securityhub
            .batch_update_findings()
            .set_finding_identifiers(Some(identifiers))
            .workflow(
                WorkflowUpdate::builder()
                    .status(WorkflowStatus::Resolved)
                    .build(),
            )
            .note(
                NoteUpdate::builder()
                    .text(note)
                    .updated_by("keywarden")
                    .build(),
            )
            .send()
            .await
            .map_err(|e| aws_error(ACTION, e))?;
        Ok(out
            .unprocessed_findings()
            .iter()
            .map(|f| FailedFinding {
                id: f
                    .finding_identifier()
                    .and_then(|i| i.id())
                    .unwrap_or_default()
                    .to_owned(),
                code: f.error_code().unwrap_or_default().to_owned(),
                message: f.error_message().unwrap_or_default().to_owned(),
            })
            .collect())
    }
}

impl SecurityHubRead for LiveClient {
    async fn get_findings(&self, query: &FindingsQuery) -> AwsResult<Vec<Value>> {
        const ACTION: &str = SECURITYHUB_GET_FINDINGS;
        let filter = |value: &str, comparison: StringFilterComparison| {
            StringFilter::builder()
                .value(value)
                .comparison(comparison)
                .build()
        };
        let filters = AwsSecurityFindingFilters::builder()
            .product_arn(filter(&query.product_arn, StringFilterComparison::Equals))
            .aws_account_id(filter(&query.account, StringFilterComparison::Equals))
            .generator_id(filter(
                &query.generator_prefix,
                StringFilterComparison::Prefix,
            ))
            .record_state(filter("ACTIVE", StringFilterComparison::Equals))
            .set_id(
                query
                    .id_prefix
                    .as_deref()
                    .map(|prefix| vec![filter(prefix, StringFilterComparison::Prefix)]),
            )
            .build();
        let mut pages = self
            .securityhub
            .get_findings()
            .filters(filters)
            .max_results(PAGE_SIZE)
            .into_paginator()
            .send();
        let mut documents = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws_error(ACTION, e))?;
            documents.extend(page.findings().iter().map(from_sdk));
        }
        Ok(documents)
    }
}

fn unsupported(action: &'static str, doc: &Value, message: String) -> AwsError {
    AwsError {
        action,
        code: "UnsupportedField".into(),
        message: format!(
            "finding `{}`: {message}",
            doc.get("Id").and_then(Value::as_str).unwrap_or("(no Id)")
        ),
    }
}

/// The fields of an object, each taken once; [`Fields::finish`] fails on any left over.
struct Fields {
    what: &'static str,
    map: Map<String, Value>,
}

impl Fields {
    fn of(value: &Value, what: &'static str) -> Result<Self, String> {
        match value {
            Value::Object(map) => Ok(Fields {
                what,
                map: map.clone(),
            }),
            _ => Err(format!("{what} is not an object")),
        }
    }

    fn string(&mut self, key: &str) -> Result<Option<String>, String> {
        match self.map.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("{}.{key} is not a string", self.what)),
        }
    }

    fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key).filter(|v| !v.is_null())
    }

    fn finish(self) -> Result<(), String> {
        match self.map.keys().next() {
            None => Ok(()),
            Some(key) => Err(format!(
                "{}.{key} is not a field keywarden's Security Hub client sends",
                self.what
            )),
        }
    }
}

/// An ASFF document as the SDK's finding.
fn to_sdk(doc: &Value) -> Result<AwsSecurityFinding, String> {
    let mut f = Fields::of(doc, "finding")?;
    let mut b = AwsSecurityFinding::builder()
        .set_schema_version(f.string("SchemaVersion")?)
        .set_id(f.string("Id")?)
        .set_product_arn(f.string("ProductArn")?)
        .set_generator_id(f.string("GeneratorId")?)
        .set_aws_account_id(f.string("AwsAccountId")?)
        .set_first_observed_at(f.string("FirstObservedAt")?)
        .set_last_observed_at(f.string("LastObservedAt")?)
        .set_created_at(f.string("CreatedAt")?)
        .set_updated_at(f.string("UpdatedAt")?)
        .set_title(f.string("Title")?)
        .set_description(f.string("Description")?)
        .set_record_state(
            f.string("RecordState")?
                .map(|s| RecordState::from(s.as_str())),
        );
    if let Some(types) = f.take("Types") {
        b = b.set_types(Some(strings(&types, "finding.Types")?));
    }
    if let Some(severity) = f.take("Severity") {
        let mut s = Fields::of(&severity, "Severity")?;
        let label = s.string("Label")?;
        s.finish()?;
        b = b.severity(
            Severity::builder()
                .set_label(label.map(|l| SeverityLabel::from(l.as_str())))
                .build(),
        );
    }
    if let Some(remediation) = f.take("Remediation") {
        let mut r = Fields::of(&remediation, "Remediation")?;
        let recommendation = r.take("Recommendation");
        r.finish()?;
        if let Some(recommendation) = recommendation {
            let mut rec = Fields::of(&recommendation, "Remediation.Recommendation")?;
            let text = rec.string("Text")?;
            let url = rec.string("Url")?;
            rec.finish()?;
            b = b.remediation(
                Remediation::builder()
                    .recommendation(
                        Recommendation::builder()
                            .set_text(text)
                            .set_url(url)
                            .build(),
                    )
                    .build(),
            );
        }
    }
    if let Some(fields) = f.take("ProductFields") {
        let Value::Object(map) = fields else {
            return Err("finding.ProductFields is not an object".into());
        };
        let mut out = HashMap::new();
        for (key, value) in map {
            let Value::String(value) = value else {
                return Err(format!("finding.ProductFields.{key} is not a string"));
            };
            out.insert(key, value);
        }
        b = b.set_product_fields(Some(out));
    }
    if let Some(resources) = f.take("Resources") {
        let Value::Array(items) = resources else {
            return Err("finding.Resources is not a list".into());
        };
        let resources = items
            .iter()
            .map(resource_to_sdk)
            .collect::<Result<Vec<_>, _>>()?;
        b = b.set_resources(Some(resources));
    }
    if let Some(compliance) = f.take("Compliance") {
        let mut c = Fields::of(&compliance, "Compliance")?;
        let status = c.string("Status")?;
        c.finish()?;
        b = b.compliance(
            Compliance::builder()
                .set_status(status.map(|s| ComplianceStatus::from(s.as_str())))
                .build(),
        );
    }
    if let Some(workflow) = f.take("Workflow") {
        let mut w = Fields::of(&workflow, "Workflow")?;
        let status = w.string("Status")?;
        w.finish()?;
        b = b.workflow(
            Workflow::builder()
                .set_status(status.map(|s| WorkflowStatus::from(s.as_str())))
                .build(),
        );
    }
    f.finish()?;
    Ok(b.build())
}

fn strings(value: &Value, what: &str) -> Result<Vec<String>, String> {
    let Value::Array(items) = value else {
        return Err(format!("{what} is not a list"));
    };
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{what} has an item that is not a string"))
        })
        .collect()
}

fn resource_to_sdk(value: &Value) -> Result<Resource, String> {
    let mut r = Fields::of(value, "Resources[]")?;
    let mut b = Resource::builder()
        .set_type(r.string("Type")?)
        .set_id(r.string("Id")?)
        .set_partition(r.string("Partition")?.map(|p| Partition::from(p.as_str())))
        .set_region(r.string("Region")?);
    if let Some(details) = r.take("Details") {
        let mut d = Fields::of(&details, "Resources[].Details")?;
        let mut details = ResourceDetails::builder();
        if let Some(key) = d.take("AwsIamAccessKey") {
            let mut k = Fields::of(&key, "Details.AwsIamAccessKey")?;
            details = details.aws_iam_access_key(
                AwsIamAccessKeyDetails::builder()
                    .set_access_key_id(k.string("AccessKeyId")?)
                    .set_account_id(k.string("AccountId")?)
                    .set_principal_name(k.string("PrincipalName")?)
                    .set_principal_type(k.string("PrincipalType")?)
                    .build(),
            );
            k.finish()?;
        }
        if let Some(user) = d.take("AwsIamUser") {
            let mut u = Fields::of(&user, "Details.AwsIamUser")?;
            details = details.aws_iam_user(
                AwsIamUserDetails::builder()
                    .set_user_name(u.string("UserName")?)
                    .build(),
            );
            u.finish()?;
        }
        d.finish()?;
        b = b.details(details.build());
    }
    r.finish()?;
    Ok(b.build())
}

/// Inserts `key: value` when there is a value.
fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value);
    }
}

fn text(value: Option<&str>) -> Option<Value> {
    value.map(|s| Value::String(s.to_owned()))
}

/// The SDK's finding as ASFF JSON, the fields [`to_sdk`] maps: what a resolved record is made
/// from.
fn from_sdk(f: &AwsSecurityFinding) -> Value {
    let mut m = Map::new();
    put(&mut m, "SchemaVersion", text(f.schema_version()));
    put(&mut m, "Id", text(f.id()));
    put(&mut m, "ProductArn", text(f.product_arn()));
    put(&mut m, "GeneratorId", text(f.generator_id()));
    put(&mut m, "AwsAccountId", text(f.aws_account_id()));
    m.insert("Types".into(), json!(f.types()));
    put(&mut m, "FirstObservedAt", text(f.first_observed_at()));
    put(&mut m, "LastObservedAt", text(f.last_observed_at()));
    put(&mut m, "CreatedAt", text(f.created_at()));
    put(&mut m, "UpdatedAt", text(f.updated_at()));
    put(
        &mut m,
        "Severity",
        f.severity()
            .and_then(|s| s.label())
            .map(|l| json!({ "Label": l.as_str() })),
    );
    put(&mut m, "Title", text(f.title()));
    put(&mut m, "Description", text(f.description()));
    put(
        &mut m,
        "Remediation",
        f.remediation().and_then(|r| r.recommendation()).map(|rec| {
            let mut r = Map::new();
            put(&mut r, "Text", text(rec.text()));
            put(&mut r, "Url", text(rec.url()));
            json!({ "Recommendation": r })
        }),
    );
    put(
        &mut m,
        "ProductFields",
        f.product_fields().map(|fields| {
            let sorted: std::collections::BTreeMap<_, _> = fields.iter().collect();
            json!(sorted)
        }),
    );
    let resources: Vec<Value> = f.resources().iter().map(resource_from_sdk).collect();
    m.insert("Resources".into(), Value::Array(resources));
    put(
        &mut m,
        "Compliance",
        f.compliance()
            .and_then(|c| c.status())
            .map(|s| json!({ "Status": s.as_str() })),
    );
    put(
        &mut m,
        "Workflow",
        f.workflow()
            .and_then(|w| w.status())
            .map(|s| json!({ "Status": s.as_str() })),
    );
    put(
        &mut m,
        "RecordState",
        f.record_state().map(|s| json!(s.as_str())),
    );
    Value::Object(m)
}

fn resource_from_sdk(r: &Resource) -> Value {
    let mut m = Map::new();
    put(&mut m, "Type", text(r.r#type()));
    put(&mut m, "Id", text(r.id()));
    put(
        &mut m,
        "Partition",
        r.partition().map(|p| json!(p.as_str())),
    );
    put(&mut m, "Region", text(r.region()));
    if let Some(details) = r.details() {
        let mut d = Map::new();
        if let Some(key) = details.aws_iam_access_key() {
            let mut k = Map::new();
            put(&mut k, "AccessKeyId", text(key.access_key_id()));
            put(&mut k, "AccountId", text(key.account_id()));
            put(&mut k, "PrincipalName", text(key.principal_name()));
            put(&mut k, "PrincipalType", text(key.principal_type()));
            d.insert("AwsIamAccessKey".into(), Value::Object(k));
        }
        if let Some(user) = details.aws_iam_user() {
            let mut u = Map::new();
            put(&mut u, "UserName", text(user.user_name()));
            d.insert("AwsIamUser".into(), Value::Object(u));
        }
        if !d.is_empty() {
            m.insert("Details".into(), Value::Object(d));
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Value {
        json!({
            "SchemaVersion": "2018-10-08",
            "Id": "keywarden/123456789012/R/00",
            "ProductArn": "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default",
            "GeneratorId": "keywarden/R",
            "AwsAccountId": "123456789012",
            "Types": ["Software and Configuration Checks/AWS Security Best Practices"],
            "FirstObservedAt": "2024-06-01T00:00:00Z",
            "LastObservedAt": "2024-06-01T00:00:00Z",
            "CreatedAt": "2024-06-01T00:00:00Z",
            "UpdatedAt": "2024-06-01T00:00:00Z",
            "Severity": { "Label": "HIGH" },
            "Title": "t",
            "Description": "d",
            "Remediation": { "Recommendation": { "Text": "fix it" } },
            "ProductFields": { "ProviderName": "keywarden", "keywarden/Status": "fail" },
            "Resources": [{
                "Type": "AwsIamAccessKey",
                "Id": "AKIAEXAMPLE",
                "Partition": "aws",
                "Region": "us-east-1",
                "Details": { "AwsIamAccessKey": {
                    "AccessKeyId": "AKIAEXAMPLE",
                    "AccountId": "123456789012",
                    "PrincipalName": "alice",
                    "PrincipalType": "IAMUser"
                } }
            }, {
                "Type": "AwsIamUser",
                "Id": "arn:aws:iam::123456789012:user/alice",
                "Partition": "aws",
                "Region": "us-east-1",
                "Details": { "AwsIamUser": { "UserName": "alice" } }
            }],
            "Compliance": { "Status": "FAILED" },
            "Workflow": { "Status": "SUPPRESSED" },
            "RecordState": "ACTIVE"
        })
    }

    #[test]
    fn a_document_round_trips_through_the_sdk_types() {
        let sdk = to_sdk(&doc()).unwrap();
        assert_eq!(sdk.severity().unwrap().label(), Some(&SeverityLabel::High));
        assert_eq!(from_sdk(&sdk), doc());
    }

    #[test]
    fn a_field_the_client_does_not_map_is_refused_with_its_name() {
        let mut extra = doc();
        extra["Note"] = json!({ "Text": "x" });
        assert!(to_sdk(&extra).unwrap_err().contains("finding.Note"));
        let mut nested = doc();
        nested["Resources"][0]["Tags"] = json!({});
        assert!(to_sdk(&nested).unwrap_err().contains("Resources[].Tags"));
        let mut wrong = doc();
        wrong["Title"] = json!(3);
        assert!(to_sdk(&wrong).unwrap_err().contains("finding.Title"));
        let error = unsupported(SECURITYHUB_BATCH_IMPORT_FINDINGS, &extra, "m".into());
        assert_eq!(error.code, "UnsupportedField");
        assert!(error.message.contains("keywarden/123456789012/R/00"));
    }
}
