//! Where a listing's records are and how its pages follow each other: declared with
//! `x-connector-pagination`, `x-speakeasy-pagination` or `x-ms-pageable`, else detected from
//! parameter, property and header names when exactly one style fits.

use serde_json::Value;

use super::shapes::{self, Shape};
use crate::diagnostics::Diagnostics;
use crate::ir::{Connector, Location, Method, Operation, PageStyle, Pagination, Paging, Success};

/// Names of array properties that hold a page's records, most likely first.
const RECORD_NAMES: &[&str] = &[
    "items", "data", "results", "values", "value", "records", "entries", "elements", "list",
];
/// Query parameters that take a cursor.
const CURSOR_PARAMS: &[&str] = &[
    "cursor",
    "after",
    "page_token",
    "pageToken",
    "next_token",
    "nextToken",
    "starting_after",
    "continuation_token",
    "continuationToken",
    "page_cursor",
    "marker",
];
/// Body properties that carry the next cursor.
const CURSOR_FIELDS: &[&str] = &[
    "next_cursor",
    "nextCursor",
    "next_page_token",
    "nextPageToken",
    "next_token",
    "nextToken",
    "end_cursor",
    "endCursor",
    "continuation_token",
    "continuationToken",
    "next_marker",
    "nextMarker",
    "cursor",
    "next",
];
/// Body properties that carry the next page's URL.
const NEXT_URL_FIELDS: &[&str] = &[
    "next_url",
    "nextUrl",
    "nextLink",
    "next_link",
    "@odata.nextLink",
    "next_page_url",
    "nextPageUrl",
];
/// Query parameters that take a page number.
const PAGE_PARAMS: &[&str] = &["page", "page_number", "pageNumber", "page_num"];
/// Query parameters that take a record offset.
const OFFSET_PARAMS: &[&str] = &["offset", "skip", "start"];
/// Query parameters that set the page size.
const SIZE_PARAMS: &[&str] = &[
    "limit",
    "per_page",
    "perPage",
    "page_size",
    "pageSize",
    "size",
    "count",
    "max_results",
    "maxResults",
    "$top",
    "top",
];
/// Objects in the body where paging fields are often kept.
const META_FIELDS: &[&str] = &[
    "meta",
    "pagination",
    "paging",
    "links",
    "_links",
    "response_metadata",
    "page_info",
    "pageInfo",
];

/// The paging of `op`, when it is a GET whose JSON response holds records; `Err` carries why not.
pub(crate) fn paging_of(
    connector: &Connector,
    op: &Operation,
    raw: Option<&Value>,
    diags: &mut Diagnostics,
) -> Result<Paging, String> {
    if op.method != Method::Get {
        return Err("not a GET".into());
    }
    let Success::Json(ty) = &op.success else {
        return Err("its success response is not one JSON type".into());
    };
    let body = shapes::shape(connector, ty);
    let declared = raw.and_then(|raw| declared(raw, &op.pointer, diags));
    if let Some(paging) = declared {
        return Ok(paging);
    }
    let records = records_of(connector, &body).ok_or("its response holds no array of records")?;
    let pagination = detect(connector, op, &body);
    Ok(Paging {
        records,
        pagination,
    })
}

/// Where the records are: the body itself when it is an array, else its one array property (or
/// the one with a usual name).
fn records_of(connector: &Connector, body: &Shape) -> Option<Vec<String>> {
    match body {
        Shape::List(_) => Some(Vec::new()),
        Shape::Object(fields) => {
            let arrays: Vec<&str> = fields
                .iter()
                .filter(|f| matches!(shapes::shape(connector, &f.ty), Shape::List(_)))
                .map(|f| f.wire_name.as_str())
                .collect();
            let chosen = match arrays.as_slice() {
                [one] => Some(*one),
                _ => RECORD_NAMES
                    .iter()
                    .find(|name| arrays.contains(name))
                    .copied(),
            };
            chosen.map(|name| vec![name.to_owned()])
        }
        _ => None,
    }
}

