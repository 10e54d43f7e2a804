//! Structs and enums formatted a field (or variant) at a time, each distinct one once.
//!
//! `prettyplease` prints the fields of a struct with named fields, and the variants of an enum,
//! one after another at the body's indentation, each after a forced line break and followed by
//! a comma and a forced line break: how one prints depends on its own text alone. A large API's
//! types repeat the same fields thousands of times (GitHub: 17,500 field lines, 4,100 distinct),
//! so each distinct field is formatted once, inside a stand-in struct, and its lines reused. Its
//! leading doc comments, which make fields distinct, are kept out of the key and put back as
//! `prettyplease` prints them (see `docs.rs`).
//!
//! `impl` blocks are formatted the same way, an item (and a statement) at a time: see
//! `impls.rs`. An item that does not have one of these shapes, or a part that does not format
//! alone, is formatted whole as before.

use crate::hashing::FastMap;
use std::sync::Mutex;

use super::impls::{Impl, UNIT};
use super::scan::{cuts, fields, largest_group, Cut};
use super::shape::{shape, Shape};

/// The stand-in item that fields, variants and attributes are formatted in.
pub(super) const STAND_IN: &str = "__ConnectorGenUnits";

/// What a formatted part is kept under: a field or variant, or the attributes of an item; the
/// head of an `impl`, one of its items, or a function's signature or statement in one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Kind {
    Field,
    Variant,
    /// The attributes of a field, or of a variant: each prints on its own line, so they lay out
    /// apart from what they are on (and repeat far more often with it left out).
    FieldAttributes,
    VariantAttributes,
    Attributes,
    ImplHead,
    ImplItem,
    Signature,
    /// A statement that is not its body's last.
    Statement,
    LastStatement,
}

impl Kind {
    pub(super) fn in_impl(self) -> bool {
        !matches!(
            self,
            Kind::Field
                | Kind::Variant
                | Kind::FieldAttributes
                | Kind::VariantAttributes
                | Kind::Attributes
        )
    }
}

/// The formatted lines of each distinct part met so far, by kind (`None`: it does not format
/// alone), shared by the threads formatting the pieces of one text.
#[derive(Default)]
pub(super) struct Units {
    /// By shape (see `shape.rs`).
    pub(super) memo: Mutex<FastMap<Kind, FastMap<String, Option<String>>>>,
    /// The formatted lines of each distinct text met so far, by kind: a text met again is
    /// neither reshaped nor put back.
    texts: Mutex<FastMap<Kind, FastMap<String, Option<String>>>>,
}

/// A part of a text: items formatted whole, a struct or enum formatted a field at a time, or an
/// `impl` an item at a time.
enum Part<'t> {
    Whole(&'t str),
    Fields(Body<'t>),
    Impl(Impl<'t>, &'t str),
}

/// A struct with named fields, or an enum, with no generics: its attributes, name and the
/// fields (or variants) of its body.
struct Body<'t> {
    item: &'t str,
    /// The attributes (doc comments included) before `pub struct`.
    attributes: &'t str,
    name: &'t str,
    elements: Vec<&'t str>,
    is_enum: bool,
}

impl Units {
    /// `text` (items) formatted as `prettyplease` formats it whole, or `None` when a part of it
    /// does not parse.
    pub(super) fn format(&self, text: &str) -> Option<String> {
        self.format_cut(text, &cuts(text, Cut::Items))
    }

    /// [`Units::format`] of `text` whose items end at `ends` (as [`cuts`] finds them).
    pub(super) fn format_cut(&self, text: &str, ends: &[usize]) -> Option<String> {
        if text.contains(STAND_IN) || text.contains(UNIT) {
            return super::print(text);
        }
        let mut out = String::with_capacity(text.len());
        for part in parts(text, ends) {
            match part {
                Part::Whole(items) if items.trim().is_empty() => {}
                Part::Whole(items) => out.push_str(&super::print(items)?),
                Part::Fields(body) => match self.body(&body) {
                    Some(formatted) => out.push_str(&formatted),
                    None => out.push_str(&super::print(body.item)?),
                },
                Part::Impl(block, item) => match self.impl_block(&block) {
                    Some(formatted) => out.push_str(&formatted),
                    None => out.push_str(&super::print(item)?),
                },
            }
        }
        Some(out)
    }

