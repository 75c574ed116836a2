//! End-to-end tests of the `stance` command line: every subcommand run as a process on the
//! small labelled fixtures in `tests/fixtures/`, checking real values (reports, JSON fields,
//! predictions, model bytes) and the error messages for bad input and bad model files.
//!
//! Fixtures: `framing_small.*` holds the same 54 news-like sentences (18 per label:
//! confrontational, cooperative, neutral, each with its own vocabulary) as JSON lines, CSV,
//! TSV (label column first), fastText lines, JSON lines under an odd extension (`.data`) and
//! CSV with other column names (`framing_fields.csv`: id, sentence, stance).
//! `framing_valid.jsonl` is a 9-sentence validation set; `unlabelled.txt` holds 6 plain
//! lines, two per label.

mod common;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::*;
use serde_json::Value;

/// Probabilities of one prediction line, in the model's label order, with sanity checks.
fn check_prediction(line: &Value) -> (String, Vec<f64>) {
    let label = line["label"]
        .as_str()
        .expect("label is a string")
        .to_string();
    let probs = line["probs"].as_object().expect("probs is an object");
    let names: Vec<&str> = probs.keys().map(String::as_str).collect();
    assert_eq!(names, LABELS, "probs must name every label: {line}");
    let values: Vec<f64> = probs.values().map(|p| p.as_f64().unwrap()).collect();
    let sum: f64 = values.iter().sum();
    assert!((sum - 1.0).abs() <= 1e-9, "probs sum to {sum}: {line}");
    assert!(values.iter().all(|p| (0.0..=1.0).contains(p)), "{line}");
    let best = values
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap()
        .0;
    assert_eq!(
        label, LABELS[best],
        "label must be the argmax of probs: {line}"
    );
    (label, values)
}

/// The help text of one option (its line and continuation lines), whitespace collapsed.
fn help_entry(help: &str, option: &str) -> String {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let lines: Vec<&str> = help.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            let t = l.trim_start();
            let t = if t.len() > 4 && t.as_bytes()[0] == b'-' && &t[2..4] == ", " {
                &t[4..]
            } else {
                t
            };
            indent(l) <= 6 && (t == option || t.starts_with(&format!("{option} ")))
        })
        .unwrap_or_else(|| panic!("{option} is not in the help:\n{help}"));
    let mut entry = vec![lines[start]];
    entry.extend(
        lines[start + 1..]
            .iter()
            .take_while(|l| !l.trim().is_empty() && indent(l) > 6),
    );
    entry
        .join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The temporary files of unfinished writes (models, `predict --output`) in `dir`.
fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".stance-") && n.ends_with(".tmp"))
        .collect()
}

// ---------------------------------------------------------------------------------------
// train
// ---------------------------------------------------------------------------------------

#[test]
fn train_with_valid_file_prints_report_and_writes_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let valid = fixture("framing_valid.jsonl");
    let out = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&valid), "--no-valid-pooling"],
    )
    .success();
    let text = &out.stdout;
    assert!(
        text.starts_with("trained on 54 records, 3 labels, "),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "model selection by macro-f1 on validation file {} (9 records):",
            s(&valid)
        )),
        "{text}"
    );
    assert!(
        text.contains("held-out report of the chosen model (9 records):"),
        "{text}"
    );
    let header = text
        .lines()
        .find(|l| l.contains("precision"))
        .expect("table header");
    let columns: Vec<&str> = header.split_whitespace().collect();
    assert_eq!(columns, ["precision", "recall", "f1", "support"]);
    for label in LABELS {
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with(label) && l.split_whitespace().count() == 5)
            .unwrap_or_else(|| panic!("no report row for {label}:\n{text}"));
        let support: usize = row.split_whitespace().last().unwrap().parse().unwrap();
        assert_eq!(support, 3, "{row}");
    }
    assert!(
        text.contains("confusion matrix (rows: true, columns: predicted"),
        "{text}"
    );
    let chosen: Vec<&str> = text.lines().filter(|l| l.starts_with("  * C = ")).collect();
    assert_eq!(
        chosen.len(),
        1,
        "exactly one chosen C must be marked:\n{text}"
    );
    let tried = text.lines().filter(|l| l.starts_with("    C = ")).count();
    assert!(
        tried >= 1,
        "the other candidates are listed unmarked:\n{text}"
    );
    assert!(
        text.contains(&format!("model written to {}", s(&model))),
        "{text}"
    );
    let bytes = fs::read(&model).unwrap();
    assert!(bytes.starts_with(b"STANCEMF"), "model magic");
    assert_eq!(
        &bytes[8..12],
        &stance::model_file::FORMAT_VERSION.to_le_bytes(),
        "format version"
    );
    assert!(temp_files(dir.path()).is_empty());
}

#[test]
fn train_with_valid_file_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let valid = fixture("framing_valid.jsonl");
    let out = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&valid), "--no-valid-pooling", "--json"],
    )
    .success();
    assert_eq!(out.stdout.lines().count(), 1, "one JSON object on one line");
    let j = out.json();
    assert_eq!(j["labels"], serde_json::json!(LABELS));
    assert_eq!(j["n_train"], 54);
    assert!(j["n_features"].as_u64().unwrap() > 100);
    assert_eq!(j["evaluated_on"], "held-out data");
    assert_eq!(j["model"], s(&model));
    let accuracy = j["report"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    assert!(
        accuracy >= 0.8,
        "the fixture is clearly separable: {accuracy}"
    );
    assert_eq!(j["report"]["n"], 9);
    let selection = &j["selection"];
    let candidates = selection["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty());
    let chosen = selection["chosen"].as_u64().unwrap() as usize;
    assert!(chosen < candidates.len());
    // Without --c the search starts at the default grid's middle pair and moves outwards,
    // so what it tried is a run of neighbouring values that holds 3 and 10; 0.1 is tried
    // only when 0.3 scored best. Reports list C in order.
    let cs: Vec<f64> = candidates
        .iter()
        .map(|c| c["c"].as_f64().unwrap())
        .collect();
    let path: Vec<f64> = (stance::train::DEFAULT_C_BELOW.iter().rev())
        .chain(&stance::train::DEFAULT_C_GRID)
        .copied()
        .collect();
    let first = path.iter().position(|&c| c == cs[0]).unwrap();
    assert_eq!(cs, path[first..first + cs.len()], "{cs:?}");
    assert!(cs.contains(&3.0) && cs.contains(&10.0), "{cs:?}");
    if cs[0] == 0.1 {
        let score = |i: usize| candidates[i]["score"].as_f64().unwrap();
        assert!(
            (2..cs.len()).all(|i| score(i) <= score(1)),
            "{candidates:?}"
        );
    }
    let best = candidates
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .fold(f64::MIN, f64::max);
    assert_eq!(candidates[chosen]["score"].as_f64().unwrap(), best);
    assert_eq!(selection["fold_scores"], serde_json::json!([]));
    assert!(fs::read(&model).unwrap().starts_with(b"STANCEMF"));
}

#[test]
fn a_small_validation_file_is_pooled_with_the_training_data_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let valid = fixture("framing_valid.jsonl");
    let text = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&valid)],
    )
    .success()
    .stdout;
    assert!(
        text.starts_with("trained on 63 records, 3 labels, "),
        "{text}"
    );
    assert!(
        text.contains("model selection by macro-f1 on stratified 5-fold cross-validation over the 54 training and 9 validation records together, since a validation file of fewer than 1000 records is too small to choose C alone (seed 42)"),
        "{text}"
    );
    assert!(
        text.contains("per-fold macro-f1 of the chosen C: "),
        "{text}"
    );
    assert!(
        text.contains("cross-validated report of the chosen C (pooled out-of-fold predictions on 63 records; the saved model is refitted on all of them)"),
        "{text}"
    );
    let inspect = run(&["inspect", "--model", s(&model), "--json"])
        .success()
        .json();
    assert_eq!(inspect["label_counts"], serde_json::json!([21, 21, 21]));
    let validation = inspect["options"]["validation"].as_str().unwrap();
    assert!(
        validation.ends_with("(9 records) pooled with the training data: stratified 5-fold cross-validation (seed 42)"),
        "{validation}"
    );
    // The report directory evaluates the pooled out-of-fold predictions, one per record.
    let report = dir.path().join("report");
    let j = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&valid), "--json", "--report", s(&report)],
    )
    .success()
    .json();
    assert_eq!(j["report"]["n"], 63);
    let metrics: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(report.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["report"]["n"], 63, "{metrics}");
    // --no-valid-pooling needs a validation file: a usage error without one.
    for other in [&["--cv", "3"][..], &["--valid-split", "0.2"], &[]] {
        let mut args = vec!["--no-valid-pooling"];
        args.extend(other);
        let out = train_fast(&fixture("framing_small.jsonl"), &model, &args);
        assert_eq!(out.code, 2, "{other:?}: {}", out.stderr);
        assert!(out.stderr.contains("--no-valid-pooling") || out.stderr.contains("--valid"));
    }
}

#[test]
fn train_with_explicit_c_grid_tries_exactly_those() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let valid = fixture("framing_valid.jsonl");
    let out = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &[
            "--valid",
            s(&valid),
            "--c",
            "2,5",
            "--json",
            "--metric",
            "accuracy",
        ],
    )
    .success();
    let j = out.json();
    let cs: Vec<f64> = j["selection"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["c"].as_f64().unwrap())
        .collect();
    assert_eq!(cs, [2.0, 5.0]);
    assert_eq!(j["report"]["metric"]["name"], "accuracy");
}

#[test]
fn refit_fits_the_chosen_c_on_training_and_validation_records() {
    let dir = tempfile::tempdir().unwrap();
    let valid = fixture("framing_valid.jsonl");
    let (refit, kept) = (dir.path().join("r.stance"), dir.path().join("k.stance"));
    let train = |model: &Path, extra: &[&str]| {
        let mut args = vec!["--valid", s(&valid), "--no-valid-pooling", "--json"];
        args.extend(extra);
        train_fast(&fixture("framing_small.jsonl"), model, &args)
            .success()
            .json()
    };
    let (r, k) = (train(&refit, &["--refit"]), train(&kept, &[]));
    // The search and its held-out report are the same; only the saved model differs.
    assert_eq!(r["selection"], k["selection"]);
    assert_eq!(r["report"], k["report"]);
    assert_eq!(
        (r["refitted"].as_bool(), k["refitted"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(
        (r["n_train"].as_u64(), k["n_train"].as_u64()),
        (Some(63), Some(54))
    );
    let inspect = |m: &Path| {
        run(&["inspect", "--model", s(m), "--json"])
            .success()
            .json()
    };
    let (ri, ki) = (inspect(&refit), inspect(&kept));
    assert_eq!(ri["fit"]["c"], ki["fit"]["c"], "the chosen C is refitted");
    assert_eq!(ri["options"]["refit"], true);
    assert_eq!(ri["label_counts"], serde_json::json!([21, 21, 21]));
    assert_ne!(fs::read(&refit).unwrap(), fs::read(&kept).unwrap());
    let text = train_fast(
        &fixture("framing_small.jsonl"),
        &refit,
        &["--valid", s(&valid), "--no-valid-pooling", "--refit"],
    )
    .success()
    .stdout;
    assert!(text.starts_with("trained on 63 records, "), "{text}");
    assert!(
        text.contains("fitted again on the training and held-out records"),
        "{text}"
    );
    assert!(
        text.contains(
            "held-out report of the chosen model, as fitted before the final refit (9 records)"
        ),
        "{text}"
    );
    // With a split, the refit is on the whole training file.
    let j = train_fast(
        &fixture("framing_small.jsonl"),
        &refit,
        &["--valid-split", "0.2", "--refit", "--json"],
    )
    .success()
    .json();
    assert_eq!(
        (j["n_train"].as_u64(), j["refitted"].as_bool()),
        (Some(54), Some(true))
    );
    // Cross-validation fits the final model on all the data anyway: nothing is refitted,
    // and the saved options say so.
    let j = train_fast(
        &fixture("framing_small.jsonl"),
        &refit,
        &["--cv", "2", "--refit", "--json"],
    )
    .success()
    .json();
    assert_eq!(j["refitted"], false);
    let inspect = run(&["inspect", "--model", s(&refit), "--json"])
        .success()
        .json();
    assert_eq!(inspect["options"]["refit"], false);
}

#[test]
fn nb_weighted_model_scores_plain_rows_as_it_was_selected() {
    let dir = tempfile::tempdir().unwrap();
    let valid = fixture("framing_valid.jsonl");
    let (nb, plain) = (
        dir.path().join("nb.stance"),
        dir.path().join("plain.stance"),
    );
    let train = |model: &Path, extra: &[&str]| {
        let mut args = vec![
            "--valid",
            s(&valid),
            "--no-valid-pooling",
            "--json",
            "--no-prior-shift",
        ];
        args.extend(extra);
        train_fast(&fixture("framing_small.jsonl"), model, &args)
            .success()
            .json()
    };
    let (t_nb, _) = (train(&nb, &[]), train(&plain, &["--no-nb-weights"]));
    // The saved model (NB weights folded into its coefficients) reads plain TF-IDF rows
    // and gives the held-out report the search saw.
    let eval = run(&["eval", "--model", s(&nb), "--data", s(&valid), "--json"])
        .success()
        .json();
    assert_eq!(eval["confusion"], t_nb["report"]["confusion"]);
    let (a, b) = (
        eval["log_loss"].as_f64().unwrap(),
        t_nb["report"]["log_loss"].as_f64().unwrap(),
    );
    assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    let inspect = |m: &Path| {
        run(&["inspect", "--model", s(m), "--json"])
            .success()
            .json()
    };
    assert_eq!(inspect(&nb)["options"]["nb_weights"], true);
    assert_eq!(inspect(&plain)["options"]["nb_weights"], false);
    assert_ne!(fs::read(&nb).unwrap(), fs::read(&plain).unwrap());
}

#[test]
fn calibration_changes_probabilities_but_never_labels() {
    let dir = tempfile::tempdir().unwrap();
    let valid = fixture("framing_valid.jsonl");
    let (cal, raw) = (dir.path().join("cal.stance"), dir.path().join("raw.stance"));
    let train = |model: &Path, extra: &[&str]| {
        let mut args = vec!["--valid", s(&valid)];
        args.extend(extra);
        train_fast(&fixture("framing_small.jsonl"), model, &args)
            .success()
            .stdout
    };
    let text = train(&cal, &[]);
    assert!(text.contains("  calibration: "), "{text}");
    assert!(!train(&raw, &["--no-calibration"]).contains("calibration:"));
    // On this fixture a temperature is adopted (the validation records are all classified
    // right, so the scores are sharpened).
    let inspect = run(&["inspect", "--model", s(&cal), "--json"])
        .success()
        .json();
    let t = &inspect["selection"]["temperature"];
    assert_eq!(t["adopted"], true, "{t}");
    assert!(text.contains("scores divided by a temperature"), "{text}");
    let predictions = |model: &Path| -> Vec<serde_json::Value> {
        predict_file(model, &fixture("framing_small.jsonl"))
            .success()
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (p_cal, p_raw) = (predictions(&cal), predictions(&raw));
    for (a, b) in p_cal.iter().zip(&p_raw) {
        assert_eq!(a["label"], b["label"]);
    }
    assert_ne!(
        p_cal.iter().map(|p| &p["probs"]).collect::<Vec<_>>(),
        p_raw.iter().map(|p| &p["probs"]).collect::<Vec<_>>(),
        "the temperature changed no probability"
    );
}

#[test]
fn train_with_valid_split() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let out = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid-split", "0.2", "--json"],
    )
    .success();
    let j = out.json();
    let held = j["report"]["n"].as_u64().unwrap();
    assert_eq!(
        j["n_train"].as_u64().unwrap() + held,
        54,
        "split partitions the data"
    );
    assert!((9..=13).contains(&held), "about 20% held out: {held}");
    // Stratified: every class is in the held-out part.
    for class in j["report"]["classes"].as_array().unwrap() {
        assert!(class["support"].as_u64().unwrap() >= 3, "{class}");
    }
    let scored_on = j["selection"]["scored_on"].as_str().unwrap();
    assert!(
        scored_on.contains("20%") && scored_on.contains("seed 42"),
        "{scored_on}"
    );
    assert!(!j["selection"]["candidates"].as_array().unwrap().is_empty());
    assert!(fs::read(&model).unwrap().starts_with(b"STANCEMF"));

    let text = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid-split", "0.2"],
    )
    .success()
    .stdout;
    assert!(
        text.contains("held-out report of the chosen model"),
        "{text}"
    );
    assert!(!text.contains("TRAINING data"), "{text}");
}

#[test]
fn train_with_cross_validation() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let j = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--cv", "3", "--c", "0.3,3", "--json"],
    )
    .success()
    .json();
    let folds = j["selection"]["fold_scores"].as_array().unwrap();
    assert_eq!(folds.len(), 3);
    for f in folds {
        assert!((0.0..=1.0).contains(&f.as_f64().unwrap()));
    }
    assert_eq!(j["selection"]["candidates"].as_array().unwrap().len(), 2);
    // Cross-validation: the final model is fitted on all the data; the report pools the
    // out-of-fold predictions of every record.
    assert_eq!(j["n_train"], 54);
    assert_eq!(j["report"]["n"], 54);
    assert!(j["report"]["accuracy"].as_f64().unwrap() >= 0.8);

    let text = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--cv", "3", "--c", "0.3,3"],
    )
    .success()
    .stdout;
    assert!(
        text.contains("stratified 3-fold cross-validation over 54 records"),
        "{text}"
    );
    assert!(text.contains("per-fold macro-f1 of the chosen C"), "{text}");
}

