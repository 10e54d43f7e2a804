//! `search_actions`: words of a query against the words of each action's id, summary, tags and
//! path. Plain scoring with no index to build at start-up (GitHub's 1,223 actions are scored per
//! query in milliseconds), and the same result on every run.

use crate::catalogue::Action;

/// One action found, with its score.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    /// Index of the action in the catalogue.
    pub index: usize,
    /// Higher is better.
    pub score: f64,
}

/// The actions among `candidates` (indices into `actions`) that match `query`, best first
/// (ties in catalogue order), at most `limit`.
pub fn search(actions: &[Action], candidates: &[usize], query: &str, limit: usize) -> Vec<Found> {
    let wanted: Vec<String> = words(query);
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut found: Vec<Found> = candidates
        .iter()
        .filter_map(|&index| {
            let action = actions.get(index)?;
            let score = score(action, &wanted);
            (score > 0.0).then_some(Found { index, score })
        })
        .collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    found.truncate(limit);
    found
}

fn score(action: &Action, wanted: &[String]) -> f64 {
    let id = words(&action.id);
    let summary = words(action.summary.as_deref().unwrap_or_default());
    let tags: Vec<String> = action.tags.iter().flat_map(|t| words(t)).collect();
    let path = words(&action.path);
    let mut score = 0.0;
    let mut matched = 0usize;
    for word in wanted {
        let hit = [(&id, 3.0), (&summary, 2.0), (&tags, 1.5), (&path, 1.0)]
            .iter()
            .filter(|(words, _)| words.contains(word))
            .map(|(_, weight)| *weight)
            .sum::<f64>();
        if hit > 0.0 {
            matched += 1;
        }
        score += hit;
    }
    if matched == 0 {
        return 0.0;
    }
    // Every word found counts most; then fewer other words in the id (`issues/create` before
    // `issues/create-comment`).
    let extra = id.iter().filter(|w| !wanted.contains(w)).count();
    (matched as f64) * 10.0 + score - 0.5 * extra as f64
}

/// Lower-case words, split at non-alphanumerics and camelCase humps, each singular (`issues` →
/// `issue`), so that "create issue" finds `issues/create` and `createIssue`.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in text.chars() {
        if !c.is_alphanumeric() {
            flush(&mut word, &mut out);
            previous_lower = false;
            continue;
        }
        if c.is_uppercase() && previous_lower {
            flush(&mut word, &mut out);
        }
        previous_lower = c.is_lowercase() || c.is_ascii_digit();
        word.extend(c.to_lowercase());
    }
    flush(&mut word, &mut out);
    out
}

fn flush(word: &mut String, out: &mut Vec<String>) {
    if word.is_empty() {
        return;
    }
    let mut singular = std::mem::take(word);
    if singular.len() > 3 && singular.ends_with("ies") {
        singular.truncate(singular.len() - 3);
        singular.push('y');
    } else if singular.len() > 3 && singular.ends_with('s') && !singular.ends_with("ss") {
        singular.pop();
    }
    out.push(singular);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn action(id: &str, summary: &str) -> Action {
        Action {
            id: id.into(),
            method: "POST".into(),
            path: "/x".into(),
            summary: Some(summary.into()),
            description: None,
            tags: vec!["issues".into()],
            deprecated: false,
            idempotent: false,
            auth: Vec::new(),
            input_schema: serde_json::json!({}),
            output_schemas: Default::default(),
            output_headers: Default::default(),
            paging: None,
            servers: Vec::new(),
        }
    }

    #[test]
    fn words_split_humps_and_plurals() {
        assert_eq!(
            words("issues/create-comment"),
            ["issue", "create", "comment"]
        );
        assert_eq!(words("listPetsByID"), ["list", "pet", "by", "id"]);
        assert_eq!(words("Repositories"), ["repository"]);
    }

    #[test]
    fn the_closest_id_comes_first() {
        let actions = vec![
            action("issues/create-comment", "Create an issue comment"),
            action("issues/create", "Create an issue"),
            action("pulls/list", "List pull requests"),
        ];
        let found = search(&actions, &[0, 1, 2], "create issue", 10);
        let ids: Vec<&str> = found.iter().map(|f| actions[f.index].id.as_str()).collect();
        assert_eq!(ids[..2], ["issues/create", "issues/create-comment"]);
        assert!(search(&actions, &[0, 1, 2], "  ", 10).is_empty());
    }
}
