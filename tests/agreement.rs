//! `stance agree`: agreement between coders who labelled the same records.
//!
//! The coders are made from the bundled framing set: coder A's labels are its stance
//! labels; coder B gives every sixth record (0, 6, 12, …) the next label instead and leaves
//! record 4 uncoded. The reference figures are the Python `krippendorff` package's
//! (0.9.0) nominal alpha and scikit-learn 1.9.1's `cohen_kappa_score` on those labels.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{run, s, LABELS};
use serde_json::Value;

/// `krippendorff.alpha(level_of_measurement="nominal")` on coders A and B.
const ALPHA: f64 = 0.7013509332783335;
/// `cohen_kappa_score` on the 91 records both coded.
const KAPPA: f64 = 0.700657894736842;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// The framing set's stance labels, in order.
fn stance_labels() -> Vec<String> {
    fs::read_to_string(data_dir().join("framing.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let record: Value = serde_json::from_str(l).unwrap();
            record["stance"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Coder B's labels: A's, but the next label for every sixth record and none for record 4.
fn coder_b(a: &[String]) -> Vec<String> {
    a.iter()
        .enumerate()
        .map(|(i, label)| match i {
            4 => String::new(),
            i if i % 6 == 0 => {
                let at = LABELS.iter().position(|l| l == label).unwrap();
                LABELS[(at + 1) % 3].to_string()
            }
            _ => label.clone(),
        })
        .collect()
}

/// The `stance sentences` listing of the seed articles (the framing set's 92 sentences, in
/// its order) as CSV rows, with `labels` filled in, in the row order `order` gives.
fn coded_listing(dir: &Path, name: &str, labels: &[String], order: &[usize]) -> PathBuf {
    let listing = dir.join("listing.csv");
    if !listing.exists() {
        let seeds = data_dir().join("seeds");
        run(&["sentences", s(&seeds), "--output", s(&listing)]).success();
    }
    let mut reader = csv::Reader::from_path(&listing).unwrap();
    let header = reader.headers().unwrap().clone();
    let label_col = header.iter().position(|h| h == "label").unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(
        rows.len(),
        labels.len(),
        "the listing is the framing set's sentences"
    );
    let path = dir.join(name);
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&header).unwrap();
    for &i in order {
        let row: Vec<&str> = rows[i]
            .iter()
            .enumerate()
            .map(|(c, v)| {
                if c == label_col {
                    labels[i].as_str()
                } else {
                    v
                }
            })
            .collect();
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
    path
}

/// Coders A and B of the framing set, written as listings in `dir`: A's rows in order,
/// B's in `b_order`. Returns both coders' labels and files.
fn two_coders(dir: &Path, b_order: &[usize]) -> (Vec<String>, Vec<String>, PathBuf, PathBuf) {
    let a = stance_labels();
    let b = coder_b(&a);
    let in_order: Vec<usize> = (0..a.len()).collect();
    let coder_a = coded_listing(dir, "a.csv", &a, &in_order);
    let coder_b = coded_listing(dir, "b.csv", &b, b_order);
    (a, b, coder_a, coder_b)
}

#[test]
fn two_coders_of_the_framing_set() {
    let dir = tempfile::tempdir().unwrap();
    let in_order: Vec<usize> = (0..92).collect();
    let (_, _, coder_a, coder_b) = two_coders(dir.path(), &in_order);

    let j = run(&["agree", s(&coder_a), s(&coder_b), "--json"])
        .success()
        .json();
    assert!((j["alpha"].as_f64().unwrap() - ALPHA).abs() < 1e-12, "{j}");
    let pair = &j["pairs"][0];
    assert!(
        (pair["kappa"].as_f64().unwrap() - KAPPA).abs() < 1e-12,
        "{j}"
    );
    assert_eq!(pair["records"], 91);
    assert_eq!(
        (
            &j["records"],
            &j["pairable"],
            &j["coded_by_all"],
            &j["disagreements"]
        ),
        (
            &Value::from(92),
            &Value::from(91),
            &Value::from(91),
            &Value::from(16)
        )
    );
    let interval = &j["alpha_interval"];
    assert!(
        interval["lower"].as_f64().unwrap() < ALPHA && ALPHA < interval["upper"].as_f64().unwrap()
    );
    // Rows: A's label; columns: B's. B moved records one label on, never two.
    let confusion = &pair["confusion"];
    for (a, b) in [(0, 2), (1, 0), (2, 1)] {
        assert_eq!(confusion[a][b], 0, "{confusion}");
    }
    let changed: u64 = [(0, 1), (1, 2), (2, 0)]
        .iter()
        .map(|&(a, b)| confusion[a][b].as_u64().unwrap())
        .sum();
    assert_eq!(changed, 16);

    let text = run(&["agree", s(&coder_a), s(&coder_b)]).success().stdout;
    for expected in [
        format!(
            "2 coders ({}, {}), 92 records matched by position: 91 coded by two or more, 91 by all",
            s(&coder_a),
            s(&coder_b)
        ),
        format!("Krippendorff's alpha (nominal)  {ALPHA:.4}  95% interval ["),
        "(bootstrap over the records coded by two or more: 1000 resamples of the 91 records, seed 42)".to_string(),
        "below 0.800, Krippendorff's threshold for conclusions; at or above 0.667".to_string(),
        format!(
            "kappa {KAPPA:.4}  agreement {:.4}  (91 records)",
            75.0 / 91.0
        ),
        "16 of the 91 records coded by two or more get different labels".to_string(),
    ] {
        assert!(
            text.contains(&expected),
            "{expected:?} missing from:\n{text}"
        );
    }
}

#[test]
fn grouped_records_are_resampled_a_whole_article_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let in_order: Vec<usize> = (0..92).collect();
    let (_, _, coder_a, coder_b) = two_coders(dir.path(), &in_order);
    let agree = |extra: &[&str]| {
        let mut args = vec!["agree", s(&coder_a), s(&coder_b)];
        args.extend(extra);
        run(&args).success()
    };
    let by_record = agree(&["--json"]).json();
    let by_article = agree(&["--group-field", "source", "--json"]).json();
    assert_eq!(
        by_article["alpha"], by_record["alpha"],
        "the estimate is the same"
    );
    assert_eq!(by_article["alpha_interval"]["groups"], 5);
    assert_eq!(by_record["alpha_interval"]["groups"], Value::Null);
    assert_ne!(
        by_article["alpha_interval"]["lower"],
        by_record["alpha_interval"]["lower"]
    );
    let text = agree(&["--group-field", "source"]).stdout;
    assert!(
        text.contains("1000 resamples of the 5 groups of the 91 records, seed 42; with fewer than 20 groups the intervals are rough"),
        "{text}"
    );
    run(&[
        "agree",
        s(&coder_a),
        s(&coder_b),
        "--group-field",
        "article",
    ])
    .fails_with(&["no `article` column for the group"]);
}

#[test]
fn the_disagreements_file_lists_them_for_adjudication() {
    let dir = tempfile::tempdir().unwrap();
    let in_order: Vec<usize> = (0..92).collect();
    let (a, b, coder_a, coder_b) = two_coders(dir.path(), &in_order);
    let listed = dir.path().join("disagreements.csv");
    let out = run(&[
        "agree",
        s(&coder_a),
        s(&coder_b),
        "--disagreements",
        s(&listed),
    ])
    .success();
    assert!(
        out.stdout.contains(&format!("listed in {}", s(&listed))),
        "{}",
        out.stdout
    );
    let mut reader = csv::Reader::from_path(&listed).unwrap();
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(
        header,
        ["record", "text", s(&coder_a), s(&coder_b), "label"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let records: Vec<usize> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    let expected: Vec<usize> = (0..92).filter(|i| i % 6 == 0).map(|i| i + 1).collect();
    assert_eq!(records, expected);
    for row in &rows {
        let i = row[0].parse::<usize>().unwrap() - 1;
        assert_eq!(
            (&row[2], &row[3], &row[4]),
            (a[i].as_str(), b[i].as_str(), "")
        );
    }

    // JSON lines: the same records, keys in column order, a number for the position.
    let listed = dir.path().join("disagreements.jsonl");
    run(&[
        "agree",
        s(&coder_a),
        s(&coder_b),
        "--disagreements",
        s(&listed),
    ])
    .success();
    let lines: Vec<String> = fs::read_to_string(&listed)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 16);
    let first: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(first["record"], 1);
    assert_eq!(first[s(&coder_b)], b[0].as_str());
    assert!(
        lines[0].starts_with("{\"record\":1,\"text\":"),
        "{}",
        lines[0]
    );
}

#[test]
fn sorted_copies_are_matched_by_key_fields() {
    let dir = tempfile::tempdir().unwrap();
    let backward: Vec<usize> = (0..92).rev().collect();
    let (_, _, coder_a, coder_b) = two_coders(dir.path(), &backward);

    // By position the files part at once; nothing is written.
    let listed = dir.path().join("d.csv");
    let out = run(&[
        "agree",
        s(&coder_a),
        s(&coder_b),
        "--disagreements",
        s(&listed),
    ]);
    out.fails_with(&[
        &common::at(&coder_b, 2),
        &format!("its text differs from {}:2's", s(&coder_a)),
        "--key-field",
    ]);
    assert!(!listed.exists());

    let keyed = [
        "agree",
        s(&coder_a),
        s(&coder_b),
        "--key-field",
        "source",
        "--key-field",
        "sentence",
        "--json",
    ];
    let j = run(&keyed).success().json();
    assert!((j["alpha"].as_f64().unwrap() - ALPHA).abs() < 1e-12, "{j}");
    assert_eq!(j["key_fields"], serde_json::json!(["source", "sentence"]));
}

#[test]
fn coder_files_that_cannot_be_matched_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &str| {
        let path = dir.path().join(name);
        fs::write(&path, content).unwrap();
        path
    };
    let a = write("a.csv", "id,text,label\n1,one,x\n2,two,y\n");
    let no_label = write("b.csv", "id,text,code\n1,one,x\n2,two,y\n");
    run(&["agree", s(&a), s(&no_label)]).fails_with(&[
        &format!(
            "{}: no `label` column for the label (columns: id, text, code)",
            s(&no_label)
        ),
        "--label-field",
    ]);
    let twice = write("c.csv", "id,text,label\n1,one,x\n1,uno,y\n");
    run(&["agree", s(&a), s(&twice), "--key-field", "id"])
        .fails_with(&[&common::at(&twice, 3), "key `id=1` again (first at line 2)"]);
    run(&["agree", s(&a), s(&a), "--key-field", "missing"])
        .fails_with(&["no `missing` column for --key-field"]);
    run(&["agree", s(&a), s(&a)]).is_refused_usage(&["is given twice"]);
    run(&["agree", s(&a), s(&twice), "--key-field", "text"])
        .is_refused_usage(&["--key-field text is the text or the label field"]);
    let blank = write("e.csv", "id,text,label\n1,one,\n2,two,\n");
    run(&["agree", s(&a), s(&blank)])
        .fails_with(&["no record has a label from two or more of the 2 files"]);
    let uncoded = write(
        "d.jsonl",
        "{\"text\": \"one\", \"label\": null}\n{\"text\": \"two\"}\n",
    );
    run(&["agree", s(&a), s(&uncoded)]).fails_with(&[
        &common::at(&uncoded, 2),
        "no `label` field for the label",
        "empty or null when not labelled",
    ]);
}