#[test]
fn train_without_validation_warns_that_figures_are_on_training_data() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let text = train_fast(&fixture("framing_small.jsonl"), &model, &[])
        .success()
        .stdout;
    assert!(
        text.contains(
            "no held-out data: the figures below are on the TRAINING data and are optimistic"
        ),
        "{text}"
    );
    assert!(
        text.contains("--valid FILE, --valid-split FRACTION or --cv K"),
        "{text}"
    );
    assert!(
        text.contains("final fit: C = 1,"),
        "C defaults to 1 without held-out data:\n{text}"
    );
    assert!(text.contains("confusion matrix"), "{text}");
    assert!(!text.contains("model selection"), "{text}");

    let j = train_fast(&fixture("framing_small.jsonl"), &model, &["--json"])
        .success()
        .json();
    assert_eq!(j["evaluated_on"], "training data (optimistic)");
    assert!(j["selection"].is_null());
    assert_eq!(j["report"]["n"], 54);
}

#[test]
fn every_input_format_gives_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str]); 6] = [
        ("framing_small.jsonl", &[]),
        ("framing_small.csv", &[]),
        ("framing_small.tsv", &[]),
        ("framing_small.txt", &[]),
        ("framing_small.data", &["--format", "jsonl"]),
        (
            "framing_fields.csv",
            &["--text-field", "sentence", "--label-field", "stance"],
        ),
    ];
    let mut fingerprints = Vec::new();
    for (i, (file, extra)) in cases.iter().enumerate() {
        let model = dir.path().join(format!("m{i}.stance"));
        let mut args = vec!["--json"];
        args.extend(*extra);
        let j = train_fast(&fixture(file), &model, &args).success().json();
        assert_eq!(j["labels"], serde_json::json!(LABELS), "{file}");
        assert_eq!(j["n_train"], 54, "{file}");
        let info = run(&["inspect", "--model", s(&model), "--json"])
            .success()
            .json();
        assert_eq!(
            info["label_counts"],
            serde_json::json!([18, 18, 18]),
            "{file}"
        );
        fingerprints.push((file, info["data_fingerprint"].as_str().unwrap().to_string()));
    }
    // The same records in any format: the same (label, text) fingerprint.
    for (file, fp) in &fingerprints[1..] {
        assert_eq!(
            fp, &fingerprints[0].1,
            "{file} read differently from the JSON lines"
        );
    }
    // Every model file is identical too.
    let first = fs::read(dir.path().join("m0.stance")).unwrap();
    for (i, (file, _)) in cases.iter().enumerate().skip(1) {
        let other = fs::read(dir.path().join(format!("m{i}.stance"))).unwrap();
        assert!(other == first, "{file} gives another model");
    }
}

#[test]
fn odd_extension_without_format_is_refused_and_text_format_cannot_train() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let data = fixture("framing_small.data");
    train_fast(&data, &model, &[]).fails_with(&[s(&data), "unknown input format", "--format"]);
    let txt = fixture("unlabelled.txt");
    train_fast(&txt, &model, &["--format", "text"])
        .fails_with(&[s(&txt), "plain text lines carry no labels"]);
    assert!(!model.exists());
}

// ---------------------------------------------------------------------------------------
// eval
// ---------------------------------------------------------------------------------------

#[test]
fn eval_prints_table_and_confusion_matrix() {
    let model = shared_model();
    let data = fixture("framing_valid.jsonl");
    let text = run(&["eval", "--model", s(model), "--data", s(&data)])
        .success()
        .stdout;
    assert!(
        text.starts_with(&format!("{} on {} (9 records)", s(model), s(&data))),
        "{text}"
    );
    let accuracy_row = text
        .lines()
        .find(|l| l.trim_start().starts_with("accuracy"))
        .unwrap();
    let fields: Vec<&str> = accuracy_row.split_whitespace().collect();
    assert_eq!(fields[0], "accuracy");
    let accuracy: f64 = fields[1].parse().unwrap();
    assert!(accuracy >= 0.8, "{accuracy_row}");
    assert_eq!(fields[2], "9");
    assert!(text.contains("macro avg"), "{text}");
    assert!(text.contains("weighted avg"), "{text}");
    assert!(text.contains("log-loss"), "{text}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("macro-f1")),
        "the model's selection metric is reported:\n{text}"
    );
    assert!(
        text.contains("confusion matrix (rows: true, columns: predicted"),
        "{text}"
    );
    // Confusion rows sum to each class's support (3).
    let matrix: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("confusion matrix"))
        .skip(2)
        .collect();
    assert_eq!(matrix.len(), 3, "{text}");
    for row in matrix {
        // "N label c1 c2 c3"
        let counts: usize = row
            .split_whitespace()
            .skip(2)
            .map(|v| v.parse::<usize>().unwrap())
            .sum();
        assert_eq!(counts, 3, "{row}");
    }
}

#[test]
fn eval_json_has_every_field() {
    let model = shared_model();
    let data = fixture("framing_valid.jsonl");
    let j = run(&["eval", "--model", s(model), "--data", s(&data), "--json"])
        .success()
        .json();
    assert_eq!(j["n"], 9);
    let accuracy = j["accuracy"].as_f64().unwrap();
    assert!((0.8..=1.0).contains(&accuracy), "{accuracy}");
    let classes = j["classes"].as_array().unwrap();
    let names: Vec<&str> = classes
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(names, LABELS);
    for c in classes {
        assert_eq!(c["support"], 3);
        for key in ["precision", "recall", "f1"] {
            assert!((0.0..=1.0).contains(&c[key].as_f64().unwrap()), "{c}");
        }
    }
    for avg in ["macro_avg", "weighted_avg"] {
        for key in ["precision", "recall", "f1"] {
            assert!(
                (0.0..=1.0).contains(&j[avg][key].as_f64().unwrap()),
                "{avg}.{key}"
            );
        }
    }
    let macro_f1 = classes
        .iter()
        .map(|c| c["f1"].as_f64().unwrap())
        .sum::<f64>()
        / 3.0;
    assert!((j["macro_avg"]["f1"].as_f64().unwrap() - macro_f1).abs() < 1e-12);
    let confusion: Vec<Vec<u64>> = serde_json::from_value(j["confusion"].clone()).unwrap();
    assert_eq!(confusion.len(), 3);
    let diagonal: u64 = (0..3).map(|i| confusion[i][i]).sum();
    assert!((accuracy - diagonal as f64 / 9.0).abs() < 1e-12);
    assert_eq!(confusion.iter().flatten().sum::<u64>(), 9);
    let log_loss = j["log_loss"].as_f64().unwrap();
    assert!(
        log_loss > 0.0 && log_loss < 3f64.ln(),
        "better than uniform: {log_loss}"
    );
    assert_eq!(j["unseen_labels"], serde_json::json!([]));
    assert_eq!(j["metric"]["name"], "macro-f1");

    let j = run(&[
        "eval",
        "--model",
        s(model),
        "--data",
        s(&data),
        "--json",
        "--metric",
        "f1:neutral",
    ])
    .success()
    .json();
    assert_eq!(j["metric"]["name"], "f1:neutral");
    assert_eq!(j["metric"]["value"], j["classes"][2]["f1"]);
}

#[test]
fn train_and_eval_say_which_records_the_model_has_seen() {
    let dir = tempfile::tempdir().unwrap();
    // The 9 validation sentences, then 2 copied from the training data.
    let training = fs::read_to_string(fixture("framing_small.jsonl")).unwrap();
    let mut valid_text = fs::read_to_string(fixture("framing_valid.jsonl")).unwrap();
    for line in training.lines().take(2) {
        valid_text.push_str(line);
        valid_text.push('\n');
    }
    let valid = dir.path().join("valid.jsonl");
    fs::write(&valid, &valid_text).unwrap();
    let fresh = dir.path().join("fresh.jsonl");
    fs::write(
        &fresh,
        "{\"text\": \"The envoys met again in a quiet hotel.\", \"label\": \"neutral\"}\n",
    )
    .unwrap();
    let eval_overlap = |model: &Path, data: &Path| {
        let j = run(&["eval", "--model", s(model), "--data", s(data), "--json"])
            .success()
            .json();
        j["overlap"].clone()
    };

    // Validation file used as it is: the two copies were fitted on, the rest selected on.
    let model = dir.path().join("valid-only.stance");
    let text = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&valid), "--no-valid-pooling"],
    )
    .success()
    .stdout;
    assert!(
        text.contains("note: 2 of the 11 held-out records (18.2 %) repeat a text of the training data, so their scores are not held out"),
        "{text}"
    );
    assert_eq!(
        eval_overlap(&model, &valid),
        serde_json::json!({"records": 11, "fitted_on": 2, "selected_on": 9})
    );
    let eval = run(&["eval", "--model", s(&model), "--data", s(&valid)])
        .success()
        .stdout;
    assert!(
        eval.contains("note: 2 of the 11 records (18.2 %) have a text the model was fitted on; 9 of the 11 records (81.8 %) have a text its C and decision rule were chosen on: the figures are not a held-out estimate for any of them."),
        "{eval}"
    );
    let report = dir.path().join("report");
    run(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        s(&valid),
        "--report",
        s(&report),
    ])
    .success();
    let html = fs::read_to_string(report.join("report.html")).unwrap();
    assert!(
        html.contains("<div class=\"caveat\">2 of the 11 records (18.2 %) have a text the model was fitted on"),
        "the HTML report carries the note as its caveat"
    );
    let inspect_text = run(&["inspect", "--model", s(&model)]).success().stdout;
    assert!(
        inspect_text.contains("note           2 of the 11 held-out records (18.2 %) repeat a text of the training data"),
        "{inspect_text}"
    );
    let inspect = run(&["inspect", "--model", s(&model), "--json"])
        .success()
        .json();
    assert_eq!(inspect["distinct_texts_fitted_on"], 54);
    assert_eq!(inspect["distinct_texts_selected_on"], 11);

    // A new text is new: no note.
    assert_eq!(
        eval_overlap(&model, &fresh),
        serde_json::json!({"records": 1, "fitted_on": 0, "selected_on": 0})
    );
    let eval = run(&["eval", "--model", s(&model), "--data", s(&fresh)])
        .success()
        .stdout;
    assert!(!eval.contains("have a text"), "{eval}");

    // Pooled (the default for a small file): the model was fitted on every record of it.
    let pooled = dir.path().join("pooled.stance");
    let text = train_fast(
        &fixture("framing_small.jsonl"),
        &pooled,
        &["--valid", s(&valid)],
    )
    .success()
    .stdout;
    assert!(
        text.contains("note: 4 of the 65 held-out records (6.2 %) share their text with another record, so their scores are not held out when the copies fall in different folds"),
        "{text}"
    );
    assert_eq!(
        eval_overlap(&pooled, &valid),
        serde_json::json!({"records": 11, "fitted_on": 11, "selected_on": 0})
    );
    // With --refit the held-out records are fitted on too.
    let refitted = dir.path().join("refit.stance");
    train_fast(
        &fixture("framing_small.jsonl"),
        &refitted,
        &["--valid", s(&valid), "--no-valid-pooling", "--refit"],
    )
    .success();
    assert_eq!(
        eval_overlap(&refitted, &valid),
        serde_json::json!({"records": 11, "fitted_on": 11, "selected_on": 0})
    );
}

