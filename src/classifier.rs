//! A trained classifier: the fitted vectoriser, the logistic-regression weights, the label
//! names and the metadata that make a model file self-describing.

use serde::{Deserialize, Serialize};

use crate::logistic::{argmax, LogisticRegression};
use crate::metrics::{Metric, Report};
use crate::overlap::{share, text_fingerprint, Overlap, Seen, TextSet};
use crate::sparse::CsrMatrix;
use crate::train::TrainOptions;
use crate::vectorize::TfidfVectorizer;

/// Everything needed to classify new text, plus how it was made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Classifier {
    /// Class names; class `i` of the model is `labels[i]`.
    pub labels: Vec<String>,
    pub vectorizer: TfidfVectorizer,
    pub model: LogisticRegression,
    pub metadata: Metadata,
}

/// How a model was trained and how well it did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metadata {
    /// The `stance` version that trained it.
    pub tool_version: String,
    /// The options it was trained with.
    pub options: TrainOptions,
    /// SHA-256 over the training records (label and text, in order).
    pub data_fingerprint: String,
    /// Number of training records used for the saved weights.
    pub n_train: usize,
    /// Training records per label, in label order.
    pub label_counts: Vec<usize>,
    /// The model search and the held-out evaluation, when there was one.
    pub selection: Option<Selection>,
    /// The texts the saved weights were fitted on, so that an evaluation can say which of
    /// its records the model has seen ([`crate::overlap`]).
    pub fitted_texts: TextSet,
    /// The held-out texts whose scores chose C and the decision rule, when the saved
    /// weights were not also fitted on them (a validation file or split without `--refit`);
    /// empty otherwise.
    pub selected_texts: TextSet,
}

/// The outcome of a model search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Selection {
    /// What the candidates were scored on, e.g. `validation file val.jsonl (1,000 records)`.
    pub scored_on: String,
    pub metric: Metric,
    /// Every candidate tried, in order.
    pub candidates: Vec<Candidate>,
    /// Index into `candidates` of the chosen one.
    pub chosen: usize,
    /// The held-out report of the chosen candidate (pooled over folds for cross-validation).
    pub report: Report,
    /// Per-fold values of the metric for the chosen candidate (cross-validation only).
    pub fold_scores: Vec<f64>,
    /// The decision rule's evidence and offsets, from the held-out predictions (`None` with
    /// the rule turned off).
    pub prior_shift: Option<crate::decision::PriorShiftReport>,
    /// The calibration's evidence and temperature, from the held-out predictions (`None`
    /// with calibration turned off).
    pub temperature: Option<crate::calibration::Temperature>,
    /// Held-out records whose text a candidate may have been fitted on: for a validation
    /// file or split, those repeating a text of the training part; for cross-validation
    /// (pooled or not), those sharing their text with another record, whose copy can fall
    /// in another fold ([`crate::overlap`]).
    pub held_out_repeats: usize,
    /// How the validation file's labels are distributed against the training data's
    /// (`None` without a validation file: a split is stratified).
    pub label_shift: Option<crate::label_shift::LabelShift>,
}

impl Selection {
    /// The training report's notes on what its held-out figures rest on
    /// ([`Self::repeats_note`], then [`Self::label_shift_note`]), those that apply; `grouped`
    /// when the records had groups.
    pub fn notes(&self, grouped: bool) -> impl Iterator<Item = String> {
        [self.repeats_note(), self.label_shift_note(grouped)]
            .into_iter()
            .flatten()
    }

    /// What a training report says of held-out records whose text a candidate may have been
    /// fitted on, if there are any.
    pub fn repeats_note(&self) -> Option<String> {
        let repeats = self.held_out_repeats;
        if repeats == 0 {
            return None;
        }
        let share = share(repeats, self.report.n, "held-out records");
        let (repeat, share_their, their_scores_are) = if repeats == 1 {
            ("repeats", "shares its", "its score is")
        } else {
            ("repeat", "share their", "their scores are")
        };
        Some(if self.fold_scores.is_empty() {
            format!(
                "{share} {repeat} a text of the training data, so {their_scores_are} not held out"
            )
        } else {
            format!("{share} {share_their} text with another record, so {their_scores_are} not held out when the copies fall in different folds")
        })
    }

