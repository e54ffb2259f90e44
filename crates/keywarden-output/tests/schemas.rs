//! The committed schemas (`docs/schemas/<kind>.schema.json`) are the ones the wire types
//! generate. After a deliberate change of a document, regenerate them with
//! `KEYWARDEN_UPDATE_SCHEMAS=1 cargo test -p keywarden-output --test schemas` and say what
//! changed in docs/json-output.md's changelog. keywarden-app's `tests/schemas.rs` checks the
//! incident report's schema, and that every file in docs/schemas/ is a kind of one of the two.

use keywarden_output::schema::{schema_text, KINDS};
use std::path::PathBuf;

fn committed(kind: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/schemas")
        .join(format!("{kind}.schema.json"))
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    let update = std::env::var_os("KEYWARDEN_UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for kind in KINDS {
        let generated = schema_text(kind).expect("every kind has a schema");
        let path = committed(kind);
        if update {
            std::fs::write(&path, &generated).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != generated {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale schemas (regenerate with KEYWARDEN_UPDATE_SCHEMAS=1 cargo test -p keywarden-output --test schemas): {stale:?}"
    );
}

#[test]
fn an_unknown_kind_has_no_schema() {
    assert_eq!(schema_text("no-such-kind"), None);
}