#[test]
fn train_notes_a_validation_file_whose_labels_differ_from_the_training_data() {
    let dir = tempfile::tempdir().unwrap();
    // Twelve confrontational sentences against the training data's 18 of each label.
    let confrontational: Vec<String> = fs::read_to_string(fixture("framing_valid.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"confrontational\""))
        .map(str::to_string)
        .collect();
    assert_eq!(confrontational.len(), 3);
    let skewed = dir.path().join("skewed.jsonl");
    fs::write(&skewed, (confrontational.join("\n") + "\n").repeat(4)).unwrap();
    let model = dir.path().join("m.stance");
    let note = "note: the validation file's labels are not distributed like the training data's (total variation 0.667; chi-square 17.6 on 2 degrees of freedom, p = 1.5e-4): it is a different sample";

    let out = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&skewed), "--no-valid-pooling"],
    )
    .success()
    .stdout;
    assert!(
        out.contains(&format!("{note}, so what it chose (C, the decision rule) serves data like it and may cost on data like the training data (--no-prior-shift keeps plain argmax)")),
        "{out}"
    );
    let j = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&skewed), "--no-valid-pooling", "--json"],
    )
    .success()
    .json();
    let shift = &j["selection"]["label_shift"];
    assert_eq!(shift["degrees_of_freedom"], 2);
    assert!((shift["total_variation"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-12);
    // Train [18, 18, 18] against [12, 0, 0]: expected counts from the column totals 30, 18, 18.
    let expected_chi_square = [
        (18.0, 54.0 * 30.0 / 66.0),
        (18.0, 54.0 * 18.0 / 66.0),
        (18.0, 54.0 * 18.0 / 66.0),
        (12.0, 12.0 * 30.0 / 66.0),
        (0.0, 12.0 * 18.0 / 66.0),
        (0.0, 12.0 * 18.0 / 66.0),
    ]
    .iter()
    .map(|(o, e): &(f64, f64)| (o - e).powi(2) / e)
    .sum::<f64>();
    assert!((shift["chi_square"].as_f64().unwrap() - expected_chi_square).abs() < 1e-9);

    // Pooled by default (12 records): the note says how to keep it apart.
    let out = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&skewed)],
    )
    .success()
    .stdout;
    assert!(
        out.contains(&format!("{note}, pooled with the training data because it is small; if it resembles the data the model will meet better than the training data does, --no-valid-pooling keeps it apart")),
        "{out}"
    );

    // eval tests the same on its records, against the labels the model was fitted on.
    let shared = shared_model();
    let eval = run(&["eval", "--model", s(shared), "--data", s(&skewed)])
        .success()
        .stdout;
    assert!(
        eval.contains("note: these labels are not distributed like the model's training data's (total variation 0.667; chi-square 17.6 on 2 degrees of freedom, p = 1.5e-4): a different sample"),
        "{eval}"
    );
    let j = run(&["eval", "--model", s(shared), "--data", s(&skewed), "--json"])
        .success()
        .json();
    assert!((j["label_shift"]["chi_square"].as_f64().unwrap() - expected_chi_square).abs() < 1e-9);
    let eval = run(&[
        "eval",
        "--model",
        s(shared),
        "--data",
        s(&fixture("framing_valid.jsonl")),
    ])
    .success()
    .stdout;
    assert!(!eval.contains("note:"), "{eval}");

    // A validation file with the training data's label shares draws no note.
    let out = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&fixture("framing_valid.jsonl"))],
    )
    .success()
    .stdout;
    assert!(!out.contains("not distributed like"), "{out}");
}

#[test]
fn eval_counts_a_label_the_model_never_saw() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("test.jsonl");
    let mut content = fs::read_to_string(fixture("framing_valid.jsonl")).unwrap();
    content
        .push_str("{\"text\": \"The minister praised the weather.\", \"label\": \"sarcastic\"}\n");
    content
        .push_str("{\"text\": \"Officials signed nothing at all.\", \"label\": \"sarcastic\"}\n");
    fs::write(&data, content).unwrap();
    let model = shared_model();

    let j = run(&["eval", "--model", s(model), "--data", s(&data), "--json"])
        .success()
        .json();
    assert_eq!(j["n"], 11);
    assert_eq!(j["unseen_labels"], serde_json::json!([["sarcastic", 2]]));
    let classes = j["classes"].as_array().unwrap();
    assert_eq!(classes.len(), 4);
    assert_eq!(classes[3]["label"], "sarcastic");
    assert_eq!(classes[3]["support"], 2);
    assert_eq!(classes[3]["recall"], 0.0);
    let confusion: Vec<Vec<u64>> = serde_json::from_value(j["confusion"].clone()).unwrap();
    assert_eq!(confusion.len(), 4);
    assert_eq!(confusion[3].iter().sum::<u64>(), 2);
    assert_eq!(
        confusion[3][3], 0,
        "the model cannot predict a label it never saw"
    );
    assert!(confusion.iter().all(|row| row[3] == 0));
    // The unseen examples count as errors.
    let correct: u64 = (0..4).map(|i| confusion[i][i]).sum();
    assert!(correct <= 9);
    assert!((j["accuracy"].as_f64().unwrap() - correct as f64 / 11.0).abs() < 1e-12);
    assert!(j["log_loss"].as_f64().unwrap().is_finite());

    let text = run(&["eval", "--model", s(model), "--data", s(&data)])
        .success()
        .stdout;
    assert!(
        text.contains("note: 2 example(s) have label `sarcastic`, which the model never saw; they count as errors"),
        "{text}"
    );
}

#[test]
fn eval_metric_naming_an_unknown_label_is_refused() {
    let model = shared_model();
    let data = fixture("framing_valid.jsonl");
    run(&[
        "eval",
        "--model",
        s(model),
        "--data",
        s(&data),
        "--metric",
        "f1:nosuch",
    ])
    .is_refused_usage(&["nosuch"]);
}

// ---------------------------------------------------------------------------------------
// predict
// ---------------------------------------------------------------------------------------

const EXPECTED_UNLABELLED: [&str; 6] = [
    "confrontational",
    "cooperative",
    "neutral",
    "confrontational",
    "cooperative",
    "neutral",
];

#[test]
fn predict_from_a_file_gives_one_line_per_input_in_order() {
    let out = predict_file(shared_model(), &fixture("unlabelled.txt")).success();
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let lines = out.json_lines();
    assert_eq!(lines.len(), 6);
    let labels: Vec<String> = lines.iter().map(|l| check_prediction(l).0).collect();
    assert_eq!(labels, EXPECTED_UNLABELLED);
}

#[test]
fn predict_from_stdin_reads_plain_lines() {
    let model = shared_model();
    let input = fs::read(fixture("unlabelled.txt")).unwrap();
    let from_stdin = run_stdin(&["predict", "--model", s(model)], &input).success();
    let from_file = predict_file(model, &fixture("unlabelled.txt")).success();
    assert_eq!(from_stdin.stdout, from_file.stdout);
    let dash = run_stdin(&["predict", "--model", s(model), "--data", "-"], &input).success();
    assert_eq!(
        dash.stdout, from_file.stdout,
        "`-` names standard input, as in score"
    );

    // Windows line endings, a blank line and no final newline: still one result per line.
    let input = b"The minister condemned the hostile aggression.\r\n\r\nBoth sides signed a joint partnership agreement.\r\nThe office published annual figures";
    let lines = run_stdin(&["predict", "--model", s(model)], input)
        .success()
        .json_lines();
    assert_eq!(lines.len(), 4);
    let labels: Vec<String> = lines.iter().map(|l| check_prediction(l).0).collect();
    assert_eq!(labels[0], "confrontational");
    assert_eq!(labels[2], "cooperative");
    assert_eq!(labels[3], "neutral");

    // An explicit format on standard input.
    let jsonl = b"{\"text\": \"Officials threatened hostile retaliation.\"}\n{\"text\": \"The agencies agreed to cooperate together.\"}\n";
    let lines = run_stdin(
        &["predict", "--model", s(model), "--format", "jsonl"],
        jsonl,
    )
    .success()
    .json_lines();
    let labels: Vec<String> = lines.iter().map(|l| check_prediction(l).0).collect();
    assert_eq!(labels, ["confrontational", "cooperative"]);

    let empty = run_stdin(&["predict", "--model", s(model)], b"").success();
    assert!(empty.stdout.is_empty());
}

#[test]
fn predict_recovers_the_training_labels() {
    let model = shared_model();
    let truth = training_records();
    for file in ["framing_small.jsonl", "framing_small.csv"] {
        let lines = predict_file(model, &fixture(file)).success().json_lines();
        assert_eq!(lines.len(), truth.len(), "{file}");
        let correct = lines
            .iter()
            .zip(&truth)
            .filter(|(line, (label, _))| check_prediction(line).0 == *label)
            .count();
        assert!(
            correct * 10 >= truth.len() * 8,
            "{file}: only {correct}/{} training sentences recovered",
            truth.len()
        );
    }
}

#[test]
fn a_bad_record_after_a_batch_of_predictions_leaves_the_output_file_as_it_was() {
    // Two batches of good records, then a malformed one: the first batches' predictions
    // are never seen in the output file.
    let mut input = String::new();
    for i in 0..9000 {
        input.push_str(&format!("{{\"text\": \"sentence {i}\"}}\n"));
    }
    input.push_str("{\"text\": \"unfinished\n");
    let (data, dir) = write_data("in.jsonl", input.as_bytes());
    let model = shared_model();
    let output = dir.path().join("out.csv");
    let predict = || {
        run(&[
            "predict",
            "--model",
            s(model),
            "--data",
            s(&data),
            "--output",
            s(&output),
        ])
    };
    predict().fails_with(&[&at(&data, 9001), "malformed JSON"]);
    assert!(!output.exists(), "no output file is created");
    fs::write(&output, "earlier predictions\n").unwrap();
    predict().fails_with(&[&at(&data, 9001)]);
    assert_eq!(
        fs::read_to_string(&output).unwrap(),
        "earlier predictions\n"
    );
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
    // With the bad line gone the file is replaced whole.
    fs::write(
        &data,
        input.rsplit_once("{\"text\": \"unfinished").unwrap().0,
    )
    .unwrap();
    predict().success();
    let written = fs::read_to_string(&output).unwrap();
    assert_eq!(
        written.lines().count(),
        9001,
        "a header and a row per record"
    );
}

#[test]
fn predict_handles_more_records_than_one_batch() {
    // More than one batch of 8192 records, each line distinct in position: the output keeps
    // the input order across batch boundaries.
    let model = shared_model();
    let sentences = [
        (
            "confrontational",
            "The minister condemned the hostile aggression",
        ),
        (
            "cooperative",
            "Both sides signed a joint partnership agreement",
        ),
        ("neutral", "The office published the annual figures"),
    ];
    let mut input = String::new();
    let mut expected = Vec::new();
    for i in 0..8200 {
        let (label, text) = sentences[(i * 7 + i / 3) % 3];
        input.push_str(&format!("{text} {i}\n"));
        expected.push(label);
    }
    let lines = run_stdin(&["predict", "--model", s(model)], input.as_bytes())
        .success()
        .json_lines();
    assert_eq!(lines.len(), expected.len());
    for (i, (line, want)) in lines.iter().zip(&expected).enumerate() {
        assert_eq!(line["label"], *want, "line {}", i + 1);
    }
}

