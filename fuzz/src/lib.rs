//! Shared checks for stance's fuzz targets (how to run them: the "Fuzzing" section of the
//! main README).
//!
//! `analyze` compares the analyser's fast path with `tokenizers` ([`check_analyzer`]). Every
//! other target feeds arbitrary bytes to a reader and checks, besides "no panic":
//!
//! * it terminates: a reader yields at most one item per input byte (plus one);
//! * memory: the bytes allocated and still live at any moment during the call stay under
//!   [`MEMORY_FACTOR`] × input length + [`MEMORY_SLACK`] (a counting global allocator
//!   measures it), on top of libFuzzer's own `-rss_limit_mb`/`-malloc_limit_mb`;
//! * the results keep their promises: line numbers within the input, labels present exactly
//!   when asked for, errors that format.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::LazyLock;

use stance::corpus::{Format, RecordReader};
use stance::error::ModelFileProblem;
use stance::model_file;
use stance::Error;

/// Live bytes allowed per input byte, on top of [`MEMORY_SLACK`].
pub const MEMORY_FACTOR: usize = 64;
/// Fixed allowance: reader buffers (64 KiB), serde's capped pre-allocation (1 MiB per
/// collection being decoded), small tables.
pub const MEMORY_SLACK: usize = 4 << 20;

/// Counts live heap bytes and their high-water mark.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Count the old and new blocks both live for the moment of the move.
            grew(new_size);
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Run `f` and return its result with the peak of extra live heap bytes during it.
pub fn measure<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(base);
    (out, peak)
}

fn check_memory(what: &str, input_len: usize, peak: usize) {
    let allowed = MEMORY_FACTOR * input_len + MEMORY_SLACK;
    assert!(
        peak <= allowed,
        "{what}: {peak} bytes live at peak for {input_len} input bytes (allowed {allowed})"
    );
    if std::env::var_os("STANCE_FUZZ_REPORT_MEMORY").is_some() && input_len > 0 {
        eprintln!(
            "{what}: {input_len} input bytes, peak {peak} bytes ({:.1}x)",
            peak as f64 / input_len as f64
        );
    }
}

/// Read `data` as `format`, unlabelled then labelled, draining every record and error.
pub fn check_reader(data: &[u8], format: Format) {
    for labelled in [false, true] {
        let owned = data.to_vec();
        let ((), peak) = measure(|| drain(owned, format, labelled));
        check_memory(&format!("{format} reader"), data.len(), peak);
    }
}

fn drain(data: Vec<u8>, format: Format, labelled: bool) {
    let len = data.len();
    // Lines as an editor counts them: a last line without a newline still counts.
    let line_bytes: Vec<Vec<u8>> = data.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    let lines = line_bytes.len() as u64;
    // Blank lines hold no record (the parsers skip them; in plain text they are records, but
    // never errors), so a line named by a record or an error must have content.
    let has_content = |line: u64| {
        let bytes = &line_bytes[line as usize - 1];
        match format {
            Format::Csv | Format::Tsv => bytes.iter().any(|&b| b != b'\r'),
            _ => bytes.iter().any(|b| !b.is_ascii_whitespace()),
        }
    };
    let check_error = |e: &Error| {
        let _ = e.to_string();
        match e {
            Error::BadRecord { line, .. } => {
                assert!(
                    *line >= 1 && *line <= lines,
                    "error at line {line} of {lines}: {e}"
                );
                assert!(has_content(*line), "error names blank line {line}: {e}");
            }
            Error::BadInput { .. } | Error::Io { .. } => {}
            other => panic!("unexpected error kind from a reader: {other:?}"),
        }
    };
    let reader = match RecordReader::from_reader(
        Cursor::new(data),
        "fuzz-input",
        format,
        "text",
        "label",
        labelled,
    ) {
        Ok(reader) => reader,
        Err(e) => return check_error(&e),
    };
    let mut last_line = 0;
    for (i, item) in reader.enumerate() {
        assert!(
            i <= len,
            "more than one item per input byte: the reader does not stop"
        );
        match item {
            Ok(record) => {
                assert!(
                    record.line >= 1 && record.line <= lines,
                    "record at line {} of {lines}",
                    record.line
                );
                // Lone `\r` ends a CSV record too, so CSV records may share a line.
                let strictly = !matches!(format, Format::Csv | Format::Tsv);
                assert!(
                    record.line > last_line || (!strictly && record.line == last_line),
                    "record line {} after line {last_line}",
                    record.line
                );
                if format != Format::Text {
                    assert!(
                        has_content(record.line),
                        "record on blank line {}",
                        record.line
                    );
                }
                last_line = record.line;
                if labelled {
                    let label = record
                        .label
                        .as_deref()
                        .expect("labelled record without a label");
                    assert!(!label.trim().is_empty(), "empty label");
                } else {
                    assert!(record.label.is_none(), "unlabelled reader returned a label");
                }
            }
            Err(e) => check_error(&e),
        }
    }
}

