//! Evaluation reports and the command-line habits around them: `--report DIR` on `eval`,
//! `train` and `compare` (files written, figures equal to the JSON report, user text
//! escaped, charts well-formed SVG), `--bootstrap`, labelled directories as input, `predict --output` in each
//! format, `completions`, colour only when allowed, `--verbose` timings and the exit codes in
//! every subcommand's help.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use common::*;
use serde_json::Value;

/// Run with colour variables under the test's control.
fn run_colour(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = command(args);
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    finish(cmd.stdin(Stdio::null()).output().expect("run stance"))
}

/// A minimal XML well-formedness check: one `<svg>` root, every element closed in order,
/// and some drawing inside.
#[track_caller]
fn check_svg(path: &Path) -> String {
    let svg = fs::read_to_string(path).unwrap();
    let body = svg.trim();
    assert!(
        body.starts_with("<svg "),
        "{}: {}",
        path.display(),
        &body[..40]
    );
    assert!(body.ends_with("</svg>"), "{}", path.display());
    assert!(body.contains("xmlns=\"http://www.w3.org/2000/svg\""));
    let mut stack: Vec<String> = Vec::new();
    let mut elements = 0;
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').expect("every tag ends") + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "unescaped < inside a tag: {tag}");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(
                stack.pop().as_deref(),
                Some(name.trim()),
                "{}",
                path.display()
            );
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap().to_string());
            elements += 1;
        } else {
            elements += 1;
        }
        // Text between tags has no stray '>' or '&' that is not an entity.
        let text_end = rest[close + 1..]
            .find('<')
            .map_or(rest.len(), |i| i + close + 1);
        let text = &rest[close + 1..text_end];
        assert!(!text.contains('>'), "unescaped > in text: {text}");
        for (i, _) in text.match_indices('&') {
            let entity = &text[i..];
            assert!(
                ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#"]
                    .iter()
                    .any(|e| entity.starts_with(e)),
                "bare & in text: {text}"
            );
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    assert!(
        elements >= 15,
        "{}: only {elements} elements",
        path.display()
    );
    assert!(svg.contains("<rect") && svg.contains("<text"));
    svg
}

fn report_files(dir: &Path) -> (String, Value) {
    for name in [
        "report.html",
        "metrics.json",
        "confusion.svg",
        "per_class.svg",
        "reliability.svg",
    ] {
        assert!(dir.join(name).is_file(), "{name} is written");
    }
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    let metrics: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("metrics.json")).unwrap()).unwrap();
    (html, metrics)
}

