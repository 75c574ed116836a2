//! The library's error type: every failure names what went wrong and where.

use std::path::PathBuf;

/// Everything the library can fail with. Messages are written for the person at the
/// terminal: they name the file, the line or record, and the problem.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed at the operating-system level.
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    /// A record in an input file is unusable; `line` is 1-based.
    #[error("{path}:{line}: {problem}")]
    BadRecord {
        path: PathBuf,
        line: u64,
        problem: String,
    },

    /// An input file is unusable as a whole (empty, unknown format, one class only, …).
    #[error("{path}: {problem}")]
    BadInput { path: PathBuf, problem: String },

    /// A hyper-parameter or option is out of range or inconsistent.
    #[error("invalid option: {0}")]
    InvalidOption(String),

    /// A model file could not be loaded; `kind` says whether it is truncated, corrupt,
    /// of another format version or not a model at all.
    #[error("{path}: {kind}")]
    BadModel {
        path: PathBuf,
        kind: ModelFileProblem,
    },

    /// The optimiser failed (it should not: this indicates a numerical problem).
    #[error("training failed: {0}")]
    Training(String),

    /// Passed through from linfa's traits.
    #[error(transparent)]
    Linfa(#[from] linfa::Error),
}

/// Why a model file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelFileProblem {
    /// The file does not start with the model magic bytes.
    #[error("not a stance model file (it does not start with the STANCE model header)")]
    NotAModel,
    /// The file is shorter than its header says (or than a header).
    #[error("truncated model file: it should be {expected} bytes long but is only {found} (was the copy or the write interrupted?)")]
    Truncated { expected: u64, found: u64 },
    /// The file is too short to hold the header that says how long it should be.
    #[error("truncated model file: it is only {found} bytes long, too short even for the {header}-byte header (was the copy or the write interrupted?)")]
    TruncatedHeader { header: u64, found: u64 },
    /// The checksum does not match the content.
    #[error("corrupted model file: the checksum does not match the content (the file was altered or damaged after it was written)")]
    Corrupted,
    /// A format version this build cannot read.
    #[error("model file format version {found}, but this build of stance reads version {supported}: retrain the model or use a matching stance version")]
    UnsupportedVersion { found: u32, supported: u32 },
    /// The content passed the checksum but does not decode (a bug, or a crafted file).
    #[error("invalid model content: {0}")]
    Invalid(String),
}

/// Shorthand used throughout the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }

    /// True when the error is a closed pipe on output (`stance … | head`), which is not a
    /// failure.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Io { error, .. } if error.kind() == std::io::ErrorKind::BrokenPipe)
    }
}
