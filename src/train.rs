//! Training with model selection: fit the vectoriser on training data, then search the
//! regularisation strength (from the middle of the grid outwards, two candidates at a time,
//! warm-started) by the chosen metric on held-out data — a validation file, a stratified
//! split, or stratified k-fold cross-validation.
//!
//! Refitting rule: with a validation file or split, the saved model is the chosen
//! candidate exactly as fitted on the training part — it is not refitted on train +
//! validation — so the validation figures in the model file describe the saved weights and
//! vocabulary. With cross-validation the folds only choose C and estimate performance; the
//! saved model is then fitted on all the data with that C (as scikit-learn's GridSearchCV).
//! A validation file too small to choose C by itself (fewer than [`SMALL_VALIDATION`]
//! records) is by default pooled with the training data for cross-validation, or for one
//! split of both on large data ([`Validation::for_file`]); either way the saved model is
//! fitted on both.

use std::borrow::Cow;
use std::ops::Range;

use linfa::traits::Fit;
use linfa::DatasetBase;
use ndarray::Array1;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::calibration::{fit_temperature, temper, Temperature};
use crate::classifier::{Candidate, Classifier, Metadata, Selection};
use crate::corpus::{index_by_value, LabelledCorpus};
use crate::decision::{fit_prior_shift, shift_probs, PriorShiftReport};
use crate::error::{Error, Result};
use crate::label_shift::LabelShift;
use crate::logistic::{argmax, ClassWeight, LogisticRegression, LogisticRegressionParams, Solver};
use crate::metrics::{Metric, Report};
use crate::nb_weights;
use crate::overlap::TextSet;
use crate::packed::TrainingMatrix;
use crate::sparse::{CsrMatrix, SparseRows};
use crate::vectorize::{TfidfVectorizer, VectorizerConfig};

/// The default values of C, strongest penalty first. A search starts at the middle pair (3
/// and 10) and moves towards the better end.
pub const DEFAULT_C_GRID: [f64; 6] = [0.3, 1.0, 3.0, 10.0, 30.0, 100.0];

/// The default values of C below [`DEFAULT_C_GRID`], tried only while the smallest C tried
/// so far scores best ([`TrainOptions::c_below`]): a search reaches 0.1 only when it moves
/// down from 0.3, which scored best.
pub const DEFAULT_C_BELOW: [f64; 1] = [0.1];

/// The C search fits this many candidates at a time (in every fold, with cross-validation),
/// each warm-started from the best model so far ([`search`]). A fixed number, not the
/// thread count, so the models never depend on the machine.
/// ASGD is bound by memory latency, which a second hardware thread hides: on this project's
/// 2-vCPU machine two fits at once take about 1.3× the time of one (TweetEval emoji search
/// 7.3 s → 5.5 s, when it ran through the whole grid), at validation scores within noise of
/// one fit at a time.
pub(crate) const SEARCH_CHAINS: usize = 2;

/// Where held-out data for model selection comes from.
#[derive(Debug, Clone)]
pub enum Validation {
    /// No held-out data: fit one model with the first C of the grid.
    None,
    /// A separate labelled file (its description for reports, and its records).
    File {
        name: String,
        corpus: LabelledCorpus,
    },
    /// A stratified random fraction of the training data.
    Split { fraction: f64, seed: u64 },
    /// Stratified k-fold cross-validation.
    CrossValidation { folds: usize, seed: u64 },
    /// A validation file pooled with the training data: stratified k-fold cross-validation
    /// over both chooses C and the decision rule, then the saved model is fitted on both;
    /// from [`POOLED_SPLIT_FROM`] records together, a stratified [`POOLED_SPLIT`] of both is
    /// held out instead, as `--valid-split` holds out one of the training data.
    Pooled {
        name: String,
        corpus: LabelledCorpus,
        folds: usize,
        seed: u64,
    },
}

/// Validation files with fewer records than this are pooled with the training data by
/// default ([`Validation::for_file`]). On n records a macro-F1 or accuracy has a standard
/// error of roughly 0.5/√n, 1.6 points at 1,000, which is more than neighbouring values of
/// C usually differ by: below that, the file picks C (and adopts a class-prior shift) by
/// noise. Measured on TweetEval by `benches/selection_sim.py` (train and validation pooled,
/// 30 % held out as a test set, the rest split 9:1 into training and validation as TweetEval
/// is, reseeded repetitions): pooling moved the test metric by +1.05 ± 0.35 points on stance (five
/// targets pooled, validation files of 28–48 records, 20 repetitions), +0.92 ± 0.24 on emotion
/// (~250 records, 24) and +0.08 ± 0.30 on hate (~700 records, 12).
pub const SMALL_VALIDATION: usize = 1000;

/// Folds of the cross-validation a small validation file is pooled into.
pub const POOLED_FOLDS: usize = 5;

/// From this many training and validation records together, a small validation file
/// pooled with the training data is judged on one held-out split of both
/// ([`POOLED_SPLIT`]) rather than by cross-validation, whose folds cost [`POOLED_FOLDS`]
/// searches: on 100,000 synthetic documents with a 500-record validation file, training
/// took 51 s by cross-validation and 12 s on the split. The chosen C is then fitted on both,
/// as after cross-validation. From here the split holds out at least 5,000 records, as many
/// as TweetEval emoji's validation file, which is used as it is. Below it the folds are
/// worth their cost: with 45,000 emoji training tweets and 500 of the validation tweets as
/// the file (the other 4,500 as a test set, six draws), the split with its refit scored
/// 0.37 ± 0.06 points of macro-F1 below cross-validation (0.74 ± 0.24 without the refit);
/// on the synthetic documents, 0.08 ± 0.04 below (three draws), for a quarter of the time
/// (`benches/pooled_split_sim.py`). Every TweetEval task that pools stays far below it.
pub const POOLED_SPLIT_FROM: usize = 50_000;

/// The fraction of the pooled records held out when they are judged on a split
/// ([`POOLED_SPLIT_FROM`]): TweetEval's own proportion of validation to training data.
pub const POOLED_SPLIT: f64 = 0.1;

impl Validation {
    /// How to validate with the labelled file `name`: the file itself, or, when `pool_small`
    /// and it has fewer than [`SMALL_VALIDATION`] records, [`Validation::Pooled`] with
    /// [`POOLED_FOLDS`] folds shuffled by `seed` (a split shuffled by `seed` instead from
    /// [`POOLED_SPLIT_FROM`] records together).
    pub fn for_file(name: String, corpus: LabelledCorpus, pool_small: bool, seed: u64) -> Self {
        if pool_small && corpus.len() < SMALL_VALIDATION {
            Validation::Pooled {
                name,
                corpus,
                folds: POOLED_FOLDS,
                seed,
            }
        } else {
            Validation::File { name, corpus }
        }
    }

    /// Whether the saved model made the predictions a training report is on, so that it
    /// can explain them: the held-out predictions of a validation file or split when no
    /// refit followed (`refit`, as the saved options say), or without held-out data the
    /// predictions on the training data. Not under cross-validation, whose predictions come
    /// from fold models, nor for a pooled file (folds, or a split followed by a refit).
    pub fn saved_model_predicted(&self, refit: bool) -> bool {
        match self {
            Validation::None => true,
            Validation::File { .. } | Validation::Split { .. } => !refit,
            Validation::CrossValidation { .. } | Validation::Pooled { .. } => false,
        }
    }
}

/// Whether a validation file pooled with `train` is judged on a split of both rather than
/// by cross-validation ([`POOLED_SPLIT_FROM`]).
pub(crate) fn pooled_by_split(train: &LabelledCorpus, valid: &LabelledCorpus) -> bool {
    train.len() + valid.len() >= POOLED_SPLIT_FROM
}

/// Everything that decides how a model is trained; saved in the model file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOptions {
    pub vectorizer: VectorizerConfig,
    /// Values of C to try (one value means no search).
    pub c_grid: Vec<f64>,
    /// Smaller values of C than any of `c_grid`, in decreasing order. The search tries them
    /// only while the smallest C tried so far scores best: it steps past the grid's lower
    /// edge only when the data asks for more regularisation.
    pub c_below: Vec<f64>,
    pub class_weight: ClassWeight,
    pub metric: Metric,
    pub solver: Solver,
    /// ASGD passes over the data per fit (`None`: [`crate::logistic::default_epochs`], or
    /// [`crate::logistic::warm_start_epochs`] for a warm-started candidate).
    pub epochs: Option<u32>,
    /// L-BFGS iteration cap per fit.
    pub max_iterations: u64,
    /// Fit a class-prior shift on the held-out predictions (of a validation file or split,
    /// or the out-of-fold ones of cross-validation) when it helps the metric cross-fitted
    /// (see [`crate::decision`]); needs held-out data.
    pub prior_shift: bool,
    /// After choosing C (and the decision rule) on a validation file or split, fit the
    /// saved model again on the training and held-out records together, so it learns from
    /// all the labelled data it was given. Off by default: on TweetEval (C chosen on a 10%
    /// split of train, scored on val, two seeds) it moved the official metric by +0.03
    /// (stance), −0.02 (emotion) and +0.5 points (hate), for one more fit. [`train`] clears
    /// it when there is no such search, so a saved model's options say whether it happened.
    pub refit: bool,
    /// Fit a temperature on the validation data after the decision rule, so that the
    /// probabilities are calibrated (see [`crate::calibration`]); labels do not change.
    pub calibrate: bool,
    /// Scale each column by its Naive Bayes log-count ratio before fitting (see
    /// [`crate::nb_weights`]).
    pub nb_weights: bool,
    /// Seed for splits and folds.
    pub seed: u64,
    /// Refuse fits whose solver needs more bytes than this (default: what the system
    /// reports available).
    pub memory_limit: Option<u64>,
    /// How the model was validated, in words (filled in by [`train`]).
    pub validation: String,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            vectorizer: VectorizerConfig::default(),
            c_grid: DEFAULT_C_GRID.to_vec(),
            c_below: DEFAULT_C_BELOW.to_vec(),
            class_weight: ClassWeight::Balanced,
            metric: Metric::MacroF1,
            solver: Solver::Asgd,
            epochs: None,
            max_iterations: 100,
            prior_shift: true,
            refit: false,
            calibrate: true,
            nb_weights: true,
            seed: 42,
            memory_limit: None,
            validation: String::new(),
        }
    }
}

/// What training reports while it works, for progress display.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A new stage begins.
    Stage(String),
    /// The C search begins: `candidates` fits at most (the search may stop early).
    Search {
        candidates: usize,
        features: usize,
        nonzeros: usize,
    },
    /// Cross-validation fold `fold` (1-based) of `folds` begins, fitting the values `cs`.
    Fold {
        fold: usize,
        folds: usize,
        cs: Vec<f64>,
    },
    /// A candidate has been scored.
    Candidate { c: f64, score: f64, iterations: u64 },
    /// The chosen candidate's held-out probabilities (in label order), the predictions its
    /// selection report was computed from, for evaluation reports, with the records they
    /// are of: the validation file, the split's held-out part (in the order of
    /// [`stratified_split`]'s held-out indices) or, for cross-validation, every record
    /// (pooled out-of-fold predictions; for a pooled file, the training records then the
    /// file's).
    HeldOut {
        probs: Vec<Vec<f64>>,
        records: &'a LabelledCorpus,
    },
    /// With no held-out data (`Validation::None`), the final model's probabilities on its
    /// own training data, in input order and label order: the figures of a training-data
    /// report, computed from the matrix the model was fitted on rather than by vectorising
    /// the texts again (the values are the same bit for bit).
    Fitted { probs: Vec<Vec<f64>> },
}

