//! Model files: one self-describing file per classifier, written atomically.
//!
//! Layout (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0–7 | magic `STANCEMF` |
//! | 8–11 | format version (`u32`, currently 9; files of versions 1 to 8, from before the decision rule, the solver, the refit and NB-weight options, the temperature, the values of C below the grid and the fingerprints of the texts a model was fitted and selected on were stored and before the weights were stored as the bytes of `f32`s, are refused) |
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
//!
//! Temporary files are named `.stance-model-*.tmp` ([`TEMP_PREFIX`]) and handled by
//! [`crate::atomic_write`]: removed on an error, and on SIGINT/SIGTERM by the command line
//! (see [`crate::interrupt`]); after SIGKILL one may remain beside a whole destination.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::atomic_write::AtomicFile;
use crate::classifier::Classifier;
use crate::error::{Error, ModelFileProblem, Result};

/// The first eight bytes of every model file.
pub const MAGIC: &[u8; 8] = b"STANCEMF";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u32 = 9;
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
            ModelFileProblem::TruncatedHeader {
                header: HEADER_LEN as u64,
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
        return Err(bad(ModelFileProblem::TruncatedHeader {
            header: HEADER_LEN as u64,
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
        // Saturating: a damaged or crafted header may declare up to u64::MAX bytes.
        return Err(bad(ModelFileProblem::Truncated {
            expected: (HEADER_LEN as u64).saturating_add(declared),
            found: bytes.len() as u64,
        }));
    }
    if content.len() as u64 != declared {
        return Err(bad(ModelFileProblem::Corrupted));
    }
    // The checksum and the decoding each take a pass over tens of megabytes: they run side by
    // side, and a decoded model counts only once the checksum has matched. (Decoding must be
    // safe on any bytes anyway: a file with a correct checksum can still be crafted.)
    let (digest, decoded) = rayon::join(
        || Sha256::digest(content),
        || postcard::from_bytes::<Classifier>(content),
    );
    if digest.as_slice() != &bytes[24..56] {
        return Err(bad(ModelFileProblem::Corrupted));
    }
    let mut classifier = decoded.map_err(|e| bad(ModelFileProblem::Invalid(e.to_string())))?;
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

/// The prefix of a model file's temporary name while it is written ([`crate::atomic_write`]).
pub const TEMP_PREFIX: &str = ".stance-model-";

/// Write a model file atomically: a temporary file beside `path` ([`AtomicFile`]), synced,
/// then renamed, creating `path`'s directory if need be.
///
/// While it runs, the temporary file is listed for [`crate::atomic_write::abandon_writes`];
/// on any error it is removed. Nothing here touches signals: a library caller's process is
/// never ended by it.
pub fn save(classifier: &Classifier, path: &Path) -> Result<()> {
    prepare(classifier, path)?.commit()
}

/// A model file written to its temporary file by [`prepare`], not yet in place: commit it,
/// or drop it to leave the destination as it was.
pub struct PreparedModel {
    file: AtomicFile,
}

/// The first half of [`save`]: write the model to a temporary file beside `path` (creating
/// `path`'s directory if need be), so that a caller with more to do — a report to write,
/// results to print — can put the model in place only once all of that has succeeded.
pub fn prepare(classifier: &Classifier, path: &Path) -> Result<PreparedModel> {
    let bytes = to_bytes(classifier)?;
    let file = AtomicFile::create(path, TEMP_PREFIX).map_err(|e| Error::io(path, e))?;
    let mut writer = file.file();
    writer
        .write_all(&bytes)
        .map_err(|e| Error::io(file.path(), e))?;
    Ok(PreparedModel { file })
}

impl PreparedModel {
    /// Put the model in place: synced, renamed and the directory synced.
    pub fn commit(self) -> Result<()> {
        let path = self.file.destination().to_path_buf();
        self.file.commit().map_err(|e| Error::io(path, e))
    }
}
