//! A training run killed at any moment leaves the destination holding either the previous
//! model or a complete new one; after SIGINT or SIGTERM it also leaves no temporary file.
//!
//! One synthetic training file (600 records over three labels, word 1–3-grams of made-up
//! words, every n-gram kept: about 1 s in a debug build on an idle machine, a model of
//! about 1.5 MB) is trained once undisturbed, to time the run and to know the new model. Then
//! runs on it are stopped, each in a fresh directory whose destination already holds a
//! small previous model, with SIGKILL and with SIGINT at:
//!
//! - fixed delays: 50 ms (reading the data), 40 % and 80 % of the undisturbed run (training),
//!   105 % (about its end) and 130 % (past it, on an idle machine);
//! - the moment the temporary `.stance-model-*.tmp` file appears (the signal then arrives
//!   while it is written or synced, or just after the rename);
//! - the moment it disappears again (after the rename, while the report is computed).
//!
//! And once with SIGTERM when the temporary file appears. Timing decides only which of the
//! allowed outcomes happens: the assertions hold for all of them. Each trial's outcome is
//! printed (`cargo test --test interrupt -- --nocapture`).

#![cfg(unix)]

use std::fs;
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use stance::model_file;

const LABELS: [&str; 3] = ["alpha", "beta", "gamma"];
const BIG_RECORDS: usize = 600;
/// Word 1–3-grams only (character n-grams are slow in a debug build), all kept: a large
/// vocabulary, so a large model file.
const BIG_OPTIONS: [&str; 7] = [
    "--char-ngrams",
    "none",
    "--word-ngrams",
    "1-3",
    "--min-df",
    "1",
    "-q",
];

/// A small deterministic generator (xorshift64*), so the data is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A made-up seven-letter word for a number.
fn word(mut n: u64) -> String {
    n = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 20;
    (0..7)
        .map(|_| {
            let c = (b'a' + (n % 26) as u8) as char;
            n /= 26;
            c
        })
        .collect()
}

/// JSON lines: `records` sentences of `words` words, half from a label's own vocabulary.
fn write_data(path: &Path, records: usize, words: usize, seed: u64) {
    let mut rng = Rng(seed);
    let mut out = String::new();
    for i in 0..records {
        let label = i % LABELS.len();
        let text: Vec<String> = (0..words)
            .map(|_| {
                if rng.below(2) == 0 {
                    word(rng.below(20_000) * 3 + label as u64)
                } else {
                    word(rng.below(60_000) + 1_000_000)
                }
            })
            .collect();
        out.push_str(&format!(
            "{{\"text\": \"{}\", \"label\": \"{}\"}}\n",
            text.join(" "),
            LABELS[label]
        ));
    }
    fs::write(path, out).unwrap();
}

fn train(data: &Path, model: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["train", "--data"])
        .arg(data)
        .arg("--model")
        .arg(model)
        .args(BIG_OPTIONS)
        .env_remove("RAYON_NUM_THREADS")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Train on `data` into `model`, undisturbed, and check that it succeeded.
fn trained(data: &Path, model: &Path) {
    let output = train(data, model).wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The temporary files of unfinished writes (`.stance-model-*.tmp`, `.stance-output-*.tmp`).
fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".stance-") && n.ends_with(".tmp"))
        .collect()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Signal {
    Kill,
    Int,
    Term,
    Hup,
}

/// Sends a signal to a process with little delay: a shell started beforehand, waiting on
/// its standard input, whose `kill` is a builtin (no process to start at the moment it
/// matters). SIGKILL goes through [`Child::kill`].
struct Sender {
    shell: Option<Child>,
}

impl Sender {
    fn new(signal: Signal, child: &Child) -> Sender {
        let name = match signal {
            Signal::Kill => return Sender { shell: None },
            Signal::Int => "INT",
            Signal::Term => "TERM",
            Signal::Hup => "HUP",
        };
        let shell = Command::new("sh")
            .args(["-c", "read _ && kill -s \"$1\" \"$2\"", "sh", name])
            .arg(child.id().to_string())
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        Sender { shell: Some(shell) }
    }

