//! Evaluation reports: an [`Evaluation`] (the metrics [`Report`], calibration and bootstrap
//! intervals of one set of predictions) and its rendering as a directory of files —
//! `report.html` (self-contained: styles, charts as inline SVG, no external fetches),
//! `metrics.json`, and each chart as a standalone SVG (`confusion.svg`, `per_class.svg`,
//! `reliability.svg`, and `learning_curve.svg` when training drew one) drawn with
//! `plotters`' SVG backend.
//!
//! Every piece of user text (labels, texts, n-grams, file names) is escaped before it goes
//! into HTML; `plotters` escapes the text it writes into SVG.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde::Serialize;

use crate::atomic_write::write_all_or_none;
use crate::bootstrap::{self, BootstrapIntervals, Interval};
use crate::classifier::{Classifier, Explanation};
use crate::compare::Comparison;
use crate::error::{Error, Result};
use crate::label_shift::LabelShift;
use crate::learning_curve::LearningCurve;
use crate::logistic::argmax;
use crate::metrics::{accuracy_by_group, Calibration, GroupAccuracy, Metric, Report};
use crate::output::evidence_cell;
use crate::overlap::Overlap;

/// The charts of a report: (file name, title).
pub const CHARTS: [(&str, &str); 3] = [
    ("confusion.svg", "Confusion matrix"),
    ("per_class.svg", "Per-class precision, recall and F1"),
    ("reliability.svg", "Reliability diagram"),
];

/// The chart of a training report's learning curve, when there is one: (file name, title).
pub const LEARNING_CURVE_CHART: (&str, &str) = ("learning_curve.svg", "Learning curve");

/// Misclassified examples listed in a report.
pub const TOP_ERRORS: usize = 10;

/// Groups listed in a report's and `eval`'s accuracy by group, least accurate first.
pub const GROUPS_SHOWN: usize = 10;

/// N-grams shown to explain each listed misclassified example.
pub const ERROR_EVIDENCE: usize = 5;

/// Characters of an example's text shown in a report.
const TEXT_CHARS: usize = 400;

/// Everything a report says about one set of predictions.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub report: Report,
    /// Reliability bins and expected calibration error over the top-class probability.
    pub calibration: Calibration,
    /// Percentile intervals, when resampling was asked for.
    pub bootstrap: Option<BootstrapIntervals>,
    /// Each group's accuracy, least accurate first, when the records have groups.
    pub by_group: Option<Vec<GroupAccuracy>>,
}

impl Evaluation {
    /// Evaluate probabilities (`probs[i]` in `labels` order; the prediction is the argmax)
    /// against true label names, with `resamples` bootstrap resamples (0: none) drawn with
    /// `seed`, of whole groups when `groups` (one per record) is not empty, with each
    /// group's accuracy then.
    pub fn new(
        labels: &[String],
        truth: &[String],
        probs: &[Vec<f64>],
        groups: &[String],
        metric: Option<&Metric>,
        resamples: usize,
        seed: u64,
    ) -> Evaluation {
        let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
        let report = Report::new(labels, truth, &predicted, Some(probs), metric);
        let truth_index = bootstrap::truth_indices(&report, truth);
        let calibration = Calibration::from_probs(probs, &truth_index, Calibration::DEFAULT_BINS);
        let bootstrap = bootstrap::bootstrap(
            &report,
            &truth_index,
            &predicted,
            metric,
            &bootstrap::Units::new(truth.len(), groups),
            resamples,
            seed,
            bootstrap::DEFAULT_LEVEL,
        );
        let by_group = (!groups.is_empty()).then(|| {
            let names: Vec<&str> = predicted.iter().map(|&p| labels[p].as_str()).collect();
            accuracy_by_group(truth, &names, groups)
        });
        Evaluation {
            report,
            calibration,
            bootstrap,
            by_group,
        }
    }

    /// The bootstrap intervals as terminal lines (empty without resampling).
    pub fn interval_lines(&self) -> Vec<String> {
        let Some(b) = &self.bootstrap else {
            return Vec::new();
        };
        let mut rows: Vec<(&str, &Interval)> =
            vec![("accuracy", &b.accuracy), ("macro-f1", &b.macro_f1)];
        if let Some(m) = &b.metric {
            if m.name != "accuracy" && m.name != "macro-f1" {
                rows.push((&m.name, &m.interval));
            }
        }
        let width = rows
            .iter()
            .map(|(n, _)| n.chars().count())
            .max()
            .unwrap_or(8);
        let mut lines = vec![format!(
            "{:.0}% bootstrap intervals ({}):",
            b.level * 100.0,
            bootstrap::describe_resampling(b.resamples, self.report.n, b.groups, b.seed)
        )];
        for (name, i) in rows {
            lines.push(format!(
                "  {name:<width$}  {:.4}  [{:.4}, {:.4}]",
                i.estimate, i.lower, i.upper
            ));
        }
        lines
    }

    /// Each group's accuracy as terminal lines, least accurate first, the groups named by
    /// `field`: a heading, then the first [`GROUPS_SHOWN`] (empty without groups).
    pub fn group_lines(&self, field: &str) -> Vec<String> {
        let Some(by_group) = &self.by_group else {
            return Vec::new();
        };
        let shown = &by_group[..by_group.len().min(GROUPS_SHOWN)];
        let width = shown
            .iter()
            .map(|g| g.group.chars().count())
            .max()
            .unwrap_or(0);
        let mut lines = vec![format!(
            "\naccuracy by group (`{field}`), least accurate first:"
        )];
        for g in shown {
            lines.push(format!(
                "  {:<width$}  {:.4}  ({} of {})",
                g.group, g.accuracy, g.correct, g.records
            ));
        }
        if by_group.len() > shown.len() {
            lines.push(format!(
                "  … and {} more groups (every one in --json, `accuracy_by_group`)",
                by_group.len() - shown.len()
            ));
        }
        lines
    }
}

/// One misclassified example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Misclassified {
    /// 0-based position among the evaluated records.
    pub index: usize,
    pub text: String,
    pub truth: String,
    pub predicted: String,
    /// The probability the model gave its (wrong) prediction.
    pub probability: f64,
    /// Why the model predicted what it did ([`Page::explainer`]): the predicted label's
    /// baseline and the n-grams that pushed hardest toward or away from it.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// The `top` misclassified examples with the highest probability for their wrong