/// Train a classifier on `train`, selecting C as `validation` says.
pub fn train(
    train: &LabelledCorpus,
    validation: &Validation,
    options: &TrainOptions,
    progress: &mut dyn FnMut(Event),
) -> Result<Classifier> {
    options.vectorizer.validate()?;
    let mut all_c = options.c_grid.iter().chain(&options.c_below);
    if options.c_grid.is_empty() || all_c.any(|c| !(c.is_finite() && *c > 0.0)) {
        return Err(Error::InvalidOption(
            "every C must be a positive number".into(),
        ));
    }
    let mut above = options.c_grid.iter().copied().fold(f64::INFINITY, f64::min);
    for &c in &options.c_below {
        if c >= above {
            return Err(Error::InvalidOption(format!(
                "C = {c} below the grid must be smaller than every C of the grid and than the one before it"
            )));
        }
        above = c;
    }
    let labels = train.label_set();
    if labels.len() < 2 {
        return Err(Error::InvalidOption(format!(
            "the training data has only one label (`{}`): a classifier needs at least two",
            labels.first().map_or("", String::as_str)
        )));
    }
    options
        .metric
        .check_labels(&labels, "the training data's")?;
    let mut options = options.clone();
    // Once, on the whole training data, so that every fold and the final fit keep the same
    // n-grams' threshold and the model records the count.
    options.vectorizer.min_df = options.vectorizer.min_df.resolved(train.len());
    check_groups("the training data", train)?;
    if let Validation::File { name, corpus } | Validation::Pooled { name, corpus, .. } = validation
    {
        check_labels_known(name, corpus, &labels)?;
        check_groups(name, corpus)?;
        if train.groups.is_empty() != corpus.groups.is_empty() {
            return Err(Error::InvalidOption(format!(
                "the training data and the validation file {name} must both name each record's group, or neither"
            )));
        }
    }

    // With held-out data the chosen candidate is kept exactly as fitted, unless
    // `options.refit` asks for a final fit on training and held-out data together; with
    // no validation or with cross-validation one final model is fitted on all the data.
    // Each arm also gives the texts the saved weights are fitted on and those they were
    // selected on, fingerprinting every corpus once.
    let (fit_on, selection, fitted, (fitted_texts, selected_texts)) = match validation {
        Validation::None => {
            options.validation = "none".into();
            options.refit = false;
            let texts = (TextSet::from_texts(&train.texts), TextSet::default());
            (Cow::Borrowed(train), None, None, texts)
        }
        Validation::File { name, corpus } => {
            options.validation = format!("file {name}");
            let scored_on = format!(
                "validation file {name} ({} records{})",
                corpus.len(),
                shared_groups(train, corpus)
            );
            let (mut selection, vectorizer, model) =
                search(train, corpus, &labels, &options, scored_on, progress)?;
            let (repeats, texts) = held_out_texts(train, corpus, options.refit);
            selection.held_out_repeats = repeats;
            selection.label_shift = Some(label_shift(train, corpus, &labels));
            let (fit_on, fitted) = if options.refit {
                (Cow::Owned(train.concat(corpus)), None)
            } else {
                (Cow::Borrowed(train), Some((vectorizer, model)))
            };
            (fit_on, Some(selection), fitted, texts)
        }
        Validation::Split { fraction, seed } => {
            if !(*fraction > 0.0 && *fraction < 1.0) {
                return Err(Error::InvalidOption(format!(
                    "validation split {fraction} must be between 0 and 1"
                )));
            }
            options.validation = format!(
                "stratified split {fraction} (seed {seed}{})",
                grouping(train, "side")
            );
            let held_out = SplitSearch::run(
                train,
                "the training data",
                "",
                *fraction,
                *seed,
                &labels,
                &options,
                progress,
            )?;
            let (fit_on, fitted) = if options.refit {
                (Cow::Borrowed(train), None)
            } else {
                (Cow::Owned(held_out.part), Some(held_out.fitted))
            };
            (fit_on, Some(held_out.selection), fitted, held_out.texts)
        }
        Validation::CrossValidation { folds, seed } => {
            options.validation = format!(
                "stratified {folds}-fold cross-validation (seed {seed}{})",
                grouping(train, "fold")
            );
            // The final model is fitted on all the data anyway.
            options.refit = false;
            let over = format!("{} records", train.len());
            let (selection, texts) =
                cross_validate(train, &labels, *folds, *seed, &options, &over, progress)?;
            (Cow::Borrowed(train), Some(selection), None, texts)
        }
        Validation::Pooled {
            name,
            corpus,
            folds,
            seed,
        } => {
            let all = train.concat(corpus);
            let together = format!(
                "the {} training and {} validation records together",
                train.len(),
                corpus.len()
            );
            let too_small = format!(
                "a validation file of fewer than {SMALL_VALIDATION} records is too small to choose C alone"
            );
            let file = format!(
                "file {name} ({} records) pooled with the training data",
                corpus.len()
            );
            // Either way the saved model is fitted on both.
            let (mut selection, texts) = if pooled_by_split(train, corpus) {
                options.refit = true;
                options.validation = format!(
                    "{file}: stratified split {POOLED_SPLIT} of both (seed {seed}{})",
                    grouping(&all, "side")
                );
                let why = format!(
                    ", since {too_small} and {folds}-fold cross-validation over {} records costs {folds} searches",
                    all.len()
                );
                let held_out = SplitSearch::run(
                    &all,
                    &together,
                    &why,
                    POOLED_SPLIT,
                    *seed,
                    &labels,
                    &options,
                    progress,
                )?;
                (held_out.selection, held_out.texts)
            } else {
                options.refit = false;
                options.validation = format!(
                    "{file}: stratified {folds}-fold cross-validation (seed {seed}{})",
                    grouping(&all, "fold")
                );
                let over = format!("{together}, since {too_small}");
                cross_validate(&all, &labels, *folds, *seed, &options, &over, progress)?
            };
            selection.label_shift = Some(label_shift(train, corpus, &labels));
            (Cow::Owned(all), Some(selection), None, texts)
        }
    };

    let (vectorizer, model) = match fitted {
        Some(fitted) => fitted,
        None => {
            let c = match &selection {
                Some(s) => s.candidates[s.chosen].c,
                None => options.c_grid[0],
            };
            progress(Event::Stage(format!(
                "fitting the final model on {} records (C = {c})",
                fit_on.len()
            )));
            let (vectorizer, x) = vectorise(&options, &fit_on, &labels)?;
            check_memory(&x.x, labels.len(), &options, 1)?;
            let mut model = fit(&x, &fit_on.labels, &labels, c, &options, None)?;
            if let Some(shift) = selection.as_ref().and_then(|s| s.prior_shift.as_ref()) {
                if shift.adopted {
                    model.shift_priors(&shift.offsets);
                }
            }
            if let Some(temperature) = selection.as_ref().and_then(|s| s.temperature.as_ref()) {
                if temperature.adopted {
                    model.divide_scores(temperature.t);
                }
            }
            if selection.is_none() {
                progress(Event::Stage("evaluating on the training data".into()));
                let probs = model.predict_proba(&x.x);
                progress(Event::Fitted {
                    probs: probs.rows().into_iter().map(|r| r.to_vec()).collect(),
                });
            }
            (vectorizer, x.plain(model))
        }
    };
    let label_counts = fit_on.label_counts(&labels);
    Ok(Classifier {
        labels,
        vectorizer,
        model,
        metadata: Metadata {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            data_fingerprint: fingerprint(&fit_on),
            n_train: fit_on.len(),
            label_counts,
            options,
            selection,
            fitted_texts,
            selected_texts,
        },
    })
}

/// A search on a stratified split of one corpus: what `--valid-split` does with the training
/// data, and a small validation file pooled with large training data.
struct SplitSearch {
    /// The records fitted on (the rest are held out).
    part: LabelledCorpus,
    selection: Selection,
    /// The chosen candidate as fitted on `part`.
    fitted: (TfidfVectorizer, LogisticRegression),
    /// The texts fitted on and those selected on ([`held_out_texts`]).
    texts: (TextSet, TextSet),
}

impl SplitSearch {
    /// Hold out a stratified `fraction` of `data`, shuffled by `seed`, and search C on it,
    /// fitting on the rest. The report calls the data `what` and gives the reason `why`.
    #[allow(clippy::too_many_arguments)]
    fn run(
        data: &LabelledCorpus,
        what: &str,
        why: &str,
        fraction: f64,
        seed: u64,
        labels: &[String],
        options: &TrainOptions,
        progress: &mut dyn FnMut(Event),
    ) -> Result<SplitSearch> {
        let (part_idx, held_idx) = split_of(data, fraction, seed);
        if held_idx.is_empty() || part_idx.is_empty() {
            return Err(Error::InvalidOption(format!(
                "the {} groups of {what} cannot be split {:.0}:{:.0} with each group on one side: use --cv, a different --valid-split, or smaller groups",
                data.n_groups(),
                (1.0 - fraction) * 100.0,
                fraction * 100.0
            )));
        }
        let (part, held) = (data.subset(&part_idx), data.subset(&held_idx));
        check_has_labels(&part, labels)?;
        let scored_on = format!(
            "a stratified {:.0}% split of {what} ({} records, seed {seed}{}){why}",
            fraction * 100.0,
            held.len(),
            grouping(data, "side")
        );
        let (mut selection, vectorizer, model) =
            search(&part, &held, labels, options, scored_on, progress)?;
        let (repeats, texts) = held_out_texts(&part, &held, options.refit);
        selection.held_out_repeats = repeats;
        Ok(SplitSearch {
            part,
            selection,
            fitted: (vectorizer, model),
            texts,
        })
    }
}

/// What a split or the folds of `data` do with its groups, for reports: each is kept within
/// one `part` (side, fold). Empty without groups.
pub(crate) fn grouping(data: &LabelledCorpus, part: &str) -> String {
    match data.n_groups() {
        0 => String::new(),
        n => format!("; each of its {n} groups within one {part}"),
    }
}

/// Groups, when a corpus has them, must be one per record.
fn check_groups(name: &str, corpus: &LabelledCorpus) -> Result<()> {
    if !corpus.groups.is_empty() && corpus.groups.len() != corpus.len() {
        return Err(Error::InvalidOption(format!(
            "{name} has {} groups for {} records: give every record one group or none",
            corpus.groups.len(),
            corpus.len()
        )));
    }
    Ok(())
}