    /// The child must not have been reaped yet (no successful `try_wait`/`wait`), so that
    /// its process id cannot have been reused.
    fn send(&mut self, child: &mut Child) {
        match &mut self.shell {
            None => child.kill().unwrap(),
            Some(shell) => {
                let mut stdin = shell.stdin.take().unwrap();
                stdin.write_all(b"go\n").unwrap();
                drop(stdin);
                assert!(shell.wait().unwrap().success(), "kill failed");
            }
        }
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        if let Some(shell) = &mut self.shell {
            drop(shell.stdin.take()); // `read` fails on end of input: no signal is sent
            let _ = shell.wait();
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum When {
    /// This long after the start.
    After(Duration),
    /// As soon as the temporary model file is seen.
    TempAppears,
    /// As soon as the temporary model file, having been seen, is gone (renamed).
    TempGone,
}

/// Poll `dir` until `done` says so, or the child exits (then `false`; it has been reaped).
fn poll_until(child: &mut Child, dir: &Path, done: impl Fn(bool) -> bool) -> bool {
    loop {
        if done(!temp_files(dir).is_empty()) {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        thread::sleep(Duration::from_micros(100));
    }
}

struct Reference {
    previous: Vec<u8>,
    fingerprint: String,
    duration: Duration,
}

/// What a trial left behind.
#[derive(Debug, PartialEq)]
enum Model {
    Previous,
    New,
}

fn trial(reference: &Reference, big: &Path, signal: Signal, when: When) -> String {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("model.stance");
    fs::write(&dest, &reference.previous).unwrap();

    let start = Instant::now();
    let mut child = train(big, &dest);
    let mut sender = Sender::new(signal, &child);
    let sent = match when {
        When::After(delay) => {
            thread::sleep(delay);
            true
        }
        When::TempAppears => poll_until(&mut child, dir.path(), |temp| temp),
        When::TempGone => {
            poll_until(&mut child, dir.path(), |temp| temp)
                && poll_until(&mut child, dir.path(), |temp| !temp)
        }
    };
    let sent_at = start.elapsed();
    if sent {
        sender.send(&mut child);
    }
    drop(sender);
    let output = child.wait_with_output().unwrap();
    let status: ExitStatus = output.status;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();

    // The destination: the previous model byte for byte, or a complete new one.
    let bytes = fs::read(&dest).expect("the destination must still exist");
    let model = if bytes == reference.previous {
        Model::Previous
    } else {
        let loaded = model_file::load(&dest)
            .unwrap_or_else(|e| panic!("{signal:?} {when:?}: destination is damaged: {e}"));
        assert_eq!(
            loaded.metadata.data_fingerprint, reference.fingerprint,
            "{signal:?} {when:?}: the destination is neither the previous model nor the new one"
        );
        assert_eq!(loaded.metadata.n_train, BIG_RECORDS);
        Model::New
    };
    let temps = temp_files(dir.path());

    let finished = status.code() == Some(0);
    if finished {
        assert_eq!(
            model,
            Model::New,
            "{signal:?} {when:?}: success without the model"
        );
        assert!(
            !stderr.contains("interrupted"),
            "{signal:?} {when:?}: {stderr}"
        );
    }
    match signal {
        Signal::Kill => assert!(
            finished || status.signal() == Some(9),
            "{signal:?} {when:?}: {status:?}\n{stderr}"
        ),
        Signal::Int | Signal::Term | Signal::Hup => {
            let (code, name) = match signal {
                Signal::Int => (130, "SIGINT"),
                Signal::Hup => (129, "SIGHUP (the terminal closed)"),
                _ => (143, "SIGTERM"),
            };
            assert!(
                finished || status.code() == Some(code),
                "{signal:?} {when:?}: expected exit code {code} or 0, got {status:?}\n{stderr}"
            );
            assert!(
                temps.is_empty(),
                "{signal:?} {when:?}: temporary files left: {temps:?}"
            );
            if !finished {
                // One line, and it says what happened to the destination.
                assert_eq!(stderr.lines().count(), 1, "{stderr}");
                let prefix = format!("interrupted by {name}: ");
                assert!(stderr.starts_with(&prefix), "{stderr}");
                let said = stderr[prefix.len()..].trim_end();
                if model == Model::New {
                    assert_eq!(said, "the output had already been written");
                } else if said != "no file written" {
                    assert_eq!(
                        said,
                        format!(
                            "no file written; the partial file was removed and {} left as it was",
                            dest.display()
                        )
                    );
                }
            }
        }
    }
    let outcome = format!(
        "{:<5} {:<22} sent at {:>5} ms{}: exit {:<12} destination {:?}{}{}",
        format!("{signal:?}"),
        match when {
            When::After(d) => format!("after {} ms", d.as_millis()),
            w => format!("{w:?}"),
        },
        sent_at.as_millis(),
        if sent { "" } else { " (not sent)" },
        match (status.code(), status.signal()) {
            (Some(c), _) => format!("{c}"),
            (None, Some(s)) => format!("signal {s}"),
            _ => "?".into(),
        },
        model,
        if temps.is_empty() {
            String::new()
        } else {
            format!(", {} stale temporary file(s)", temps.len())
        },
        if stderr.contains("partial file was removed") {
            ", partial file removed"
        } else {
            ""
        },
    );
    eprintln!("{outcome}");
    outcome
}

#[test]
fn killed_training_leaves_the_previous_model_or_a_complete_new_one() {
    let started = Instant::now();
    let work = tempfile::tempdir().unwrap();
    let small = work.path().join("small.jsonl");
    let big = work.path().join("big.jsonl");
    write_data(&small, 30, 6, 7);
    write_data(&big, BIG_RECORDS, 20, 42);

    // The previous model: a quick one on other data.
    let previous_path = work.path().join("previous.stance");
    trained(&small, &previous_path);
    let previous = fs::read(&previous_path).unwrap();

    // The undisturbed run: its length, and the new model's fingerprint.
    let new_path = work.path().join("new.stance");
    let t0 = Instant::now();
    trained(&big, &new_path);
    let duration = t0.elapsed();
    let new = model_file::load(&new_path).unwrap();
    assert_ne!(new.metadata.data_fingerprint, {
        model_file::load(&previous_path)
            .unwrap()
            .metadata
            .data_fingerprint
    });
    eprintln!(
        "undisturbed run: {} ms, model {} bytes",
        duration.as_millis(),
        fs::metadata(&new_path).unwrap().len()
    );
    let reference = Reference {
        previous,
        fingerprint: new.metadata.data_fingerprint.clone(),
        duration,
    };

    let at = |fraction: f64| When::After(reference.duration.mul_f64(fraction));
    let points = [
        When::After(Duration::from_millis(50)),
        at(0.4),
        at(0.8),
        When::TempAppears,
        When::TempGone,
        at(1.05),
        at(1.3),
    ];
    for signal in [Signal::Kill, Signal::Int] {
        for &when in &points {
            trial(&reference, &big, signal, when);
        }
    }
    trial(&reference, &big, Signal::Term, When::TempAppears);
    eprintln!("whole test: {} ms", started.elapsed().as_millis());
}

#[test]
fn interrupted_prediction_leaves_the_output_file_as_it_was() {
    interrupt_prediction(Signal::Int, 130, "SIGINT");
}

#[test]
fn a_closed_terminal_leaves_the_output_file_as_it_was() {
    interrupt_prediction(Signal::Hup, 129, "SIGHUP (the terminal closed)");
}

/// Send `signal` to a prediction writing its `--output` file and check that it exits with
/// `code`, names the signal as `name` and leaves the file as it was.
fn interrupt_prediction(signal: Signal, code: i32, name: &str) {
    let work = tempfile::tempdir().unwrap();
    let small = work.path().join("small.jsonl");
    write_data(&small, 30, 6, 7);
    let model = work.path().join("m.stance");
    trained(&small, &model);

    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.csv");
    fs::write(&dest, "previous predictions\n").unwrap();
    // Records come from standard input, held open, so the prediction cannot finish before
    // the signal: the test always interrupts it.
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(["predict", "-q", "--model"])
        .arg(&model)
        .arg("--output")
        .arg(&dest)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input
        .write_all("alpha beta gamma delta\n".repeat(1000).as_bytes())
        .unwrap();
    input.flush().unwrap();
    let mut sender = Sender::new(signal, &child);
    let sent = poll_until(&mut child, dir.path(), |temp| temp);
    assert!(sent, "the partial output file never appeared");
    sender.send(&mut child);
    drop(sender);
    // The input stays open until the process has answered the signal: closed earlier, it
    // could finish the prediction and exit 0 before its signal thread acts.
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert_eq!(fs::read_to_string(&dest).unwrap(), "previous predictions\n");
    let temps = temp_files(dir.path());
    assert!(temps.is_empty(), "temporary files left: {temps:?}");
    assert_eq!(
        stderr.trim_end(),
        format!(
            "interrupted by {name}: no file written; the partial file was removed and {} left as it was",
            dest.display()
        )
    );
}
