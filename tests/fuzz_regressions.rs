//! Regression tests from fuzzing (`fuzz/`): inputs the fuzz targets found or that pin down
//! what they check, replayed through the same readers. Every input must give records or a
//! typed error naming a real line — never a panic — and model-file decoding must stay
//! within a small multiple of the input's size in memory. Inputs of the `analyze` target must
//! give the analyser's fast path exactly the tokens of `tokenizers`.
//!
//! Crashing inputs saved by `cargo fuzz` go under `tests/fixtures/fuzz/<target>/`; every
//! file there is replayed by [`saved_fuzz_inputs_replay_cleanly`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use stance::corpus::{Format, Record, RecordReader, Source};
use stance::error::{Error, ModelFileProblem};
use stance::model_file;
use stance::tokenize::{Analyzer, HfAnalyzer, TokenBuffer};
use stance::Classifier;

// ---------------------------------------------------------------------------------------
// Memory: a global allocator that counts, per thread, the live bytes and their peak.

struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    // `try_with`: allocations during thread teardown are simply not counted.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        note(-(layout.size() as isize));
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            note(new_size as isize);
            note(-(layout.size() as isize));
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Run `f` and return its result with the peak of extra live bytes this thread held.
fn peak_bytes<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    let peak = PEAK.with(Cell::get) - base;
    (out, peak.max(0) as usize)
}

// ---------------------------------------------------------------------------------------
// Readers.

fn read(bytes: &[u8], format: Format, labelled: bool) -> Vec<Result<Record, Error>> {
    match RecordReader::from_reader(
        Cursor::new(bytes.to_vec()),
        "fuzz-input",
        format,
        "text",
        "label",
        labelled,
    ) {
        Ok(reader) => reader.collect(),
        Err(e) => vec![Err(e)],
    }
}

/// The lines named by records (`Ok`) and record errors (`Err`), in order.
fn lines(results: &[Result<Record, Error>]) -> Vec<Result<u64, u64>> {
    results
        .iter()
        .map(|r| match r {
            Ok(record) => Ok(record.line),
            Err(Error::BadRecord { line, .. }) => Err(*line),
            Err(other) => panic!("unexpected error: {other}"),
        })
        .collect()
}

/// What the `analyze` fuzz target checks: the input cut at each `0xFF` byte into texts, each
/// analysed by the fast path and by `tokenizers`, one after another with the same buffers.
fn check_analyzer_input(bytes: &[u8]) {
    let analyzer = HfAnalyzer::default();
    let (mut fast, mut reference) = (TokenBuffer::default(), TokenBuffer::default());
    for piece in bytes.split(|&b| b == 0xFF) {
        let text = String::from_utf8_lossy(piece);
        analyzer.analyze(&text, &mut fast);
        analyzer.analyze_reference(&text, &mut reference);
        let fast: Vec<&str> = fast.iter().collect();
        let reference: Vec<&str> = reference.iter().collect();
        assert_eq!(fast, reference, "tokens of {text:?}");
    }
}

/// The `analyze` target's seeds, which include two texts in one input.
#[test]
fn analyzer_seeds_match_tokenizers() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/analyze");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        check_analyzer_input(&std::fs::read(entry.unwrap().path()).unwrap());
        n += 1;
    }
    assert!(n >= 5, "{n} seeds");
}