/// prediction, most confident first (ties: input order).
pub fn most_confident_errors(
    labels: &[String],
    texts: &[String],
    truth: &[String],
    probs: &[Vec<f64>],
    top: usize,
) -> Vec<Misclassified> {
    let mut errors: Vec<Misclassified> = probs
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            let best = argmax(p);
            (labels[best] != truth[i]).then(|| Misclassified {
                index: i,
                text: texts[i].clone(),
                truth: truth[i].clone(),
                predicted: labels[best].clone(),
                probability: p[best],
                explanation: None,
            })
        })
        .collect();
    errors.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.index.cmp(&b.index))
    });
    errors.truncate(top);
    errors
}

/// [`most_confident_errors`], each explained by `explainer` when given (the model that made
/// `probs`, see [`Page::explainer`]): the predicted label's baseline and its
/// [`ERROR_EVIDENCE`] strongest n-gram pushes.
pub fn explained_errors(
    labels: &[String],
    texts: &[String],
    truth: &[String],
    probs: &[Vec<f64>],
    explainer: Option<&Classifier>,
    top: usize,
) -> Vec<Misclassified> {
    let mut errors = most_confident_errors(labels, texts, truth, probs, top);
    if let Some(classifier) = explainer {
        for error in &mut errors {
            let class = argmax(&probs[error.index]);
            error.explanation = Some(classifier.explanation(&error.text, class, ERROR_EVIDENCE));
        }
    }
    errors
}

/// Misclassified records as text for a terminal: the record's position among the evaluated
/// records (from 1), its true and predicted labels, the probability of the prediction and
/// the text, then the explanation when there is one.
pub fn render_errors(errors: &[Misclassified]) -> String {
    let mut out = String::new();
    for m in errors {
        let _ = writeln!(
            out,
            "  #{}  true {}, predicted {} ({:.3}): {}",
            m.index + 1,
            m.truth,
            m.predicted,
            m.probability,
            truncate_chars(&m.text, TEXT_CHARS).replace(['\n', '\r'], " ")
        );
        if let Some(e) = &m.explanation {
            let _ = writeln!(out, "      why: {}", why(e));
        }
    }
    out
}

/// An explanation on one line, as the terminal's and the page's error lists show it:
/// `baseline +0.1448; +0.0849 doctors; +0.0805 abortion`.
fn why(e: &Explanation) -> String {
    format!(
        "baseline {:+.4}; {}",
        e.baseline,
        evidence_cell(&e.evidence)
    )
}

/// What a report page shows besides the evaluation.
pub struct Page<'a> {
    /// One line under the heading, e.g. `model.stance on test.jsonl`.
    pub title: String,
    /// (name, value) pairs describing what was evaluated, shown as a table.
    pub context: Vec<(String, String)>,
    /// A warning shown prominently (e.g. figures on training data).
    pub caveat: Option<String>,
    /// How many of the records the model had already seen (`stance eval`); `None` where it
    /// is not counted.
    pub overlap: Option<Overlap>,
    /// How the records' labels are distributed against the model's training data's
    /// (`stance eval`); `None` where it is not tested.
    pub label_shift: Option<LabelShift>,
    /// The model's labels (the order of each `probs` row).
    pub labels: &'a [String],
    pub texts: &'a [String],
    pub truth: &'a [String],
    pub probs: &'a [Vec<f64>],
    /// The model that made `probs`, to explain the misclassified records with (`stance
    /// eval`, and `stance train` when the saved model made its held-out predictions, see
    /// [`Validation::saved_model_predicted`](crate::train::Validation::saved_model_predicted));
    /// `None` when they came from other fits (the folds of a search, or a model refitted
    /// after it).
    pub explainer: Option<&'a Classifier>,
    /// The model's top-weighted n-grams per class, as
    /// [`Classifier::top_features`](crate::Classifier::top_features) gives them.
    pub top_features: Vec<(String, Vec<(String, f64)>)>,
    pub evaluation: &'a Evaluation,
    /// The training run's learning curve (`stance train --learning-curve`), drawn as a
    /// fourth chart and listed in `metrics.json`.
    pub learning_curve: Option<&'a LearningCurve>,
}

/// The prefix of a report file's temporary name while the report is written
/// ([`crate::atomic_write`]).
pub const REPORT_TEMP_PREFIX: &str = ".stance-report-";

