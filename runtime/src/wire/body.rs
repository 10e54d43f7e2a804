//! Request bodies: what a caller can supply, which declared media type it is sent as, and how
//! it is encoded (JSON, `application/x-www-form-urlencoded`, `multipart/form-data`, text, bytes
//! or a stream).

use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use reqwest::header::HeaderValue;
use serde::Serialize;
use serde_json::Value;

use crate::descriptor::{
    BodyDescriptor, OperationDescriptor, ParamDescriptor, ParamLocation, ParamStyle,
    PropertyEncoding,
};
use crate::error::Error;
use crate::wire::encoding::{self, Flat};

const JSON: &str = "application/json";
const MULTIPART: &str = "multipart/form-data";
const OCTET_STREAM: &str = "application/octet-stream";

/// What a caller supplied as the request body.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// A structured value: sent as JSON, as a form or as multipart, by the media type.
    Value(Value),
    /// Text, sent as it is.
    Text(String),
    /// Bytes or a stream, sent as they are.
    Binary(Binary),
    /// Parts built by the caller.
    Multipart(Multipart),
}

/// How a media type's body is written.
pub(crate) use crate::descriptor::MediaKind as Kind;

/// Classifies a media type by its essence (parameters ignored).
pub(crate) fn kind(media: &str) -> Kind {
    crate::descriptor::media_kind(media)
}

use crate::descriptor::media_essence as essence;

/// Bytes to upload: held in memory, or streamed from a source too large to buffer.
///
/// Cheap to clone. A stream can be sent once: a second attempt with the same value fails with
/// [`Error::InvalidParameter`] rather than sending an empty body.
#[derive(Clone)]
pub struct Binary(BinaryInner);

#[derive(Clone)]
enum BinaryInner {
    Bytes(Bytes),
    Stream(Arc<Mutex<Option<reqwest::Body>>>),
}

impl Binary {
    /// Bytes held in memory.
    pub fn bytes(bytes: impl Into<Bytes>) -> Self {
        Self(BinaryInner::Bytes(bytes.into()))
    }

    /// A body streamed as it is sent, for uploads too large to hold in memory: build it with
    /// `reqwest::Body::wrap_stream` or from a `tokio::fs::File`.
    pub fn stream(body: reqwest::Body) -> Self {
        Self(BinaryInner::Stream(Arc::new(Mutex::new(Some(body)))))
    }
}

impl fmt::Debug for Binary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            BinaryInner::Bytes(bytes) => write!(f, "Binary({} bytes)", bytes.len()),
            BinaryInner::Stream(_) => f.write_str("Binary(stream)"),
        }
    }
}

impl From<Bytes> for Binary {
    fn from(bytes: Bytes) -> Self {
        Self::bytes(bytes)
    }
}

impl From<Vec<u8>> for Binary {
    fn from(bytes: Vec<u8>) -> Self {
        Self::bytes(bytes)
    }
}

impl From<&'static [u8]> for Binary {
    fn from(bytes: &'static [u8]) -> Self {
        Self::bytes(bytes)
    }
}

impl From<reqwest::Body> for Binary {
    fn from(body: reqwest::Body) -> Self {
        Self::stream(body)
    }
}

/// A `multipart/form-data` body, part by part.
///
/// ```
/// # fn main() -> Result<(), connector_runtime::Error> {
/// use connector_runtime::Multipart;
/// let form = Multipart::new()
///     .text("title", "Holiday")
///     .json("meta", &serde_json::json!({"tags": ["beach"]}))?
///     .file("photo", "beach.png", "image/png", vec![0x89, b'P', b'N', b'G']);
/// # let _ = form;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Multipart {
    parts: Vec<Part>,
}

#[derive(Clone)]
struct Part {
    name: String,
    file_name: Option<String>,
    content_type: String,
    data: Bytes,
}

impl fmt::Debug for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Part")
            .field("name", &self.name)
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.data.len())
            .finish()
    }
}

