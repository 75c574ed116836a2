//! Evaluating: accuracy, per-class precision/recall/F1, macro and weighted averages, the
//! confusion matrix, log-loss and the user's chosen selection metric.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::corpus::index_by_value;
use crate::error::{Error, Result};

/// The figure a model search maximises and a report highlights. Serialised as its
/// command-line name (`macro-f1`, `f1:against,favor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Metric {
    Accuracy,
    MacroF1,
    WeightedF1,
    MacroRecall,
    /// Mean F1 over the named labels (for stance: `f1:against,favor`).
    F1Of(Vec<String>),
}

impl std::str::FromStr for Metric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s {
            "accuracy" => Metric::Accuracy,
            "macro-f1" => Metric::MacroF1,
            "weighted-f1" => Metric::WeightedF1,
            "macro-recall" => Metric::MacroRecall,
            _ => match s.strip_prefix("f1:") {
                Some(list) if !list.trim().is_empty() => {
                    let named: Vec<String> = list
                        .split(',')
                        .map(|l| l.trim().to_string())
                        .filter(|l| !l.is_empty())
                        .collect();
                    if let Some((_, l)) = named
                        .iter()
                        .enumerate()
                        .find(|&(i, l)| named[..i].contains(l))
                    {
                        return Err(Error::InvalidOption(format!(
                            "metric `{s}` names label `{l}` twice: name each label once"
                        )));
                    }
                    Metric::F1Of(named)
                }
                _ => {
                    return Err(Error::InvalidOption(format!(
                        "unknown metric `{s}`: use accuracy, macro-f1, weighted-f1, macro-recall or f1:LABEL[,LABEL…]"
                    )))
                }
            },
        })
    }
}

impl From<Metric> for String {
    fn from(m: Metric) -> String {
        m.to_string()
    }
}

impl TryFrom<String> for Metric {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse().map_err(|e: Error| e.to_string())
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Metric::Accuracy => f.write_str("accuracy"),
            Metric::MacroF1 => f.write_str("macro-f1"),
            Metric::WeightedF1 => f.write_str("weighted-f1"),
            Metric::MacroRecall => f.write_str("macro-recall"),
            Metric::F1Of(labels) => write!(f, "f1:{}", labels.join(",")),
        }
    }
}