    /// A struct or enum formatted: its doc comments, its attributes, its first line, then each
    /// field's doc comments and lines.
    fn body(&self, body: &Body<'_>) -> Option<String> {
        let (kind, attributes_kind, keyword) = if body.is_enum {
            (Kind::Variant, Kind::VariantAttributes, "pub enum")
        } else {
            (Kind::Field, Kind::FieldAttributes, "pub struct")
        };
        let (docs, attributes) = leading_docs(body.attributes.trim_start());
        let mut parts = vec![(Kind::Attributes, attributes)];
        // Each element's doc comments, and how many parts it has (its attributes, then itself).
        let mut elements = Vec::with_capacity(body.elements.len());
        for element in &body.elements {
            let (docs, rest) = leading_docs(element);
            let (attributes, rest) = leading_attributes(rest);
            if !attributes.is_empty() {
                parts.push((attributes_kind, attributes));
            }
            parts.push((kind, rest));
            elements.push((docs, 1 + usize::from(!attributes.is_empty())));
        }
        let formatted = self.lookup(&parts)?;
        let mut out = String::with_capacity(body.item.len() + 64);
        push_docs(&mut out, "", &docs);
        out.push_str(&formatted[0]);
        out.push_str(keyword);
        out.push(' ');
        out.push_str(body.name);
        out.push_str(" {\n");
        let mut lines = formatted[1..].iter();
        for (docs, count) in &elements {
            push_docs(&mut out, "    ", docs);
            for _ in 0..*count {
                out.push_str(lines.next()?);
            }
        }
        out.push_str("}\n");
        Some(out)
    }

    /// The formatted lines of each part: those of texts met before as they were, the others
    /// by their shape (see `shape.rs`), those of shapes not met before formatted together.
    pub(super) fn lookup(&self, parts: &[(Kind, &str)]) -> Option<Vec<String>> {
        // A poisoned lock only means a formatting thread panicked: the map is intact.
        let lock = || self.texts.lock().unwrap_or_else(|p| p.into_inner());
        // Plain signatures are printed without parsing (see `signature.rs`).
        let mut found: Vec<Option<String>> = parts
            .iter()
            .map(|(kind, text)| match kind {
                Kind::Signature => super::signature::layout(text),
                _ => None,
            })
            .collect();
        {
            let texts = lock();
            for ((kind, text), found) in parts.iter().zip(found.iter_mut()) {
                if found.is_some() {
                    continue;
                }
                if let Some(known) = texts.get(kind).and_then(|known| known.get(*text)) {
                    *found = Some(known.clone()?);
                }
            }
        }
        let mut distinct: Vec<(Kind, &str)> = Vec::new();
        let mut slots: FastMap<(Kind, &str), usize> = FastMap::default();
        let unknown: Vec<(usize, usize)> = (0..parts.len())
            .filter(|i| found[*i].is_none())
            .map(|i| {
                let slot = *slots.entry(parts[i]).or_insert_with(|| {
                    distinct.push(parts[i]);
                    distinct.len() - 1
                });
                (i, slot)
            })
            .collect();
        if !distinct.is_empty() {
            let shaped = self.by_shape(&distinct);
            let mut texts = lock();
            for ((kind, text), lines) in distinct.iter().zip(&shaped) {
                texts
                    .entry(*kind)
                    .or_default()
                    .insert((*text).to_owned(), lines.clone());
            }
            for (index, slot) in unknown {
                found[index] = Some(shaped[slot].clone()?);
            }
        }
        found.into_iter().collect()
    }

