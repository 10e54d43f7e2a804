//! Naming: the one place where spec names become Rust identifiers.
//!
//! Every identifier in generated code comes from here, so that keywords, names that start with a
//! digit, names made of symbols or non-ASCII letters, and collisions are handled the same way
//! everywhere. Output is deterministic: the same inputs in the same order give the same names.

use std::cell::RefCell;
use std::collections::BTreeSet;

use crate::hashing::FastMap;

/// Names of the Rust prelude (types, traits, and the `Some`/`None`/`Ok`/`Err` constructors) and
/// `Self`: generated modules use them unqualified, so a schema may not shadow them. A tuple struct
/// named `Some` would even replace the constructor in patterns.
const RESERVED_TYPES: &[&str] = &[
    "AsMut",
    "AsRef",
    "Box",
    "Clone",
    "Copy",
    "Default",
    "DoubleEndedIterator",
    "Drop",
    "Eq",
    "Err",
    "ExactSizeIterator",
    "Extend",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "FromIterator",
    "Into",
    "IntoIterator",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Self",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "TryFrom",
    "TryInto",
    "Unpin",
    "Vec",
];

/// Splits a spec name into ASCII words. Non-ASCII characters become `U<hex>` words so that names
/// in other scripts (or made of emoji) stay distinct instead of collapsing to nothing.
fn ascii_words(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !c.is_ascii() {
            out.push_str(&format!(" U{:x} ", u32::from(c)));
        } else {
            out.push(' ');
        }
    }
    out
}

/// The case conversions whose results are remembered, each an index into [`CONVERTED`].
#[derive(Clone, Copy)]
enum Case {
    UpperCamel = 0,
    Snake = 1,
}

/// Entries a thread remembers per case before it starts again: bounds the memory of a
/// long-lived process.
const REMEMBERED: usize = 1 << 16;

/// A spec name and what it converted to.
type Conversions = FastMap<Box<str>, Box<str>>;

thread_local! {
    /// Case conversions already made on this thread. The same property names (`id`, `url`,
    /// `created_at`) come back in nearly every schema of a large API, and converting names with
    /// heck was a twentieth of GitHub's generation.
    static CONVERTED: RefCell<[Conversions; 2]> = RefCell::default();
}

/// `words` (ASCII letters, digits and separators, as [`ascii_words`] makes them) in `case`,
/// split into words by heck's rules: at a separator, before a capital that follows a lowercase
/// letter, and before the last capital of a run of capitals followed by a lowercase letter.
/// heck does the same for any Unicode text a character at a time through `fmt`, which cost
/// seven thousand instructions a name.
fn ascii_case(words: &str, case: Case) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Boundary,
        Lower,
        Upper,
    }
    let mut out = String::with_capacity(words.len());
    let mut first = true;
    let mut push = |word: &[u8]| {
        if !first && matches!(case, Case::Snake) {
            out.push('_');
        }
        first = false;
        for (index, byte) in word.iter().enumerate() {
            let upper = index == 0 && matches!(case, Case::UpperCamel);
            out.push(char::from(if upper {
                byte.to_ascii_uppercase()
            } else {
                byte.to_ascii_lowercase()
            }));
        }
    };
    for word in words.as_bytes().split(|b| !b.is_ascii_alphanumeric()) {
        let mut start = 0;
        let mut mode = Mode::Boundary;
        for (at, &byte) in word.iter().enumerate() {
            let Some(&next) = word.get(at + 1) else {
                push(&word[start..]);
                break;
            };
            let next_mode = if byte.is_ascii_lowercase() {
                Mode::Lower
            } else if byte.is_ascii_uppercase() {
                Mode::Upper
            } else {
                mode
            };
            if next_mode == Mode::Lower && next.is_ascii_uppercase() {
                push(&word[start..=at]);
                start = at + 1;
                mode = Mode::Boundary;
            } else if mode == Mode::Upper && byte.is_ascii_uppercase() && next.is_ascii_lowercase()
            {
                push(&word[start..at]);
                start = at;
                mode = Mode::Boundary;
            } else {
                mode = next_mode;
            }
        }
    }
    out
}

