//! `impl` blocks formatted an item at a time, and a function a statement at a time, each
//! distinct part once.
//!
//! `prettyplease` prints the items of an `impl` one after another, each after a forced line
//! break; a function prints its signature up to the `{` of its body, then each statement of the
//! body after a forced line break. So how a signature prints depends on its own text alone, and
//! how a statement prints on its own text and on whether it is the body's last. A large API's
//! client repeats the same statements thousands of times (`args.query("per_page",
//! &options.per_page)?;`) and its entities and error decoders the same signatures, so each
//! distinct part is formatted once, in a stand-in `impl`, and its lines reused.
//!
//! Every stand-in is checked after parsing: a part that is not one signature, one statement or
//! one item (a cut in the wrong place) fails the batch, and the caller formats the item whole.

use std::fmt::Write as _;

use super::scan::{cuts, final_block, first_block, Cut};
use super::units::{leading_docs, push_docs, take_until, Kind, Units, STAND_IN};

/// What the stand-ins' names start with: a text that holds it is formatted whole.
pub(super) const UNIT: &str = "__connector_gen_unit";

/// An `impl` block at the top of a file: its head (doc comments, attributes and `impl … `, up to
/// the `{` of its body) and its body.
pub(super) struct Impl<'t> {
    head: &'t str,
    body: &'t str,
}

impl<'t> Impl<'t> {
    /// The shape of `item` when it is an `impl` block with a body that is not empty.
    pub(super) fn of(item: &'t str) -> Option<Self> {
        let item = item.trim();
        let open = final_block(item)?;
        Self::from_parts(&item[..=open], &item[item.len() - 1..])
            .map(|head| Impl {
                head: head.head,
                body: &item[open + 1..item.len() - 1],
            })
            .filter(|found| !found.body.trim().is_empty())
    }

    /// The head of an `impl` cut into pieces (`head` ends with its body's `{`, `tail` is the
    /// closing `}` and what follows it), when it is one; the body is formatted a piece at a time.
    pub(super) fn from_parts(head: &'t str, tail: &'t str) -> Option<Self> {
        let head = head.trim().strip_suffix('{')?.trim_end();
        // Inner attributes belong to the file; the `impl` keyword starts a line of the head.
        let is_impl = head.lines().map(str::trim_start).any(|line| {
            ["impl ", "impl<", "unsafe impl"]
                .iter()
                .any(|start| line.starts_with(start))
        });
        let plain = !head.contains("#!") && !head.contains("//!");
        (is_impl && plain && tail.trim() == "}").then_some(Impl { head, body: "" })
    }
}

/// The parts of one item of an `impl` body: a function with a body that is not empty (its
/// signature and statements), or another item whole.
struct Item<'t> {
    docs: Vec<&'t str>,
    parts: Vec<(Kind, &'t str)>,
    is_fn: bool,
}

impl Units {
    /// An `impl` block formatted an item at a time: its doc comments, head, items and `}`.
    pub(super) fn impl_block(&self, block: &Impl<'_>) -> Option<String> {
        self.impl_piece(block, block.body, None, true, true)
    }

    /// The items of `body` (a piece of the body of `block`) formatted an item at a time, after
    /// the block's head when `head` and before its `}` when `tail`; `ends` are where the items
    /// end, when the caller has found them (else they are found here).
    pub(super) fn impl_piece(
        &self,
        block: &Impl<'_>,
        body: &str,
        ends: Option<&[usize]>,
        head: bool,
        tail: bool,
    ) -> Option<String> {
        if body.contains(UNIT) || body.contains(STAND_IN) || block.head.contains(UNIT) {
            return None;
        }
        let (docs, head_text) = leading_docs(block.head);
        let mut parts = Vec::new();
        if head {
            parts.push((Kind::ImplHead, head_text));
        }
        let mut items = Vec::new();
        let mut from = 0;
        let found;
        let ends = match ends {
            Some(ends) => ends,
            None => {
                found = cuts(body, Cut::Items);
                &found
            }
        };
        for &to in ends {
            let text = body[from..to].trim();
            from = to;
            if !text.is_empty() {
                let item = item(text)?;
                parts.extend_from_slice(&item.parts);
                items.push(item);
            }
        }
        let formatted = self.lookup(&parts)?;
        let mut formatted = formatted.iter();
        let mut out = String::with_capacity(body.len() + block.head.len() + 64);
        if head {
            push_docs(&mut out, "", &docs);
            out.push_str(formatted.next()?);
        }
        for item in &items {
            push_docs(&mut out, "    ", &item.docs);
            for _ in &item.parts {
                out.push_str(formatted.next()?);
            }
            if item.is_fn {
                out.push_str("    }\n");
            }
        }
        if tail {
            out.push_str("}\n");
        }
        Some(out)
    }
}

