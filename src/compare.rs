//! Comparing models on the same labelled records: is one really better than another, or
//! did the test set's luck of the draw decide?
//!
//! Each model after the first is compared with the first (the baseline) on the very same
//! records, so the comparison is *paired*: the records are resampled with replacement as in
//! [`crate::bootstrap`], and on every resample both models' figures are recomputed from the
//! same draws, giving the percentile interval of the difference (model − baseline) of the
//! chosen metric, macro-F1 and accuracy. Pairing removes what the two models share — which
//! records are easy, which hard — so the interval of a difference is much narrower than the
//! two models' own intervals would suggest. Beside it, McNemar's exact test looks at the
//! records exactly one of the two gets right: if neither model were better, each such
//! record would be equally likely to favour either, and the two-sided binomial p-value says
//! how surprising the split is.

use serde::Serialize;

use crate::bootstrap::{
    describe_resampling, percentile_interval, report_on_draws, truth_indices, Interval, Units,
};
use crate::classifier::Classifier;
use crate::corpus::LabelledCorpus;
use crate::logistic::argmax;
use crate::metrics::{Metric, Report};
use crate::train::SplitMix64;

/// One model's predictions on the compared records.
#[derive(Debug, Clone)]
pub struct Predictions {
    /// The model's name in reports (its file name, say).
    pub name: String,
    /// Its evaluation on the records ([`Report::new`]): its classes are the model's labels,
    /// then true labels it never saw.
    pub report: Report,
    /// Each record's true label, as an index into `report.classes`.
    pub truth: Vec<usize>,
    /// Each record's predicted label, as an index into `report.classes`.
    pub predicted: Vec<usize>,
}

impl Predictions {
    /// `classifier`'s predictions on `data`, evaluated by `metric`, under `name`.
    pub fn of(
        name: impl Into<String>,
        classifier: &Classifier,
        data: &LabelledCorpus,
        metric: &Metric,
    ) -> Predictions {
        let probs = classifier.predict_proba(&data.texts);
        let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
        let report = Report::new(
            &classifier.labels,
            &data.labels,
            &predicted,
            Some(&probs),
            Some(metric),
        );
        Predictions {
            name: name.into(),
            truth: truth_indices(&report, &data.labels),
            report,
            predicted,
        }
    }
}

/// One model's figures on the compared records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub name: String,
    /// The chosen metric.
    pub metric: f64,
    pub macro_f1: f64,
    pub accuracy: f64,
}

/// One model against the baseline, on the same records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Difference {
    pub model: String,
    pub baseline: String,
    /// model − baseline, of the chosen metric, with its paired bootstrap interval (the
    /// interval is `NaN` without resamples).
    pub metric: Interval,
    pub macro_f1: Interval,
    pub accuracy: Interval,
    /// Records the baseline gets right and the model wrong.
    pub only_baseline_right: usize,
    /// Records the model gets right and the baseline wrong.
    pub only_model_right: usize,
    /// McNemar's exact test: the two-sided binomial p-value of that split.
    pub mcnemar_p: f64,
}

/// Every model's figures, and every model after the first against the first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Number of records compared on.
    pub records: usize,
    /// The chosen metric's name.
    pub metric: String,
    pub resamples: usize,
    pub seed: u64,
    /// Confidence level of the intervals, e.g. 0.95.
    pub level: f64,
    /// The number of groups the paired bootstrap resampled whole
    /// ([`crate::bootstrap::Units::Groups`]); `None` when it resampled records one by one.
    pub groups: Option<usize>,
    pub models: Vec<Figures>,
    pub differences: Vec<Difference>,
}

