//! The command line on awkward and broken input, one test per case: very long lines, byte-order
//! marks, Windows line endings, mixed formats, labels the model never saw, empty texts,
//! invalid UTF-8, files without records, one class only, unknown format names, directories
//! and missing files. Each checks the exit code and that standard error names the file, the
//! line (where the problem is at a line) and the problem, or, for accepted input, that the
//! result is right.
//!
//! Training calls use word n-grams only, every n-gram kept and one C, so that the file runs in
//! a few seconds in debug builds.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;

use serde_json::{json, Value};

/// A sentence the shared model labels confrontational; repeated to build long texts.
const HOSTILE: &str =
    "The minister condemned the hostile military buildup and threatened retaliation. ";

/// Train on `data` and return `inspect --json` of the model.
fn train_and_inspect(data: &Path) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    train_fast(data, &model, &[]).success();
    run(&["inspect", "--json", "--top", "100000", "--model", s(&model)])
        .success()
        .json()
}

/// Every feature name in an `inspect --json` object.
fn features(inspect: &Value) -> Vec<String> {
    inspect["top_features"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap())
        .map(|f| f["feature"].as_str().unwrap().to_string())
        .collect()
}

fn predict(data: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["predict", "--model", s(shared_model()), "--data", s(data)];
    args.extend(extra);
    run(&args)
}

fn labels_of(lines: &[Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| l["label"].as_str().expect("label").to_string())
        .collect()
}

fn with_bom(content: &[u8]) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    out.extend_from_slice(content);
    out
}

