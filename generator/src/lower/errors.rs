//! Declared error responses become an action's error enum: a variant per error status (codes,
//! ranges, `default`), holding the decoded body, and one more per media type where a status
//! offers bodies that differ (GitHub's SCIM endpoints answer `400` with `application/json` or
//! `application/scim+json`, each with its own schema).

use connector_model::descriptor::{media_essence, media_kind, MediaKind};

use super::naming::{self, Namespace};
use super::types::{lower_schema, SchemaRef};
use super::Lowerer;
use crate::diagnostics::pointer;
use crate::ir::{ErrorBody, ErrorEnum, ErrorVariant, Response, StatusMatch};

/// Whether a declared status is an error one: anything but `2xx`, and `default`.
pub(super) fn is_error(status: StatusMatch) -> bool {
    match status {
        StatusMatch::Code(code) => !(200..300).contains(&code),
        StatusMatch::Range(digit) => digit != 2,
        StatusMatch::Default => true,
    }
}

/// The variants of one declared error response: its main body (the one `lowered` took: JSON
/// first), then each other media type whose body differs, picked by content type.
pub(super) fn variants(
    lw: &mut Lowerer<'_, '_>,
    response: &openapiv3::Response,
    lowered: &Response,
    at: &str,
    type_hint: &str,
) -> Vec<ErrorVariant> {
    let main = match (&lowered.ty, &lowered.media_type) {
        (Some(ty), _) => ErrorBody::Json(ty.clone()),
        (None, Some(media)) => plain_body(media),
        (None, None) => ErrorBody::Empty,
    };
    let name = variant_name(lowered.status);
    let mut out = vec![ErrorVariant {
        rust_name: name.clone(),
        status: lowered.status,
        media_type: None,
        body: main,
        description: lowered.description.clone(),
    }];
    for (media, content) in &response.content {
        if lowered.media_type.as_deref() == Some(media.as_str()) {
            continue;
        }
        let body = if media_kind(media) == MediaKind::Json {
            let ty = match &content.schema {
                Some(schema) => lower_schema(
                    lw,
                    SchemaRef::from(schema),
                    &pointer(&pointer(&pointer(at, "content"), media), "schema"),
                    &format!(
                        "{type_hint}{}{}",
                        naming::type_name(&status_label(lowered.status)),
                        media_name(media)
                    ),
                ),
                None => crate::ir::TypeRef::Json,
            };
            ErrorBody::Json(ty)
        } else {
            plain_body(media)
        };
        if out.iter().any(|v| v.body == body) {
            continue;
        }
        out.push(ErrorVariant {
            rust_name: format!("{name}{}", media_name(media)),
            status: lowered.status,
            media_type: Some(media_essence(media)),
            body,
            description: lowered.description.clone(),
        });
    }
    out
}

/// The enum of an action's error variants, named `{hint}Error` (claimed in `names` whether or not
/// the action declares errors, so that a subset names it as the whole connector does).
pub(super) fn error_enum(name: String, mut variants: Vec<ErrorVariant>) -> Option<ErrorEnum> {
    if variants.is_empty() {
        return None;
    }
    let mut names = Namespace::with_reserved(&["Other"]);
    for variant in &mut variants {
        variant.rust_name = names.claim(std::mem::take(&mut variant.rust_name));
    }
    Some(ErrorEnum {
        rust_name: name,
        variants,
    })
}

/// The name an action's error enum claims.
pub(super) fn enum_name(type_hint: &str) -> String {
    naming::type_name(&format!("{type_hint}Error"))
}

fn plain_body(media: &str) -> ErrorBody {
    match media_kind(media) {
        MediaKind::Text => ErrorBody::Text,
        _ => ErrorBody::Bytes,
    }
}

/// The part of a media type that tells it apart in a name: `application/scim+json` gives
/// `ScimJson`, `text/plain` gives `Plain`.
fn media_name(media: &str) -> String {
    let essence = media_essence(media);
    let sub = essence.split_once('/').map_or(essence.as_str(), |(_, s)| s);
    naming::variant_name(sub)
}

fn status_label(status: StatusMatch) -> String {
    match status {
        StatusMatch::Code(code) => format!("Response{code}"),
        StatusMatch::Range(digit) => format!("Response{digit}xx"),
        StatusMatch::Default => "DefaultResponse".to_owned(),
    }
}

/// The variant of an error status: its reason phrase, the class of a range, `Default`, else
/// `Status{code}`.
pub(super) fn variant_name(status: StatusMatch) -> String {
    let code = match status {
        StatusMatch::Code(code) => code,
        StatusMatch::Range(digit) => {
            return match digit {
                1 => "Informational",
                3 => "Redirection",
                4 => "ClientError",
                5 => "ServerError",
                _ => return format!("Status{digit}xx"),
            }
            .to_owned()
        }
        StatusMatch::Default => return "Default".to_owned(),
    };
    let phrase = match code {
        300 => "MultipleChoices",
        301 => "MovedPermanently",
        302 => "Found",
        303 => "SeeOther",
        304 => "NotModified",
        307 => "TemporaryRedirect",
        308 => "PermanentRedirect",
        400 => "BadRequest",
        401 => "Unauthorized",
        402 => "PaymentRequired",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        407 => "ProxyAuthenticationRequired",
        408 => "RequestTimeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "LengthRequired",
        412 => "PreconditionFailed",
        413 => "ContentTooLarge",
        414 => "UriTooLong",
        415 => "UnsupportedMediaType",
        416 => "RangeNotSatisfiable",
        417 => "ExpectationFailed",
        418 => "ImATeapot",
        421 => "MisdirectedRequest",
        422 => "UnprocessableContent",
        423 => "Locked",
        424 => "FailedDependency",
        425 => "TooEarly",
        426 => "UpgradeRequired",
        428 => "PreconditionRequired",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        451 => "UnavailableForLegalReasons",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        505 => "HttpVersionNotSupported",
        507 => "InsufficientStorage",
        508 => "LoopDetected",
        511 => "NetworkAuthenticationRequired",
        other => return format!("Status{other}"),
    };
    phrase.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_are_named_by_reason_phrase_or_class() {
        assert_eq!(variant_name(StatusMatch::Code(404)), "NotFound");
        assert_eq!(variant_name(StatusMatch::Code(422)), "UnprocessableContent");
        assert_eq!(variant_name(StatusMatch::Code(499)), "Status499");
        assert_eq!(variant_name(StatusMatch::Range(4)), "ClientError");
        assert_eq!(variant_name(StatusMatch::Range(5)), "ServerError");
        assert_eq!(variant_name(StatusMatch::Range(9)), "Status9xx");
        assert_eq!(variant_name(StatusMatch::Default), "Default");
    }

    #[test]
    fn media_types_name_their_variants() {
        assert_eq!(media_name("application/scim+json"), "ScimJson");
        assert_eq!(media_name("text/plain; charset=utf-8"), "Plain");
        assert!(is_error(StatusMatch::Code(304)));
        assert!(!is_error(StatusMatch::Code(201)));
        assert!(!is_error(StatusMatch::Range(2)));
        assert!(is_error(StatusMatch::Default));
    }
}
