//! Load: bytes to a JSON document, with the format detected by content and the version checked.
//!
//! YAML is converted to JSON values as it is parsed (module `yaml`), so that non-string keys
//! (a bare `200:` under `responses`) become strings instead of failing, aliases cannot amplify
//! memory, and a parse error keeps its line number. Nesting is bounded by both parsers (128 levels), so
//! nothing downstream recurses without bound.

mod yaml;

use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic, Severity};

/// Default cap on the size of a spec, checked before parsing.
pub const DEFAULT_MAX_SPEC_BYTES: usize = 20 * 1024 * 1024;

/// Which OpenAPI family a document declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecVersion {
    /// `openapi: 3.0.x`, the supported contract.
    OpenApi30(String),
}

/// A parsed document whose version has been checked.
#[derive(Debug, Clone)]
pub struct Document {
    /// The whole document as JSON.
    pub root: Value,
    /// The declared version.
    pub version: SpecVersion,
}

/// Parses `bytes` as JSON or YAML and checks that it is an OpenAPI 3.0 document.
pub fn load(bytes: &[u8], max_bytes: usize) -> Result<Document, Diagnostic> {
    if bytes.len() > max_bytes {
        return Err(Diagnostic::coded(
            Code::SpecTooLarge,
            "#",
            format!(
                "the spec is {} bytes, more than the limit of {max_bytes} bytes; raise the limit if the spec is trusted",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        error(
            "#",
            format!(
                "the spec is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ),
            None,
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root = if text.trim_start().starts_with('{') {
        parse_json(text)?
    } else {
        parse_yaml(text)?
    };
    let version = check_version(&root)?;
    Ok(Document { root, version })
}

fn parse_json(text: &str) -> Result<Value, Diagnostic> {
    serde_json::from_str(text).map_err(|e| {
        let message = format!("the spec is not valid JSON: {e}");
        let mut diag = error("#", message, Some(e.line()));
        if e.to_string().starts_with("recursion limit exceeded") {
            diag.code = Some(Code::NestingLimit);
            diag.message = format!("the spec nests lists and objects more than 128 levels deep, beyond any real API description ({e})");
        }
        diag
    })
}

fn parse_yaml(text: &str) -> Result<Value, Diagnostic> {
    yaml::to_json(text, yaml::node_budget(text.len())).map_err(|e| {
        let line = e.location().map(|l| l.line());
        let shown = e.to_string();
        let mut diag = error("#", format!("the spec is not valid YAML or JSON: {e}"), line);
        if shown.contains(yaml::BUDGET_EXCEEDED) {
            diag.code = Some(Code::AliasExpansionLimit);
            diag.message = format!(
                "{shown}; the spec was rejected before its aliases could exhaust memory"
            );
        } else if shown.contains("repetition limit exceeded") {
            // serde_yaml's own guard: more alias jumps than 100 per parser event.
            diag.code = Some(Code::AliasExpansionLimit);
            diag.message = "YAML aliases are expanded far more often than the document is long (a \"billion laughs\"); the spec was rejected before its aliases could exhaust memory".to_owned();
        } else if shown.contains("recursion limit exceeded") {
            diag.code = Some(Code::NestingLimit);
            diag.message = format!("the spec nests lists and mappings more than 128 levels deep, beyond any real API description ({e})");
        }
        diag
    })
}

fn check_version(root: &Value) -> Result<SpecVersion, Diagnostic> {
    let Some(object) = root.as_object() else {
        return Err(error(
            "#",
            "the document is not an object; an OpenAPI document starts with `openapi: 3.0.x`"
                .to_owned(),
            None,
        ));
    };
    if let Some(swagger) = object.get("swagger") {
        return Err(error(
            "#/swagger",
            format!(
                "Swagger/OpenAPI 2.0 documents (swagger: {}) are not supported yet; convert the spec to OpenAPI 3.0 first",
                display_scalar(swagger)
            ),
            None,
        ));
    }
    let Some(version) = object.get("openapi") else {
        return Err(error(
            "#",
            "the document has no `openapi` field; this does not look like an OpenAPI 3.0 document"
                .to_owned(),
            None,
        ));
    };
    let Some(version) = version.as_str() else {
        return Err(error(
            "#/openapi",
            format!(
                "`openapi` must be a string such as \"3.0.3\", found {}",
                display_scalar(version)
            ),
            None,
        ));
    };
    if version.starts_with("3.0") {
        Ok(SpecVersion::OpenApi30(version.to_owned()))
    } else if version.starts_with("3.1") {
        Err(error(
            "#/openapi",
            format!(
                "OpenAPI {version} is not supported yet; only 3.0.x documents can be generated"
            ),
            None,
        ))
    } else {
        Err(error(
            "#/openapi",
            format!("unknown OpenAPI version {version:?}; only 3.0.x documents can be generated"),
            None,
        ))
    }
}

fn display_scalar(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 40 {
        let short: String = text.chars().take(40).collect();
        format!("{short}...")
    } else {
        text
    }
}

fn error(pointer: &str, message: String, line: Option<usize>) -> Diagnostic {
    Diagnostic {
        pointer: pointer.to_owned(),
        severity: Severity::Error,
        message,
        line,
        code: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Result<Document, Diagnostic> {
        load(text.as_bytes(), DEFAULT_MAX_SPEC_BYTES)
    }

    #[test]
    fn json_and_yaml_are_detected_by_content() {
        let json = load_str(r#"{"openapi": "3.0.3", "info": {}}"#).unwrap();
        assert_eq!(json.version, SpecVersion::OpenApi30("3.0.3".into()));
        let yaml = load_str("openapi: 3.0.0\ninfo: {}\n").unwrap();
        assert_eq!(yaml.root["info"], serde_json::json!({}));
    }

    #[test]
    fn yaml_numeric_keys_become_strings() {
        let doc = load_str("openapi: '3.0.0'\nresponses:\n  200: ok\n  true: yes\n").unwrap();
        assert_eq!(doc.root["responses"]["200"], "ok");
        assert_eq!(doc.root["responses"]["true"], "yes");
    }

    #[test]
    fn swagger_2_gets_a_sentence() {
        let err = load_str("swagger: '2.0'\n").unwrap_err();
        assert_eq!(err.pointer, "#/swagger");
        assert!(err.message.contains("2.0"), "{}", err.message);
    }

    #[test]
    fn openapi_31_is_not_supported_yet() {
        let err = load_str("openapi: 3.1.0\n").unwrap_err();
        assert!(err.message.contains("not supported yet"));
    }

    #[test]
    fn yaml_errors_carry_a_line() {
        let err = load_str("openapi: 3.0.0\ninfo:\n  title: [unclosed\n").unwrap_err();
        assert!(err.line.is_some(), "{err:?}");
    }

    #[test]
    fn json_errors_carry_a_line() {
        let err = load_str("{\n\"openapi\": \"3.0.0\",\n}").unwrap_err();
        assert_eq!(err.line, Some(3));
    }

    #[test]
    fn size_limit_is_checked_before_parsing() {
        let err = load(b"openapi: 3.0.0", 4).unwrap_err();
        assert!(err.message.contains("limit"));
    }

    #[test]
    fn non_utf8_and_non_objects_are_errors() {
        assert!(load(&[0xff, 0xfe, 0x00], 100).is_err());
        assert!(load_str("[1, 2]").is_err());
        assert!(load_str("openapi: 3").is_err());
        assert!(load_str("").is_err());
    }
}
