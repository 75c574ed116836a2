//! The learning curve: how the held-out metric grows with the amount of training data, to
//! answer the question every labelling project meets after its first round — would
//! labelling more records help?
//!
//! The curve reuses model selection's held-out data exactly ([`crate::train::Validation`]):
//! the same folds (grouped when the records have groups), the same split, or the same
//! validation file. For each share of the training part — nested, so that 50 % holds the
//! records of 25 %, and stratified by label (by whole groups, in seeded random order, when
//! there are groups) — the vectoriser and a model at the chosen C are fitted as a final fit
//! is, and the held-out records predicted by plain argmax (no decision rule or temperature,
//! which would be fitted on those same records). Out-of-fold predictions are pooled per
//! share, as the selection pools them, so the last point, 100 %, is the chosen C's
//! held-out score before any decision rule (up to the warm starts of the search's path).
//!
//! Whether the curve still rises is judged by the last step's gain against its spread over
//! the folds: each fold scores both shares, so the gain has a paired standard error.

use std::borrow::Cow;
use std::fmt;

use rayon::prelude::*;
use serde::Serialize;

use crate::corpus::index_by_value;
use crate::corpus::LabelledCorpus;
use crate::error::{Error, Result};
use crate::metrics::Report;
use crate::train::{
    fit_and_predict, fold_parts, folds_of, grouping, pooled_by_split, shuffled_by_label, split_of,
    SplitMix64, TrainOptions, Validation, POOLED_SPLIT, SEARCH_CHAINS,
};

/// The shares of the training part the curve fits on by default.
pub const DEFAULT_FRACTIONS: [f64; 5] = [0.1, 0.25, 0.5, 0.75, 1.0];

/// One point of the curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurvePoint {
    /// The share of each training part fitted on.
    pub fraction: f64,
    /// Training records per fit, averaged over the folds.
    pub records: usize,
    /// The metric on the pooled held-out predictions; `None` when no fold could be fitted.
    pub score: Option<f64>,
    /// The metric of each fold's held-out records, in fold order (one value for a split or
    /// a file); `None` for a fold whose share held a single label, which no classifier can
    /// be fitted on, and whose records `score` then leaves out.
    pub fold_scores: Vec<Option<f64>>,
}

/// The learning curve of one training run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LearningCurve {
    /// The metric, as `--metric` names it.
    pub metric: String,
    /// The C every fit uses: the one model selection chose.
    pub c: f64,
    /// What the held-out records are, in words.
    pub scored_on: String,
    /// Whether the shares are of whole groups (else stratified by label).
    pub grouped: bool,
    pub points: Vec<CurvePoint>,
}

/// Check the shares a curve is asked for: each above 0 and at most 1. Returns them sorted,
/// without repeats.
pub fn check_fractions(fractions: &[f64]) -> Result<Vec<f64>> {
    if fractions.is_empty() || fractions.iter().any(|f| !(*f > 0.0 && *f <= 1.0)) {
        return Err(Error::InvalidOption(
            "learning-curve shares must be numbers above 0 and at most 1, such as 0.1,0.25,0.5,1"
                .into(),
        ));
    }
    let mut sorted = fractions.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.dedup();
    Ok(sorted)
}