    /// The formatted lines of each part (`None`: it does not format alone) by its shape, the
    /// shapes not met before formatted together.
    fn by_shape(&self, parts: &[(Kind, &str)]) -> Vec<Option<String>> {
        let shapes: Vec<Shape<'_>> = parts.iter().map(|(_, text)| shape(text)).collect();
        let lock = || self.memo.lock().unwrap_or_else(|p| p.into_inner());
        let mut known: Vec<Option<Option<String>>> = {
            let memo = lock();
            parts
                .iter()
                .zip(&shapes)
                .map(|((kind, _), shape)| {
                    memo.get(kind)
                        .and_then(|known| known.get(shape.key.as_ref()))
                        .cloned()
                })
                .collect()
        };
        let mut batch: Vec<(Kind, &str)> = Vec::new();
        let mut slots: FastMap<(Kind, &str), usize> = FastMap::default();
        let missing: Vec<(usize, usize)> = (0..parts.len())
            .filter(|i| known[*i].is_none())
            .map(|i| {
                let key = (parts[i].0, shapes[i].key.as_ref());
                let slot = *slots.entry(key).or_insert_with(|| {
                    batch.push(key);
                    batch.len() - 1
                });
                (i, slot)
            })
            .collect();
        if !batch.is_empty() {
            let formatted = format_batch(&batch);
            let lines = |slot: usize| formatted.as_ref().map(|all| all[slot].clone());
            let mut memo = lock();
            for (slot, (kind, key)) in batch.iter().enumerate() {
                memo.entry(*kind)
                    .or_default()
                    .insert((*key).to_owned(), lines(slot));
            }
            for (index, slot) in missing {
                known[index] = Some(lines(slot));
            }
        }
        known
            .into_iter()
            .zip(&shapes)
            .map(|(lines, shape)| shape.restore(lines.flatten()?.as_str()))
            .collect()
    }

    /// How many distinct parts have been met.
    #[cfg(test)]
    pub(super) fn known(&self) -> usize {
        self.memo.lock().unwrap().values().map(FastMap::len).sum()
    }
}

/// Formats parts in one stand-in text: the fields (and fields' attributes) in one stand-in
/// struct and the variants (and theirs) in one stand-in enum, each followed by a stand-in field
/// (or variant) that marks where it ends, as `prettyplease` prints each field and variant after
/// a forced line break and before a comma and one; then each item's attributes before a
/// stand-in struct of its own.
fn format_batch(parts: &[(Kind, &str)]) -> Option<Vec<String>> {
    if parts.iter().any(|(kind, _)| kind.in_impl()) {
        return super::impls::format_batch(parts);
    }
    // The stand-in a field or variant goes in, and the mark after each part in it.
    let stand_in = |kind: &Kind| match kind {
        Kind::Field | Kind::FieldAttributes => Some("struct"),
        Kind::Variant | Kind::VariantAttributes => Some("enum"),
        _ => None,
    };
    let mark = |keyword: &str, index: usize| match keyword {
        "struct" => format!("    __connector_gen_unit_{index}: u8,\n"),
        _ => format!("    {STAND_IN}{index},\n"),
    };
    let members = |keyword: &'static str| {
        parts
            .iter()
            .enumerate()
            .filter(move |(_, (kind, _))| stand_in(kind) == Some(keyword))
    };
    let item_mark = |index: usize| format!("pub struct {STAND_IN}{index} {{\n");
    let mut text = String::new();
    // The stand-in struct, then the stand-in enum, each when it has parts.
    for keyword in ["struct", "enum"] {
        if members(keyword).next().is_some() {
            text.push_str(&format!("{keyword} {STAND_IN} {{\n"));
            for (index, (_, part)) in members(keyword) {
                text.push_str(part);
                text.push('\n');
                text.push_str(mark(keyword, index).trim_start());
            }
            text.push_str("}\n");
        }
    }
    for (index, (kind, part)) in parts.iter().enumerate() {
        if *kind == Kind::Attributes {
            text.push_str(&format!(
                "{part}\n{}    __connector_gen_unit: u8,\n}}\n",
                item_mark(index)
            ));
        }
    }
    let printed = super::print(&text)?;
    let mut rest = printed.as_str();
    let mut formatted = vec![String::new(); parts.len()];
    for keyword in ["struct", "enum"] {
        if members(keyword).next().is_some() {
            rest = rest.strip_prefix(&format!("{keyword} {STAND_IN} {{\n"))?;
            for (index, _) in members(keyword) {
                formatted[index] = take_until(&mark(keyword, index), &mut rest)?;
            }
            rest = rest.strip_prefix("}\n")?;
        }
    }
    for (index, (kind, _)) in parts.iter().enumerate() {
        if *kind == Kind::Attributes {
            formatted[index] = take_until(&item_mark(index), &mut rest)?;
            rest = rest.strip_prefix("    __connector_gen_unit: u8,\n}\n")?;
        }
    }
    rest.is_empty().then_some(formatted)
}

