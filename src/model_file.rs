//! Model files: one self-describing file per classifier, written atomically.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0–7 | magic `STANCEMF` |
//! | 8–11 | format version (`u32`, currently 1) |
//! | 12–15 | reserved, zero |
//! | 16–23 | content length in bytes (`u64`) |
//! | 24–55 | SHA-256 of the content |
//! | 56– | content: the [`Classifier`] encoded with `postcard` |
//!
//! The header is checked before anything is decoded, so a file that is not a model, of
//! another version, truncated or altered is refused with a message saying which. Lengths
//! inside the content are bounded by the file's size (postcard never reads past its input and
//! serde caps pre-allocation). Loading runs no code from the file. Writing goes to a
//! temporary file in the destination's directory, synced, then renamed over the
//! destination: a reader sees the old model or the new one, never part of one.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::classifier::Classifier;
use crate::error::{Error, ModelFileProblem, Result};

/// The first eight bytes of every model file.
pub const MAGIC: &[u8; 8] = b"STANCEMF";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 56;

/// Encode a classifier as the bytes of a model file.
pub fn to_bytes(classifier: &Classifier) -> Result<Vec<u8>> {
    let content = postcard::to_allocvec(classifier)
        .map_err(|e| Error::Training(format!("could not encode the model: {e}")))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + content.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&(content.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(&content));
    bytes.extend_from_slice(&content);
    Ok(bytes)
}

/// Decode the bytes of a model file; `path` is used in messages only.
pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Classifier> {
    let bad = |kind| Error::BadModel {
        path: path.to_path_buf(),
        kind,
    };
    if bytes.len() < MAGIC.len() {
        return Err(bad(if !bytes.is_empty() && MAGIC.starts_with(bytes) {
            ModelFileProblem::Truncated {
                expected: HEADER_LEN as u64,
                found: bytes.len() as u64,
            }
        } else {
            ModelFileProblem::NotAModel
        }));
    }
    if &bytes[..8] != MAGIC {
        return Err(bad(ModelFileProblem::NotAModel));
    }
    if bytes.len() < HEADER_LEN {
        return Err(bad(ModelFileProblem::Truncated {
            expected: HEADER_LEN as u64,
            found: bytes.len() as u64,
        }));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap());
    if version != FORMAT_VERSION {
        return Err(bad(ModelFileProblem::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        }));
    }
    let declared = u64::from_le_bytes(bytes[16..24].try_into().unwrap());
    let content = &bytes[HEADER_LEN..];
    if (content.len() as u64) < declared {
        return Err(bad(ModelFileProblem::Truncated {
            expected: HEADER_LEN as u64 + declared,
            found: bytes.len() as u64,
        }));
    }
    if content.len() as u64 != declared || Sha256::digest(content).as_slice() != &bytes[24..56] {
        return Err(bad(ModelFileProblem::Corrupted));
    }
    let mut classifier: Classifier =
        postcard::from_bytes(content).map_err(|e| bad(ModelFileProblem::Invalid(e.to_string())))?;
    check(&classifier).map_err(|e| bad(ModelFileProblem::Invalid(e)))?;
    classifier.vectorizer.rebuild_indexes();
    Ok(classifier)
}

fn check(classifier: &Classifier) -> std::result::Result<(), String> {
    classifier.vectorizer.check()?;
    classifier.model.check(classifier.vectorizer.n_features())?;
    if classifier.labels.len() != classifier.model.n_classes {
        return Err("label names do not match the number of classes".into());
    }
    Ok(())
}

/// Read and check a model file.
pub fn load(path: &Path) -> Result<Classifier> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    from_bytes(&bytes, path)
}

/// The mode for a new model file: the replaced file's, or else read-write for all less
/// the umask (as for any file a program creates), not the temporary file's owner-only.
fn model_permissions(path: &Path) -> fs::Permissions {
    if let Ok(meta) = fs::metadata(path) {
        return meta.permissions();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::Permissions::from_mode(0o666)
    }
    #[cfg(not(unix))]
    {
        let mut p = fs::metadata(".")
            .map(|m| m.permissions())
            .expect("current directory");
        p.set_readonly(false);
        p
    }
}

/// Write a model file atomically: a temporary file beside `path`, synced, then renamed.
pub fn save(classifier: &Classifier, path: &Path) -> Result<()> {
    let bytes = to_bytes(classifier)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".stance-model-")
        .suffix(".tmp")
        .permissions(model_permissions(path))
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(&bytes)
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    if let Ok(d) = File::open(dir) {
        // Make the rename itself durable where the platform allows it.
        let _ = d.sync_all();
    }
    Ok(())
}