/// What the reader fuzz targets check, for one input in one format.
fn check_reader_input(bytes: &[u8], format: Format) {
    let line_bytes: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    let has_content = |line: u64| {
        let l = line_bytes[line as usize - 1];
        match format {
            Format::Csv | Format::Tsv => l.iter().any(|&b| b != b'\r'),
            _ => l.iter().any(|b| !b.is_ascii_whitespace()),
        }
    };
    for labelled in [false, true] {
        let (results, peak) = peak_bytes(|| read(bytes, format, labelled));
        assert!(
            peak <= 64 * bytes.len() + (4 << 20),
            "{format}: {peak} bytes for {} input bytes",
            bytes.len()
        );
        assert!(results.len() <= bytes.len() + 1);
        for r in &results {
            match r {
                Ok(record) => {
                    assert!(record.line >= 1 && record.line as usize <= line_bytes.len());
                    if format != Format::Text {
                        assert!(has_content(record.line), "record on a blank line");
                    }
                    assert_eq!(record.label.is_some(), labelled);
                }
                Err(Error::BadRecord { line, .. }) => {
                    assert!(*line >= 1 && *line as usize <= line_bytes.len());
                    assert!(
                        has_content(*line),
                        "error names a blank line: {}",
                        r.as_ref().unwrap_err()
                    );
                }
                Err(Error::BadInput { .. } | Error::Io { .. }) => {}
                Err(other) => panic!("unexpected error kind: {other:?}"),
            }
        }
    }
}

/// Found by `read_csv` once it checked that a named line is not blank (saved under
/// `tests/fixtures/fuzz/read_csv/field-count-*`): a CSV or TSV row with the wrong number of
/// fields after blank lines was reported on the wrong line (the csv crate's record position
/// is where its parse began, before the blank lines it skips). Here the bad row is on line
/// 4; it was reported on line 2 (CRLF) or 3 (LF).
#[test]
fn csv_field_count_errors_after_blank_lines_name_the_row() {
    for data in [
        &b"text,label\r\n\r\n\r\na,b,c\r\n"[..],
        b"text,label\n\n\na,b,c\n",
        b"text,label\n\r\n\na,b,c",
    ] {
        let results = read(data, Format::Csv, true);
        assert_eq!(
            lines(&results),
            [Err(4)],
            "{:?}",
            String::from_utf8_lossy(data)
        );
        let message = results[0].as_ref().unwrap_err().to_string();
        assert!(
            message.starts_with("fuzz-input:4: expected 2 fields"),
            "{message}"
        );
        check_reader_input(data, Format::Csv);
    }
    let saved = b"\xef\xbb\xbftext,label\r\n\r\n\r\npvor";
    assert_eq!(lines(&read(saved, Format::Csv, false)), [Err(4)]);
    let tsv = b"text\tlabel\r\n\r\n\r\na\tb\tc\r\nx\ty\r\n\n\nz\tw";
    assert_eq!(
        lines(&read(tsv, Format::Tsv, false)),
        [Err(4), Ok(5), Ok(8)]
    );
    check_reader_input(tsv, Format::Tsv);
}

/// A quoted field running to the end of the input and ending in a newline: the record
/// starts on line 2 (the line was computed back from the record's last byte, and that
/// newline, counted as inside the field but not before the last byte, made it 1).
#[test]
fn unterminated_quote_at_the_end_names_the_line_it_starts_on() {
    let data = b"text\n\"abc\n";
    let results = read(data, Format::Csv, false);
    assert_eq!(lines(&results), [Ok(2)]);
    assert_eq!(results[0].as_ref().unwrap().text, "abc\n");
    check_reader_input(data, Format::Csv);
    // The same as the header: a `text` column, and no records.
    assert!(read(b"\"text\n", Format::Csv, false).is_empty());
    // Unbalanced quote swallowing the rest: one short record, on the line it starts on.
    let data = b"text,label\r\nwar,a\r\npeace,b\r\n\"open,b\r\nmore,a\r\n";
    assert_eq!(
        lines(&read(data, Format::Csv, true)),
        [Ok(2), Ok(3), Err(4)]
    );
}

/// Found by `read_csv` (minimised to 2 bytes, `tests/fixtures/fuzz/read_csv/`): a header
/// that is not UTF-8 after a blank line was reported on line 1, the blank line.
#[test]
fn non_utf8_header_after_blank_lines_names_its_line() {
    let results = read(b"\n\xff", Format::Csv, false);
    assert_eq!(lines(&results), [Err(2)]);
    let data = b"\n\r\n\xff,label\n";
    let results = read(data, Format::Csv, false);
    assert_eq!(lines(&results), [Err(3)]);
    assert!(results[0]
        .as_ref()
        .unwrap_err()
        .to_string()
        .contains("header is not valid UTF-8"));
    check_reader_input(data, Format::Csv);
}

