//! Ctrl-C (SIGINT), SIGTERM and a closed terminal (SIGHUP) for the command line: remove the
//! unfinished model or output file and exit with the conventional status. A file-size limit
//! (SIGXFSZ, `ulimit -f`) is caught so that it does not kill the process: the write fails
//! instead, and the failure is handled as any other.
//!
//! Nothing in the library installs this: [`AtomicFile`](crate::atomic_write::AtomicFile)
//! never changes how a process reacts to signals. A program opts in by calling
//! [`exit_on_interrupt`] once at start-up, as `stance`'s `main` does.
//!
//! The signals are taken by `signal-hook`, whose own handler only records them and wakes a
//! thread; the cleanup (locking, deleting files, printing) runs on that ordinary thread,
//! never inside an asynchronous signal handler. That thread calls
//! [`abandon_writes`](crate::atomic_write::abandon_writes), which deletes the temporary file
//! of any write in progress and keeps the writes' lock, then prints one line on standard
//! error and exits with 128 + the signal number (130 for SIGINT, 143 for SIGTERM, 129 for
//! SIGHUP) while still
//! holding it: a file is thus either already renamed into place (complete) or never renamed
//! (the old file, untouched). See the registry in [`crate::atomic_write`] for why the two
//! cannot interleave.
//!
//! SIGKILL cannot be caught: the destination is still whole, but the temporary
//! `.stance-model-*.tmp` or `.stance-output-*.tmp` file may remain; it is safe to delete.

use std::io;

/// Install SIGINT, SIGTERM and SIGHUP handling for the rest of the process: on any of them,
/// remove the temporary file of any model or output being written, say so on standard error
/// and exit with status 128 + the signal (130 for SIGINT, 143 for SIGTERM); SIGXFSZ is
/// caught and ignored, so that a write past `ulimit -f` fails as an error.
///
/// Call once, early in `main`. It spawns one thread, which waits for the signals. On
/// platforms other than Unix it does nothing (the default Ctrl-C behaviour stays, and a
/// temporary file may remain as after SIGKILL).
pub fn exit_on_interrupt() -> io::Result<()> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGXFSZ};
        use signal_hook::iterator::Signals;

        let mut signals = Signals::new([SIGINT, SIGTERM, SIGHUP, SIGXFSZ])?;
        std::thread::Builder::new()
            .name("stance-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    // Caught only so that it does not kill the process: the write past the
                    // limit then fails with EFBIG, and that error removes the unfinished
                    // file and names it, as any failed write does.
                    if signal != SIGXFSZ {
                        exit_on(signal);
                    }
                }
            })?;
    }
    Ok(())
}

/// Clean up, report and exit: runs on the signal thread, never returns.
#[cfg(unix)]
fn exit_on(signal: i32) -> ! {
    use std::io::{IsTerminal, Write};

    let name = match signal {
        signal_hook::consts::SIGINT => "SIGINT",
        signal_hook::consts::SIGTERM => "SIGTERM",
        signal_hook::consts::SIGHUP => "SIGHUP (the terminal closed)",
        _ => "a signal",
    };
    // Held until the process is gone: no write can rename its file into place after this.
    let writes = crate::atomic_write::abandon_writes();
    let outcome = match (writes.discarded(), writes.completed()) {
        ([], 0) => "no file written".to_string(),
        ([], _) => "the output had already been written".to_string(),
        (dests, _) => format!(
            "no file written; the partial file was removed and {} left as it was",
            dests
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let stderr = io::stderr();
    let mut err = stderr.lock();
    // After a spinner or the terminal's `^C`, start on a line of our own.
    let lead = if err.is_terminal() { "\n" } else { "" };
    let _ = writeln!(err, "{lead}interrupted by {name}: {outcome}");
    let _ = err.flush();
    std::process::exit(128 + signal);
}
