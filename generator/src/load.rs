//! Load: bytes to a JSON document, with the format detected by content and the version checked.
//!
//! Every OpenAPI version is normalised here, at the edge, into the OpenAPI 3.0 form that
//! resolve and lower read: Swagger 2.0 is converted (module `swagger2`), 3.1's JSON Schema forms
//! are rewritten (module `openapi31`), and the [`SourceMap`] of what moved lets every
//! diagnostic name the pointer of the document the user wrote.
//!
//! YAML is converted to JSON values as it is parsed (module `yaml`), so that non-string keys
//! (a bare `200:` under `responses`) become strings instead of failing, aliases cannot amplify
//! memory, and a parse error keeps its line number. Nesting is bounded by both parsers (128 levels), so
//! nothing downstream recurses without bound.

pub mod openapi31;
mod source_map;
pub mod swagger2;
mod walk;
mod yaml;

use serde_json::Value;

use crate::diagnostics::{Code, Diagnostic, Severity};
pub use source_map::SourceMap;

/// Default cap on the size of a spec, checked before parsing.
pub const DEFAULT_MAX_SPEC_BYTES: usize = 20 * 1024 * 1024;

/// Which OpenAPI family a document declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecVersion {
    /// `openapi: 3.0.x`: read as it is.
    OpenApi30(String),
    /// `openapi: 3.1.x`: JSON Schema 2020-12 forms rewritten into 3.0 ones.
    OpenApi31(String),
    /// `swagger: "2.0"`: converted into 3.0.
    Swagger20(String),
}

impl SpecVersion {
    /// The version as the document declares it (`3.1.0`, `2.0`).
    pub fn declared(&self) -> &str {
        match self {
            SpecVersion::OpenApi30(v) | SpecVersion::OpenApi31(v) | SpecVersion::Swagger20(v) => v,
        }
    }
}

/// A parsed document whose version has been checked, in OpenAPI 3.0 form.
#[derive(Debug, Clone)]
pub struct Document {
    /// The whole document as JSON, normalised into OpenAPI 3.0 form.
    pub root: Value,
    /// The declared version.
    pub version: SpecVersion,
    /// Where the parts of `root` that moved in normalising came from.
    pub source_map: SourceMap,
    /// What normalising could not carry over exactly, at pointers of the user's document.
    pub warnings: Vec<Diagnostic>,
}

/// A schema written in OpenAPI 3.1's dialect (JSON Schema 2020-12), such as a manifest's inline
/// event payload beside a 3.1 spec, in the OpenAPI 3.0 form the lowering reads: rewritten as a
/// 3.1 document's own schemas are (what has no 3.0 form is dropped, as there).
pub fn upgrade_schema(schema: Value) -> Value {
    let mut holder = serde_json::json!({ "schema": schema });
    openapi31::upgrade(&mut holder, &mut SourceMap::default(), &mut Vec::new());
    holder
        .get_mut("schema")
        .map(Value::take)
        .unwrap_or_default()
}

/// Parses `bytes` as JSON or YAML, checks its version and normalises it into OpenAPI 3.0 form.
pub fn load(bytes: &[u8], max_bytes: usize) -> Result<Document, Diagnostic> {
    let root = parse(bytes, max_bytes)?;
    let version = check_version(&root)?;
    let mut source_map = SourceMap::default();
    let mut warnings = Vec::new();
    let root = match &version {
        SpecVersion::OpenApi30(_) => root,
        SpecVersion::OpenApi31(_) => {
            let mut root = root;
            openapi31::upgrade(&mut root, &mut source_map, &mut warnings);
            root
        }
        SpecVersion::Swagger20(_) => swagger2::convert(root, &mut source_map, &mut warnings),
    };
    Ok(Document {
        root,
        version,
        source_map,
        warnings,
    })
}

/// Parses `bytes` as JSON or YAML, with the size, alias and nesting limits, and nothing more:
/// the document as the user wrote it.
pub fn parse(bytes: &[u8], max_bytes: usize) -> Result<Value, Diagnostic> {
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
    if text.trim_start().starts_with('{') {
        parse_json(text)
    } else {
        parse_yaml(text)
    }
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
            "the document is not an object; an OpenAPI document starts with `openapi: 3.1.0` (or 3.0.x, or `swagger: \"2.0\"`)"
                .to_owned(),
            None,
        ));
    };
    if let Some(swagger) = object.get("swagger") {
        // YAML reads an unquoted `swagger: 2.0` as a number, which many 2.0 documents write.
        return match (swagger.as_str(), swagger.as_f64()) {
            (Some(v @ ("2.0" | "2.0.0")), _) => Ok(SpecVersion::Swagger20(v.to_owned())),
            (None, Some(2.0)) => Ok(SpecVersion::Swagger20("2.0".to_owned())),
            _ => Err(error(
                "#/swagger",
                format!(
                    "unknown Swagger version {}; Swagger documents are read when they declare `swagger: \"2.0\"`",
                    display_scalar(swagger)
                ),
                None,
            )),
        };
    }
    let Some(version) = object.get("openapi") else {
        return Err(error(
            "#",
            "the document has no `openapi` field (nor `swagger`); this does not look like an OpenAPI document"
                .to_owned(),
            None,
        ));
    };
    let Some(version) = version.as_str() else {
        return Err(error(
            "#/openapi",
            format!(
                "`openapi` must be a string such as \"3.1.0\", found {}",
                display_scalar(version)
            ),
            None,
        ));
    };
    if version.starts_with("3.0.") || version == "3.0" {
        Ok(SpecVersion::OpenApi30(version.to_owned()))
    } else if version.starts_with("3.1.") || version == "3.1" {
        Ok(SpecVersion::OpenApi31(version.to_owned()))
    } else {
        Err(error(
            "#/openapi",
            format!("unknown OpenAPI version {version:?}; OpenAPI 3.1.x, 3.0.x and Swagger 2.0 documents can be generated"),
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
    fn every_version_is_read_and_unknown_ones_get_a_sentence() {
        let doc = load_str("swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n").unwrap();
        assert_eq!(doc.version, SpecVersion::Swagger20("2.0".into()));
        assert_eq!(doc.root["openapi"], "3.0.3");
        let doc = load_str("openapi: 3.1.0\npaths: {}\n").unwrap();
        assert_eq!(doc.version, SpecVersion::OpenApi31("3.1.0".into()));
        let err = load_str("swagger: '1.2'\n").unwrap_err();
        assert_eq!(err.pointer, "#/swagger");
        assert!(err.message.contains("1.2"), "{}", err.message);
        let err = load_str("openapi: 4.0.0\n").unwrap_err();
        assert!(
            err.message.contains("unknown OpenAPI version"),
            "{}",
            err.message
        );
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