    /// What a training report says when the validation file's labels are distributed
    /// differently from the training data's beyond chance, if they are; with the test's
    /// caveat ([`crate::label_shift::GROUPS_CAVEAT`]) when the records were `grouped`.
    pub fn label_shift_note(&self, grouped: bool) -> Option<String> {
        let shift = self.label_shift.filter(|s| s.is_marked())?;
        let what = format!(
            "the validation file's labels are not distributed like the training data's ({}): it is a different sample",
            shift.describe()
        );
        let note = if self.fold_scores.is_empty() {
            format!("{what}, so what it chose (C, the decision rule) serves data like it and may cost on data like the training data (--no-prior-shift keeps plain argmax)")
        } else {
            format!("{what}, pooled with the training data because it is small; if it resembles the data the model will meet better than the training data does, --no-valid-pooling keeps it apart")
        };
        Some(if grouped {
            format!("{note}; {}", crate::label_shift::GROUPS_CAVEAT)
        } else {
            note
        })
    }
}

/// One point of a model search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Candidate {
    pub c: f64,
    pub class_weight: crate::logistic::ClassWeight,
    /// The metric on held-out data (mean over folds for cross-validation).
    pub score: f64,
    /// L-BFGS iterations used (summed over folds for cross-validation).
    pub iterations: u64,
}

/// One prediction: the label and every label's probability, and why, when that was asked
/// for ([`Classifier::predict_with_evidence`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Prediction {
    pub label: String,
    /// Probabilities in the classifier's label order.
    pub probs: Vec<f64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// Why a text got its label, in log-odds toward the label: where the model stands before
/// reading the text, and the n-grams that moved it most. The baseline and every n-gram's
/// contribution (not just the ones listed) sum to the label's score against the labels'
/// mean (binary: against the other label).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// The intercept's push toward the label (class priors, the decision rule's offsets).
    pub baseline: f64,
    /// The n-grams that pushed hardest toward or away from the label, largest push first.
    pub evidence: Vec<Evidence>,
}

/// A feature's signed push on one prediction: `value × weight`, in log-odds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub feature: String,
    pub contribution: f64,
}

impl Classifier {
    /// Class probabilities for many texts (parallel; order kept). Each text's row is scored
    /// as soon as it is vectorised, so no matrix of the texts is built.
    pub fn predict_proba(&self, texts: &[String]) -> Vec<Vec<f64>> {
        self.vectorizer.map_rows(texts, |row| {
            self.model.predict_proba_row(&row.cols, &row.vals)
        })
    }

    /// Class probabilities for an already vectorised matrix.
    pub fn predict_proba_matrix(&self, x: &CsrMatrix) -> Vec<Vec<f64>> {
        self.model
            .predict_proba(x)
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect()
    }

    /// Predictions for many texts.
    pub fn predict(&self, texts: &[String]) -> Vec<Prediction> {
        self.predict_proba(texts)
            .into_iter()
            .map(|probs| Prediction {
                label: self.labels[argmax(&probs)].clone(),
                probs,
                explanation: None,
            })
            .collect()
    }

    /// Predictions for many texts, each with its [`Explanation`]: the baseline and the `top`
    /// n-grams that pushed hardest toward or away from its label ([`Self::explain`]), so
    /// every label can be checked against the words it came from.
    pub fn predict_with_evidence(&self, texts: &[String], top: usize) -> Vec<Prediction> {
        self.vectorizer.map_rows(texts, |row| {
            let probs = self.model.predict_proba_row(&row.cols, &row.vals);
            let class = argmax(&probs);
            let pushes = row
                .cols
                .iter()
                .zip(&row.vals)
                .map(|(&col, &value)| (col, value));
            Prediction {
                label: self.labels[class].clone(),
                explanation: Some(self.explanation_of_row(pushes, class, top)),
                probs,
            }
        })
    }