/// Whether heck leaves `raw` as it is in `case`: most names reaching the conversion are already
/// converted (a nested type's name is its parent's followed by the property's), and they skip
/// both heck and the table.
fn unchanged(raw: &str, case: Case) -> bool {
    let bytes = raw.as_bytes();
    match case {
        // Words of one capital followed by lowercase letters and digits: heck starts a word at
        // each capital after a lowercase letter and lowercases the rest of a word.
        Case::UpperCamel => {
            bytes.first().is_some_and(u8::is_ascii_uppercase)
                && bytes.iter().all(u8::is_ascii_alphanumeric)
                && bytes
                    .windows(2)
                    .all(|pair| !pair[1].is_ascii_uppercase() || pair[0].is_ascii_lowercase())
        }
        // Lowercase words joined by single underscores.
        Case::Snake => {
            !raw.is_empty()
                && !raw.starts_with('_')
                && !raw.ends_with('_')
                && !raw.contains("__")
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
        }
    }
}

/// `raw`'s ASCII words in `case`, converted once per thread.
fn converted(raw: &str, case: Case) -> String {
    if unchanged(raw, case) {
        return raw.to_owned();
    }
    CONVERTED.with(|cell| {
        let map = &mut cell.borrow_mut()[case as usize];
        if let Some(name) = map.get(raw) {
            return name.to_string();
        }
        let words = ascii_words(raw);
        let name = ascii_case(&words, case);
        if map.len() >= REMEMBERED {
            map.clear();
        }
        map.insert(raw.into(), name.as_str().into());
        name
    })
}

/// An `UpperCamelCase` name for a type, never a keyword or a shadowed std type.
pub fn type_name(raw: &str) -> String {
    let mut name = converted(raw, Case::UpperCamel);
    if name.is_empty() {
        name = "Unnamed".to_owned();
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'T');
    }
    if RESERVED_TYPES.contains(&name.as_str()) {
        name.push_str("Type");
    }
    name
}

/// An `UpperCamelCase` name for an enum variant.
pub fn variant_name(raw: &str) -> String {
    let mut name = converted(raw, Case::UpperCamel);
    if name.is_empty() {
        name = "Empty".to_owned();
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, 'V');
    }
    if name == "Self" {
        name.push_str("Value");
    }
    name
}