/// A model of the fixture's confrontational and cooperative sentences only (two labels),
/// with the directory that holds it.
fn binary_model() -> (PathBuf, tempfile::TempDir) {
    let two_labels: String = fs::read_to_string(fixture("framing_small.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.contains("\"neutral\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let (out, _, dir) = train_on("two.jsonl", two_labels.as_bytes(), &[]);
    out.success();
    (dir.path().join("m.stance"), dir)
}

/// `predict --evidence N` lines for `data`.
fn predict_explained(model: &Path, data: &Path, n: &str) -> Vec<Value> {
    run(&[
        "predict",
        "--model",
        s(model),
        "--data",
        s(data),
        "--evidence",
        n,
    ])
    .success()
    .json_lines()
}

/// A line's baseline plus every contribution listed.
fn explained_total(line: &Value) -> f64 {
    let evidence = line["evidence"].as_array().expect("an evidence list");
    line["baseline"].as_f64().expect("a baseline")
        + evidence
            .iter()
            .map(|e| e["contribution"].as_f64().unwrap())
            .sum::<f64>()
}

#[test]
fn predict_evidence_is_what_score_shows_for_the_same_sentence() {
    let model = shared_model();
    let data = fixture("unlabelled.txt");
    let plain = predict_file(model, &data).success().json_lines();
    let explained = predict_explained(model, &data, "4");
    assert_eq!(explained.len(), plain.len());
    // Each label's baseline is the one `inspect` shows.
    let inspected = run(&["inspect", "--model", s(model), "--json"])
        .success()
        .json();
    for line in &explained {
        let label = line["label"].as_str().unwrap();
        assert_eq!(line["baseline"], inspected["baselines"][label], "{line}");
    }
    let sentences: Vec<String> = fs::read_to_string(&data)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    for ((with, without), sentence) in explained.iter().zip(&plain).zip(&sentences) {
        // The same prediction, with the explanation added.
        assert_eq!(with["label"], without["label"], "{sentence}");
        assert_eq!(with["probs"], without["probs"], "{sentence}");
        let evidence = with["evidence"].as_array().expect("an evidence list");
        assert_eq!(evidence.len(), 4, "{sentence}: {with}");
        let pushes: Vec<f64> = evidence
            .iter()
            .map(|e| e["contribution"].as_f64().unwrap().abs())
            .collect();
        assert!(pushes.windows(2).all(|w| w[0] >= w[1]), "{with}");
        // `score` explains one sentence the same way.
        let scored = run_stdin(
            &["score", "--model", s(model), "--json", "--evidence", "4"],
            sentence.as_bytes(),
        )
        .success()
        .json();
        let shown = &scored["sentences"][0]["predictions"]["shared-framing"];
        assert_eq!(shown["label"], with["label"], "{sentence}");
        assert_eq!(shown["evidence"], with["evidence"], "{sentence}");
    }

    // CSV: the same explanation in the last two columns, the evidence as `score --csv`
    // writes it.
    let csv_out = run(&[
        "predict",
        "--model",
        s(model),
        "--data",
        s(&data),
        "--evidence",
        "4",
        "--output-format",
        "csv",
    ])
    .success();
    let mut reader = csv::Reader::from_reader(csv_out.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[header.len() - 2..], ["baseline", "evidence"]);
    for (row, line) in reader.records().zip(&explained) {
        let row = row.unwrap();
        let cell: Vec<String> = line["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{:+.4} {}",
                    e["contribution"].as_f64().unwrap(),
                    e["feature"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(&row[row.len() - 1], cell.join("; "));
        assert_eq!(
            row[row.len() - 2].parse::<f64>().unwrap(),
            line["baseline"].as_f64().unwrap()
        );
    }
}

#[test]
fn the_baseline_and_all_the_evidence_add_up_to_the_predicted_log_odds() {
    // Multinomial (three labels): the label's log-probability against the mean over labels.
    let data = fixture("unlabelled.txt");
    for line in predict_explained(shared_model(), &data, "100000") {
        let (label, probs) = check_prediction(&line);
        let logs: Vec<f64> = probs.iter().map(|p| p.ln()).collect();
        let k = LABELS.iter().position(|l| *l == label).unwrap();
        let centred = logs[k] - logs.iter().sum::<f64>() / logs.len() as f64;
        let total = explained_total(&line);
        assert!(
            (total - centred).abs() < 1e-4,
            "{total} vs {centred}: {line}"
        );
    }

    // Binary: the label's log-odds against the other label.
    let (model, _dir) = binary_model();
    for line in predict_explained(&model, &data, "100000") {
        let label = line["label"].as_str().unwrap();
        let p = line["probs"][label].as_f64().unwrap();
        let log_odds = (p / (1.0 - p)).ln();
        let total = explained_total(&line);
        assert!(
            (total - log_odds).abs() < 1e-4,
            "{total} vs {log_odds}: {line}"
        );
    }
}

#[test]
fn predict_evidence_needs_room_for_it() {
    let model = shared_model();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("labels.txt");
    let out = run(&[
        "predict",
        "--model",
        s(model),
        "--data",
        s(&fixture("unlabelled.txt")),
        "--evidence",
        "3",
        "--output",
        s(&output),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("error: one label per line has no room for the evidence"),
        "{}",
        out.stderr
    );
    assert!(!output.exists(), "no output file is created");
}

/// `predict` with the shared model on `framing_fields.csv` (columns id, sentence, stance),
/// plus `extra`.
fn predict_fields_csv(extra: &[&str]) -> Output {
    let csv_in = fixture("framing_fields.csv");
    let mut args = vec![
        "predict",
        "--model",
        s(shared_model()),
        "--data",
        s(&csv_in),
        "--text-field",
        "sentence",
    ];
    args.extend(extra);
    run(&args)
}

#[test]
fn predict_keeps_the_fields_asked_for_in_front_of_each_prediction() {
    let ids: Vec<String> = fs::read_to_string(fixture("framing_fields.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let plain = predict_fields_csv(&[]).success().json_lines();
    let kept = predict_fields_csv(&["--keep", "id,stance"])
        .success()
        .json_lines();
    assert_eq!(kept.len(), ids.len());
    for ((line, plain_line), id) in kept.iter().zip(&plain).zip(&ids) {
        assert_eq!(line["id"], Value::String(id.clone()), "{line}");
        assert!(line["stance"].is_string(), "{line}");
        assert_eq!(line["label"], plain_line["label"]);
        assert_eq!(line["probs"], plain_line["probs"]);
    }

    // CSV output: the kept columns first.
    let out = predict_fields_csv(&["--keep", "id", "--keep", "stance", "--output-format", "csv"])
        .success();
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[..3], ["id", "stance", "label"]);
    let first_ids: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    assert_eq!(first_ids, ids);

    // JSON values keep their type.
    let jsonl = b"{\"id\": 17, \"text\": \"Officials threatened hostile retaliation.\"}\n{\"text\": \"The agencies agreed to cooperate.\", \"id\": null}\n";
    let lines = run_stdin(
        &[
            "predict",
            "--model",
            s(shared_model()),
            "--format",
            "jsonl",
            "--keep",
            "id",
        ],
        jsonl,
    )
    .success()
    .json_lines();
    assert_eq!(lines[0]["id"], serde_json::json!(17));
    assert_eq!(lines[1]["id"], Value::Null);
    assert!(lines[1].as_object().unwrap().contains_key("id"));
}

#[test]
fn a_field_predict_cannot_keep_is_refused() {
    let model = shared_model();
    // Not in the input: the file and its columns are named, and nothing is written.
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.csv");
    predict_fields_csv(&["--keep", "date", "--output", s(&output)]).fails_with(&[
        s(&fixture("framing_fields.csv")),
        "no `date` column to keep (columns: id, sentence, stance)",
    ]);
    assert!(!output.exists(), "no output file is created");
    // A JSON record without it: its line is named.
    let out = run_stdin(
        &[
            "predict",
            "--model",
            s(model),
            "--format",
            "jsonl",
            "--keep",
            "id",
        ],
        b"{\"id\": 1, \"text\": \"a\"}\n{\"text\": \"b\"}\n",
    );
    out.fails_with(&["<stdin>:2:", "no `id` field to keep (fields: text)"]);
    // Plain lines have no fields.
    let out = run_stdin(&["predict", "--model", s(model), "--keep", "id"], b"a\n");
    out.fails_with(&["plain text lines have no fields to keep"]);
    // A name the output already uses, or no room for it: usage errors.
    for (extra, problem) in [
        (
            &["--keep", "stance,label"][..],
            "the kept field `label` has the name of the output's own `label`",
        ),
        (
            &["--keep", "id", "--output-format", "labels"][..],
            "one label per line has no room for the kept field `id`",
        ),
    ] {
        let out = predict_fields_csv(extra);
        assert_eq!(out.code, 2, "{extra:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with(&format!("error: {problem}")),
            "{extra:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// compare
// ---------------------------------------------------------------------------------------

#[test]
fn compare_gives_each_models_eval_figures_and_their_paired_differences() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture("framing_valid.jsonl");
    // A model taught the wrong label for every sentence, which gets every record wrong
    // that the shared model gets right.
    let (mislabelled, _mislabelled_dir) = write_data(
        "mislabelled.jsonl",
        mislabelled_framing(|_| true).as_bytes(),
    );
    let weak = dir.path().join("weak.stance");
    train_fast(&mislabelled, &weak, &[]).success();
    let strong = shared_model();
    let args = [
        "compare",
        "--model",
        s(strong),
        "--model",
        s(&weak),
        "--data",
        s(&data),
        "--metric",
        "f1:cooperative",
    ];
    let json = run(&[&args[..], &["--json"]].concat()).success().json();
    assert_eq!(json["records"], 9);
    assert_eq!(json["metric"], "f1:cooperative");
    assert_eq!(json["resamples"], 1000);
    // Each model's figures are what `eval` reports for it.
    let models = json["models"].as_array().unwrap();
    for (figures, model) in models.iter().zip([strong, weak.as_path()]) {
        let eval = run(&[
            "eval",
            "--model",
            s(model),
            "--data",
            s(&data),
            "--metric",
            "f1:cooperative",
            "--json",
        ])
        .success()
        .json();
        assert_eq!(figures["name"], s(model));
        assert_eq!(figures["accuracy"], eval["accuracy"]);
        assert_eq!(figures["macro_f1"], eval["macro_avg"]["f1"]);
        assert_eq!(figures["metric"], eval["metric"]["value"]);
    }
    // The difference is the weak model's figure minus the baseline's, inside its interval.
    let d = &json["differences"][0];
    assert_eq!(d["baseline"], s(strong));
    assert_eq!(d["model"], s(&weak));
    for (key, figure) in [
        ("accuracy", "accuracy"),
        ("macro_f1", "macro_f1"),
        ("metric", "metric"),
    ] {
        let estimate = d[key]["estimate"].as_f64().unwrap();
        let expected = models[1][figure].as_f64().unwrap() - models[0][figure].as_f64().unwrap();
        assert!((estimate - expected).abs() < 1e-12, "{key}");
        let (lower, upper) = (
            d[key]["lower"].as_f64().unwrap(),
            d[key]["upper"].as_f64().unwrap(),
        );
        assert!(lower <= estimate && estimate <= upper, "{key}: {d}");
    }
    let (b, c) = (
        d["only_baseline_right"].as_u64().unwrap(),
        d["only_model_right"].as_u64().unwrap(),
    );
    let accuracy_gap = d["accuracy"]["estimate"].as_f64().unwrap() * 9.0;
    assert!((c as f64 - b as f64 - accuracy_gap).abs() < 1e-9, "{d}");
    // The shared model gets all 9 right, the mislabelled one none: every draw of the
    // bootstrap costs the model, and McNemar's p is 2 · ½⁹.
    assert_eq!((b, c), (9, 0), "{d}");
    assert_eq!(d["accuracy"]["estimate"], -1.0);
    assert!(d["accuracy"]["upper"].as_f64().unwrap() < 0.0, "{d}");
    assert!((d["mcnemar_p"].as_f64().unwrap() - 2.0 / 512.0).abs() < 1e-12);

    // The text says the same, and the same seed gives the same intervals.
    let text = run(&args).success().stdout;
    assert!(
        text.starts_with(&format!(
            "2 models on {} (9 records), compared by f1:cooperative",
            s(&data)
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("against the baseline {}", s(strong))),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "McNemar's exact test: {b} records right by {} alone, {c} by {} alone",
            s(strong),
            s(&weak)
        )),
        "{text}"
    );
    assert_eq!(
        run(&[&args[..], &["--json"]].concat()).success().json(),
        json
    );

    // A model against itself differs by nothing.
    let same = run(&[
        "compare",
        "--model",
        s(strong),
        "--model",
        s(strong),
        "--data",
        s(&data),
        "--json",
    ])
    .success()
    .json();
    let d = &same["differences"][0];
    assert_eq!(d["accuracy"]["lower"], 0.0);
    assert_eq!(d["accuracy"]["upper"], 0.0);
    assert_eq!(d["mcnemar_p"], 1.0);
}

#[test]
fn compare_notes_records_a_model_has_seen_and_refuses_what_it_cannot_compare() {
    let model = shared_model();
    // On its own training data: a note names the model.
    let text = run(&[
        "compare",
        "--model",
        s(model),
        "--model",
        s(model),
        "--data",
        s(&fixture("framing_small.jsonl")),
        "--bootstrap",
        "0",
    ])
    .success()
    .stdout;
    assert!(
        text.starts_with(&format!(
            "note: {}: 54 of the 54 records (100.0 %) have a text the model was fitted on",
            s(model)
        )),
        "{text}"
    );
    assert!(text.contains("no bootstrap"), "{text}");
    // One model is not a comparison.
    let out = run(&[
        "compare",
        "--model",
        s(model),
        "--data",
        s(&fixture("framing_valid.jsonl")),
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("error: compare needs at least two --model"),
        "{}",
        out.stderr
    );
    // A metric naming a label one model lacks.
    let (binary, _dir) = binary_model();
    run(&[
        "compare",
        "--model",
        s(model),
        "--model",
        s(&binary),
        "--data",
        s(&fixture("framing_valid.jsonl")),
        "--metric",
        "f1:neutral",
    ])
    .is_refused_usage(&[
        &format!("cannot compare {} by f1:neutral", s(&binary)),
        "names label `neutral`",
    ]);
}

// ---------------------------------------------------------------------------------------
// inspect
// ---------------------------------------------------------------------------------------

#[test]
fn inspect_shows_labels_version_and_top_ngrams() {
    let model = shared_model();
    let text = run(&["inspect", "--model", s(model), "--top", "5"])
        .success()
        .stdout;
    assert!(
        text.contains(&format!("model file     {}", s(model))),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "format         version {} (stance ",
            stance::model_file::FORMAT_VERSION
        )),
        "{text}"
    );
    assert!(
        text.contains("labels         confrontational (18), cooperative (18), neutral (18)"),
        "{text}"
    );
    assert!(
        text.contains("training data  54 records, sha256 "),
        "{text}"
    );
    assert!(text.contains("validation     none"), "{text}");
    assert!(text.contains("C = 1, class weight balanced"), "{text}");
    let distinctive = [
        (
            "confrontational",
            ["condemned", "hostile", "threatened", "accused", "warned"],
        ),
        (
            "cooperative",
            ["agreed", "cooperation", "partnership", "joint", "signed"],
        ),
        (
            "neutral",
            ["figures", "scheduled", "published", "report", "average"],
        ),
    ];
    for (label, words) in distinctive {
        let section: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with(&format!("top n-grams for {label} (baseline ")))
            .skip(1)
            .take_while(|l| !l.is_empty())
            .collect();
        assert_eq!(section.len(), 5, "{label}:\n{text}");
        let features: Vec<&str> = section
            .iter()
            .map(|l| l.split_whitespace().nth(1).unwrap())
            .collect();
        assert!(
            words.iter().any(|w| features.contains(w)),
            "top n-grams for {label} are {features:?}"
        );
        let weights: Vec<f64> = section
            .iter()
            .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
            .collect();
        assert!(weights.windows(2).all(|w| w[0] >= w[1]), "{weights:?}");
        assert!(weights[0] > 0.0);
    }
}

#[test]
fn inspect_json() {
    let model = shared_model();
    let j = run(&["inspect", "--model", s(model), "--json", "--top", "3"])
        .success()
        .json();
    assert_eq!(j["format_version"], stance::model_file::FORMAT_VERSION);
    assert_eq!(j["labels"], serde_json::json!(LABELS));
    assert_eq!(j["label_counts"], serde_json::json!([18, 18, 18]));
    assert_eq!(j["n_train"], 54);
    assert_eq!(j["data_fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(j["fit"]["c"], 1.0);
    assert_eq!(j["fit"]["converged"], true);
    assert!(j["selection"].is_null());
    let top = j["top_features"].as_object().unwrap();
    assert_eq!(top.keys().collect::<Vec<_>>(), LABELS);
    for (label, feats) in top {
        let feats = feats.as_array().unwrap();
        assert_eq!(feats.len(), 3, "{label}");
        for f in feats {
            assert!(!f["feature"].as_str().unwrap().is_empty());
            assert!(f["weight"].as_f64().unwrap() > 0.0, "{label}: {f}");
        }
    }
    assert_eq!(top["confrontational"][0]["feature"], "hostile");
    // The baselines are the intercept's pushes, centred: they sum to zero.
    let baselines = j["baselines"].as_object().unwrap();
    assert_eq!(baselines.keys().collect::<Vec<_>>(), LABELS);
    let sum: f64 = baselines.values().map(|b| b.as_f64().unwrap()).sum();
    assert!(sum.abs() < 1e-9, "{baselines:?}");
}

#[test]
fn inspect_shows_the_validation_of_a_selected_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let valid = fixture("framing_valid.jsonl");
    train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&valid)],
    )
    .success();
    let text = run(&["inspect", "--model", s(&model)]).success().stdout;
    assert!(
        text.contains(&format!("validation     file {}", s(&valid))),
        "{text}"
    );
    assert!(text.contains("held-out       macro-f1 = "), "{text}");
    // The decision rule and the calibration, as the JSON has them.
    let j = run(&["inspect", "--model", s(&model), "--json"])
        .success()
        .json();
    let selection = &j["selection"];
    let rule = if selection["prior_shift"]["adopted"] == true {
        "decision rule  class-prior shift, log-odds offsets "
    } else {
        "decision rule  plain argmax"
    };
    assert!(text.contains(rule), "{rule}: {text}");
    let temperature = &selection["temperature"];
    assert_eq!(
        text.contains("calibration    scores divided by a temperature of "),
        temperature["adopted"] == true,
        "{temperature}: {text}"
    );
}

// ---------------------------------------------------------------------------------------
// determinism and round trips
// ---------------------------------------------------------------------------------------

#[test]
fn training_twice_gives_byte_identical_models() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.stance"), dir.path().join("b.stance"));
    for model in [&a, &b] {
        run(&[
            "train",
            "--data",
            s(&fixture("framing_small.jsonl")),
            "--model",
            s(model),
            "--valid-split",
            "0.2",
            "--seed",
            "7",
            "-q",
        ])
        .success();
    }
    assert!(
        fs::read(&a).unwrap() == fs::read(&b).unwrap(),
        "models differ"
    );
}

/// Train on the small framing fixture with `selection` (how C is chosen) and
/// `RAYON_NUM_THREADS=threads`; the model's path.
fn model_trained_with_threads(dir: &Path, selection: &[&str], threads: &str) -> PathBuf {
    let model = dir.join(format!("t{threads}.stance"));
    let data = fixture("framing_small.csv");
    let mut args = vec!["train", "--data", s(&data), "--model", s(&model)];
    args.extend_from_slice(selection);
    args.extend_from_slice(&["--min-df", "1", "-q"]);
    run_env(&args, "RAYON_NUM_THREADS", threads).success();
    model
}

#[test]
fn the_validation_search_is_independent_of_the_thread_count() {
    // Five candidates: three rounds of concurrent fits on two chains, the last round short.
    let dir = tempfile::tempdir().unwrap();
    let selection = ["--valid-split", "0.3", "--c", "0.1,0.3,1,3,10"];
    let models: Vec<Vec<u8>> = ["1", "2", "3"]
        .iter()
        .map(|threads| {
            fs::read(model_trained_with_threads(dir.path(), &selection, threads)).unwrap()
        })
        .collect();
    assert!(
        models[0] == models[1],
        "1 and 2 threads give different models"
    );
    assert!(
        models[0] == models[2],
        "1 and 3 threads give different models"
    );
}

#[test]
fn training_is_independent_of_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut models = Vec::new();
    let mut predictions = Vec::new();
    for threads in ["1", "2"] {
        let model = model_trained_with_threads(dir.path(), &["--cv", "3", "--c", "0.3,3"], threads);
        models.push(fs::read(&model).unwrap());
        let out = run_env(
            &[
                "predict",
                "--model",
                s(&model),
                "--data",
                s(&fixture("framing_small.jsonl")),
            ],
            "RAYON_NUM_THREADS",
            threads,
        )
        .success();
        predictions.push(out.stdout);
    }
    assert!(
        models[0] == models[1],
        "1 and 2 threads give different models"
    );
    assert_eq!(predictions[0], predictions[1]);
}

#[test]
fn a_copied_model_predicts_identically() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy of model.bin");
    fs::copy(shared_model(), &copy).unwrap();
    for data in ["unlabelled.txt", "framing_small.tsv"] {
        let original = predict_file(shared_model(), &fixture(data)).success();
        let copied = predict_file(&copy, &fixture(data)).success();
        assert!(!original.stdout.is_empty());
        assert_eq!(original.stdout, copied.stdout, "{data}");
    }
    let a = run(&["inspect", "--model", s(shared_model()), "--json"])
        .success()
        .json();
    let b = run(&["inspect", "--model", s(&copy), "--json"])
        .success()
        .json();
    assert_eq!(a, b);
}

