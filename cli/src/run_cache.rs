//! The run cache: the descriptor one interpreted call needs, kept on disk so that running an
//! action of the same spec again does not read and lower the whole spec again (GitHub's 13 MB
//! spec took about a third of a second to lower for every `connector-gen run`).
//!
//! An entry is keyed by the SHA-256 of the spec's bytes, the generator's version (and its
//! program's size and modification time, for builds from changed sources), the options that
//! change what lowering makes, and the action: a spec that changed in any byte, or another
//! generator, finds no entry. Each entry is one file in the user's cache folder
//! (`$CONNECTOR_GEN_CACHE`, else `$XDG_CACHE_HOME/connector-gen`, `~/.cache/connector-gen`,
//! `~/Library/Caches/connector-gen` or `%LOCALAPPDATA%\connector-gen`); `CONNECTOR_GEN_CACHE=off`
//! turns the cache off. An entry is written to a temporary file beside it and renamed into place,
//! so readers see a whole entry or none, and concurrent writers each put a whole entry there.
//! An entry starts with a header naming its format, its key and the SHA-256 of the rest: one
//! that does not match (corrupt, cut short, written by another version, or for another key) is
//! not trusted; the descriptor is built from the spec and the entry written again. Failing to
//! write (a read-only folder, a full disk) only means the next run builds it again.
//!
//! The module knows nothing of the command line: callers give the spec's bytes, the options and
//! the action, and a way to build the descriptor when there is no entry.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use connector_gen::interpret::action_descriptor;
use connector_gen::Options;
use connector_runtime::descriptor::ConnectorDescriptor;

/// The environment variable naming the cache folder, or `off` to turn the cache off.
pub const CACHE_ENV: &str = "CONNECTOR_GEN_CACHE";

/// The first word of every entry, with the entry format's number: a format change is a miss.
const MAGIC: &str = "connector-gen-run-cache/1";

/// The generator that wrote an entry: another version lowers differently.
const GENERATOR: &str = concat!("connector-gen ", env!("CARGO_PKG_VERSION"));

/// A folder of run cache entries.
#[derive(Debug, Clone)]
pub struct RunCache {
    dir: PathBuf,
}

impl RunCache {
    /// The user's run cache, as the environment says (see the module docs); `None` when it is
    /// turned off or no cache folder can be found.
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        if let Some(value) = var(CACHE_ENV) {
            return match value.to_str() {
                Some("off" | "0" | "false" | "no") => None,
                _ => Some(Self::at(PathBuf::from(value))),
            };
        }
        let base = if let Some(xdg) = var("XDG_CACHE_HOME") {
            PathBuf::from(xdg)
        } else if cfg!(windows) {
            PathBuf::from(var("LOCALAPPDATA")?)
        } else if cfg!(target_os = "macos") {
            PathBuf::from(var("HOME")?).join("Library").join("Caches")
        } else {
            PathBuf::from(var("HOME")?).join(".cache")
        };
        Some(Self::at(base.join("connector-gen")))
    }

    /// A cache in `dir` (created when the first entry is written).
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The descriptor for running `action` of the spec `spec` (its bytes): the cached one when
    /// a trustworthy entry exists, else the one `build` makes, which is then written to the
    /// cache. An error of `build` is returned as it is and nothing is written.
    pub fn descriptor<E>(
        &self,
        spec: &[u8],
        options: &Options,
        action: &str,
        build: impl FnOnce() -> Result<ConnectorDescriptor, E>,
    ) -> Result<ConnectorDescriptor, E> {
        let key = Key::new(spec, options, action);
        let path = self.dir.join(format!("{}.json", key.digest));
        if let Some(descriptor) = read_entry(&path, &key) {
            return Ok(descriptor);
        }
        let descriptor = build()?;
        // A cache that cannot be written costs the next run the build, nothing more.
        let _ = write_entry(&self.dir, &path, &key, &descriptor);
        Ok(descriptor)
    }
}