impl Multipart {
    /// Parts from a JSON object, as the dynamic interface builds them: strings, numbers and
    /// booleans as `text/plain` parts, arrays of those as one part per item, objects (and
    /// properties whose `encoding` names a JSON type) as `application/json` parts.
    pub fn from_json(value: &Value, encoding: &[PropertyEncoding]) -> Result<Self, crate::Error> {
        multipart_from_value(value, encoding)
            .map_err(|message| crate::Error::InvalidInput { message })
    }

    /// No parts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a plain field, sent as `text/plain`.
    pub fn text(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.part(name.into(), None, "text/plain", value.into().into_bytes())
    }

    /// Adds a field holding `value` as JSON, sent as `application/json`.
    pub fn json<T: Serialize + ?Sized>(
        self,
        name: impl Into<String>,
        value: &T,
    ) -> Result<Self, Error> {
        let data = serde_json::to_vec(value).map_err(|source| Error::Encode { source })?;
        Ok(self.part(name.into(), None, JSON, data))
    }

    /// Adds a file: its bytes with a file name and content type.
    pub fn file(
        self,
        name: impl Into<String>,
        file_name: impl Into<String>,
        content_type: impl Into<String>,
        data: impl Into<Bytes>,
    ) -> Self {
        self.part(
            name.into(),
            Some(file_name.into()),
            &content_type.into(),
            data.into(),
        )
    }

    /// Adds a field with raw bytes and an explicit content type.
    pub fn bytes(
        self,
        name: impl Into<String>,
        content_type: impl Into<String>,
        data: impl Into<Bytes>,
    ) -> Self {
        self.part(name.into(), None, &content_type.into(), data.into())
    }

    fn part(
        mut self,
        name: String,
        file_name: Option<String>,
        content_type: &str,
        data: impl Into<Bytes>,
    ) -> Self {
        self.parts.push(Part {
            name,
            file_name,
            content_type: content_type.to_owned(),
            data: data.into(),
        });
        self
    }