#[test]
fn eval_report_writes_every_file_with_the_reports_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("report");
    let model = shared_model();
    let data = fixture("framing_valid.jsonl");
    let args = ["eval", "--model", s(model), "--data", s(&data)];
    let mut json = run(&[&args[..], &["--json"]].concat()).success().json();
    // eval --json adds how many records the model had seen and how its labels compare
    // with the training data's; metrics.json keeps both apart from the report.
    let overlap = json.as_object_mut().unwrap().remove("overlap").unwrap();
    let label_shift = json.as_object_mut().unwrap().remove("label_shift").unwrap();
    let text = run(&[&args[..], &["--report", s(&out_dir)]].concat()).success();
    assert!(
        text.stdout
            .contains("95% bootstrap intervals (1000 resamples"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("report written to"), "{}", text.stdout);
    let (html, metrics) = report_files(&out_dir);

    // metrics.json holds the very report `eval --json` prints, plus ECE and intervals.
    assert_eq!(metrics["report"], json);
    assert_eq!(metrics["overlap"], overlap);
    assert_eq!(metrics["label_shift"], label_shift);
    assert_eq!(label_shift["total_variation"], 0.0);
    assert_eq!(overlap["records"], 9);
    let ece = metrics["ece"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&ece), "{ece}");
    assert_eq!(metrics["calibration"]["bins"].as_array().unwrap().len(), 10);
    let counted: u64 = metrics["calibration"]["bins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, 9);
    let b = &metrics["bootstrap"];
    assert_eq!(b["resamples"], 1000);
    assert_eq!(b["seed"], 42);
    for key in ["accuracy", "macro_f1", "metric"] {
        let (lo, est, hi) = (
            b[key]["lower"].as_f64().unwrap(),
            b[key]["estimate"].as_f64().unwrap(),
            b[key]["upper"].as_f64().unwrap(),
        );
        assert!(lo <= est && est <= hi, "{key}: {lo} {est} {hi}");
    }
    assert_eq!(b["accuracy"]["estimate"], json["accuracy"]);
    assert_eq!(b["metric"]["name"], "macro-f1");

    // The HTML table shows the same figures, to four places.
    for c in json["classes"].as_array().unwrap() {
        let row = format!(
            "<tr><td class=\"label\">{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
            c["label"].as_str().unwrap(),
            c["precision"].as_f64().unwrap(),
            c["recall"].as_f64().unwrap(),
            c["f1"].as_f64().unwrap(),
            c["support"]
        );
        assert!(html.contains(&row), "missing {row}");
    }
    let accuracy = format!(
        "<td class=\"label\">accuracy</td><td></td><td></td><td>{:.4}</td><td>9</td>",
        json["accuracy"].as_f64().unwrap()
    );
    assert!(html.contains(&accuracy), "{accuracy}");
    assert!(html.contains(&format!("{:.4}", json["log_loss"].as_f64().unwrap())));
    assert!(html.contains(&format!("{ece:.4}")));
    for section in [
        "id=\"confusion\"",
        "id=\"per-class\"",
        "id=\"reliability\"",
        "Most confidently misclassified",
        "Top-weighted n-grams per class",
    ] {
        assert!(html.contains(section), "{section}");
    }
    // Self-contained: the charts are inline and nothing is fetched.
    assert_eq!(html.matches("<svg ").count(), 3);
    let urls: Vec<&str> = html
        .match_indices("http")
        .map(|(i, _)| &html[i..(i + 40).min(html.len())])
        .filter(|u| !u.starts_with("http://www.w3.org/2000/svg"))
        .collect();
    assert!(urls.is_empty(), "external references: {urls:?}");
    for name in ["src=", "href=", "@import", "url("] {
        assert!(!html.contains(name), "{name}");
    }
    // The standalone charts are well-formed SVG and are the ones in the page.
    for name in ["confusion.svg", "per_class.svg", "reliability.svg"] {
        let svg = check_svg(&out_dir.join(name));
        assert!(html.contains(svg.trim()), "{name} is inlined");
    }
    let confusion = fs::read_to_string(out_dir.join("confusion.svg")).unwrap();
    for label in LABELS {
        assert!(confusion.contains(label), "{label}");
    }
    // The top n-grams are the model's.
    let inspect = run(&["inspect", "--model", s(model), "--top", "12", "--json"])
        .success()
        .json();
    let top = inspect["top_features"]["cooperative"][0]["feature"]
        .as_str()
        .unwrap();
    assert!(html.contains(&format!("<code>{top}</code>")), "{top}");
}

#[test]
fn eval_lists_the_most_confident_errors_with_why() {
    let dir = tempfile::tempdir().unwrap();
    // Every fifth sentence mislabelled, so that a regularised model gets some wrong.
    let data = dir.path().join("mislabelled.jsonl");
    fs::write(&data, mislabelled_framing(|i| i % 5 == 2)).unwrap();
    let model = dir.path().join("m.stance");
    train_fast(&data, &model, &["--c", "0.01"]).success();
    let args = ["eval", "--model", s(&model), "--data", s(&data)];
    let json = run(&[&args[..], &["--json", "--errors", "3"]].concat())
        .success()
        .json();
    let listed = json["most_confident_errors"].as_array().unwrap().clone();
    let n = json["n"].as_u64().unwrap() as usize;
    let wrong = n - (json["accuracy"].as_f64().unwrap() * n as f64).round() as usize;
    assert!(wrong >= 3, "the model gets {wrong} wrong");
    assert_eq!(listed.len(), 3);
    // The same records and explanations as the HTML report's list, which starts with them.
    let out_dir = dir.path().join("report");
    run(&[&args[..], &["--report", s(&out_dir), "--bootstrap", "0"]].concat()).success();
    let (_, metrics) = report_files(&out_dir);
    let in_report = metrics["most_confident_errors"].as_array().unwrap();
    assert_eq!(listed[..], in_report[..3]);
    assert!(listed
        .iter()
        .all(|e| e["evidence"].is_array() && e["baseline"].is_number()));
    // Without --errors there is no list.
    let plain = run(&[&args[..], &["--json"]].concat()).success().json();
    assert!(plain.get("most_confident_errors").is_none());
    // The text lists them under the report.
    let text = run(&[&args[..], &["--errors", "3"]].concat())
        .success()
        .stdout;
    assert!(
        text.contains(&format!("most confidently misclassified (3 of {wrong};")),
        "{text}"
    );
    for e in &listed {
        let line = format!(
            "  #{}  true {}, predicted {} ({:.3}): ",
            e["index"].as_u64().unwrap() + 1,
            e["truth"].as_str().unwrap(),
            e["predicted"].as_str().unwrap(),
            e["probability"].as_f64().unwrap()
        );
        assert!(text.contains(&line), "{line}\n{text}");
        let why = format!(
            "      why: baseline {:+.4}; ",
            e["baseline"].as_f64().unwrap()
        );
        assert!(text.contains(&why), "{why}\n{text}");
    }
}

