//! Serialisation of parameter values by OpenAPI `style` and `explode`, and percent-encoding.
//!
//! Every function here returns text that is already safe for its place in the request: values
//! can never introduce a delimiter of the surrounding syntax.

use std::borrow::Cow;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};
use serde_json::Value;

use crate::descriptor::{ParamDescriptor, ParamStyle};

/// Everything but RFC 3986 unreserved characters. Encoding `%` is what keeps `%2e%2e` from
/// reaching the server as a dot segment, and encoding `/?#&=+` keeps a value in its segment or
/// query pair.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Label style uses `.` as its delimiter, so a value's own dots must be encoded.
const LABEL: &AsciiSet = &UNRESERVED.add(b'.');

/// `allowReserved` lets reserved characters through, except those that would restructure the
/// query string (`&`, `=`, `#`), be decoded as a space (`+`), or that `http::Uri` rejects (`[]`).
const QUERY_ALLOW_RESERVED: &AsciiSet = &UNRESERVED
    .remove(b':')
    .remove(b'/')
    .remove(b'?')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b',')
    .remove(b';');

/// What RFC 6265 does not allow in a cookie value, plus `%` so that decoding is unambiguous.
const COOKIE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b',')
    .add(b';')
    .add(b'\\')
    .add(b'%');

/// A parameter value reduced to the shapes OpenAPI styles are defined for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Flat {
    /// A string, number or boolean as text.
    Scalar(String),
    /// An array of scalars as text.
    Array(Vec<String>),
    /// An object's properties as text, in the order the JSON map keeps them.
    Object(Vec<(String, String)>),
}

impl Flat {
    /// Reduces a JSON value; nested arrays and objects, which no style defines, become compact
    /// JSON text so that nothing is lost.
    pub(crate) fn from_value(value: &Value) -> Self {
        match value {
            Value::Array(items) => Flat::Array(items.iter().map(text).collect()),
            Value::Object(map) => {
                Flat::Object(map.iter().map(|(k, v)| (k.clone(), text(v))).collect())
            }
            other => Flat::Scalar(text(other)),
        }
    }

    /// The value of a parameter declared with `content` instead of `schema`: the whole value as
    /// compact JSON text, which is then encoded like a string.
    pub(crate) fn json(value: &Value) -> Self {
        Flat::Scalar(value.to_string())
    }