    /// Whether, and how, this model has seen `text` exactly ([`crate::overlap`]): fitted
    /// on it, or selected on it.
    pub fn seen(&self, text: &str) -> Option<Seen> {
        Seen::of(
            text_fingerprint(text),
            &self.metadata.fitted_texts,
            &self.metadata.selected_texts,
        )
    }

    /// How many of `texts` (each record counted) this model was fitted on, and how many it
    /// was selected on ([`Overlap`]): what a figure on them is not a held-out estimate for.
    pub fn overlap(&self, texts: &[String]) -> Overlap {
        Overlap::of(
            texts,
            &self.metadata.fitted_texts,
            &self.metadata.selected_texts,
        )
    }

    /// Evaluate on labelled texts.
    pub fn evaluate(&self, texts: &[String], truth: &[String], metric: Option<&Metric>) -> Report {
        let probs = self.predict_proba(texts);
        let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
        Report::new(&self.labels, truth, &predicted, Some(&probs), metric)
    }

    /// The `top` features that pushed `text` hardest toward or away from `class`, by
    /// absolute contribution, largest first.
    pub fn explain(&self, text: &str, class: usize, top: usize) -> Vec<Evidence> {
        self.strongest_pushes(self.vectorizer.transform_one(text), class, top)
    }

    /// Why `text` scores as it does for `class`: the class's baseline and the `top` n-grams
    /// of [`Self::explain`].
    pub fn explanation(&self, text: &str, class: usize, top: usize) -> Explanation {
        self.explanation_of_row(self.vectorizer.transform_one(text), class, top)
    }

    /// [`Self::explanation`] for a vectorised row of (column, value).
    fn explanation_of_row(
        &self,
        row: impl IntoIterator<Item = (u32, f32)>,
        class: usize,
        top: usize,
    ) -> Explanation {
        Explanation {
            baseline: self.model.intercept_contribution(class),
            evidence: self.strongest_pushes(row, class, top),
        }
    }

    /// [`Self::explain`] for a vectorised row of (column, value).
    fn strongest_pushes(
        &self,
        row: impl IntoIterator<Item = (u32, f32)>,
        class: usize,
        top: usize,
    ) -> Vec<Evidence> {
        let mut pushes: Vec<(u32, f64)> = row
            .into_iter()
            .map(|(col, value)| (col, self.model.contribution(col, value, class)))
            .collect();
        // Name only the features that can make the list: the `top` largest pushes and any
        // that tie the last of them (ties are ordered by name).
        pushes.sort_unstable_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        if let Some(&(_, last)) = pushes.get(top.saturating_sub(1)) {
            let keep = top + pushes[top..].partition_point(|p| p.1.abs() == last.abs());
            pushes.truncate(keep);
        }
        let mut evidence: Vec<Evidence> = pushes
            .into_iter()
            .map(|(col, contribution)| Evidence {
                feature: self.vectorizer.feature_name(col),
                contribution,
            })
            .collect();
        evidence.sort_by(|a, b| {
            b.contribution
                .abs()
                .total_cmp(&a.contribution.abs())
                .then_with(|| a.feature.cmp(&b.feature))
        });
        evidence.truncate(top);
        evidence
    }

    /// The `top` features with the largest positive weight for each class (weights centred
    /// across classes for multinomial models), as (feature, weight).
    pub fn top_features(&self, top: usize) -> Vec<(String, Vec<(String, f64)>)> {
        let n_features = self.model.n_features();
        self.labels
            .iter()
            .enumerate()
            .map(|(class, label)| {
                let mut weights: Vec<(usize, f64)> = (0..n_features)
                    .map(|j| (j, self.model.class_weight_of(j, class)))
                    .collect();
                weights.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let best = weights
                    .into_iter()
                    .take(top)
                    .map(|(j, w)| (self.vectorizer.feature_name(j as u32), w))
                    .collect();
                (label.clone(), best)
            })
            .collect()
    }
}