/// How many of a validation file's groups the training data also has, for the report:
/// its figures are for unseen groups only when none. Empty without groups.
fn shared_groups(train: &LabelledCorpus, valid: &LabelledCorpus) -> String {
    if valid.groups.is_empty() {
        return String::new();
    }
    let seen: std::collections::HashSet<&String> = train.groups.iter().collect();
    let mut groups: Vec<&String> = valid.groups.iter().collect();
    groups.sort_unstable();
    groups.dedup();
    match groups.iter().filter(|g| seen.contains(**g)).count() {
        0 => format!("; none of its {} groups in the training data", groups.len()),
        shared => format!(
            "; {shared} of its {} groups also in the training data",
            groups.len()
        ),
    }
}

/// How many records of a validation file or split (`held`) repeat a text of the training part
/// (`part`), and the texts the saved weights are then fitted on and selected on: `part` and
/// `held`, or with `refit` both fitted on. Each corpus is fingerprinted once.
fn held_out_texts(
    part: &LabelledCorpus,
    held: &LabelledCorpus,
    refit: bool,
) -> (usize, (TextSet, TextSet)) {
    let part_texts = TextSet::from_texts(&part.texts);
    let (held_texts, repeats) = TextSet::held_out(&held.texts, &part_texts);
    let texts = if refit {
        (part_texts.union(&held_texts), TextSet::default())
    } else {
        (part_texts, held_texts)
    };
    (repeats, texts)
}

/// How the validation file's label distribution differs from the training data's.
fn label_shift(train: &LabelledCorpus, valid: &LabelledCorpus, labels: &[String]) -> LabelShift {
    LabelShift::between(&train.label_counts(labels), &valid.label_counts(labels))
}

/// Every label of the validation file `name` must be one the training data has: the model
/// could never predict another.
fn check_labels_known(name: &str, corpus: &LabelledCorpus, labels: &[String]) -> Result<()> {
    match corpus
        .labels
        .iter()
        .enumerate()
        .find(|(_, l)| labels.binary_search(l).is_err())
    {
        Some((i, label)) => {
            let problem = format!(
                "label `{label}` does not occur in the training data, so no model trained on it can predict it: remove those records or add training examples"
            );
            Err(match corpus.lines.get(i) {
                Some(&line) => Error::BadRecord {
                    path: name.into(),
                    line,
                    problem,
                },
                None => Error::BadInput {
                    path: name.into(),
                    problem: format!("record {}: {problem}", i + 1),
                },
            })
        }
        None => Ok(()),
    }
}

/// Every label must appear in the part of the data a model is fitted on; the message names
/// the first that does not.
fn check_has_labels(part: &LabelledCorpus, labels: &[String]) -> Result<()> {
    let present = part.label_set();
    if let Some(missing) = labels.iter().find(|l| present.binary_search(l).is_err()) {
        let cure = if part.groups.is_empty() {
            "use a smaller --valid-split or more data"
        } else {
            "every group holding it was held out: use --cv, another --seed, or more groups with the label"
        };
        return Err(Error::InvalidOption(format!(
            "after holding out validation data, label `{missing}` has no training example left: {cure}"
        )));
    }
    Ok(())
}

fn targets(truth: &[String], labels: &[String]) -> Array1<usize> {
    truth
        .iter()
        .map(|t| labels.binary_search(t).expect("label in label set"))
        .collect()
}

/// A vectorised training set: its matrix, with every column scaled by its NB weight when
/// those are on (the weights kept to turn fitted models back into models of the plain
/// TF-IDF columns).
struct TrainingSet {
    x: TrainingMatrix,
    nb_weights: Option<Vec<f32>>,
}

impl TrainingSet {
    /// `model`, fitted on this set, as a model of the plain TF-IDF rows that
    /// [`TfidfVectorizer::transform`] gives.
    /// Its weights are rounded to `f32` ([`LogisticRegression::round_weights_to_f32`]), as
    /// every model that is scored or saved.
    fn plain(&self, mut model: LogisticRegression) -> LogisticRegression {
        if let Some(weights) = &self.nb_weights {
            nb_weights::fold_into(&mut model, weights);
        }
        model.round_weights_to_f32();
        model
    }
}

/// Fit the vectoriser on `corpus` and build its training set.
fn vectorise(
    options: &TrainOptions,
    corpus: &LabelledCorpus,
    labels: &[String],
) -> Result<(TfidfVectorizer, TrainingSet)> {
    let (vectorizer, packed) =
        TfidfVectorizer::fit_transform_packed(&options.vectorizer, &corpus.texts)?;
    let mut x = TrainingMatrix::new(packed);
    let nb_weights = options.nb_weights.then(|| {
        let y = targets(&corpus.labels, labels);
        let weights =
            nb_weights::log_count_ratios(&x, y.as_slice().expect("contiguous"), labels.len());
        x.scale_columns(&weights);
        weights
    });
    Ok((vectorizer, TrainingSet { x, nb_weights }))
}

/// Fit at C = `c` on `set`, warm-started from `warm` (a model fitted on the same set). The
/// model is of the set's columns: [`TrainingSet::plain`] makes it one of the plain rows.
/// Callers check the memory first ([`check_memory`]), for as many fits as they run at once.
fn fit(
    set: &TrainingSet,
    truth: &[String],
    labels: &[String],
    c: f64,
    options: &TrainOptions,
    warm: Option<LogisticRegression>,
) -> Result<LogisticRegression> {
    let mut params = LogisticRegressionParams::new()
        .c(c)
        .class_weight(options.class_weight)
        .solver(options.solver)
        .seed(options.seed)
        .max_iterations(options.max_iterations)
        .n_classes(labels.len());
    if let Some(w) = warm {
        params = params.warm_start_from(w);
    }
    if let Some(epochs) = options.epochs {
        params = params.epochs(epochs);
    }
    params.fit(&DatasetBase::new(&set.x, targets(truth, labels)))
}

/// Fit the vectoriser and a model at C = `c` on `part`, as a final fit is (no decision rule
/// or temperature), and predict the most probable class of each of `held`'s records; the
/// memory check allows for `fits_at_once` such fits running side by side.
pub(crate) fn fit_and_predict(
    part: &LabelledCorpus,
    held: &LabelledCorpus,
    labels: &[String],
    c: f64,
    options: &TrainOptions,
    fits_at_once: usize,
) -> Result<Vec<usize>> {
    let (vectorizer, x) = vectorise(options, part, labels)?;
    check_memory(&x.x, labels.len(), options, fits_at_once)?;
    let model = x.plain(fit(&x, &part.labels, labels, c, options, None)?);
    let x_held = vectorizer.transform(&held.texts);
    Ok(model_probs(&model, &x_held)
        .iter()
        .map(|p| argmax(p))
        .collect())
}

/// Fits along a C path in rounds of up to [`SEARCH_CHAINS`] candidates at once.
struct PathFits<'a> {
    set: &'a TrainingSet,
    truth: &'a [String],
    labels: &'a [String],
    options: &'a TrainOptions,
}

impl<'a> PathFits<'a> {
    fn new(
        set: &'a TrainingSet,
        truth: &'a [String],
        labels: &'a [String],
        options: &'a TrainOptions,
    ) -> Self {
        PathFits {
            set,
            truth,
            labels,
            options,
        }
    }

    /// Fit the candidates `round` (at most [`SEARCH_CHAINS`] of them) concurrently, each
    /// warm-started from its model in `warm` (cold where there is none); the models are
    /// moved into the fits, so the round holds no second copy of them.
    fn round(
        &self,
        round: &[f64],
        mut warm: Vec<Option<LogisticRegression>>,
    ) -> Result<Vec<LogisticRegression>> {
        debug_assert!(round.len() <= SEARCH_CHAINS);
        // The round needs room for all its fits at once.
        check_memory(&self.set.x, self.labels.len(), self.options, round.len())?;
        warm.resize_with(round.len(), || None);
        round
            .par_iter()
            .zip(warm)
            .map(|(&c, warm)| fit(self.set, self.truth, self.labels, c, self.options, warm))
            .collect()
    }
}

/// Refuse, before allocating, a fit whose solver would not fit in memory: the limit is
/// `options.memory_limit`, or else the memory the system reports available.
fn check_memory(
    x: &TrainingMatrix,
    n_classes: usize,
    options: &TrainOptions,
    concurrent_fits: usize,
) -> Result<()> {
    let Some(limit) = options.memory_limit.or_else(available_memory) else {
        return Ok(());
    };
    let mut per_fit = LogisticRegression::fit_memory_bytes(
        options.solver,
        x.n_rows(),
        x.n_cols(),
        x.nnz(),
        n_classes,
    );
    if options.solver == Solver::Lbfgs && matches!(x, TrainingMatrix::Packed(_)) {
        // L-BFGS works on the CSR form of the packed matrix.
        per_fit += x.nnz() as u64 * 8 + x.n_rows() as u64 * 8;
    }
    let needed = per_fit * concurrent_fits as u64;
    if needed > limit {
        return Err(Error::InvalidOption(format!(
            "fitting {} features × {} classes on {} rows{} needs about {} more memory, but only {} is {}: raise --min-df, set --max-features, or drop character n-grams (--char-ngrams none)",
            x.n_cols(),
            n_classes,
            x.n_rows(),
            if concurrent_fits > 1 { format!(" ({concurrent_fits} C candidates at once)") } else { String::new() },
            human_bytes(needed),
            human_bytes(limit),
            if options.memory_limit.is_some() { "allowed (--memory-limit)" } else { "available" }
        )));
    }
    Ok(())
}

/// Refuse, before reading it, input too large to vectorise in the memory available (or
/// allowed by `options.memory_limit`). The estimate is rough — about 4 bytes per stored
/// n-gram (the packed matrix and the counts it is built from) at
/// [`VectorizerConfig::ngrams_per_input_byte`] n-grams per byte, an upper estimate, plus
/// the text itself — but it turns an out-of-memory kill an hour in into an immediate
/// message. (Measured on 1,000,000 synthetic documents, 273 MB: 3.1 GB peak, 11 bytes per
/// input byte; this estimate says 19.)
pub fn check_input_size(input_bytes: u64, options: &TrainOptions) -> Result<()> {
    let Some(limit) = options.memory_limit.or_else(available_memory) else {
        return Ok(());
    };
    let per_byte = 2.0 + 4.0 * options.vectorizer.ngrams_per_input_byte();
    let needed = (input_bytes as f64 * per_byte) as u64;
    if needed > limit {
        return Err(Error::InvalidOption(format!(
            "{} of input would need roughly {} to vectorise, more than the {} {}: train on a sample, or drop character n-grams (--char-ngrams none), which take most of it",
            human_bytes(input_bytes),
            human_bytes(needed),
            human_bytes(limit),
            if options.memory_limit.is_some() { "allowed (--memory-limit)" } else { "available" }
        )));
    }
    Ok(())
}

/// `1.5 GB`, `820 KB`: a size for messages.
fn human_bytes(bytes: u64) -> String {
    let units = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3)];
    for (unit, size) in units {
        if bytes as f64 >= size {
            return format!("{:.1} {unit}", bytes as f64 / size);
        }
    }
    format!("{bytes} bytes")
}

