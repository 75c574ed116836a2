//! `stance train --learning-curve`: the held-out metric against the share of training data.

mod common;

use std::path::Path;

use common::{run, s};
use stance::learning_curve::DEFAULT_FRACTIONS;

fn framing() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/framing.jsonl")
        .display()
        .to_string()
}

/// `train --cv 5 --c 1 --learning-curve --json` on the framing set's stance labels, with
/// word n-grams only (fast in a debug build) and `extra` options.
fn curve_json(extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let data = framing();
    let mut args = vec![
        "train",
        "--data",
        &data,
        "--label-field",
        "stance",
        "--cv",
        "5",
        "--c",
        "1",
        "--model",
        s(&model),
        "--learning-curve",
        "--json",
    ];
    args.extend(common::FAST);
    args.extend(extra);
    run(&args).success().json()
}

#[test]
fn the_full_share_is_the_selection_score_on_the_same_folds() {
    let ungrouped = curve_json(&[]);
    for (j, extra) in [
        (ungrouped.clone(), &[][..]),
        (
            curve_json(&["--group-field", "source"]),
            &["--group-field", "source"],
        ),
    ] {
        let curve = &j["learning_curve"];
        let points = curve["points"].as_array().unwrap();
        let shares: Vec<f64> = points
            .iter()
            .map(|p| p["fraction"].as_f64().unwrap())
            .collect();
        assert_eq!(shares, DEFAULT_FRACTIONS, "{extra:?}");
        let records: Vec<u64> = points
            .iter()
            .map(|p| p["records"].as_u64().unwrap())
            .collect();
        assert!(records.windows(2).all(|w| w[0] <= w[1]), "{records:?}");
        assert!(points
            .iter()
            .all(|p| p["fold_scores"].as_array().unwrap().len() == 5));
        // One C, so no warm starts: the last point refits the selection's own fold models
        // and scores their pooled predictions by plain argmax.
        let last = points[4]["score"].as_f64().unwrap();
        let plain = j["selection"]["prior_shift"]["plain"].as_f64().unwrap();
        assert!(
            (last - plain).abs() < 1e-12,
            "{extra:?}: {last} against {plain}"
        );
        assert_eq!(curve["c"], 1.0);
    }
    // Seven records a fold against seventy-four: the curve rises.
    let points = &ungrouped["learning_curve"]["points"];
    assert!(points[4]["score"].as_f64().unwrap() > points[0]["score"].as_f64().unwrap() + 0.1);
}

#[test]
fn the_curve_is_printed_after_the_report_and_shares_are_checked_first() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m.stance");
    let data = framing();
    let train = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--data",
            &data,
            "--label-field",
            "stance",
            "--model",
            s(&model),
        ];
        args.extend(common::FAST);
        args.extend(extra);
        run(&args)
    };
    let text = train(&["--valid-split", "0.3", "--learning-curve", "0.5,1"])
        .success()
        .stdout;
    for expected in [
        "learning curve (macro-f1 at C = ",
        "on the held-out 30% split of the training data (seed 42)",
        "  share   records  macro-f1\n    50%",
        "the last step (50% → 100% of the data) changed macro-f1 by",
        "(one held-out set: no spread over folds to judge the change by)",
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} missing from:\n{text}"
        );
    }
    std::fs::remove_file(&model).unwrap();
    train(&["--cv", "5", "--learning-curve", "0,1"])
        .is_refused_usage(&["learning-curve shares must be numbers above 0 and at most 1"]);
    assert!(!model.exists(), "nothing is trained for a bad share");
    let usage = train(&["--learning-curve"]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
}