/// What an entry is for, and its digest (the entry's file name).
struct Key {
    /// The key's text: spec digest, generator, options, action.
    text: String,
    digest: String,
}

impl Key {
    fn new(spec: &[u8], options: &Options, action: &str) -> Self {
        // Only what changes the lowered connector counts; the action is JSON-quoted so that no
        // action name can run into the next field.
        let text = format!(
            "spec {}\ngenerator {GENERATOR} {}\nname {:?}\nmax {}\ninclude {:?}\naction {}",
            hex(&sha256(spec)),
            build_identity(),
            options.name,
            options.max_spec_bytes,
            options.include,
            serde_json::Value::from(action),
        );
        let digest = hex(&sha256(text.as_bytes()));
        Self { text, digest }
    }
}

/// The running program's size and modification time: a generator built again from changed
/// sources keeps its version number, and must not trust what the previous build wrote.
fn build_identity() -> String {
    let metadata = std::env::current_exe().and_then(std::fs::metadata);
    match metadata {
        Ok(metadata) => {
            let modified = metadata
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} {modified}", metadata.len())
        }
        // Unknown: a key no other run shares, so nothing is trusted.
        Err(_) => format!("unknown {}", std::process::id()),
    }
}

/// SHA-256 of `bytes`.
fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xF)]));
    }
    out
}

/// The header of an entry: magic, the SHA-256 of the payload, the key's digest.
fn header(payload: &[u8], key: &Key) -> String {
    format!("{MAGIC} {} {}\n", hex(&sha256(payload)), key.digest)
}

/// The entry at `path` when it is whole and for `key`; `None` for a missing, corrupt or stale
/// one (never an error: the caller builds the descriptor instead).
fn read_entry(path: &Path, key: &Key) -> Option<ConnectorDescriptor> {
    let bytes = std::fs::read(path).ok()?;
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let (head, payload) = (&bytes[..=newline], &bytes[newline + 1..]);
    if head != header(payload, key).as_bytes() {
        return None;
    }
    let entry: Entry = serde_json::from_slice(payload).ok()?;
    // The digest names the key; the full key is compared too, so that not even a digest
    // collision is trusted.
    (entry.key == key.text).then_some(entry.descriptor)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    key: String,
    descriptor: ConnectorDescriptor,
}

