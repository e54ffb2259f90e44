//! The incident report's committed schema (`docs/schemas/incident-report.schema.json`) is the one
//! `IncidentReport` generates, and every file in docs/schemas/ is a document kind: one of
//! keywarden-output's (`keywarden_output::schema::KINDS`, checked by its own `tests/schemas.rs`)
//! or the incident report. After a deliberate change of the report, regenerate with
//! `KEYWARDEN_UPDATE_SCHEMAS=1 cargo test -p keywarden-app --test schemas` and say what changed
//! in docs/json-output.md's changelog.

use keywarden_app::remediate::IncidentReport;
use keywarden_output::schema::KINDS;
use std::path::PathBuf;

const INCIDENT_REPORT: &str = "incident-report";

fn schemas_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/schemas")
}

#[test]
fn the_committed_incident_report_schema_is_the_generated_one() {
    let path = schemas_dir().join(format!("{INCIDENT_REPORT}.schema.json"));
    let generated = IncidentReport::schema_text();
    if std::env::var_os("KEYWARDEN_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "stale schema {} (regenerate with KEYWARDEN_UPDATE_SCHEMAS=1 cargo test -p keywarden-app --test schemas)",
        path.display()
    );
}

#[test]
fn every_schema_file_is_a_kind() {
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(schemas_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let kind = name
            .strip_suffix(".schema.json")
            .unwrap_or(&name)
            .to_owned();
        assert!(
            KINDS.contains(&kind.as_str()) || kind == INCIDENT_REPORT,
            "docs/schemas/{name} names no document kind"
        );
        seen.push(kind);
    }
    for kind in KINDS.iter().chain([&INCIDENT_REPORT]) {
        assert!(
            seen.iter().any(|k| k == kind),
            "no docs/schemas/{kind}.schema.json"
        );
    }
}