/// Sentences for the small valid model the model-file target mutates.
const TRAINING: [(&str, &str); 8] = [
    ("The minister condemned the hostile buildup.", "conflict"),
    (
        "Officials threatened retaliation and sanctions.",
        "conflict",
    ),
    ("The army warned of war on the border.", "conflict"),
    ("Rivals accused each other of aggression.", "conflict"),
    ("The two governments signed a trade agreement.", "peace"),
    ("Both sides pledged cooperation on energy.", "peace"),
    ("Leaders welcomed the joint peace accord.", "peace"),
    ("Ministers agreed to open the border for trade.", "peace"),
];

/// The content (postcard bytes, after the 56-byte header) of a small valid model, trained
/// once per process with the library itself.
pub static VALID_CONTENT: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let bytes = model_file::to_bytes(&small_model()).expect("encode the small model");
    bytes[HEADER_LEN..].to_vec()
});

const HEADER_LEN: usize = 56;

/// Train the small valid model.
pub fn small_model() -> stance::Classifier {
    use stance::corpus::LabelledCorpus;
    use stance::train::{train, TrainOptions, Validation};
    use stance::vectorize::DocFreq;
    let corpus = LabelledCorpus {
        texts: TRAINING.iter().map(|(t, _)| t.to_string()).collect(),
        labels: TRAINING.iter().map(|(_, l)| l.to_string()).collect(),
        ..LabelledCorpus::default()
    };
    let mut options = TrainOptions::default();
    options.vectorizer.min_df = DocFreq::Count(1);
    options.c_grid = vec![1.0];
    train(&corpus, &Validation::None, &options, &mut |_| {}).expect("train the small model")
}