#[test]
fn report_text_from_the_data_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nasty.jsonl");
    let mut lines = Vec::new();
    for i in 0..8 {
        lines.push(serde_json::json!({"label": "<i>pro</i>", "text": format!("we <script>alert('x')</script> support this & that {i}")}).to_string());
        lines.push(serde_json::json!({"label": "con & \"anti\"", "text": format!("against it \"quoted\" <b>{i}</b>")}).to_string());
    }
    // Two records the model will get wrong, so they are listed as misclassified.
    lines.push(
        serde_json::json!({"label": "<i>pro</i>", "text": "against it \"quoted\" <b>x</b>"})
            .to_string(),
    );
    lines.push(serde_json::json!({"label": "con & \"anti\"", "text": "we <script>alert('x')</script> support this & that"}).to_string());
    fs::write(&data, lines.join("\n")).unwrap();
    let model = dir.path().join("m.stance");
    let out_dir = dir.path().join("r");
    train_fast(&data, &model, &[]).success();
    run(&[
        "eval",
        "--model",
        s(&model),
        "--data",
        s(&data),
        "--report",
        s(&out_dir),
        "--bootstrap",
        "50",
    ])
    .success();
    let (html, metrics) = report_files(&out_dir);
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    assert!(!html.contains("<i>pro</i>") && !html.contains("<b>"));
    assert!(html.contains("&lt;i&gt;pro&lt;/i&gt;"));
    assert!(html.contains("con &amp; &quot;anti&quot;"));
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    let errors = metrics["most_confident_errors"].as_array().unwrap();
    assert!(errors.len() >= 2);
    // Each listed error is explained as `predict --evidence 5` explains its record.
    let predicted = run(&[
        "predict",
        "--model",
        s(&model),
        "--data",
        s(&data),
        "--format",
        "jsonl",
        "--evidence",
        "5",
    ])
    .success()
    .json_lines();
    for error in errors {
        let line = &predicted[error["index"].as_u64().unwrap() as usize];
        assert_eq!(error["predicted"], line["label"], "{error}");
        assert_eq!(error["baseline"], line["baseline"], "{error}");
        assert_eq!(error["evidence"], line["evidence"], "{error}");
    }
    assert!(html.contains("why: the predicted label's baseline"));
    check_training_report_explanations(dir.path(), &data);
    for name in ["confusion.svg", "per_class.svg"] {
        let svg = check_svg(&out_dir.join(name));
        assert!(svg.contains("&lt;i&gt;pro&lt;/i&gt;"), "{name}");
        assert!(!svg.contains("<i>"), "{name}");
    }
    assert_eq!(metrics["bootstrap"]["resamples"], 50);
}

/// `train --report` explains its listed errors exactly when the saved model made the
/// predictions: on the training data, or a validation split without a refit; not the fold
/// models of cross-validation, nor a split's model once refitted. The explanations are
/// the saved model's own: `predict --evidence 5` gives the same label, probability,
/// baseline and evidence for each listed record.
fn check_training_report_explanations(dir: &Path, data: &Path) {
    let model = dir.join("explained.stance");
    let mut explained_errors = 0;
    for (options, explained) in [
        (&[][..], true),
        (&["--valid-split", "0.5"][..], true),
        (&["--valid-split", "0.5", "--refit"][..], false),
        (&["--cv", "3"][..], false),
    ] {
        let out_dir = dir.join(format!("explained-{}", options.join("")));
        let args: Vec<&str> = [options, &["--report", s(&out_dir)]].concat();
        train_fast(data, &model, &args).success();
        let (html, metrics) = report_files(&out_dir);
        let errors = metrics["most_confident_errors"].as_array().unwrap();
        assert!(
            !errors.is_empty() || options.contains(&"--valid-split"),
            "{options:?}: the contradictory records are misclassified"
        );
        if !explained {
            for error in errors {
                assert!(error.get("evidence").is_none(), "{options:?}: {error}");
            }
            assert!(!html.contains("why: "), "{options:?}");
            continue;
        }
        for error in errors {
            let text = error["text"].as_str().unwrap();
            let predicted = run_stdin(
                &["predict", "--model", s(&model), "--evidence", "5"],
                text.as_bytes(),
            )
            .success()
            .json_lines()
            .remove(0);
            assert_eq!(
                error["predicted"], predicted["label"],
                "{options:?}: {error}"
            );
            let label = predicted["label"].as_str().unwrap();
            let p = predicted["probs"][label].as_f64().unwrap();
            assert!(
                (error["probability"].as_f64().unwrap() - p).abs() < 1e-6,
                "{options:?}: the saved model gives {p}: {error}"
            );
            assert_eq!(error["baseline"], predicted["baseline"], "{options:?}");
            assert_eq!(error["evidence"], predicted["evidence"], "{options:?}");
            explained_errors += 1;
        }
    }
    assert!(explained_errors > 0);
}