#[test]
fn eval_agrees_with_predict() {
    let model = shared_model();
    let data = fixture("framing_valid.jsonl");
    let lines = predict_file(model, &data).success().json_lines();
    let truth: Vec<String> = fs::read_to_string(&data)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["label"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let correct = lines
        .iter()
        .zip(&truth)
        .filter(|(l, t)| l["label"].as_str() == Some(t.as_str()))
        .count();
    let j = run(&["eval", "--model", s(model), "--data", s(&data), "--json"])
        .success()
        .json();
    assert!((j["accuracy"].as_f64().unwrap() - correct as f64 / truth.len() as f64).abs() < 1e-12);
    let log_loss = lines
        .iter()
        .zip(&truth)
        .map(|(l, t)| -l["probs"][t].as_f64().unwrap().ln())
        .sum::<f64>()
        / truth.len() as f64;
    assert!((j["log_loss"].as_f64().unwrap() - log_loss).abs() < 1e-9);
}

// ---------------------------------------------------------------------------------------
// bad input
// ---------------------------------------------------------------------------------------

const TWO_GOOD_JSONL: &str = "{\"text\": \"They condemned the attack.\", \"label\": \"confrontational\"}\n{\"text\": \"They signed the agreement.\", \"label\": \"cooperative\"}\n";

#[test]
fn missing_text_field_in_jsonl() {
    let content =
        format!("{TWO_GOOD_JSONL}{{\"body\": \"no text here\", \"label\": \"neutral\"}}\n");
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    out.fails_with(&[
        &format!("{}:3:", s(&data)),
        "no `text` field",
        "fields: body, label",
        "--text-field",
    ]);
}

#[test]
fn missing_text_column_in_csv() {
    let (out, data, _dir) = train_on("d.csv", b"body,label\nhello there,x\nworld,y\n", &[]);
    out.fails_with(&[
        s(&data),
        "no `text` column",
        "columns: body, label",
        "--text-field",
    ]);
    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\nhello there,x\nworld,y\n",
        &["--text-field", "sentence"],
    );
    out.fails_with(&[s(&data), "no `sentence` column", "columns: text, label"]);
}

#[test]
fn missing_label_field() {
    let content = format!("{TWO_GOOD_JSONL}{{\"text\": \"Figures were published.\"}}\n");
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    out.fails_with(&[
        &format!("{}:3:", s(&data)),
        "no `label` field",
        "--label-field",
    ]);

    let (out, data, _dir) = train_on("d.csv", b"text,stance\nhello there,x\nworld,y\n", &[]);
    out.fails_with(&[
        s(&data),
        "no `label` column",
        "columns: text, stance",
        "--label-field",
    ]);

    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\nhello there,x\nworld,y\nagain,\n",
        &[],
    );
    out.fails_with(&[&format!("{}:4:", s(&data)), "missing label"]);

    let (out, data, _dir) = train_on(
        "d.txt",
        b"__label__x hello there\n__label__y world\nno label on this line\n",
        &[],
    );
    out.fails_with(&[&format!("{}:3:", s(&data)), "missing label"]);
}

#[test]
fn empty_text_names_its_line() {
    let content = format!("{TWO_GOOD_JSONL}\n{{\"text\": \"  \", \"label\": \"neutral\"}}\n");
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &["--strict"]);
    out.fails_with(&[&format!("{}:4: empty text", s(&data))]);

    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\nhello there,x\nworld,y\n,y\n",
        &["--strict"],
    );
    out.fails_with(&[&format!("{}:4: empty text", s(&data))]);

    let (out, data, _dir) = train_on(
        "d.tsv",
        b"label\ttext\nx\thello\ny\tworld\ny\t\n",
        &["--strict"],
    );
    out.fails_with(&[&format!("{}:4: empty text", s(&data))]);

    let (out, data, _dir) = train_on(
        "d.txt",
        b"__label__x hello\n__label__y world\n__label__y\n",
        &["--strict"],
    );
    out.fails_with(&[&format!("{}:3: empty text", s(&data))]);
}

#[test]
fn empty_texts_are_skipped_with_a_warning_without_strict() {
    let content = format!("{TWO_GOOD_JSONL}\n{{\"text\": \"  \", \"label\": \"cooperative\"}}\n");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    fs::write(&data, content).unwrap();
    let model = dir.path().join("m.stance");
    let out = train_fast(&data, &model, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "warning: {}: skipped 1 record(s) with an empty text (first at line 4)",
            s(&data)
        )),
        "{}",
        out.stderr
    );
    let inspect = run(&["inspect", "--json", "--model", s(&model)]);
    let json: Value = serde_json::from_str(&inspect.stdout).unwrap();
    assert_eq!(json["n_train"], 2, "the skipped record is not trained on");
}

#[test]
fn csv_line_numbers_with_windows_line_endings() {
    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\r\na,x\r\nb,x\r\nc,y\r\n,y\r\n",
        &["--strict"],
    );
    out.fails_with(&[&format!("{}:5: empty text", s(&data))]);
}

#[test]
fn csv_line_numbers_after_blank_lines() {
    let (out, data, _dir) = train_on("d.csv", b"text,label\nhello,x\n\n\n,y\n", &["--strict"]);
    out.fails_with(&[&format!("{}:5: empty text", s(&data))]);
}

#[test]
fn csv_line_numbers_count_quoted_newlines() {
    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\nhello,x\n\"two\nlines\",y\n,y\n",
        &["--strict"],
    );
    out.fails_with(&[&format!("{}:5: empty text", s(&data))]);
}

#[test]
fn one_class_only_is_refused() {
    let content = "{\"text\": \"They condemned the attack.\", \"label\": \"confrontational\"}\n{\"text\": \"They threatened sanctions.\", \"label\": \"confrontational\"}\n";
    let (out, _data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    out.fails_with(&["only one label (`confrontational`", "at least two"]);
}

#[test]
fn one_class_only_names_the_file() {
    let content = "{\"text\": \"They condemned the attack.\", \"label\": \"confrontational\"}\n{\"text\": \"They threatened sanctions.\", \"label\": \"confrontational\"}\n";
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    out.fails_with(&[s(&data), "only one label"]);
    assert!(!out.stderr.contains("invalid option"), "{}", out.stderr);
}

#[test]
fn unknown_format_is_refused() {
    let csv = fs::read(fixture("framing_small.csv")).unwrap();
    let (out, data, _dir) = train_on("data.xlsx", &csv, &[]);
    out.fails_with(&[s(&data), "unknown input format", "--format"]);
    // --format overrides the extension.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.xlsx");
    fs::write(&data, &csv).unwrap();
    train_fast(&data, &dir.path().join("m.stance"), &["--format", "csv"]).success();
    // An unknown --format value is a usage error.
    let out = train_fast(&data, &dir.path().join("m.stance"), &["--format", "xlsx"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown format `xlsx`"),
        "{}",
        out.stderr
    );
}

#[test]
fn malformed_json_names_its_line() {
    let content = format!("{TWO_GOOD_JSONL}{{\"text\": \"Figures.\", \"label\": }}\n");
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    out.fails_with(&[&format!("{}:3: malformed JSON", s(&data))]);

    let content = format!("{TWO_GOOD_JSONL}[\"not\", \"an object\"]\n");
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    out.fails_with(&[&format!("{}:3: expected a JSON object per line", s(&data))]);

    let content = format!("{TWO_GOOD_JSONL}{{\"text\": 42, \"label\": \"neutral\"}}\n");
    let (out, data, _dir) = train_on("d.jsonl", content.as_bytes(), &[]);
    out.fails_with(&[&format!("{}:3: field `text` is not a string", s(&data))]);
}

#[test]
fn invalid_utf8_names_its_line() {
    let mut content = TWO_GOOD_JSONL.as_bytes().to_vec();
    content.extend_from_slice(b"{\"text\": \"caf\xe9 culture\", \"label\": \"neutral\"}\n");
    let (out, data, _dir) = train_on("d.jsonl", &content, &[]);
    out.fails_with(&[
        &format!("{}:3: invalid UTF-8", s(&data)),
        "convert the file to UTF-8",
    ]);

    let (out, data, _dir) = train_on("d.csv", b"text,label\nhello,x\ncaf\xe9,y\n", &[]);
    out.fails_with(&[&format!("{}:3: invalid UTF-8", s(&data))]);

    let (out, data, _dir) = train_on("d.txt", b"__label__x hello\n__label__y caf\xe9\n", &[]);
    out.fails_with(&[&format!("{}:2: invalid UTF-8", s(&data))]);
}

#[test]
fn unbalanced_csv_quote_names_its_line() {
    let (out, data, _dir) = train_on(
        "d.csv",
        b"text,label\nhello there,x\n\"an open quote,y\nworld,x\nagain,y\n",
        &[],
    );
    out.fails_with(&[&format!("{}:3:", s(&data)), "unbalanced quote"]);
}

#[test]
fn header_only_and_empty_files_are_refused() {
    let (out, data, _dir) = train_on("d.csv", b"text,label\n", &[]);
    out.fails_with(&[s(&data), "no records"]);
    let (out, data, _dir) = train_on("d.csv", b"", &[]);
    out.fails_with(&[s(&data), "empty file"]);
    let (out, data, _dir) = train_on("d.jsonl", b"", &[]);
    out.fails_with(&[s(&data), "no records"]);
    let (out, data, _dir) = train_on("d.txt", b"\n\n", &[]);
    out.fails_with(&[s(&data), "no records"]);
}

#[test]
fn a_bad_validation_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let valid = dir.path().join("valid.jsonl");
    fs::write(&valid, format!("{TWO_GOOD_JSONL}oops\n")).unwrap();
    let model = dir.path().join("m.stance");
    train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&valid)],
    )
    .fails_with(&[&format!("{}:3: malformed JSON", s(&valid))]);
    assert!(!model.exists());
}