/// `MemAvailable` from `/proc/meminfo`, where there is one.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Where a search for C stands: the values it may try, the run of them tried so far, their
/// scores, and the best. [`search`] and [`cross_validate`] each fit and score a round their
/// own way and [`PathSearch::record`] it here, which chooses the best and says what the next
/// round fits and which of this round's models it starts from.
struct PathSearch {
    /// Every value of C the search may try, in increasing order: those below the grid, then
    /// the grid's.
    cs: Vec<f64>,
    /// The indices of `cs` tried so far, always a contiguous run.
    tried: Range<usize>,
    /// Per index of `cs`, once tried: its score by the metric and its held-out log-loss
    /// ([`Report::log_loss`]).
    scored: Vec<Option<(f64, Option<f64>)>>,
    best: Option<usize>,
}

impl PathSearch {
    /// The search over `options`' values of C, and its first round: the middle
    /// [`SEARCH_CHAINS`] values of the grid (all of it when it has no more).
    fn new(options: &TrainOptions) -> (PathSearch, Vec<usize>) {
        let mut grid = options.c_grid.clone();
        grid.sort_by(f64::total_cmp);
        grid.dedup();
        let below = options.c_below.len();
        let first = below + grid.len().saturating_sub(SEARCH_CHAINS) / 2;
        let cs: Vec<f64> = options.c_below.iter().rev().copied().chain(grid).collect();
        let tried = first..(first + SEARCH_CHAINS).min(cs.len());
        let search = PathSearch {
            scored: vec![None; cs.len()],
            cs,
            tried: tried.clone(),
            best: None,
        };
        (search, tried.collect())
    }

    /// The values of C at the indices `round`.
    fn cs_of(&self, round: &[usize]) -> Vec<f64> {
        round.iter().map(|&at| self.cs[at]).collect()
    }

    /// Record the round `round`'s results, `(score, log-loss)` for each of its values in
    /// order. A value beats the best so far by a higher score, or by the same score and a
    /// lower log-loss (ties are common on small held-out sets; they go to the
    /// better-calibrated model). Returns the position in `round` of the model the next round
    /// starts from — the best, when this round holds it, or else one that ties its score,
    /// which the search goes on past — and the next round ([`next_round`]), empty when the
    /// search is done.
    fn record(
        &mut self,
        round: &[usize],
        results: &[(f64, Option<f64>)],
    ) -> (Option<usize>, Vec<usize>) {
        for (&at, &(score, log_loss)) in round.iter().zip(results) {
            let better = self.best.is_none_or(|best| {
                let (best_score, best_loss) = self.scored[best].expect("a scored value");
                score > best_score || (score == best_score && log_loss < best_loss)
            });
            self.scored[at] = Some((score, log_loss));
            if better {
                self.best = Some(at);
            }
        }
        let best_score = self.score(self.best());
        let ties = |at: usize| self.scored[at].is_some_and(|(score, _)| score == best_score);
        let warm_from = (round.iter().position(|&at| at == self.best()))
            .or_else(|| round.iter().position(|&at| ties(at)));
        let next = next_round(&self.tried, self.cs.len(), ties);
        self.tried = grown(&self.tried, &next);
        (warm_from, next)
    }

    /// The index of the best value so far.
    fn best(&self) -> usize {
        self.best.expect("a recorded round")
    }

    /// The score of the value at index `at`, once tried.
    fn score(&self, at: usize) -> f64 {
        self.scored[at].expect("a scored value").0
    }

    /// The values tried, in order of C, as a report lists them (`iterations` by index), and
    /// the position of the best among them.
    fn candidates(&self, class_weight: ClassWeight, iterations: &[u64]) -> (Vec<Candidate>, usize) {
        let candidates = (self.tried.clone())
            .map(|at| Candidate {
                c: self.cs[at],
                class_weight,
                score: self.score(at),
                iterations: iterations[at],
            })
            .collect();
        (candidates, self.best() - self.tried.start)
    }
}

/// The indices of the search's next round, in increasing order, given the path's values
/// `tried` so far (a contiguous run of a path of `len`) and which of them score as well as
/// the best (`ties_best`, by the metric alone): up to [`SEARCH_CHAINS`] values past each end
/// of the run whose value does, shared between the two ends when both do (on small data
/// neighbouring values often score the same, and the search must not stop on a plateau in
/// front of a better value); none once the best values are bracketed by worse ones or the
/// path ends.
fn next_round(tried: &Range<usize>, len: usize, ties_best: impl Fn(usize) -> bool) -> Vec<usize> {
    let up = tried.end < len && ties_best(tried.end - 1);
    let down = tried.start > 0 && ties_best(tried.start);
    let n_down = match (down, up) {
        (false, _) => 0,
        (true, false) => SEARCH_CHAINS,
        (true, true) => SEARCH_CHAINS / 2,
    };
    let n_up = if up { SEARCH_CHAINS - n_down } else { 0 };
    let below = tried.start.saturating_sub(n_down)..tried.start;
    below
        .chain(tried.end..(tried.end + n_up).min(len))
        .collect()
}

/// The run of indices `tried` grown by the neighbouring indices `round`.
fn grown(tried: &Range<usize>, round: &[usize]) -> Range<usize> {
    let start = round.first().map_or(tried.start, |&i| i.min(tried.start));
    let end = round.last().map_or(tried.end, |&i| (i + 1).max(tried.end));
    start..end
}

/// Score values of C on held-out data and keep the best model. The search starts in the
/// middle of the grid, cold, and moves outwards from the better end (from both ends while
/// they tie) a round of [`SEARCH_CHAINS`] values at a time, each warm-started from the best
/// model so far (the nearest fitted C), until worse values bracket the best or the path
/// ends ([`next_round`]).
/// Against the search it replaced (from the strongest penalty up, two chains through the
/// whole grid, stopping after two worse values in a row), on test sets carved from TweetEval
/// train + val (`benches/selection_sim.py TASK --protocols valid-only`, new − old, ± one
/// standard error): emoji +0.27 ± 0.06 (10 repetitions), emotion +0.35 ± 0.27, hate
/// +0.12 ± 0.14, stance +0.14 ± 0.24 (12 each; +0.20 ± 0.24 once a tie at both ends
/// carried the search both ways, the emoji model unchanged); and TweetEval emoji training
/// took 0.79× the time (2.84 → 2.25 s, median of eight alternated runs), as the emoji search
/// fits four values in two rounds where it fitted six in three.
fn search(
    train: &LabelledCorpus,
    held: &LabelledCorpus,
    labels: &[String],
    options: &TrainOptions,
    scored_on: String,
    progress: &mut dyn FnMut(Event),
) -> Result<(Selection, TfidfVectorizer, LogisticRegression)> {
    progress(Event::Stage("vectorising".into()));
    let (vectorizer, x) = vectorise(options, train, labels)?;
    let x_held = vectorizer.transform(&held.texts);
    let (mut path_search, mut round) = PathSearch::new(options);
    progress(Event::Search {
        candidates: path_search.cs.len(),
        features: x.x.n_cols(),
        nonzeros: x.x.nnz(),
    });
    let path = PathFits::new(&x, &train.labels, labels, options);
    let mut iterations = vec![0u64; path_search.cs.len()];
    // The best candidate so far: its held-out report and probabilities, and its model.
    let mut best: Option<(Report, Vec<Vec<f64>>, LogisticRegression)> = None;
    // The model, as fitted (before `plain`), the next round starts from.
    let mut warm: Option<LogisticRegression> = None;
    while !round.is_empty() {
        let cs = path_search.cs_of(&round);
        let fitted = path.round(&cs, vec![warm.take(); cs.len()])?;
        // The round's candidates are scored side by side too (each copy and scoring is
        // independent); the bookkeeping below goes in order of C.
        let mut scored: Vec<(Report, Vec<Vec<f64>>, LogisticRegression)> = fitted
            .par_iter()
            .map(|fitted| {
                let model = x.plain(fitted.clone());
                let probs = model_probs(&model, &x_held);
                let report = argmax_report(labels, &held.labels, &probs, &options.metric);
                (report, probs, model)
            })
            .collect();
        let mut results = Vec::with_capacity(round.len());
        for ((&c, &at), (report, _, model)) in cs.iter().zip(&round).zip(&scored) {
            let score = options.metric.value(report);
            iterations[at] = model.fit_info.iterations;
            progress(Event::Candidate {
                c,
                score,
                iterations: iterations[at],
            });
            results.push((score, report.log_loss));
        }
        let (warm_from, next) = path_search.record(&round, &results);
        if let Some(position) = round.iter().position(|&at| at == path_search.best()) {
            best = Some(scored.swap_remove(position));
        }
        warm = warm_from.and_then(|position| fitted.into_iter().nth(position));
        round = next;
    }
    drop(warm);
    let (candidates, chosen) = path_search.candidates(options.class_weight, &iterations);
    let (mut report, mut probs, mut model) = best.expect("at least one candidate");
    // The decision rule and the calibration each change the model; its held-out
    // probabilities and report follow it.
    let (prior_shift, temperature) = fit_decision_and_calibration(
        &mut probs,
        &mut report,
        &held.labels,
        &held.groups,
        labels,
        options,
        options.seed,
        progress,
        |adjustment, _| {
            match adjustment {
                Adjustment::Shift(offsets) => model.shift_priors(offsets),
                Adjustment::Temperature(t) => {
                    model.divide_scores(t);
                    model.round_weights_to_f32();
                }
            }
            model_probs(&model, &x_held)
        },
    );
    progress(Event::HeldOut {
        probs,
        records: held,
    });
    let selection = Selection {
        scored_on,
        metric: options.metric.clone(),
        candidates,
        chosen,
        report,
        fold_scores: Vec::new(),
        prior_shift,
        temperature,
        // Set by the caller, which knows what the training part was.
        held_out_repeats: 0,
        label_shift: None,
    };
    Ok((selection, vectorizer, model))
}

/// A change to the chosen model that the decision rule or the calibration adopted.
#[derive(Clone, Copy)]
enum Adjustment<'a> {
    /// Per-class log-odds offsets ([`LogisticRegression::shift_priors`]).
    Shift(&'a [f64]),
    /// Every score divided by this temperature ([`LogisticRegression::divide_scores`]).
    Temperature(f64),
}

/// Fit the decision rule, then the temperature, as `options` asks, on the chosen candidate's
/// held-out probabilities `probs` (true labels `truth`, groups `groups` or none), each kept
/// only when it helps cross-fitted. Each adopted one is handed to `apply` with the current
/// probabilities; `apply` makes the change (to the model, or to the probabilities alone) and returns the
/// new held-out probabilities, which `probs` and `report` then follow.
#[allow(clippy::too_many_arguments)]
fn fit_decision_and_calibration(
    probs: &mut Vec<Vec<f64>>,
    report: &mut Report,
    truth: &[String],
    groups: &[String],
    labels: &[String],
    options: &TrainOptions,
    seed: u64,
    progress: &mut dyn FnMut(Event),
    mut apply: impl FnMut(Adjustment, &[Vec<f64>]) -> Vec<Vec<f64>>,
) -> (Option<PriorShiftReport>, Option<Temperature>) {
    let targets = targets(truth, labels).to_vec();
    let mut adopt = |adjustment: Adjustment, probs: &mut Vec<Vec<f64>>, report: &mut Report| {
        *probs = apply(adjustment, probs);
        *report = argmax_report(labels, truth, probs, &options.metric);
    };
    let prior_shift = options.prior_shift.then(|| {
        progress(Event::Stage("fitting the decision rule".into()));
        let shift = fit_prior_shift(probs, &targets, groups, labels, &options.metric, seed);
        if shift.adopted {
            adopt(Adjustment::Shift(&shift.offsets), probs, report);
        }
        shift
    });
    let temperature = options.calibrate.then(|| {
        progress(Event::Stage("calibrating".into()));
        let temperature = fit_temperature(probs, &targets, groups, seed);
        if temperature.adopted {
            adopt(Adjustment::Temperature(temperature.t), probs, report);
        }
        temperature
    });
    (prior_shift, temperature)
}