#[test]
fn train_report_describes_the_held_out_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture("framing_small.jsonl");
    for (validation, scored_on) in [
        (vec!["--valid-split", "0.3"], "stratified 30% split"),
        (vec!["--cv", "3"], "pooled out-of-fold predictions"),
        (
            vec!["--valid", s(&fixture("framing_valid.jsonl"))],
            "validation file",
        ),
    ] {
        let model = dir.path().join("m.stance");
        let out_dir = dir.path().join(format!("report-{}", validation[0]));
        let extra: Vec<&str> = [&validation[..], &["--c", "0.3,3"]].concat();
        let json = train_fast(&data, &model, &[&extra[..], &["--json"]].concat())
            .success()
            .json();
        let with_report = train_fast(
            &data,
            &model,
            &[&extra[..], &["--json", "--report", s(&out_dir)]].concat(),
        )
        .success()
        .json();
        let (html, metrics) = report_files(&out_dir);
        assert_eq!(
            metrics["report"], json["report"],
            "{validation:?}: the report's figures are the model search's"
        );
        assert_eq!(with_report["report"], json["report"]);
        assert_eq!(
            with_report["bootstrap"]["accuracy"],
            metrics["bootstrap"]["accuracy"]
        );
        assert!(
            metrics["context"]["evaluated on"]
                .as_str()
                .unwrap()
                .contains(scored_on),
            "{}",
            metrics["context"]
        );
        assert!(!html.contains("TRAINING data"), "{validation:?}");
        assert!(
            metrics.get("accuracy_by_group").is_none(),
            "no groups, no such member"
        );
        assert!(!html.contains("id=\"groups\""));
    }
    // Without held-out data the report is on the training data and says so.
    let model = dir.path().join("m.stance");
    let out_dir = dir.path().join("report-none");
    let text = train_fast(&data, &model, &["--report", s(&out_dir)]).success();
    assert!(
        text.stdout.contains("bootstrap intervals"),
        "{}",
        text.stdout
    );
    let (html, metrics) = report_files(&out_dir);
    assert!(html.contains("TRAINING data"));
    assert_eq!(metrics["report"]["n"], 54);
}

#[test]
fn a_grouped_training_report_gives_each_groups_held_out_accuracy() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/framing.jsonl");
    let model = dir.path().join("m.stance");
    let out_dir = dir.path().join("report");
    let args = [
        "--label-field",
        "stance",
        "--cv",
        "5",
        "--group-field",
        "source",
        "--c",
        "1",
        "--report",
        s(&out_dir),
    ];
    train_fast(&data, &model, &args).success();
    let (html, metrics) = report_files(&out_dir);
    assert_eq!(metrics["bootstrap"]["groups"], 5);
    let groups = metrics["accuracy_by_group"].as_array().unwrap();
    assert_eq!(groups.len(), 5);
    let count = |key: &str| groups.iter().map(|g| g[key].as_u64().unwrap()).sum::<u64>();
    assert_eq!(count("records"), 92);
    let accuracy = metrics["report"]["accuracy"].as_f64().unwrap();
    assert!((count("correct") as f64 / 92.0 - accuracy).abs() < 1e-12);
    for pair in groups.windows(2) {
        assert!(pair[0]["accuracy"].as_f64() <= pair[1]["accuracy"].as_f64());
    }
    assert!(html.contains("<h2>Accuracy by group</h2>"));
    for g in groups {
        let row = format!(
            "<tr><td class=\"label\">{}</td><td>{}</td><td>{}</td>",
            g["group"].as_str().unwrap(),
            g["records"],
            g["correct"]
        );
        assert!(html.contains(&row), "{row}");
    }
}

