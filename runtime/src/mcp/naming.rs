//! Tool names every client accepts (RELIABILITY MC-5): at most 64 characters of `A-Za-z0-9_-`,
//! unique, and stable across runs. Several clients cut or reject names longer than 64 characters
//! or with other characters, although the protocol allows 128 and `.`.
//!
//! A name that is already valid is kept; another character becomes `_`; a name that is too long,
//! or that clashes with one kept before it, is shortened and ends in `_` and eight hex digits of a
//! hash of what it names. The hash (FNV-1a) is written here, so it is the same on every platform
//! and in every release.

use std::collections::BTreeSet;

/// The longest tool name served.
pub const MAX_NAME: usize = 64;

/// Length of the hash suffix, `_` included.
const SUFFIX: usize = 9;

/// One tool to name: what the name says (an action id, `pets_list`) and a key naming what the
/// tool does (`action:ID`, `entity:pets:list`), which the hash of a shortened name is taken of.
pub struct Wanted<'a> {
    /// The name the tool would have in a world without limits.
    pub name: &'a str,
    /// What the tool stands for, unique among the tools.
    pub key: &'a str,
}

/// Names for `wanted`, in the same order. Tools whose wanted name is valid as it is come first
/// in claiming it (in the given order among them), so that a sanitised name never takes an exact
/// one's place.
pub fn assign(wanted: &[Wanted<'_>]) -> Vec<String> {
    let mut names: Vec<Option<String>> = vec![None; wanted.len()];
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let exact = |w: &Wanted<'_>| is_valid(w.name);
    // First the exact names, then the sanitised ones: each keeps its name when still free.
    for pass_exact in [true, false] {
        for (i, w) in wanted.iter().enumerate() {
            if exact(w) != pass_exact {
                continue;
            }
            let plain = sanitise(w.name);
            if plain.len() <= MAX_NAME && !plain.is_empty() && taken.insert(plain.clone()) {
                names[i] = Some(plain);
            }
        }
    }
    // What is left is too long or clashes: shortened, with the hash of its key.
    for (i, w) in wanted.iter().enumerate() {
        if names[i].is_some() {
            continue;
        }
        let mut salt = 0u32;
        let name = loop {
            let candidate = hashed(w.name, w.key, salt);
            if taken.insert(candidate.clone()) {
                break candidate;
            }
            salt += 1;
        };
        names[i] = Some(name);
    }
    names.into_iter().map(Option::unwrap_or_default).collect()
}

/// Whether `name` is a tool name as served: 1 to 64 characters of `A-Za-z0-9_-`.
pub fn is_valid(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME && name.bytes().all(allowed)
}

fn allowed(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-'
}

/// `name` with every character outside `A-Za-z0-9_-` replaced by `_`.
fn sanitise(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii() && allowed(c as u8) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The sanitised name cut to leave room for `_` and eight hex digits of the key's hash.
fn hashed(name: &str, key: &str, salt: u32) -> String {
    let mut prefix = sanitise(name);
    prefix.truncate(MAX_NAME - SUFFIX);
    let mut text = key.to_owned();
    if salt > 0 {
        text.push_str(&format!("#{salt}"));
    }
    format!("{prefix}_{:08x}", fnv1a(text.as_bytes()) as u32)
}

/// 64-bit FNV-1a: small, fixed, and good enough to tell a few thousand names apart.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(wanted: &[(&str, &str)]) -> Vec<String> {
        let wanted: Vec<Wanted<'_>> = wanted
            .iter()
            .map(|(name, key)| Wanted { name, key })
            .collect();
        assign(&wanted)
    }

    #[test]
    fn valid_names_are_kept_and_others_sanitised() {
        assert_eq!(
            names(&[("getPet", "a:getPet"), ("issues/create", "a:issues/create")]),
            ["getPet", "issues_create"]
        );
    }

    #[test]
    fn long_and_clashing_names_get_a_stable_hash_suffix() {
        let long = "a".repeat(100);
        let got = names(&[("a_b", "x"), ("a/b", "y"), (&long, "z")]);
        assert_eq!(got[0], "a_b", "the exact name keeps its place");
        assert!(got[1].starts_with("a_b_") && got[1].len() == 12, "{got:?}");
        assert_eq!(got[2].len(), MAX_NAME);
        assert!(got.iter().all(|n| is_valid(n)), "{got:?}");
        // The order of the tools does not change what each one is called.
        let again = names(&[(&long, "z"), ("a/b", "y"), ("a_b", "x")]);
        assert_eq!(again, [got[2].clone(), got[1].clone(), got[0].clone()]);
    }

    #[test]
    fn the_hash_is_fixed() {
        // FNV-1a's published test vector: names must not change between releases.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
