//! Helpers shared by the command-line test files: running the binary, reading its output,
//! the fixtures, and a model trained once per test run.
#![allow(dead_code)] // each test file uses a different subset

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

pub const LABELS: [&str; 3] = ["confrontational", "cooperative", "neutral"];

/// Options that keep a training run fast in debug builds: word n-grams only, every n-gram kept.
pub const FAST: [&str; 5] = ["--char-ngrams", "none", "--min-df", "1", "-q"];

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}):\n{}", self.stdout))
    }

    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}")))
            .collect()
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Exit code 1, a message starting `error:` that contains every fragment, nothing on stdout.
    #[track_caller]
    pub fn fails_with(&self, fragments: &[&str]) {
        self.fails_with_code(1, fragments)
    }

    /// As [`Output::fails_with`], with exit code 2: an option value that cannot be used.
    #[track_caller]
    pub fn is_refused_usage(&self, fragments: &[&str]) {
        self.fails_with_code(2, fragments)
    }

    #[track_caller]
    fn fails_with_code(&self, code: i32, fragments: &[&str]) {
        assert_eq!(
            self.code, code,
            "expected exit code {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(self.stderr.starts_with("error:"), "stderr: {}", self.stderr);
        for fragment in fragments {
            assert!(
                self.stderr.contains(fragment),
                "stderr should contain {fragment:?}, got:\n{}",
                self.stderr
            );
        }
        assert!(
            self.stdout.is_empty(),
            "stdout should be empty: {}",
            self.stdout
        );
    }
}

pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stance"));
    cmd.args(args).env_remove("RAYON_NUM_THREADS");
    cmd
}

pub fn finish(out: std::process::Output) -> Output {
    Output {
        code: out.status.code().expect("exited normally"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

pub fn run(args: &[&str]) -> Output {
    finish(
        command(args)
            .stdin(Stdio::null())
            .output()
            .expect("run stance"),
    )
}

pub fn run_env(args: &[&str], key: &str, value: &str) -> Output {
    finish(
        command(args)
            .env(key, value)
            .stdin(Stdio::null())
            .output()
            .expect("run stance"),
    )
}

pub fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn stance");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("wait for stance");
    writer.join().unwrap().expect("write stdin");
    finish(out)
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// The training fixture's records, as (label, text), from the JSON-lines copy.
pub fn training_records() -> Vec<(String, String)> {
    fs::read_to_string(fixture("framing_small.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["label"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A model trained once per test run (no validation, C = 1, word n-grams) and shared by the
/// tests that only read it. Training is deterministic, so concurrent runs write equal bytes.
pub fn shared_model() -> &'static Path {
    static MODEL: OnceLock<PathBuf> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shared-framing.stance");
        train_fast(&fixture("framing_small.jsonl"), &path, &[]).success();
        path
    })
}

pub fn train_fast(data: &Path, model: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["train", "--data", s(data), "--model", s(model)];
    args.extend(FAST);
    args.extend(extra);
    run(&args)
}

pub fn predict_file(model: &Path, data: &Path) -> Output {
    run(&["predict", "--model", s(model), "--data", s(data)])
}

/// `path:line:` as error messages write it.
pub fn at(path: &Path, line: u64) -> String {
    format!("{}:{line}:", s(path))
}

/// Write `content` to `name` in a fresh directory.
pub fn write_data(name: &str, content: &[u8]) -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join(name);
    fs::write(&data, content).unwrap();
    (data, dir)
}

/// Train on a file with the given name and bytes; no model may be written on failure.
pub fn train_on(
    name: &str,
    content: &[u8],
    extra: &[&str],
) -> (Output, PathBuf, tempfile::TempDir) {
    let (data, dir) = write_data(name, content);
    let model = dir.path().join("m.stance");
    let out = train_fast(&data, &model, extra);
    if out.code != 0 {
        assert!(!model.exists(), "no model is written when training fails");
    }
    (out, data, dir)
}

/// `framing_small.jsonl` as JSON lines with the records `mislabel(i)` picks (0-based)
/// given the next label instead of their own (confrontational → cooperative → neutral →
/// confrontational): data a model learns wrong labels from.
pub fn mislabelled_framing(mislabel: impl Fn(usize) -> bool) -> String {
    let lines: Vec<String> = fs::read_to_string(fixture("framing_small.jsonl"))
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let mut record: Value = serde_json::from_str(line).unwrap();
            if mislabel(i) {
                let label = record["label"].as_str().unwrap();
                let next = LABELS[(LABELS.iter().position(|l| *l == label).unwrap() + 1) % 3];
                record["label"] = Value::from(next);
            }
            record.to_string()
        })
        .collect();
    lines.join("\n")
}