/// Write `report.html`, `metrics.json` and the chart SVGs into `dir` (created if needed),
/// all or none of them ([`write_all_or_none`]); returns the paths written.
pub fn write_report(dir: &Path, page: &Page) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let report = &page.evaluation.report;
    let mut svgs = vec![
        confusion_svg(report)?,
        per_class_svg(report)?,
        reliability_svg(&page.evaluation.calibration)?,
    ];
    if let Some(curve) = page.learning_curve {
        svgs.push(learning_curve_svg(curve)?);
    }
    let errors = explained_errors(
        page.labels,
        page.texts,
        page.truth,
        page.probs,
        page.explainer,
        TOP_ERRORS,
    );
    let html = render_html(page, &svgs, &errors);
    let json = metrics_json(page, &errors);
    let mut files: Vec<(PathBuf, String)> = vec![
        (dir.join("report.html"), html),
        (
            dir.join("metrics.json"),
            serde_json::to_string_pretty(&json).expect("JSON values serialise") + "\n",
        ),
    ];
    for ((name, _), svg) in charts(page).zip(svgs) {
        files.push((dir.join(name), svg));
    }
    write_all_or_none(&files, REPORT_TEMP_PREFIX).map_err(|(path, e)| Error::io(path, e))?;
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// The content of `metrics.json`: the context, the overlap, the label shift, the
/// [`Report`], the calibration (with the ECE), the bootstrap intervals and the listed
/// misclassified examples.
pub fn metrics_json(page: &Page, errors: &[Misclassified]) -> serde_json::Value {
    let e = page.evaluation;
    let mut value = serde_json::json!({
        "title": page.title,
        "context": page.context.iter().map(|(k, v)| (k.clone(), serde_json::Value::from(v.clone()))).collect::<serde_json::Map<_, _>>(),
        "caveat": page.caveat,
        "overlap": page.overlap,
        "label_shift": page.label_shift,
        "report": e.report,
        "ece": e.calibration.ece,
        "calibration": e.calibration,
        "bootstrap": e.bootstrap,
        "most_confident_errors": errors,
        "notes": page.evaluation.report.notes(),
        "top_features": page.top_features.iter().map(|(label, feats)| serde_json::json!({
            "label": label,
            "features": feats.iter().map(|(f, w)| serde_json::json!({"feature": f, "weight": w})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    if let Some(by_group) = &e.by_group {
        value["accuracy_by_group"] = serde_json::json!(by_group);
    }
    if let Some(curve) = page.learning_curve {
        value["learning_curve"] = serde_json::json!(curve);
    }
    value
}

/// The charts of `page`, in order: [`CHARTS`], then the learning curve's when it has one.
fn charts<'p>(page: &'p Page) -> impl Iterator<Item = &'static (&'static str, &'static str)> + 'p {
    CHARTS
        .iter()
        .chain(page.learning_curve.map(|_| &LEARNING_CURVE_CHART))
}

/// Escape text for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

const STYLE: &str = r#"
:root { --ink: #1d2433; --muted: #5b6475; --line: #d9dee7; --accent: #2166ac; --warn: #b35806; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #f5f7fa; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 2px; }
h2 { font-size: 19px; margin: 0 0 12px; }
.subtitle { color: var(--muted); margin: 0 0 18px; word-break: break-word; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; margin: 0 0 18px; }
.caveat { border-left: 4px solid var(--warn); background: #fff7ec; padding: 10px 14px; margin: 0 0 18px; border-radius: 4px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 12px; text-align: right; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.label, th.label { text-align: left; }
tr.sep td { border-top: 2px solid var(--line); }
tr.chosen td { font-weight: 700; color: var(--accent); }
.context { margin-bottom: 16px; }
.context td { text-align: left; border: none; padding: 2px 12px 2px 0; }
.context td:first-child { color: var(--muted); white-space: nowrap; }
.cols { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
.muted { color: var(--muted); font-size: 13px; }
.cols .muted { max-width: 380px; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 0; }
figure svg { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 8px; }
figure { display: table; }
figcaption { display: table-caption; caption-side: bottom; color: var(--muted); font-size: 13px; padding: 6px 4px 0; }
.errors td.text { text-align: left; max-width: 640px; word-break: break-word; }
.features { display: flex; flex-wrap: wrap; gap: 20px; }
.features table { min-width: 200px; }
.features caption { text-align: left; font-weight: 700; padding-bottom: 4px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
"#;

/// Writes, once the page has loaded, each chart's rendered size and element count into
/// `<body data-svg-sizes="…">` (`id:WIDTHxHEIGHT:ELEMENTS` per chart), so a headless browser's
/// DOM dump shows whether the charts rendered (`tests/browser/check_report.sh`).
const RENDER_CHECK: &str = r#"<script>
(function () {
  function check() {
    var out = [];
    document.querySelectorAll("figure[id]").forEach(function (figure) {
      var svg = figure.querySelector("svg");
      var box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
      var n = svg ? svg.querySelectorAll("*").length : 0;
      out.push(figure.id + ":" + Math.round(box.width) + "x" + Math.round(box.height) + ":" + n);
    });
    document.body.setAttribute("data-svg-sizes", out.join(" "));
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", check);
  } else {
    check();
  }
})();
</script>"#;

fn render_html(page: &Page, svgs: &[String], errors: &[Misclassified]) -> String {
    let e = page.evaluation;
    let report = &e.report;
    let mut h = page_head("Evaluation report", &page.title);
    let esc = escape_html;
    if let Some(caveat) = &page.caveat {
        let _ = writeln!(h, "<div class=\"caveat\">{}</div>", esc(caveat));
    }

    // What was evaluated, and the metrics.
    h.push_str("<section id=\"metrics\">\n<h2>Metrics</h2>\n<table class=\"context\">\n<tbody>\n");
    for (k, v) in &page.context {
        let _ = writeln!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
    }
    h.push_str("</tbody>\n</table>\n<div class=\"cols\">\n<div>\n");
    h.push_str("<table class=\"scores\">\n<thead><tr><th class=\"label\"></th><th>precision</th><th>recall</th><th>f1</th><th>support</th></tr></thead>\n<tbody>\n");
    for c in &report.classes {
        let _ = writeln!(
            h,
            "<tr><td class=\"label\">{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
            esc(&c.label),
            c.precision,
            c.recall,
            c.f1,
            c.support
        );
    }
    let _ = writeln!(
        h,
        "<tr class=\"sep\"><td class=\"label\">accuracy</td><td></td><td></td><td>{:.4}</td><td>{}</td></tr>",
        report.accuracy, report.n
    );
    for (name, avg) in [
        ("macro avg", &report.macro_avg),
        ("weighted avg", &report.weighted_avg),
    ] {
        let _ = writeln!(
            h,
            "<tr><td class=\"label\">{name}</td><td>{:.4}</td><td>{:.4}</td><td>{:.4}</td><td>{}</td></tr>",
            avg.precision, avg.recall, avg.f1, report.n
        );
    }
    if let Some(loss) = report.log_loss {
        let _ = writeln!(
            h,
            "<tr><td class=\"label\">log-loss</td><td></td><td></td><td>{loss:.4}</td><td></td></tr>"
        );
    }
    let _ = writeln!(
        h,
        "<tr><td class=\"label\">ECE ({} bins)</td><td></td><td></td><td>{:.4}</td><td></td></tr>",
        e.calibration.bins.len(),
        e.calibration.ece
    );
    if let Some(m) = &report.metric {
        let _ = writeln!(
            h,
            "<tr class=\"chosen\"><td class=\"label\">{}</td><td></td><td></td><td>{:.4}</td><td></td></tr>",
            esc(&m.name),
            m.value
        );
    }
    h.push_str("</tbody>\n</table>\n");
    for note in report.notes() {
        let _ = writeln!(h, "<p class=\"muted\">{}</p>", esc(&note));
    }
    h.push_str("</div>\n<div>\n");
    if let Some(b) = &e.bootstrap {
        let _ = writeln!(
            h,
            "<table class=\"intervals\">\n<thead><tr><th class=\"label\"></th><th>estimate</th><th>{:.0}% interval</th></tr></thead>\n<tbody>",
            b.level * 100.0
        );
        let mut rows: Vec<(&str, &Interval)> =
            vec![("accuracy", &b.accuracy), ("macro-f1", &b.macro_f1)];
        if let Some(m) = &b.metric {
            if m.name != "accuracy" && m.name != "macro-f1" {
                rows.push((&m.name, &m.interval));
            }
        }
        for (name, i) in rows {
            let _ = writeln!(
                h,
                "<tr><td class=\"label\">{}</td><td>{:.4}</td><td>[{:.4}, {:.4}]</td></tr>",
                esc(name),
                i.estimate,
                i.lower,
                i.upper
            );
        }
        let _ = writeln!(
            h,
            "</tbody>\n</table>\n<p class=\"muted\">Percentile bootstrap, drawing with replacement (SplitMix64): {}.</p>",
            escape_html(&bootstrap::describe_resampling(b.resamples, report.n, b.groups, b.seed))
        );
    }
    h.push_str("</div>\n</div>\n</section>\n");

    // Charts.
    let mut captions = vec![
        "Rows: true label; columns: predicted label, numbered as the rows. Cells show counts, shaded by the share of the row (the recall of the row's class on the diagonal).".to_string(),
        "Precision, recall and F1 of each class on the evaluated records.".to_string(),
        format!(
            "Accuracy against mean top-class probability in {} equal-width bins; the dashed line is perfect calibration. Expected calibration error (ECE) = Σ (n_b / n) |acc_b − conf_b| = {:.4}.",
            e.calibration.bins.len(),
            e.calibration.ece
        ),
    ];
    if let Some(curve) = page.learning_curve {
        captions.push(format!(
            "The {} of the held-out records against the training records each fit had, at the chosen C = {} with plain argmax: the line joins the pooled scores, the grey dots are each fold's. On the {}.",
            curve.metric, curve.c, curve.scored_on
        ));
    }
    charts_section(&mut h, charts(page), svgs, &captions);

    // Accuracy by group.
    if let Some(by_group) = &e.by_group {
        h.push_str("<section id=\"groups\">\n<h2>Accuracy by group</h2>\n");
        let _ = writeln!(
            h,
            "<p class=\"muted\">The {} groups of the records (articles, authors), least accurate first{}.</p>",
            by_group.len(),
            if by_group.len() > GROUPS_SHOWN {
                format!("; the first {GROUPS_SHOWN} here, every one in <code>metrics.json</code>")
            } else {
                String::new()
            }
        );
        h.push_str("<table>\n<thead><tr><th class=\"label\">group</th><th>records</th><th>right</th><th>accuracy</th></tr></thead>\n<tbody>\n");
        for g in by_group.iter().take(GROUPS_SHOWN) {
            let _ = writeln!(
                h,
                "<tr><td class=\"label\">{}</td><td>{}</td><td>{}</td><td>{:.4}</td></tr>",
                esc(&g.group),
                g.records,
                g.correct,
                g.accuracy
            );
        }
        h.push_str("</tbody>\n</table>\n</section>\n");
    }

    // Misclassified examples.
    h.push_str("<section id=\"errors\">\n<h2>Most confidently misclassified</h2>\n");
    if errors.is_empty() {
        h.push_str("<p>No example was misclassified.</p>\n");
    } else {
        let explained = errors.iter().all(|m| m.explanation.is_some());
        let why_header = if explained {
            "<th class=\"label\">why: the predicted label's baseline, then the n-grams that pushed hardest toward or away from it (log-odds)</th>"
        } else {
            ""
        };
        let _ = writeln!(
            h,
            "<table class=\"errors\">\n<thead><tr><th>#</th><th class=\"label\">text</th><th class=\"label\">true</th><th class=\"label\">predicted</th><th>probability</th>{why_header}</tr></thead>\n<tbody>"
        );
        for m in errors {
            let why = match &m.explanation {
                Some(e) if explained => format!("<td class=\"text\">{}</td>", esc(&why(e))),
                _ => String::new(),
            };
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"text\">{}</td><td class=\"label\">{}</td><td class=\"label\">{}</td><td>{:.3}</td>{why}</tr>",
                m.index + 1,
                esc(&truncate_chars(&m.text, TEXT_CHARS)),
                esc(&m.truth),
                esc(&m.predicted),
                m.probability
            );
        }
        let _ = writeln!(
            h,
            "</tbody>\n</table>\n<p class=\"muted\">The {} misclassified records with the highest probability for the wrong label; # is the record's position among the evaluated records (from 1).</p>",
            errors.len()
        );
    }
    h.push_str("</section>\n");

    // Top n-grams.
    h.push_str("<section id=\"features\">\n<h2>Top-weighted n-grams per class</h2>\n<div class=\"features\">\n");
    for (label, feats) in &page.top_features {
        let _ = writeln!(h, "<table>\n<caption>{}</caption>\n<tbody>", esc(label));
        for (feature, weight) in feats {
            let _ = writeln!(
                h,
                "<tr><td>{weight:+.4}</td><td class=\"label\"><code>{}</code></td></tr>",
                esc(feature)
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</div>\n<p class=\"muted\">Weights of the model's features (centred across classes for multinomial models): the n-grams that push a text toward each class hardest.</p>\n</section>\n");
    page_foot(&mut h, "metrics.json", charts(page).map(|(f, _)| *f));
    h
}

/// The charts section of a page: each chart (file name, title) inline with its caption.
fn charts_section<'c>(
    h: &mut String,
    charts: impl Iterator<Item = &'c (&'c str, &'c str)>,
    svgs: &[String],
    captions: &[String],
) {
    h.push_str("<section id=\"charts\">\n<h2>Charts</h2>\n<div class=\"charts\">\n");
    for (((file, title), svg), caption) in charts.zip(svgs).zip(captions) {
        let id = file.trim_end_matches(".svg").replace('_', "-");
        let _ = writeln!(
            h,
            "<figure id=\"{id}\" aria-label=\"{title}\">\n{}\n<figcaption>{} (<code>{file}</code>)</figcaption>\n</figure>",
            svg.trim(),
            escape_html(caption)
        );
    }
    h.push_str("</div>\n</section>\n");
}

/// The start of a report page: the document head with the styles, then `heading` and
/// `title` under it.
fn page_head(heading: &str, title: &str) -> String {
    let title = escape_html(title);
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>stance report: {title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n\
         <h1>{heading}</h1>\n<p class=\"subtitle\">{title}</p>\n"
    )
}

/// The end of a report page: where the same figures (`json`) and the charts are, then the
/// render check.
fn page_foot<'f>(h: &mut String, json: &str, charts: impl Iterator<Item = &'f str>) {
    let _ = write!(
        h,
        "<p class=\"muted\">Written by stance {}. The same figures: <code>{json}</code>; the charts: {}.</p>\n</main>\n{RENDER_CHECK}\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        charts
            .map(|f| format!("<code>{f}</code>"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// The charts of a comparison report: (file name, title).
pub const COMPARISON_CHARTS: [(&str, &str); 2] = [
    ("differences.svg", "Differences from the baseline"),
    ("per_class_f1.svg", "Per-class F1 of each model"),
];

/// A comparison of models on the same records (`stance compare --report`), as a page.
pub struct ComparisonPage<'a> {
    /// One line under the heading, e.g. `2 models on test.jsonl`.
    pub title: String,
    /// (name, value) pairs describing what was compared, shown as a table.
    pub context: Vec<(String, String)>,
    /// Notes on the records (those a model was fitted or selected on).
    pub notes: &'a [String],
    pub comparison: &'a Comparison,
    /// Each model's evaluation on the records, in the comparison's order.
    pub reports: Vec<&'a Report>,
    /// The records compared on, as `comparison.json` names them.
    pub data: &'a str,
}

/// Write a comparison report into `dir` (created if needed): `report.html`,
/// `comparison.json` and the charts of [`COMPARISON_CHARTS`], all or none of them; returns the
/// paths written.
pub fn write_comparison_report(dir: &Path, page: &ComparisonPage) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let svgs = [
        differences_svg(page.comparison)?,
        per_class_f1_svg(page.comparison, &page.reports)?,
    ];
    let mut files: Vec<(PathBuf, String)> = vec![
        (dir.join("report.html"), comparison_html(page, &svgs)),
        (
            dir.join("comparison.json"),
            serde_json::to_string_pretty(&page.comparison.to_json(page.data, page.notes))
                .expect("JSON values serialise")
                + "\n",
        ),
    ];
    for ((name, _), svg) in COMPARISON_CHARTS.iter().zip(svgs) {
        files.push((dir.join(name), svg));
    }
    write_all_or_none(&files, REPORT_TEMP_PREFIX).map_err(|(path, e)| Error::io(path, e))?;
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

fn comparison_html(page: &ComparisonPage, svgs: &[String; 2]) -> String {
    let c = page.comparison;
    let esc = escape_html;
    let mut h = page_head("Model comparison", &page.title);
    for note in page.notes {
        let _ = writeln!(h, "<div class=\"caveat\">{}</div>", esc(note));
    }
    h.push_str("<section id=\"models\">\n<h2>Models</h2>\n<table class=\"context\">\n<tbody>\n");
    for (k, v) in &page.context {
        let _ = writeln!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(v));
    }
    h.push_str(
        "</tbody>\n</table>\n<table class=\"scores\">\n<thead><tr><th class=\"label\">model</th>",
    );
    let measures = c.measures();
    for measure in &measures {
        let _ = write!(h, "<th>{}</th>", esc(measure.name));
    }
    h.push_str("</tr></thead>\n<tbody>\n");
    for (i, m) in c.models.iter().enumerate() {
        let role = if i == 0 { " (baseline)" } else { "" };
        let _ = write!(h, "<tr><td class=\"label\">{}{role}</td>", esc(&m.name));
        for measure in &measures {
            let _ = write!(h, "<td>{:.4}</td>", (measure.figure)(m));
        }
        h.push_str("</tr>\n");
    }
    let _ = writeln!(
        h,
        "</tbody>\n</table>\n<p class=\"muted\">{} records, each model's own predictions (plain argmax of its saved model).</p>\n</section>",
        c.records
    );

    if !c.differences.is_empty() {
        h.push_str("<section id=\"differences\">\n<h2>Against the baseline</h2>\n<table>\n<thead><tr><th class=\"label\">model</th><th class=\"label\">measure</th><th>difference</th><th>interval</th><th>only the baseline right</th><th>only the model right</th><th>McNemar p</th></tr></thead>\n<tbody>\n");
        for d in &c.differences {
            for (row, measure) in measures.iter().enumerate() {
                let (name, interval) = (measure.name, (measure.difference)(d));
                let bounds = if interval.lower.is_finite() {
                    format!("[{:+.4}, {:+.4}]", interval.lower, interval.upper)
                } else {
                    String::new()
                };
                let (model, counts) = if row == 0 {
                    (
                        esc(&d.model),
                        format!(
                            "<td>{}</td><td>{}</td><td>{}</td>",
                            d.only_baseline_right,
                            d.only_model_right,
                            crate::compare::format_p(d.mcnemar_p)
                        ),
                    )
                } else {
                    (String::new(), "<td></td><td></td><td></td>".to_string())
                };
                let _ = writeln!(
                    h,
                    "<tr><td class=\"label\">{model}</td><td class=\"label\">{}</td><td>{:+.4}</td><td style=\"white-space: nowrap\">{bounds}</td>{counts}</tr>",
                    esc(name),
                    interval.estimate
                );
            }
        }
        let _ = writeln!(
            h,
            "</tbody>\n</table>\n<p class=\"muted\">Model − baseline on the same records; {}. McNemar's exact test counts the records only one of the two gets right and treats records as independent.</p>\n</section>",
            esc(&c.resampling_note())
        );
    }

    let captions = [
        "Each model's difference from the baseline (model − baseline) with its paired bootstrap interval; the dashed line is no difference.".to_string(),
        "F1 of every class under each model, on the same records.".to_string(),
    ];
    charts_section(&mut h, COMPARISON_CHARTS.iter(), svgs, &captions);
    page_foot(
        &mut h,
        "comparison.json",
        COMPARISON_CHARTS.iter().map(|(f, _)| *f),
    );
    h
}

// ---------------------------------------------------------------------------------------
// Charts
// ---------------------------------------------------------------------------------------

const FONT: &str = "sans-serif";
const INK: RGBColor = RGBColor(29, 36, 51);
const MUTED: RGBColor = RGBColor(91, 100, 117);
const BLUE: RGBColor = RGBColor(33, 102, 172);
const GAP: RGBColor = RGBColor(214, 96, 77);
const SERIES: [(&str, RGBColor); 3] = [
    ("precision", RGBColor(76, 114, 176)),
    ("recall", RGBColor(221, 132, 82)),
    ("f1", RGBColor(85, 168, 104)),
];

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Draw into an SVG string of the given size.
fn svg(name: &str, size: (u32, u32), draw: impl FnOnce(&Area) -> DrawResult) -> Result<String> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let result = root
            .fill(&WHITE)
            .map_err(|e| e.into())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.into()));
        result.map_err(|e| Error::io(name, std::io::Error::other(e.to_string())))?;
    }
    Ok(out)
}

/// Rough width in pixels of `text` at plotters' font `size` (the SVG backend writes
/// `size / 1.24` px and knows no font metrics; sans-serif averages about 0.6 em a character).
fn text_width(text: &str, size: f64) -> u32 {
    (text.chars().count() as f64 * size / 1.24 * 0.62).ceil() as u32
}

/// The pixels left of a chart's plot for its row names at font `size`: the widest name
/// and a margin.
fn row_name_width<S: AsRef<str>>(names: impl IntoIterator<Item = S>, size: f64) -> u32 {
    16 + names
        .into_iter()
        .map(|n| text_width(n.as_ref(), size))
        .max()
        .unwrap_or(40)
}

/// A chart of rows of horizontal bars: scores from 0 to 1 across, `rows` rows down (named
/// by the caller in the `label_width` pixels left of the plot), the x axis called `x_desc`.
fn score_rows_chart<'a, 'b>(
    area: &'a Area<'b>,
    label_width: u32,
    rows: usize,
    x_desc: &str,
) -> std::result::Result<
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    Box<dyn std::error::Error>,
> {
    let mut chart = ChartBuilder::on(area)
        .margin_right(28)
        .margin_bottom(6)
        .x_label_area_size(40)
        .y_label_area_size(label_width)
        .build_cartesian_2d(0f64..1f64, 0f64..rows as f64)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(11)
        .x_label_formatter(&|v| format!("{v:.1}"))
        .x_desc(x_desc)
        .label_style((FONT, 15).into_font().color(&MUTED))
        .axis_desc_style((FONT, 16).into_font().color(&MUTED))
        .light_line_style(RGBColor(238, 241, 245))
        .bold_line_style(RGBColor(222, 226, 233))
        .draw()?;
    Ok(chart)
}

/// A chart's title at the top left, with its subtitle under it when there is one.
fn draw_title(root: &Area, title: &str, subtitle: Option<&str>) -> DrawResult {
    root.draw(&Text::new(
        title,
        (12, 10),
        (FONT, 24).into_font().style(FontStyle::Bold).color(&INK),
    ))?;
    if let Some(subtitle) = subtitle {
        root.draw(&Text::new(
            subtitle,
            (12, 38),
            (FONT, 17).into_font().color(&MUTED),
        ))?;
    }
    Ok(())
}

/// A bar's value, written just past its end at `end` (pixels) in `size`-point type.
fn draw_bar_value(root: &Area, end: (i32, i32), value: f64, size: u32) -> DrawResult {
    root.draw(&Text::new(
        format!("{value:.2}"),
        (end.0 + 4, end.1),
        (FONT, size)
            .into_font()
            .color(&MUTED)
            .pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    Ok(())
}

/// A row's name, right-aligned just left of the plot at `start` (pixels).
fn draw_row_name(root: &Area, start: (i32, i32), name: &str, size: u32) -> DrawResult {
    root.draw(&Text::new(
        name,
        (start.0 - 8, start.1),
        (FONT, size)
            .into_font()
            .color(&INK)
            .pos(Pos::new(HPos::Right, VPos::Center)),
    ))?;
    Ok(())
}

fn mix(from: RGBColor, to: RGBColor, t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let c = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    RGBColor(c(from.0, to.0), c(from.1, to.1), c(from.2, to.2))
}

/// The corner label of the confusion matrix.
const AXES: &str = "true ↓   predicted →";

/// The confusion matrix as a heatmap: rows true, columns predicted (numbered as the rows),
/// each cell shaded by its share of the row and labelled with its count.
pub fn confusion_svg(report: &Report) -> Result<String> {
    let k = report.classes.len().max(1);
    let cell: u32 = (480 / k as u32).clamp(22, 80);
    let font = if cell >= 40 { 18.0 } else { 14.0 };
    let row_names: Vec<String> = report
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{} {}", i + 1, c.label))
        .collect();
    let left = 24
        + row_names
            .iter()
            .map(|n| text_width(n, 16.0))
            .chain([text_width(AXES, 16.0)])
            .max()
            .unwrap_or(40);
    let top = 58;
    let width = (left + k as u32 * cell + 24).max(360);
    let height = top + k as u32 * cell + 16;
    svg("confusion.svg", (width, height), |root| {
        draw_title(root, "Confusion matrix", None)?;
        root.draw(&Text::new(
            AXES,
            ((left - 8) as i32, (top - 6) as i32),
            (FONT, 16)
                .into_font()
                .color(&MUTED)
                .pos(Pos::new(HPos::Right, VPos::Bottom)),
        ))?;
        for (j, _) in report.classes.iter().enumerate() {
            let x = left + j as u32 * cell + cell / 2;
            root.draw(&Text::new(
                format!("{}", j + 1),
                (x as i32, (top - 6) as i32),
                (FONT, 16)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))?;
        }
        for (i, row) in report.confusion.iter().enumerate() {
            let total: usize = row.iter().sum();
            let y0 = top + i as u32 * cell;
            root.draw(&Text::new(
                row_names[i].clone(),
                ((left - 8) as i32, (y0 + cell / 2) as i32),
                (FONT, 16)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            for (j, &count) in row.iter().enumerate() {
                let share = if total == 0 {
                    0.0
                } else {
                    count as f64 / total as f64
                };
                let x0 = left + j as u32 * cell;
                let fill = mix(RGBColor(247, 251, 255), BLUE, share);
                root.draw(&Rectangle::new(
                    [
                        (x0 as i32, y0 as i32),
                        ((x0 + cell) as i32, (y0 + cell) as i32),
                    ],
                    fill.filled(),
                ))?;
                root.draw(&Rectangle::new(
                    [
                        (x0 as i32, y0 as i32),
                        ((x0 + cell) as i32, (y0 + cell) as i32),
                    ],
                    WHITE.stroke_width(1),
                ))?;
                let ink = if share > 0.55 { WHITE } else { INK };
                let style = if i == j {
                    (FONT, font).into_font().style(FontStyle::Bold)
                } else {
                    (FONT, font).into_font()
                };
                root.draw(&Text::new(
                    count.to_string(),
                    ((x0 + cell / 2) as i32, (y0 + cell / 2) as i32),
                    style.color(&ink).pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
        }
        Ok(())
    })
}

/// Horizontal bars of each class's precision, recall and F1.
pub fn per_class_svg(report: &Report) -> Result<String> {
    let k = report.classes.len();
    let labels: Vec<String> = report.classes.iter().map(|c| c.label.clone()).collect();
    let label_width = row_name_width(&labels, 16.0);
    let width = 560.max(label_width + 380);
    let height = 110 + k as u32 * 58;
    svg("per_class.svg", (width, height), |root| {
        draw_title(root, "Per-class precision, recall and F1", None)?;
        // The legend, above the plot.
        for (s, (name, colour)) in SERIES.iter().enumerate() {
            let x = label_width as i32 + 10 + s as i32 * 110;
            root.draw(&Rectangle::new([(x, 42), (x + 14, 56)], colour.filled()))?;
            root.draw(&Text::new(
                *name,
                (x + 20, 49),
                (FONT, 16)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let (_, lower) = root.split_vertically(64);
        let mut chart = score_rows_chart(&lower, label_width, k.max(1), "score")?;
        for (i, c) in report.classes.iter().enumerate() {
            // Class i is drawn from the top.
            let base = (k - 1 - i) as f64;
            let values = [c.precision, c.recall, c.f1];
            for (s, ((_, colour), value)) in SERIES.iter().zip(values).enumerate() {
                let y1 = base + 0.86 - s as f64 * 0.25;
                let y0 = y1 - 0.21;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y0), (value, y1)],
                    colour.filled(),
                )))?;
                let end = chart.backend_coord(&(value, (y0 + y1) / 2.0));
                draw_bar_value(root, end, value, 14)?;
            }
            let (px, py) = chart.backend_coord(&(0.0, base + 0.5));
            draw_row_name(root, (px, py), &labels[i], 16)?;
            let (_, py) = chart.backend_coord(&(0.0, base + 0.02));
            root.draw(&Text::new(
                format!("n = {}", c.support),
                (px - 8, py - 4),
                (FONT, 14)
                    .into_font()
                    .color(&MUTED)
                    .pos(Pos::new(HPos::Right, VPos::Bottom)),
            ))?;
        }
        Ok(())
    })
}

/// The reliability diagram: per bin of top-class probability, the accuracy (bars) against
/// the mean confidence (dots), the diagonal of perfect calibration, and the ECE.
pub fn reliability_svg(calibration: &Calibration) -> Result<String> {
    svg("reliability.svg", (560, 500), |root| {
        let n: usize = calibration.bins.iter().map(|b| b.count).sum();
        let subtitle = format!(
            "ECE = {:.4} ({} equal-width bins, {} records)",
            calibration.ece,
            calibration.bins.len(),
            n
        );
        draw_title(root, "Reliability diagram", Some(&subtitle))?;
        let (_, lower) = root.split_vertically(64);
        let mut chart = ChartBuilder::on(&lower)
            .margin_right(24)
            .margin_bottom(6)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..1f64, 0f64..1.08f64)?;
        chart
            .configure_mesh()
            .x_labels(11)
            .y_labels(11)
            .x_label_formatter(&|v| format!("{v:.1}"))
            .y_label_formatter(&|v| {
                if *v > 1.0001 {
                    String::new()
                } else {
                    format!("{v:.1}")
                }
            })
            .x_desc("confidence (probability of the predicted label)")
            .y_desc("accuracy")
            .label_style((FONT, 15).into_font().color(&MUTED))
            .axis_desc_style((FONT, 16).into_font().color(&MUTED))
            .light_line_style(RGBColor(238, 241, 245))
            .bold_line_style(RGBColor(222, 226, 233))
            .draw()?;
        for bin in &calibration.bins {
            let (Some(acc), Some(conf)) = (bin.accuracy, bin.confidence) else {
                continue;
            };
            let (x0, x1) = (bin.lower + 0.006, bin.upper - 0.006);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, acc)],
                BLUE.mix(0.55).filled(),
            )))?;
            // The gap between accuracy and confidence, as a narrower bar.
            let (g0, g1) = if acc < conf { (acc, conf) } else { (conf, acc) };
            let (w0, w1) = (x0 + 0.025, x1 - 0.025);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(w0, g0), (w1, g1)],
                GAP.mix(0.3).filled(),
            )))?;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(w0, g0), (w1, g1)],
                GAP.stroke_width(1),
            )))?;
            chart.draw_series(std::iter::once(Circle::new(
                ((x0 + x1) / 2.0, conf),
                4,
                RGBColor(178, 24, 43).filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("{}", bin.count),
                ((x0 + x1) / 2.0, acc.max(conf) + 0.035),
                (FONT, 14)
                    .into_font()
                    .color(&MUTED)
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            )))?;
        }
        chart.draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            6,
            4,
            MUTED.stroke_width(1),
        ))?;
        // Legend.
        let (lx, ly) = chart.backend_coord(&(0.03, 1.05));
        root.draw(&Rectangle::new(
            [(lx, ly - 6), (lx + 14, ly + 6)],
            BLUE.mix(0.55).filled(),
        ))?;
        root.draw(&Text::new(
            "accuracy (number: records in the bin)",
            (lx + 20, ly),
            (FONT, 15)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        root.draw(&Circle::new(
            (lx + 7, ly + 20),
            4,
            RGBColor(178, 24, 43).filled(),
        ))?;
        root.draw(&Text::new(
            "mean confidence",
            (lx + 20, ly + 20),
            (FONT, 15)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        root.draw(&Rectangle::new(
            [(lx + 3, ly + 34), (lx + 11, ly + 46)],
            GAP.mix(0.3).filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(lx + 3, ly + 34), (lx + 11, ly + 46)],
            GAP.stroke_width(1),
        ))?;
        root.draw(&Text::new(
            "gap between accuracy and confidence",
            (lx + 20, ly + 40),
            (FONT, 15)
                .into_font()
                .color(&INK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        Ok(())
    })
}

/// Colours of the models in a comparison's charts, in order (repeating past the sixth).
const MODEL_COLOURS: [RGBColor; 6] = [
    RGBColor(76, 114, 176),
    RGBColor(221, 132, 82),
    RGBColor(85, 168, 104),
    RGBColor(196, 78, 82),
    RGBColor(129, 114, 179),
    RGBColor(147, 120, 96),
];

/// A forest plot of a comparison: per model and measure, the difference from the baseline
/// (dot) and its paired bootstrap interval (bar), against a dashed line at no difference.
pub fn differences_svg(c: &Comparison) -> Result<String> {
    let measures = c.measures();
    let rows: Vec<(String, &Interval)> = c
        .differences
        .iter()
        .flat_map(|d| {
            measures
                .iter()
                .map(move |m| (format!("{} · {}", d.model, m.name), (m.difference)(d)))
        })
        .collect();
    let label_width = row_name_width(rows.iter().map(|(l, _)| l), 15.0);
    let width = 560.max(label_width + 360);
    let height = 110 + rows.len().max(1) as u32 * 34;
    let (title_file, title) = COMPARISON_CHARTS[0];
    svg(title_file, (width, height), |root| {
        let baseline = c.models.first().map_or("", |m| m.name.as_str());
        draw_title(root, title, Some(&format!("model − {baseline}")))?;
        let values = rows
            .iter()
            .flat_map(|(_, i)| [i.estimate, i.lower, i.upper])
            .filter(|v| v.is_finite())
            .chain([0.0]);
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let pad = ((high - low) * 0.08).max(0.005);
        let (_, lower) = root.split_vertically(64);
        let k = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&lower)
            .margin_right(28)
            .margin_bottom(6)
            .x_label_area_size(40)
            .y_label_area_size(label_width)
            .build_cartesian_2d((low - pad)..(high + pad), 0f64..k)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(9)
            .x_label_formatter(&|v| format!("{v:+.3}"))
            .x_desc("difference")
            .label_style((FONT, 15).into_font().color(&MUTED))
            .axis_desc_style((FONT, 16).into_font().color(&MUTED))
            .light_line_style(RGBColor(238, 241, 245))
            .bold_line_style(RGBColor(222, 226, 233))
            .draw()?;
        chart.draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (0.0, k)],
            6,
            4,
            MUTED.stroke_width(1),
        ))?;
        for (i, (label, interval)) in rows.iter().enumerate() {
            // Row i is drawn from the top.
            let y = k - 1.0 - i as f64 + 0.5;
            if interval.lower.is_finite() && interval.upper.is_finite() {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![(interval.lower, y), (interval.upper, y)],
                    BLUE.stroke_width(3),
                )))?;
            }
            chart.draw_series(std::iter::once(Circle::new(
                (interval.estimate, y),
                5,
                INK.filled(),
            )))?;
            let start = chart.backend_coord(&(low - pad, y));
            draw_row_name(root, start, label, 15)?;
        }
        Ok(())
    })
}

