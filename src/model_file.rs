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
//! Temporary files are named `.stance-model-*.tmp`. Every one that [`save`] is writing is
//! listed in a process-wide registry, so that [`abandon_saves`] (called by the command
//! line's SIGINT/SIGTERM handling, see [`crate::interrupt`]) can remove it before the
//! process exits. A process killed outright (SIGKILL, a crash, power loss) cannot clean up:
//! the destination is still whole, the old model or the new one, but a
//! `.stance-model-*.tmp` file may remain beside it. Such a file is never read by anything
//! and is safe to delete once no `stance` process is writing to that directory.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use sha2::{Digest, Sha256};

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
///
/// While it runs, the temporary file is listed for [`abandon_saves`]; on any error it is
/// removed. Nothing here touches signals: a library caller's process is never ended by it.
pub fn save(classifier: &Classifier, path: &Path) -> Result<()> {
    let bytes = to_bytes(classifier)?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = PendingFile::create(dir, path).map_err(|e| Error::io(dir, e))?;
    let mut file = tmp.file();
    file.write_all(&bytes)
        .map_err(|e| Error::io(tmp.path(), e))?;
    file.sync_all().map_err(|e| Error::io(tmp.path(), e))?;
    tmp.persist(path).map_err(|e| Error::io(path, e))?;
    if let Ok(d) = File::open(dir) {
        // Make the rename itself durable where the platform allows it.
        let _ = d.sync_all();
    }
    Ok(())
}

/// The saves in progress in this process, and how many have finished.
///
/// # Why the cleanup can never remove a finished model
///
/// Three things happen under this one lock, each as a whole:
///
/// 1. [`PendingFile::create`] creates the temporary file *and* lists it, so there is no
///    moment when the file exists but cleanup would not know of it.
/// 2. [`PendingFile::persist`] renames the temporary file over the destination *and*
///    unlists it (and [`PendingFile`]'s `Drop`, on an error path, deletes *and* unlists it).
/// 3. [`abandon_saves`] deletes every listed temporary file and then keeps the lock: it
///    returns a guard that its caller holds until the process has exited.
///
/// So cleanup either runs before a save's rename, and that rename never happens (the save
/// blocks on the lock until the process is gone; the destination keeps the old model), or
/// after it, and the file is no longer listed. Cleanup only ever deletes the temporary
/// (random, `O_EXCL`-created) names, never a destination, so the destination is changed by
/// the atomic rename alone.
struct Registry {
    /// (temporary file, destination) of every save between create and rename.
    pending: Vec<(PathBuf, PathBuf)>,
    /// Saves completed (renamed into place) by this process.
    completed: usize,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    pending: Vec::new(),
    completed: 0,
});

fn registry() -> MutexGuard<'static, Registry> {
    // The list stays consistent even if a thread panicked while holding the lock: every
    // change to it is a single push, retain or increment.
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// A temporary model file being written, listed in [`REGISTRY`] from creation to rename.
struct PendingFile {
    /// `None` once persisted (or handed back to be dropped).
    file: Option<tempfile::NamedTempFile>,
    /// The temporary file's absolute path, as listed.
    listed: PathBuf,
}

impl PendingFile {
    fn create(dir: &Path, dest: &Path) -> io::Result<Self> {
        let mut registry = registry();
        let file = tempfile::Builder::new()
            .prefix(".stance-model-")
            .suffix(".tmp")
            .permissions(model_permissions(dest))
            .tempfile_in(dir)?;
        // Absolute, so that cleanup finds it whatever the working directory is by then.
        let listed = std::path::absolute(file.path())?;
        registry.pending.push((listed.clone(), dest.to_path_buf()));
        Ok(PendingFile {
            file: Some(file),
            listed,
        })
    }

    fn file(&self) -> &File {
        self.file.as_ref().expect("not yet persisted").as_file()
    }

    fn path(&self) -> &Path {
        self.file.as_ref().map_or(&self.listed, |f| f.path())
    }

    /// Rename over `dest` and unlist, as one step under the registry's lock.
    fn persist(mut self, dest: &Path) -> io::Result<()> {
        let file = self.file.take().expect("persisted once");
        let mut registry = registry();
        let result = match file.persist(dest) {
            Ok(_) => {
                registry.completed += 1;
                Ok(())
            }
            Err(e) => {
                drop(e.file); // deletes the temporary file
                Err(e.error)
            }
        };
        registry.pending.retain(|(tmp, _)| *tmp != self.listed);
        result
    }
}

impl Drop for PendingFile {
    /// On an error path: delete the temporary file and unlist it, as one step.
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            let mut registry = registry();
            drop(file);
            registry.pending.retain(|(tmp, _)| *tmp != self.listed);
        }
    }
}

/// What [`abandon_saves`] did. While this value lives, no model file is created or renamed
/// into place by this process: hold it until the process exits.
#[must_use = "dropping it lets saves go on (and fail, their temporary files being gone)"]
pub struct AbandonedSaves {
    registry: MutexGuard<'static, Registry>,
    discarded: Vec<PathBuf>,
}

impl AbandonedSaves {
    /// The destinations whose unfinished model was discarded: each still holds what it held
    /// before the save began (its previous model, or nothing).
    pub fn discarded(&self) -> &[PathBuf] {
        &self.discarded
    }

    /// How many models this process had already saved completely.
    pub fn completed(&self) -> usize {
        self.registry.completed
    }
}

/// Delete the temporary file of every [`save`] in progress in this process and stop any
/// save from finishing (or starting) for as long as the returned value lives.
///
/// Meant for a process about to exit on a signal: call it, report, exit while holding the
/// result. A save that had already renamed its file is finished and untouched. Safe from
/// any thread, but not from inside an asynchronous signal handler (it locks and allocates):
/// see [`crate::interrupt`] for the handling the command line uses.
pub fn abandon_saves() -> AbandonedSaves {
    let mut registry = registry();
    let mut discarded = Vec::new();
    for (tmp, dest) in registry.pending.drain(..) {
        // Already gone only if someone else removed it; nothing more to do then.
        let _ = fs::remove_file(&tmp);
        discarded.push(dest);
    }
    AbandonedSaves {
        registry,
        discarded,
    }
}