/// Detects the style from names, when exactly one fits.
fn detect(connector: &Connector, op: &Operation, body: &Shape) -> Option<Pagination> {
    let query: Vec<&str> = op
        .params
        .iter()
        .filter(|p| p.location == Location::Query)
        .map(|p| p.wire_name.as_str())
        .collect();
    let find_param =
        |names: &'static [&'static str]| names.iter().find(|n| query.contains(n)).copied();
    let size_param = find_param(SIZE_PARAMS).map(str::to_owned);
    let with_size = |style| {
        Some(Pagination {
            style,
            size_param: size_param.clone(),
        })
    };
    let link_header = op.responses.iter().any(|r| {
        matches!(r.status, crate::ir::StatusMatch::Code(200..=299))
            && r.headers.iter().any(|h| h.eq_ignore_ascii_case("link"))
    });
    if link_header {
        return with_size(PageStyle::LinkHeader);
    }
    let cursor = find_param(CURSOR_PARAMS);
    let page = find_param(PAGE_PARAMS);
    let offset = find_param(OFFSET_PARAMS);
    if [cursor, page, offset].iter().flatten().count() > 1 {
        return None;
    }
    if let Some(param) = cursor {
        let next = body_field(connector, body, CURSOR_FIELDS, |_| true)?;
        return with_size(PageStyle::Cursor {
            param: param.to_owned(),
            next,
        });
    }
    if let Some(param) = page {
        return with_size(PageStyle::Page {
            param: param.to_owned(),
            first: 1,
        });
    }
    if let Some(param) = offset {
        return with_size(PageStyle::Offset {
            param: param.to_owned(),
        });
    }
    let next = body_field(connector, body, NEXT_URL_FIELDS, |_| true).or_else(|| {
        // A bare `next` is a URL only when the schema says so.
        body_field(connector, body, &["next"], |format| {
            matches!(format, Some("uri" | "url" | "uri-reference"))
        })
    })?;
    with_size(PageStyle::NextUrl { next })
}

/// The path of a string property named one of `names`, at the top of the body or one object
/// down (`meta.next_cursor`).
fn body_field(
    connector: &Connector,
    body: &Shape,
    names: &[&str],
    format_ok: impl Fn(Option<&str>) -> bool,
) -> Option<Vec<String>> {
    let Shape::Object(fields) = body else {
        return None;
    };
    let string_named = |fields: &[crate::ir::Field], name: &str| {
        fields.iter().any(|f| {
            f.wire_name == name
                && matches!(shapes::shape(connector, &f.ty), Shape::String)
                && format_ok(f.facts.format.as_deref())
        })
    };
    for name in names {
        if string_named(fields, name) {
            return Some(vec![(*name).to_owned()]);
        }
    }
    for meta in fields
        .iter()
        .filter(|f| META_FIELDS.contains(&f.wire_name.as_str()))
    {
        if let Shape::Object(inner) = shapes::shape(connector, &meta.ty) {
            for name in names {
                if string_named(&inner, name) {
                    return Some(vec![meta.wire_name.clone(), (*name).to_owned()]);
                }
            }
        }
    }
    None
}

/// Paging declared on the operation by one of the extensions this project reads.
fn declared(raw: &Value, at: &str, diags: &mut Diagnostics) -> Option<Paging> {
    if let Some(ext) = raw.get("x-connector-pagination") {
        let at = format!("{at}/x-connector-pagination");
        return match connector_pagination(ext) {
            Ok(paging) => Some(paging),
            Err(problem) => {
                diags.warn(at, format!("x-connector-pagination is ignored: {problem}"));
                None
            }
        };
    }
    if let Some(ext) = raw.get("x-speakeasy-pagination") {
        let at = format!("{at}/x-speakeasy-pagination");
        return match speakeasy(ext) {
            Ok(paging) => Some(paging),
            Err(problem) => {
                diags.warn(at, format!("x-speakeasy-pagination is ignored: {problem}"));
                None
            }
        };
    }
    let ms = raw.get("x-ms-pageable")?;
    let item = ms
        .get("itemName")
        .and_then(Value::as_str)
        .unwrap_or("value");
    let next = ms.get("nextLinkName").and_then(Value::as_str);
    Some(Paging {
        records: vec![item.to_owned()],
        pagination: next.map(|next| Pagination {
            style: PageStyle::NextUrl {
                next: vec![next.to_owned()],
            },
            size_param: None,
        }),
    })
}

/// `x-connector-pagination: {style, param, next, records, size_param, first}`; paths are dotted.
fn connector_pagination(ext: &Value) -> Result<Paging, String> {
    let text = |key: &str| ext.get(key).and_then(Value::as_str);
    let required = |key: &str| text(key).ok_or(format!("`{key}` (a string) is required"));
    let records = text("records").map(dotted).unwrap_or_default();
    let style = match required("style")? {
        "none" => None,
        "link_header" => Some(PageStyle::LinkHeader),
        "next_url" => Some(PageStyle::NextUrl {
            next: dotted(required("next")?),
        }),
        "cursor" => Some(PageStyle::Cursor {
            param: required("param")?.to_owned(),
            next: dotted(required("next")?),
        }),
        "page" => Some(PageStyle::Page {
            param: required("param")?.to_owned(),
            first: ext.get("first").and_then(Value::as_u64).unwrap_or(1),
        }),
        "offset" => Some(PageStyle::Offset {
            param: required("param")?.to_owned(),
        }),
        other => {
            return Err(format!(
                "unknown style `{other}` (link_header, next_url, cursor, page, offset or none)"
            ))
        }
    };
    Ok(Paging {
        records,
        pagination: style.map(|style| Pagination {
            style,
            size_param: text("size_param").map(str::to_owned),
        }),
    })
}