/// The parts of one item of an `impl` body.
fn item(text: &str) -> Option<Item<'_>> {
    let (docs, rest) = leading_docs(text);
    if rest.is_empty() {
        return None;
    }
    let whole = || Item {
        docs: docs.clone(),
        parts: vec![(Kind::ImplItem, rest)],
        is_fn: false,
    };
    // A signature (and its body's `{`) taken wrongly fails the stand-in's check.
    let Some(open) = first_block(rest) else {
        return Some(whole());
    };
    let body = &rest[open + 1..rest.len() - 1];
    let mut statements = Vec::new();
    let mut from = 0;
    for to in cuts(body, Cut::Items) {
        let statement = body[from..to].trim();
        from = to;
        if !statement.is_empty() {
            statements.push(statement);
        }
    }
    let Some(last) = statements.pop() else {
        return Some(whole());
    };
    let mut parts = vec![(Kind::Signature, rest[..open].trim_end())];
    parts.extend(statements.into_iter().map(|s| (Kind::Statement, s)));
    parts.push((Kind::LastStatement, last));
    Some(Item {
        docs,
        parts,
        is_fn: true,
    })
}

/// Formats the parts of `impl` blocks in one stand-in text, and checks that each part parsed as
/// what it was taken for; `None` when it does not.
///
/// The parts inside an `impl` go in one stand-in `impl`: the statements that are not last in
/// one function, each followed by a mark statement; each signature with a mark statement for a
/// body; each last statement in a function of its own, and each item, followed by a mark
/// function. The heads of `impl` blocks follow, each with a mark function for a body. A mark
/// names its part, so a part's lines are those before its mark.
pub(super) fn format_batch(parts: &[(Kind, &str)]) -> Option<Vec<String>> {
    if !parts.iter().all(|(kind, _)| kind.in_impl()) {
        return None;
    }
    let of = |kind: Kind| of_kind(parts, kind).map(|index| (index, parts[index].1));
    let inside = parts.iter().any(|(kind, _)| *kind != Kind::ImplHead);
    let has_statements = of(Kind::Statement).next().is_some();
    let mut text = String::new();
    // Writing to a String cannot fail.
    if inside {
        let _ = writeln!(text, "impl {STAND_IN} {{");
        if has_statements {
            let _ = writeln!(text, "fn {UNIT}() {{");
            for (index, part) in of(Kind::Statement) {
                let _ = writeln!(text, "{part}\n{UNIT}_{index};");
            }
            text.push_str("}\n");
        }
        for (index, part) in of(Kind::Signature) {
            let _ = writeln!(text, "{part} {{\n{UNIT}_{index};\n}}");
        }
        for (index, part) in of(Kind::LastStatement) {
            let _ = writeln!(text, "fn {UNIT}() {{\n{part}\n}}\nfn {UNIT}_{index}() {{}}");
        }
        for (index, part) in of(Kind::ImplItem) {
            let _ = writeln!(text, "{part}\nfn {UNIT}_{index}() {{}}");
        }
        text.push_str("}\n");
    }
    for (index, part) in of(Kind::ImplHead) {
        let _ = writeln!(text, "{part} {{\nfn {UNIT}_{index}() {{}}\n}}");
    }
    let printed = super::print_checked(&text, |file| stand_ins_hold(file, parts, inside))?;

    let mut formatted = vec![String::new(); parts.len()];
    let mut rest = printed.as_str();
    // The lines before `mark`, and the rest after it.
    let unit_fn = format!("    fn {UNIT}() {{\n");
    if inside {
        rest = rest.strip_prefix(&format!("impl {STAND_IN} {{\n"))?;
        if has_statements {
            rest = rest.strip_prefix(&unit_fn)?;
            for (index, _) in of(Kind::Statement) {
                formatted[index] = take_until(&format!("        {UNIT}_{index};\n"), &mut rest)?;
            }
            rest = rest.strip_prefix("    }\n")?;
        }
        for (index, _) in of(Kind::Signature) {
            let mark = format!("        {UNIT}_{index};\n    }}\n");
            formatted[index] = take_until(&mark, &mut rest)?;
        }
        for (index, _) in of(Kind::LastStatement) {
            rest = rest.strip_prefix(&unit_fn)?;
            let mark = format!("    }}\n    fn {UNIT}_{index}() {{}}\n");
            formatted[index] = take_until(&mark, &mut rest)?;
        }
        for (index, _) in of(Kind::ImplItem) {
            formatted[index] = take_until(&format!("    fn {UNIT}_{index}() {{}}\n"), &mut rest)?;
        }
        rest = rest.strip_prefix("}\n")?;
    }
    for (index, _) in of(Kind::ImplHead) {
        formatted[index] = take_until(&format!("    fn {UNIT}_{index}() {{}}\n}}\n"), &mut rest)?;
    }
    rest.is_empty().then_some(formatted)
}

