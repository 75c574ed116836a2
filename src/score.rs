//! Scoring whole articles: every sentence under every model, with the n-grams behind each
//! prediction, and an article-level result per model (`stance score`).
//!
//! An article is cut by [`segment_article`]; page furniture it sets aside is reported with
//! its reason and never scored. Every sentence is classified by every model (all sentences
//! of an article in one batch per model) and explained: the n-grams that pushed the
//! predicted label's score hardest, signed, as `value × weight` in log-odds
//! ([`Classifier::explain`]), largest absolute contribution first.
//!
//! # The article-level rule
//!
//! For each model, the article's probabilities are the **mean of its sentences'
//! probability vectors**: every sentence weighs the same, whatever its length. The
//! article's label is the argmax of that mean (the first label in the model's order on a
//! tie). Alongside it come the share of sentences per label (each sentence counted under
//! its own argmax) and the sentences that weighed most for the overall label: those with
//! the highest probability of it. An article without a scorable sentence has no
//! article-level result (`null` per model in JSON, a note in the table).
//!
//! Sentence indices count from 0 in text order, skipped furniture excluded; spans are byte
//! offsets into the article text.
//!
//! # Output
//!
//! [`ArticleScore`] serialises to one line of `stance score --json`, its `Display` is the
//! readable table, and [`csv_header`] with [`csv_records`] give the `--csv` rows.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::classifier::{Classifier, Explanation};
use crate::error::{Error, Result};
use crate::logistic::argmax;
use crate::model_file;
use crate::output::{evidence_cell, join_evidence};
use crate::overlap::Seen;
use crate::sentences::{segment_article, Segment, SkipReason, Span};

/// The name under which an article read from standard input is reported.
pub const STDIN_NAME: &str = "-";

/// Characters of sentence or furniture text shown in the table before it is cut with `…`.
const TABLE_TEXT_CHARS: usize = 100;

/// A classifier and the name it is reported under.
#[derive(Debug, Clone)]
pub struct NamedModel {
    /// The model file's stem: `models/framing-stance.stance` is `framing-stance`.
    pub name: String,
    /// The loaded model.
    pub classifier: Classifier,
}

impl NamedModel {
    /// Load a model file and name it after the file's stem.
    pub fn load(path: &Path) -> Result<Self> {
        let name = path
            .file_stem()
            .map(|stem| stem.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Ok(NamedModel {
            name,
            classifier: model_file::load(path)?,
        })
    }
}

/// Load every model file, refusing two with the same name (their results would collide).
pub fn load_models(paths: &[PathBuf]) -> Result<Vec<NamedModel>> {
    let mut models: Vec<NamedModel> = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let model = NamedModel::load(path)?;
        if let Some(j) = models.iter().position(|m| m.name == model.name) {
            return Err(Error::InvalidOption(format!(
                "models {} and {} are both named `{}` (the file stem): rename one",
                paths[j].display(),
                paths[i].display(),
                model.name
            )));
        }
        models.push(model);
    }
    Ok(models)
}

/// One article to score: where it came from ([`STDIN_NAME`] for standard input) and its
/// text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleText {
    /// The file as named on the command line (or found in a named directory), or `-`.
    pub path: String,
    /// The whole article.
    pub text: String,
}

/// Read every article named by `inputs`, in order: a file is one article; a directory
/// gives every regular file directly inside it (subdirectories are not entered), sorted
/// by name; `-` (or no input at all) is standard input, which can be named once.
///
/// Everything is read before anything is scored, so a missing, unreadable or non-UTF-8
/// file fails here, naming the file.
pub fn read_articles(inputs: &[PathBuf]) -> Result<Vec<ArticleText>> {
    if inputs.is_empty() {
        return Ok(vec![read_stdin()?]);
    }
    if inputs.iter().filter(|p| is_stdin(p)).count() > 1 {
        return Err(Error::InvalidOption(
            "standard input (`-`) can be named only once".into(),
        ));
    }
    let mut articles = Vec::new();
    for input in inputs {
        if is_stdin(input) {
            articles.push(read_stdin()?);
        } else if input.is_dir() {
            for file in files_in(input)? {
                articles.push(read_file(&file)?);
            }
        } else {
            articles.push(read_file(input)?);
        }
    }
    Ok(articles)
}

