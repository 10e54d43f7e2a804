//! Where each part of a converted document came from, so that diagnostics and the IR name the
//! JSON pointers of the document the user wrote, never those of its converted form.
//!
//! Converting moves whole subtrees (`#/definitions/Pet` becomes `#/components/schemas/Pet`, a
//! body parameter becomes `requestBody`, a `$ref` with siblings gains an `allOf` around it).
//! Each move is recorded once, at the root of the subtree; a pointer below it keeps its suffix.

use crate::hashing::FastMap;

use crate::diagnostics::Diagnostic;

/// Converted pointer prefixes and the original pointers they stand for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceMap {
    moves: FastMap<String, String>,
}

impl SourceMap {
    /// Records that the subtree at `converted` was at `original` in the user's document.
    pub(crate) fn record(&mut self, converted: impl Into<String>, original: impl Into<String>) {
        let (converted, original) = (converted.into(), original.into());
        if converted != original {
            self.moves.insert(converted, original);
        }
    }

    /// How many subtrees moved.
    pub fn len(&self) -> usize {
        self.moves.len()
    }

    /// Whether nothing moved (an OpenAPI 3.0 document, or a 3.1 one with no rewritten form).
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty()
    }

    /// The pointer in the user's document for `pointer` in the converted one: the longest
    /// recorded prefix (at a segment boundary) is replaced by its original.
    pub fn original(&self, pointer: &str) -> String {
        if self.moves.is_empty() {
            return pointer.to_owned();
        }
        let mut prefix = pointer;
        loop {
            if let Some(original) = self.moves.get(prefix) {
                return format!("{original}{}", &pointer[prefix.len()..]);
            }
            match prefix.rfind('/') {
                Some(at) => prefix = &prefix[..at],
                None => return pointer.to_owned(),
            }
        }
    }

    /// The pointer in the converted document for `original` in the user's (the reverse of
    /// [`original`](Self::original)), when it lies in a subtree that moved: a Swagger 2
    /// `#/definitions/Pet` is `#/components/schemas/Pet`.
    pub fn converted(&self, original: &str) -> Option<String> {
        self.moves
            .iter()
            .filter(|(_, from)| {
                original
                    .strip_prefix(from.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .max_by_key(|(_, from)| from.len())
            .map(|(to, from)| format!("{to}{}", &original[from.len()..]))
    }

    /// `diag` with its pointer in the user's document.
    pub fn diagnostic(&self, mut diag: Diagnostic) -> Diagnostic {
        diag.pointer = self.original(&diag.pointer);
        diag
    }

    /// Rewrites `pointer` in place.
    pub fn relocate(&self, pointer: &mut String) {
        if !self.moves.is_empty() {
            *pointer = self.original(pointer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_original_pointer_is_found_in_the_converted_document() {
        let mut map = SourceMap::default();
        map.record("#/components/schemas", "#/definitions");
        assert_eq!(
            map.converted("#/definitions/Pet").as_deref(),
            Some("#/components/schemas/Pet")
        );
        assert_eq!(map.converted("#/definitionsX/Pet"), None);
        assert_eq!(map.converted("#/paths"), None);
    }

    #[test]
    fn longest_prefix_wins_at_segment_boundaries() {
        let mut map = SourceMap::default();
        map.record("#/components/schemas", "#/definitions");
        map.record(
            "#/paths/~1p/post/requestBody/content/application~1json/schema",
            "#/paths/~1p/post/parameters/1/schema",
        );
        map.record(
            "#/paths/~1p/post/requestBody",
            "#/paths/~1p/post/parameters/1",
        );
        assert_eq!(
            map.original("#/components/schemas/Pet/properties/id"),
            "#/definitions/Pet/properties/id"
        );
        assert_eq!(
            map.original("#/paths/~1p/post/requestBody/content/application~1json/schema/items"),
            "#/paths/~1p/post/parameters/1/schema/items"
        );
        assert_eq!(
            map.original("#/paths/~1p/post/requestBody/content"),
            "#/paths/~1p/post/parameters/1/content"
        );
        // `schemasX` is not below `schemas`.
        assert_eq!(
            map.original("#/components/schemasX/a"),
            "#/components/schemasX/a"
        );
        assert_eq!(map.original("#/info"), "#/info");
    }
}