#[test]
fn a_learning_curve_is_the_reports_fourth_chart() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/framing.jsonl");
    let model = dir.path().join("m.stance");
    let out_dir = dir.path().join("report");
    let args = [
        "--label-field",
        "stance",
        "--cv",
        "5",
        "--c",
        "1",
        "--learning-curve",
        "0.5,1",
        "--report",
        s(&out_dir),
        "--json",
    ];
    let printed = train_fast(&data, &model, &args).success().json();
    let (html, metrics) = report_files(&out_dir);
    assert_eq!(metrics["learning_curve"], printed["learning_curve"]);
    let svg = check_svg(&out_dir.join("learning_curve.svg"));
    assert!(html.contains(svg.trim()), "the chart is inlined");
    assert_eq!(html.matches("<svg ").count(), 4);
    assert!(html.contains("id=\"learning-curve\""));
    assert!(html.contains("<code>learning_curve.svg</code>"));
    assert!(svg.contains("training records per fit"));
    // Without the option the report has its three charts and no curve.
    let plain_dir = dir.path().join("plain");
    let args = [
        "--label-field",
        "stance",
        "--cv",
        "5",
        "--c",
        "1",
        "--report",
        s(&plain_dir),
    ];
    train_fast(&data, &model, &args).success();
    let (html, metrics) = report_files(&plain_dir);
    assert!(!plain_dir.join("learning_curve.svg").exists());
    assert_eq!(html.matches("<svg ").count(), 3);
    assert!(metrics.get("learning_curve").is_none());
}

#[test]
fn a_comparison_report_holds_the_json_both_tables_and_two_charts() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture("framing_valid.jsonl");
    // A model taught the next label for every third sentence: worse, not hopeless.
    let (mislabelled, _mislabelled_dir) = write_data(
        "mislabelled.jsonl",
        mislabelled_framing(|i| i % 3 == 0).as_bytes(),
    );
    let weaker = dir.path().join("weaker.stance");
    train_fast(&mislabelled, &weaker, &[]).success();
    let strong = shared_model();
    let out_dir = dir.path().join("comparison");
    let args = [
        "compare",
        "--model",
        s(strong),
        "--model",
        s(&weaker),
        "--data",
        s(&data),
        "--metric",
        "f1:cooperative",
        "--report",
        s(&out_dir),
    ];
    let printed = run(&[&args[..], &["--json"]].concat()).success().json();
    let written: Value =
        serde_json::from_str(&fs::read_to_string(out_dir.join("comparison.json")).unwrap())
            .unwrap();
    assert_eq!(written, printed, "comparison.json is what --json prints");
    let html = fs::read_to_string(out_dir.join("report.html")).unwrap();
    for (i, model) in printed["models"].as_array().unwrap().iter().enumerate() {
        let role = if i == 0 { " (baseline)" } else { "" };
        let row = format!(
            "<tr><td class=\"label\">{}{role}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td></tr>",
            model["name"].as_str().unwrap(),
            model["metric"].as_f64().unwrap(),
            model["macro_f1"].as_f64().unwrap(),
            model["accuracy"].as_f64().unwrap()
        );
        assert!(html.contains(&row), "{row}");
    }
    let d = &printed["differences"][0];
    // McNemar's p as the terminal prints it.
    let text = run(&args).success().stdout;
    let p = text
        .split("McNemar's exact test: ")
        .nth(1)
        .and_then(|rest| rest.split("p = ").nth(1))
        .and_then(|rest| rest.lines().next())
        .expect("the terminal gives McNemar's p");
    let first = format!(
        "<tr><td class=\"label\">{}</td><td class=\"label\">f1:cooperative</td><td>{:+.4}</td><td style=\"white-space: nowrap\">[{:+.4}, {:+.4}]</td><td>{}</td><td>{}</td><td>{p}</td></tr>",
        s(&weaker),
        d["metric"]["estimate"].as_f64().unwrap(),
        d["metric"]["lower"].as_f64().unwrap(),
        d["metric"]["upper"].as_f64().unwrap(),
        d["only_baseline_right"],
        d["only_model_right"]
    );
    assert!(html.contains(&first), "{first}");
    assert_eq!(html.matches("<svg ").count(), 2);
    for name in ["differences.svg", "per_class_f1.svg"] {
        let svg = check_svg(&out_dir.join(name));
        assert!(html.contains(svg.trim()), "{name} is inlined");
    }
    let per_class = fs::read_to_string(out_dir.join("per_class_f1.svg")).unwrap();
    for label in LABELS {
        assert!(per_class.contains(label), "{label}");
    }
    let report = out_dir.join("report.html");
    assert!(
        text.ends_with(&format!("\nreport written to {}\n", s(&report))),
        "{text}"
    );
}