/// Compare `models` (at least one; all on the same records, in the same order) by
/// `metric`, with `resamples` paired bootstrap resamples of `units` drawn from
/// [`SplitMix64`] seeded with `seed`, at confidence `level`.
pub fn compare(
    models: &[Predictions],
    metric: &Metric,
    units: &Units,
    resamples: usize,
    seed: u64,
    level: f64,
) -> Comparison {
    assert!(!models.is_empty(), "at least one model to compare");
    let n = models[0].truth.len();
    assert!(
        models
            .iter()
            .all(|m| m.truth.len() == n && m.predicted.len() == n),
        "every model is compared on the same records"
    );
    let figures: Vec<Figures> = models
        .iter()
        .map(|m| Figures {
            name: m.name.clone(),
            metric: metric.value(&m.report),
            macro_f1: m.report.macro_avg.f1,
            accuracy: m.report.accuracy,
        })
        .collect();
    // Per resample, each model's (metric, macro-F1, accuracy) on the same draws.
    let mut resampled: Vec<Vec<[f64; 3]>> = vec![Vec::with_capacity(resamples); models.len()];
    if n > 0 {
        let mut rng = SplitMix64::new(seed);
        let mut draws = Vec::with_capacity(n);
        for _ in 0..resamples {
            draws.clear();
            units.resample(&mut rng, |i| draws.push(i));
            for (m, out) in models.iter().zip(&mut resampled) {
                let r = report_on_draws(&m.report, &m.truth, &m.predicted, &draws);
                out.push([metric.value(&r), r.macro_avg.f1, r.accuracy]);
            }
        }
    }
    let baseline = &models[0];
    let differences = models
        .iter()
        .enumerate()
        .skip(1)
        .map(|(i, model)| {
            let interval = |which: usize, estimate: f64| {
                let mut values: Vec<f64> = resampled[i]
                    .iter()
                    .zip(&resampled[0])
                    .map(|(a, b)| a[which] - b[which])
                    .collect();
                let (lower, upper) = if values.is_empty() {
                    (f64::NAN, f64::NAN)
                } else {
                    percentile_interval(&mut values, level)
                };
                Interval {
                    estimate,
                    lower,
                    upper,
                }
            };
            // Each model indexes its own classes, but whether it is right does not depend
            // on the numbering.
            let right = |m: &Predictions, r: usize| m.predicted[r] == m.truth[r];
            let only_baseline_right = (0..n)
                .filter(|&r| right(baseline, r) && !right(model, r))
                .count();
            let only_model_right = (0..n)
                .filter(|&r| right(model, r) && !right(baseline, r))
                .count();
            Difference {
                model: model.name.clone(),
                baseline: baseline.name.clone(),
                metric: interval(0, figures[i].metric - figures[0].metric),
                macro_f1: interval(1, figures[i].macro_f1 - figures[0].macro_f1),
                accuracy: interval(2, figures[i].accuracy - figures[0].accuracy),
                only_baseline_right,
                only_model_right,
                mcnemar_p: mcnemar_exact(only_baseline_right, only_model_right),
            }
        })
        .collect();
    Comparison {
        records: n,
        metric: metric.to_string(),
        resamples,
        seed,
        level,
        groups: units.groups(),
        models: figures,
        differences,
    }
}

/// One measure a comparison reports: its name, and how to read it from a model's figures
/// and from a difference.
#[derive(Clone, Copy)]
pub struct Measure<'c> {
    pub name: &'c str,
    pub figure: fn(&Figures) -> f64,
    pub difference: fn(&Difference) -> &Interval,
}

impl Comparison {
    /// The measures reports show, in order: the chosen metric, unless it is macro-F1 or
    /// accuracy, then macro-F1 and accuracy.
    pub fn measures(&self) -> Vec<Measure<'_>> {
        let mut measures = Vec::with_capacity(3);
        if self.metric != "macro-f1" && self.metric != "accuracy" {
            measures.push(Measure {
                name: &self.metric,
                figure: |f| f.metric,
                difference: |d| &d.metric,
            });
        }
        measures.push(Measure {
            name: "macro-f1",
            figure: |f| f.macro_f1,
            difference: |d| &d.macro_f1,
        });
        measures.push(Measure {
            name: "accuracy",
            figure: |f| f.accuracy,
            difference: |d| &d.accuracy,
        });
        measures
    }

    /// The comparison as `stance compare --json` prints it (and `comparison.json` holds it):
    /// its fields, the records compared on (`data`) and the `notes` on them.
    pub fn to_json(&self, data: &str, notes: &[String]) -> serde_json::Value {
        let mut value = serde_json::to_value(self).expect("a comparison serialises");
        value["data"] = serde_json::json!(data);
        value["notes"] = serde_json::json!(notes);
        value
    }

    /// How the intervals of the differences were drawn, for reports.
    pub fn resampling_note(&self) -> String {
        if self.resamples > 0 {
            format!(
                "{:.0}% intervals from a paired bootstrap: {}",
                self.level * 100.0,
                describe_resampling(self.resamples, self.records, self.groups, self.seed)
            )
        } else {
            "no bootstrap".to_string()
        }
    }
}