/// LF line endings → CRLF.
fn crlf(content: &[u8]) -> Vec<u8> {
    assert!(!content.contains(&b'\r'));
    let mut out = Vec::with_capacity(content.len() * 2);
    for &b in content {
        if b == b'\n' {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

// ---------------------------------------------------------------------------------------
// very long lines
// ---------------------------------------------------------------------------------------

/// About `bytes` bytes of confrontational text, no newline.
fn long_text(bytes: usize) -> String {
    HOSTILE.repeat(bytes / HOSTILE.len() + 1)
}

#[test]
fn a_20_mb_jsonl_line_is_read_quickly_by_predict_and_eval() {
    // The record's text is short; its line is long because of another field: this checks
    // the reading path (line buffer, JSON parsing) apart from the analyser.
    let blob = "x".repeat(20 << 20);
    let content = format!(
        "{}\n{}\n{}\n",
        json!({"text": "Both sides signed a joint agreement and pledged cooperation.", "label": "cooperative"}),
        json!({"text": "The minister condemned the hostile provocations.", "label": "confrontational", "blob": blob}),
        json!({"text": "The office published the annual population figures.", "label": "neutral"}),
    );
    let (data, _dir) = write_data("big.jsonl", content.as_bytes());
    let start = Instant::now();
    let out = predict(&data, &[]).success();
    let lines = out.json_lines();
    assert_eq!(
        labels_of(&lines),
        ["cooperative", "confrontational", "neutral"]
    );
    let j = run(&[
        "eval",
        "--json",
        "--model",
        s(shared_model()),
        "--data",
        s(&data),
    ])
    .success()
    .json();
    assert_eq!(j["n"], 3);
    assert_eq!(j["accuracy"], 1.0);
    let elapsed = start.elapsed();
    assert!(
        elapsed < Duration::from_secs(10),
        "predict + eval of a 20 MB line took {elapsed:?}"
    );
}

#[test]
fn megabyte_texts_get_one_prediction_each() {
    let big = long_text(1 << 20);
    // JSON lines: the long text is the record's text.
    let content = format!(
        "{}\n{}\n{}\n",
        json!({"text": "Both sides signed a joint agreement and pledged cooperation."}),
        json!({ "text": big }),
        json!({"text": "The office published the annual population figures."}),
    );
    let (data, _dir) = write_data("big.jsonl", content.as_bytes());
    let lines = predict(&data, &[]).success().json_lines();
    assert_eq!(
        labels_of(&lines),
        ["cooperative", "confrontational", "neutral"]
    );

    // Plain text: one line of a megabyte between two short ones, Windows endings.
    let content = format!(
        "Both sides signed a joint agreement and pledged cooperation.\r\n{big}\r\nThe office published the annual population figures.\r\n"
    );
    let (data, _dir) = write_data("big.txt", content.as_bytes());
    let lines = predict(&data, &[]).success().json_lines();
    assert_eq!(
        labels_of(&lines),
        ["cooperative", "confrontational", "neutral"]
    );
}

/// A copy of a fixture with a UTF-8 byte-order mark reads as the same records (same data
/// fingerprint), and no feature carries the mark.
fn check_bom_is_ignored(fixture_name: &str, extension: &str) {
    let plain = fixture(fixture_name);
    let (data, _dir) = write_data(
        &format!("bom.{extension}"),
        &with_bom(&fs::read(&plain).unwrap()),
    );
    let expected = train_and_inspect(&plain);
    let got = train_and_inspect(&data);
    assert_eq!(got["data_fingerprint"], expected["data_fingerprint"]);
    assert!(
        features(&got).iter().all(|f| !f.contains('\u{feff}')),
        "a feature carries the byte-order mark"
    );
}

#[test]
fn a_bom_before_a_csv_header_is_ignored() {
    // The header's first column is `text`: with the BOM glued on it would not be found.
    check_bom_is_ignored("framing_small.csv", "csv");
    // And the columns listed in a message do not show it either.
    let (out, data, _dir) = train_on(
        "d.csv",
        &with_bom(b"text,label\nwar,a\npeace,b\n"),
        &["--label-field", "stance"],
    );
    out.fails_with(&[s(&data), "no `stance` column", "(columns: text, label)"]);
}

#[test]
fn a_bom_before_a_tsv_header_is_ignored() {
    // The TSV fixture's first column is `label`.
    check_bom_is_ignored("framing_small.tsv", "tsv");
}

#[test]
fn a_bom_before_the_first_json_line_is_ignored() {
    check_bom_is_ignored("framing_small.jsonl", "jsonl");
}

#[test]
fn a_bom_before_the_first_fasttext_line_is_ignored() {
    // With the BOM kept, line 1 would have no `__label__` prefix and no label.
    check_bom_is_ignored("framing_small.txt", "txt");
}

#[test]
fn a_bom_before_plain_text_for_prediction_is_ignored() {
    let plain = fs::read(fixture("unlabelled.txt")).unwrap();
    let expected = predict(&fixture("unlabelled.txt"), &[]).success().stdout;
    let (data, _dir) = write_data("bom.txt", &with_bom(&plain));
    assert_eq!(predict(&data, &[]).success().stdout, expected);
    let from_stdin = run_stdin(
        &["predict", "--model", s(shared_model())],
        &with_bom(&plain),
    );
    assert_eq!(from_stdin.success().stdout, expected);
}

// ---------------------------------------------------------------------------------------
// Windows line endings
// ---------------------------------------------------------------------------------------

/// A CRLF copy of a fixture reads as the same records (same fingerprint, so no text or label
/// ends with `\r`), evaluates the same, and predicts one line per record, as the LF copy.
fn check_crlf_reads_the_same_records(fixture_name: &str, extension: &str) {
    let lf = fixture(fixture_name);
    let (data, _dir) = write_data(&format!("crlf.{extension}"), &crlf(&fs::read(&lf).unwrap()));
    let expected = train_and_inspect(&lf);
    let got = train_and_inspect(&data);
    assert_eq!(got["n_train"], 54);
    assert_eq!(got["labels"], json!(LABELS), "labels must not end with \\r");
    assert_eq!(
        got["data_fingerprint"], expected["data_fingerprint"],
        "the records read from CRLF lines differ from those read from LF lines"
    );
    assert_eq!(got["top_features"], expected["top_features"]);

    let eval = |path: &Path| {
        run(&[
            "eval",
            "--json",
            "--model",
            s(shared_model()),
            "--data",
            s(path),
        ])
        .success()
        .json()
    };
    let (lf_report, crlf_report) = (eval(&lf), eval(&data));
    assert_eq!(crlf_report["n"], 54);
    assert_eq!(crlf_report, lf_report);

    let lf_lines = predict(&lf, &[]).success().stdout;
    let crlf_lines = predict(&data, &[]).success().stdout;
    assert_eq!(crlf_lines.lines().count(), 54);
    assert_eq!(crlf_lines, lf_lines);
}

#[test]
fn crlf_csv_reads_like_lf_and_names_the_right_lines() {
    check_crlf_reads_the_same_records("framing_small.csv", "csv");
    // A quoted field spanning two lines, then an empty text at line 5.
    let content = b"text,label\r\nwar,a\r\n\"two\r\nlines\",b\r\n,b\r\n";
    let (out, data, _dir) = train_on("d.csv", content, &["--strict"]);
    out.fails_with(&[&at(&data, 5), "empty text"]);
    // A missing label at line 4.
    let (out, data, _dir) = train_on("d.csv", b"text,label\r\nwar,a\r\npeace,b\r\ncalm,\r\n", &[]);
    out.fails_with(&[&at(&data, 4), "missing label"]);
    // Invalid UTF-8 at line 4.
    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\r\nwar,a\r\npeace,b\r\nca\xffm,b\r\n",
        &[],
    );
    out.fails_with(&[&at(&data, 4), "invalid UTF-8"]);
}

#[test]
fn crlf_tsv_reads_like_lf_and_names_the_right_lines() {
    // The TSV fixture's text is its last column, the one that would keep a `\r`.
    check_crlf_reads_the_same_records("framing_small.tsv", "tsv");
    let (out, data, _dir) = train_on(
        "d.tsv",
        b"label\ttext\r\na\twar\r\nb\tpeace\r\nb\t\r\n",
        &["--strict"],
    );
    out.fails_with(&[&at(&data, 4), "empty text"]);
    let (out, data, _dir) = train_on(
        "d.tsv",
        b"text\tlabel\r\nwar\ta\r\npeace\tb\r\ncalm\t\r\n",
        &[],
    );
    out.fails_with(&[&at(&data, 4), "missing label"]);
}

#[test]
fn crlf_jsonl_reads_like_lf_and_names_the_right_lines() {
    check_crlf_reads_the_same_records("framing_small.jsonl", "jsonl");
    let content = b"{\"text\": \"war\", \"label\": \"a\"}\r\n\r\n{\"text\": \"peace\", \"label\": \"b\"}\r\n{\"text\": \"calm\", \"label\": }\r\n";
    let (out, data, _dir) = train_on("d.jsonl", content, &[]);
    out.fails_with(&[&at(&data, 4), "malformed JSON"]);
    let content = b"{\"text\": \"war\", \"label\": \"a\"}\r\n\r\n{\"text\": \"peace\", \"label\": \"b\"}\r\n{\"text\": \" \", \"label\": \"b\"}\r\n";
    let (out, data, _dir) = train_on("d.jsonl", content, &["--strict"]);
    out.fails_with(&[&at(&data, 4), "empty text"]);
}

#[test]
fn crlf_fasttext_reads_like_lf_and_names_the_right_lines() {
    check_crlf_reads_the_same_records("framing_small.txt", "txt");
    let (out, data, _dir) = train_on(
        "d.txt",
        b"__label__a war\r\n\r\n__label__b peace\r\nno label here\r\n",
        &[],
    );
    out.fails_with(&[&at(&data, 4), "missing label"]);
    // A label with nothing after it but the line ending: an empty text, not a label `b\r`.
    let (out, data, _dir) = train_on(
        "d.txt",
        b"__label__a war\r\n\r\n__label__b peace\r\n__label__b\r\n",
        &["--strict"],
    );
    out.fails_with(&[&at(&data, 4), "empty text"]);
}

#[test]
fn crlf_plain_text_predicts_like_lf_and_names_the_right_lines() {
    let lf = fs::read(fixture("unlabelled.txt")).unwrap();
    let expected = predict(&fixture("unlabelled.txt"), &[]).success().stdout;
    let (data, _dir) = write_data("crlf.txt", &crlf(&lf));
    assert_eq!(predict(&data, &[]).success().stdout, expected);
    let from_stdin = run_stdin(&["predict", "--model", s(shared_model())], &crlf(&lf));
    assert_eq!(from_stdin.success().stdout, expected);
    let (data, _dir) = write_data("bad.txt", b"war\r\n\r\npeace\r\nca\xffm\r\n");
    predict(&data, &[]).fails_with(&[&at(&data, 4), "invalid UTF-8"]);
}

#[test]
fn crlf_csv_structural_errors_name_the_right_line() {
    // LF: right.
    let (out, data, _dir) = train_on("d.csv", b"text,label\nwar,a\npeace,b\nx,b,c\n", &[]);
    out.fails_with(&[&at(&data, 4), "expected 2 fields"]);
    // CRLF: the same file, the same line.
    let (out, data, _dir) = train_on("d.csv", b"text,label\r\nwar,a\r\npeace,b\r\nx,b,c\r\n", &[]);
    out.fails_with(&[&at(&data, 4), "expected 2 fields"]);
    let (out, data, _dir) = train_on(
        "d.tsv",
        b"text\tlabel\r\nwar\ta\r\npeace\tb\r\nx\tb\tc\r\n",
        &[],
    );
    out.fails_with(&[&at(&data, 4), "expected 2 fields"]);
    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\r\nwar,a\r\npeace,b\r\n\"open,b\r\nmore,a\r\n",
        &[],
    );
    out.fails_with(&[&at(&data, 4), "unbalanced quote"]);
}

// ---------------------------------------------------------------------------------------
// mixed formats
// ---------------------------------------------------------------------------------------

const TWO_GOOD_JSONL: &str = "{\"text\": \"They condemned the attack.\", \"label\": \"confrontational\"}\n{\"text\": \"They signed the agreement.\", \"label\": \"cooperative\"}\n";

#[test]
fn a_csv_row_in_json_lines_is_malformed_json_at_its_line() {
    let content =
        format!("{TWO_GOOD_JSONL}The office published figures.,neutral\n{TWO_GOOD_JSONL}");
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    out.fails_with(&[&at(&data, 3), "malformed JSON"]);
}

#[test]
fn a_fasttext_line_in_json_lines_is_malformed_json_at_its_line() {
    let content =
        format!("{TWO_GOOD_JSONL}__label__neutral The office published figures.\n{TWO_GOOD_JSONL}");
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    out.fails_with(&[&at(&data, 3), "malformed JSON"]);
}

#[test]
fn a_json_line_in_fasttext_input_has_no_label_at_its_line() {
    let content = "__label__confrontational They condemned the attack.\n__label__cooperative They signed the agreement.\n\n{\"text\": \"The office published figures.\", \"label\": \"neutral\"}\n__label__neutral The office published figures.\n";
    let (out, data, _dir) = train_on("d.txt", content.as_bytes(), &[]);
    out.fails_with(&[&at(&data, 4), "missing label"]);
}

// ---------------------------------------------------------------------------------------
// labels the model never saw
// ---------------------------------------------------------------------------------------

#[test]
fn eval_reports_a_label_the_model_never_saw_and_succeeds() {
    let mut content = fs::read_to_string(fixture("framing_valid.jsonl")).unwrap();
    for text in ["Nice weather today.", "What a lovely day.", "Sunny again."] {
        content.push_str(&format!("{}\n", json!({"text": text, "label": "weather"})));
    }
    let (data, _dir) = write_data("test.jsonl", content.as_bytes());
    let model = shared_model();

    let out = run(&["eval", "--model", s(model), "--data", s(&data)]).success();
    assert!(
        out.stdout.contains(
            "note: 3 example(s) have label `weather`, which the model never saw; they count as errors"
        ),
        "{}",
        out.stdout
    );
    let row = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("weather"))
        .unwrap_or_else(|| panic!("no table row for the unseen label:\n{}", out.stdout));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells,
        ["weather", "0.0000", "0.0000", "0.0000", "3"],
        "{row}"
    );

    let j = run(&["eval", "--json", "--model", s(model), "--data", s(&data)])
        .success()
        .json();
    assert_eq!(j["n"], 12);
    assert_eq!(j["unseen_labels"], json!([["weather", 3]]));
    let correct: u64 = (0..4).map(|i| j["confusion"][i][i].as_u64().unwrap()).sum();
    assert!(correct <= 9, "the unseen examples cannot be right");
    let accuracy = j["accuracy"].as_f64().unwrap();
    assert!(
        (accuracy - correct as f64 / 12.0).abs() < 1e-12,
        "{accuracy}"
    );
    assert!(
        out.stdout
            .contains("the log-loss, which has no probability for them, leaves them out"),
        "{}",
        out.stdout
    );
    // The label-shift check counts the unseen label, which is a quarter of these records
    // and none of the training data's.
    let shift = &j["label_shift"];
    assert_eq!(shift["degrees_of_freedom"], 3, "{shift}");
    assert!(
        shift["total_variation"].as_f64().unwrap() > 0.2499,
        "{shift}"
    );
    assert!(shift["p_value"].as_f64().unwrap() < 0.01, "{shift}");
}