    /// The encoded body and the boundary chosen for it.
    fn encode(&self) -> Result<(String, Vec<u8>), String> {
        let boundary = self.boundary();
        let mut out = Vec::new();
        for part in &self.parts {
            // Names and types go into header lines: CR or LF there would forge headers.
            let line_safe = |s: &str| !s.contains(['\r', '\n', '\0']);
            if !line_safe(&part.content_type) {
                return Err(format!(
                    "the content type of part `{}` contains a line break",
                    part.name
                ));
            }
            out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let mut disposition = format!("form-data; name=\"{}\"", quoted(&part.name));
            if let Some(file_name) = &part.file_name {
                disposition.push_str(&format!("; filename=\"{}\"", quoted(file_name)));
            }
            out.extend_from_slice(format!("Content-Disposition: {disposition}\r\n").as_bytes());
            out.extend_from_slice(
                format!("Content-Type: {}\r\n\r\n", part.content_type).as_bytes(),
            );
            out.extend_from_slice(&part.data);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        Ok((boundary, out))
    }

    /// A boundary that occurs in no part, found deterministically so that requests are
    /// reproducible.
    fn boundary(&self) -> String {
        let mut n: u32 = 0;
        loop {
            let candidate = format!("connector-boundary-{n:08x}");
            let clash = self
                .parts
                .iter()
                .any(|p| contains(&p.data, candidate.as_bytes()));
            if !clash {
                return candidate;
            }
            n += 1;
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Escapes a `Content-Disposition` parameter the way browsers do (WHATWG HTML form encoding):
/// `"`, CR and LF percent-encoded, so a name can never end its quoted string or its line.
fn quoted(s: &str) -> String {
    s.replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The body ready to send.
pub(crate) struct Encoded {
    pub(crate) content_type: HeaderValue,
    pub(crate) body: reqwest::Body,
}

/// Chooses the media type (`chosen`, else a default for the content) and encodes the content.
pub(crate) fn encode(
    op: &OperationDescriptor,
    declared: &BodyDescriptor,
    chosen: Option<&str>,
    content: &Content,
) -> Result<Encoded, Error> {
    let invalid = |reason: String| Error::InvalidParameter {
        operation: op.id.to_string(),
        name: "body".into(),
        reason,
    };
    let media = match chosen {
        Some(chosen) => declared
            .media_types
            .iter()
            .find(|m| essence(m) == essence(chosen))
            .map(|m| m.to_string())
            .ok_or_else(|| {
                invalid(format!(
                    "the operation does not accept {chosen:?}; it accepts {:?}",
                    declared.media_types
                ))
            })?,
        None => default_media(declared, content),
    };
    let kind = kind(&media);
    // A wildcard is what the server accepts, not something a request can be labelled with.
    let label = if media.contains('*') {
        match kind {
            Kind::Json => JSON.to_owned(),
            _ => OCTET_STREAM.to_owned(),
        }
    } else {
        media.clone()
    };
    let mismatch = |what: &str| invalid(format!("{what} cannot be sent as {media:?}"));
    let (label, body): (String, reqwest::Body) = match (content, kind) {
        (Content::Value(value), Kind::Json) => (
            label,
            serde_json::to_vec(value)
                .map_err(|source| Error::Encode { source })?
                .into(),
        ),
        (Content::Value(value), Kind::Form) => (
            label,
            form(value, &declared.encoding).map_err(invalid)?.into(),
        ),
        (Content::Value(value), Kind::Multipart) => {
            let parts = multipart_from_value(value, &declared.encoding).map_err(invalid)?;
            multipart_body(&label, &parts).map_err(invalid)?
        }
        // Text and binary media types take a JSON string as their text (the dynamic interface).
        (Content::Value(Value::String(text)), Kind::Text | Kind::Binary) => {
            (label, text.clone().into_bytes().into())
        }
        (Content::Value(_), _) => return Err(mismatch("a structured value")),
        (Content::Text(text), _) => (label, text.clone().into_bytes().into()),
        (Content::Binary(binary), _) => (label, binary_body(binary).map_err(invalid)?),
        (Content::Multipart(parts), Kind::Multipart) => {
            multipart_body(&label, parts).map_err(invalid)?
        }
        (Content::Multipart(_), _) => return Err(mismatch("a multipart body")),
    };
    let content_type = HeaderValue::from_str(&label)
        .map_err(|_| invalid(format!("{label:?} is not a valid Content-Type")))?;
    Ok(Encoded { content_type, body })
}

/// JSON for structured values when offered, else the first type that suits the content.
fn default_media(declared: &BodyDescriptor, content: &Content) -> String {
    let wanted: &[Kind] = match content {
        Content::Value(Value::String(_)) => &[
            Kind::Json,
            Kind::Text,
            Kind::Binary,
            Kind::Form,
            Kind::Multipart,
        ],
        Content::Value(_) => &[Kind::Json, Kind::Form, Kind::Multipart],
        Content::Text(_) => &[Kind::Text, Kind::Binary],
        Content::Binary(_) => &[Kind::Binary, Kind::Text],
        Content::Multipart(_) => &[Kind::Multipart],
    };
    wanted
        .iter()
        .find_map(|k| declared.media_types.iter().find(|m| kind(m) == *k))
        .or_else(|| declared.media_types.first())
        .map(|m| m.to_string())
        .unwrap_or_else(|| match content {
            Content::Value(_) => JSON.to_owned(),
            Content::Text(_) => "text/plain".to_owned(),
            Content::Binary(_) => OCTET_STREAM.to_owned(),
            Content::Multipart(_) => MULTIPART.to_owned(),
        })
}

fn binary_body(binary: &Binary) -> Result<reqwest::Body, String> {
    match &binary.0 {
        BinaryInner::Bytes(bytes) => Ok(bytes.clone().into()),
        BinaryInner::Stream(slot) => slot
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .ok_or_else(|| "a streamed body can be sent only once".to_owned()),
    }
}

fn multipart_body(media: &str, parts: &Multipart) -> Result<(String, reqwest::Body), String> {
    let (boundary, bytes) = parts.encode()?;
    Ok((format!("{media}; boundary={boundary}"), bytes.into()))
}

fn encoding_of<'e>(encoding: &'e [PropertyEncoding], name: &str) -> Option<&'e PropertyEncoding> {
    encoding.iter().find(|e| e.property == name)
}

fn object<'v>(value: &'v Value, what: &str) -> Result<&'v serde_json::Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("a {what} body must be a JSON object of fields"))
}

/// `application/x-www-form-urlencoded`: each property is a query-style field (OpenAPI: `form`
/// with `explode` by default), or JSON text when its encoding says so.
fn form(value: &Value, encoding: &[PropertyEncoding]) -> Result<Vec<u8>, String> {
    let mut pairs = Vec::new();
    for (name, field) in object(value, "form")? {
        if field.is_null() {
            continue;
        }
        let enc = encoding_of(encoding, name);
        let param = ParamDescriptor {
            name: name.clone().into(),
            location: ParamLocation::Query,
            required: false,
            style: enc.map_or(ParamStyle::Form, |e| e.style),
            explode: enc.is_none_or(|e| e.explode),
            allow_reserved: enc.is_some_and(|e| e.allow_reserved),
            json: false,
        };
        let as_json = enc
            .and_then(|e| e.content_type.as_deref())
            .is_some_and(|ct| kind(ct) == Kind::Json);
        let flat = if as_json {
            Flat::json(field)
        } else {
            Flat::from_value(field)
        };
        pairs.extend(encoding::query_pairs(&param, &flat));
    }
    let joined: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    Ok(joined.join("&").into_bytes())
}

/// `multipart/form-data` from a JSON object: strings, numbers and booleans as `text/plain`
/// parts, arrays of those as one part per item, objects (and anything the encoding marks as
/// JSON) as `application/json` parts, as OpenAPI 3.0 defines the defaults.
fn multipart_from_value(value: &Value, encoding: &[PropertyEncoding]) -> Result<Multipart, String> {
    let mut parts = Multipart::new();
    for (name, field) in object(value, "multipart")? {
        let declared = encoding_of(encoding, name).and_then(|e| e.content_type.as_deref());
        let scalar = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        match (field, declared) {
            (Value::Null, _) => {}
            (_, Some(ct)) if kind(ct) == Kind::Json => {
                let data = serde_json::to_vec(field).map_err(|e| e.to_string())?;
                parts = parts.bytes(name.clone(), ct, data);
            }
            (Value::Array(items), _) if items.iter().all(|i| scalar(i).is_some()) => {
                for item in items.iter().filter_map(scalar) {
                    parts = parts.bytes(name.clone(), declared.unwrap_or("text/plain"), item);
                }
            }
            (other, _) => match scalar(other) {
                Some(text) => {
                    parts = parts.bytes(name.clone(), declared.unwrap_or("text/plain"), text);
                }
                None => {
                    let data = serde_json::to_vec(other).map_err(|e| e.to_string())?;
                    parts = parts.bytes(name.clone(), JSON, data);
                }
            },
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::borrow::Cow;

    #[test]
    fn classifies_media_types() {
        assert_eq!(kind("application/vnd.api+json; charset=utf-8"), Kind::Json);
        assert_eq!(kind("application/x-www-form-urlencoded"), Kind::Form);
        assert_eq!(kind("multipart/form-data"), Kind::Multipart);
        assert_eq!(kind("text/csv"), Kind::Text);
        assert_eq!(kind("application/xml"), Kind::Text);
        assert_eq!(kind("application/atom+xml"), Kind::Text);
        assert_eq!(kind("application/octet-stream"), Kind::Binary);
        assert_eq!(kind("image/png"), Kind::Binary);
    }

    fn enc(property: &str, style: ParamStyle, explode: bool, ct: Option<&str>) -> PropertyEncoding {
        PropertyEncoding {
            property: property.to_owned().into(),
            content_type: ct.map(|c| c.to_owned().into()),
            style,
            explode,
            allow_reserved: false,
        }
    }

    #[test]
    fn form_fields_follow_their_encoding() {
        let value = json!({"name": "a b&c", "tags": ["x", "y"], "ids": [1, 2], "meta": {"k": 1}, "gone": null});
        let encoding = [
            enc("ids", ParamStyle::PipeDelimited, false, None),
            enc("meta", ParamStyle::Form, true, Some("application/json")),
        ];
        let body = String::from_utf8(form(&value, &encoding).unwrap()).unwrap();
        assert_eq!(
            body,
            "name=a%20b%26c&tags=x&tags=y&ids=1%7C2&meta=%7B%22k%22%3A1%7D"
        );
        assert!(form(&json!([1]), &[]).is_err());
    }

    #[test]
    fn multipart_is_well_formed_and_escapes_names() {
        let parts = Multipart::new().text("a\"\r\nX: y", "v").file(
            "f",
            "x.bin",
            "application/octet-stream",
            &b"\x00\x01"[..],
        );
        let (boundary, body) = parts.encode().unwrap();
        let expected = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"a%22%0D%0AX: y\"\r\nContent-Type: text/plain\r\n\r\nv\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\x01\r\n\
             --{boundary}--\r\n"
        );
        assert_eq!(body, expected.as_bytes());
        // A part that contains the first candidate boundary makes the encoder pick another.
        let clash = Multipart::new().text("a", "--connector-boundary-00000000");
        assert_eq!(clash.encode().unwrap().0, "connector-boundary-00000001");
    }

    #[test]
    fn multipart_from_json_uses_openapi_defaults() {
        let value = json!({"title": "t", "n": 3, "tags": ["a", "b"], "meta": {"k": true}});
        let parts = multipart_from_value(&value, &[]).unwrap();
        let summary: Vec<(String, String, Vec<u8>)> = parts
            .parts
            .iter()
            .map(|p| (p.name.clone(), p.content_type.clone(), p.data.to_vec()))
            .collect();
        assert_eq!(
            summary,
            [
                ("title".into(), "text/plain".into(), b"t".to_vec()),
                ("n".into(), "text/plain".into(), b"3".to_vec()),
                ("tags".into(), "text/plain".into(), b"a".to_vec()),
                ("tags".into(), "text/plain".into(), b"b".to_vec()),
                (
                    "meta".into(),
                    "application/json".into(),
                    br#"{"k":true}"#.to_vec()
                ),
            ]
        );
    }

    #[test]
    fn media_type_defaults_and_choice() {
        let declared = BodyDescriptor {
            media_types: Cow::Owned(vec!["application/xml".into(), "application/json".into()]),
            required: true,
            encoding: Cow::Owned(Vec::new()),
        };
        let value = Content::Value(json!({"a": 1}));
        assert_eq!(default_media(&declared, &value), "application/json");
        assert_eq!(
            default_media(&declared, &Content::Text("<a/>".into())),
            "application/xml"
        );
        let op = crate::descriptor::OperationDescriptor {
            id: "op".into(),
            method: crate::descriptor::Method::Post,
            path: "/".into(),
            summary: None,
            params: Cow::Owned(Vec::new()),
            body: None,
            responses: Cow::Owned(Vec::new()),
            security: Cow::Owned(Vec::new()),
            deprecated: false,
            servers: Cow::Owned(Vec::new()),
        };
        let err = encode(&op, &declared, Some("text/csv"), &value).err();
        assert!(
            matches!(err, Some(Error::InvalidParameter { .. })),
            "{err:?}"
        );
        let err = encode(&op, &declared, Some("application/xml"), &value).err();
        assert!(
            matches!(err, Some(Error::InvalidParameter { .. })),
            "{err:?}"
        );
        let stream = Binary::stream(reqwest::Body::from("x"));
        assert!(binary_body(&stream).is_ok());
        assert!(binary_body(&stream).is_err(), "a stream is sent once");
    }
}