/// The curve for training on `train` with held-out data as `validation` gives it, at C =
/// `c`, for the shares `fractions` ([`check_fractions`]). `options` are the training options
/// as given (a `min_df` of `auto` is resolved for each share's size, as training on that
/// many records would). `progress` hears of each fit.
pub fn learning_curve(
    train: &LabelledCorpus,
    validation: &Validation,
    options: &TrainOptions,
    c: f64,
    fractions: &[f64],
    progress: &mut dyn FnMut(String),
) -> Result<LearningCurve> {
    let fractions = check_fractions(fractions)?;
    let labels = train.label_set();
    let (all, parts, scored_on) = held_out(train, validation)?;
    let folds: Vec<Fold> = parts
        .iter()
        .enumerate()
        .map(|(fold, (part, held))| Fold::new(&all, part, held, options.seed ^ fold as u64))
        .collect();
    // Every (fold, share) pair is one fit.
    let jobs: Vec<(usize, usize)> = (0..parts.len())
        .flat_map(|fold| (0..fractions.len()).map(move |f| (fold, f)))
        .collect();
    let mut predictions: Vec<Option<Vec<usize>>> = vec![None; jobs.len()];
    let mut sizes = vec![0usize; jobs.len()];
    // Fits run side by side as the C search's chains do.
    for (chunk, chunk_jobs) in jobs.chunks(SEARCH_CHAINS).enumerate() {
        for &(fold, f) in chunk_jobs {
            progress(format!(
                "learning curve: {:.0}% of the training data{}",
                fractions[f] * 100.0,
                if parts.len() > 1 {
                    format!(", fold {} of {}", fold + 1, parts.len())
                } else {
                    String::new()
                }
            ));
        }
        let fitted: Vec<Result<(usize, Option<Vec<usize>>)>> = chunk_jobs
            .par_iter()
            .map(|&(fold, f)| {
                let share = folds[fold].share(fractions[f]);
                let part = all.subset(&share);
                if part.label_set().len() < 2 {
                    return Ok((share.len(), None));
                }
                let mut options = options.clone();
                let full = (fractions[f] * train.len() as f64).round() as usize;
                options.vectorizer.min_df = options.vectorizer.min_df.resolved(full);
                let held = &folds[fold].held;
                let predicted =
                    fit_and_predict(&part, held, &labels, c, &options, chunk_jobs.len())?;
                Ok((share.len(), Some(predicted)))
            })
            .collect();
        for (i, result) in fitted.into_iter().enumerate() {
            let at = chunk * SEARCH_CHAINS + i;
            let (size, predicted) = result?;
            sizes[at] = size;
            predictions[at] = predicted;
        }
    }

    let report = |truth: &[String], predicted: &[usize]| {
        let report = Report::new(&labels, truth, predicted, None, Some(&options.metric));
        options.metric.value(&report)
    };
    let points = fractions
        .iter()
        .enumerate()
        .map(|(f, &fraction)| {
            let (mut truth, mut predicted, mut fold_scores, mut records) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (at, &(fold, job_f)) in jobs.iter().enumerate() {
                if job_f != f {
                    continue;
                }
                let Some(fold_predicted) = &predictions[at] else {
                    fold_scores.push(None);
                    continue;
                };
                let fold_truth = &folds[fold].held.labels;
                fold_scores.push(Some(report(fold_truth, fold_predicted)));
                records.push(sizes[at]);
                truth.extend_from_slice(fold_truth);
                predicted.extend_from_slice(fold_predicted);
            }
            CurvePoint {
                fraction,
                records: (records.iter().sum::<usize>() as f64 / records.len().max(1) as f64)
                    .round() as usize,
                score: (!truth.is_empty()).then(|| report(&truth, &predicted)),
                fold_scores,
            }
        })
        .collect();
    Ok(LearningCurve {
        metric: options.metric.to_string(),
        c,
        scored_on,
        grouped: !all.groups.is_empty(),
        points,
    })
}

/// The records the curve is scored on: one corpus holding every record, the (training part,
/// held-out part) index pairs of its folds (one pair for a split or a file), and their
/// description.
type HeldOut<'a> = (
    Cow<'a, LabelledCorpus>,
    Vec<(Vec<usize>, Vec<usize>)>,
    String,
);