/// Whether `path` names standard input ([`STDIN_NAME`]), as every command that reads
/// input takes it.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN_NAME
}

/// The regular files directly inside `dir` (following symbolic links), sorted by name.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(Error::BadInput {
            path: dir.to_path_buf(),
            problem: "the directory holds no regular file to score".into(),
        });
    }
    files.sort();
    Ok(files)
}

fn read_file(path: &Path) -> Result<ArticleText> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(ArticleText {
        path: path.display().to_string(),
        text: crate::corpus::document_text(bytes, path)?,
    })
}

fn read_stdin() -> Result<ArticleText> {
    let name = Path::new("<stdin>");
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(name, e))?;
    Ok(ArticleText {
        path: STDIN_NAME.into(),
        text: crate::corpus::document_text(bytes, name)?,
    })
}

/// How much to report per sentence and per article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScoreOptions {
    /// Evidence n-grams per sentence and model (default 5).
    pub evidence: usize,
    /// Sentences listed as weighing most for the overall label, per model (default 3).
    pub top_sentences: usize,
}

impl Default for ScoreOptions {
    fn default() -> Self {
        ScoreOptions {
            evidence: 5,
            top_sentences: 3,
        }
    }
}

/// Values keyed by name (a label or a model), kept in order; serialised as a JSON object
/// in that order.
#[derive(Debug, Clone, PartialEq)]
pub struct ByName<T>(pub Vec<(String, T)>);

impl<T> ByName<T> {
    /// The value under `name`, if any.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The values in order.
    pub fn values(&self) -> impl Iterator<Item = &T> + '_ {
        self.0.iter().map(|(_, v)| v)
    }
}

impl<T: Serialize> Serialize for ByName<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// Everything `stance score` reports about one article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleScore {
    /// The file the article came from, or `-` for standard input.
    pub path: String,
    /// The model names, in the order given.
    pub models: Vec<String>,
    /// The article-level result per model; `None` when no sentence could be scored.
    pub article: ByName<Option<ArticleResult>>,
    /// The scored sentences, in text order.
    pub sentences: Vec<SentenceScore>,
    /// The furniture set aside, in text order.
    pub skipped: Vec<SkippedText>,
}

/// One model's verdict on a whole article (see the module documentation for the rule).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleResult {
    /// The argmax of `probs`.
    pub label: String,
    /// Per label, the mean of the sentences' probabilities.
    pub probs: ByName<f64>,
    /// Per label, the fraction of sentences whose own label it is.
    pub share: ByName<f64>,
    /// Indices of the sentences with the highest probability of `label`, highest first.
    pub top_sentences: Vec<usize>,
    /// Sentences whose exact text the model was fitted or selected on: their predictions
    /// are not held out (see [`SentencePrediction::seen`]).
    pub sentences_seen: usize,
}

/// One scored sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentenceScore {
    /// Position among the article's sentences, from 0.
    pub index: usize,
    /// Byte offset of the sentence in the article.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
    /// The sentence exactly as in the article.
    pub text: String,
    /// The prediction of every model, in model order.
    pub predictions: ByName<SentencePrediction>,
}

/// One model's prediction for one sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentencePrediction {
    /// The most probable label.
    pub label: String,
    /// Every label's probability, in the model's label order.
    pub probs: ByName<f64>,
    /// Why: the label's baseline and the n-grams that pushed its score hardest, by
    /// absolute contribution (`baseline` and `evidence` in JSON).
    #[serde(flatten)]
    pub explanation: Explanation,
    /// Whether the model was fitted on this very text, or chose its C on it
    /// ([`Classifier::seen`]); `null` in JSON for a text new to it.
    pub seen: Option<Seen>,
}

/// A piece of page furniture that was not scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedText {
    /// Byte offset of the piece in the article.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
    /// The piece exactly as in the article.
    pub text: String,
    /// Why it was skipped; serialised by its kebab-case name (`comment-form`).
    #[serde(serialize_with = "serialize_reason")]
    pub reason: SkipReason,
}