/// Whether the stand-ins parsed as their parts were taken for: each statement one statement
/// before its mark, each signature one with its mark for a body, each last statement alone in its
/// function, each item one, and each head an `impl` with its mark alone inside.
fn stand_ins_hold(file: &syn::File, parts: &[(Kind, &str)], inside: bool) -> bool {
    let marks = |index: usize| format!("{UNIT}_{index}");
    let is_mark_fn = |item: &syn::ImplItem, index: usize| matches!(item, syn::ImplItem::Fn(f) if f.sig.ident == marks(index) && f.block.stmts.is_empty());
    let is_mark_stmt = |stmt: &syn::Stmt, index: usize| matches!(stmt, syn::Stmt::Expr(syn::Expr::Path(path), Some(_)) if path.path.is_ident(&marks(index)));
    let mut items = file.items.iter();
    if inside {
        let Some(syn::Item::Impl(block)) = items.next() else {
            return false;
        };
        let mut inner = block.items.iter();
        let statements: Vec<usize> = of_kind(parts, Kind::Statement).collect();
        if !statements.is_empty() {
            let Some(syn::ImplItem::Fn(function)) = inner.next() else {
                return false;
            };
            let stmts = &function.block.stmts;
            let paired = stmts.len() == 2 * statements.len()
                && stmts
                    .chunks(2)
                    .zip(&statements)
                    .all(|(pair, index)| is_mark_stmt(&pair[1], *index));
            if !paired {
                return false;
            }
        }
        for index in of_kind(parts, Kind::Signature) {
            let holds = matches!(inner.next(), Some(syn::ImplItem::Fn(f))
                if matches!(f.block.stmts.as_slice(), [stmt] if is_mark_stmt(stmt, index)));
            if !holds {
                return false;
            }
        }
        for index in of_kind(parts, Kind::LastStatement) {
            let alone =
                matches!(inner.next(), Some(syn::ImplItem::Fn(f)) if f.block.stmts.len() == 1);
            if !alone || !inner.next().is_some_and(|mark| is_mark_fn(mark, index)) {
                return false;
            }
        }
        for index in of_kind(parts, Kind::ImplItem) {
            let one = inner.next().is_some_and(|item| !is_mark_fn(item, index));
            if !one || !inner.next().is_some_and(|mark| is_mark_fn(mark, index)) {
                return false;
            }
        }
        if inner.next().is_some() {
            return false;
        }
    }
    for index in of_kind(parts, Kind::ImplHead) {
        let holds = matches!(items.next(), Some(syn::Item::Impl(block))
            if matches!(block.items.as_slice(), [mark] if is_mark_fn(mark, index)));
        if !holds {
            return false;
        }
    }
    items.next().is_none()
}

/// The indices of the parts of `kind`.
fn of_kind<'p>(parts: &'p [(Kind, &str)], kind: Kind) -> impl Iterator<Item = usize> + 'p {
    parts
        .iter()
        .enumerate()
        .filter(move |(_, (k, _))| *k == kind)
        .map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(text: &str) -> String {
        prettyplease::unparse(&syn::parse_file(text).unwrap())
    }

    const IMPLS: &str = r##"