/// The comparison as text for a terminal: a table of every model's figures, then each
/// model against the baseline. `data` names the records compared on.
pub fn render(c: &Comparison, data: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let measures = c.measures();
    let width = c
        .models
        .iter()
        .map(|m| m.name.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let metric_width = c.metric.len().max(8);
    let _ = writeln!(
        out,
        "{} models on {data} ({} records), compared by {}\n",
        c.models.len(),
        c.records,
        c.metric
    );
    // Each measure's column is as wide as its name, and at least 8.
    let mut header = format!("{:<width$}", "model");
    for measure in &measures {
        let _ = write!(
            header,
            "  {:>w$}",
            measure.name,
            w = measure.name.len().max(8)
        );
    }
    let _ = writeln!(out, "{header}");
    for m in &c.models {
        let mut row = format!("{:<width$}", m.name);
        for measure in &measures {
            let w = measure.name.len().max(8);
            let _ = write!(row, "  {:>w$.4}", (measure.figure)(m));
        }
        let _ = writeln!(out, "{row}");
    }
    let Some(first) = c.differences.first() else {
        return out;
    };
    let _ = writeln!(
        out,
        "\nagainst the baseline {} (model − baseline; {}):",
        first.baseline,
        c.resampling_note()
    );
    for d in &c.differences {
        let _ = writeln!(out, "{}", d.model);
        for measure in &measures {
            let (name, interval) = (measure.name, (measure.difference)(d));
            let mut line = format!("  {name:<metric_width$}  {:+.4}", interval.estimate);
            if c.resamples > 0 {
                let _ = write!(line, "  [{:+.4}, {:+.4}]", interval.lower, interval.upper);
            }
            let _ = writeln!(out, "{line}");
        }
        let _ = writeln!(
            out,
            "  McNemar's exact test: {} records right by {} alone, {} by {} alone: p = {}",
            d.only_baseline_right,
            d.baseline,
            d.only_model_right,
            d.model,
            format_p(d.mcnemar_p)
        );
    }
    if c.groups.is_some() {
        let _ = writeln!(
            out,
            "\nMcNemar's test counts records as independent, which records of one group are not: with groups, judge by the intervals, which resample whole groups."
        );
    }
    out
}

/// A p-value to four decimals, or in scientific notation when below 0.0001.
pub fn format_p(p: f64) -> String {
    if p >= 1e-4 {
        format!("{p:.4}")
    } else {
        format!("{p:.2e}")
    }
}

/// McNemar's exact test: the two-sided p-value of `b` records against `c` under a fair
/// coin over the `b + c` discordant records, `min(1, 2 · P(X ≤ min(b, c)))` with
/// `X ~ Binomial(b + c, ½)`; 1 when there are none. Summed in log space, so it holds for
/// any number of records.
pub fn mcnemar_exact(b: usize, c: usize) -> f64 {
    let n = b + c;
    if n == 0 {
        return 1.0;
    }
    let m = b.min(c);
    // ln P(X = k), from k = 0 up: ln C(n, k) − n ln 2.
    let mut log_pmf = -(n as f64) * std::f64::consts::LN_2;
    let mut terms = Vec::with_capacity(m + 1);
    for k in 0..=m {
        terms.push(log_pmf);
        log_pmf += ((n - k) as f64).ln() - ((k + 1) as f64).ln();
    }
    let top = terms.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let tail = top.exp() * terms.iter().map(|t| (t - top).exp()).sum::<f64>();
    (2.0 * tail).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bootstrap::bootstrap;

    /// Predictions of a two-label model named `name`: record `i` is right when `right(i)`.
    fn model(name: &str, n: usize, right: impl Fn(usize) -> bool) -> Predictions {
        let labels = vec!["no".to_string(), "yes".to_string()];
        let truth: Vec<String> = (0..n).map(|i| labels[i % 2].clone()).collect();
        let predicted: Vec<usize> = (0..n)
            .map(|i| if right(i) { i % 2 } else { 1 - i % 2 })
            .collect();
        let report = Report::new(&labels, &truth, &predicted, None, None);
        Predictions {
            name: name.into(),
            truth: truth_indices(&report, &truth),
            report,
            predicted,
        }
    }

    #[test]
    fn a_model_against_itself_differs_by_nothing() {
        let a = model("a", 101, |i| i % 3 != 0);
        let c = compare(
            &[a.clone(), a],
            &Metric::MacroF1,
            &Units::Examples(101),
            200,
            7,
            0.95,
        );
        let d = &c.differences[0];
        for interval in [&d.metric, &d.macro_f1, &d.accuracy] {
            assert_eq!(
                (interval.estimate, interval.lower, interval.upper),
                (0.0, 0.0, 0.0)
            );
        }
        assert_eq!((d.only_baseline_right, d.only_model_right), (0, 0));
        assert_eq!(d.mcnemar_p, 1.0);
        assert_eq!(c.models[0], c.models[1]);
    }

    #[test]
    fn a_better_model_is_told_apart_and_the_draws_are_the_bootstraps() {
        let n = 200;
        // The baseline gets every record wrong, so on every resample the difference in
        // accuracy is the model's own accuracy: its interval is the model's bootstrap one.
        let baseline = model("base", n, |_| false);
        let better = model("better", n, |i| i % 10 < 7);
        let c = compare(
            &[baseline, better.clone()],
            &Metric::Accuracy,
            &Units::Examples(n),
            500,
            42,
            0.95,
        );
        let d = &c.differences[0];
        assert_eq!((d.only_baseline_right, d.only_model_right), (0, 140));
        assert!(d.mcnemar_p < 1e-40, "{}", d.mcnemar_p);
        let own = bootstrap(
            &better.report,
            &better.truth,
            &better.predicted,
            None,
            &Units::Examples(n),
            500,
            42,
            0.95,
        )
        .unwrap();
        assert!((d.accuracy.estimate - 0.7).abs() < 1e-12);
        assert_eq!(
            (d.accuracy.lower, d.accuracy.upper),
            (own.accuracy.lower, own.accuracy.upper)
        );
        assert_eq!(d.metric, d.accuracy);
        assert!(d.accuracy.lower > 0.0);
        // No resamples: the differences without intervals.
        let bare = compare(
            &[model("a", n, |_| false), better],
            &Metric::Accuracy,
            &Units::Examples(n),
            0,
            42,
            0.95,
        );
        assert!(bare.differences[0].accuracy.lower.is_nan());
        assert_eq!(bare.differences[0].accuracy.estimate, d.accuracy.estimate);
    }

    #[test]
    fn mcnemar_matches_the_binomial_tail() {
        // scipy.stats.binomtest(k, n, 0.5).pvalue
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        assert_eq!(mcnemar_exact(5, 5), 1.0);
        assert!((mcnemar_exact(2, 10) - 0.038574).abs() < 1e-6);
        assert!((mcnemar_exact(10, 2) - 0.038574).abs() < 1e-6);
        assert!((mcnemar_exact(0, 6) - 0.03125).abs() < 1e-12);
        assert!((mcnemar_exact(12, 28) - 0.016589003).abs() < 1e-9);
        // 9,000 discordant records: each term is far below 2^-1074, the sum is not.
        let p = mcnemar_exact(4000, 5000);
        assert!((p / 5.581401567013917e-26 - 1.0).abs() < 1e-9, "{p}");
    }
}