/// Lone `\r` ends a CSV record: records may share a line, and never go backwards.
#[test]
fn carriage_return_separated_csv_records_share_a_line() {
    let data = b"text,label\ra,b\rc,d,e\rf,g";
    assert_eq!(
        lines(&read(data, Format::Csv, true)),
        [Ok(1), Err(1), Ok(1)]
    );
    check_reader_input(data, Format::Csv);
}

/// Seeds and edge cases of every reader target: BOMs, CRLF, blank and whitespace-only
/// lines, invalid UTF-8, unbalanced quotes, JSON of every wrong shape, deep nesting.
#[test]
fn reader_edge_cases_give_records_or_line_errors() {
    let deep_json = format!("{}\n", "[".repeat(100_000));
    let long_line = format!("__label__a {}\n", "x ".repeat(50_000));
    let cases: &[(Format, &[u8])] = &[
        (Format::Csv, b""),
        (Format::Csv, b"\xef\xbb\xbf"),
        (Format::Csv, b"\xef\xbb\xbf\xef\xbb\xbftext,label\na,b\n"),
        (Format::Csv, b"text,label\n\"a\"\"b\",\"c\nd\"\n\"\n"),
        (Format::Csv, b"text,text,label\n1,2,3\n"),
        (Format::Csv, b",\n,\n"),
        (Format::Tsv, b"text\tlabel\n\"a\tb\n\xff\tx\n\t\n"),
        (Format::Jsonl, b"{\"text\": \"a\", \"label\": 1e999}\n"),
        (
            Format::Jsonl,
            b"{\"text\": \"\\ud800\", \"label\": [1]}\n{\"text\": 5}\n",
        ),
        (
            Format::Jsonl,
            b"\r\n \t\n{}\n[]\nnull\n\"x\"\n{\"text\":\"a\",\"label\":{}}",
        ),
        (Format::Jsonl, deep_json.as_bytes()),
        (
            Format::FastText,
            b"__label__\n__label__a\n__label__ __label__b x\n\xe3\x80\x80\n",
        ),
        (Format::FastText, long_line.as_bytes()),
        (Format::Text, b"\n\r\n\xff\nlast"),
    ];
    for (format, data) in cases {
        check_reader_input(data, *format);
    }
}

/// `from_reader` reads exactly what `open` reads from the same file.
#[test]
fn from_reader_matches_open_on_every_fixture() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for (file, format, labelled) in [
        ("framing_small.csv", Format::Csv, true),
        ("framing_small.tsv", Format::Tsv, true),
        ("framing_small.jsonl", Format::Jsonl, true),
        ("framing_small.txt", Format::FastText, true),
        ("unlabelled.txt", Format::Text, false),
    ] {
        let path = fixtures.join(file);
        let opened: Vec<Record> = RecordReader::open(&Source::file(&path), labelled)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let bytes = std::fs::read(&path).unwrap();
        let streamed: Vec<Record> = RecordReader::from_reader(
            Cursor::new(bytes),
            path.clone(),
            format,
            "text",
            "label",
            labelled,
        )
        .unwrap()
        .map(Result::unwrap)
        .collect();
        assert!(!opened.is_empty());
        assert_eq!(opened, streamed, "{file}");
    }
    // Plain text carries no labels: refused for labelled reading, as `open` refuses it.
    let Err(Error::BadInput { problem, .. }) = RecordReader::from_reader(
        Cursor::new(Vec::new()),
        "x",
        Format::Text,
        "text",
        "label",
        true,
    ) else {
        panic!("labelled plain text was accepted");
    };
    assert!(problem.contains("carry no labels"));
}

// ---------------------------------------------------------------------------------------
// Model files.