#[test]
fn bootstrap_on_eval_is_printed_when_asked_and_off_by_default() {
    let model = shared_model();
    let data = fixture("framing_valid.jsonl");
    let args = ["eval", "--model", s(model), "--data", s(&data)];
    let plain = run(&args).success().stdout;
    assert!(!plain.contains("bootstrap"), "{plain}");
    let json = run(&[&args[..], &["--json"]].concat()).success().json();
    assert!(json.get("bootstrap").is_none());
    let asked = run(&[&args[..], &["--bootstrap", "200", "--seed", "7"]].concat())
        .success()
        .stdout;
    assert!(
        asked.contains("95% bootstrap intervals (200 resamples of the 9 records, seed 7):"),
        "{asked}"
    );
    assert!(asked.contains("  accuracy  "), "{asked}");
    let j1 = run(&[&args[..], &["--bootstrap", "200", "--seed", "7", "--json"]].concat())
        .success()
        .json();
    let j2 = run(&[&args[..], &["--bootstrap", "200", "--seed", "7", "--json"]].concat())
        .success()
        .json();
    assert_eq!(j1["bootstrap"], j2["bootstrap"], "seeded: reproducible");
    assert_eq!(j1["bootstrap"]["resamples"], 200);
    // With a report, --bootstrap 0 turns the intervals off.
    let dir = tempfile::tempdir().unwrap();
    run(&[&args[..], &["--report", s(dir.path()), "--bootstrap", "0"]].concat()).success();
    let (html, metrics) = report_files(dir.path());
    assert_eq!(metrics["bootstrap"], Value::Null);
    assert!(!html.contains("bootstrap"));
}

// ---------------------------------------------------------------------------------------
// Labelled directories
// ---------------------------------------------------------------------------------------

/// The training fixture as `DIR/LABEL/NNN.txt`, plus things the reader must ignore.
fn write_tree(root: &Path) -> PathBuf {
    let tree = root.join("corpus");
    for (i, (label, text)) in training_records().into_iter().enumerate() {
        let d = tree.join(&label);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(format!("{i:03}.txt")), format!("{text}\n")).unwrap();
    }
    fs::write(tree.join("README"), "not a document").unwrap();
    fs::write(tree.join("neutral/.hidden.txt"), "ignored").unwrap();
    fs::create_dir_all(tree.join(".git/objects")).unwrap();
    fs::create_dir_all(tree.join("neutral/nested")).unwrap();
    fs::write(tree.join("neutral/nested/deep.txt"), "ignored").unwrap();
    tree
}

#[test]
fn a_labelled_directory_trains_and_evaluates_like_the_same_records_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let tree = write_tree(dir.path());
    let model = dir.path().join("m.stance");
    let out = train_fast(&tree, &model, &["--json"]).success().json();
    assert_eq!(out["n_train"], 54);
    assert_eq!(out["labels"], serde_json::json!(LABELS));

    let from_dir = run(&[
        "eval",
        "--model",
        s(shared_model()),
        "--data",
        s(&tree),
        "--json",
    ])
    .success()
    .json();
    let from_file = run(&[
        "eval",
        "--model",
        s(shared_model()),
        "--data",
        s(&fixture("framing_small.jsonl")),
        "--json",
    ])
    .success()
    .json();
    for key in ["n", "accuracy", "classes", "confusion", "metric"] {
        assert_eq!(from_dir[key], from_file[key], "{key}");
    }
    let (a, b) = (
        from_dir["log_loss"].as_f64().unwrap(),
        from_file["log_loss"].as_f64().unwrap(),
    );
    assert!((a - b).abs() < 1e-12, "{a} {b}");
    // The model trained on the directory predicts its records as the file-trained one does.
    let preds = |m: &Path| {
        predict_file(m, &fixture("unlabelled.txt"))
            .success()
            .json_lines()
            .into_iter()
            .map(|l| l["label"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(preds(&model), preds(shared_model()));
    // A directory as validation data too.
    train_fast(
        &fixture("framing_small.jsonl"),
        &model,
        &["--valid", s(&tree), "--c", "1"],
    )
    .success();
}

#[test]
fn labelled_directories_are_read_in_sorted_order_with_their_rules() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("t");
    for (label, file, text) in [
        ("b", "2.txt", "bee two"),
        ("b", "10.txt", "bee ten"),
        ("a", "z.txt", "\u{feff}a zed"),
        ("a", "empty.txt", "  \n"),
    ] {
        fs::create_dir_all(tree.join(label)).unwrap();
        fs::write(tree.join(label).join(file), text).unwrap();
    }
    let read = stance::corpus::read_labelled_dir(&tree, false).unwrap();
    assert_eq!(read.corpus.labels, ["a", "b", "b"]);
    assert_eq!(read.corpus.texts, ["a zed", "bee ten", "bee two"]);
    assert_eq!(read.files[1], tree.join("b/10.txt"));
    assert_eq!(read.skipped_empty, [tree.join("a/empty.txt")]);
    let err = stance::corpus::read_labelled_dir(&tree, true).unwrap_err();
    assert!(err.to_string().contains("empty.txt"), "{err}");

    fs::write(tree.join("b/bad.txt"), b"line one\ncaf\xe9").unwrap();
    let err = stance::corpus::read_labelled_dir(&tree, false).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:2: a byte that is not UTF-8 at byte 4 of the line: convert the file to UTF-8",
            tree.join("b/bad.txt").display()
        )
    );

    // One label only, or none: refused, naming the directory.
    let one = dir.path().join("one");
    fs::create_dir_all(one.join("only")).unwrap();
    fs::write(one.join("only/1.txt"), "text").unwrap();
    let model = dir.path().join("m.stance");
    train_fast(&one, &model, &[]).fails_with(&[s(&one), "only one label sub-directory"]);
    let flat = dir.path().join("flat");
    fs::create_dir_all(&flat).unwrap();
    fs::write(flat.join("1.txt"), "text").unwrap();
    train_fast(&flat, &model, &[]).fails_with(&[s(&flat), "no label sub-directories"]);
    assert!(!model.exists());
    // Prediction input is never a directory.
    predict_file(shared_model(), &one).fails_with(&[s(&one), "is a directory"]);
}

