//! Operation subsetting: which operations a connector keeps, by tag, path prefix or operation
//! id. One filter serves a manifest version's `include` table, the `--include-*` flags of
//! `connector-gen generate` and the build.rs `Builder`. It is applied while lowering, before an
//! operation's schemas are looked at, so the schemas of left-out operations are never lowered.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ir::Operation;

/// An operation filter: an operation is kept when it matches any listed criterion (or when
/// none is listed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Include {
    /// Operations with one of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Operations whose path starts with one of these prefixes, segment by segment: `/repos`
    /// keeps `/repos` and `/repos/{owner}`, not `/repositories` (a prefix ending in `/` keeps
    /// what is below it).
    #[serde(default)]
    pub paths: Vec<String>,
    /// Operations with one of these ids.
    #[serde(default)]
    pub operations: Vec<String>,
}

/// The three kinds of criterion of an [`Include`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Criterion {
    /// A tag.
    Tag,
    /// A path prefix.
    Path,
    /// An operation id.
    Operation,
}

impl Criterion {
    /// The command-line flag (and option name) that gives this criterion.
    pub fn flag(self) -> &'static str {
        match self {
            Criterion::Tag => "include-tag",
            Criterion::Path => "include-path",
            Criterion::Operation => "include-operation",
        }
    }

    /// The key of a manifest's `include` table that lists this criterion.
    pub fn key(self) -> &'static str {
        match self {
            Criterion::Tag => "tags",
            Criterion::Path => "paths",
            Criterion::Operation => "operations",
        }
    }
}

/// A listed value that keeps no operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmatched {
    /// Which list it is in.
    pub criterion: Criterion,
    /// The value as given.
    pub value: String,
}

impl Include {
    /// Whether the filter lists nothing (keep every operation).
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.paths.is_empty() && self.operations.is_empty()
    }

    /// Whether an operation with this id, path and tags is kept.
    pub fn keeps(&self, id: &str, path: &str, tags: &[String]) -> bool {
        self.is_empty() || !self.matching(id, path, tags).is_empty()
    }

    /// The criteria that an operation with this id, path and tags matches.
    fn matching(&self, id: &str, path: &str, tags: &[String]) -> Vec<(Criterion, &str)> {
        let tags = self
            .tags
            .iter()
            .filter(|t| tags.contains(t))
            .map(|t| (Criterion::Tag, t.as_str()));
        let paths = self
            .paths
            .iter()
            .filter(|p| path_has_prefix(path, p))
            .map(|p| (Criterion::Path, p.as_str()));
        let ids = self
            .operations
            .iter()
            .filter(|o| *o == id)
            .map(|o| (Criterion::Operation, o.as_str()));
        tags.chain(paths).chain(ids).collect()
    }

    /// The listed values that keep none of `operations` (the operations the filter kept), in
    /// tag, path, operation order. A value that matches nothing is almost always a typo, and
    /// silently generating less than asked for would hide it.
    pub fn unmatched(&self, operations: &[Operation]) -> Vec<Unmatched> {
        let mut used: Vec<(Criterion, &str)> = Vec::new();
        for op in operations {
            used.extend(self.matching(&op.id, &op.path, &op.tags));
        }
        let listed = self
            .tags
            .iter()
            .map(|t| (Criterion::Tag, t))
            .chain(self.paths.iter().map(|p| (Criterion::Path, p)))
            .chain(self.operations.iter().map(|o| (Criterion::Operation, o)));
        listed
            .filter(|(criterion, value)| !used.contains(&(*criterion, value.as_str())))
            .map(|(criterion, value)| Unmatched {
                criterion,
                value: value.clone(),
            })
            .collect()
    }
}

fn path_has_prefix(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/'))
}

/// The tags of the document's operations, sorted: what a tag that matched nothing could have
/// been. Read from the raw document (paths and ids are many; `connector-gen inspect` lists them).
pub fn spec_tags(root: &Value) -> Vec<&str> {
    let mut tags: Vec<&str> = root
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
        .filter_map(|op| op.get("tags")?.as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    tags.sort_unstable();
    tags.dedup();
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn include(tags: &[&str], paths: &[&str], operations: &[&str]) -> Include {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        Include {
            tags: owned(tags),
            paths: owned(paths),
            operations: owned(operations),
        }
    }

    #[test]
    fn a_filter_keeps_the_union_of_its_criteria() {
        let filter = include(&["pets"], &["/store"], &["getUser"]);
        let tags = |t: &[&str]| t.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(filter.keeps("listPets", "/pets", &tags(&["pets"])));
        assert!(filter.keeps("getOrder", "/store/order/{id}", &[]));
        assert!(filter.keeps("getUser", "/user/{name}", &tags(&["user"])));
        assert!(!filter.keeps("deleteUser", "/user/{name}", &tags(&["user"])));
        assert!(Include::default().keeps("anything", "/x", &[]));
        // A prefix matches whole segments.
        let repos = include(&[], &["/repos"], &[]);
        assert!(repos.keeps("a", "/repos", &[]));
        assert!(repos.keeps("b", "/repos/{owner}/{repo}", &[]));
        assert!(!repos.keeps("c", "/repositories", &[]));
        assert!(include(&[], &["/repos/"], &[]).keeps("d", "/repos/{owner}", &[]));
        assert!(!include(&[], &["/st"], &[]).keeps("e", "/store", &[]));
    }
}