#[test]
fn a_metric_naming_an_unknown_label_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid-split", "0.2", "--metric", "f1:neutral,nosuch"],
    )
    .is_refused_usage(&[
        "`nosuch`",
        "not among the training data's labels",
        "confrontational, cooperative, neutral",
    ]);
    assert!(!model.exists());
    let out = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--metric", "f1:"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("unknown metric"), "{}", out.stderr);
    let out = train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--metric", "f1:neutral, cooperative,neutral"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("names label `neutral` twice"),
        "{}",
        out.stderr
    );
    assert!(!model.exists());

    // In eval the labels are the model's, whatever the data holds.
    train_fast(&fixture("framing_small.jsonl"), &model, &[]).success();
    let data = dir.path().join("more.jsonl");
    fs::write(
        &data,
        "{\"text\": \"Talks resumed.\", \"label\": \"hopeful\"}\n",
    )
    .unwrap();
    run(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        s(&data),
        "--metric",
        "f1:hopeful",
    ])
    .is_refused_usage(&["`hopeful`", "not among the model's labels"]);
}

#[test]
fn out_of_range_options_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let data = fixture("framing_small.jsonl");
    train_fast(&data, &model, &["--cv", "55"])
        .is_refused_usage(&["55-fold", "number of records (54)"]);
    train_fast(&data, &model, &["--cv", "1"]).is_refused_usage(&["1-fold"]);
    train_fast(&data, &model, &["--valid-split", "1.5"])
        .is_refused_usage(&["1.5", "between 0 and 1"]);
    train_fast(&data, &model, &["--c", "0"]).is_refused_usage(&["positive"]);
    train_fast(&data, &model, &["--word-ngrams", "none"])
        .is_refused_usage(&["enable at least one view"]);
    train_fast(&data, &model, &["--max-df", "auto"])
        .is_refused_usage(&["`auto` is neither a document count (2) nor a fraction"]);
    train_fast(&data, &model, &["--valid", s(&data)])
        .is_refused_usage(&["is the training data", "--valid-split or --cv"]);
    assert!(!model.exists());
}

#[test]
fn training_with_no_features_left_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    run(&[
        "train",
        "--data",
        s(&fixture("framing_small.jsonl")),
        "--model",
        s(&model),
        "--min-df",
        "100",
        "-q",
    ])
    .is_refused_usage(&["--min-df"]);
    assert!(!model.exists());
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["train", "--model", "m.stance"],
        vec![
            "train",
            "--data",
            "d.jsonl",
            "--model",
            "m",
            "--cv",
            "3",
            "--valid-split",
            "0.1",
        ],
        vec![
            "train", "--data", "d.jsonl", "--model", "m", "--min-df", "-1",
        ],
        vec![
            "train",
            "--data",
            "d.jsonl",
            "--model",
            "m",
            "--word-ngrams",
            "3-1",
        ],
        vec!["predict", "--model", "m", "--no-such-option"],
        vec!["frobnicate"],
    ] {
        let out = run(&args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.starts_with("error:"), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
    }
}

// ---------------------------------------------------------------------------------------
// bad model files
// ---------------------------------------------------------------------------------------

/// Write `bytes` as a model file and run predict, eval and inspect on it: all must fail
/// with the same message, naming the file.
fn check_bad_model(bytes: &[u8], fragments: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("bad.stance");
    fs::write(&model, bytes).unwrap();
    let mut expected = vec![s(&model)];
    expected.extend(fragments);
    let valid = fixture("framing_valid.jsonl");
    for args in [
        vec![
            "predict",
            "--model",
            s(&model),
            "--data",
            s(&fixture("unlabelled.txt")),
        ],
        vec!["eval", "--model", s(&model), "--data", s(&valid)],
        vec!["inspect", "--model", s(&model)],
    ] {
        run(&args).fails_with(&expected);
    }
}

fn good_model_bytes() -> Vec<u8> {
    fs::read(shared_model()).unwrap()
}

#[test]
fn a_text_file_is_not_a_model() {
    check_bad_model(
        b"this is just some text, not a model file at all\n",
        &["not a stance model file"],
    );
    check_bad_model(b"", &["not a stance model file"]);
}

#[test]
fn a_truncated_model_is_refused() {
    let bytes = good_model_bytes();
    let half = &bytes[..bytes.len() / 2];
    let content = bytes.len() as u64 - 56;
    check_bad_model(
        half,
        &[
            "truncated model file",
            &format!("should be {} bytes long", content + 56),
            &format!("is only {}", half.len()),
        ],
    );
    check_bad_model(
        &bytes[..30],
        &["truncated model file: it is only 30 bytes long, too short even for the 56-byte header"],
    );
    check_bad_model(&bytes[..bytes.len() - 1], &["truncated model file"]);
}

#[test]
fn a_model_cut_in_its_header_reports_sensible_sizes() {
    let bytes = good_model_bytes();
    check_bad_model(
        &bytes[..30],
        &["truncated model file: it is only 30 bytes long, too short even for the 56-byte header"],
    );
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("bad.stance");
    fs::write(&model, &bytes[..30]).unwrap();
    let out = run(&["inspect", "--model", s(&model)]);
    assert!(
        !out.stderr.contains("declares 56 bytes of content"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_corrupted_model_is_refused() {
    let mut bytes = good_model_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    check_bad_model(&bytes, &["corrupted model file", "checksum"]);
    // A damaged checksum is detected as well.
    let mut bytes = good_model_bytes();
    bytes[40] ^= 0x80;
    check_bad_model(&bytes, &["corrupted model file"]);
    // Extra bytes at the end.
    let mut bytes = good_model_bytes();
    bytes.push(0);
    check_bad_model(&bytes, &["corrupted model file"]);
}

#[test]
fn a_model_of_another_format_version_is_refused() {
    let mut bytes = good_model_bytes();
    bytes[8..12].copy_from_slice(&99u32.to_le_bytes());
    check_bad_model(
        &bytes,
        &[
            "format version 99",
            &format!("reads version {}", stance::model_file::FORMAT_VERSION),
            "retrain the model",
        ],
    );
}

#[test]
fn a_missing_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("no-such-model.stance");
    let valid = fixture("framing_valid.jsonl");
    for args in [
        vec!["predict", "--model", s(&model)],
        vec!["eval", "--model", s(&model), "--data", s(&valid)],
        vec!["inspect", "--model", s(&model)],
    ] {
        run(&args).fails_with(&[s(&model), "No such file or directory"]);
    }
    let data = dir.path().join("no-such-data.jsonl");
    train_fast(&data, &dir.path().join("m.stance"), &[])
        .fails_with(&[s(&data), "No such file or directory"]);
}

#[test]
fn io_errors_are_reported_once() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("no-such-model.stance");
    let out = run(&["inspect", "--model", s(&model)]);
    out.fails_with(&[s(&model), "No such file or directory"]);
    assert_eq!(
        out.stderr.matches("No such file or directory").count(),
        1,
        "{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------
// model file writing
// ---------------------------------------------------------------------------------------

#[test]
fn failed_training_leaves_an_existing_model_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    fs::copy(shared_model(), &model).unwrap();
    let before = fs::read(&model).unwrap();
    let data = dir.path().join("one-class.jsonl");
    fs::write(
        &data,
        "{\"text\": \"They condemned it.\", \"label\": \"confrontational\"}\n{\"text\": \"They threatened.\", \"label\": \"confrontational\"}\n",
    )
    .unwrap();
    train_fast(&data, &model, &[]).fails_with(&["only one label"]);
    assert!(
        fs::read(&model).unwrap() == before,
        "the old model was changed"
    );
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
    // The old model still works.
    predict_file(&model, &fixture("unlabelled.txt")).success();
}

#[test]
fn a_failed_save_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("a-directory");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep.txt"), "x").unwrap();
    train_fast(&fixture("framing_small.jsonl"), &target, &[])
        .is_refused_usage(&[&format!("--model {} is a directory", s(&target))]);
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
    assert_eq!(fs::read_to_string(target.join("keep.txt")).unwrap(), "x");
}

#[test]
fn a_successful_save_replaces_the_model_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("nested/dir/m.stance");
    train_fast(&fixture("framing_small.jsonl"), &model, &[]).success();
    let first = fs::read(&model).unwrap();
    train_fast(&fixture("framing_small.jsonl"), &model, &["--c", "10"]).success();
    let second = fs::read(&model).unwrap();
    assert!(first != second, "the model was replaced");
    assert!(temp_files(model.parent().unwrap()).is_empty());
    let j = run(&["inspect", "--model", s(&model), "--json"])
        .success()
        .json();
    assert_eq!(j["fit"]["c"], 10.0);
}

#[test]
fn an_output_that_would_overwrite_an_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    fs::copy(fixture("framing_small.jsonl"), &data).unwrap();
    let before = fs::read(&data).unwrap();
    // Another spelling of the same file is the same file.
    let same = dir.path().join(".").join("d.jsonl");
    train_fast(&data, &same, &[])
        .is_refused_usage(&["is the training data", "choose another path"]);
    assert!(
        fs::read(&data).unwrap() == before,
        "the data was overwritten"
    );

    let model = dir.path().join("m.stance");
    train_fast(&data, &model, &[]).success();
    let text = dir.path().join("in.txt");
    fs::write(&text, "They condemned the strikes.\n").unwrap();
    for (output, what) in [(&text, "is the input"), (&model, "is the model")] {
        run(&[
            "predict",
            "--model",
            s(&model),
            "--data",
            s(&text),
            "--output",
            s(output),
            "--output-format",
            "labels",
        ])
        .is_refused_usage(&[what, "writing there would destroy it"]);
    }
    assert_eq!(
        fs::read_to_string(&text).unwrap(),
        "They condemned the strikes.\n"
    );
    predict_file(&model, &text).success();
}

#[test]
fn a_failed_report_or_output_leaves_the_old_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    fs::copy(shared_model(), &model).unwrap();
    let before = fs::read(&model).unwrap();
    // A report whose metrics.json cannot be written: nothing of it is written, and the model
    // is not replaced.
    let report = dir.path().join("report");
    fs::create_dir_all(report.join("metrics.json")).unwrap();
    train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--report", s(&report)],
    )
    .fails_with(&["metrics.json", "is a directory"]);
    assert!(
        fs::read(&model).unwrap() == before,
        "the old model was replaced"
    );
    let left: Vec<_> = fs::read_dir(&report)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["metrics.json"], "part of the report was written");
    assert!(temp_files(&report).is_empty() && temp_files(dir.path()).is_empty());

    #[cfg(target_os = "linux")]
    {
        let full = std::process::Command::new(env!("CARGO_BIN_EXE_stance"))
            .args([
                "train",
                "-q",
                "--word-ngrams",
                "1",
                "--char-ngrams",
                "none",
                "--data",
            ])
            .arg(fixture("framing_small.jsonl"))
            .arg("--model")
            .arg(&model)
            .stdout(fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(full.status.code(), Some(1));
        assert!(
            fs::read(&model).unwrap() == before,
            "the old model was replaced"
        );

        // A reader that goes away is no failure: the model is saved, as before.
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_stance"))
            .args([
                "train",
                "--word-ngrams",
                "1",
                "--char-ngrams",
                "none",
                "--data",
            ])
            .arg(fixture("framing_small.jsonl"))
            .arg("--model")
            .arg(dir.path().join("piped.stance"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        assert!(child.wait().unwrap().success());
        assert!(
            dir.path().join("piped.stance").is_file(),
            "the model was not saved"
        );
        assert!(
            fs::read(&model).unwrap() == before,
            "the old model was replaced"
        );
        assert!(temp_files(dir.path()).is_empty());
    }
}

#[cfg(unix)]
#[test]
fn an_output_through_a_symbolic_link_keeps_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    fs::create_dir(&real).unwrap();
    let link = dir.path().join("latest.stance");
    std::os::unix::fs::symlink("real/m.stance", &link).unwrap();
    train_fast(&fixture("framing_small.jsonl"), &link, &[]).success();
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(real.join("m.stance").is_file());
    let out_link = dir.path().join("out.csv");
    std::os::unix::fs::symlink("real/out.csv", &out_link).unwrap();
    run(&[
        "predict",
        "--model",
        s(&link),
        "--data",
        s(&fixture("unlabelled.txt")),
        "--output",
        s(&out_link),
    ])
    .success();
    assert!(fs::symlink_metadata(&out_link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(fs::read_to_string(real.join("out.csv"))
        .unwrap()
        .starts_with("label,"));
    assert!(temp_files(dir.path()).is_empty() && temp_files(&real).is_empty());

    // Standard output named as a file is written where it is, not replaced, whether it is
    // a pipe or a file the shell opened, however it is named.
    for name in ["/dev/stdout", "/dev/fd/1"] {
        let out_file = dir.path().join("stdout.txt");
        fs::write(&out_file, "before\n").unwrap();
        let stdout = fs::OpenOptions::new().append(true).open(&out_file).unwrap();
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_stance"))
            .args([
                "predict",
                "--output-format",
                "labels",
                "--output",
                name,
                "--model",
            ])
            .arg(&link)
            .arg("--data")
            .arg(fixture("unlabelled.txt"))
            .stdout(stdout)
            .status()
            .unwrap();
        assert!(status.success());
        let written = fs::read_to_string(&out_file).unwrap();
        assert!(written.starts_with("before\n"), "{name}: {written}");
        assert_eq!(written.lines().count(), 7, "{name}: {written}");
    }
    let piped = run(&[
        "predict",
        "--model",
        s(&link),
        "--data",
        s(&fixture("unlabelled.txt")),
        "--output",
        "/dev/stdout",
        "--output-format",
        "labels",
    ])
    .success();
    assert_eq!(piped.stdout.lines().count(), 6, "{}", piped.stdout);
}

#[cfg(unix)]
#[test]
fn model_file_permissions_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference");
    fs::write(&reference, b"").unwrap();
    let model = dir.path().join("m.stance");
    train_fast(&fixture("framing_small.jsonl"), &model, &[]).success();
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&model),
        mode(&reference),
        "model {:o}, ordinary file {:o}",
        mode(&model),
        mode(&reference)
    );
}

