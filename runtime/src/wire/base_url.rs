//! Request URLs parsed against a base URL parsed once.
//!
//! Parsing a request URL is mostly parsing its scheme and host (with the host's IDNA mapping),
//! and every request of a connection repeats the same ones. The base URL is parsed once; each
//! request URL is then the base's path and the request's path and query, read relative to it.
//! The result is the URL `Url::parse` gives for the whole text; where that cannot be shown from
//! the text alone, the whole text is parsed.

use std::str::FromStr;
use std::sync::RwLock;

use reqwest::Url;

/// Why a URL could not be parsed (the `url` crate's error, which reqwest does not re-export).
pub(crate) type ParseError = <Url as FromStr>::Err;

/// Most base URLs kept per connection: its own and those of operations with servers of their
/// own are few; beyond this many, the others are parsed whole each time.
const MOST: usize = 16;

/// The base URLs a connection has parsed so far.
#[derive(Default)]
pub(crate) struct BaseUrls {
    known: RwLock<Vec<Base>>,
}

struct Base {
    text: String,
    /// The parsed base and the length of its text up to its path, when the text is exactly what
    /// parsing it gives up to there, so that what follows can be read relative to it.
    parsed: Option<(Url, usize)>,
}

impl BaseUrls {
    /// Parses `url`, which starts with `base`: the same URL as `Url::parse(url)`.
    pub(crate) fn parse(&self, base: &str, url: &str) -> Result<Url, ParseError> {
        if url.starts_with(base) {
            let joined = match self.lookup(base, url) {
                Some(joined) => joined,
                None => {
                    self.remember(base);
                    self.lookup(base, url).flatten()
                }
            };
            if let Some(joined) = joined {
                return joined;
            }
        }
        Url::parse(url)
    }

    /// `None` when `base` has not been parsed yet; else the URL read relative to it, when that
    /// gives the same URL as parsing it whole.
    fn lookup(&self, base: &str, url: &str) -> Option<Option<Result<Url, ParseError>>> {
        let known = self.known.read().unwrap_or_else(|e| e.into_inner());
        let found = known.iter().find(|b| b.text == base)?;
        Some(found.join(url))
    }

    fn remember(&self, base: &str) {
        let parsed = Url::parse(base).ok().and_then(|url| {
            if url.query().is_some() || url.fragment().is_some() {
                return None;
            }
            let authority = url.as_str().len() - url.path().len();
            let canonical = base.starts_with(&url.as_str()[..authority]);
            canonical.then_some((url, authority))
        });
        let mut known = self.known.write().unwrap_or_else(|e| e.into_inner());
        if known.len() < MOST && !known.iter().any(|b| b.text == base) {
            known.push(Base {
                text: base.to_owned(),
                parsed,
            });
        }
    }
}

impl Base {
    /// `url` (which starts with this base's text) read relative to the parsed base: its path
    /// and query are parsed exactly as when the whole text is, the scheme and authority are
    /// the base's. `None` when the text after the authority would not be read as a path.
    fn join(&self, url: &str) -> Option<Result<Url, ParseError>> {
        let (parsed, authority) = self.parsed.as_ref()?;
        let rest = url.get(*authority..)?;
        // Two slashes (or backslashes, which http and https read as slashes) would start
        // another authority; tabs and line breaks between them are dropped by the parser.
        let mut chars = rest.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r'));
        let path = chars.next() == Some('/') && !matches!(chars.next(), Some('/' | '\\'));
        path.then(|| parsed.join(rest))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const BASES: &[&str] = &[
        "http://127.0.0.1:8080",
        "https://api.example.com/v1",
        "https://api.example.com/v1/",
        "https://API.Example.com:443/v1",
        "http://[::1]:9/a%20b",
        "https://xn--bcher-kva.example/x/y",
        "https://bücher.example",
        "http://h/a/..",
        "http://h/./v1",
        "https://h/p?x=1",
        "https://h/p#f",
        "http://h:80",
        "https://user@h/p",
        "not a url",
    ];

    fn same(base: &str, url: &str) {
        let fast = BaseUrls::default();
        // Twice: once parsing the base, once reusing it.
        for _ in 0..2 {
            let joined = fast.parse(base, url).map(String::from);
            let whole = Url::parse(url).map(String::from);
            assert_eq!(joined, whole, "base {base:?}, url {url:?}");
        }
    }

    #[test]
    fn request_urls_are_parsed_as_a_whole_text_would_be() {
        for base in BASES {
            for rest in [
                "/pets/7",
                "/pets/a%20b?limit=5&q=%26",
                "//evil.example/x",
                "/\\evil.example/x",
                "/a/../../b",
                "/a/%2e%2e/b",
                "/a b/ü?x y#frag",
                "/a\tb\n/c ",
                "/\t\\evil.example",
                "/\n/evil.example",
                "\t//evil.example",
                "\u{c}/x",
                "",
                "?q=1",
                "pets",
            ] {
                same(base, &format!("{base}{rest}"));
            }
        }
    }

    #[test]
    fn canonical_bases_are_reused_and_others_parsed_whole() {
        let bases = BaseUrls::default();
        let reused = |base: &str, rest: &str| {
            bases.remember(base);
            matches!(
                bases.lookup(base, &format!("{base}{rest}")),
                Some(Some(Ok(_)))
            )
        };
        assert!(reused("http://127.0.0.1:8080", "/pets/7"));
        assert!(reused("https://api.example.com/v1", "/pets?limit=5"));
        assert!(!reused("https://api.example.com", "//evil.example/x"));
        assert!(!reused("https://API.Example.com/v1", "/pets"));
        assert!(!reused("https://h/p?x=1", "/pets"));
    }

    #[test]
    fn a_base_is_parsed_once_and_kept() {
        let bases = BaseUrls::default();
        bases
            .parse("https://a.example", "https://a.example/x")
            .unwrap();
        bases
            .parse("https://a.example", "https://a.example/y")
            .unwrap();
        assert_eq!(bases.known.read().unwrap().len(), 1);
        for i in 0..2 * MOST {
            let base = format!("https://h{i}.example");
            bases.parse(&base, &format!("{base}/x")).unwrap();
        }
        assert_eq!(bases.known.read().unwrap().len(), MOST);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

        #[test]
        fn any_request_url_is_parsed_as_a_whole_text_would_be(
            base in proptest::sample::select(BASES),
            rest in "[/\\\\?#%.a-zA-Z0-9 \t\r\n\u{0}\u{c}\u{e9}\u{1F600}:@\\[\\]-]{0,24}",
        ) {
            same(base, &format!("{base}{rest}"));
        }

        /// Short texts of the characters that decide where a path starts.
        #[test]
        fn path_starts_are_read_as_a_whole_text_would_be(
            base in proptest::sample::select(BASES),
            rest in "[/\\\\\t\n\r ?#.a]{0,6}",
        ) {
            same(base, &format!("{base}{rest}"));
        }
    }
}