fn serialize_reason<S: Serializer>(
    reason: &SkipReason,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(reason.as_str())
}

/// Segment, classify and explain one article under every model.
pub fn score_article(
    path: &str,
    text: &str,
    models: &[NamedModel],
    options: &ScoreOptions,
) -> ArticleScore {
    let segments = segment_article(text);
    let spans: Vec<Span> = segments.iter().filter_map(Segment::sentence).collect();
    let texts: Vec<String> = spans.iter().map(|s| s.text(text).to_string()).collect();
    let per_model: Vec<Vec<SentencePrediction>> = models
        .iter()
        .map(|m| predict_sentences(&m.classifier, &texts, options.evidence))
        .collect();
    let article = ByName(
        models
            .iter()
            .zip(&per_model)
            .map(|(m, predictions)| {
                let result = summarise(&m.classifier.labels, predictions, options.top_sentences);
                (m.name.clone(), result)
            })
            .collect(),
    );
    ArticleScore {
        path: path.to_string(),
        models: models.iter().map(|m| m.name.clone()).collect(),
        article,
        sentences: sentence_scores(&spans, texts, models, per_model),
        skipped: skipped_texts(text, &segments),
    }
}

/// Every sentence's prediction under one model, explained.
fn predict_sentences(
    classifier: &Classifier,
    texts: &[String],
    evidence: usize,
) -> Vec<SentencePrediction> {
    classifier
        .predict_with_evidence(texts, evidence)
        .into_iter()
        .zip(texts)
        .map(|(prediction, text)| SentencePrediction {
            label: prediction.label,
            probs: label_values(&classifier.labels, prediction.probs),
            explanation: prediction
                .explanation
                .expect("predict_with_evidence explains every prediction"),
            seen: classifier.seen(text),
        })
        .collect()
}

fn label_values(labels: &[String], values: Vec<f64>) -> ByName<f64> {
    ByName(labels.iter().cloned().zip(values).collect())
}

/// The article-level result of one model from its sentence predictions, or `None` when
/// there are none.
fn summarise(
    labels: &[String],
    predictions: &[SentencePrediction],
    top_sentences: usize,
) -> Option<ArticleResult> {
    if predictions.is_empty() {
        return None;
    }
    let n = predictions.len() as f64;
    let mut mean = vec![0.0; labels.len()];
    let mut count = vec![0usize; labels.len()];
    for prediction in predictions {
        for (sum, p) in mean.iter_mut().zip(prediction.probs.values()) {
            *sum += p;
        }
        let own = labels.iter().position(|l| *l == prediction.label);
        count[own.expect("a label of the model")] += 1;
    }
    mean.iter_mut().for_each(|sum| *sum /= n);
    let class = argmax(&mean);
    Some(ArticleResult {
        label: labels[class].clone(),
        probs: label_values(labels, mean),
        share: label_values(labels, count.iter().map(|&c| c as f64 / n).collect()),
        top_sentences: most_probable(predictions, class, top_sentences),
        sentences_seen: predictions.iter().filter(|p| p.seen.is_some()).count(),
    })
}

/// Indices of the `top` sentences with the highest probability of `class`, highest first
/// (earlier sentences first on a tie).
fn most_probable(predictions: &[SentencePrediction], class: usize, top: usize) -> Vec<usize> {
    let mut order: Vec<(usize, f64)> = predictions
        .iter()
        .map(|p| p.probs.0[class].1)
        .enumerate()
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    order.into_iter().take(top).map(|(i, _)| i).collect()
}

/// Turn per-model columns of predictions into per-sentence rows.
fn sentence_scores(
    spans: &[Span],
    texts: Vec<String>,
    models: &[NamedModel],
    per_model: Vec<Vec<SentencePrediction>>,
) -> Vec<SentenceScore> {
    let mut columns: Vec<_> = per_model.into_iter().map(Vec::into_iter).collect();
    spans
        .iter()
        .zip(texts)
        .enumerate()
        .map(|(index, (span, text))| SentenceScore {
            index,
            start: span.start,
            end: span.end,
            text,
            predictions: ByName(
                models
                    .iter()
                    .zip(columns.iter_mut())
                    .map(|(m, column)| {
                        let prediction = column.next().expect("one prediction per sentence");
                        (m.name.clone(), prediction)
                    })
                    .collect(),
            ),
        })
        .collect()
}

