//! Metrics checked against hand-made confusion matrices.

use stance::metrics::{Metric, Report};

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Expand a confusion matrix (rows true, columns predicted) into label lists.
fn from_confusion(names: &[&str], confusion: &[&[usize]]) -> (Vec<String>, Vec<usize>) {
    let mut truth = Vec::new();
    let mut predicted = Vec::new();
    for (t, row) in confusion.iter().enumerate() {
        for (p, &count) in row.iter().enumerate() {
            for _ in 0..count {
                truth.push(names[t].to_string());
                predicted.push(p);
            }
        }
    }
    (truth, predicted)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn three_class_report_matches_hand_computation() {
    let names = ["against", "favor", "none"];
    //             predicted: against favor none
    let confusion: [&[usize]; 3] = [&[5, 1, 0], &[2, 3, 1], &[0, 0, 4]];
    let (truth, predicted) = from_confusion(&names, &confusion);
    let metric: Metric = "f1:against,favor".parse().unwrap();
    let report = Report::new(&labels(&names), &truth, &predicted, None, Some(&metric));

    assert_eq!(report.n, 16);
    assert!(close(report.accuracy, 12.0 / 16.0));
    assert_eq!(
        report.confusion,
        vec![vec![5, 1, 0], vec![2, 3, 1], vec![0, 0, 4]]
    );
    // against: P = 5/7, R = 5/6, F1 = 2·(5/7)(5/6)/((5/7)+(5/6)) = 10/13
    let against = report.class("against").unwrap();
    assert!(close(against.precision, 5.0 / 7.0) && close(against.recall, 5.0 / 6.0));
    assert!(close(against.f1, 10.0 / 13.0));
    // favor: P = 3/4, R = 3/6, F1 = 0.6
    let favor = report.class("favor").unwrap();
    assert!(close(favor.precision, 0.75) && close(favor.recall, 0.5) && close(favor.f1, 0.6));
    // none: P = 4/5, R = 1, F1 = 8/9
    let none = report.class("none").unwrap();
    assert!(close(none.f1, 8.0 / 9.0) && none.support == 4);

    assert!(close(
        report.macro_avg.f1,
        (10.0 / 13.0 + 0.6 + 8.0 / 9.0) / 3.0
    ));
    assert!(close(
        report.macro_avg.recall,
        (5.0 / 6.0 + 0.5 + 1.0) / 3.0
    ));
    assert!(close(
        report.weighted_avg.f1,
        (6.0 * 10.0 / 13.0 + 6.0 * 0.6 + 4.0 * 8.0 / 9.0) / 16.0
    ));
    let chosen = report.metric.as_ref().unwrap();
    assert_eq!(chosen.name, "f1:against,favor");
    assert!(close(chosen.value, (10.0 / 13.0 + 0.6) / 2.0));
    for (m, expected) in [
        ("accuracy", 0.75),
        ("macro-f1", report.macro_avg.f1),
        ("weighted-f1", report.weighted_avg.f1),
        ("macro-recall", report.macro_avg.recall),
    ] {
        assert!(
            close(m.parse::<Metric>().unwrap().value(&report), expected),
            "{m}"
        );
    }
}

#[test]
fn a_class_never_predicted_has_zero_precision_not_nan() {
    let names = ["a", "b"];
    let confusion: [&[usize]; 2] = [&[3, 0], &[2, 0]];
    let (truth, predicted) = from_confusion(&names, &confusion);
    let report = Report::new(&labels(&names), &truth, &predicted, None, None);
    let b = report.class("b").unwrap();
    assert_eq!((b.precision, b.recall, b.f1), (0.0, 0.0, 0.0));
    assert!(report.macro_avg.f1.is_finite());
}

#[test]
fn log_loss_and_unseen_labels() {
    let names = labels(&["a", "b"]);
    let truth = labels(&["a", "b", "zzz"]);
    let predicted = [0, 0, 1];
    let probs = vec![vec![0.8, 0.2], vec![0.6, 0.4], vec![0.1, 0.9]];
    let report = Report::new(&names, &truth, &predicted, Some(&probs), None);
    // Log-loss over the two known labels only: −(ln 0.8 + ln 0.4) / 2.
    assert!(close(
        report.log_loss.unwrap(),
        -(0.8f64.ln() + 0.4f64.ln()) / 2.0
    ));
    assert_eq!(report.unseen_labels, vec![("zzz".to_string(), 1)]);
    assert_eq!(report.classes.len(), 3);
    assert!(close(report.accuracy, 1.0 / 3.0));
    assert!(report
        .to_string()
        .contains("label `zzz`, which the model never saw"));
}

#[test]
fn metric_names_parse_and_print() {
    for name in [
        "accuracy",
        "macro-f1",
        "weighted-f1",
        "macro-recall",
        "f1:against,favor",
    ] {
        assert_eq!(name.parse::<Metric>().unwrap().to_string(), name);
    }
    assert!("f1:".parse::<Metric>().is_err());
    assert!("auc"
        .parse::<Metric>()
        .unwrap_err()
        .to_string()
        .contains("unknown metric"));
}

#[test]
fn macro_averages_leave_out_labels_with_no_record_and_no_prediction() {
    let names = ["a", "b", "c", "d"];
    // `c` has no record and is never predicted: undefined, left out. `d` has no record but
    // is predicted once: F1 0, counted (as scikit-learn's default labels).
    let confusion: [&[usize]; 4] = [&[3, 0, 0, 1], &[1, 2, 0, 0], &[0, 0, 0, 0], &[0, 0, 0, 0]];
    let (truth, predicted) = from_confusion(&names, &confusion);
    let report = Report::new(&labels(&names), &truth, &predicted, None, None);
    assert_eq!(report.unscored_labels(), vec!["c"]);
    let f1 = |c: usize| report.classes[c].f1;
    assert!(close(f1(0), 2.0 * 0.75 * 0.75 / 1.5));
    assert!(close(f1(1), 2.0 * (2.0 / 3.0) / (1.0 + 2.0 / 3.0)));
    assert!(close(report.macro_avg.f1, (f1(0) + f1(1) + 0.0) / 3.0));
    assert!(close(
        report.macro_avg.recall,
        (0.75 + 2.0 / 3.0 + 0.0) / 3.0
    ));
    assert!(report.to_string().contains(
        "note: `c` has no record here and never predicted, so the macro averages leave it out"
    ));

    // All right on one record of a three-label model: the averages are those of its label.
    let one = Report::new(&labels(&names[..3]), &["b".to_string()], &[1], None, None);
    assert_eq!(one.macro_avg.f1, 1.0);
    assert_eq!(one.unscored_labels(), vec!["a", "c"]);
    assert!(one
        .to_string()
        .contains("2 labels have (a, c) no record here"));
    // A label the metric names is scored even so: its F1 is 0.
    let metric: Metric = "f1:a,b".parse().unwrap();
    assert!(close(metric.value(&one), 0.5));
}

#[test]
fn a_label_named_twice_in_f1_is_refused() {
    let err = "f1:a, b,a".parse::<Metric>().unwrap_err().to_string();
    assert!(err.contains("names label `a` twice"), "{err}");
}