/// A `snake_case` name for a function, field or argument; keywords become raw identifiers.
pub fn snake_name(raw: &str, fallback: &str) -> String {
    let mut name = converted(raw, Case::Snake);
    if name.is_empty() {
        name = fallback.to_owned();
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if crate::keywords::cannot_be_raw(&name) {
        name.push('_');
    } else if crate::keywords::can_be_raw(&name) {
        name.insert_str(0, "r#");
    }
    name
}

/// A `SCREAMING_SNAKE_CASE` name for a constant.
pub fn const_name(raw: &str) -> String {
    let mut name = ascii_case(&ascii_words(raw), Case::Snake).to_ascii_uppercase();
    if name.is_empty() {
        name = "OPERATION".to_owned();
    } else if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    name
}

/// The identifier without a leading `r#`, to compare with a wire name.
pub fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// A set of names already taken in one Rust namespace; `claim` makes a candidate unique by
/// appending the smallest free number.
#[derive(Debug, Default, Clone)]
pub struct Namespace {
    taken: BTreeSet<String>,
}

impl Namespace {
    /// A namespace in which `reserved` names are already taken.
    pub fn with_reserved(reserved: &[&str]) -> Self {
        Self {
            taken: reserved.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Returns `candidate`, or `candidate2`, `candidate3`, ... whichever is free, and takes it.
    pub fn claim(&mut self, candidate: String) -> String {
        if self.taken.insert(candidate.clone()) {
            return candidate;
        }
        // Raw identifiers get a number after the keyword, which is no longer a keyword.
        let base = unraw(&candidate).to_owned();
        let separator = if base.ends_with(|c: char| c.is_ascii_digit()) {
            "_"
        } else {
            ""
        };
        (2u64..)
            .map(|n| format!("{base}{separator}{n}"))
            .find(|name| !self.taken.contains(name))
            .inspect(|name| {
                self.taken.insert(name.clone());
            })
            .unwrap_or(candidate)
    }
}

#[cfg(test)]
mod tests {
    use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

    use super::*;

    proptest::proptest! {
        /// The ASCII conversion makes what heck makes, separators, digits and runs of
        /// capitals included.
        #[test]
        fn ascii_case_is_what_heck_makes(raw in "[A-Ca-c0-9 _-]{0,14}") {
            proptest::prop_assert_eq!(ascii_case(&raw, Case::UpperCamel), raw.to_upper_camel_case());
            proptest::prop_assert_eq!(ascii_case(&raw, Case::Snake), raw.to_snake_case());
            proptest::prop_assert_eq!(
                ascii_case(&raw, Case::Snake).to_ascii_uppercase(),
                raw.to_shouty_snake_case()
            );
        }

        /// The shortcut agrees with heck: a name it keeps is one heck keeps.
        #[test]
        fn names_kept_as_they_are_are_what_heck_makes(raw in "[A-Za-z0-9_]{0,12}") {
            let words = ascii_words(&raw);
            if unchanged(&raw, Case::UpperCamel) {
                proptest::prop_assert_eq!(words.to_upper_camel_case(), raw.clone());
            }
            if unchanged(&raw, Case::Snake) {
                proptest::prop_assert_eq!(words.to_snake_case(), raw.clone());
            }
        }
    }

    #[test]
    fn a_run_of_capitals_before_a_digit_is_one_word() {
        assert_eq!(ascii_case("AA0", Case::UpperCamel), "Aa0");
        assert_eq!(ascii_case("HTTPServer", Case::UpperCamel), "HttpServer");
        assert_eq!(ascii_case("HTTPServer", Case::Snake), "http_server");
    }

    #[test]
    fn names_already_converted_are_kept() {
        for kept in ["Pet", "PetStoreItem", "V1beta2", "A", "Abc123def"] {
            assert!(unchanged(kept, Case::UpperCamel), "{kept}");
        }
        for changed in ["HTTPError", "pet", "A2B", "Pet_Item", ""] {
            assert!(!unchanged(changed, Case::UpperCamel), "{changed}");
        }
        for kept in ["id", "created_at", "v2_beta", "a1b"] {
            assert!(unchanged(kept, Case::Snake), "{kept}");
        }
        for changed in ["_id", "a__b", "id_", "Id", "a-b", ""] {
            assert!(!unchanged(changed, Case::Snake), "{changed}");
        }
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name("pet"), "Pet");
        assert_eq!(type_name("pet-store_item"), "PetStoreItem");
        assert_eq!(type_name("HTTPError"), "HttpError");
        assert_eq!(type_name("2fa"), "T2fa");
        assert_eq!(type_name("$%&"), "Unnamed");
        assert_eq!(type_name(""), "Unnamed");
        assert_eq!(type_name("Option"), "OptionType");
        assert_eq!(type_name("Self"), "SelfType");
        for prelude in RESERVED_TYPES {
            assert_eq!(type_name(prelude), format!("{prelude}Type"));
        }
        assert_eq!(type_name("some"), "SomeType");
        assert_eq!(type_name("名前"), "U540dU524d");
        assert_eq!(type_name("Größe"), "GrUf6UdfE");
    }

    #[test]
    fn snake_names() {
        assert_eq!(snake_name("petId", "f"), "pet_id");
        assert_eq!(snake_name("type", "f"), "r#type");
        assert_eq!(snake_name("self", "f"), "self_");
        assert_eq!(snake_name("Self", "f"), "self_");
        assert_eq!(snake_name("crate", "f"), "crate_");
        assert_eq!(snake_name("123", "f"), "_123");
        assert_eq!(snake_name("@", "field"), "field");
        assert_eq!(snake_name("_", "field"), "field");
        assert_eq!(snake_name("🐶", "field"), "u1f436");
        assert_eq!(variant_name("🙂"), "U1f642");
    }

    #[test]
    fn variant_and_const_names() {
        assert_eq!(variant_name("in-progress"), "InProgress");
        assert_eq!(variant_name("1"), "V1");
        assert_eq!(variant_name(""), "Empty");
        assert_eq!(const_name("listPets"), "LIST_PETS");
        assert_eq!(const_name("2go"), "_2GO");
    }

    #[test]
    fn namespace_makes_names_unique() {
        let mut ns = Namespace::default();
        assert_eq!(ns.claim(type_name("Pet")), "Pet");
        assert_eq!(ns.claim(type_name("pet")), "Pet2");
        assert_eq!(ns.claim("Pet2".to_owned()), "Pet2_2");
        let mut fields = Namespace::default();
        assert_eq!(fields.claim(snake_name("type", "f")), "r#type");
        assert_eq!(fields.claim(snake_name("Type", "f")), "type2");
        assert_eq!(fields.claim("v1".to_owned()), "v1");
        assert_eq!(fields.claim("v1".to_owned()), "v1_2");
    }

    #[test]
    fn every_generated_name_is_a_rust_identifier() {
        let samples = [
            "", "a b", "9", "é", "fn", "r#x", "a-b-c", "__", "x__y", "Ü", "🙂🙂",
        ];
        for raw in samples {
            for name in [
                type_name(raw),
                variant_name(raw),
                snake_name(raw, "f"),
                const_name(raw),
            ] {
                assert!(
                    syn::parse_str::<syn::Ident>(&name).is_ok(),
                    "{raw:?} -> {name:?}"
                );
            }
        }
    }
}