impl Metric {
    /// Check that every label the metric names is one of `labels`, which are `whose` (the
    /// training data's, the model's): F1 of a label no prediction can take says nothing.
    pub fn check_labels(&self, labels: &[String], whose: &str) -> Result<()> {
        if let Metric::F1Of(named) = self {
            for l in named {
                if !labels.contains(l) {
                    return Err(Error::InvalidOption(format!(
                        "metric {self} names label `{l}`, which is not among {whose} labels ({})",
                        labels.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }

    /// The metric's value in a report.
    pub fn value(&self, report: &Report) -> f64 {
        match self {
            Metric::Accuracy => report.accuracy,
            Metric::MacroF1 => report.macro_avg.f1,
            Metric::WeightedF1 => report.weighted_avg.f1,
            Metric::MacroRecall => report.macro_avg.recall,
            Metric::F1Of(named) => {
                let f1s: Vec<f64> = named
                    .iter()
                    .map(|l| report.class(l).map_or(0.0, |c| c.f1))
                    .collect();
                f1s.iter().sum::<f64>() / f1s.len() as f64
            }
        }
    }
}

/// Scores of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of true examples of the class.
    pub support: usize,
}

/// Averages over classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Averages {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// An evaluation of predictions against true labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Number of examples.
    pub n: usize,
    pub accuracy: f64,
    /// One entry per label: the model's labels, then true labels the model never saw.
    pub classes: Vec<ClassScores>,
    /// Unweighted mean over the `classes` with a record or a prediction (as scikit-learn's
    /// classification report; see [`Report::unscored_labels`]).
    pub macro_avg: Averages,
    /// Mean over `classes` weighted by support.
    pub weighted_avg: Averages,
    /// `confusion[true][predicted]`, indexed like `classes`.
    pub confusion: Vec<Vec<usize>>,
    /// Mean negative log-probability of the true label over the examples whose label the
    /// model knows (probabilities clipped at 1e-15, as scikit-learn before 1.5); examples
    /// with a label it never saw have no probability and are left out.
    pub log_loss: Option<f64>,
    /// True labels the model never saw, with their counts (they count as errors).
    pub unseen_labels: Vec<(String, usize)>,
    /// The chosen metric, when there is one.
    pub metric: Option<MetricValue>,
}

/// A named metric value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    pub name: String,
    pub value: f64,
}

impl Report {
    /// Evaluate predicted class indices (into `model_labels`) against true label names.
    /// `probs`, when given, holds each example's probabilities in `model_labels` order.
    pub fn new(
        model_labels: &[String],
        truth: &[String],
        predicted: &[usize],
        probs: Option<&[Vec<f64>]>,
        metric: Option<&Metric>,
    ) -> Report {
        assert_eq!(truth.len(), predicted.len());
        let mut labels: Vec<String> = model_labels.to_vec();
        let mut unseen_labels: Vec<(String, usize)> = Vec::new();
        let truth_index: Vec<usize> = truth
            .iter()
            .map(|t| match labels.iter().position(|l| l == t) {
                Some(i) => {
                    if i >= model_labels.len() {
                        unseen_labels[i - model_labels.len()].1 += 1;
                    }
                    i
                }
                None => {
                    labels.push(t.clone());
                    unseen_labels.push((t.clone(), 1));
                    labels.len() - 1
                }
            })
            .collect();
        let k = labels.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (&t, &p) in truth_index.iter().zip(predicted) {
            confusion[t][p] += 1;
        }
        let log_loss = probs.and_then(|probs| {
            let known: Vec<f64> = truth_index
                .iter()
                .zip(probs)
                .filter(|(&t, _)| t < model_labels.len())
                .map(|(&t, p)| -p[t].clamp(1e-15, 1.0).ln())
                .collect();
            (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64)
        });
        Report::from_confusion(labels, confusion, log_loss, unseen_labels, metric)
    }

    /// The report of a confusion matrix (`confusion[true][predicted]`, indexed like `labels`),
    /// with a log-loss computed elsewhere. [`Report::new`] builds the matrix and calls this;
    /// the bootstrap ([`crate::bootstrap`]) calls it once per resample.
    pub fn from_confusion(
        labels: Vec<String>,
        confusion: Vec<Vec<usize>>,
        log_loss: Option<f64>,
        unseen_labels: Vec<(String, usize)>,
        metric: Option<&Metric>,
    ) -> Report {
        let k = labels.len();
        assert_eq!(confusion.len(), k, "one confusion row per label");
        let n: usize = confusion.iter().flatten().sum();
        let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
        // The macro averages cover the classes with a record or a prediction, as
        // scikit-learn's default: one with neither has precision, recall and F1 of 0/0, and
        // counting it as 0 would pull the average down for a class the data never tested
        // (and drag a bootstrap interval below its own point estimate whenever a resample
        // leaves a small class out).
        let mut scored = Vec::with_capacity(k);
        let classes: Vec<ClassScores> = (0..k)
            .map(|c| {
                let tp = confusion[c][c] as f64;
                let support: usize = confusion[c].iter().sum();
                let predicted_c: usize = confusion.iter().map(|row| row[c]).sum();
                scored.push(support > 0 || predicted_c > 0);
                let precision = ratio(tp, predicted_c as f64);
                let recall = ratio(tp, support as f64);
                ClassScores {
                    label: labels[c].clone(),
                    precision,
                    recall,
                    f1: ratio(2.0 * precision * recall, precision + recall),
                    support,
                }
            })
            .collect();
        let n_scored = scored.iter().filter(|&&s| s).count();
        let mean = |f: fn(&ClassScores) -> f64, weighted: bool| -> f64 {
            if weighted {
                classes.iter().map(|c| f(c) * c.support as f64).sum::<f64>() / n.max(1) as f64
            } else {
                let sum: f64 = classes
                    .iter()
                    .zip(&scored)
                    .filter(|(_, &s)| s)
                    .map(|(c, _)| f(c))
                    .sum();
                sum / n_scored.max(1) as f64
            }
        };
        let averages = |weighted| Averages {
            precision: mean(|c| c.precision, weighted),
            recall: mean(|c| c.recall, weighted),
            f1: mean(|c| c.f1, weighted),
        };
        let mut report = Report {
            n,
            accuracy: ratio(correct as f64, n as f64),
            macro_avg: averages(false),
            weighted_avg: averages(true),
            classes,
            confusion,
            log_loss,
            unseen_labels,
            metric: None,
        };
        if let Some(m) = metric {
            report.metric = Some(MetricValue {
                name: m.to_string(),
                value: m.value(&report),
            });
        }
        report
    }

    /// The scores of the class named `label`.
    pub fn class(&self, label: &str) -> Option<&ClassScores> {
        self.classes.iter().find(|c| c.label == label)
    }

    /// What a reader of the figures needs to know about the labels: those the model never
    /// saw (errors, and outside the log-loss) and those the macro averages leave out.
    pub fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self
            .unseen_labels
            .iter()
            .map(|(label, count)| {
                let log_loss = if self.log_loss.is_some() {
                    ", and the log-loss, which has no probability for them, leaves them out"
                } else {
                    ""
                };
                format!("{count} example(s) have label `{label}`, which the model never saw; they count as errors{log_loss}")
            })
            .collect();
        let unscored = self.unscored_labels();
        if !unscored.is_empty() {
            notes.push(format!(
                "{} no record here and never predicted, so the macro averages leave {} out",
                match unscored.as_slice() {
                    [one] => format!("`{one}` has"),
                    many => format!("{} labels have ({})", many.len(), many.join(", ")),
                },
                if unscored.len() == 1 { "it" } else { "them" }
            ));
        }
        notes
    }

    /// Labels with no record and no prediction here, whose precision, recall and F1 are
    /// undefined: the macro averages leave them out.
    pub fn unscored_labels(&self) -> Vec<&str> {
        self.classes
            .iter()
            .enumerate()
            .filter(|&(c, class)| {
                class.support == 0 && self.confusion.iter().all(|row| row[c] == 0)
            })
            .map(|(_, class)| class.label.as_str())
            .collect()
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

impl fmt::Display for Report {
    /// A table in the style of scikit-learn's classification report, then the confusion matrix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .classes
            .iter()
            .map(|c| c.label.chars().count())
            .chain([12])
            .chain(self.metric.iter().map(|m| m.name.chars().count()))
            .max()
            .unwrap_or(12);
        writeln!(
            f,
            "{:>width$}  {:>9} {:>9} {:>9} {:>9}",
            "", "precision", "recall", "f1", "support"
        )?;
        for c in &self.classes {
            writeln!(
                f,
                "{:>width$}  {:>9.4} {:>9.4} {:>9.4} {:>9}",
                c.label, c.precision, c.recall, c.f1, c.support
            )?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>width$}  {:>9} {:>9} {:>9.4} {:>9}",
            "accuracy", "", "", self.accuracy, self.n
        )?;
        for (name, avg) in [
            ("macro avg", &self.macro_avg),
            ("weighted avg", &self.weighted_avg),
        ] {
            writeln!(
                f,
                "{:>width$}  {:>9.4} {:>9.4} {:>9.4} {:>9}",
                name, avg.precision, avg.recall, avg.f1, self.n
            )?;
        }
        if let Some(loss) = self.log_loss {
            writeln!(f, "{:>width$}  {:>29.4}", "log-loss", loss)?;
        }
        if let Some(m) = &self.metric {
            writeln!(f, "{:>width$}  {:>29.4}", m.name, m.value)?;
        }
        for note in self.notes() {
            writeln!(f, "note: {note}")?;
        }
        writeln!(f)?;
        let labels: Vec<&str> = self.classes.iter().map(|c| c.label.as_str()).collect();
        write_confusion(
            f,
            "confusion matrix (rows: true, columns: predicted, numbered as the rows)",
            &labels,
            &self.confusion,
            width,
        )
    }
}

/// Write `confusion` (rows and columns indexed like `labels`) under `title`. Columns are
/// numbered and row i is "i label", so long label names stay readable; the label column is
/// at least `width` wide.
pub fn write_confusion(
    f: &mut dyn fmt::Write,
    title: &str,
    labels: &[&str],
    confusion: &[Vec<usize>],
    width: usize,
) -> fmt::Result {
    writeln!(f, "{title}")?;
    let cell = confusion
        .iter()
        .flatten()
        .map(|v| v.to_string().len())
        .chain([labels.len().to_string().len() + 1])
        .max()
        .unwrap_or(2);
    let row_width = width + labels.len().to_string().len() + 1;
    write!(f, "{:>row_width$}", "")?;
    for i in 0..labels.len() {
        write!(f, " {:>cell$}", i + 1)?;
    }
    writeln!(f)?;
    for (i, (label, row)) in labels.iter().zip(confusion).enumerate() {
        let name = format!("{} {}", i + 1, label);
        write!(f, "{name:<row_width$}")?;
        for v in row {
            write!(f, " {v:>cell$}")?;
        }
        writeln!(f)?;
    }
    Ok(())
}

/// How many of one group's records (an article's sentences, an author's posts) a model gets
/// right: the groups it serves worst are where to look for what it has not learnt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupAccuracy {
    pub group: String,
    pub records: usize,
    pub correct: usize,
    pub accuracy: f64,
}

/// Per group of `groups` (one per record), how many records `predicted` gets right against
/// `truth`: least accurate first, then the larger group, then by name.
pub fn accuracy_by_group(
    truth: &[String],
    predicted: &[&str],
    groups: &[String],
) -> Vec<GroupAccuracy> {
    assert!(truth.len() == predicted.len() && truth.len() == groups.len());
    let (names, group_of) = index_by_value(groups);
    // Per group: (records, right).
    let mut tally = vec![(0usize, 0usize); names.len()];
    for ((t, p), &g) in truth.iter().zip(predicted).zip(&group_of) {
        tally[g].0 += 1;
        tally[g].1 += usize::from(t == p);
    }
    let mut out: Vec<GroupAccuracy> = names
        .into_iter()
        .zip(tally)
        .map(|(group, (records, correct))| GroupAccuracy {
            group: group.to_string(),
            records,
            correct,
            accuracy: correct as f64 / records as f64,
        })
        .collect();
    out.sort_by(|a, b| {
        a.accuracy
            .total_cmp(&b.accuracy)
            .then(b.records.cmp(&a.records))
            .then_with(|| a.group.cmp(&b.group))
    });
    out
}

/// One bin of a reliability diagram: the examples whose top-class probability falls in
/// `[lower, upper)` (the last bin also takes 1.0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub lower: f64,
    pub upper: f64,
    /// Examples in the bin.
    pub count: usize,
    /// Share of them predicted right (`None` for an empty bin).
    pub accuracy: Option<f64>,
    /// Their mean top-class probability (`None` for an empty bin).
    pub confidence: Option<f64>,
}