/// The lines of a printed stand-in before `mark`, with `rest` moved past the mark; `None` when
/// the mark is not there.
pub(super) fn take_until(mark: &str, rest: &mut &str) -> Option<String> {
    let at = rest.find(mark)?;
    let lines = rest[..at].to_owned();
    *rest = &rest[at + mark.len()..];
    Some(lines)
}

/// Appends doc-comment lines as `prettyplease` prints them, at `indent`.
pub(super) fn push_docs(out: &mut String, indent: &str, docs: &[&str]) {
    for doc in docs {
        out.push_str(indent);
        out.push_str(doc.trim_end_matches(' '));
        out.push('\n');
    }
}

/// The parts of `text`: its structs and enums, and the runs of other items between them.
fn parts<'t>(text: &'t str, ends: &[usize]) -> Vec<Part<'t>> {
    let mut parts = Vec::new();
    let mut from = 0;
    let mut run = 0;
    for &to in ends {
        let item = &text[from..to];
        let part = match body(item) {
            Some(body) => Some(Part::Fields(body)),
            None => Impl::of(item).map(|block| Part::Impl(block, item)),
        };
        if let Some(part) = part {
            if run < from {
                parts.push(Part::Whole(&text[run..from]));
            }
            parts.push(part);
            run = to;
        }
        from = to;
    }
    if run < text.len() {
        parts.push(Part::Whole(&text[run..]));
    }
    parts
}

/// The shape of `item` when it is a struct with named fields or an enum, with no generics, its
/// body last and not empty.
fn body(item: &str) -> Option<Body<'_>> {
    // Most items are not: they are told apart before they are scanned.
    if !item.contains("pub struct ") && !item.contains("pub enum ") {
        return None;
    }
    let group = largest_group(item)?;
    if group.delimiter != b'{' || !item[group.close + 1..].trim().is_empty() {
        return None;
    }
    let head = item[..group.open].trim_end();
    let before_name = head.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let name = &head[before_name.len()..];
    let (is_enum, attributes) = if let Some(attributes) = before_name.strip_suffix("pub struct ") {
        (false, attributes)
    } else if let Some(attributes) = before_name.strip_suffix("pub enum ") {
        (true, attributes)
    } else {
        return None;
    };
    // Inner attributes belong to the file: such a text is formatted whole. A name starts with
    // a letter or an underscore.
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !starts_well || head.contains("#!") || head.contains("//!") {
        return None;
    }
    // The attributes end their line: `pub` starts one.
    if !attributes.trim_end_matches([' ', '\t']).is_empty()
        && !attributes.trim_end_matches([' ', '\t']).ends_with('\n')
    {
        return None;
    }
    let inside = &item[group.open + 1..group.close];
    let mut elements = Vec::new();
    let mut from = 0;
    for to in fields(inside) {
        let element = inside[from..to].trim();
        if !element.is_empty() {
            elements.push(element);
        }
        from = to;
    }
    // The last element may have no comma after it; one that is not the last always has.
    let last = elements.last()?;
    if !last.ends_with(',') {
        return None;
    }
    Some(Body {
        item,
        attributes,
        name,
        elements,
        is_enum,
    })
}