/// Model selection's held-out data for `validation`, as [`crate::train::train`] makes it.
fn held_out<'a>(train: &'a LabelledCorpus, validation: &Validation) -> Result<HeldOut<'a>> {
    let folds =
        |data: &LabelledCorpus, k: usize, seed: u64| fold_parts(&folds_of(data, k, seed), k);
    Ok(match validation {
        Validation::None => {
            return Err(Error::InvalidOption(
                "a learning curve needs held-out data: --valid FILE, --valid-split F or --cv K"
                    .into(),
            ))
        }
        Validation::CrossValidation { folds: k, seed } => (
            Cow::Borrowed(train),
            folds(train, *k, *seed),
            format!(
                "pooled out-of-fold predictions of {k}-fold cross-validation over {} records (seed {seed}{})",
                train.len(),
                grouping(train, "fold")
            ),
        ),
        Validation::Split { fraction, seed } => (
            Cow::Borrowed(train),
            vec![split_of(train, *fraction, *seed)],
            format!(
                "held-out {:.0}% split of the training data (seed {seed}{})",
                fraction * 100.0,
                grouping(train, "side")
            ),
        ),
        Validation::File { name, corpus } => {
            let all = train.concat(corpus);
            let parts = vec![((0..train.len()).collect(), (train.len()..all.len()).collect())];
            let what = format!("validation file {name} ({} records)", corpus.len());
            (Cow::Owned(all), parts, what)
        }
        Validation::Pooled {
            name,
            corpus,
            folds: k,
            seed,
        } => {
            let all = train.concat(corpus);
            let (parts, how, part) = if pooled_by_split(train, corpus) {
                (
                    vec![split_of(&all, POOLED_SPLIT, *seed)],
                    format!("held-out {:.0}% split", POOLED_SPLIT * 100.0),
                    "side",
                )
            } else {
                (
                    folds(&all, *k, *seed),
                    format!("pooled out-of-fold predictions of {k}-fold cross-validation"),
                    "fold",
                )
            };
            let what = format!(
                "{how} over the training data and validation file {name} together ({} records, seed {seed}{})",
                all.len(),
                grouping(&all, part)
            );
            (Cow::Owned(all), parts, what)
        }
    })
}

/// One fold of the curve: its held-out records, and the order its training part is taken
/// in, share by share.
struct Fold {
    held: LabelledCorpus,
    /// Without groups, each label's training records (indices into the corpus) in seeded
    /// random order; with groups, each group's training records, the groups in seeded
    /// random order.
    order: Vec<Vec<usize>>,
    grouped: bool,
    /// Training records in all.
    part_len: usize,
}

impl Fold {
    /// The fold of `data` that trains on `part` and holds out `held` (indices into `data`),
    /// its order shuffled with `seed`.
    fn new(data: &LabelledCorpus, part: &[usize], held: &[usize], seed: u64) -> Fold {
        let grouped = !data.groups.is_empty();
        let back = |idx: Vec<usize>| idx.into_iter().map(|j| part[j]).collect::<Vec<usize>>();
        let order = if grouped {
            let part_groups: Vec<String> = part.iter().map(|&i| data.groups[i].clone()).collect();
            let (names, group_of) = index_by_value(&part_groups);
            let mut members: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
            for (j, &g) in group_of.iter().enumerate() {
                members[g].push(part[j]);
            }
            SplitMix64::new(seed).shuffle(&mut members);
            members
        } else {
            let part_labels: Vec<String> = part.iter().map(|&i| data.labels[i].clone()).collect();
            shuffled_by_label(&part_labels, seed)
                .into_iter()
                .map(back)
                .collect()
        };
        Fold {
            held: data.subset(held),
            order,
            grouped,
            part_len: part.len(),
        }
    }

    /// A nested `fraction` of the training part, sorted: the first `fraction` of each
    /// label's records (at least one), or, with groups, whole groups in order as near
    /// `fraction` of the records as they come. Every larger share holds every smaller one.
    fn share(&self, fraction: f64) -> Vec<usize> {
        let mut chosen: Vec<usize> = if self.grouped {
            // A group is taken while its middle record falls within the share, so the share
            // ends as near its size as whole groups allow and grows with `fraction`; one at
            // least.
            let wanted = self.part_len as f64 * fraction;
            let mut chosen = Vec::new();
            for (taken, members) in self.order.iter().enumerate() {
                if taken > 0 && chosen.len() as f64 + members.len() as f64 / 2.0 > wanted {
                    break;
                }
                chosen.extend_from_slice(members);
            }
            chosen
        } else {
            self.order
                .iter()
                .flat_map(|of_label| {
                    let take = ((of_label.len() as f64 * fraction).round() as usize).max(1);
                    of_label[..take.min(of_label.len())].iter().copied()
                })
                .collect()
        };
        chosen.sort_unstable();
        chosen
    }
}