/// Per class, the F1 of each model of a comparison as side-by-side bars (classes in the
/// order the models' reports first give them).
pub fn per_class_f1_svg(c: &Comparison, reports: &[&Report]) -> Result<String> {
    let mut labels: Vec<&str> = Vec::new();
    for report in reports {
        for class in &report.classes {
            if !labels.contains(&class.label.as_str()) {
                labels.push(&class.label);
            }
        }
    }
    let names: Vec<&str> = c.models.iter().map(|m| m.name.as_str()).collect();
    let k = labels.len().max(1);
    let m = reports.len().max(1);
    let label_width = row_name_width(&labels, 16.0);
    let width = 560.max(label_width + 380);
    let legend_rows = names.len().div_ceil(2) as u32;
    let top = 50 + legend_rows * 22;
    let height = top + 50 + k as u32 * (14 * m as u32 + 24);
    let (title_file, title) = COMPARISON_CHARTS[1];
    svg(title_file, (width, height), |root| {
        draw_title(root, title, None)?;
        for (i, name) in names.iter().enumerate() {
            let colour = MODEL_COLOURS[i % MODEL_COLOURS.len()];
            let x = 12 + (i % 2) as i32 * (width as i32 / 2);
            let y = 46 + (i / 2) as i32 * 22;
            root.draw(&Rectangle::new([(x, y), (x + 14, y + 14)], colour.filled()))?;
            root.draw(&Text::new(
                name.to_string(),
                (x + 20, y + 7),
                (FONT, 15)
                    .into_font()
                    .color(&INK)
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let (_, lower) = root.split_vertically(top as i32);
        let mut chart = score_rows_chart(&lower, label_width, k, "F1")?;
        let band = 0.84 / m as f64;
        for (i, label) in labels.iter().enumerate() {
            let base = (k - 1 - i) as f64;
            for (j, report) in reports.iter().enumerate() {
                let Some(f1) = report.class(label).map(|class| class.f1) else {
                    continue;
                };
                let y1 = base + 0.92 - j as f64 * band;
                let y0 = y1 - band * 0.85;
                let colour = MODEL_COLOURS[j % MODEL_COLOURS.len()];
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(0.0, y0), (f1, y1)],
                    colour.filled(),
                )))?;
                let end = chart.backend_coord(&(f1, (y0 + y1) / 2.0));
                draw_bar_value(root, end, f1, 13)?;
            }
            let start = chart.backend_coord(&(0.0, base + 0.5));
            draw_row_name(root, start, label, 16)?;
        }
        Ok(())
    })
}