// ---------------------------------------------------------------------------------------
// output plumbing and help
// ---------------------------------------------------------------------------------------

/// Run a command whose output is much larger than a pipe buffer, read a little of it and close
/// the pipe, as `| head` does: the command should stop quietly.
fn closes_pipe_early(args: &[&str]) -> Output {
    let mut child = command(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut head = [0u8; 100];
    stdout.read_exact(&mut head).unwrap();
    drop(stdout);
    finish(child.wait_with_output().unwrap())
}

#[test]
fn predict_stops_quietly_when_its_reader_goes_away() {
    let model = shared_model();
    let input: String = (0..3000)
        .map(|i| format!("The government condemned the hostile provocations number {i}\n"))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("many.txt");
    fs::write(&data, input).unwrap();
    let out = closes_pipe_early(&["predict", "--model", s(model), "--data", s(&data)]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn inspect_stops_quietly_when_its_reader_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("big.stance");
    run(&[
        "train",
        "--data",
        s(&fixture("framing_small.jsonl")),
        "--model",
        s(&model),
        "--c",
        "1",
        "--min-df",
        "1",
        "--char-ngrams",
        "1-5",
    ])
    .success();
    for json in [false, true] {
        let mut args = vec!["inspect", "--model", s(&model), "--top", "100000"];
        if json {
            // serde_json wraps the closed pipe in its own error type.
            args.push("--json");
        }
        let out = closes_pipe_early(&args);
        assert_eq!(out.code, 0, "json {json}: {}", out.stderr);
        assert!(out.stderr.is_empty(), "json {json}: {}", out.stderr);
    }
}

#[test]
fn inspect_distinguishes_max_df_fraction_from_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut lines = Vec::new();
    for (name, max_df) in [("fraction", "1.0"), ("count", "1")] {
        let model = dir.path().join(format!("{name}.stance"));
        train_fast(
            &fixture("framing_small.jsonl"),
            &model,
            &["--max-df", max_df],
        )
        .success();
        let text = run(&["inspect", "--model", s(&model)]).success().stdout;
        lines.push(
            text.lines()
                .find(|l| l.starts_with("features"))
                .unwrap()
                .split("; ")
                .nth(1)
                .unwrap()
                .to_string(),
        );
    }
    assert_ne!(lines[0], lines[1]);
}

/// An option and the default its help must show (`None`: the help shows no default).
type OptionDefault<'a> = (&'a str, Option<&'a str>);

#[test]
fn help_of_each_subcommand_lists_every_option_and_default() {
    let cases: [(&str, &[OptionDefault]); 4] = [
        (
            "train",
            &[
                ("--data", None),
                ("--valid", None),
                ("--valid-split", None),
                ("--cv", None),
                ("--group-field", None),
                ("--seed", Some("42")),
                ("--model", None),
                ("--metric", Some("macro-f1")),
                ("--c", None),
                ("--class-weight", Some("balanced")),
                ("--word-ngrams", Some("1-2")),
                ("--char-ngrams", Some("2-5")),
                ("--min-df", Some("auto")),
                ("--max-df", Some("1.0")),
                ("--max-features", None),
                ("--no-sublinear-tf", None),
                ("--max-iter", Some("100")),
                ("--json", None),
                ("--format", None),
                ("--text-field", Some("text")),
                ("--label-field", Some("label")),
                ("--quiet", None),
            ],
        ),
        (
            "eval",
            &[
                ("--model", None),
                ("--data", None),
                ("--metric", None),
                ("--json", None),
                ("--group-field", None),
                ("--format", None),
                ("--text-field", Some("text")),
                ("--label-field", Some("label")),
            ],
        ),
        (
            "predict",
            &[
                ("--model", None),
                ("--data", None),
                ("--format", None),
                ("--text-field", Some("text")),
            ],
        ),
        (
            "inspect",
            &[("--model", None), ("--top", Some("15")), ("--json", None)],
        ),
    ];
    for (sub, options) in cases {
        let help = run(&[sub, "--help"]).success().stdout;
        assert!(help.contains(&format!("Usage: stance {sub}")), "{help}");
        assert!(help.contains("Exit codes: 0 success; 1 an error"), "{help}");
        for (option, default) in options {
            let entry = help_entry(&help, option);
            match default {
                Some(d) => assert!(
                    entry.contains(&format!("[default: {d}]")),
                    "{sub} {option}: {entry}"
                ),
                None => assert!(!entry.contains("[default:"), "{sub} {option}: {entry}"),
            }
        }
    }
    // The C grid's default is described in words.
    let help = run(&["train", "--help"]).success().stdout;
    let c = help_entry(&help, "--c");
    assert!(
        c.contains("0.3,1,3,10,30,100, searched from 3 and 10 towards the better end, then 0.1"),
        "{c}"
    );
    // The thresholds the help spells out are the ones the code uses.
    let with_commas = |n: usize| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, d) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(d);
        }
        out
    };
    let small = format!(
        "fewer than {} records",
        with_commas(stance::train::SMALL_VALIDATION)
    );
    for option in ["--valid", "--no-valid-pooling"] {
        let entry = help_entry(&help, option);
        assert!(entry.contains(&small), "{option}: {entry}");
    }
    let pooling = help_entry(&help, "--no-valid-pooling");
    let folds = format!("stratified {}-fold", stance::train::POOLED_FOLDS);
    assert!(pooling.contains(&folds), "{pooling}");
    let split = format!(
        "from {} records together on a stratified {}% split",
        with_commas(stance::train::POOLED_SPLIT_FROM),
        stance::train::POOLED_SPLIT * 100.0
    );
    assert!(pooling.contains(&split), "{pooling}");
    let min_df = help_entry(&help, "--min-df");
    let below = format!(
        "fewer than {} records",
        with_commas(stance::vectorize::KEEP_SINGLETONS_BELOW)
    );
    assert!(min_df.contains(&below), "{min_df}");
    let top = run(&["--help"]).success().stdout;
    for sub in ["train", "eval", "predict", "inspect"] {
        assert!(
            top.lines().any(|l| l.trim_start().starts_with(sub)),
            "{top}"
        );
    }
}

#[test]
fn a_fit_that_would_not_fit_in_memory_is_refused_before_it_starts() {
    let data = fixture("framing_small.jsonl");
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let train = |limit: &str| {
        run(&[
            "train",
            "--data",
            s(&data),
            "--model",
            s(&model),
            "--char-ngrams",
            "1-5",
            "--min-df",
            "1",
            "--memory-limit",
            limit,
            "--solver",
            "lbfgs",
        ])
    };
    // The input alone (6 KB, ~23 bytes of working memory per byte) is too much.
    train("50K").is_refused_usage(&["of input would need roughly", "--char-ngrams none"]);
    // The input fits but L-BFGS (4,042 features × 3 classes × 25 vectors) does not.
    train("1M").is_refused_usage(&["needs about", "allowed (--memory-limit)", "--max-features"]);
    assert!(!model.exists());
    train("1G").success();
    assert!(model.exists());
    // One fit (2.6 MB) fits in 3 MB, but the search fits two candidates at once (4.3 MB).
    train("3M").success();
    run(&[
        "train",
        "--data",
        s(&data),
        "--model",
        s(&dir.path().join("searched.stance")),
        "--char-ngrams",
        "1-5",
        "--min-df",
        "1",
        "--memory-limit",
        "3M",
        "--solver",
        "lbfgs",
        "--valid-split",
        "0.3",
        "--c",
        "1,3",
    ])
    .is_refused_usage(&[
        "(2 C candidates at once) needs about",
        "allowed (--memory-limit)",
    ]);
}

#[test]
fn labels_only_output_refuses_a_label_with_a_line_break_before_writing() {
    let records: String = (0..8)
        .map(|i| {
            let (text, label) = if i % 2 == 0 {
                ("sanctions and threats", "hostile\nlanguage")
            } else {
                ("talks and cooperation", "friendly")
            };
            format!("{}\n", serde_json::json!({"text": text, "label": label}))
        })
        .collect();
    let (data, dir) = write_data("two-line.jsonl", records.as_bytes());
    let model = dir.path().join("m.stance");
    train_fast(&data, &model, &[]).success();
    let out = dir.path().join("labels.txt");
    run(&["predict", "--model", s(&model), "--output", s(&out)])
        .fails_with(&["\"hostile\\nlanguage\" contains a line break", "JSON lines"]);
    assert!(!out.exists(), "no output file is created");
}

/// JSON lines of `n_groups` groups of six records, each group of one label and carrying a
/// word of its own; the other words are drawn alike for both labels. Only the group word
/// tells the labels apart, and only for a group the model was fitted on.
fn records_with_group_words(n_groups: usize) -> String {
    let filler = [
        "alpha", "beta", "gamma", "delta", "kappa", "sigma", "omega", "theta",
    ];
    let mut state = 12345u64;
    let mut lines = String::new();
    for g in 0..n_groups {
        for _ in 0..6 {
            let words: Vec<&str> = (0..6)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    filler[(state >> 33) as usize % filler.len()]
                })
                .collect();
            lines.push_str(&format!(
                "{{\"text\": \"marker{g}q {}\", \"label\": \"{}\", \"article\": \"story-{g}\"}}\n",
                words.join(" "),
                if g % 2 == 0 { "x" } else { "y" }
            ));
        }
    }
    lines
}

#[test]
fn a_grouped_label_shift_note_says_its_test_counts_records_as_independent() {
    // Training labels half x, half y; the validation file's all x: a marked difference.
    let data = records_with_group_words(10);
    let valid: String = records_with_group_words(10)
        .lines()
        .map(|l| l.replace("\"label\": \"y\"", "\"label\": \"x\"") + "\n")
        .collect();
    let (valid_path, _valid_dir) = write_data("valid.jsonl", valid.as_bytes());
    let train = |extra: &[&str]| {
        let mut args = vec!["--valid", s(&valid_path), "--no-valid-pooling", "--c", "1"];
        args.extend(extra);
        let (out, _, _dir) = train_on("groups.jsonl", data.as_bytes(), &args);
        out.success().stdout
    };
    let caveat = "records of one group tend to share their labels, so with groups the difference is less certain than its p says";
    let grouped = train(&["--group-field", "article"]);
    assert!(
        grouped
            .contains("the validation file's labels are not distributed like the training data's"),
        "{grouped}"
    );
    assert!(grouped.contains(caveat), "{grouped}");
    let ungrouped = train(&[]);
    assert!(
        ungrouped
            .contains("the validation file's labels are not distributed like the training data's"),
        "{ungrouped}"
    );
    assert!(!ungrouped.contains(caveat), "{ungrouped}");
    // `eval` says the same of its records against the model's training labels.
    let (out, _, dir) = train_on("groups.jsonl", data.as_bytes(), &["--c", "1"]);
    out.success();
    let model = dir.path().join("m.stance");
    let eval = |extra: &[&str]| {
        let mut args = vec!["eval", "--model", s(&model), "--data", s(&valid_path)];
        args.extend(extra);
        run(&args).success().stdout
    };
    let grouped = eval(&["--group-field", "article"]);
    assert!(
        grouped.contains("these labels are not distributed like the model's training data's"),
        "{grouped}"
    );
    assert!(grouped.contains(caveat), "{grouped}");
    assert!(!eval(&[]).contains(caveat));
}