/// A client.
#[cfg(feature = "a")]
impl Client {
    /// Docs.
    #[cfg(feature = "a")]
    pub async fn a_rather_long_method_name_for_this_test(&self, owner: &str, repo: &str, options: &super::types::SomeRatherLongOptionsTypeName) -> Result<::connector_runtime::Typed<Vec<super::types::SomeItem>>, ::connector_runtime::Error> {
        let mut args = ::connector_runtime::Args::new();
        args.query("per_page", &options.per_page)?;
        if let Some(x) = options.x { args.query("x", &x)?; } else { args.query("y", &1)?; }
        let operation = &super::operations::OPERATIONS[super::operations::A_RATHER_LONG_METHOD_NAME_FOR_THIS_TEST];
        self.connection.execute(operation, args).await?.json()
    }
    pub fn b(&self) -> u8 { args.query("per_page", &options.per_page)?; 1 }
    pub fn empty(&self) {}
    const C: &'static str = "a } brace; and a semicolon";
    pub fn c(&self) -> u8 { match 1 { 1 => 2, _ => 3 }.min(4) }
    pub fn d(&self) { loop { break; } if true {} }
}
impl ::connector_runtime::ActionErrors for E {
    fn decode(answer: ::connector_runtime::ErrorAnswer) -> Self {
        match answer.status() {
            400 if answer.content_type_is("application/scim+json") => answer.json().map(Self::BadRequestScimJson),
            _ => Err(answer),
        }
        .unwrap_or_else(Self::Other)
    }
}
impl A {}
pub struct S;
"##;

    #[test]
    fn impl_items_formatted_alone_print_as_the_whole_text_prints() {
        let units = Units::default();
        assert_eq!(units.format(IMPLS).as_deref(), Some(whole(IMPLS).as_str()));
        let memo = units.memo.lock().unwrap();
        // The repeated statement was formatted once (by its shape), as a statement (not last)
        // in `a` and `b`.
        let statements = &memo[&Kind::Statement];
        assert!(statements.contains_key("zzzz.zzzzz(\"zzzzzzzz\", &zzzzzzz.zzzzzzzz)?;"));
        assert!(memo.contains_key(&Kind::LastStatement));
        assert_eq!(
            memo[&Kind::ImplHead].len(),
            2,
            "{:?}",
            memo[&Kind::ImplHead]
        );
        // Each part formatted alone: none fell back to its item formatted whole.
        let failed: Vec<_> = memo
            .values()
            .flat_map(|known| known.iter())
            .filter(|(_, lines)| lines.is_none())
            .collect();
        assert!(failed.is_empty(), "{failed:?}");
    }

    #[test]
    fn a_part_taken_for_what_it_is_not_fails_the_batch() {
        // Two statements taken for one: the batch does not hold, and nothing is printed.
        assert_eq!(format_batch(&[(Kind::LastStatement, "a; b")]), None);
        assert_eq!(
            format_batch(&[(Kind::Statement, "let a = 1;")]).map(|v| v.len()),
            Some(1)
        );
        // A head that is not an impl's.
        assert_eq!(format_batch(&[(Kind::ImplHead, "mod m")]), None);
        assert_eq!(
            format_batch(&[(Kind::ImplItem, "fn f() {} fn g() {}")]),
            None
        );
        assert_eq!(format_batch(&[(Kind::Signature, "fn f() {} fn g()")]), None);
    }

    #[test]
    fn an_item_that_is_not_an_impl_is_not_taken_for_one() {
        assert!(Impl::of("impl A { fn f() {} }").is_some());
        assert!(Impl::of("#[cfg(x)]\nimpl<T> A<T> { fn f() {} }").is_some());
        assert!(Impl::of("impl A {}").is_none());
        assert!(Impl::of("mod m { fn f() {} }").is_none());
        assert!(Impl::of("pub fn implement() { x }").is_none());
        assert!(Impl::of("#![allow(x)]\nimpl A { fn f() {} }").is_none());
    }

    #[test]
    fn a_text_holding_a_stand_in_name_is_formatted_whole() {
        let text = "impl A { fn f() { __connector_gen_unit; } }";
        let units = Units::default();
        assert_eq!(units.format(text).as_deref(), Some(whole(text).as_str()));
        assert!(units.memo.lock().unwrap().is_empty());
    }
}
