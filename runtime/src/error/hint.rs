//! Did-you-mean hints for names given wrong (config keys, action ids).

/// `; did you mean `x`?` for the closest known name, if one is close: at most two edits
/// (a swap of neighbours counts as one) and fewer than half the name's length.
pub(crate) fn hint<'a>(given: &str, known: impl Iterator<Item = &'a str>) -> String {
    let given_lower = given.to_ascii_lowercase();
    let best = known
        .map(|k| {
            (
                strsim::damerau_levenshtein(&given_lower, &k.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(distance, _)| *distance <= 2 && distance * 2 <= given.chars().count())
        .min_by_key(|(distance, _)| *distance);
    match best {
        Some((_, name)) => format!("; did you mean `{name}`?"),
        None => String::new(),
    }
}