// ---------------------------------------------------------------------------------------
// empty texts
// ---------------------------------------------------------------------------------------

#[test]
fn empty_texts_are_skipped_with_a_warning_naming_the_first_line_and_the_count() {
    // JSON lines: empty texts at lines 3 and 6 (line 4 is blank, so not a record).
    let content = format!(
        "{TWO_GOOD_JSONL}{}\n\n{TWO_GOOD_JSONL}{}\n",
        json!({"text": "", "label": "cooperative"}),
        json!({"text": " \t ", "label": "neutral"}),
    );
    let (out, data, dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    let out = out.success();
    let warning = format!(
        "warning: {}: skipped 2 record(s) with an empty text (first at line 3); --strict refuses them",
        s(&data)
    );
    assert!(out.stderr.contains(&warning), "{}", out.stderr);
    let j = run(&[
        "inspect",
        "--json",
        "--model",
        s(&dir.path().join("m.stance")),
    ])
    .success()
    .json();
    assert_eq!(j["n_train"], 4);
    assert_eq!(
        j["labels"],
        json!(["confrontational", "cooperative"]),
        "`neutral` only had an empty text"
    );

    // CSV: one empty text at line 3; eval warns the same way.
    let (data, _dir) = write_data(
        "d.csv",
        b"text,label\nThey condemned the attack.,confrontational\n,neutral\nThey signed the agreement.,cooperative\n",
    );
    let out = run(&[
        "eval",
        "--json",
        "--model",
        s(shared_model()),
        "--data",
        s(&data),
    ])
    .success();
    assert!(
        out.stderr.contains(&format!(
            "warning: {}: skipped 1 record(s) with an empty text (first at line 3)",
            s(&data)
        )),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["n"], 2);
}

#[test]
fn an_empty_text_with_strict_is_an_error_at_its_line() {
    let content = format!(
        "{TWO_GOOD_JSONL}\n{}\n{}\n",
        json!({"text": "Figures were published.", "label": "neutral"}),
        json!({"text": "", "label": "neutral"}),
    );
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &["--strict"]);
    out.fails_with(&[&at(&data, 5), "empty text"]);
    let (data, _dir) = write_data("d.csv", b"text,label\nwar,a\npeace,b\n  ,b\n");
    run(&[
        "eval",
        "--strict",
        "--model",
        s(shared_model()),
        "--data",
        s(&data),
    ])
    .fails_with(&[&at(&data, 4), "empty text"]);
}