/// Writes the entry for `key` atomically: a temporary file in `dir`, renamed to `path`.
fn write_entry(
    dir: &Path,
    path: &Path,
    key: &Key,
    descriptor: &ConnectorDescriptor,
) -> std::io::Result<()> {
    let entry = Entry {
        key: key.text.clone(),
        descriptor: descriptor.clone(),
    };
    let payload = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
    std::fs::create_dir_all(dir)?;
    // A name no other writer uses: this process's id and a count of its writes; `create_new`
    // refuses a file left behind by a process that had the same id.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let (tmp, mut file) = loop {
        let n = WRITES.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{}.{}.{n}.tmp", key.digest, std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => break (tmp, file),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        }
    };
    let written = file
        .write_all(header(&payload, key).as_bytes())
        .and_then(|()| file.write_all(&payload))
        .and_then(|()| {
            drop(file);
            std::fs::rename(&tmp, path)
        });
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// [`action_descriptor`] through `cache` (when there is one): the spec at `path` is read, and
/// lowered only when the cache has no entry for it.
pub fn cached_action_descriptor(
    path: &Path,
    options: &Options,
    action: &str,
    cache: Option<&RunCache>,
) -> Result<ConnectorDescriptor, connector_gen::Error> {
    let spec = connector_gen::read_spec(path)?;
    match cache {
        Some(cache) => cache.descriptor(&spec, options, action, || {
            action_descriptor(&spec, options, action)
        }),
        None => action_descriptor(&spec, options, action),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn descriptor(title: &str) -> ConnectorDescriptor {
        ConnectorDescriptor {
            name: Cow::Borrowed("demo"),
            title: Cow::Owned(title.to_owned()),
            version: Cow::Borrowed("1"),
            servers: Cow::Borrowed(&[]),
            security_schemes: Cow::Borrowed(&[]),
            operations: Cow::Borrowed(&[]),
            catalogue: Some(Cow::Borrowed("{}")),
        }
    }

    /// The descriptor and how many times it was built.
    fn get(cache: &RunCache, spec: &[u8], action: &str, built: &mut u32) -> ConnectorDescriptor {
        cache
            .descriptor(spec, &Options::default(), action, || {
                *built += 1;
                Ok::<_, ()>(descriptor(action))
            })
            .unwrap()
    }

    fn only_entry(dir: &Path) -> PathBuf {
        let entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries.into_iter().next().unwrap()
    }

    #[test]
    fn a_second_run_reads_what_the_first_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RunCache::at(dir.path().join("cache"));
        let mut built = 0;
        let first = get(&cache, b"spec", "getPet", &mut built);
        let second = get(&cache, b"spec", "getPet", &mut built);
        assert_eq!(built, 1);
        assert_eq!(first, second);
    }

    #[test]
    fn another_spec_action_or_option_is_another_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RunCache::at(dir.path());
        let mut built = 0;
        get(&cache, b"spec", "getPet", &mut built);
        get(&cache, b"spec!", "getPet", &mut built);
        get(&cache, b"spec", "listPets", &mut built);
        let named = Options {
            name: Some("other".into()),
            ..Options::default()
        };
        cache
            .descriptor(b"spec", &named, "getPet", || {
                built += 1;
                Ok::<_, ()>(descriptor("named"))
            })
            .unwrap();
        assert_eq!(built, 4);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }

    #[test]
    fn a_corrupt_entry_is_not_trusted_and_is_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RunCache::at(dir.path());
        let mut built = 0;
        get(&cache, b"spec", "getPet", &mut built);
        let path = only_entry(dir.path());
        let whole = std::fs::read(&path).unwrap();
        // A changed byte inside a string (still valid JSON), a cut, a stranger's file.
        let mut flipped = whole.clone();
        let at = flipped.len() - 20;
        flipped[at] ^= 0x01;
        let corruptions = [flipped, whole[..whole.len() / 2].to_vec(), b"{}".to_vec()];
        for corrupt in corruptions {
            std::fs::write(&path, &corrupt).unwrap();
            let before = built;
            assert_eq!(
                get(&cache, b"spec", "getPet", &mut built),
                descriptor("getPet")
            );
            assert_eq!(built, before + 1, "a corrupt entry was trusted");
            assert_eq!(std::fs::read(&path).unwrap(), whole, "not written again");
        }
    }

    #[test]
    fn an_entry_for_another_key_under_this_name_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RunCache::at(dir.path());
        let mut built = 0;
        get(&cache, b"spec", "getPet", &mut built);
        let theirs = only_entry(dir.path());
        get(&cache, b"spec", "listPets", &mut built);
        // listPets' entry moved into getPet's place: whole and checksummed, but for another key.
        let ours = Key::new(b"spec", &Options::default(), "getPet");
        let ours = dir.path().join(format!("{}.json", ours.digest));
        let other = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| *p != theirs)
            .unwrap();
        assert_eq!(theirs, ours);
        std::fs::copy(&other, &ours).unwrap();
        assert_eq!(
            get(&cache, b"spec", "getPet", &mut built),
            descriptor("getPet")
        );
        assert_eq!(built, 3);
    }

    #[test]
    fn a_failed_build_writes_nothing_and_an_unwritable_folder_still_gives_the_descriptor() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RunCache::at(dir.path().join("c"));
        let failed = cache.descriptor(b"spec", &Options::default(), "a", || Err::<_, &str>("no"));
        assert_eq!(failed, Err("no"));
        assert!(!dir.path().join("c").exists());
        // A file where the folder should be: nothing can be written, the call still works.
        let blocked = dir.path().join("file");
        std::fs::write(&blocked, "x").unwrap();
        let cache = RunCache::at(&blocked);
        let mut built = 0;
        get(&cache, b"spec", "a", &mut built);
        get(&cache, b"spec", "a", &mut built);
        assert_eq!(built, 2);
    }

    #[test]
    fn concurrent_writers_leave_one_whole_entry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = RunCache::at(dir.path());
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..20 {
                        let mut built = 0;
                        let d = get(&cache, b"spec", "getPet", &mut built);
                        assert_eq!(d, descriptor("getPet"));
                    }
                });
            }
        });
        let path = only_entry(dir.path());
        let key = Key::new(b"spec", &Options::default(), "getPet");
        assert_eq!(read_entry(&path, &key), Some(descriptor("getPet")));
    }

    /// The one-operation descriptor `run` uses gives the same operation, schemes, servers and
    /// catalogue entry (action and definitions) as the whole connector does, for every
    /// operation of the sample specs.
    #[test]
    fn one_action_lowered_alone_is_described_as_in_the_whole_connector() {
        let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../specs");
        let mut checked = 0;
        for name in [
            "petstore.yaml",
            "entities.yaml",
            "auth.yaml",
            "bodies.yaml",
            "parameters.yaml",
            "responses.yaml",
            "servers.yaml",
            "schemas.yaml",
        ] {
            let bytes = std::fs::read(specs.join(name)).unwrap();
            let options = Options::default();
            let whole = connector_gen::load_connector(&bytes, &options)
                .unwrap()
                .connector;
            let full = connector_gen::describe::without_catalogue(&whole);
            for op in &whole.operations {
                let alone = action_descriptor(&bytes, &options, &op.id).unwrap();
                // servers.yaml's operations have servers with variables of their own, which a
                // connection may set whatever it runs: there the whole connector is described.
                let lowered = if name == "servers.yaml" {
                    whole.operations.len()
                } else {
                    1
                };
                assert_eq!(alone.operations.len(), lowered, "{name} {}", op.id);
                assert_eq!(alone.operation(&op.id), full.operation(&op.id), "{name}");
                assert_eq!(alone.security_schemes, full.security_schemes, "{name}");
                assert_eq!(alone.servers, full.servers, "{name}");
                assert_eq!((&alone.name, &alone.title), (&full.name, &full.title));
                let mut expected =
                    serde_json::to_value(connector_gen::catalogue::catalogue_of(&whole, |o| {
                        o.id == op.id
                    }))
                    .unwrap();
                let mut got: serde_json::Value =
                    serde_json::from_str(alone.catalogue.as_deref().unwrap()).unwrap();
                // Entities and the ping are made of several operations, and a run uses
                // neither; the whole connector's catalogue also has the definitions its entities
                // reach. Every definition of the action's own is the same.
                let mut defs = Vec::new();
                for catalogue in [&mut expected, &mut got] {
                    let object = catalogue.as_object_mut().unwrap();
                    object.remove("entities");
                    object.remove("ping");
                    defs.push(object.remove("$defs").unwrap_or_default());
                }
                let (all, own) = (&defs[0], &defs[1]);
                for (def, schema) in own.as_object().into_iter().flatten() {
                    assert_eq!(Some(schema), all.get(def), "{name} {} {def}", op.id);
                }
                assert_eq!(got, expected, "{name} {}", op.id);
                checked += 1;
            }
        }
        assert!(checked > 40, "{checked}");
        // An unknown action gets the whole connector, for the did-you-mean hint.
        let bytes = std::fs::read(specs.join("petstore.yaml")).unwrap();
        let unknown = action_descriptor(&bytes, &Options::default(), "getPett").unwrap();
        assert!(unknown.operations.len() > 1);
    }
}