// ---------------------------------------------------------------------------------------
// predict --output
// ---------------------------------------------------------------------------------------

#[test]
fn predict_output_writes_jsonl_csv_and_tsv_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let model = shared_model();
    let data = fixture("unlabelled.txt");
    let stdout = predict_file(model, &data).success().json_lines();
    assert_eq!(stdout.len(), 6);
    let expected: Vec<(String, Vec<f64>)> = stdout
        .iter()
        .map(|l| {
            (
                l["label"].as_str().unwrap().to_string(),
                LABELS
                    .iter()
                    .map(|k| l["probs"][k].as_f64().unwrap())
                    .collect(),
            )
        })
        .collect();

    // In a directory that does not exist yet: it is created, as train's model's is.
    let jsonl = dir.path().join("new/dir/p.jsonl");
    let out = run(&[
        "predict",
        "--model",
        s(model),
        "--data",
        s(&data),
        "--output",
        s(&jsonl),
    ])
    .success();
    assert!(out.stdout.is_empty(), "nothing on stdout: {}", out.stdout);
    let written: Vec<Value> = fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(written, stdout);

    for (ext, sep) in [("csv", ','), ("tsv", '\t')] {
        let path = dir.path().join(format!("p.{ext}"));
        run(&[
            "predict",
            "--model",
            s(model),
            "--data",
            s(&data),
            "--output",
            s(&path),
        ])
        .success();
        let content = fs::read_to_string(&path).unwrap();
        let mut lines = content.lines();
        let header: Vec<&str> = lines.next().unwrap().split(sep).collect();
        assert_eq!(
            header,
            ["label", "p_confrontational", "p_cooperative", "p_neutral"]
        );
        let rows: Vec<(String, Vec<f64>)> = lines
            .map(|l| {
                let fields: Vec<&str> = l.split(sep).collect();
                (
                    fields[0].to_string(),
                    fields[1..].iter().map(|f| f.parse().unwrap()).collect(),
                )
            })
            .collect();
        assert_eq!(rows, expected, "{ext}: same labels, same probabilities");
    }

    // Standard input to a file, and an extension that names no format.
    let piped = dir.path().join("stdin.csv");
    let out = run_stdin(
        &["predict", "--model", s(model), "--output", s(&piped)],
        b"the ministers signed a cooperation agreement\n",
    )
    .success();
    assert!(out.stdout.is_empty());
    assert_eq!(fs::read_to_string(&piped).unwrap().lines().count(), 2);
    let bad = run(&["predict", "--model", s(model), "--output", "p.parquet"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains(".jsonl, .csv, .tsv or .txt file, or give --output-format"),
        "{}",
        bad.stderr
    );

    // Labels only, one per line: to a .txt file, or by --output-format to standard output
    // or to a file of any name.
    let expected_labels: String = expected.iter().map(|(l, _)| format!("{l}\n")).collect();
    let predict = |extra: &[&str]| {
        let mut args = vec!["predict", "--model", s(model), "--data", s(&data)];
        args.extend_from_slice(extra);
        run(&args).success()
    };
    let txt = dir.path().join("p.txt");
    predict(&["--output", s(&txt)]);
    assert_eq!(fs::read_to_string(&txt).unwrap(), expected_labels);
    assert_eq!(
        predict(&["--output-format", "labels"]).stdout,
        expected_labels
    );
    let named = dir.path().join("p.parquet");
    predict(&["--output", s(&named), "--output-format", "csv"]);
    assert!(fs::read_to_string(&named).unwrap().starts_with("label,p_"));
    let bad = run(&["predict", "--model", s(model), "--output-format", "xml"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr.contains("use jsonl, csv, tsv or labels"),
        "{}",
        bad.stderr
    );
}

// ---------------------------------------------------------------------------------------
// Completions, colour, --verbose, help
// ---------------------------------------------------------------------------------------

#[test]
fn completions_for_bash_name_the_commands() {
    let out = run(&["completions", "bash"]).success();
    assert!(out.stdout.contains("_stance()"), "{}", &out.stdout[..200]);
    assert!(out.stdout.contains("complete -F _stance"));
    for word in ["train", "eval", "predict", "--report", "--bootstrap"] {
        assert!(out.stdout.contains(word), "{word}");
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(run(&["completions", shell])
            .success()
            .stdout
            .contains("stance"));
    }
    assert_eq!(run(&["completions", "tcsh"]).code, 2);
}

#[test]
fn colour_only_when_forced_and_never_with_no_color() {
    let data = fixture("framing_valid.jsonl");
    let args = ["eval", "--model", s(shared_model()), "--data", s(&data)];
    // Standard output is a pipe here: no colour by default.
    let plain = run_colour(&args, &[]).success().stdout;
    assert!(!plain.contains('\u{1b}'), "{plain:?}");
    let forced = run_colour(&args, &[("CLICOLOR_FORCE", "1")])
        .success()
        .stdout;
    assert!(forced.contains("\u{1b}["), "colour is forced: {forced:?}");
    let no_color = run_colour(&args, &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")])
        .success()
        .stdout;
    assert!(!no_color.contains('\u{1b}'), "{no_color:?}");
    assert_eq!(no_color, plain, "the text is the same without its colour");
    let train = run_colour(
        &[
            "train",
            "--data",
            s(&fixture("framing_small.jsonl")),
            "--valid",
            s(&fixture("framing_valid.jsonl")),
            "--model",
            s(&tempfile::tempdir().unwrap().path().join("m.stance")),
            "--c",
            "1",
            "--char-ngrams",
            "none",
        ],
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
    )
    .success();
    assert!(!train.stdout.contains('\u{1b}') && !train.stderr.contains('\u{1b}'));
}

#[test]
fn verbose_prints_stage_timings_on_stderr() {
    let data = fixture("framing_valid.jsonl");
    let args = ["eval", "--model", s(shared_model()), "--data", s(&data)];
    let quiet = run(&args).success();
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    let verbose = run(&[&args[..], &["--verbose"]].concat()).success();
    for stage in [
        "[time] loading ",
        "[time] reading ",
        "[time] predicting: ",
        "[time] total: ",
    ] {
        assert!(
            verbose.stderr.contains(stage),
            "{stage}: {}",
            verbose.stderr
        );
    }
    assert_eq!(verbose.stdout, quiet.stdout);
    assert_eq!(run(&[&args[..], &["-v", "-q"]].concat()).code, 2);
}

#[test]
fn every_subcommand_documents_the_exit_codes() {
    let top = run(&["--help"]).success().stdout;
    assert!(top.contains("Exit codes: 0 success; 1 an error"), "{top}");
    assert!(top.contains("completions"), "{top}");
    for sub in [
        "train",
        "eval",
        "predict",
        "inspect",
        "score",
        "completions",
    ] {
        let help = run(&[sub, "--help"]).success().stdout;
        assert!(
            help.contains("Exit codes: 0 success; 1 an error") && help.contains("2 a usage error"),
            "{sub}: {help}"
        );
    }
    for sub in ["train", "eval"] {
        let help = run(&[sub, "--help"]).success().stdout;
        for option in ["--report <DIR>", "--bootstrap <N>", "--verbose"] {
            assert!(help.contains(option), "{sub} {option}");
        }
    }
    let help = run(&["predict", "--help"]).success().stdout;
    assert!(help.contains("--output <FILE>"), "{help}");
}