#[test]
fn an_empty_text_still_gets_a_prediction() {
    let (data, _dir) = write_data(
        "d.jsonl",
        format!(
            "{}\n{}\n{}\n",
            json!({"text": "They condemned the hostile attack."}),
            json!({"text": ""}),
            json!({"text": "They signed the joint agreement."}),
        )
        .as_bytes(),
    );
    let lines = predict(&data, &[]).success().json_lines();
    assert_eq!(lines.len(), 3);
    let (data, _dir) = write_data(
        "d.txt",
        b"They condemned the hostile attack.\n\n   \nThey signed the joint agreement.\n",
    );
    let lines = predict(&data, &[]).success().json_lines();
    assert_eq!(
        lines.len(),
        4,
        "blank plain lines are records for prediction"
    );
}

// ---------------------------------------------------------------------------------------
// invalid UTF-8
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_utf8_in_the_middle_of_json_lines_names_its_line() {
    let mut content = TWO_GOOD_JSONL.as_bytes().to_vec();
    content.extend_from_slice(b"{\"text\": \"caf\xe9 culture\", \"label\": \"neutral\"}\n");
    content.extend_from_slice(TWO_GOOD_JSONL.as_bytes());
    let (out, data, _dir) = train_on("d.jsonl", &content, &[]);
    out.fails_with(&[&at(&data, 3), "invalid UTF-8", "convert the file to UTF-8"]);
}