/// The attribute lines an element starts with (each a whole line starting `#[`), and the rest
/// of it; none when nothing follows them. An attribute over several lines fails its stand-in,
/// and its item is formatted whole.
fn leading_attributes(element: &str) -> (&str, &str) {
    let mut end = 0;
    for line in element.split_inclusive('\n') {
        if !line.trim_start().starts_with("#[") {
            break;
        }
        end += line.len();
    }
    let rest = element[end..].trim_start();
    if rest.is_empty() {
        return ("", element);
    }
    (element[..end].trim_end(), rest)
}

/// The doc-comment lines an element starts with, and the rest of it.
pub(super) fn leading_docs(element: &str) -> (Vec<&str>, &str) {
    let mut docs = Vec::new();
    let mut rest = element;
    while let Some(line) = rest.lines().next() {
        let line = line.trim_start();
        let doc = line.starts_with("///") && !line.starts_with("////") && !line.contains('\r');
        if !doc {
            break;
        }
        docs.push(line);
        rest = rest
            .trim_start()
            .get(line.len()..)
            .unwrap_or("")
            .trim_start();
    }
    (docs, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> String {
        prettyplease::unparse(&syn::parse_file(text).unwrap())
    }

    const TYPES: &str = r##"
/// A type.
#[cfg(any(feature = "security-advisories", feature = "dependabot", feature = "webhooks"))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
pub struct A {
/// Docs
///   with trailing spaces   
#[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "::connector_runtime::serde_support::double_option")]
pub a_rather_long_field_name_for_this: Option<Option<::std::collections::BTreeMap<String, ::connector_runtime::serde_json::Value>>>,
/// Docs
#[serde(default, skip_serializing_if = "Option::is_none")]
pub url: Option<String>,
#[serde(default, skip_serializing_if = "Option::is_none")]
pub url: Option<String>,
#[serde(rename = "a } brace")]
pub b: u8,
}
pub struct NoComma { pub b: u8 }
pub struct Empty {}
pub struct Tuple(pub i64);
impl Tuple { pub const X: Self = Self(1); }
/// An enum.
#[derive(Debug)]
pub enum E {
/// The value `a`.
#[serde(rename = "a")]
A,
B(::std::collections::BTreeMap<String, ::connector_runtime::serde_json::Value>),
/// Other.
#[serde(untagged)]
Other(String),
}
pub struct Generic<T> { pub t: T, }
"##;

    #[test]
    fn fields_formatted_alone_print_as_the_whole_text_prints() {
        let units = Units::default();
        assert_eq!(units.format(TYPES).as_deref(), Some(whole(TYPES).as_str()));
        let kinds: String = parts(TYPES, &cuts(TYPES, Cut::Items))
            .iter()
            .map(|p| match p {
                Part::Whole(_) => 'w',
                Part::Fields(_) => 'f',
                Part::Impl(..) => 'i',
            })
            .collect();
        // `A` and `E` a field at a time, `Tuple`'s impl an item at a time; not the struct with
        // no comma after its last field, nor the others.
        assert_eq!(kinds, "fwifw");
        // `A`: three distinct fields, each apart from its attributes (the repeated field, once
        // with docs and once without, was formatted once); `E`: three variants, two with
        // attributes; the attributes of `A` and of `E`; the impl's head and item.
        assert_eq!(units.known(), 6 + 5 + 2 + 2);
    }

    #[test]
    fn sample_connectors_print_the_same_a_field_at_a_time() {
        let options = crate::Options::default();
        for (path, connector) in crate::sample_connectors() {
            let modules = crate::rendered_modules(&connector, &options).unwrap();
            for (module, text) in &modules {
                let units = Units::default();
                assert_eq!(
                    units.format(text).as_deref(),
                    Some(whole(text).as_str()),
                    "{} {module}",
                    path.display()
                );
            }
        }
    }

    #[test]
    fn a_part_that_does_not_parse_fails_the_text() {
        assert_eq!(Units::default().format("pub struct A { x: , }"), None);
        assert_eq!(
            Units::default().format("pub struct A { x: u8, } fn ("),
            None
        );
    }
}
