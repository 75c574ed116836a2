//! Files written whole or not at all: model files, `--output` files and reports.
//!
//! An [`AtomicFile`] is a temporary file created beside its destination; once everything is
//! written, [`AtomicFile::commit`] renames it over the destination, so a reader sees the old
//! file or the new one, never part of one. Dropped without a commit — an error in the middle,
//! a bad input record — it is deleted and the destination is untouched.
//!
//! Every temporary file is listed in a process-wide registry from its creation to its rename,
//! so that [`abandon_writes`] (called by the command line's SIGINT/SIGTERM handling, see
//! [`crate::interrupt`]) can remove it before the process exits. A process killed outright
//! (SIGKILL, a crash, power loss) cannot clean up: the destination is still whole, but a
//! temporary file (`.stance-model-*.tmp`, `.stance-output-*.tmp`) may remain beside it. Such a
//! file is never read by anything and is safe to delete once no `stance` process is writing to
//! that directory.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The writes in progress in this process, and how many have finished.
///
/// # Why the cleanup can never remove a finished file
///
/// Three things happen under this one lock, each as a whole:
///
/// 1. [`AtomicFile::create`] creates the temporary file *and* lists it, so there is no
///    moment when the file exists but cleanup would not know of it.
/// 2. [`AtomicFile::commit`] renames the temporary file over the destination *and* unlists
///    it (and [`AtomicFile`]'s `Drop`, on an error path, deletes *and* unlists it).
/// 3. [`abandon_writes`] deletes every listed temporary file and then keeps the lock: it
///    returns a guard that its caller holds until the process has exited.
///
/// So cleanup either runs before a write's rename, and that rename never happens (the write
/// blocks on the lock until the process is gone; the destination keeps its old content), or
/// after it, and the file is no longer listed. Cleanup only ever deletes the temporary
/// (random, `O_EXCL`-created) names, never a destination, so the destination is changed by
/// the atomic rename alone.
struct Registry {
    /// (temporary file, destination) of every write between create and rename.
    pending: Vec<(PathBuf, PathBuf)>,
    /// Writes completed (renamed into place) by this process.
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

/// The mode for a new file at `path`: the replaced file's, or else read-write for all less
/// the umask (as for any file a program creates), not the temporary file's owner-only.
fn new_file_permissions(path: &Path) -> fs::Permissions {
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

/// A file being written in place of `dest`, listed in the registry from creation to rename.
pub struct AtomicFile {
    /// `None` once committed (or handed back to be dropped).
    file: Option<Target>,
    /// The temporary file's absolute path, as listed (`dest` for a direct write).
    listed: PathBuf,
    /// Where it goes, as the caller named it.
    dest: PathBuf,
    /// The file the rename replaces: `dest`, or the file a symbolic link `dest` points to.
    landing: PathBuf,
}

/// What an [`AtomicFile`] writes to.
enum Target {
    /// A temporary file, renamed over the destination on commit.
    Temporary(tempfile::NamedTempFile),
    /// The destination itself, when it is not a regular file (a terminal, a pipe,
    /// `/dev/null`, `/dev/stdout`): there is no file to replace, only a stream to write.
    Direct(File),
}

impl AtomicFile {
    /// Create a temporary file named `PREFIX*.tmp` beside `dest` (in its directory, created
    /// if need be, or beside the file it links to when `dest` is a symbolic link, which
    /// stays a link), with the mode `dest` will have, and list it. When `dest` exists and is
    /// not a regular file (a device or a pipe), or names an open file through `/proc`
    /// (`/dev/stdout`), it is opened and appended to directly; a directory is refused.
    pub fn create(dest: &Path, prefix: &str) -> io::Result<Self> {
        let existing = fs::metadata(dest).ok();
        if existing.as_ref().is_some_and(|m| m.is_dir()) {
            // Caught here rather than by the rename, after everything else is written.
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "is a directory, not a file",
            ));
        }
        let landing = match link_target(dest)? {
            Some(landing) if existing.as_ref().is_none_or(|m| m.is_file()) => landing,
            _ => {
                // Appending, for a file already open as this process's standard output.
                let file = fs::OpenOptions::new().append(true).open(dest)?;
                return Ok(AtomicFile {
                    file: Some(Target::Direct(file)),
                    listed: dest.to_path_buf(),
                    dest: dest.to_path_buf(),
                    landing: dest.to_path_buf(),
                });
            }
        };
        let dir = parent_dir(&landing);
        fs::create_dir_all(dir)?;
        let mut registry = registry();
        let file = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(".tmp")
            .permissions(new_file_permissions(&landing))
            .tempfile_in(dir)?;
        // Absolute, so that cleanup finds it whatever the working directory is by then.
        let listed = std::path::absolute(file.path())?;
        registry.pending.push((listed.clone(), dest.to_path_buf()));
        Ok(AtomicFile {
            file: Some(Target::Temporary(file)),
            listed,
            dest: dest.to_path_buf(),
            landing,
        })
    }

    /// The temporary file, to write to (`&File` is a writer).
    pub fn file(&self) -> &File {
        match self.file.as_ref().expect("not yet committed") {
            Target::Temporary(file) => file.as_file(),
            Target::Direct(file) => file,
        }
    }

    /// Where the file goes once committed.
    pub fn destination(&self) -> &Path {
        &self.dest
    }