#[test]
fn invalid_utf8_in_the_middle_of_csv_names_its_line() {
    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\nwar,a\npeace,b\n\"caf\xe9\nculture\",b\nmore,a\n",
        &[],
    );
    out.fails_with(&[&at(&data, 4), "invalid UTF-8", "column 1"]);
}

#[test]
fn invalid_utf8_in_the_middle_of_plain_text_for_prediction_names_its_line() {
    let content = b"The minister condemned them.\nBoth sides signed.\nbad \xff line\nThe office published figures.\n";
    let (data, _dir) = write_data("d.txt", content);
    predict(&data, &[]).fails_with(&[
        &at(&data, 3),
        "invalid UTF-8 at byte 5",
        "convert the file to UTF-8",
    ]);
    run_stdin(&["predict", "--model", s(shared_model())], content)
        .fails_with(&["<stdin>:3:", "invalid UTF-8"]);
}

#[test]
fn a_csv_header_that_is_not_utf8_is_reported_as_an_encoding_problem() {
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "text,label\nwar,a\npeace,b\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let (out, data, _dir) = train_on("d.csv", &utf16, &[]);
    out.fails_with(&[s(&data), "UTF-8"]);
    assert!(!out.stderr.contains('\0'), "{:?}", out.stderr);
    let (out, data, _dir) = train_on("d.csv", b"te\xffxt,label\nwar,a\npeace,b\n", &[]);
    out.fails_with(&[&at(&data, 1), "UTF-8"]);
}

