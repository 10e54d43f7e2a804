//! The secrets file of a connection: where `login` stores the OAuth tokens it obtains, and where
//! the runtime keeps a refresh token the server rotated, so that the next process starts from
//! the current one. JSON, beside the connection file by default (`NAME.secrets.json`), created
//! with mode 0600 and replaced atomically (written to a temporary file, then renamed).

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::secret::Secret;

/// The format's version, written in every file.
const VERSION: u64 = 1;

/// The tokens of one security scheme, as a secrets file keeps them.
///
/// `Debug` never shows a token.
#[derive(Debug, Clone, Default)]
pub struct StoredTokens {
    /// The access token.
    pub access_token: Option<Secret>,
    /// The refresh token: the current one of its family when the server rotates them.
    pub refresh_token: Option<Secret>,
    /// When the access token expires.
    pub expires_at: Option<SystemTime>,
    /// The scopes the tokens were granted for, when the server said.
    pub scopes: Vec<String>,
    /// Which login the tokens descend from: processes that share rotated refresh tokens (through
    /// Redis) share them per login, so that tokens from an older login are never picked up.
    pub family: Option<String>,
}

/// A connection's secrets file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretsFile {
    path: PathBuf,
}

impl SecretsFile {
    /// The secrets file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The default secrets file of the connection file at `connection`: `NAME.secrets.json`
    /// beside it.
    pub fn beside(connection: &Path) -> Self {
        let stem = connection
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "connection".to_owned());
        let file = format!("{stem}.secrets.json");
        Self::new(match connection.parent() {
            Some(dir) => dir.join(file),
            None => PathBuf::from(file),
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The tokens of every scheme the file holds; none when the file does not exist.
    pub fn read(&self) -> Result<BTreeMap<String, StoredTokens>, Error> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(err) => return Err(self.problem(format!("cannot read it: {}", err.kind()))),
        };
        warn_if_shared(&self.path);
        // The message never quotes the file: it holds tokens.
        let value: Value = serde_json::from_str(&text)
            .map_err(|err| self.problem(format!("not JSON (line {})", err.line())))?;
        let schemes = value
            .get("schemes")
            .and_then(Value::as_object)
            .ok_or_else(|| self.problem("no `schemes` table".into()))?;
        let mut out = BTreeMap::new();
        for (name, entry) in schemes {
            let text = |key: &str| entry.get(key).and_then(Value::as_str).map(str::to_owned);
            out.insert(
                name.clone(),
                StoredTokens {
                    access_token: text("access_token").map(Secret::new),
                    refresh_token: text("refresh_token").map(Secret::new),
                    expires_at: entry
                        .get("expires_at")
                        .and_then(Value::as_u64)
                        .map(|s| UNIX_EPOCH + Duration::from_secs(s)),
                    scopes: entry
                        .get("scopes")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                    family: text("family"),
                },
            );
        }
        Ok(out)
    }

    /// Stores the tokens of `scheme`, keeping the other schemes' entries; the file is created
    /// with mode 0600 and replaced atomically.
    pub fn store(&self, scheme: &str, tokens: &StoredTokens) -> Result<(), Error> {
        let mut root = match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str::<Value>(&text)
                .ok()
                .filter(Value::is_object)
                .unwrap_or_else(|| json!({})),
            Err(_) => json!({}),
        };
        let mut entry = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(value) = value {
                entry.insert(key.to_owned(), value);
            }
        };
        put(
            "access_token",
            tokens.access_token.as_ref().map(|t| t.expose().into()),
        );
        put(
            "refresh_token",
            tokens.refresh_token.as_ref().map(|t| t.expose().into()),
        );
        put(
            "expires_at",
            tokens
                .expires_at
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs().into()),
        );
        put(
            "scopes",
            (!tokens.scopes.is_empty()).then(|| tokens.scopes.clone().into()),
        );
        put("family", tokens.family.clone().map(Value::from));
        let Some(object) = root.as_object_mut() else {
            return Err(self.problem("not a JSON object".into()));
        };
        object.insert("version".into(), VERSION.into());
        let schemes = object
            .entry("schemes")
            .or_insert_with(|| json!({}))
            .as_object_mut();
        match schemes {
            Some(schemes) => {
                schemes.insert(scheme.to_owned(), Value::Object(entry));
            }
            None => return Err(self.problem("`schemes` is not a table".into())),
        }
        let text = serde_json::to_string_pretty(&root).unwrap_or_default() + "\n";
        write_private(&self.path, text.as_bytes())
            .map_err(|err| self.problem(format!("cannot write it: {}", err.kind())))
    }

    fn problem(&self, message: String) -> Error {
        Error::Config {
            key: "secrets_file".into(),
            message: format!("{}: {message}", self.path.display()),
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same folder, created readable by its
/// owner only, then renamed over `path`: a reader sees the old file or the new one, never half.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let written = options.open(&temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let renamed = written.and_then(|()| std::fs::rename(&temp, path));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    renamed
}

/// Logs a warning when others than the owner may read the file.
fn warn_if_shared(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    "the secrets file can be read by other users; `chmod 600` it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_reads_tokens_privately_keeping_other_schemes() {
        let dir = tempfile::tempdir().unwrap();
        let connection = dir.path().join("acme.toml");
        let file = SecretsFile::beside(&connection);
        assert_eq!(file.path(), dir.path().join("acme.secrets.json"));
        assert!(file.read().unwrap().is_empty());
        let expires = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
        let tokens = StoredTokens {
            access_token: Some(Secret::new("at-1")),
            refresh_token: Some(Secret::new("rt-1")),
            expires_at: Some(expires),
            scopes: vec!["read".into()],
            family: Some("f1".into()),
        };
        file.store("oauth", &tokens).unwrap();
        file.store(
            "other",
            &StoredTokens {
                refresh_token: Some(Secret::new("rt-x")),
                ..Default::default()
            },
        )
        .unwrap();
        let read = file.read().unwrap();
        let oauth = &read["oauth"];
        assert_eq!(oauth.access_token.as_ref().unwrap().expose(), "at-1");
        assert_eq!(oauth.refresh_token.as_ref().unwrap().expose(), "rt-1");
        assert_eq!(oauth.expires_at, Some(expires));
        assert_eq!(oauth.scopes, ["read"]);
        assert_eq!(oauth.family.as_deref(), Some("f1"));
        assert_eq!(
            read["other"].refresh_token.as_ref().unwrap().expose(),
            "rt-x"
        );
        assert!(format!("{oauth:?}").contains("[REDACTED]"));
        assert!(!format!("{oauth:?}").contains("at-1"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn a_broken_file_is_an_error_that_quotes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.secrets.json");
        std::fs::write(&path, "{\"schemes\": {\"oauth\": \"sk_live_CANARY\"").unwrap();
        let err = SecretsFile::new(&path).read().unwrap_err().to_string();
        assert!(err.contains("not JSON"), "{err}");
        assert!(!err.contains("CANARY"), "{err}");
    }
}
