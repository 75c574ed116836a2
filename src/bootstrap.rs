//! Bootstrap confidence intervals for evaluation figures.
//!
//! The evaluated examples are resampled with replacement — `n` draws from `n` examples,
//! `resamples` times — and each figure (accuracy, macro-F1, the chosen metric) is recomputed
//! on every resample from its confusion matrix. The interval is the percentile interval: the
//! 2.5th and 97.5th percentiles of the resampled values for 95 % (linear interpolation
//! between order statistics, numpy's default). The draws come from
//! [`SplitMix64`] seeded with the given seed, each index taken as
//! the high 64 bits of `next_u64() × n` (Lemire's multiply-shift, bias below `n / 2⁶⁴`), so
//! the same seed gives the same intervals on every platform.
//!
//! The examples are treated as independent draws from the population of interest; the
//! interval describes the sampling variability of the evaluation set, not the variability
//! of training (a model search that chose among candidates on the same data is slightly
//! optimistic, and the interval does not correct for that).

use serde::{Deserialize, Serialize};

use crate::metrics::{Metric, Report};
use crate::train::SplitMix64;

/// The default number of resamples when a report is written.
pub const DEFAULT_RESAMPLES: usize = 1000;

/// The default confidence level.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// A figure with its percentile interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// The figure on the evaluated examples themselves.
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

/// A named figure (the chosen metric) with its interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedInterval {
    pub name: String,
    #[serde(flatten)]
    pub interval: Interval,
}

/// Bootstrap intervals of a report's main figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapIntervals {
    /// Number of resamples.
    pub resamples: usize,
    /// Seed of the SplitMix64 generator.
    pub seed: u64,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    pub accuracy: Interval,
    pub macro_f1: Interval,
    /// The chosen metric, when the report has one.
    pub metric: Option<NamedInterval>,
}

/// Bootstrap intervals for the figures of `report`, computed from the same predictions:
/// `truth[i]` and `predicted[i]` index `report.classes` (the model's labels, then labels the
/// model never saw). Returns `None` when `resamples` is 0 or there are no examples.
pub fn bootstrap(
    report: &Report,
    truth: &[usize],
    predicted: &[usize],
    metric: Option<&Metric>,
    resamples: usize,
    seed: u64,
    level: f64,
) -> Option<BootstrapIntervals> {
    assert_eq!(truth.len(), predicted.len());
    let n = truth.len();
    if resamples == 0 || n == 0 {
        return None;
    }
    let labels: Vec<String> = report.classes.iter().map(|c| c.label.clone()).collect();
    let k = labels.len();
    let mut rng = SplitMix64::new(seed);
    let mut accuracy = Vec::with_capacity(resamples);
    let mut macro_f1 = Vec::with_capacity(resamples);
    let mut chosen = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let mut confusion = vec![vec![0usize; k]; k];
        for _ in 0..n {
            let i = draw(&mut rng, n);
            confusion[truth[i]][predicted[i]] += 1;
        }
        let r = Report::from_confusion(labels.clone(), confusion, None, Vec::new(), None);
        accuracy.push(r.accuracy);
        macro_f1.push(r.macro_avg.f1);
        if let Some(m) = metric {
            chosen.push(m.value(&r));
        }
    }
    let interval = |estimate: f64, values: &mut Vec<f64>| {
        let (lower, upper) = percentile_interval(values, level);
        Interval {
            estimate,
            lower,
            upper,
        }
    };
    Some(BootstrapIntervals {
        resamples,
        seed,
        level,
        accuracy: interval(report.accuracy, &mut accuracy),
        macro_f1: interval(report.macro_avg.f1, &mut macro_f1),
        metric: metric.map(|m| NamedInterval {
            name: m.to_string(),
            interval: interval(m.value(report), &mut chosen),
        }),
    })
}

/// Indices of true labels into `report.classes`, for [`bootstrap`].
pub fn truth_indices(report: &Report, truth: &[String]) -> Vec<usize> {
    truth
        .iter()
        .map(|t| {
            report
                .classes
                .iter()
                .position(|c| &c.label == t)
                .expect("every true label is a class of the report")
        })
        .collect()
}

/// A uniform index in `0..n` (Lemire's multiply-shift, see the module documentation).
pub(crate) fn draw(rng: &mut SplitMix64, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// The central `level` percentile interval of `values` (sorted in place).
pub fn percentile_interval(values: &mut [f64], level: f64) -> (f64, f64) {
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    (quantile(values, tail), quantile(values, 1.0 - tail))
}

/// The `q` quantile of sorted values, interpolating linearly between order statistics.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let mut v: Vec<f64> = (0..=100).rev().map(f64::from).collect();
        let (lo, hi) = percentile_interval(&mut v, 0.95);
        assert!(
            (lo - 2.5).abs() < 1e-9 && (hi - 97.5).abs() < 1e-9,
            "{lo} {hi}"
        );
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&sorted, 0.5), 2.5);
        assert_eq!(quantile(&sorted, 0.0), 1.0);
        assert_eq!(quantile(&sorted, 1.0), 4.0);
    }

    #[test]
    fn draws_cover_the_range_uniformly() {
        let mut rng = SplitMix64::new(7);
        let mut counts = [0usize; 5];
        for _ in 0..50_000 {
            counts[draw(&mut rng, 5)] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
    }
}
