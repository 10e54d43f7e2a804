//! Emit: files are written atomically, and only when their bytes changed, so `build.rs` users do
//! not rebuild for nothing and an interrupted run never leaves a half-written file.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::error::Error;

/// Whether a file was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The file was created or its content replaced.
    Changed,
    /// The file already had these bytes.
    Unchanged,
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<Written, Error> {
    if std::fs::read(path).is_ok_and(|existing| existing == bytes) {
        return Ok(Written::Unchanged);
    }
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(io("creating directory", dir))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(source) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Io {
            action: "writing",
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(Written::Changed)
}

/// Joins a relative path made by the generator onto `root`, refusing anything that could leave
/// it (absolute paths, `..`), whatever names a spec supplies.
pub fn inside(root: &Path, relative: &str) -> Result<PathBuf, Error> {
    let rel = Path::new(relative);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(Error::InvalidOption {
            option: "output path",
            message: format!("{relative:?} would leave the output directory"),
        });
    }
    Ok(root.join(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.rs");
        assert_eq!(write_if_changed(&path, b"x").unwrap(), Written::Changed);
        assert_eq!(write_if_changed(&path, b"x").unwrap(), Written::Unchanged);
        assert_eq!(write_if_changed(&path, b"y").unwrap(), Written::Changed);
        assert_eq!(std::fs::read(&path).unwrap(), b"y");
        let leftovers = std::fs::read_dir(dir.path().join("a")).unwrap().count();
        assert_eq!(leftovers, 1);
    }

    #[test]
    fn paths_stay_inside() {
        let root = Path::new("/out");
        assert!(inside(root, "src/lib.rs").is_ok());
        assert!(inside(root, "../x").is_err());
        assert!(inside(root, "/etc/passwd").is_err());
        assert!(inside(root, "src/../../x").is_err());
    }
}