/// The report of predicting the most probable class of each row of `probs` (class
/// probabilities, one row per record) against `truth`.
fn argmax_report(
    labels: &[String],
    truth: &[String],
    probs: &[Vec<f64>],
    metric: &Metric,
) -> Report {
    let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
    Report::new(labels, truth, &predicted, Some(probs), Some(metric))
}

/// Class probabilities of every row, one vector per row.
fn model_probs(model: &LogisticRegression, x: &CsrMatrix) -> Vec<Vec<f64>> {
    model
        .predict_proba(x)
        .rows()
        .into_iter()
        .map(|r| r.to_vec())
        .collect()
}

/// Stratified k-fold cross-validation, searching C as [`search`] does, by the mean fold
/// score: each round fits its values in every fold, each fold's fits warm-started from that
/// fold's model at the best value so far. The candidate with the best mean fold score is
/// chosen; its pooled out-of-fold report and per-fold scores are kept, and the decision
/// rule and temperature are fitted on its out-of-fold probabilities. `over` says which
/// records `data` holds, for the report. Also returns the texts the final model is fitted
/// on (all of `data`) and selected on (none apart from those). Against running every fold through all seven
/// default values (two chains from 0.1 and 0.3 up), on test sets carved from TweetEval's
/// train and val (`benches/selection_sim.py TASK --protocols defaults`, which pools the
/// small validation files for cross-validation; new − old, ± one standard error): stance
/// −0.14 ± 0.17 (20 repetitions), emotion +0.17 ± 0.10, hate +0.27 ± 0.19 (12 each; at
/// b847d51, before a round tying the best started from the tying model), in 0.77× the
/// training time (stance/abortion 1.71 → 1.32 s, emotion 3.23 → 2.50 s: bd46015 against
/// 1dfda55, medians of six paired runs).
fn cross_validate(
    data: &LabelledCorpus,
    labels: &[String],
    folds: usize,
    seed: u64,
    options: &TrainOptions,
    over: &str,
    progress: &mut dyn FnMut(Event),
) -> Result<(Selection, (TextSet, TextSet))> {
    if folds < 2 || folds > data.len() {
        return Err(Error::InvalidOption(format!(
            "{folds}-fold cross-validation needs 2 ≤ K ≤ the number of records ({})",
            data.len()
        )));
    }
    let n_groups = data.n_groups();
    if !data.groups.is_empty() && folds > n_groups {
        return Err(Error::InvalidOption(format!(
            "{folds}-fold cross-validation keeping each group within one fold needs at least {folds} groups; the data has {n_groups}: use --cv {n_groups} or fewer"
        )));
    }
    let caveat = if data.groups.is_empty() {
        let smallest = labels
            .iter()
            .map(|l| data.labels.iter().filter(|t| *t == l).count())
            .min()
            .unwrap_or(0);
        if smallest < folds {
            format!(
                "; the smallest class has only {smallest} records, so some folds hold none of it"
            )
        } else {
            String::new()
        }
    } else {
        // Per label, the groups holding it: a label in fewer groups than folds is missing
        // from some folds, and a label in one group from the fitted part of its fold.
        let fewest = labels
            .iter()
            .map(|l| {
                let mut holding: Vec<&String> = (0..data.len())
                    .filter(|&i| &data.labels[i] == l)
                    .map(|i| &data.groups[i])
                    .collect();
                holding.sort_unstable();
                holding.dedup();
                (holding.len(), l)
            })
            .min()
            .expect("at least two labels");
        match fewest {
            (1, label) => format!("; every `{label}` record is in one group, so the fold holding it is fitted without the label"),
            (n, label) if n < folds => format!("; `{label}` occurs in only {n} groups, so some folds hold none of it"),
            _ => String::new(),
        }
    };
    let fold_of = folds_of(data, folds, seed);
    let fold_records = fold_parts(&fold_of, folds);
    let (mut path_search, mut round) = PathSearch::new(options);
    let n_values = path_search.cs.len();
    // Per value of the path, once tried: its fold scores, iterations and pooled out-of-fold
    // predictions (`oof_probs[at][record]`).
    let mut scores: Vec<Vec<f64>> = vec![Vec::with_capacity(folds); n_values];
    let mut iterations = vec![0u64; n_values];
    let mut oof_probs: Vec<Vec<Vec<f64>>> = vec![Vec::new(); n_values];
    // The best value's pooled out-of-fold report, and each fold's model the next round
    // starts from, as fitted.
    let mut best_report: Option<Report> = None;
    let mut warm: Vec<Option<LogisticRegression>> = vec![None; folds];
    while !round.is_empty() {
        let cs = path_search.cs_of(&round);
        for &at in &round {
            oof_probs[at] = vec![Vec::new(); data.len()];
        }
        let mut fitted_by_fold = Vec::with_capacity(folds);
        for (fold, (train_idx, test_idx)) in fold_records.iter().enumerate() {
            progress(Event::Fold {
                fold: fold + 1,
                folds,
                cs: cs.clone(),
            });
            // Each round vectorises the fold again (the same matrix every time) rather
            // than holding every fold's matrix at once.
            let (part, held) = (data.subset(train_idx), data.subset(test_idx));
            let (vectorizer, x) = vectorise(options, &part, labels)?;
            let x_held = vectorizer.transform(&held.texts);
            let path = PathFits::new(&x, &part.labels, labels, options);
            let fitted = path.round(&cs, vec![warm[fold].take(); cs.len()])?;
            for (&at, model) in round.iter().zip(&fitted) {
                let probs = model_probs(&x.plain(model.clone()), &x_held);
                let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
                let report = Report::new(
                    labels,
                    &held.labels,
                    &predicted,
                    None,
                    Some(&options.metric),
                );
                scores[at].push(options.metric.value(&report));
                iterations[at] += model.fit_info.iterations;
                for (&i, p) in test_idx.iter().zip(probs) {
                    oof_probs[at][i] = p;
                }
            }
            fitted_by_fold.push(fitted);
        }
        let mut reports = Vec::with_capacity(round.len());
        let mut results = Vec::with_capacity(round.len());
        for (&c, &at) in cs.iter().zip(&round) {
            let report = argmax_report(labels, &data.labels, &oof_probs[at], &options.metric);
            let score = scores[at].iter().sum::<f64>() / folds as f64;
            progress(Event::Candidate {
                c,
                score,
                iterations: iterations[at],
            });
            results.push((score, report.log_loss));
            reports.push(report);
        }
        let (warm_from, next) = path_search.record(&round, &results);
        if let Some(position) = round.iter().position(|&at| at == path_search.best()) {
            best_report = Some(reports.swap_remove(position));
        }
        if let Some(position) = warm_from {
            for (warm, fitted) in warm.iter_mut().zip(fitted_by_fold) {
                *warm = fitted.into_iter().nth(position);
            }
        }
        round = next;
    }
    drop(warm);
    let (candidates, chosen) = path_search.candidates(options.class_weight, &iterations);
    let best_at = path_search.best();
    let mut report = best_report.expect("a chosen candidate");
    let mut chosen_probs = std::mem::take(&mut oof_probs[best_at]);
    // The decision rule and the temperature are fitted on the pooled out-of-fold
    // probabilities and applied to the final model, fitted on all the data, as the chosen C
    // is; here they change only those probabilities.
    let (prior_shift, temperature) = fit_decision_and_calibration(
        &mut chosen_probs,
        &mut report,
        &data.labels,
        &data.groups,
        labels,
        options,
        seed,
        progress,
        |adjustment, probs| {
            probs
                .iter()
                .map(|p| match adjustment {
                    Adjustment::Shift(offsets) => shift_probs(p, offsets),
                    Adjustment::Temperature(t) => temper(p, t),
                })
                .collect()
        },
    );
    progress(Event::HeldOut {
        probs: chosen_probs,
        records: data,
    });
    // A record whose text another record shares is scored by a fold fitted on its text
    // when the copies fall in different folds.
    let (data_texts, held_out_repeats) = TextSet::with_repeats(&data.texts);
    let selection = Selection {
        scored_on: format!(
            "stratified {folds}-fold cross-validation over {over} (seed {seed}{}); pooled out-of-fold predictions{caveat}",
            grouping(data, "fold")
        ),
        metric: options.metric.clone(),
        candidates,
        chosen,
        report,
        fold_scores: std::mem::take(&mut scores[best_at]),
        prior_shift,
        temperature,
        held_out_repeats,
        // Set by the caller, which knows whether `data` pools a validation file.
        label_shift: None,
    };
    Ok((selection, (data_texts, TextSet::default())))
}