/// How well the top-class probability matches the rate of correct predictions: equal-width
/// bins over `[0, 1]` and the expected calibration error
/// `ECE = Σ_b (n_b / n) · |accuracy_b − confidence_b|`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub bins: Vec<CalibrationBin>,
    /// Expected calibration error (0 when there are no examples).
    pub ece: f64,
}

impl Calibration {
    /// The number of bins reports use.
    pub const DEFAULT_BINS: usize = 10;

    /// Bin examples by their top-class probability `confidence[i]` (the probability of the
    /// predicted label); `correct[i]` says whether that prediction was right.
    pub fn new(confidence: &[f64], correct: &[bool], n_bins: usize) -> Calibration {
        assert_eq!(confidence.len(), correct.len());
        assert!(n_bins > 0, "at least one bin");
        let mut count = vec![0usize; n_bins];
        let mut hits = vec![0usize; n_bins];
        let mut conf_sum = vec![0.0f64; n_bins];
        for (&p, &ok) in confidence.iter().zip(correct) {
            let b = ((p * n_bins as f64).floor().max(0.0) as usize).min(n_bins - 1);
            count[b] += 1;
            hits[b] += usize::from(ok);
            conf_sum[b] += p;
        }
        let n = confidence.len();
        let mut ece = 0.0;
        let bins = (0..n_bins)
            .map(|b| {
                let (accuracy, mean_conf) = if count[b] == 0 {
                    (None, None)
                } else {
                    let acc = hits[b] as f64 / count[b] as f64;
                    let conf = conf_sum[b] / count[b] as f64;
                    ece += count[b] as f64 / n as f64 * (acc - conf).abs();
                    (Some(acc), Some(conf))
                };
                CalibrationBin {
                    lower: b as f64 / n_bins as f64,
                    upper: (b + 1) as f64 / n_bins as f64,
                    count: count[b],
                    accuracy,
                    confidence: mean_conf,
                }
            })
            .collect();
        Calibration { bins, ece }
    }

    /// Bin predictions given as probability vectors (the predicted label is the argmax) and
    /// true class indices (an index outside the vectors, a label the model never saw, is
    /// never right).
    pub fn from_probs(probs: &[Vec<f64>], truth: &[usize], n_bins: usize) -> Calibration {
        let (confidence, correct): (Vec<f64>, Vec<bool>) = probs
            .iter()
            .zip(truth)
            .map(|(p, &t)| {
                let best = crate::logistic::argmax(p);
                (p[best], best == t)
            })
            .unzip();
        Calibration::new(&confidence, &correct, n_bins)
    }
}