/// The learning curve: the pooled held-out score against the training records per fit
/// (a line through the shares), each fold's score as a grey dot.
pub fn learning_curve_svg(curve: &LearningCurve) -> Result<String> {
    svg(LEARNING_CURVE_CHART.0, (560, 420), |root| {
        let subtitle = format!(
            "{} at C = {}, plain argmax; grey: each fold",
            curve.metric, curve.c
        );
        draw_title(root, LEARNING_CURVE_CHART.1, Some(&subtitle))?;
        let scored: Vec<(f64, f64)> = curve
            .points
            .iter()
            .filter_map(|p| Some((p.records as f64, p.score?)))
            .collect();
        let folds: Vec<(f64, f64)> = curve
            .points
            .iter()
            .flat_map(|p| {
                p.fold_scores
                    .iter()
                    .flatten()
                    .map(|&s| (p.records as f64, s))
            })
            .collect();
        let values = scored.iter().chain(&folds).map(|&(_, v)| v);
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (low, high) = if low.is_finite() {
            let pad = ((high - low) * 0.1).max(0.02);
            ((low - pad).max(0.0), (high + pad).min(1.0))
        } else {
            (0.0, 1.0)
        };
        let most = scored.iter().map(|&(x, _)| x).fold(1.0, f64::max);
        let (_, lower) = root.split_vertically(64);
        let mut chart = ChartBuilder::on(&lower)
            .margin_right(24)
            .margin_bottom(6)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..most * 1.05, low..high)?;
        chart
            .configure_mesh()
            .x_labels(8)
            .y_labels(8)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .x_desc("training records per fit")
            .y_desc(curve.metric.as_str())
            .label_style((FONT, 15).into_font().color(&MUTED))
            .axis_desc_style((FONT, 16).into_font().color(&MUTED))
            .light_line_style(RGBColor(238, 241, 245))
            .bold_line_style(RGBColor(222, 226, 233))
            .draw()?;
        chart.draw_series(
            folds
                .iter()
                .map(|&point| Circle::new(point, 3, MUTED.mix(0.45).filled())),
        )?;
        chart.draw_series(LineSeries::new(
            scored.iter().copied(),
            BLUE.stroke_width(2),
        ))?;
        chart.draw_series(
            scored
                .iter()
                .map(|&point| Circle::new(point, 5, BLUE.filled())),
        )?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape_html(r#"<b a="1">Tom & 'Jerry'</b>"#),
            "&lt;b a=&quot;1&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        assert_eq!(truncate_chars("héllo", 2), "hé…");
        assert_eq!(truncate_chars("hé", 2), "hé");
    }
}