fn small_model() -> Classifier {
    use stance::corpus::LabelledCorpus;
    use stance::train::{train, TrainOptions, Validation};
    use stance::vectorize::DocFreq;
    let rows = [
        ("The minister condemned the hostile buildup.", "conflict"),
        (
            "Officials threatened retaliation and sanctions.",
            "conflict",
        ),
        ("The army warned of war on the border.", "conflict"),
        ("The two governments signed a trade agreement.", "peace"),
        ("Both sides pledged cooperation on energy.", "peace"),
        ("Leaders welcomed the joint peace accord.", "peace"),
    ];
    let corpus = LabelledCorpus {
        texts: rows.iter().map(|r| r.0.to_string()).collect(),
        labels: rows.iter().map(|r| r.1.to_string()).collect(),
        ..LabelledCorpus::default()
    };
    let mut options = TrainOptions::default();
    options.vectorizer.min_df = DocFreq::Count(1);
    options.c_grid = vec![1.0];
    train(&corpus, &Validation::None, &options, &mut |_| {}).unwrap()
}

const HEADER_LEN: usize = 56;

/// A model file around `content` with a matching length and checksum.
fn wrap(content: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(model_file::MAGIC);
    bytes.extend_from_slice(&model_file::FORMAT_VERSION.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&(content.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(content));
    bytes.extend_from_slice(content);
    bytes
}

/// What the model-file target checks: a model or a `BadModel` error, memory within
/// 64 × the input + 4 MiB, and a model that loads can be used.
fn check_model_input(bytes: &[u8]) -> Result<(), ModelFileProblem> {
    let (result, peak) = peak_bytes(|| model_file::from_bytes(bytes, Path::new("fuzz.stance")));
    assert!(
        peak <= 64 * bytes.len() + (4 << 20),
        "{peak} bytes live decoding {} bytes",
        bytes.len()
    );
    match result {
        Ok(classifier) => {
            let texts = vec!["hostile trade talks".to_string(), String::new()];
            let predictions = classifier.predict(&texts);
            assert_eq!(predictions.len(), 2);
            for class in 0..classifier.labels.len() {
                let _ = classifier.explain(&texts[0], class, 3);
            }
            let _ = classifier.top_features(3);
            if let Some(selection) = &classifier.metadata.selection {
                let _ = selection.report.to_string();
            }
            Ok(())
        }
        Err(Error::BadModel { kind, .. }) => {
            let _ = kind.to_string();
            Err(kind)
        }
        Err(other) => panic!("not a model-file error: {other:?}"),
    }
}

/// Found by `model_file` (mode 0, minimised to the 56-byte header,
/// `tests/fixtures/fuzz/model_file/declared-length-overflow`): a header declaring a
/// content length near `u64::MAX` overflowed `56 + declared` while building the
/// "truncated" message — a panic in debug builds, a nonsense expected size in release.
#[test]
fn model_header_declaring_u64_max_bytes_is_truncated_not_an_overflow() {
    let saved = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/fuzz/model_file/declared-length-overflow"),
    )
    .unwrap();
    // The target's mode byte (0: a whole file) comes first. The file was saved when the
    // format version was 1: give it the current one, so the length check is reached.
    let mut header = saved[1..].to_vec();
    assert_eq!(&header[..8], model_file::MAGIC);
    header[8..12].copy_from_slice(&model_file::FORMAT_VERSION.to_le_bytes());
    let header = &header[..];
    let problem = check_model_input(header).unwrap_err();
    assert_eq!(
        problem,
        ModelFileProblem::Truncated {
            expected: u64::MAX,
            found: header.len() as u64
        }
    );
    assert!(problem.to_string().contains("18446744073709551615 bytes"));
}

#[test]
fn model_headers_that_lie_about_the_length_are_refused_without_allocating_it() {
    let valid = model_file::to_bytes(&small_model()).unwrap();
    for declared in [u64::MAX, u64::MAX - HEADER_LEN as u64 + 1, 1 << 40, 0] {
        let mut bytes = valid.clone();
        bytes[16..24].copy_from_slice(&declared.to_le_bytes());
        let problem = check_model_input(&bytes).unwrap_err();
        if declared == 0 {
            assert_eq!(problem, ModelFileProblem::Corrupted);
        } else {
            assert!(
                matches!(problem, ModelFileProblem::Truncated { .. }),
                "{problem:?}"
            );
        }
    }
    // Just the header, claiming content it does not have.
    assert!(matches!(
        check_model_input(&valid[..HEADER_LEN]).unwrap_err(),
        ModelFileProblem::Truncated { .. }
    ));
}