    /// The temporary file's path, for messages.
    pub fn path(&self) -> &Path {
        match &self.file {
            Some(Target::Temporary(file)) => file.path(),
            _ => &self.listed,
        }
    }

    /// Sync the file to disk, then rename it over its destination and unlist it, as one
    /// step under the registry's lock, then sync the directory where the platform allows it,
    /// so that the whole file survives a crash once this returns. The caller flushes what it
    /// wrote first. A direct write (to a device or a pipe) has nothing to rename.
    pub fn commit(mut self) -> io::Result<()> {
        let file = match self.file.take().expect("committed once") {
            Target::Temporary(file) => file,
            Target::Direct(_) => return Ok(()),
        };
        file.as_file().sync_all()?;
        let mut registry = registry();
        let result = match file.persist(&self.landing) {
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
        drop(registry);
        if result.is_ok() {
            if let Ok(dir) = File::open(parent_dir(&self.landing)) {
                // Make the rename itself durable where the platform allows it.
                let _ = dir.sync_all();
            }
        }
        result
    }
}

/// The file a write to `path` should replace: `path` itself, or, when it is a symbolic
/// link (however many deep, even one whose target does not exist yet), the file at the end
/// of the links, so that renaming over it keeps the link. `None` when the links pass
/// through `/proc` (`/dev/stdout`, `/dev/fd/N`): a file some process has open, to be
/// written where it is, not replaced.
fn link_target(path: &Path) -> io::Result<Option<PathBuf>> {
    let mut path = path.to_path_buf();
    // As the kernel's limit on links followed in one lookup.
    for _ in 0..40 {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                // Judged by where the link really is: `/dev/fd/1` lies in `/proc/self/fd`.
                if fs::canonicalize(parent_dir(&path)).is_ok_and(|dir| dir.starts_with("/proc")) {
                    return Ok(None);
                }
                let target = fs::read_link(&path)?;
                path = parent_dir(&path).join(target);
            }
            _ => return Ok(Some(path)),
        }
    }
    Err(io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// Write every `(path, content)` whole or leave them all as they were: each goes to its
/// own temporary file first, and only once all are written are they renamed into place.
/// On an error, the error names the file it happened to.
pub fn write_all_or_none(
    files: &[(PathBuf, String)],
    prefix: &str,
) -> Result<(), (PathBuf, io::Error)> {
    let mut pending = Vec::with_capacity(files.len());
    for (path, content) in files {
        let write = || -> io::Result<AtomicFile> {
            let file = AtomicFile::create(path, prefix)?;
            let mut writer = file.file();
            io::Write::write_all(&mut writer, content.as_bytes())?;
            Ok(file)
        };
        pending.push(write().map_err(|e| (path.clone(), e))?);
    }
    for file in pending {
        let path = file.destination().to_path_buf();
        file.commit().map_err(|e| (path, e))?;
    }
    Ok(())
}

/// Whether `a` and `b` name the same existing regular file (through links, relative paths
/// or hard links alike). A terminal or `/dev/null` may well be both a command's input and
/// its output.
pub fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if !ma.is_file() || !mb.is_file() => false,
        #[cfg(unix)]
        (Ok(ma), Ok(mb)) => {
            use std::os::unix::fs::MetadataExt;
            ma.dev() == mb.dev() && ma.ino() == mb.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => match (fs::canonicalize(a), fs::canonicalize(b)) {
            (Ok(ca), Ok(cb)) => ca == cb,
            _ => false,
        },
        _ => false,
    }
}

/// The directory a file at `path` goes in: its parent, or `.` for a bare file name.
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

impl Drop for AtomicFile {
    /// On an error path: delete the temporary file and unlist it, as one step.
    fn drop(&mut self) {
        if let Some(Target::Temporary(file)) = self.file.take() {
            let mut registry = registry();
            drop(file);
            registry.pending.retain(|(tmp, _)| *tmp != self.listed);
        }
    }
}

/// What [`abandon_writes`] did. While this value lives, no file is created or renamed into
/// place by this process: hold it until the process exits.
#[must_use = "dropping it lets writes go on (and fail, their temporary files being gone)"]
pub struct AbandonedWrites {
    registry: MutexGuard<'static, Registry>,
    discarded: Vec<PathBuf>,
}

impl AbandonedWrites {
    /// The destinations whose unfinished file was discarded: each still holds what it held
    /// before the write began (its previous content, or nothing).
    pub fn discarded(&self) -> &[PathBuf] {
        &self.discarded
    }

    /// How many files this process had already written completely.
    pub fn completed(&self) -> usize {
        self.registry.completed
    }
}

/// Delete the temporary file of every [`AtomicFile`] in progress in this process and stop
/// any from being committed (or created) for as long as the returned value lives.
///
/// Meant for a process about to exit on a signal: call it, report, exit while holding the
/// result. A file already renamed into place is finished and untouched. Safe from any thread,
/// but not from inside an asynchronous signal handler (it locks and allocates): see
/// [`crate::interrupt`] for the handling the command line uses.
pub fn abandon_writes() -> AbandonedWrites {
    let mut registry = registry();
    let mut discarded = Vec::new();
    for (tmp, dest) in registry.pending.drain(..) {
        // Already gone only if someone else removed it; nothing more to do then.
        let _ = fs::remove_file(&tmp);
        discarded.push(dest);
    }
    AbandonedWrites {
        registry,
        discarded,
    }
}
