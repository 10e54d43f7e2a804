//! The lock file beside a manifest (`connector.lock`): each version's spec hash. A published
//! version does not change, so a spec that no longer matches its hash is refused unless the
//! caller says the change is intended; a new spec is meant to be a new version.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::LoadedManifest;
use crate::Error;

const HEADER: &str = "# Written by connector-gen: the SHA-256 of each version's spec.\n# A published version does not change; a new spec is a new version.\n";

/// Where the lock file of the manifest at `manifest` is.
pub fn path(manifest: &Path) -> PathBuf {
    manifest.with_extension("lock")
}

/// `sha256:` and the hex digest of `bytes`.
pub fn hash(bytes: &[u8]) -> String {
    let digest = hmac_sha256::Hash::hash(bytes);
    let mut out = String::from("sha256:");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// The lock file's text for `loaded`.
pub fn text(loaded: &LoadedManifest) -> String {
    let mut out = format!("{HEADER}\n[versions]\n");
    for version in &loaded.versions {
        out.push_str(&format!(
            "{} = \"{}\"\n",
            version.entry.id,
            hash(&version.spec_bytes)
        ));
    }
    out
}

/// Reads the lock file's hashes by version id; none when there is no lock file yet.
pub fn read(path: &Path) -> Result<BTreeMap<String, String>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(source) => {
            return Err(Error::Io {
                action: "reading lock file",
                path: path.to_path_buf(),
                source,
            })
        }
    };
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        versions: BTreeMap<String, String>,
    }
    let lock: Lock = toml::from_str(&text).map_err(|err| Error::Manifest {
        path: path.to_path_buf(),
        message: format!("the lock file is not valid: {}", err.message().trim()),
    })?;
    Ok(lock.versions)
}

/// Checks every version's spec against the lock file; a changed one is an error naming the
/// versions unless `allow_changed`. Returns the lock file's path and its new text.
pub fn check(loaded: &LoadedManifest, allow_changed: bool) -> Result<(PathBuf, String), Error> {
    let path = path(&loaded.path);
    let locked = read(&path)?;
    let changed: Vec<String> = loaded
        .versions
        .iter()
        .filter(|v| {
            locked
                .get(&v.entry.id)
                .is_some_and(|h| *h != hash(&v.spec_bytes))
        })
        .map(|v| format!("`{}` ({})", v.entry.id, v.spec_path.display()))
        .collect();
    if !changed.is_empty() && !allow_changed {
        return Err(Error::Manifest {
            path: loaded.path.clone(),
            message: format!(
                "the spec of published version(s) {} changed since {} was written; a published version does not change: add the new spec as a new version, or pass --allow-changed-spec if the change is intended",
                changed.join(", "),
                path.display()
            ),
        });
    }
    Ok((path, text(loaded)))
}