/// Speakeasy's `{type: offsetLimit|cursor|url, inputs: [{name, in, type}], outputs: {...}}`.
fn speakeasy(ext: &Value) -> Result<Paging, String> {
    let kind = ext.get("type").and_then(Value::as_str).ok_or("no `type`")?;
    let inputs: Vec<(&str, &str)> = ext
        .get("inputs")
        .and_then(Value::as_array)
        .map(|inputs| {
            inputs
                .iter()
                .filter(|i| i.get("in").and_then(Value::as_str) == Some("parameters"))
                .filter_map(|i| Some((i.get("type")?.as_str()?, i.get("name")?.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    let input = |role: &str| inputs.iter().find(|(r, _)| *r == role).map(|(_, n)| *n);
    let output = |key: &str| {
        ext.pointer(&format!("/outputs/{key}"))
            .and_then(Value::as_str)
            .map(json_path)
            .transpose()
    };
    let records = output("results")?.unwrap_or_default();
    let style = match kind {
        "offsetLimit" => match (input("page"), input("offset")) {
            (Some(page), _) => PageStyle::Page {
                param: page.to_owned(),
                first: 1,
            },
            (None, Some(offset)) => PageStyle::Offset {
                param: offset.to_owned(),
            },
            (None, None) => return Err("offsetLimit needs a `page` or `offset` input".into()),
        },
        "cursor" => PageStyle::Cursor {
            param: input("cursor")
                .ok_or("cursor needs a `cursor` input")?
                .to_owned(),
            next: output("nextCursor")?.ok_or("cursor needs `outputs.nextCursor`")?,
        },
        "url" => PageStyle::NextUrl {
            next: output("nextUrl")?.ok_or("url needs `outputs.nextUrl`")?,
        },
        other => return Err(format!("unknown type `{other}`")),
    };
    Ok(Paging {
        records,
        pagination: Some(Pagination {
            style,
            size_param: input("limit").map(str::to_owned),
        }),
    })
}

fn dotted(path: &str) -> Vec<String> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A JSONPath of plain member names (`$.meta.next`); anything more is not supported.
fn json_path(path: &str) -> Result<Vec<String>, String> {
    let rest = path
        .strip_prefix('$')
        .ok_or(format!("`{path}` is not a JSONPath starting with `$`"))?;
    if rest.contains(['[', '*', '?']) {
        return Err(format!(
            "`{path}`: only paths of member names (`$.a.b`) are supported"
        ));
    }
    Ok(dotted(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn speakeasy_cursor_maps_to_cursor_style() {
        let ext = json!({
            "type": "cursor",
            "inputs": [{"name": "after", "in": "parameters", "type": "cursor"},
                       {"name": "limit", "in": "parameters", "type": "limit"}],
            "outputs": {"nextCursor": "$.meta.next", "results": "$.data"}
        });
        let paging = speakeasy(&ext).unwrap();
        assert_eq!(paging.records, vec!["data"]);
        let pagination = paging.pagination.unwrap();
        assert_eq!(pagination.size_param.as_deref(), Some("limit"));
        assert_eq!(
            pagination.style,
            PageStyle::Cursor {
                param: "after".into(),
                next: vec!["meta".into(), "next".into()]
            }
        );
    }

    #[test]
    fn unsupported_json_paths_and_styles_are_reported() {
        let filter = json!({"type": "url", "outputs": {"nextUrl": "$.links[0].href"}});
        assert!(speakeasy(&filter).unwrap_err().contains("member names"));
        assert!(connector_pagination(&json!({"style": "sideways"}))
            .unwrap_err()
            .contains("unknown style"));
        assert!(
            connector_pagination(&json!({"style": "cursor", "param": "c"}))
                .unwrap_err()
                .contains("`next`")
        );
    }

    #[test]
    fn ms_pageable_without_next_link_is_one_page() {
        let mut diags = Diagnostics::default();
        let raw = json!({"x-ms-pageable": {"nextLinkName": null}});
        let paging = declared(&raw, "#/x", &mut diags).unwrap();
        assert_eq!(paging.records, vec!["value"]);
        assert!(paging.pagination.is_none());
    }
}