// ---------------------------------------------------------------------------------------
// files without records
// ---------------------------------------------------------------------------------------

#[test]
fn a_header_only_csv_or_tsv_has_no_records() {
    for (name, content) in [
        ("d.csv", &b"text,label\n"[..]),
        ("d.csv", b"text,label"),
        ("d.csv", b"text,label\r\n\r\n\r\n"),
        ("d.tsv", b"label\ttext\n"),
    ] {
        let (out, data, _dir) = train_on(name, content, &[]);
        out.fails_with(&[s(&data), "no records"]);
    }
}

#[test]
fn an_empty_file_has_no_records() {
    for name in ["d.jsonl", "d.txt"] {
        let (out, data, _dir) = train_on(name, b"", &[]);
        out.fails_with(&[s(&data), "no records"]);
    }
    // CSV and TSV need a header, and say so.
    for name in ["d.csv", "d.tsv"] {
        let (out, data, _dir) = train_on(name, b"", &[]);
        out.fails_with(&[s(&data), "empty file", "header"]);
    }
    // Evaluation too.
    let (data, _dir) = write_data("d.jsonl", b"");
    run(&["eval", "--model", s(shared_model()), "--data", s(&data)])
        .fails_with(&[s(&data), "no records"]);
}

#[test]
fn a_file_of_only_blank_lines_has_no_records() {
    for content in [&b"\n\n\n"[..], b"\r\n\r\n", b"  \n\t\n \r\n"] {
        for name in ["d.jsonl", "d.txt"] {
            let (out, data, _dir) = train_on(name, content, &[]);
            out.fails_with(&[s(&data), "no records"]);
        }
        for name in ["d.csv", "d.tsv"] {
            let (out, data, _dir) = train_on(name, content, &[]);
            out.fails_with(&[s(&data), "empty file", "header"]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// one class, unknown formats, directories, missing files
// ---------------------------------------------------------------------------------------

#[test]
fn a_label_column_with_one_class_names_the_file() {
    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\nThey condemned it.,confrontational\nThey threatened.,confrontational\n",
        &[],
    );
    out.fails_with(&[
        s(&data),
        "only one label (`confrontational`, field `label`)",
        "at least two",
    ]);
    // The same through --label-field, and in fastText input.
    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label,source\nThey condemned it.,a,wire\nThey signed it.,b,wire\n",
        &["--label-field", "source"],
    );
    out.fails_with(&[
        s(&data),
        "only one label (`wire`, field `source`)",
        "--label-field",
    ]);
    let (out, data, _dir) = train_on("d.txt", b"__label__x hello\n__label__x world\n", &[]);
    out.fails_with(&[s(&data), "only one label (`x`"]);
}

#[test]
fn an_unknown_format_name_exits_2_with_the_list_of_formats() {
    let data = fixture("framing_small.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let cases: [Vec<&str>; 3] = [
        vec![
            "train",
            "--data",
            s(&data),
            "--model",
            s(&model),
            "--format",
            "xlsx",
        ],
        vec![
            "eval",
            "--model",
            s(shared_model()),
            "--data",
            s(&data),
            "--format",
            "xlsx",
        ],
        vec!["predict", "--model", s(shared_model()), "--format", "xlsx"],
    ];
    for args in cases {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "{}", out.stdout);
        for fragment in ["unknown format `xlsx`", "csv, tsv, jsonl, fasttext or text"] {
            assert!(out.stderr.contains(fragment), "{args:?}: {}", out.stderr);
        }
    }
    assert!(!model.exists());
}

#[test]
fn a_directory_as_data_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.jsonl");
    fs::create_dir(&data).unwrap();
    let model = dir.path().join("m.stance");
    train_fast(&data, &model, &[]).fails_with(&[s(&data), "is a directory"]);
    assert!(!model.exists());
    run(&["eval", "--model", s(shared_model()), "--data", s(&data)])
        .fails_with(&[s(&data), "is a directory"]);
    predict(&data, &[]).fails_with(&[s(&data), "is a directory"]);
    // An explicit format reaches the same check.
    let plain = dir.path().join("articles");
    fs::create_dir(&plain).unwrap();
    predict(&plain, &["--format", "text"]).fails_with(&[s(&plain), "is a directory"]);
}

