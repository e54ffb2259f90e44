//! The backstop that keeps secrets out of the journal: a text whose JSON holds a field named
//! like a secret (`"SecretAccessKey":`, `"Password":`, ...) is refused, and the error names the
//! field, never its value. The engine keeps secrets out in the first place (an effect has no
//! secret field; the secret goes to the call only).

use super::*;

/// JSON field names a journal text must never hold (compared lowercased, without `_` and `-`).
pub(super) const SECRET_FIELDS: &[&str] = &[
    "secretaccesskey",
    "awssecretaccesskey",
    "secretkey",
    "sessiontoken",
    "awssessiontoken",
    "password",
    "newpassword",
    "oldpassword",
    "secretstring",
    "secretbinary",
];

/// Refuses a text holding a JSON field (`"name":`) whose name is a secret's.
pub(super) fn guard(what: impl FnOnce() -> String, text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        // A JSON string: find its closing quote, stepping over escapes.
        let start = i + 1;
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        if end >= bytes.len() {
            break;
        }
        if text[end + 1..].trim_start().starts_with(':') {
            let name = &text[start..end];
            let normal: String = name
                .chars()
                .filter(|c| *c != '_' && *c != '-')
                .flat_map(char::to_lowercase)
                .collect();
            if SECRET_FIELDS.contains(&normal.as_str()) {
                return Err(JournalError::SecretField {
                    what: what(),
                    field: name.to_string(),
                });
            }
        }
        i = end + 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_finds_secret_fields_only_as_field_names() {
        assert!(guard(|| "x".into(), r#"{"SecretAccessKey": "abc"}"#).is_err());
        assert!(guard(|| "x".into(), r#"{"a":{"secret_access_key" :1}}"#).is_err());
        assert!(guard(|| "x".into(), r#"{"SessionToken":"t"}"#).is_err());
        // A value that mentions a secret's name is not a secret.
        assert!(guard(|| "x".into(), r#"{"name": "prod/SecretAccessKey"}"#).is_ok());
        assert!(guard(
            || "x".into(),
            r#"{"UserName":"alice","AccessKeyId":"AKIA1"}"#
        )
        .is_ok());
        assert!(guard(|| "x".into(), "user alice, key AKIA1").is_ok());
        // Escaped quotes inside a string do not hide a later field.
        assert!(guard(|| "x".into(), r#"{"m":"a \"b\": c", "SecretKey": 1}"#).is_err());
        assert!(guard(|| "x".into(), r#"{"m":"a \"Password\" b"}"#).is_ok());
        let err = guard(
            || "params_json of action a1".into(),
            r#"{"Password":"hunter2"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("Password") && !err.contains("hunter2"),
            "{err}"
        );
    }
}