fn skipped_texts(text: &str, segments: &[Segment]) -> Vec<SkippedText> {
    segments
        .iter()
        .filter_map(|segment| match segment {
            Segment::Skipped(span, reason) => Some(SkippedText {
                start: span.start,
                end: span.end,
                text: span.text(text).to_string(),
                reason: *reason,
            }),
            Segment::Sentence(_) => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// CSV: one row per sentence.
// ---------------------------------------------------------------------------------------

/// The `--csv` header: `path,sentence,start,end,text`, then `MODEL_label`, `MODEL_p` (the
/// probability of the predicted label), `MODEL_baseline`, `MODEL_evidence` and
/// `MODEL_seen` (`fitted`, `selected` or empty, see [`SentencePrediction::seen`]) for each
/// model.
pub fn csv_header(models: &[NamedModel]) -> Vec<String> {
    let mut header: Vec<String> = ["path", "sentence", "start", "end", "text"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for model in models {
        for column in ["label", "p", "baseline", "evidence", "seen"] {
            header.push(format!("{}_{column}", model.name));
        }
    }
    header
}

/// The `--csv` rows of one article, one per sentence, matching [`csv_header`]. The
/// evidence column joins `+0.4100 feature` items with `; `.
pub fn csv_records(score: &ArticleScore) -> Vec<Vec<String>> {
    score
        .sentences
        .iter()
        .map(|sentence| {
            let mut row = vec![
                score.path.clone(),
                sentence.index.to_string(),
                sentence.start.to_string(),
                sentence.end.to_string(),
                sentence.text.clone(),
            ];
            for prediction in sentence.predictions.values() {
                row.push(prediction.label.clone());
                row.push(predicted_probability(prediction).to_string());
                row.push(prediction.explanation.baseline.to_string());
                row.push(evidence_cell(&prediction.explanation.evidence));
                row.push(prediction.seen.map_or("", Seen::as_str).to_string());
            }
            row
        })
        .collect()
}

/// The probability of the predicted label.
fn predicted_probability(prediction: &SentencePrediction) -> f64 {
    prediction
        .probs
        .get(&prediction.label)
        .copied()
        .unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------------------
// The readable table.
// ---------------------------------------------------------------------------------------

impl fmt::Display for ArticleScore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} sentences, {} skipped",
            self.path,
            self.sentences.len(),
            self.skipped.len()
        )?;
        if self.sentences.is_empty() {
            writeln!(
                f,
                "  no sentence to score: the article is empty or all furniture"
            )?;
        } else {
            let columns = Columns::of(self);
            self.write_article_results(f, columns)?;
            self.write_sentences(f, columns)?;
        }
        self.write_skipped(f)
    }
}

/// Widths of the model-name and label columns of the table.
#[derive(Clone, Copy)]
struct Columns {
    name: usize,
    label: usize,
}

impl Columns {
    fn of(score: &ArticleScore) -> Self {
        let sentence_labels = score.sentences.iter().flat_map(|s| s.predictions.values());
        let article_labels = score.article.values().flatten();
        let label = sentence_labels
            .map(|p| p.label.chars().count())
            .chain(article_labels.map(|r| r.label.chars().count()))
            .max()
            .unwrap_or(0);
        let name = score.models.iter().map(|m| m.chars().count()).max();
        Columns {
            name: name.unwrap_or(0),
            label,
        }
    }
}

impl ArticleScore {
    fn write_article_results(&self, f: &mut fmt::Formatter<'_>, columns: Columns) -> fmt::Result {
        let Columns {
            name: width,
            label: label_width,
        } = columns;
        writeln!(
            f,
            "\narticle (probabilities: the mean over sentences; label: its argmax)"
        )?;
        let n = self.sentences.len() as f64;
        for (name, result) in &self.article.0 {
            let Some(result) = result else { continue };
            let probs = join_labelled(&result.probs, |p| Some(format!("{p:.3}")));
            let share = join_labelled(&result.share, |s| {
                (s > 0.0).then(|| format!("{:.0}% ({})", 100.0 * s, (s * n).round()))
            });
            let label = &result.label;
            writeln!(
                f,
                "  {name:<width$}  {label:<label_width$}  mean p: {probs}"
            )?;
            writeln!(f, "  {:<width$}  share of sentences: {share}", "")?;
            let top = self.describe_top_sentences(name, result);
            if !top.is_empty() {
                writeln!(f, "  {:<width$}  weighed most: {top}", "")?;
            }
            if result.sentences_seen > 0 {
                writeln!(
                    f,
                    "  {:<width$}  seen in training: {} of the {} sentences (marked *), so this is not a held-out view of them",
                    "",
                    result.sentences_seen,
                    self.sentences.len()
                )?;
            }
        }
        Ok(())
    }

    /// `[4] 0.91, [3] 0.87`: the top sentences with their probability of the article's label.
    fn describe_top_sentences(&self, model: &str, result: &ArticleResult) -> String {
        result
            .top_sentences
            .iter()
            .map(|&i| {
                let p = self.sentences[i]
                    .predictions
                    .get(model)
                    .and_then(|s| s.probs.get(&result.label))
                    .copied()
                    .unwrap_or(f64::NAN);
                format!("[{i}] {p:.2}")
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn write_sentences(&self, f: &mut fmt::Formatter<'_>, columns: Columns) -> fmt::Result {
        let Columns {
            name: width,
            label: label_width,
        } = columns;
        writeln!(
            f,
            "\nsentences (label, probability, then in log-odds the label's baseline and the n-grams that pushed hardest)"
        )?;
        for sentence in &self.sentences {
            let text = shorten(&sentence.text, TABLE_TEXT_CHARS);
            writeln!(f, "  [{}] {text}", sentence.index)?;
            for (name, prediction) in &sentence.predictions.0 {
                let evidence = if prediction.explanation.evidence.is_empty() {
                    "(no known n-gram)".to_string()
                } else {
                    join_evidence(&prediction.explanation.evidence, "   ", signed)
                };
                writeln!(
                    f,
                    "      {name:<width$}  {:<label_width$}  {:.2}{} baseline {};  {evidence}",
                    prediction.label,
                    predicted_probability(prediction),
                    if prediction.seen.is_some() { "*" } else { " " },
                    signed(prediction.explanation.baseline)
                )?;
            }
        }
        Ok(())
    }

    fn write_skipped(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.skipped.is_empty() {
            return Ok(());
        }
        let width = self
            .skipped
            .iter()
            .map(|s| s.reason.as_str().len() + 2)
            .max()
            .unwrap_or(0);
        writeln!(f, "\nskipped (not scored)")?;
        for skipped in &self.skipped {
            let reason = format!("[{}]", skipped.reason);
            let text = shorten(&skipped.text, TABLE_TEXT_CHARS);
            writeln!(f, "  {reason:<width$}  {text}")?;
        }
        Ok(())
    }
}

/// `neutral 0.520, confrontational 0.300`: the labels by decreasing value, each value
/// formatted by `number`, which leaves out a label by returning `None`.
fn join_labelled(values: &ByName<f64>, number: impl Fn(f64) -> Option<String>) -> String {
    let mut sorted: Vec<&(String, f64)> = values.0.iter().collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    sorted
        .into_iter()
        .filter_map(|(label, v)| number(*v).map(|n| format!("{label} {n}")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A contribution with its sign and a true minus: `+0.412`, `−0.120`.
fn signed(contribution: f64) -> String {
    let sign = if contribution < 0.0 { '−' } else { '+' };
    format!("{sign}{:.3}", contribution.abs())
}

/// `text` on one line (runs of whitespace become one space), cut to `max` characters with
/// `…` when longer.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}