    /// `true` for the empty string, whose form several styles define specially.
    fn is_empty_scalar(&self) -> bool {
        matches!(self, Flat::Scalar(s) if s.is_empty())
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        // The number's own text, as the JSON text of the value would be, without the serializer.
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn encode(set: &'static AsciiSet) -> impl Fn(&str) -> String {
    move |s| Cow::from(utf8_percent_encode(s, set)).into_owned()
}

/// Percent-encodes a query name or value, or any other single URL component.
pub(crate) fn component(s: &str) -> String {
    encode(UNRESERVED)(s)
}

/// One `name=value` cookie pair with both parts encoded.
pub(crate) fn cookie_pair(name: &str, value: &str) -> String {
    let enc = encode(COOKIE);
    format!("{}={}", enc(name), enc(value))
}

/// Joins items, each encoded, with a delimiter that is left as is.
fn join(items: impl IntoIterator<Item = String>, delimiter: &str) -> String {
    items.into_iter().collect::<Vec<_>>().join(delimiter)
}

fn pairs(props: &[(String, String)], enc: &dyn Fn(&str) -> String, kv: &str) -> Vec<String> {
    props
        .iter()
        .map(|(k, v)| format!("{}{kv}{}", enc(k), enc(v)))
        .collect()
}

/// `simple` style with a caller-chosen encoding: `a,b` for arrays, `k,v` or `k=v` for objects.
fn simple(value: &Flat, explode: bool, enc: &dyn Fn(&str) -> String) -> String {
    match value {
        Flat::Scalar(s) => enc(s),
        Flat::Array(items) => join(items.iter().map(|i| enc(i)), ","),
        Flat::Object(props) if explode => pairs(props, enc, "=").join(","),
        Flat::Object(props) => pairs(props, enc, ",").join(","),
    }
}

/// The text substituted for a path parameter's placeholder.
pub(crate) fn path_value(param: &ParamDescriptor, value: &Flat) -> String {
    match param.style {
        ParamStyle::Label => {
            let enc = encode(LABEL);
            let delimiter = if param.explode { "." } else { "," };
            let body = match value {
                // `.` alone is the table's form of an empty value.
                Flat::Scalar(s) => enc(s),
                Flat::Array(items) => join(items.iter().map(|i| enc(i)), delimiter),
                Flat::Object(props) if param.explode => pairs(props, &enc, "=").join("."),
                Flat::Object(props) => pairs(props, &enc, ",").join(","),
            };
            format!(".{body}")
        }
        ParamStyle::Matrix => {
            let name = component(&param.name);
            let enc = encode(UNRESERVED);
            match value {
                // The table writes an empty value as the bare name.
                empty if empty.is_empty_scalar() => format!(";{name}"),
                Flat::Array(items) if param.explode => {
                    join(items.iter().map(|i| format!(";{name}={}", enc(i))), "")
                }
                Flat::Object(props) if param.explode => join(
                    pairs(props, &enc, "=").into_iter().map(|p| format!(";{p}")),
                    "",
                ),
                other => format!(";{name}={}", simple(other, false, &enc)),
            }
        }
        // `simple` is the default, and the only other path style OpenAPI defines is the two
        // above; anything else in a descriptor falls back to it.
        _ => simple(value, param.explode, &encode(UNRESERVED)),
    }
}

/// Appends a string or integer path value of a `simple`-style parameter (the default) to `path`,
/// encoded as [`path_value`] encodes it, without the intermediate texts. `false`, with nothing
/// appended, for any other value or style, and for `""`, `.` and `..`, which the caller refuses.
pub(crate) fn push_simple_scalar(
    path: &mut String,
    param: &ParamDescriptor,
    value: &Value,
) -> bool {
    if param.json || matches!(param.style, ParamStyle::Label | ParamStyle::Matrix) {
        return false;
    }
    match value {
        Value::String(s) if !matches!(s.as_str(), "" | "." | "..") => {
            path.extend(utf8_percent_encode(s, UNRESERVED));
            true
        }
        // Digits and `-` need no encoding.
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            use std::fmt::Write as _;
            write!(path, "{n}").is_ok()
        }
        _ => false,
    }
}

/// The encoded `name=value` pairs of a query parameter.
pub(crate) fn query_pairs(param: &ParamDescriptor, value: &Flat) -> Vec<(String, String)> {
    let name = component(&param.name);
    let enc = encode(if param.allow_reserved {
        QUERY_ALLOW_RESERVED
    } else {
        UNRESERVED
    });
    // Space- and pipe-delimited are defined for arrays and, since OpenAPI 3.1.1 spelled it out,
    // for objects as `k delimiter v delimiter ...`; exploded forms are the same as `form`.
    let delimited = |delimiter: &str| match value {
        Flat::Array(items) if !param.explode => Some(vec![(
            name.clone(),
            join(items.iter().map(|i| enc(i)), delimiter),
        )]),
        Flat::Object(props) if !param.explode => Some(vec![(
            name.clone(),
            join(props.iter().flat_map(|(k, v)| [enc(k), enc(v)]), delimiter),
        )]),
        _ => None,
    };
    let styled = match param.style {
        ParamStyle::SpaceDelimited => delimited("%20"),
        ParamStyle::PipeDelimited => delimited("%7C"),
        ParamStyle::TabDelimited => delimited("%09"),
        ParamStyle::DeepObject => match value {
            Flat::Object(props) => Some(
                props
                    .iter()
                    .map(|(k, v)| (component(&format!("{}[{k}]", param.name)), enc(v)))
                    .collect(),
            ),
            _ => None,
        },
        _ => None,
    };
    // `form` is the default; combinations OpenAPI leaves undefined fall back to it.
    styled.unwrap_or_else(|| match value {
        Flat::Scalar(s) => vec![(name, enc(s))],
        Flat::Array(items) if param.explode => {
            items.iter().map(|i| (name.clone(), enc(i))).collect()
        }
        Flat::Object(props) if param.explode => {
            props.iter().map(|(k, v)| (enc(k), enc(v))).collect()
        }
        other => vec![(name, simple(other, false, &enc))],
    })
}

/// The raw (not percent-encoded) value of a header parameter; the caller checks it is a valid
/// header value.
pub(crate) fn header_value(param: &ParamDescriptor, value: &Flat) -> String {
    // Only `simple` is defined for headers.
    simple(value, param.explode, &|s: &str| s.to_owned())
}

/// The encoded `name=value` pairs a cookie parameter adds to the `Cookie` header.
pub(crate) fn cookie_pairs(param: &ParamDescriptor, value: &Flat) -> Vec<String> {
    // Only `form` is defined for cookies.
    let enc = encode(COOKIE);
    match value {
        Flat::Array(items) if param.explode => {
            items.iter().map(|i| cookie_pair(&param.name, i)).collect()
        }
        Flat::Object(props) if param.explode => {
            props.iter().map(|(k, v)| cookie_pair(k, v)).collect()
        }
        other => vec![format!(
            "{}={}",
            enc(&param.name),
            simple(other, false, &enc)
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::ParamLocation;
    use serde_json::json;

    #[test]
    fn simple_scalars_are_appended_as_path_value_encodes_them() {
        for style in [ParamStyle::Simple, ParamStyle::Form] {
            let p = param(ParamLocation::Path, style, false);
            for value in [
                json!("a b/ü%"),
                json!("../admin?x=1#f"),
                json!("%2e%2e"),
                json!(7),
                json!(-12),
                json!(u64::MAX),
            ] {
                let mut path = "/x/".to_owned();
                assert!(push_simple_scalar(&mut path, &p, &value), "{value}");
                let expected = path_value(&p, &Flat::from_value(&value));
                assert_eq!(path, format!("/x/{expected}"));
            }
            for value in [
                json!(""),
                json!("."),
                json!(".."),
                json!(1.5),
                json!(true),
                json!([1]),
            ] {
                let mut path = String::new();
                assert!(!push_simple_scalar(&mut path, &p, &value), "{value}");
                assert!(path.is_empty());
            }
        }
        let label = param(ParamLocation::Path, ParamStyle::Label, false);
        assert!(!push_simple_scalar(&mut String::new(), &label, &json!("a")));
    }

    #[test]
    fn numbers_read_as_their_json_text() {
        for value in [
            json!(0),
            json!(-7),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(0.1),
            json!(-0.0),
            json!(1e300),
            json!(1.0),
            json!(2.5e-8),
        ] {
            assert_eq!(text(&value), value.to_string());
        }
    }

    fn param(location: ParamLocation, style: ParamStyle, explode: bool) -> ParamDescriptor {
        ParamDescriptor {
            name: "id".into(),
            location,
            required: true,
            style,
            explode,
            allow_reserved: false,
            json: false,
        }
    }

    fn path(style: ParamStyle, explode: bool, value: serde_json::Value) -> String {
        let p = param(ParamLocation::Path, style, explode);
        path_value(&p, &Flat::from_value(&value))
    }

    fn query(style: ParamStyle, explode: bool, value: serde_json::Value) -> Vec<String> {
        let p = param(ParamLocation::Query, style, explode);
        query_pairs(&p, &Flat::from_value(&value))
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }

    #[test]
    fn path_simple() {
        use ParamStyle::Simple;
        assert_eq!(
            path(Simple, false, json!("../admin?x=1#f")),
            "..%2Fadmin%3Fx%3D1%23f"
        );
        assert_eq!(path(Simple, false, json!("a b/ü%")), "a%20b%2F%C3%BC%25");
        assert_eq!(path(Simple, false, json!("%2e%2e")), "%252e%252e");
        assert_eq!(path(Simple, false, json!(42)), "42");
        assert_eq!(path(Simple, false, json!(true)), "true");
        assert_eq!(path(Simple, false, json!(["a,b", "c"])), "a%2Cb,c");
        assert_eq!(path(Simple, false, json!({"k": "v", "x": 1})), "k,v,x,1");
        assert_eq!(path(Simple, true, json!({"k": "v", "x": 1})), "k=v,x=1");
    }

    #[test]
    fn path_label_and_matrix() {
        assert_eq!(path(ParamStyle::Label, false, json!("a.b")), ".a%2Eb");
        assert_eq!(path(ParamStyle::Label, true, json!(["a", "b"])), ".a.b");
        assert_eq!(path(ParamStyle::Matrix, false, json!("v")), ";id=v");
        assert_eq!(
            path(ParamStyle::Matrix, true, json!(["a", "b"])),
            ";id=a;id=b"
        );
        assert_eq!(
            path(ParamStyle::Matrix, false, json!(["a", "b"])),
            ";id=a,b"
        );
    }

    #[test]
    fn query_form() {
        use ParamStyle::Form;
        assert_eq!(
            query(Form, true, json!("a&admin=true")),
            ["id=a%26admin%3Dtrue"]
        );
        assert_eq!(query(Form, true, json!(["a", "b"])), ["id=a", "id=b"]);
        assert_eq!(query(Form, false, json!(["a", "b"])), ["id=a,b"]);
        assert_eq!(query(Form, true, json!({"k": "v w"})), ["k=v%20w"]);
        assert_eq!(query(Form, false, json!({"k": "v"})), ["id=k,v"]);
    }

    #[test]
    fn query_other_styles() {
        assert_eq!(
            query(ParamStyle::PipeDelimited, false, json!(["a", "b"])),
            ["id=a%7Cb"]
        );
        assert_eq!(
            query(ParamStyle::SpaceDelimited, false, json!(["a", "b"])),
            ["id=a%20b"]
        );
        assert_eq!(
            query(ParamStyle::TabDelimited, false, json!(["a", "b"])),
            ["id=a%09b"]
        );
        assert_eq!(
            query(ParamStyle::DeepObject, true, json!({"k": "v"})),
            ["id%5Bk%5D=v"]
        );
    }

    #[test]
    fn allow_reserved_still_protects_query_structure() {
        let mut p = param(ParamLocation::Query, ParamStyle::Form, true);
        p.allow_reserved = true;
        let pairs = query_pairs(&p, &Flat::Scalar("a/b:c&d=e#f+g".into()));
        assert_eq!(
            pairs,
            [("id".to_owned(), "a/b:c%26d%3De%23f%2Bg".to_owned())]
        );
    }

    #[test]
    fn header_and_cookie() {
        let h = param(ParamLocation::Header, ParamStyle::Simple, false);
        assert_eq!(
            header_value(&h, &Flat::from_value(&json!(["a", "b"]))),
            "a,b"
        );
        let c = param(ParamLocation::Cookie, ParamStyle::Form, true);
        assert_eq!(
            cookie_pairs(&c, &Flat::Scalar("a; b=1".into())),
            ["id=a%3B%20b=1"]
        );
    }

    /// The style examples table of the OpenAPI specification (3.0.3, with the corrections of
    /// 3.1.1: label without explode joins with `,`, and delimited styles keep `name=`), for
    /// `color` = `""`, `"blue"`, `["blue","black","brown"]` and `{"R":100,"G":200,"B":150}`.
    /// Characters the table prints raw but RFC 3986 does not allow in a query (`|`, `[`, `]`,
    /// space) are expected percent-encoded; everything else is compared byte for byte.
    mod spec_table {
        use super::*;

        const N: &str = "";

        fn values() -> [serde_json::Value; 4] {
            [
                json!(""),
                json!("blue"),
                json!(["blue", "black", "brown"]),
                json!({"R": 100, "G": 200, "B": 150}),
            ]
        }

        fn color(location: ParamLocation, style: ParamStyle, explode: bool) -> ParamDescriptor {
            ParamDescriptor {
                name: "color".into(),
                ..param(location, style, explode)
            }
        }

        /// Checks one row; `N` marks a cell the table leaves undefined (`n/a`).
        fn row(
            encode: impl Fn(&ParamDescriptor, &Flat) -> String,
            p: ParamDescriptor,
            expected: [&str; 4],
        ) {
            for (value, expected) in values().iter().zip(expected) {
                if expected != N || value == &json!("") {
                    let got = encode(&p, &Flat::from_value(value));
                    if expected != N {
                        assert_eq!(got, expected, "{:?} explode={} {value}", p.style, p.explode);
                    }
                }
            }
        }

        fn path_row(style: ParamStyle, explode: bool, expected: [&str; 4]) {
            row(
                path_value,
                color(ParamLocation::Path, style, explode),
                expected,
            );
        }

        fn query_row(style: ParamStyle, explode: bool, expected: [&str; 4]) {
            let joined = |p: &ParamDescriptor, v: &Flat| {
                query_pairs(p, v)
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            };
            row(
                joined,
                color(ParamLocation::Query, style, explode),
                expected,
            );
        }

        #[test]
        fn matrix() {
            use ParamStyle::Matrix;
            path_row(
                Matrix,
                false,
                [
                    ";color",
                    ";color=blue",
                    ";color=blue,black,brown",
                    ";color=R,100,G,200,B,150",
                ],
            );
            path_row(
                Matrix,
                true,
                [
                    ";color",
                    ";color=blue",
                    ";color=blue;color=black;color=brown",
                    ";R=100;G=200;B=150",
                ],
            );
        }

        #[test]
        fn label() {
            use ParamStyle::Label;
            path_row(
                Label,
                false,
                [".", ".blue", ".blue,black,brown", ".R,100,G,200,B,150"],
            );
            path_row(
                Label,
                true,
                [".", ".blue", ".blue.black.brown", ".R=100.G=200.B=150"],
            );
        }

        #[test]
        fn simple_in_path_and_header() {
            use ParamStyle::Simple;
            path_row(
                Simple,
                false,
                [N, "blue", "blue,black,brown", "R,100,G,200,B,150"],
            );
            path_row(
                Simple,
                true,
                [N, "blue", "blue,black,brown", "R=100,G=200,B=150"],
            );
            let header = |explode, expected| {
                row(
                    header_value,
                    color(ParamLocation::Header, Simple, explode),
                    expected,
                )
            };
            header(false, [N, "blue", "blue,black,brown", "R,100,G,200,B,150"]);
            header(true, [N, "blue", "blue,black,brown", "R=100,G=200,B=150"]);
        }

        #[test]
        fn form() {
            use ParamStyle::Form;
            query_row(
                Form,
                false,
                [
                    "color=",
                    "color=blue",
                    "color=blue,black,brown",
                    "color=R,100,G,200,B,150",
                ],
            );
            query_row(
                Form,
                true,
                [
                    "color=",
                    "color=blue",
                    "color=blue&color=black&color=brown",
                    "R=100&G=200&B=150",
                ],
            );
        }

        #[test]
        fn delimited_and_deep_object() {
            query_row(
                ParamStyle::SpaceDelimited,
                false,
                [
                    N,
                    N,
                    "color=blue%20black%20brown",
                    "color=R%20100%20G%20200%20B%20150",
                ],
            );
            query_row(
                ParamStyle::PipeDelimited,
                false,
                [
                    N,
                    N,
                    "color=blue%7Cblack%7Cbrown",
                    "color=R%7C100%7CG%7C200%7CB%7C150",
                ],
            );
            // Exploded delimited styles are defined to be the same as exploded `form`.
            query_row(
                ParamStyle::SpaceDelimited,
                true,
                [N, N, "color=blue&color=black&color=brown", N],
            );
            query_row(
                ParamStyle::PipeDelimited,
                true,
                [N, N, "color=blue&color=black&color=brown", N],
            );
            query_row(
                ParamStyle::DeepObject,
                true,
                [
                    N,
                    N,
                    N,
                    "color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150",
                ],
            );
        }

        #[test]
        fn cookie_form() {
            let cookie = |explode, expected| {
                let joined = |p: &ParamDescriptor, v: &Flat| cookie_pairs(p, v).join("; ");
                row(
                    joined,
                    color(ParamLocation::Cookie, ParamStyle::Form, explode),
                    expected,
                )
            };
            cookie(
                false,
                [
                    "color=",
                    "color=blue",
                    "color=blue,black,brown",
                    "color=R,100,G,200,B,150",
                ],
            );
            // Exploded, each item or property is a cookie of its own: `&` has no meaning in a
            // `Cookie` header, whose pairs are separated by `; `.
            cookie(
                true,
                [
                    "color=",
                    "color=blue",
                    "color=blue; color=black; color=brown",
                    "R=100; G=200; B=150",
                ],
            );
        }

        #[test]
        fn allow_reserved_keeps_reserved_characters_that_cannot_restructure_the_query() {
            let mut p = color(ParamLocation::Query, ParamStyle::Form, true);
            p.allow_reserved = true;
            let pairs = query_pairs(&p, &Flat::Scalar("/a:b@c!$'()*,;?".into()));
            assert_eq!(pairs, [("color".to_owned(), "/a:b@c!$'()*,;?".to_owned())]);
        }

        #[test]
        fn json_content_parameters_are_json_text() {
            let value = json!({"a": [1, "x y"]});
            let p = color(ParamLocation::Query, ParamStyle::Form, true);
            assert_eq!(
                query_pairs(&p, &Flat::json(&value)),
                [(
                    "color".to_owned(),
                    "%7B%22a%22%3A%5B1%2C%22x%20y%22%5D%7D".to_owned()
                )]
            );
            let h = color(ParamLocation::Header, ParamStyle::Simple, false);
            assert_eq!(header_value(&h, &Flat::json(&value)), r#"{"a":[1,"x y"]}"#);
        }
    }
}
