//! Bootstrap intervals against a known answer, and the calibration figures against
//! hand-computed ones.

use stance::bootstrap::{bootstrap, truth_indices, Units};
use stance::metrics::{Calibration, Metric, Report};
use stance::train::SplitMix64;

/// A uniform number in [0, 1).
fn uniform(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Simulate 200 data sets of 300 examples, each prediction right with probability 0.7
/// independently; the 95% percentile interval of accuracy must contain the true 0.7 in
/// about 95% of them.
#[test]
fn accuracy_intervals_cover_the_true_value_about_95_percent_of_the_time() {
    let labels: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
    let (datasets, n, p) = (200, 300, 0.7);
    let mut rng = SplitMix64::new(2024);
    let mut covered = 0;
    let mut widths = Vec::new();
    for d in 0..datasets {
        let truth_idx: Vec<usize> = (0..n).map(|_| (rng.next_u64() % 3) as usize).collect();
        let predicted: Vec<usize> = truth_idx
            .iter()
            .map(|&t| {
                if uniform(&mut rng) < p {
                    t
                } else {
                    (t + 1 + (rng.next_u64() % 2) as usize) % 3
                }
            })
            .collect();
        let truth: Vec<String> = truth_idx.iter().map(|&t| labels[t].clone()).collect();
        let report = Report::new(&labels, &truth, &predicted, None, Some(&Metric::Accuracy));
        assert_eq!(truth_indices(&report, &truth), truth_idx);
        let b = bootstrap(
            &report,
            &truth_idx,
            &predicted,
            Some(&Metric::Accuracy),
            &Units::Examples(n),
            1000,
            d as u64,
            0.95,
        )
        .expect("intervals");
        assert_eq!(b.accuracy.estimate, report.accuracy);
        assert_eq!(b.metric.as_ref().unwrap().interval, b.accuracy);
        assert!(b.accuracy.lower <= report.accuracy && report.accuracy <= b.accuracy.upper);
        assert!(b.macro_f1.lower <= b.macro_f1.upper);
        if b.accuracy.lower <= p && p <= b.accuracy.upper {
            covered += 1;
        }
        widths.push(b.accuracy.upper - b.accuracy.lower);
    }
    let coverage = covered as f64 / datasets as f64;
    eprintln!("coverage of the true accuracy: {covered}/{datasets} = {coverage}");
    assert!(
        (0.90..=0.99).contains(&coverage),
        "coverage {coverage} outside [0.90, 0.99]"
    );
    // The width is about 2 × 1.96 × sqrt(0.7 · 0.3 / 300) ≈ 0.104.
    let mean_width = widths.iter().sum::<f64>() / widths.len() as f64;
    assert!((0.09..0.12).contains(&mean_width), "{mean_width}");
}

/// Simulate 200 data sets of 30 groups of 10 examples, where a group is either easy (every
/// prediction right with probability 0.95) or hard (0.45), half and half in expectation,
/// so the true accuracy is 0.7 but examples of one group are right or wrong together.
/// Resampling whole groups covers the true 0.7 about 95% of the time; resampling examples
/// one by one, blind to the groups, gives intervals too narrow to (about two thirds).
#[test]
fn resampling_whole_groups_covers_the_true_value_when_examples_are_not_independent() {
    let labels: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
    let (datasets, n_groups, size) = (200, 30, 10);
    let n = n_groups * size;
    let groups: Vec<String> = (0..n).map(|i| format!("g{}", i / size)).collect();
    let by_group = Units::new(n, &groups);
    assert_eq!(by_group.groups(), Some(n_groups));
    let mut rng = SplitMix64::new(77);
    let (mut covered_by_group, mut covered_by_example) = (0, 0);
    for d in 0..datasets {
        let mut truth_idx = Vec::with_capacity(n);
        let mut predicted = Vec::with_capacity(n);
        for _ in 0..n_groups {
            let p = if uniform(&mut rng) < 0.5 { 0.95 } else { 0.45 };
            for _ in 0..size {
                let t = (rng.next_u64() % 2) as usize;
                truth_idx.push(t);
                predicted.push(if uniform(&mut rng) < p { t } else { 1 - t });
            }
        }
        let truth: Vec<String> = truth_idx.iter().map(|&t| labels[t].clone()).collect();
        let report = Report::new(&labels, &truth, &predicted, None, None);
        let interval = |units: &Units| {
            let b = bootstrap(&report, &truth_idx, &predicted, None, units, 500, d, 0.95)
                .expect("intervals");
            (b.accuracy.lower, b.accuracy.upper, b.groups)
        };
        let (lower, upper, groups) = interval(&by_group);
        assert_eq!(groups, Some(n_groups));
        covered_by_group += usize::from(lower <= 0.7 && 0.7 <= upper);
        let (lower, upper, groups) = interval(&Units::Examples(n));
        assert_eq!(groups, None);
        covered_by_example += usize::from(lower <= 0.7 && 0.7 <= upper);
    }
    let share = |covered: usize| covered as f64 / datasets as f64;
    eprintln!(
        "coverage of the true accuracy: by group {}, by example {}",
        share(covered_by_group),
        share(covered_by_example)
    );
    assert!(
        (0.88..=0.99).contains(&share(covered_by_group)),
        "by group {}",
        share(covered_by_group)
    );
    assert!(
        share(covered_by_example) < 0.85,
        "by example {}",
        share(covered_by_example)
    );
}

#[test]
fn the_same_seed_gives_the_same_intervals_and_zero_resamples_none() {
    let labels: Vec<String> = vec!["x".into(), "y".into()];
    let truth: Vec<String> = ["x", "y", "y", "x", "x", "y"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let predicted = [0, 1, 0, 0, 1, 1];
    let report = Report::new(&labels, &truth, &predicted, None, Some(&Metric::MacroF1));
    let t = truth_indices(&report, &truth);
    let run = |seed| {
        bootstrap(
            &report,
            &t,
            &predicted,
            Some(&Metric::MacroF1),
            &Units::Examples(6),
            300,
            seed,
            0.95,
        )
    };
    assert_eq!(run(1), run(1));
    assert_ne!(run(1), run(2));
    assert!(bootstrap(
        &report,
        &t,
        &predicted,
        None,
        &Units::Examples(6),
        0,
        1,
        0.95
    )
    .is_none());
    assert!(run(1).unwrap().metric.is_some());
}

#[test]
fn calibration_bins_and_ece_by_hand() {
    // Two examples at 0.95 (one right), two at 0.55 (both right), one at exactly 1.0 (right).
    let confidence = [0.95, 0.95, 0.55, 0.55, 1.0];
    let correct = [true, false, true, true, true];
    let c = Calibration::new(&confidence, &correct, 10);
    assert_eq!(c.bins.len(), 10);
    assert_eq!(c.bins[5].count, 2);
    assert_eq!(c.bins[5].accuracy, Some(1.0));
    assert_eq!(c.bins[9].count, 3, "1.0 falls in the last bin");
    assert_eq!(c.bins[0].accuracy, None);
    // |1 − 0.55|·2/5 + |2/3 − 0.9667|·3/5
    let expected =
        0.45 * 2.0 / 5.0 + ((2.0 / 3.0) - (0.95 + 0.95 + 1.0) / 3.0f64).abs() * 3.0 / 5.0;
    assert!((c.ece - expected).abs() < 1e-12, "{} vs {expected}", c.ece);
    // From probability vectors: the top class is the prediction; an unseen label is wrong.
    let probs = vec![vec![0.2, 0.8], vec![0.7, 0.3], vec![0.4, 0.6]];
    let c = Calibration::from_probs(&probs, &[1, 1, 2], 10);
    assert_eq!(c.bins[8].count, 1);
    assert_eq!(c.bins[8].accuracy, Some(1.0));
    assert_eq!(c.bins[7].accuracy, Some(0.0));
    assert_eq!(c.bins[6].accuracy, Some(0.0));
    let perfect = Calibration::new(&[1.0, 1.0], &[true, true], 10);
    assert_eq!(perfect.ece, 0.0);
}

#[test]
fn perfect_predictions_on_a_small_set_resample_to_perfect_scores() {
    // One record of each of ten labels, all predicted right: a resample that leaves a label
    // out has no record of it and no prediction of it, so the label is not scored, and
    // every resample's macro-F1 is 1, as the point estimate.
    let labels: Vec<String> = (0..10).map(|c| format!("c{c}")).collect();
    let predicted: Vec<usize> = (0..10).collect();
    let report = Report::new(&labels, &labels, &predicted, None, Some(&Metric::MacroF1));
    assert_eq!(report.macro_avg.f1, 1.0);
    let t = truth_indices(&report, &labels);
    let b = bootstrap(
        &report,
        &t,
        &predicted,
        Some(&Metric::MacroF1),
        &Units::Examples(10),
        200,
        1,
        0.95,
    )
    .unwrap();
    assert_eq!((b.macro_f1.lower, b.macro_f1.upper), (1.0, 1.0));
}