#[test]
fn a_nonexistent_data_file_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("missing.jsonl");
    let model = dir.path().join("m.stance");
    train_fast(&data, &model, &[]).fails_with(&[s(&data), "No such file or directory"]);
    assert!(!model.exists());
    train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&data)],
    )
    .fails_with(&[s(&data), "No such file or directory"]);
    assert!(!model.exists());
    run(&["eval", "--model", s(shared_model()), "--data", s(&data)])
        .fails_with(&[s(&data), "No such file or directory"]);
    predict(&dir.path().join("missing.txt"), &[])
        .fails_with(&["missing.txt", "No such file or directory"]);
}

#[test]
fn a_missing_or_directory_data_path_without_extension_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let missing = dir.path().join("train");
    train_fast(&missing, &model, &[]).fails_with(&[s(&missing), "No such file or directory"]);
    predict(&missing, &[]).fails_with(&[s(&missing), "No such file or directory"]);
    let directory = dir.path().join("corpus");
    fs::create_dir(&directory).unwrap();
    train_fast(&directory, &model, &[]).fails_with(&[s(&directory), "directory"]);
    assert!(!model.exists());
}

/// The other tests rely on the shared model labelling its own training data right.
#[test]
fn the_shared_model_recovers_its_training_labels() {
    let records = training_records();
    let lines = predict(&fixture("framing_small.jsonl"), &[])
        .success()
        .json_lines();
    let expected: Vec<String> = records.into_iter().map(|(label, _)| label).collect();
    assert_eq!(labels_of(&lines), expected);
}

#[test]
fn labels_differing_only_in_case_are_trained_apart_with_a_warning() {
    let mut content = String::from(TWO_GOOD_JSONL);
    for (text, label) in [
        ("We back the talks.", "Cooperative"),
        ("They agreed to meet.", "cooperative"),
    ] {
        content.push_str(&format!("{}\n", json!({"text": text, "label": label})));
    }
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    let out = out.success();
    assert!(
        out.stderr.contains(&format!(
            "warning: {}: the labels `Cooperative` and `cooperative` differ only in case",
            data.display()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn a_validation_label_the_training_data_lacks_is_refused_at_its_line() {
    // Blank lines and a CSV record over two lines: the line, not the record number.
    let valid = "text,label\n\n\"Talks resumed,\nand went on.\",cooperative\n\nThe weather was fine.,weather\n";
    let (path, dir) = write_data("valid.csv", valid.as_bytes());
    let model = dir.path().join("m.stance");
    train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&path), "--no-valid-pooling"],
    )
    .fails_with(&[
        &at(&path, 6),
        "label `weather` does not occur in the training data",
    ]);
}

#[test]
fn a_label_field_that_holds_no_label_is_questioned() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let data = fixture("framing_small.jsonl");
    let out = train_fast(&data, &model, &["--label-field", "text"]).success();
    assert!(
        out.stderr.contains("54 of the 54 records have a label no other record has (54 labels in all): is `text` the field that holds the label?"),
        "{}",
        out.stderr
    );
    let fine = train_fast(&data, &model, &[]).success();
    assert!(!fine.stderr.contains("warning"), "{}", fine.stderr);
}
