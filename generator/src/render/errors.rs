//! The view of the `errors` module: one enum per action that declares error responses, with the
//! match arms of its decoder.

use serde::Serialize;

use super::view::{feature_cfg, status_pattern, Spell};
use crate::ir::{Connector, ErrorBody, ErrorEnum, Operation, StatusMatch};

/// One action's error enum as the template prints it.
#[derive(Debug, Serialize)]
pub struct ErrorsView {
    pub name: String,
    /// The action id.
    pub action: String,
    /// The typed method, for the docs.
    pub method: String,
    /// The `cfg` predicate of the action's features.
    pub cfg: Option<String>,
    pub variants: Vec<ErrorVariantView>,
    /// Decoder arms: codes first, then ranges, then `default`; within a status, the arms that
    /// a content type picks before the main one.
    pub arms: Vec<ErrorArmView>,
    /// Whether the last arm is `default` (`_`), so no arm for undeclared statuses follows.
    pub has_default: bool,
    /// Whether the only arm is an unguarded `default`: the decoder needs no `match`.
    pub single: bool,
}

#[derive(Debug, Serialize)]
pub struct ErrorVariantView {
    pub name: String,
    /// Payload type; `None` for a response without a body.
    pub ty: Option<String>,
    pub docs: String,
}

#[derive(Debug, Serialize)]
pub struct ErrorArmView {
    /// Match pattern on the status; `None` for `default` (`_`).
    pub pattern: Option<String>,
    /// The content type (essence) that guards the arm.
    pub media: Option<String>,
    pub variant: String,
    /// The `ErrorAnswer` method that decodes the body (`json`, `text`, `bytes`), or `empty`.
    pub decode: &'static str,
}

/// The error enums of `connector`, in operation order.
pub(crate) fn error_views(connector: &Connector, spell: &Spell<'_>) -> Vec<ErrorsView> {
    connector
        .operations
        .iter()
        .filter_map(|op| Some(view(op, op.errors.as_ref()?, spell)))
        .collect()
}

fn view(op: &Operation, errors: &ErrorEnum, spell: &Spell<'_>) -> ErrorsView {
    let codes: Vec<u16> = errors
        .variants
        .iter()
        .filter_map(|v| match v.status {
            StatusMatch::Code(code) => Some(code),
            _ => None,
        })
        .collect();
    let rank = |status: StatusMatch| match status {
        StatusMatch::Code(code) => (0, code),
        StatusMatch::Range(digit) => (1, u16::from(digit)),
        StatusMatch::Default => (2, 0),
    };
    let mut ordered: Vec<_> = errors.variants.iter().collect();
    // Stable: a status's variants keep their order, guarded ones moved before the main one.
    ordered.sort_by_key(|v| (rank(v.status), v.media_type.is_none()));
    let arms: Vec<ErrorArmView> = ordered
        .iter()
        .map(|v| ErrorArmView {
            pattern: match v.status {
                StatusMatch::Default => None,
                status => Some(status_pattern(status, &codes)),
            },
            media: v.media_type.clone(),
            variant: v.rust_name.clone(),
            decode: match v.body {
                ErrorBody::Empty => "empty",
                ErrorBody::Json(_) => "json",
                ErrorBody::Text => "text",
                ErrorBody::Bytes => "bytes",
            },
        })
        .collect();
    let has_default = arms
        .last()
        .is_some_and(|a| a.pattern.is_none() && a.media.is_none());
    let single = has_default && arms.len() == 1;
    ErrorsView {
        name: errors.rust_name.clone(),
        action: op.id.clone(),
        method: op.rust_name.clone(),
        cfg: feature_cfg(&op.features),
        variants: errors
            .variants
            .iter()
            .map(|v| ErrorVariantView {
                name: v.rust_name.clone(),
                ty: match &v.body {
                    ErrorBody::Empty => None,
                    ErrorBody::Json(ty) => Some(spell.ty(ty)),
                    ErrorBody::Text => Some("String".to_owned()),
                    ErrorBody::Bytes => Some("Vec<u8>".to_owned()),
                },
                docs: variant_docs(v.status, v.media_type.as_deref(), v.description.as_deref()),
            })
            .collect(),
        arms,
        has_default,
        single,
    }
}

fn variant_docs(status: StatusMatch, media: Option<&str>, description: Option<&str>) -> String {
    let mut docs = match status {
        StatusMatch::Code(code) => format!("HTTP {code}"),
        StatusMatch::Range(digit) => format!("Another HTTP {digit}xx status"),
        StatusMatch::Default => "Any other status (`default`)".to_owned(),
    };
    if let Some(media) = media {
        docs.push_str(&format!(", content type `{media}`"));
    }
    match description.map(str::trim).filter(|d| !d.is_empty()) {
        Some(description) => docs.push_str(&format!(": {description}")),
        None => docs.push('.'),
    }
    docs
}