/// A whole model file around `content`, with a correct length and checksum.
pub fn wrap_content(content: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut bytes = Vec::with_capacity(HEADER_LEN + content.len());
    bytes.extend_from_slice(model_file::MAGIC);
    bytes.extend_from_slice(&model_file::FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&(content.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(content));
    bytes.extend_from_slice(content);
    bytes
}

/// Apply edits to the valid model's content. Each 4-byte group of `edits` is one edit:
/// `[op, position (2 bytes, scaled to the content's length), value]`.
pub fn edit_content(edits: &[u8]) -> Vec<u8> {
    let mut content = VALID_CONTENT.clone();
    for e in edits.chunks_exact(4) {
        let (op, value) = (e[0], e[3]);
        let scaled = u16::from_le_bytes([e[1], e[2]]) as usize;
        let at = scaled * (content.len() + 1) / 65536;
        match op % 6 {
            0 if at < content.len() => content[at] ^= value.max(1),
            1 if at < content.len() => content[at] = value,
            2 => content.insert(at, value),
            3 if at < content.len() => {
                content.remove(at);
            }
            // A varint with its continuation bit set: lengths and counts grow.
            4 if at < content.len() => content[at] |= 0x80 | value,
            5 => content.truncate(at),
            _ => {}
        }
    }
    content
}

/// Decode `bytes` as a model file; if it loads, use it as the command line would.
pub fn check_model_bytes(bytes: &[u8]) {
    let (result, peak) = measure(|| model_file::from_bytes(bytes, Path::new("fuzz.stance")));
    check_memory("model_file::from_bytes", bytes.len(), peak);
    let classifier = match result {
        Ok(c) => c,
        Err(e) => {
            let _ = e.to_string();
            assert!(
                matches!(e, Error::BadModel { .. }),
                "from_bytes failed with a non-model error: {e:?}"
            );
            if let Error::BadModel {
                kind:
                    ModelFileProblem::Truncated { expected, found }
                    | ModelFileProblem::TruncatedHeader {
                        header: expected,
                        found,
                    },
                ..
            } = e
            {
                assert!(found < expected, "truncated, but {found} >= {expected}");
            }
            return;
        }
    };
    // A model that loads must be usable: predict, explain, inspect, info.
    let texts = vec![
        "The minister signed a hostile trade agreement.".to_string(),
        String::new(),
        "ünïcödé — 記事 border".to_string(),
    ];
    let predictions = classifier.predict(&texts);
    assert_eq!(predictions.len(), texts.len());
    for p in &predictions {
        assert_eq!(p.probs.len(), classifier.labels.len());
    }
    for class in 0..classifier.labels.len().min(3) {
        let _ = classifier.explain(&texts[0], class, 5);
    }
    let _ = classifier.top_features(3);
    if let Some(selection) = &classifier.metadata.selection {
        let _ = selection.report.to_string();
        let _ = selection.metric.to_string();
    }
    let _ = serde_json::to_string(&classifier.metadata);
    let _ = classifier.metadata.options.vectorizer.analyzer.describe();
}

/// The model-file target: the first byte picks what the rest is.
///
/// * `0 mod 3`: a whole model file, as is (header checks, checksum gate);
/// * `1 mod 3`: a model's content: the header and checksum are made to match, so the
///   postcard decoder and the consistency checks see every input;
/// * `2 mod 3`: edits to a valid model's content (see [`edit_content`]), checksum
///   recomputed.
pub fn check_model(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return check_model_bytes(data);
    };
    match mode % 3 {
        0 => check_model_bytes(rest),
        1 => check_model_bytes(&wrap_content(rest)),
        _ => check_model_bytes(&wrap_content(&edit_content(rest))),
    }
}

/// Write the model-file target's seed inputs into `dir`: the small valid model as a whole
/// file (mode 0), as content (mode 1), unedited and lightly edited (mode 2), and a
/// truncated header. Called from the target's init when `STANCE_FUZZ_WRITE_SEEDS` names a
/// directory, so the seeds can be regenerated whenever the model format changes.
pub fn write_model_seeds(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let content = &*VALID_CONTENT;
    let whole = wrap_content(content);
    let seeds: [(&str, Vec<u8>); 6] = [
        ("mode0-valid-model", [&[0u8][..], &whole].concat()),
        (
            "mode0-truncated-header",
            [&[0u8][..], &whole[..20]].concat(),
        ),
        ("mode1-valid-content", [&[1u8][..], content].concat()),
        ("mode2-no-edits", vec![2]),
        ("mode2-flip-middle", vec![2, 0, 0x00, 0x80, 0x01]),
        ("mode2-grow-varint", vec![2, 4, 0x00, 0x02, 0x7f]),
    ];
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes)?;
    }
    Ok(())
}

/// The analyser's fast path against its definition, `tokenizers` on the whole text: the bytes
/// (lossily decoded as UTF-8) are cut at each `0xFF` byte, which UTF-8 never contains, into
/// texts analysed one after another with the same two buffers, as the vectoriser does, so
/// that what one text leaves in a buffer cannot leak into the next.
pub fn check_analyzer(data: &[u8]) {
    let analyzer = stance::tokenize::HfAnalyzer::default();
    let mut fast = stance::tokenize::TokenBuffer::default();
    let mut reference = stance::tokenize::TokenBuffer::default();
    for piece in data.split(|&b| b == 0xFF) {
        let text = String::from_utf8_lossy(piece);
        stance::tokenize::Analyzer::analyze(&analyzer, &text, &mut fast);
        analyzer.analyze_reference(&text, &mut reference);
        let fast: Vec<&str> = fast.iter().collect();
        let reference: Vec<&str> = reference.iter().collect();
        assert_eq!(fast, reference, "tokens of {text:?}");
    }
}