/// Content behind a correct checksum that declares enormous collections: serde caps the
/// pre-allocation, postcard stops at the end of the input, memory stays small.
#[test]
fn model_content_declaring_huge_lengths_is_invalid_and_cheap() {
    let huge_varint = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    let mut contents: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0],
        huge_varint.to_vec(),
        [&[0x02, 0x00, 0x00][..], &huge_varint].concat(),
    ];
    // The valid content with each of its first bytes replaced by a huge varint.
    let valid = model_file::to_bytes(&small_model()).unwrap()[HEADER_LEN..].to_vec();
    for at in 0..64.min(valid.len()) {
        contents.push([&valid[..at], &huge_varint[..], &valid[at + 1..]].concat());
    }
    for content in contents {
        assert!(matches!(
            check_model_input(&wrap(&content)),
            Err(ModelFileProblem::Invalid(_)) | Ok(())
        ));
    }
}

/// The mode-2 mutations of the model-file target, exhaustively over a stride of positions:
/// truncations, byte flips, varint growth, deletions and insertions of a valid model's
/// content, each behind a recomputed checksum. None may panic; any that loads must work.
#[test]
fn edited_valid_models_load_or_are_refused() {
    let valid = model_file::to_bytes(&small_model()).unwrap()[HEADER_LEN..].to_vec();
    let stride = (valid.len() / 120).max(1);
    let mut loaded = 0;
    for at in (0..valid.len()).step_by(stride) {
        let mut edits: Vec<Vec<u8>> = vec![valid[..at].to_vec()];
        for (flip, set) in [(0x01, 0x00), (0x80, 0xff), (0x40, 0x7f)] {
            let mut v = valid.clone();
            v[at] ^= flip;
            edits.push(v);
            let mut v = valid.clone();
            v[at] = set;
            edits.push(v);
        }
        let mut v = valid.clone();
        v.remove(at);
        edits.push(v);
        let mut v = valid.clone();
        v.insert(at, 0x80);
        edits.push(v);
        for content in edits {
            if check_model_input(&wrap(&content)).is_ok() {
                loaded += 1;
            }
        }
    }
    // Flips inside floats and strings leave a valid model: the checks were reached.
    assert!(loaded > 0);
}

// ---------------------------------------------------------------------------------------
// Saved fuzz inputs.

/// Replay every input saved under `tests/fixtures/fuzz/<target>/` through its target's
/// checks. (Model-file inputs carry the target's mode byte: 0 = a whole file, 1 = content
/// behind a recomputed header, 2 = edits to the small model, which this test cannot rebuild
/// byte for byte — replay those with `cargo fuzz run model_file <file>`.)
#[test]
fn saved_fuzz_inputs_replay_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let Ok(targets) = std::fs::read_dir(&root) else {
        return;
    };
    for target in targets {
        let target = target.unwrap().path();
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        for file in files {
            let data = std::fs::read(&file).unwrap();
            match name.as_str() {
                "analyze" => check_analyzer_input(&data),
                "read_csv" => check_reader_input(&data, Format::Csv),
                "read_tsv" => check_reader_input(&data, Format::Tsv),
                "read_jsonl" => check_reader_input(&data, Format::Jsonl),
                "read_fasttext" => check_reader_input(&data, Format::FastText),
                "read_text" => check_reader_input(&data, Format::Text),
                "model_file" => match data.split_first() {
                    Some((mode, rest)) if mode % 3 == 0 => drop(check_model_input(rest)),
                    Some((mode, rest)) if mode % 3 == 1 => drop(check_model_input(&wrap(rest))),
                    _ => {}
                },
                other => panic!("unknown fuzz target directory {other}"),
            }
        }
    }
}