impl LearningCurve {
    /// The last step: the last point and the one before it with fewer training records
    /// (whole groups can make neighbouring shares the same records), with the gain between
    /// them and its paired standard error over the folds both scored (`None` with fewer
    /// than two folds). `None` when no earlier point has fewer records.
    pub fn last_step(&self) -> Option<(&CurvePoint, &CurvePoint, f64, Option<f64>)> {
        let last = self.points.last()?;
        let before = self
            .points
            .iter()
            .rev()
            .find(|p| p.records < last.records)?;
        let gain = last.score? - before.score?;
        // Folds scored at both points; every fold must be, for the pairs to stand for the
        // pooled gain.
        let paired: Option<Vec<f64>> = last
            .fold_scores
            .iter()
            .zip(&before.fold_scores)
            .map(|(a, b)| Some((*a)? - (*b)?))
            .collect();
        let se = paired.filter(|p| p.len() >= 2).map(|paired| {
            let n = paired.len() as f64;
            let mean = paired.iter().sum::<f64>() / n;
            let var = paired.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0);
            (var / n).sqrt()
        });
        Some((before, last, gain, se))
    }
}

impl fmt::Display for LearningCurve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "learning curve ({} at C = {}, plain argmax, on the {}; each fit on a nested share of its training part, {}):",
            self.metric,
            self.c,
            self.scored_on,
            if self.grouped {
                "in whole groups"
            } else {
                "stratified by label"
            }
        )?;
        let name_width = self.metric.chars().count().max(6);
        // One held-out set has no folds to list.
        let by_fold = self.points.iter().any(|p| p.fold_scores.len() > 1);
        let figure = |v: Option<f64>, decimals: usize| {
            v.map_or("—".to_string(), |v| format!("{v:.decimals$}"))
        };
        write!(
            f,
            "  {:>5}  {:>8}  {:>name_width$}",
            "share", "records", self.metric
        )?;
        writeln!(f, "{}", if by_fold { "  per fold" } else { "" })?;
        for point in &self.points {
            write!(
                f,
                "  {:>4.0}%  {:>8}  {:>name_width$}",
                point.fraction * 100.0,
                point.records,
                figure(point.score, 4)
            )?;
            let folds: Vec<String> = point.fold_scores.iter().map(|&s| figure(s, 3)).collect();
            if by_fold {
                write!(f, "  {}", folds.join(" "))?;
            }
            writeln!(f)?;
        }
        if let Some((before, last, gain, se)) = self.last_step() {
            write!(
                f,
                "  the last step ({:.0}% → {:.0}% of the data) changed {} by {gain:+.4}",
                before.fraction * 100.0,
                last.fraction * 100.0,
                self.metric
            )?;
            match se {
                Some(se) if gain > 2.0 * se => writeln!(
                    f,
                    " (standard error {se:.4} over the folds): still rising, so more labelled records of this kind are likely to help"
                ),
                Some(se) if gain > 0.0 => writeln!(
                    f,
                    " (standard error {se:.4} over the folds): a rise within the folds' noise, so the curve cannot tell whether more records would help"
                ),
                Some(se) => writeln!(
                    f,
                    " (standard error {se:.4} over the folds): no rise, so more records of the same kind are unlikely to help much; look at the errors, the labelling guide or the features"
                ),
                None if by_fold => writeln!(
                    f,
                    " (a fold could not be fitted at both shares: no paired spread to judge the change by)"
                ),
                None => writeln!(
                    f,
                    " (one held-out set: no spread over folds to judge the change by)"
                ),
            }?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(labels: &[&str], groups: &[&str]) -> LabelledCorpus {
        LabelledCorpus {
            texts: (0..labels.len()).map(|i| format!("text {i}")).collect(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..LabelledCorpus::default()
        }
    }

    #[test]
    fn shares_are_nested_and_stratified() {
        // 40 `a` and 10 `b` records.
        let labels: Vec<&str> = (0..50)
            .map(|i| if i % 5 == 0 { "b" } else { "a" })
            .collect();
        let data = corpus(&labels, &[]);
        let part: Vec<usize> = (0..50).filter(|i| i % 7 != 0).collect();
        let mut previous: Vec<usize> = Vec::new();
        for fraction in [0.1, 0.25, 0.5, 0.75, 1.0] {
            let share = Fold::new(&data, &part, &[], 3).share(fraction);
            assert!(share.iter().all(|i| part.contains(i)));
            assert!(
                previous.iter().all(|i| share.contains(i)),
                "not nested at {fraction}"
            );
            for label in ["a", "b"] {
                let in_part = part.iter().filter(|&&i| data.labels[i] == label).count();
                let taken = share.iter().filter(|&&i| data.labels[i] == label).count();
                let expected = ((in_part as f64 * fraction).round() as usize).max(1);
                assert_eq!(taken, expected, "`{label}` at {fraction}");
            }
            previous = share;
        }
        assert_eq!(previous, part, "all of it at 1");
    }

    #[test]
    fn grouped_shares_take_whole_groups() {
        let labels: Vec<&str> = (0..40).map(|i| ["a", "b"][i % 2]).collect();
        let groups: Vec<String> = (0..40).map(|i| format!("g{}", i / 4)).collect();
        let groups: Vec<&str> = groups.iter().map(String::as_str).collect();
        let data = corpus(&labels, &groups);
        let part: Vec<usize> = (4..40).collect();
        let mut previous: Vec<usize> = Vec::new();
        for fraction in [0.25, 0.5, 1.0] {
            let share = Fold::new(&data, &part, &[], 5).share(fraction);
            // Whole groups of four, about the share of the 36 records.
            assert_eq!(share.len() % 4, 0);
            assert!(
                (share.len() as f64 - 36.0 * fraction).abs() < 4.0,
                "{fraction}: {}",
                share.len()
            );
            for &i in &share {
                let whole = part
                    .iter()
                    .filter(|&&j| data.groups[j] == data.groups[i])
                    .count();
                let taken = share
                    .iter()
                    .filter(|&&j| data.groups[j] == data.groups[i])
                    .count();
                assert_eq!(taken, whole);
            }
            assert!(
                previous.iter().all(|i| share.contains(i)),
                "not nested at {fraction}"
            );
            previous = share;
        }
    }

    #[test]
    fn shares_outside_zero_to_one_are_refused() {
        assert_eq!(
            check_fractions(&[1.0, 0.5, 0.5, 0.1]).unwrap(),
            vec![0.1, 0.5, 1.0]
        );
        for bad in [&[0.0][..], &[1.5], &[f64::NAN], &[]] {
            assert!(check_fractions(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_last_step_is_judged_against_its_paired_spread() {
        let point = |fraction: f64, fold_scores: Vec<f64>| CurvePoint {
            fraction,
            records: (fraction * 100.0) as usize,
            score: Some(fold_scores.iter().sum::<f64>() / fold_scores.len() as f64),
            fold_scores: fold_scores.into_iter().map(Some).collect(),
        };
        let curve = |last: Vec<f64>| LearningCurve {
            metric: "macro-f1".into(),
            c: 1.0,
            scored_on: "folds".into(),
            grouped: false,
            points: vec![point(0.5, vec![0.5, 0.6, 0.7]), point(1.0, last)],
        };
        // Every fold gains 0.05 give or take 0.01: a clear rise.
        let rising = curve(vec![0.54, 0.65, 0.76]);
        let (_, _, gain, se) = rising.last_step().unwrap();
        assert!((gain - 0.05).abs() < 1e-12);
        assert!((se.unwrap() - (0.0001f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(rising.to_string().contains("still rising"), "{rising}");
        // The same mean gain, but one fold up and two down: within the noise.
        let noisy = curve(vec![0.65, 0.6, 0.7]);
        assert!(noisy.to_string().contains("cannot tell"), "{noisy}");
        let falling = curve(vec![0.45, 0.6, 0.7]);
        assert!(falling.to_string().contains("no rise"), "{falling}");
        // Whole groups can make the last two shares the same records: the step is then
        // taken from the last share with fewer.
        let mut same = rising.clone();
        same.points.insert(1, point(0.75, vec![0.54, 0.65, 0.76]));
        same.points[1].records = 100;
        let (before, last, gain, _) = same.last_step().unwrap();
        assert_eq!((before.fraction, last.fraction), (0.5, 1.0));
        assert!((gain - 0.05).abs() < 1e-12);
        // A fold fitted at one share only leaves no paired spread.
        let mut skipped = rising.clone();
        skipped.points[0].fold_scores[1] = None;
        assert_eq!(skipped.last_step().unwrap().3, None);
        assert!(
            skipped.to_string().contains("no paired spread"),
            "{skipped}"
        );
    }
}