#[test]
fn grouped_cross_validation_scores_only_groups_the_fold_model_has_not_seen() {
    let data = records_with_group_words(10);
    let accuracy = |extra: &[&str]| {
        let mut args = vec!["--cv", "5", "--c", "1", "--no-prior-shift", "--json"];
        args.extend(extra);
        let (out, _, _dir) = train_on("groups.jsonl", data.as_bytes(), &args);
        out.success().json()["selection"]["report"]["accuracy"]
            .as_f64()
            .unwrap()
    };
    // Record by record, every held-out record's group word was fitted on.
    let mixed = accuracy(&[]);
    assert!(mixed >= 0.95, "ungrouped folds: {mixed}");
    // Group by group, no held-out group word was: the labels are a guess.
    let grouped = accuracy(&["--group-field", "article"]);
    assert!(grouped <= 0.7, "grouped folds: {grouped}");

    let (out, _, _dir) = train_on(
        "groups.jsonl",
        data.as_bytes(),
        &["--cv", "5", "--c", "1", "--group-field", "article"],
    );
    let text = out.success().stdout;
    assert!(
        text.contains("stratified 5-fold cross-validation over 60 records (seed 42; each of its 10 groups within one fold)"),
        "{text}"
    );
    // The decision rule and the calibration are checked on halves of the groups.
    for checked in [
        "when fitted on one half of the held-out data's groups and scored on the other",
        "with a temperature fitted on one half of the held-out data's groups and applied",
    ] {
        assert!(text.contains(checked), "{text}");
    }
    // Each group's out-of-fold accuracy, least accurate first.
    assert!(
        text.contains("accuracy by group (`article`), least accurate first:\n  story-"),
        "{text}"
    );
    let (out, _, _dir) = train_on(
        "groups.jsonl",
        data.as_bytes(),
        &[
            "--cv",
            "5",
            "--c",
            "1",
            "--group-field",
            "article",
            "--json",
        ],
    );
    let j = out.success().json();
    let groups = j["accuracy_by_group"].as_array().unwrap();
    assert_eq!(groups.len(), 10);
    let correct: u64 = groups.iter().map(|g| g["correct"].as_u64().unwrap()).sum();
    let accuracy = j["report"]["accuracy"].as_f64().unwrap();
    assert!((correct as f64 / 60.0 - accuracy).abs() < 1e-12);
    let (out, _, _dir) = train_on(
        "groups.jsonl",
        data.as_bytes(),
        &[
            "--valid-split",
            "0.2",
            "--c",
            "1",
            "--group-field",
            "article",
        ],
    );
    let text = out.success().stdout;
    assert!(
        text.contains("records, seed 42; each of its 10 groups within one side)"),
        "{text}"
    );

    // A validation file kept apart: its report says how many of its groups training saw.
    let lines: Vec<&str> = data.lines().collect();
    let (train_part, valid_new) = (lines[..48].join("\n"), lines[48..].join("\n"));
    let (train_path, dir) = write_data("train.jsonl", train_part.as_bytes());
    let valid_path = dir.path().join("valid.jsonl");
    let model = dir.path().join("m.stance");
    for (valid, said) in [
        (
            valid_new,
            "(12 records; none of its 2 groups in the training data)",
        ),
        (
            data.clone(),
            "(60 records; 8 of its 10 groups also in the training data)",
        ),
    ] {
        fs::write(&valid_path, valid).unwrap();
        let text = train_fast(
            &train_path,
            &model,
            &[
                "--valid",
                s(&valid_path),
                "--no-valid-pooling",
                "--c",
                "1",
                "--group-field",
                "article",
            ],
        )
        .success()
        .stdout;
        assert!(text.contains(said), "{text}");
    }
}

#[test]
fn group_field_mistakes_are_refused_before_training() {
    let data = records_with_group_words(4);
    // Groups only matter for held-out data: a usage error without it.
    let (out, _, _dir) = train_on(
        "groups.jsonl",
        data.as_bytes(),
        &["--group-field", "article"],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    // More folds than groups.
    let (out, _, _dir) = train_on(
        "groups.jsonl",
        data.as_bytes(),
        &["--cv", "5", "--group-field", "article"],
    );
    out.is_refused_usage(&["needs at least 5 groups; the data has 4: use --cv 4 or fewer"]);
    // A field the records lack, named with the first record's line.
    let (out, path, _dir) = train_on(
        "groups.jsonl",
        data.as_bytes(),
        &["--cv", "2", "--group-field", "source"],
    );
    out.fails_with(&[&at(&path, 1), "no `source` field for the group"]);
    // A directory of documents has no fields.
    let dir = tempfile::tempdir().unwrap();
    for label in ["a", "b"] {
        fs::create_dir(dir.path().join(label)).unwrap();
        fs::write(dir.path().join(label).join("1.txt"), "some text").unwrap();
    }
    let model = dir.path().join("m.stance");
    let out = train_fast(
        dir.path(),
        &model,
        &["--cv", "2", "--group-field", "article"],
    );
    out.fails_with(&["a directory of documents has no fields"]);
}

#[test]
fn eval_and_compare_resample_whole_groups_with_a_group_field() {
    let data = records_with_group_words(10);
    let (out, path, dir) = train_on("groups.jsonl", data.as_bytes(), &["--c", "1"]);
    out.success();
    let model = dir.path().join("m.stance");
    let (m, d) = (s(&model), s(&path));
    let eval = |extra: &[&str]| {
        let mut args = vec!["eval", "--model", m, "--data", d, "--bootstrap", "200"];
        args.extend(extra);
        run(&args).success()
    };
    let j = eval(&["--group-field", "article", "--json"]).json();
    assert_eq!(j["bootstrap"]["groups"], 10);
    assert_eq!(eval(&["--json"]).json()["bootstrap"]["groups"], Value::Null);
    let text = eval(&["--group-field", "article"]).stdout;
    assert!(
        text.contains("95% bootstrap intervals (200 resamples of the 10 groups of the 60 records, seed 42; with fewer than 20 groups the intervals are rough):"),
        "{text}"
    );

    let compare = |extra: &[&str]| {
        let mut args = vec!["compare", "--model", m, "--model", m, "--data", d];
        args.extend(extra);
        run(&args).success()
    };
    let text = compare(&["--group-field", "article"]).stdout;
    assert!(
        text.contains("paired bootstrap: 1000 resamples of the 10 groups of the 60 records, seed 42; with fewer than 20 groups the intervals are rough"),
        "{text}"
    );
    assert!(
        text.contains("McNemar's test counts records as independent"),
        "{text}"
    );
    assert_eq!(
        compare(&["--group-field", "article", "--json"]).json()["groups"],
        10
    );
    let text = compare(&[]).stdout;
    assert!(!text.contains("McNemar's test counts"), "{text}");
}

#[test]
fn eval_lists_accuracy_by_group_least_accurate_first() {
    let data = records_with_group_words(12);
    // Fitted on the first eight groups, evaluated on all twelve: the four unseen groups'
    // words tell the model nothing.
    let train: String = data.lines().take(48).map(|l| format!("{l}\n")).collect();
    let (train_path, dir) = write_data("train.jsonl", train.as_bytes());
    let model = dir.path().join("m.stance");
    train_fast(&train_path, &model, &["--c", "1"]).success();
    let all = dir.path().join("all.jsonl");
    fs::write(&all, &data).unwrap();
    let eval = |extra: &[&str]| {
        let mut args = vec!["eval", "--model", s(&model), "--data", s(&all)];
        args.extend(extra);
        run(&args).success()
    };
    let j = eval(&["--group-field", "article", "--json"]).json();
    let groups = j["accuracy_by_group"].as_array().unwrap();
    assert_eq!(groups.len(), 12);
    let field = |g: &Value, key: &str| g[key].as_f64().unwrap();
    let records: f64 = groups.iter().map(|g| field(g, "records")).sum();
    let correct: f64 = groups.iter().map(|g| field(g, "correct")).sum();
    assert_eq!(records, 72.0);
    assert!((correct / records - j["accuracy"].as_f64().unwrap()).abs() < 1e-12);
    for pair in groups.windows(2) {
        assert!(field(&pair[0], "accuracy") <= field(&pair[1], "accuracy"));
    }
    for g in groups {
        assert_eq!(
            field(g, "accuracy"),
            field(g, "correct") / field(g, "records")
        );
    }
    // The groups fitted on come last, all right.
    assert!(groups[8..].iter().all(|g| field(g, "accuracy") == 1.0));
    let text = eval(&["--group-field", "article"]).stdout;
    assert!(
        text.contains("accuracy by group (`article`), least accurate first:"),
        "{text}"
    );
    assert!(
        text.contains("… and 2 more groups (every one in --json, `accuracy_by_group`)"),
        "{text}"
    );
    assert!(!eval(&["--json"])
        .json()
        .as_object()
        .unwrap()
        .contains_key("accuracy_by_group"));
}

#[test]
fn tsv_written_by_stance_reads_back_as_written() {
    // TSV is read without quoting (a tweet may start with a quotation mark), so it is
    // written without quoting: quotation marks stay as they are, and a tab or line break
    // inside a field, which TSV cannot hold, becomes a space.
    let dir = tempfile::tempdir().unwrap();
    let article = dir.path().join("a.txt");
    fs::write(&article, "Then \"no\", she said. Talks \"will go on\".\n").unwrap();
    let listing = dir.path().join("s.tsv");
    run(&["sentences", s(&article), "--output", s(&listing)]).success();
    let as_json = run(&["sentences", s(&article)]).success().json_lines();
    let listed = run(&[
        "predict",
        "--model",
        s(shared_model()),
        "--data",
        s(&listing),
        "--keep",
        "text",
    ])
    .success()
    .json_lines();
    let texts = |lines: &[serde_json::Value]| -> Vec<String> {
        lines
            .iter()
            .map(|l| l["text"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(texts(&listed), texts(&as_json));
    assert_eq!(texts(&listed)[0], "Then \"no\", she said.");

    let records = dir.path().join("r.jsonl");
    fs::write(
        &records,
        "{\"id\": \"a\\tb\", \"text\": \"\\\"Quoted\\\" start\\tthen a tab\\r\\nand a line\"}\n",
    )
    .unwrap();
    let out = dir.path().join("p.tsv");
    run(&[
        "predict",
        "--model",
        s(shared_model()),
        "--data",
        s(&records),
        "--keep",
        "id,text",
        "--output",
        s(&out),
    ])
    .success();
    let back = run(&[
        "predict",
        "--model",
        s(shared_model()),
        "--data",
        s(&out),
        "--keep",
        "id,text",
    ])
    .success()
    .json_lines();
    assert_eq!(back[0]["id"], "a b");
    assert_eq!(back[0]["text"], "\"Quoted\" start then a tab  and a line");
}

#[test]
fn sentences_says_when_an_article_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.txt");
    fs::write(&empty, "\n\n").unwrap();
    let out = run(&["sentences", s(&empty)]).success();
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(
        out.stderr.trim_end(),
        format!(
            "note: {}: no sentence to list: the article is empty or all furniture",
            s(&empty)
        )
    );
}

#[test]
fn compare_notes_labels_a_model_never_saw() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    let mut content = fs::read_to_string(fixture("framing_valid.jsonl")).unwrap();
    content.push_str("{\"text\": \"Sunny again.\", \"label\": \"weather\"}\n");
    fs::write(&data, content).unwrap();
    let model = shared_model();
    let out = run(&[
        "compare",
        "--model",
        s(model),
        "--model",
        s(model),
        "--data",
        s(&data),
    ])
    .success();
    assert!(
        out.stdout.contains(&format!(
            "note: {}: 1 example(s) have label `weather`, which the model never saw; they count as errors",
            s(model)
        )),
        "{}",
        out.stdout
    );
}

#[cfg(unix)]
#[test]
fn a_file_size_limit_fails_the_write_naming_the_file_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("in.txt");
    fs::write(
        &data,
        "Talks and sanctions were discussed.\n".repeat(20_000),
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    // `ulimit -f 1`: one block (512 bytes or 1 KB) per file.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 1 && exec \"$0\" predict -q --model \"$1\" --data \"$2\" --output \"$3\"")
        .arg(env!("CARGO_BIN_EXE_stance"))
        .arg(shared_model())
        .arg(&data)
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("could not write {}", s(&out))),
        "{stderr}"
    );
    assert!(!out.exists());
    assert!(
        temp_files(dir.path()).is_empty(),
        "{:?}",
        temp_files(dir.path())
    );
}

#[test]
fn the_report_page_and_metrics_json_carry_the_label_notes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.jsonl");
    fs::write(
        &data,
        "{\"text\": \"They signed the agreement.\", \"label\": \"cooperative\"}\n{\"text\": \"Sunny.\", \"label\": \"weather\"}\n",
    )
    .unwrap();
    let report = dir.path().join("report");
    let text = run(&[
        "eval",
        "--model",
        s(shared_model()),
        "--data",
        s(&data),
        "--report",
        s(&report),
    ])
    .success()
    .stdout;
    let html = fs::read_to_string(report.join("report.html")).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(report.join("metrics.json")).unwrap()).unwrap();
    let notes: Vec<&str> = json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].contains("label `weather`, which the model never saw"),
        "{notes:?}"
    );
    assert!(
        notes[1].contains("so the macro averages leave"),
        "{notes:?}"
    );
    for note in notes {
        assert!(text.contains(&format!("note: {note}")), "{text}");
        assert!(html.contains(&stance::report::escape_html(note)), "{note}");
    }
}

#[test]
fn inspect_shows_an_adopted_decision_rule_with_its_offsets() {
    // The framing set's stance labels, grouped by article: the main job's model, whose
    // class-prior shift is adopted (see README, Set up).
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/framing.jsonl");
    run(&[
        "train",
        "-q",
        "--data",
        s(&data),
        "--label-field",
        "stance",
        "--group-field",
        "source",
        "--cv",
        "5",
        "--model",
        s(&model),
    ])
    .success();
    let j = run(&["inspect", "--model", s(&model), "--json"])
        .success()
        .json();
    let shift = &j["selection"]["prior_shift"];
    assert_eq!(shift["adopted"], true, "{shift}");
    let text = run(&["inspect", "--model", s(&model)]).success().stdout;
    let line = text
        .lines()
        .find(|l| l.starts_with("decision rule  class-prior shift, log-odds offsets "))
        .unwrap_or_else(|| panic!("{text}"));
    // Every non-zero offset, by label, as the JSON has them.
    for (label, offset) in j["labels"]
        .as_array()
        .unwrap()
        .iter()
        .zip(shift["offsets"].as_array().unwrap())
    {
        let offset = offset.as_f64().unwrap();
        if offset != 0.0 {
            assert!(
                line.contains(&format!("{} {offset:+}", label.as_str().unwrap())),
                "{line}"
            );
        }
    }
}