/// SHA-256 over the records (label and text, length-prefixed, in order), as hex.
pub fn fingerprint(corpus: &LabelledCorpus) -> String {
    let mut hasher = Sha256::new();
    for (text, label) in corpus.texts.iter().zip(&corpus.labels) {
        for field in [label, text] {
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A small, documented PRNG (SplitMix64) so that splits are reproducible across versions
/// and platforms.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// Indices of each label's records, shuffled with `seed`, labels in sorted order.
pub(crate) fn shuffled_by_label(labels: &[String], seed: u64) -> Vec<Vec<usize>> {
    let mut names: Vec<&String> = labels.iter().collect();
    names.sort();
    names.dedup();
    let mut rng = SplitMix64::new(seed);
    names
        .iter()
        .map(|name| {
            let mut idx: Vec<usize> = (0..labels.len()).filter(|&i| &labels[i] == *name).collect();
            rng.shuffle(&mut idx);
            idx
        })
        .collect()
}

/// Split indices into (train, held-out), holding out `fraction` of each label (at least one
/// record of every label with two or more).
pub fn stratified_split(labels: &[String], fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for idx in shuffled_by_label(labels, seed) {
        let mut n_held = (idx.len() as f64 * fraction).round() as usize;
        if idx.len() >= 2 {
            n_held = n_held.clamp(1, idx.len() - 1);
        } else {
            n_held = 0;
        }
        held.extend_from_slice(&idx[..n_held]);
        train.extend_from_slice(&idx[n_held..]);
    }
    train.sort_unstable();
    held.sort_unstable();
    (train, held)
}

/// Assign each record a fold in `0..k`, dealing each label's shuffled records round-robin
/// so every fold gets the same share of every label (±1).
pub fn stratified_folds(labels: &[String], k: usize, seed: u64) -> Vec<usize> {
    let mut fold = vec![0; labels.len()];
    let mut next = 0;
    for idx in shuffled_by_label(labels, seed) {
        for i in idx {
            fold[i] = next % k;
            next += 1;
        }
    }
    fold
}

/// Split `data`'s indices into (train, held-out) as model selection does: by
/// [`grouped_split`] when the records have groups, else by [`stratified_split`].
pub fn split_of(data: &LabelledCorpus, fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    if data.groups.is_empty() {
        stratified_split(&data.labels, fraction, seed)
    } else {
        grouped_split(&data.labels, &data.groups, fraction, seed)
    }
}

/// Assign each of `data`'s records a fold in `0..k` as model selection does: by
/// [`grouped_folds`] when the records have groups, else by [`stratified_folds`].
pub fn folds_of(data: &LabelledCorpus, k: usize, seed: u64) -> Vec<usize> {
    if data.groups.is_empty() {
        stratified_folds(&data.labels, k, seed)
    } else {
        grouped_folds(&data.labels, &data.groups, k, seed)
    }
}

/// Each of `k` folds as (the other folds' records, its own records), from each record's
/// fold `fold_of`.
pub(crate) fn fold_parts(fold_of: &[usize], k: usize) -> Vec<(Vec<usize>, Vec<usize>)> {
    (0..k)
        .map(|fold| (0..fold_of.len()).partition(|&i| fold_of[i] != fold))
        .collect()
}

/// Split indices into two stratified halves for cross-fitting the decision rule and the
/// temperature: as [`stratified_split`] without `groups`; with them, each group within one
/// half, placed by [`grouped_split`]'s rule but in an order `seed` shuffles rather than
/// most unevenly labelled first, so that different seeds give different splits to average
/// over (`grouped_split`'s order is fixed except among ties). `None` when every record is
/// in the same group: no split keeps it whole.
pub fn cross_fit_halves(
    labels: &[String],
    groups: &[String],
    seed: u64,
) -> Option<(Vec<usize>, Vec<usize>)> {
    if groups.is_empty() {
        return Some(stratified_split(labels, 0.5, seed));
    }
    let bin = grouped_bins(labels, groups, &[0.5, 0.5], GroupOrder::Shuffled(seed));
    let (a, b): (Vec<usize>, Vec<usize>) = (0..labels.len()).partition(|&i| bin[i] == 0);
    (!a.is_empty() && !b.is_empty()).then_some((a, b))
}

/// Split indices into (train, held-out) keeping each group's records on one side, with
/// about `fraction` of each label held out as far as whole groups allow
/// (scikit-learn's `StratifiedGroupKFold` rule, as [`grouped_folds`]); the held-out side is empty
/// when the groups cannot be split so.
pub fn grouped_split(
    labels: &[String],
    groups: &[String],
    fraction: f64,
    seed: u64,
) -> (Vec<usize>, Vec<usize>) {
    let bin = grouped_bins(
        labels,
        groups,
        &[1.0 - fraction, fraction],
        GroupOrder::ScikitLearn(Some(seed)),
    );
    (0..labels.len()).partition(|&i| bin[i] == 0)
}

/// Assign each record a fold in `0..k` keeping each group's records in one fold, with each
/// label spread over the folds as evenly as whole groups allow (scikit-learn's
/// `StratifiedGroupKFold` rule, generalised in the private `grouped_bins`). With at
/// least `k` groups every fold gets one.
pub fn grouped_folds(labels: &[String], groups: &[String], k: usize, seed: u64) -> Vec<usize> {
    grouped_bins(
        labels,
        groups,
        &vec![1.0 / k as f64; k],
        GroupOrder::ScikitLearn(Some(seed)),
    )
}

/// The order in which [`grouped_bins`] places the groups.
#[derive(Clone, Copy)]
enum GroupOrder {
    /// scikit-learn's: shuffled with the seed (`None`: kept in name order, as its
    /// `shuffle=False`), then most unevenly labelled first (largest standard deviation of
    /// their label counts: the hardest to place), ties keeping the shuffled order.
    ScikitLearn(Option<u64>),
    /// Shuffled with the seed alone.
    Shuffled(u64),
}

/// Put every group's records into one of `shares.len()` bins so that each bin holds about
/// its share of every label: the rule of scikit-learn's `StratifiedGroupKFold`, generalised
/// to unequal shares, the groups taken in the given `order`. Each goes to the bin
/// that leaves the smallest mean, over labels, of the standard deviation over bins of each
/// bin's fraction of the label divided by its share (with equal shares, scikit-learn's
/// criterion scaled by the number of folds). As there, a bin replaces the best so far when
/// it leaves less unevenness, or as little (`numpy.isclose`) and is less filled for its
/// share; ties beyond that go to the first.
fn grouped_bins(
    labels: &[String],
    groups: &[String],
    shares: &[f64],
    order: GroupOrder,
) -> Vec<usize> {
    assert_eq!(labels.len(), groups.len(), "one group per record");
    let (label_names, label_of) = index_by_value(labels);
    let (group_names, group_of) = index_by_value(groups);
    let (n_labels, n_groups) = (label_names.len(), group_names.len());
    let mut counts = vec![vec![0usize; n_labels]; n_groups];
    let mut totals = vec![0usize; n_labels];
    for (&g, &l) in group_of.iter().zip(&label_of) {
        counts[g][l] += 1;
        totals[l] += 1;
    }
    let std = |values: &mut dyn Iterator<Item = f64>| {
        let values: Vec<f64> = values.collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
    };
    let mut placing: Vec<usize> = (0..n_groups).collect();
    match order {
        GroupOrder::ScikitLearn(seed) => {
            if let Some(seed) = seed {
                SplitMix64::new(seed).shuffle(&mut placing);
            }
            let spread: Vec<f64> = counts
                .iter()
                .map(|c| std(&mut c.iter().map(|&x| x as f64)))
                .collect();
            placing.sort_by(|&a, &b| spread[b].total_cmp(&spread[a]));
        }
        GroupOrder::Shuffled(seed) => SplitMix64::new(seed).shuffle(&mut placing),
    }
    let mut bin_counts = vec![vec![0usize; n_labels]; shares.len()];
    let mut bin_sizes = vec![0usize; shares.len()];
    let mut bin_of_group = vec![0usize; n_groups];
    let unevenness = |bin_counts: &[Vec<usize>]| -> f64 {
        (0..n_labels)
            .map(|l| {
                std(&mut bin_counts
                    .iter()
                    .zip(shares)
                    .map(|(c, share)| c[l] as f64 / totals[l] as f64 / share))
            })
            .sum::<f64>()
            / n_labels as f64
    };
    for g in placing {
        // (unevenness, fill for the share, bin) of the best bin so far.
        let mut best: Option<(f64, f64, usize)> = None;
        for bin in 0..shares.len() {
            for (n, c) in bin_counts[bin].iter_mut().zip(&counts[g]) {
                *n += c;
            }
            let candidate = (
                unevenness(&bin_counts),
                bin_sizes[bin] as f64 / shares[bin],
                bin,
            );
            for (n, c) in bin_counts[bin].iter_mut().zip(&counts[g]) {
                *n -= c;
            }
            let better = match best {
                None => true,
                Some((least, fill, _)) => {
                    let close = (candidate.0 - least).abs() <= 1e-8 + 1e-5 * least.abs();
                    candidate.0 < least || close && candidate.1 < fill
                }
            };
            if better {
                best = Some(candidate);
            }
        }
        let bin = best.expect("at least one bin").2;
        for (n, c) in bin_counts[bin].iter_mut().zip(&counts[g]) {
            *n += c;
        }
        bin_sizes[bin] += counts[g].iter().sum::<usize>();
        bin_of_group[g] = bin;
    }
    group_of.iter().map(|&g| bin_of_group[g]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(spec: &[(&str, usize)]) -> Vec<String> {
        spec.iter()
            .flat_map(|(l, n)| std::iter::repeat_n(l.to_string(), *n))
            .collect()
    }

    /// A corpus of (text, label) rows.
    fn corpus(rows: &[(&str, &str)]) -> LabelledCorpus {
        LabelledCorpus {
            texts: rows.iter().map(|r| r.0.to_string()).collect(),
            labels: rows.iter().map(|r| r.1.to_string()).collect(),
            ..LabelledCorpus::default()
        }
    }

    /// C values of a search on `train_rows` scored on `held_rows` with `grid` and, below
    /// it, `below`, and the chosen one.
    fn searched_cs(
        train_rows: &[(&str, &str)],
        held_rows: &[(&str, &str)],
        grid: &[f64],
        below: &[f64],
    ) -> (Vec<f64>, f64) {
        let mut options = TrainOptions::default();
        options.vectorizer.min_df = crate::vectorize::DocFreq::Count(1);
        options.metric = Metric::Accuracy;
        options.c_grid = grid.to_vec();
        options.c_below = below.to_vec();
        let validation = Validation::File {
            name: "held".into(),
            corpus: corpus(held_rows),
        };
        let model = train(&corpus(train_rows), &validation, &options, &mut |_| {}).unwrap();
        let selection = model.metadata.selection.unwrap();
        let cs = selection.candidates.iter().map(|c| c.c).collect();
        (cs, selection.candidates[selection.chosen].c)
    }

    const GOOD_BAD: [(&str, &str); 6] = [
        ("good fine great", "pos"),
        ("great good day", "pos"),
        ("fine good news", "pos"),
        ("bad awful poor", "neg"),
        ("poor bad day", "neg"),
        ("awful bad news", "neg"),
    ];

    #[test]
    fn values_below_the_grid_are_tried_while_the_smallest_c_scores_best() {
        // Held-out labels that contradict the training data: every C is wrong, the strongest
        // penalty is the least confident and wins, so the search steps below the grid while
        // it does. (Where the smallest C scores worse, the search stops there:
        // `each_round_goes_past_the_ends_that_score_as_well_as_the_best`.)
        let (grid, below) = ([1.0, 10.0], [0.1, 0.01]);
        let searched = searched_cs(&GOOD_BAD, &CONTRADICT, &grid, &below);
        assert_eq!(searched, (vec![0.01, 0.1, 1.0, 10.0], 0.01));
    }

    /// Held-out labels that agree with [`GOOD_BAD`]: the weakest penalty wins.
    const AGREE: [(&str, &str); 2] = [("good great", "pos"), ("bad awful", "neg")];
    /// Held-out labels that contradict [`GOOD_BAD`]: the strongest penalty wins.
    const CONTRADICT: [(&str, &str); 2] = [("good great", "neg"), ("bad awful", "pos")];

    #[test]
    fn the_search_starts_in_the_middle_of_the_grid() {
        // Given in any order, the grid is searched from its middle pair (0.1 and 1) outwards.
        let mut options = TrainOptions::default();
        options.vectorizer.min_df = crate::vectorize::DocFreq::Count(1);
        options.metric = Metric::Accuracy;
        options.c_grid = vec![100.0, 0.01, 1.0, 0.1, 10.0];
        options.c_below = Vec::new();
        let validation = Validation::File {
            name: "held".into(),
            corpus: corpus(&AGREE),
        };
        let mut order = Vec::new();
        let model = train(&corpus(&GOOD_BAD), &validation, &options, &mut |event| {
            if let Event::Candidate { c, .. } = event {
                order.push(c);
            }
        })
        .unwrap();
        assert_eq!(order[..2], [0.1, 1.0]);
        let selection = model.metadata.selection.unwrap();
        let cs: Vec<f64> = selection.candidates.iter().map(|c| c.c).collect();
        let path = [0.01, 0.1, 1.0, 10.0, 100.0];
        let first = path.iter().position(|&c| c == cs[0]).unwrap();
        assert_eq!(
            cs,
            path[first..first + cs.len()],
            "neighbours, listed in order of C"
        );
        // A value given twice is fitted once.
        let searched = searched_cs(&GOOD_BAD, &AGREE, &[1.0, 1.0], &[]);
        assert_eq!(searched, (vec![1.0], 1.0));
    }

    #[test]
    fn each_round_goes_past_the_ends_that_score_as_well_as_the_best() {
        // A path of 7 values, 2 and 3 tried; `best` lists the values scoring the best score.
        let next =
            |tried: Range<usize>, best: &[usize]| next_round(&tried, 7, |i| best.contains(&i));
        assert_eq!(next(2..4, &[3]), vec![4, 5], "up, two at a time");
        assert_eq!(next(2..4, &[2]), vec![0, 1], "down");
        assert_eq!(
            next(2..4, &[2, 3]),
            vec![1, 4],
            "a tie at both ends: one each way"
        );
        assert_eq!(next(1..4, &[1, 3]), vec![0, 4]);
        assert_eq!(next(2..5, &[3]), Vec::<usize>::new(), "bracketed: done");
        assert_eq!(next(5..7, &[6]), Vec::<usize>::new(), "the path's end");
        assert_eq!(
            next(5..7, &[5, 6]),
            vec![3, 4],
            "only one end left to go past"
        );
        assert_eq!(next(0..1, &[0]), vec![1, 2]);
        assert_eq!(grown(&(2..4), &[1, 4]), 1..5);
        assert_eq!(grown(&(2..4), &[4, 5]), 2..6);
    }

    #[test]
    fn a_round_starts_from_the_best_model_or_else_from_one_that_ties_it() {
        let options = TrainOptions {
            c_grid: vec![0.3, 1.0, 3.0, 10.0, 30.0, 100.0],
            c_below: vec![0.1],
            ..TrainOptions::default()
        };
        let (mut search, first) = PathSearch::new(&options);
        assert_eq!(search.cs_of(&first), [3.0, 10.0]);
        // 10 scores as 3 does, with the lower log-loss: it is the best, the next round starts
        // from its model and, both ends tying, goes one value each way.
        let (warm_from, next) = search.record(&first, &[(0.5, Some(0.9)), (0.5, Some(0.8))]);
        assert_eq!((warm_from, search.cs_of(&next)), (Some(1), vec![1.0, 30.0]));
        // Neither beats 10, but 30 ties it: the search goes on past 30, from 30's model.
        let (warm_from, next) = search.record(&next, &[(0.4, Some(0.7)), (0.5, Some(0.85))]);
        assert_eq!((warm_from, search.cs_of(&next)), (Some(1), vec![100.0]));
        // 100 scores worse: 10 stays the best, bracketed, and the search is done.
        let (warm_from, next) = search.record(&next, &[(0.45, Some(0.7))]);
        assert_eq!((warm_from, next), (None, vec![]));
        let (candidates, chosen) = search.candidates(ClassWeight::Balanced, &[7; 7]);
        let cs: Vec<f64> = candidates.iter().map(|c| c.c).collect();
        assert_eq!((cs, chosen), (vec![1.0, 3.0, 10.0, 30.0, 100.0], 2));
    }

    #[test]
    fn values_below_the_grid_must_be_below_it_and_decreasing() {
        for below in [vec![1.0], vec![0.1, 0.3], vec![f64::NAN]] {
            let options = TrainOptions {
                c_grid: vec![1.0, 10.0],
                c_below: below.clone(),
                ..TrainOptions::default()
            };
            let err =
                train(&corpus(&GOOD_BAD), &Validation::None, &options, &mut |_| {}).unwrap_err();
            assert!(matches!(err, Error::InvalidOption(_)), "{below:?}: {err}");
        }
    }

    const HELD_OUT: [(&str, &str); 4] = [
        ("good great", "pos"),
        ("fine day", "pos"),
        ("bad awful", "neg"),
        ("poor news", "neg"),
    ];

    fn small_options() -> TrainOptions {
        let mut options = TrainOptions::default();
        options.vectorizer.min_df = crate::vectorize::DocFreq::Count(1);
        options.c_grid = vec![1.0, 10.0];
        options.c_below = Vec::new();
        options
    }

    #[test]
    fn a_small_validation_file_is_pooled_with_the_training_data() {
        let pooled = Validation::for_file("held".into(), corpus(&HELD_OUT), true, 7);
        assert!(matches!(
            pooled,
            Validation::Pooled {
                folds: POOLED_FOLDS,
                seed: 7,
                ..
            }
        ));
        let model = train(&corpus(&GOOD_BAD), &pooled, &small_options(), &mut |_| {}).unwrap();
        let meta = &model.metadata;
        assert_eq!(meta.n_train, GOOD_BAD.len() + HELD_OUT.len());
        assert_eq!(
            meta.data_fingerprint,
            fingerprint(&corpus(&GOOD_BAD).concat(&corpus(&HELD_OUT)))
        );
        let selection = meta.selection.as_ref().unwrap();
        assert_eq!(selection.fold_scores.len(), POOLED_FOLDS);
        assert_eq!(selection.report.n, GOOD_BAD.len() + HELD_OUT.len());
        assert!(
            meta.options.validation.contains("pooled"),
            "{}",
            meta.options.validation
        );
        assert!(selection
            .scored_on
            .contains("6 training and 4 validation records"));

        let alone = Validation::for_file("held".into(), corpus(&HELD_OUT), false, 7);
        assert!(matches!(alone, Validation::File { .. }));
        let model = train(&corpus(&GOOD_BAD), &alone, &small_options(), &mut |_| {}).unwrap();
        assert_eq!(model.metadata.n_train, GOOD_BAD.len());
        assert_eq!(model.metadata.selection.unwrap().report.n, HELD_OUT.len());
    }

    #[test]
    fn cross_validation_searches_from_the_middle_of_the_grid_too() {
        let mut options = small_options();
        options.metric = Metric::Accuracy;
        options.c_grid = vec![100.0, 0.01, 1.0, 0.1, 10.0];
        let data = corpus(&GOOD_BAD).concat(&corpus(&HELD_OUT));
        let validation = Validation::CrossValidation { folds: 2, seed: 5 };
        let mut fold_events = Vec::new();
        let model = train(&data, &validation, &options, &mut |event| {
            if let Event::Fold { fold, cs, .. } = event {
                fold_events.push((fold, cs));
            }
        })
        .unwrap();
        let selection = model.metadata.selection.unwrap();
        let cs: Vec<f64> = selection.candidates.iter().map(|c| c.c).collect();
        // Every fold fits the middle pair first, then the rounds the scores call for.
        assert_eq!(fold_events[..2], [(1, vec![0.1, 1.0]), (2, vec![0.1, 1.0])]);
        assert_eq!(fold_events.len(), 2 * cs.len().div_ceil(2));
        // The values tried are neighbours on the grid, the best is the chosen one, and it is
        // bracketed by worse values or sits at the grid's end.
        let path = [0.01, 0.1, 1.0, 10.0, 100.0];
        let first = path.iter().position(|&c| c == cs[0]).unwrap();
        assert_eq!(cs, path[first..first + cs.len()]);
        let score = |i: usize| selection.candidates[i].score;
        let chosen = selection.chosen;
        assert!((0..cs.len()).all(|i| score(i) <= score(chosen)));
        assert!(chosen > 0 || cs[0] == path[0], "{cs:?}");
        assert!(
            chosen + 1 < cs.len() || cs[cs.len() - 1] == path[4],
            "{cs:?}"
        );
        assert_eq!(selection.fold_scores.len(), 2);
    }

    #[test]
    fn a_small_validation_file_pooled_with_large_training_data_is_judged_on_a_split() {
        // Two words per record, one of which gives the label away; word unigrams only and
        // one C keep the fit cheap.
        let rows = |n: usize, offset: usize| {
            let rows: Vec<(String, &str)> = (offset..offset + n)
                .map(|i| {
                    let (word, label) = if i % 2 == 0 {
                        ("good", "pos")
                    } else {
                        ("bad", "neg")
                    };
                    (format!("{word} w{}", i % 97), label)
                })
                .collect();
            LabelledCorpus {
                texts: rows.iter().map(|r| r.0.clone()).collect(),
                labels: rows.iter().map(|r| r.1.to_string()).collect(),
                ..LabelledCorpus::default()
            }
        };
        let (train_rows, valid_rows) = (rows(POOLED_SPLIT_FROM - 100, 0), rows(100, 1));
        let mut options = small_options();
        options.vectorizer.char_ngrams = None;
        options.vectorizer.word_ngrams = Some(crate::vectorize::NgramRange { min: 1, max: 1 });
        options.c_grid = vec![1.0];
        options.epochs = Some(1);
        let pooled = Validation::for_file("v".into(), valid_rows.clone(), true, 3);
        let mut held_out: Option<(usize, LabelledCorpus)> = None;
        let model = train(&train_rows, &pooled, &options, &mut |event| {
            if let Event::HeldOut { probs, records } = event {
                held_out = Some((probs.len(), records.clone()));
            }
        })
        .unwrap();
        let (held_out_probs, held) = held_out.expect("held-out predictions");
        // Chosen on a 10 % split of both files, then fitted on both.
        assert_eq!(held.len(), POOLED_SPLIT_FROM / 10);
        assert_eq!(held_out_probs, held.len());
        let both = train_rows.concat(&valid_rows);
        let (_, split) = stratified_split(&both.labels, POOLED_SPLIT, 3);
        assert_eq!(held.texts, both.subset(&split).texts, "the split's records");
        let meta = &model.metadata;
        assert_eq!(meta.n_train, POOLED_SPLIT_FROM);
        assert!(meta.options.refit);
        let selection = meta.selection.as_ref().unwrap();
        assert_eq!(selection.report.n, held.len());
        assert!(selection.fold_scores.is_empty());
        assert!(meta.options.validation.contains("pooled"));
        assert!(selection
            .scored_on
            .contains("split of the 49900 training and 100 validation"));
        assert!(selection.report.accuracy > 0.99);

        // One record fewer, and the folds judge.
        assert!(pooled_by_split(&train_rows, &valid_rows));
        assert!(!pooled_by_split(
            &rows(POOLED_SPLIT_FROM - 101, 0),
            &valid_rows
        ));
    }

    #[test]
    fn validation_files_from_the_threshold_up_are_used_as_they_are() {
        let rows = |n: usize| corpus(&vec![("text", "pos"); n]);
        let small = Validation::for_file("v".into(), rows(SMALL_VALIDATION - 1), true, 1);
        assert!(matches!(small, Validation::Pooled { .. }));
        let large = Validation::for_file("v".into(), rows(SMALL_VALIDATION), true, 1);
        assert!(matches!(large, Validation::File { .. }));
    }

    #[test]
    fn the_automatic_min_df_is_resolved_once_and_recorded() {
        let options = TrainOptions {
            vectorizer: VectorizerConfig::default(),
            ..small_options()
        };
        let validation = Validation::CrossValidation { folds: 2, seed: 1 };
        let model = train(&corpus(&GOOD_BAD), &validation, &options, &mut |_| {}).unwrap();
        let one = crate::vectorize::DocFreq::Count(1);
        assert_eq!(model.metadata.options.vectorizer.min_df, one);
        assert_eq!(model.vectorizer.config.min_df, one);
    }

    #[test]
    fn a_validation_label_the_training_data_lacks_is_an_error() {
        let mut held = HELD_OUT.to_vec();
        held.push(("so so", "mixed"));
        for pool in [false, true] {
            let validation = Validation::for_file("held.jsonl".into(), corpus(&held), pool, 1);
            let err = train(
                &corpus(&GOOD_BAD),
                &validation,
                &small_options(),
                &mut |_| {},
            )
            .unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, Error::BadInput { .. }), "{message}");
            for part in ["held.jsonl", "`mixed`", "record 5"] {
                assert!(message.contains(part), "{message}");
            }
        }
    }

    #[test]
    fn cross_validation_decides_on_a_prior_shift_from_out_of_fold_predictions() {
        for prior_shift in [true, false] {
            let options = TrainOptions {
                prior_shift,
                ..small_options()
            };
            let validation = Validation::CrossValidation { folds: 2, seed: 1 };
            let model = train(&corpus(&GOOD_BAD), &validation, &options, &mut |_| {}).unwrap();
            let shift = model.metadata.selection.unwrap().prior_shift;
            assert_eq!(shift.is_some(), prior_shift);
        }
    }

    #[test]
    fn stratified_split_keeps_proportions() {
        let y = labels(&[("a", 80), ("b", 20)]);
        let (train, held) = stratified_split(&y, 0.25, 7);
        assert_eq!(held.len(), 25);
        assert_eq!(held.iter().filter(|&&i| y[i] == "b").count(), 5);
        assert_eq!(train.len() + held.len(), 100);
        assert_eq!(
            stratified_split(&y, 0.25, 7),
            (train, held),
            "same seed, same split"
        );
    }

    /// Labels and groups of records in groups of one to six records, each group mostly of
    /// one label.
    fn grouped_records(n_groups: usize) -> (Vec<String>, Vec<String>) {
        let (mut y, mut groups) = (Vec::new(), Vec::new());
        for g in 0..n_groups {
            for r in 0..1 + g % 6 {
                let label = if r == 2 { (g + 1) % 3 } else { g % 3 };
                y.push(["a", "b", "c"][label].to_string());
                groups.push(format!("article-{g}"));
            }
        }
        (y, groups)
    }

    #[test]
    fn grouped_folds_keep_each_group_in_one_fold_and_spread_the_labels() {
        let (y, groups) = grouped_records(40);
        let k = 5;
        let folds = grouped_folds(&y, &groups, k, 7);
        for i in 0..y.len() {
            for j in 0..y.len() {
                if groups[i] == groups[j] {
                    assert_eq!(folds[i], folds[j], "{} split", groups[i]);
                }
            }
        }
        for label in ["a", "b", "c"] {
            let total = y.iter().filter(|l| *l == label).count() as f64;
            for f in 0..k {
                let here = (0..y.len())
                    .filter(|&i| folds[i] == f && y[i] == label)
                    .count() as f64;
                // Whole groups of up to six records: each fold within one group of its share.
                assert!(
                    (here - total / k as f64).abs() <= 6.0,
                    "fold {f} holds {here} of {total} `{label}`"
                );
            }
        }
        assert_eq!(folds, grouped_folds(&y, &groups, k, 7), "seeded");
        assert_ne!(folds, grouped_folds(&y, &groups, k, 8), "the seed shuffles");
    }

    #[test]
    fn cross_fit_halves_keep_groups_whole_and_vary_with_the_seed() {
        let (y, groups) = grouped_records(40);
        let mut splits = std::collections::HashSet::new();
        for seed in 0..10 {
            let (a, b) = cross_fit_halves(&y, &groups, seed).expect("two halves");
            assert_eq!(a.len() + b.len(), y.len());
            let in_a: std::collections::HashSet<&String> = a.iter().map(|&i| &groups[i]).collect();
            assert!(
                b.iter().all(|&i| !in_a.contains(&groups[i])),
                "a group split"
            );
            for label in ["a", "b", "c"] {
                let total = y.iter().filter(|l| *l == label).count() as f64;
                let here = a.iter().filter(|&&i| y[i] == label).count() as f64;
                // Whole groups of up to six records: each half within one group of its share.
                assert!(
                    (here - total / 2.0).abs() <= 6.0,
                    "seed {seed}: {here} of {total} `{label}` in one half"
                );
            }
            // A split and its mirror image cross-fit the same way.
            splits.insert(if a.contains(&0) { a } else { b });
        }
        assert!(splits.len() >= 8, "{} different splits", splits.len());
        // `grouped_split` takes the groups most unevenly labelled first and the seed orders
        // only ties: with none (group g: 2g + 1 `a` records and g % 2 `b`), every seed gives
        // the same split, while the cross-fit halves still vary.
        let (mut y, mut groups) = (Vec::new(), Vec::new());
        for g in 0..12 {
            for (label, n) in [("a", 2 * g + 1), ("b", g % 2)] {
                y.extend(std::iter::repeat_n(label.to_string(), n));
                groups.extend(std::iter::repeat_n(format!("g{g}"), n));
            }
        }
        let distinct = |split: &dyn Fn(u64) -> Vec<usize>| {
            (0..10)
                .map(split)
                .collect::<std::collections::HashSet<_>>()
                .len()
        };
        assert_eq!(distinct(&|seed| grouped_split(&y, &groups, 0.5, seed).0), 1);
        let half_with_first = |seed| {
            let (a, b) = cross_fit_halves(&y, &groups, seed).unwrap();
            if a.contains(&0) {
                a
            } else {
                b
            }
        };
        assert!(distinct(&half_with_first) >= 8);
        let one_group = vec!["all".to_string(); y.len()];
        assert_eq!(cross_fit_halves(&y, &one_group, 1), None);
        assert_eq!(
            cross_fit_halves(&y, &[], 3),
            Some(stratified_split(&y, 0.5, 3))
        );
    }

    #[test]
    fn grouped_folds_are_stratified_when_whole_groups_allow_it() {
        // Ten groups of two `a` records and ten of two `b`: by size alone any mix of them
        // would fill five folds evenly; stratified, each fold gets two groups of each.
        let y = labels(&[("a", 20), ("b", 20)]);
        let groups: Vec<String> = (0..40).map(|i| format!("g{}", i / 2)).collect();
        for seed in 0..5 {
            let folds = grouped_folds(&y, &groups, 5, seed);
            for f in 0..5 {
                for label in ["a", "b"] {
                    let here = (0..40).filter(|&i| folds[i] == f && y[i] == label).count();
                    assert_eq!(here, 4, "seed {seed}, fold {f}, `{label}`");
                }
            }
        }
    }

    #[test]
    fn unshuffled_grouped_folds_are_scikit_learns() {
        // 30 groups of 1 to 8 records, mostly of one label each (numpy seed 0), and the
        // test fold of each record from scikit-learn 1.9.1's
        // `StratifiedGroupKFold(n_splits=4, shuffle=False)`. (The mean of variances instead of
        // standard deviations, or the sum of squared gaps, places some groups elsewhere.)
        let labels: Vec<String> = "bbbbbcccbccaabcaacaaaaabbbbbbccaaaacccccaaaaaaaaccbbbcccccccaaaaaaaaabaaaaabaaccccccbabaccccccccacccabbbabcabbbabbaaacaaaaaaacabbbbb"
            .chars()
            .map(String::from)
            .collect();
        let groups: Vec<String> = "00,00,00,00,00,01,01,01,01,01,02,02,02,02,02,03,03,03,03,03,03,03,03,04,04,04,04,04,04,05,05,06,06,06,06,07,07,07,07,07,08,08,08,08,08,08,08,08,09,09,10,10,10,11,11,11,12,12,12,12,13,13,14,14,14,14,15,15,15,15,15,16,17,17,17,17,17,18,19,19,19,19,19,19,20,20,20,20,21,21,21,21,21,21,21,22,22,22,22,22,23,23,23,23,23,23,24,24,24,24,25,25,25,25,26,26,26,26,26,26,27,27,28,28,28,28,28,29,29,29,29,29"
            .split(',')
            .map(|g| format!("g{g}"))
            .collect();
        let expected: Vec<usize> = "000003333333333111111112222220000003333333333333111112221111110000222222333331222222222200000001111133333333330000222222110000011111"
            .bytes()
            .map(|b| (b - b'0') as usize)
            .collect();
        assert_eq!(
            grouped_bins(&labels, &groups, &[0.25; 4], GroupOrder::ScikitLearn(None)),
            expected
        );
    }

    #[test]
    fn a_label_left_without_training_records_is_named_with_its_cure() {
        let labels = labels(&[("a", 1), ("b", 1), ("c", 1)]);
        let mut part = corpus(&[("one", "a"), ("two", "c")]);
        let err = check_has_labels(&part, &labels).unwrap_err().to_string();
        assert!(
            err.contains("label `b` has no training example left: use a smaller --valid-split"),
            "{err}"
        );
        part.groups = vec!["g1".into(), "g2".into()];
        let err = check_has_labels(&part, &labels).unwrap_err().to_string();
        assert!(
            err.contains(
                "label `b` has no training example left: every group holding it was held out"
            ),
            "{err}"
        );
    }

    #[test]
    fn with_as_many_groups_as_folds_each_fold_gets_one() {
        let (y, groups) = grouped_records(5);
        let folds = grouped_folds(&y, &groups, 5, 1);
        let mut used: Vec<usize> = folds.clone();
        used.sort_unstable();
        used.dedup();
        assert_eq!(used, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn a_grouped_split_holds_out_about_the_fraction_in_whole_groups() {
        let (y, groups) = grouped_records(60);
        let (part, held) = grouped_split(&y, &groups, 0.2, 3);
        assert_eq!(part.len() + held.len(), y.len());
        let share = held.len() as f64 / y.len() as f64;
        assert!((0.15..=0.25).contains(&share), "held out {share}");
        for &i in &held {
            assert!(
                part.iter().all(|&j| groups[j] != groups[i]),
                "{} split",
                groups[i]
            );
        }
        // Two groups of five cannot be split 90:10 whole: nothing is held out, and the
        // caller says so.
        let (y, groups) = (labels(&[("a", 5), ("b", 5)]), labels(&[("g", 5), ("h", 5)]));
        assert!(grouped_split(&y, &groups, 0.1, 3).1.is_empty());
    }

    #[test]
    fn folds_are_balanced_per_label() {
        let y = labels(&[("a", 10), ("b", 5)]);
        let folds = stratified_folds(&y, 5, 1);
        for f in 0..5 {
            let in_fold: Vec<usize> = (0..15).filter(|&i| folds[i] == f).collect();
            assert_eq!(in_fold.len(), 3);
            assert_eq!(in_fold.iter().filter(|&&i| y[i] == "b").count(), 1);
        }
    }
}
