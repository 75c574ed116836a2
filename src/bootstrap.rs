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
//! optimistic, and the interval does not correct for that). Examples that come in groups
//! are not independent — the sentences of one article share its subject and its writer —
//! so with groups ([`Units::Groups`]) each resample draws whole groups instead, as many
//! as there are, and takes every example of each (a cluster bootstrap): the interval then
//! shows how much the figures move from one set of articles to another, which resampling
//! sentences understates.

use serde::{Deserialize, Serialize};

use crate::corpus::index_by_value;
use crate::metrics::{Metric, Report};
use crate::train::SplitMix64;

/// The default number of resamples when a report is written.
pub const DEFAULT_RESAMPLES: usize = 1000;

/// The default confidence level.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// What each resample draws with replacement: the examples one by one, or whole groups of
/// them (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub enum Units {
    /// This many examples, drawn one by one.
    Examples(usize),
    /// The examples of each group (indices), drawn a group at a time.
    Groups(Vec<Vec<usize>>),
}

impl Units {
    /// The units of the examples whose groups are `groups` (one per example, in order), or
    /// of `n` ungrouped examples when `groups` is empty.
    pub fn new(n: usize, groups: &[String]) -> Units {
        if groups.is_empty() {
            return Units::Examples(n);
        }
        assert_eq!(groups.len(), n, "one group per example");
        let (names, group_of) = index_by_value(groups);
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
        for (i, &g) in group_of.iter().enumerate() {
            members[g].push(i);
        }
        Units::Groups(members)
    }

    /// The number of groups, when the examples are drawn by group.
    pub fn groups(&self) -> Option<usize> {
        match self {
            Units::Examples(_) => None,
            Units::Groups(members) => Some(members.len()),
        }
    }

    /// Draw one resample, passing each drawn example's index to `take` (an example drawn
    /// twice, twice). Without groups, `n` draws of [`draw`] in turn, so the same seed gives
    /// the same resamples as before groups existed.
    pub(crate) fn resample(&self, rng: &mut SplitMix64, mut take: impl FnMut(usize)) {
        match self {
            Units::Examples(n) => {
                for _ in 0..*n {
                    take(draw(rng, *n));
                }
            }
            Units::Groups(members) => {
                for _ in 0..members.len() {
                    for &i in &members[draw(rng, members.len())] {
                        take(i);
                    }
                }
            }
        }
    }
}

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
    /// The number of groups resampled whole ([`Units::Groups`]); `None` when the examples
    /// were resampled one by one.
    pub groups: Option<usize>,
    pub accuracy: Interval,
    pub macro_f1: Interval,
    /// The chosen metric, when the report has one.
    pub metric: Option<NamedInterval>,
}

/// Bootstrap intervals for the figures of `report`, computed from the same predictions:
/// `truth[i]` and `predicted[i]` index `report.classes` (the model's labels, then labels the
/// model never saw); `units` says what a resample draws. Returns `None` when `resamples` is
/// 0 or there are no examples.
#[allow(clippy::too_many_arguments)]
pub fn bootstrap(
    report: &Report,
    truth: &[usize],
    predicted: &[usize],
    metric: Option<&Metric>,
    units: &Units,
    resamples: usize,
    seed: u64,
    level: f64,
) -> Option<BootstrapIntervals> {
    assert_eq!(truth.len(), predicted.len());
    let n = truth.len();
    if resamples == 0 || n == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut accuracy = Vec::with_capacity(resamples);
    let mut macro_f1 = Vec::with_capacity(resamples);
    let mut chosen = Vec::with_capacity(resamples);
    let mut draws = Vec::with_capacity(n);
    for _ in 0..resamples {
        draws.clear();
        units.resample(&mut rng, |i| draws.push(i));
        let r = report_on_draws(report, truth, predicted, &draws);
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
        groups: units.groups(),
        accuracy: interval(report.accuracy, &mut accuracy),
        macro_f1: interval(report.macro_avg.f1, &mut macro_f1),
        metric: metric.map(|m| NamedInterval {
            name: m.to_string(),
            interval: interval(m.value(report), &mut chosen),
        }),
    })
}

/// Below this many groups, a resample of whole groups can take few distinct values, and
/// its percentile interval is rough (too narrow, as a rule); reports say so.
pub const FEW_GROUPS: usize = 20;

/// What was resampled, for reports: `1000 resamples of the 92 records, seed 42`, or with
/// groups `1000 resamples of the 30 groups of the 300 records, seed 42`, warning when
/// there are fewer than [`FEW_GROUPS`].
pub fn describe_resampling(resamples: usize, n: usize, groups: Option<usize>, seed: u64) -> String {
    let what = match groups {
        None => format!("the {n} records"),
        Some(g) => format!("the {g} groups of the {n} records"),
    };
    let caveat = match groups {
        Some(g) if g < FEW_GROUPS => {
            format!("; with fewer than {FEW_GROUPS} groups the intervals are rough")
        }
        _ => String::new(),
    };
    format!("{resamples} resamples of {what}, seed {seed}{caveat}")
}

/// `report`'s figures recomputed on the examples `draws` picks (with repeats): the confusion
/// matrix of their `truth` and `predicted` (indices into `report.classes`), and what
/// follows from it.
pub(crate) fn report_on_draws(
    report: &Report,
    truth: &[usize],
    predicted: &[usize],
    draws: &[usize],
) -> Report {
    let k = report.classes.len();
    let mut confusion = vec![vec![0usize; k]; k];
    for &i in draws {
        confusion[truth[i]][predicted[i]] += 1;
    }
    let labels = report.classes.iter().map(|c| c.label.clone()).collect();
    Report::from_confusion(labels, confusion, None, Vec::new(), None)
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
    fn groups_are_drawn_whole() {
        let groups: Vec<String> = ["b", "a", "b", "c", "a", "b"]
            .iter()
            .map(|g| g.to_string())
            .collect();
        let units = Units::new(6, &groups);
        assert_eq!(
            units,
            Units::Groups(vec![vec![1, 4], vec![0, 2, 5], vec![3]])
        );
        assert_eq!(units.groups(), Some(3));
        let mut rng = SplitMix64::new(3);
        for _ in 0..100 {
            let mut drawn = Vec::new();
            units.resample(&mut rng, |i| drawn.push(i));
            // Three groups drawn, each with all its members in a row.
            let mut rest = drawn.as_slice();
            for _ in 0..3 {
                let group = match rest[0] {
                    1 | 4 => &[1, 4][..],
                    3 => &[3][..],
                    _ => &[0, 2, 5][..],
                };
                assert_eq!(&rest[..group.len()], group, "{drawn:?}");
                rest = &rest[group.len()..];
            }
            assert!(rest.is_empty(), "{drawn:?}");
        }
        // Without groups, n single draws, as before groups existed.
        let (mut a, mut b) = (SplitMix64::new(9), SplitMix64::new(9));
        let mut drawn = Vec::new();
        Units::new(4, &[]).resample(&mut a, |i| drawn.push(i));
        let expected: Vec<usize> = (0..4).map(|_| draw(&mut b, 4)).collect();
        assert_eq!(drawn, expected);
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
