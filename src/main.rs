//! The `stance` command line: a thin layer over the library.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use stance::classifier::Classifier;
use stance::corpus::{self, Format, LabelledCorpus, RecordReader, Source};
use stance::logistic::ClassWeight;
use stance::metrics::{Metric, Report};
use stance::model_file;
use stance::score::{self, ScoreOptions};
use stance::train::{self, Event, TrainOptions, Validation, DEFAULT_C_GRID};
use stance::vectorize::{DocFreq, NgramRange, VectorizerConfig};

const EXIT_CODES: &str = "Exit codes: 0 success; 1 an error (bad input, bad model file, failed write — the message names the file and line); 2 a usage error (unknown option, missing argument); 130 or 143 interrupted by Ctrl-C (SIGINT) or SIGTERM, with the model file written whole or not at all.";

/// Train, evaluate and apply text classifiers (TF-IDF n-grams + logistic regression).
#[derive(Parser)]
#[command(name = "stance", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print nothing but results and errors (no progress display).
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Train a classifier on labelled text, select C on held-out data, print the report, save the model.
    #[command(after_help = EXIT_CODES)]
    Train(Box<TrainArgs>),
    /// Evaluate a saved model on labelled text.
    #[command(after_help = EXIT_CODES)]
    Eval(EvalArgs),
    /// Classify text with a saved model: one JSON object per input record, in input order.
    #[command(after_help = EXIT_CODES)]
    Predict(PredictArgs),
    /// Show a saved model's metadata and its most heavily weighted n-grams per class.
    #[command(after_help = EXIT_CODES)]
    Inspect(InspectArgs),
    /// Score whole articles sentence by sentence with one or more models, showing the n-grams
    /// behind every prediction and a result per article.
    ///
    /// Each article is split into sentences; page furniture (comment forms, disclaimers,
    /// navigation, datelines, bylines, wire codes, credits) is listed with its reason and
    /// never scored. Every sentence gets, under every model, its label, the probability of
    /// each label and the n-grams that pushed the predicted label hardest (signed
    /// contributions in log-odds). Sentences are numbered from 0; models are named by their
    /// file stem.
    ///
    /// Article-level rule, per model: the article's probabilities are the MEAN of its
    /// sentences' probability vectors (every sentence weighs the same) and its label is the
    /// argmax of that mean. Also shown: the share of sentences per label (each sentence
    /// counted under its own argmax) and the sentences with the highest probability of the
    /// article's label. An article with no scorable sentence gets a note instead (null in
    /// JSON, no CSV row).
    #[command(after_help = EXIT_CODES)]
    Score(ScoreArgs),
}

#[derive(Args, Clone)]
struct InputArgs {
    /// Input format; by default from the extension (.csv, .tsv, .jsonl, .txt = fastText lines
    /// for labelled data, plain lines for prediction).
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Field (CSV/TSV column or JSON key) holding the text.
    #[arg(long, default_value = "text")]
    text_field: String,
}

#[derive(Args, Clone)]
struct LabelledInputArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Field holding the label.
    #[arg(long, default_value = "label")]
    label_field: String,
    /// Stop at a record with an empty text instead of skipping it (skipped records are counted
    /// on standard error).
    #[arg(long)]
    strict: bool,
}

impl InputArgs {
    fn source(&self, path: Option<PathBuf>) -> Source {
        Source {
            path,
            format: self.format,
            text_field: self.text_field.clone(),
            label_field: "label".into(),
            strict: false,
        }
    }
}

impl LabelledInputArgs {
    fn source(&self, path: &Path) -> Source {
        Source {
            label_field: self.label_field.clone(),
            strict: self.strict,
            ..self.input.source(Some(path.to_path_buf()))
        }
    }

    /// Read a labelled file that must hold at least two labels.
    fn read_training(&self, path: &Path) -> Result<LabelledCorpus> {
        let corpus = self.read(path)?;
        corpus.require_two_labels(&self.source(path))?;
        Ok(corpus)
    }

    /// Read a labelled file, saying on standard error which records were skipped.
    fn read(&self, path: &Path) -> Result<LabelledCorpus> {
        let corpus = corpus::read_labelled(&self.source(path))?;
        if let Some(first) = corpus.skipped_empty.first() {
            eprintln!(
                "warning: {}: skipped {} record(s) with an empty text (first at line {first}); --strict refuses them",
                path.display(),
                corpus.skipped_empty.len()
            );
        }
        Ok(corpus)
    }
}

#[derive(Args)]
struct TrainArgs {
    /// Labelled training data.
    #[arg(long)]
    data: PathBuf,
    /// Labelled validation data: C is chosen by --metric on it.
    #[arg(long, conflicts_with_all = ["valid_split", "cv"])]
    valid: Option<PathBuf>,
    /// Hold out this stratified fraction of --data to choose C (e.g. 0.1).
    #[arg(long, conflicts_with = "cv")]
    valid_split: Option<f64>,
    /// Choose C and estimate performance by stratified K-fold cross-validation, then fit on all data.
    #[arg(long, value_name = "K")]
    cv: Option<usize>,
    /// Seed for --valid-split and --cv.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to write the model.
    #[arg(long)]
    model: PathBuf,
    /// Selection metric: accuracy, macro-f1, weighted-f1, macro-recall or f1:LABEL[,LABEL…].
    #[arg(long, default_value = "macro-f1", value_parser = parse_metric)]
    metric: Metric,
    /// Inverse regularisation strength(s) to try, comma-separated. Default: 0.1,0.3,1,3,10,30,100
    /// with held-out data, 1 without.
    #[arg(long, value_delimiter = ',')]
    c: Option<Vec<f64>>,
    /// Class weighting: balanced (each class weighs the same in total) or none.
    #[arg(long, default_value = "balanced")]
    class_weight: ClassWeight,
    /// Word n-gram lengths, or `none`.
    #[arg(long, default_value = "1-2", value_parser = parse_range)]
    word_ngrams: OptionalRange,
    /// Character n-gram lengths (inside word boundaries), or `none`.
    #[arg(long, default_value = "2-5", value_parser = parse_range)]
    char_ngrams: OptionalRange,
    /// Drop n-grams found in fewer documents: a count (2) or a fraction (0.001).
    #[arg(long, default_value = "2")]
    min_df: DocFreq,
    /// Drop n-grams found in more documents: a count or a fraction.
    #[arg(long, default_value = "1.0")]
    max_df: DocFreq,
    /// Keep at most this many n-grams per view, the most frequent (default: no limit).
    #[arg(long)]
    max_features: Option<usize>,
    /// Use raw term counts instead of 1 + ln(count).
    #[arg(long)]
    no_sublinear_tf: bool,
    /// Always predict the most probable class: do not fit a class-prior shift for the metric
    /// on the validation data (by default one is kept only when, fitted on one half of the
    /// validation data, it improves the metric on the other half).
    #[arg(long)]
    no_prior_shift: bool,
    /// Refuse to fit when the solver would need more memory than this many bytes (suffixes K,
    /// M, G allowed). Default: the memory the system reports available.
    #[arg(long, value_parser = parse_bytes)]
    memory_limit: Option<u64>,
    /// L-BFGS iteration cap per fit.
    #[arg(long, default_value_t = 100)]
    max_iter: u64,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    input: LabelledInputArgs,
}

#[derive(Args)]
struct EvalArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
    /// Labelled test data.
    #[arg(long)]
    data: PathBuf,
    /// Metric to report besides the standard ones (default: the model's selection metric).
    #[arg(long, value_parser = parse_metric)]
    metric: Option<Metric>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    input: LabelledInputArgs,
}

#[derive(Args)]
struct PredictArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
    /// Input; standard input when absent (plain text lines unless --format says otherwise).
    #[arg(long)]
    data: Option<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args)]
struct InspectArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
    /// N-grams to show per class.
    #[arg(long, default_value_t = 15)]
    top: usize,
    /// Print as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ScoreArgs {
    /// A model file; repeat to score with several models (each named by its file stem).
    #[arg(long = "model", value_name = "MODEL", required = true)]
    models: Vec<PathBuf>,
    /// Plain-text articles (UTF-8): files; directories, meaning every regular file directly
    /// inside (not subdirectories), by name; `-` or nothing for standard input.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Evidence n-grams to show per sentence and model.
    #[arg(long, value_name = "N", default_value_t = 5)]
    evidence: usize,
    /// Sentences to list per model as weighing most for the article's label.
    #[arg(long, value_name = "N", default_value_t = 3)]
    top_sentences: usize,
    /// Print one JSON object per article per line, in full (no truncation).
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print CSV: one row per sentence across all articles, with a header.
    #[arg(long)]
    csv: bool,
}

#[derive(Clone, Copy)]
struct OptionalRange(Option<NgramRange>);

fn parse_range(s: &str) -> Result<OptionalRange, String> {
    if s == "none" || s == "0" {
        return Ok(OptionalRange(None));
    }
    s.parse().map(|r| OptionalRange(Some(r)))
}

/// clap adds its own "invalid value" prefix, so pass on only the message.
fn option_message(error: stance::Error) -> String {
    match error {
        stance::Error::InvalidOption(message) => message,
        other => other.to_string(),
    }
}

/// `4G`, `512M`, `100K` or a plain number of bytes.
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (number, scale) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 1u64 << 10),
        Some((i, 'M' | 'm')) => (&t[..i], 1 << 20),
        Some((i, 'G' | 'g')) => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    number
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| *v >= 0.0)
        .map(|v| (v * scale as f64) as u64)
        .ok_or_else(|| format!("`{s}` is not a size such as 4G, 512M or 1000000"))
}

fn parse_metric(s: &str) -> Result<Metric, String> {
    s.parse().map_err(option_message)
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse().map_err(option_message)
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = stance::interrupt::exit_on_interrupt() {
        eprintln!("warning: Ctrl-C will not remove an unfinished model file: {e}");
    }
    if let Err(error) = run(cli) {
        let closed_pipe = error.chain().any(|cause| {
            cause
                .downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
                || cause
                    .downcast_ref::<stance::Error>()
                    .is_some_and(stance::Error::is_broken_pipe)
                || cause
                    .downcast_ref::<serde_json::Error>()
                    .is_some_and(|e| e.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
        });
        if closed_pipe {
            // The reader went away (`stance … | head`): not an error.
            return;
        }
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let progress = Progress::new(cli.quiet);
    match cli.command {
        Command::Train(args) => cmd_train(*args, &progress),
        Command::Eval(args) => cmd_eval(args, &progress),
        Command::Predict(args) => cmd_predict(args),
        Command::Inspect(args) => cmd_inspect(args),
        Command::Score(args) => cmd_score(args),
    }
}

/// A spinner on standard error, shown only on a terminal and without --quiet.
struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(quiet: bool) -> Self {
        if quiet || !io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("valid template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(Some(bar))
    }

    fn say(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            bar.set_message(message.into());
        }
    }

    fn note(&self, line: impl AsRef<str>) {
        if let Some(bar) = &self.0 {
            bar.println(line.as_ref());
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

fn cmd_train(args: TrainArgs, progress: &Progress) -> Result<()> {
    let c_grid = match &args.c {
        Some(c) => c.clone(),
        None if args.valid.is_none() && args.valid_split.is_none() && args.cv.is_none() => {
            vec![1.0]
        }
        None => DEFAULT_C_GRID.to_vec(),
    };
    let options = TrainOptions {
        vectorizer: VectorizerConfig {
            word_ngrams: args.word_ngrams.0,
            char_ngrams: args.char_ngrams.0,
            min_df: args.min_df,
            max_df: args.max_df,
            max_features: args.max_features,
            sublinear_tf: !args.no_sublinear_tf,
            ..VectorizerConfig::default()
        },
        c_grid,
        class_weight: args.class_weight,
        metric: args.metric.clone(),
        max_iterations: args.max_iter,
        prior_shift: !args.no_prior_shift,
        seed: args.seed,
        memory_limit: args.memory_limit,
        validation: String::new(),
    };
    let input_bytes: u64 = [Some(&args.data), args.valid.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    train::check_input_size(input_bytes, &options)?;
    progress.say(format!("reading {}", args.data.display()));
    let data = args.input.read_training(&args.data)?;
    let validation = if let Some(path) = &args.valid {
        let corpus = args.input.read(path)?;
        Validation::File {
            name: path.display().to_string(),
            corpus,
        }
    } else if let Some(fraction) = args.valid_split {
        Validation::Split {
            fraction,
            seed: args.seed,
        }
    } else if let Some(folds) = args.cv {
        Validation::CrossValidation {
            folds,
            seed: args.seed,
        }
    } else {
        Validation::None
    };
    let mut on_event = |event: Event| match event {
        Event::Stage(s) => progress.say(s),
        Event::Candidate {
            c,
            score,
            iterations,
        } => progress.note(format!(
            "  C = {c:<8} {} = {score:.4}  ({iterations} iterations)",
            options.metric
        )),
    };
    let classifier = train::train(&data, &validation, &options, &mut on_event)?;
    progress.say(format!("writing {}", args.model.display()));
    model_file::save(&classifier, &args.model)
        .with_context(|| format!("could not save the model to {}", args.model.display()))?;
    let training_report = match &classifier.metadata.selection {
        Some(_) => None,
        None => Some(classifier.evaluate(&data.texts, &data.labels, Some(&args.metric))),
    };
    progress.finish();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let report = classifier
            .metadata
            .selection
            .as_ref()
            .map(|s| &s.report)
            .or(training_report.as_ref());
        serde_json::to_writer(
            &mut out,
            &json!({
                "model": args.model,
                "labels": classifier.labels,
                "n_train": classifier.metadata.n_train,
                "n_features": classifier.vectorizer.n_features(),
                "selection": classifier.metadata.selection,
                "evaluated_on": if training_report.is_some() { "training data (optimistic)" } else { "held-out data" },
                "report": report,
            }),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    print_training_summary(&mut out, &classifier)?;
    if let Some(report) = training_report {
        writeln!(
            out,
            "no held-out data: the figures below are on the TRAINING data and are optimistic;"
        )?;
        writeln!(
            out,
            "pass --valid FILE, --valid-split FRACTION or --cv K for an honest estimate.\n"
        )?;
        write!(out, "{report}")?;
    }
    writeln!(out, "\nmodel written to {}", args.model.display())?;
    Ok(())
}

fn print_training_summary(out: &mut impl Write, classifier: &Classifier) -> Result<()> {
    let meta = &classifier.metadata;
    writeln!(
        out,
        "trained on {} records, {} labels, {} features ({})",
        meta.n_train,
        classifier.labels.len(),
        classifier.vectorizer.n_features(),
        describe_views(classifier)
    )?;
    let info = &classifier.model.fit_info;
    writeln!(
        out,
        "final fit: C = {}, class weight {}, {} L-BFGS iterations{}",
        info.c,
        info.class_weight,
        info.iterations,
        if info.converged {
            ""
        } else {
            " (iteration cap reached: raise --max-iter)"
        }
    )?;
    if let Some(selection) = &meta.selection {
        writeln!(
            out,
            "\nmodel selection by {} on {}:",
            selection.metric, selection.scored_on
        )?;
        for (i, cand) in selection.candidates.iter().enumerate() {
            writeln!(
                out,
                "  {} C = {:<8} {:.4}",
                if i == selection.chosen { "*" } else { " " },
                cand.c,
                cand.score
            )?;
        }
        if let Some(shift) = &selection.prior_shift {
            let verdict = if shift.adopted {
                "adopted"
            } else {
                "not adopted"
            };
            writeln!(
                out,
                "  decision rule: class-prior shift {verdict} ({} {:.4} when fitted on one half of the held-out data and scored on the other, {:.4} with plain argmax)",
                selection.metric, shift.cross_fitted, shift.plain
            )?;
            if shift.adopted {
                let offsets: Vec<String> = classifier
                    .labels
                    .iter()
                    .zip(&shift.offsets)
                    .filter(|(_, o)| **o != 0.0)
                    .map(|(l, o)| format!("{l} {o:+}"))
                    .collect();
                writeln!(out, "  log-odds offsets (fitted on all the held-out data, so the report below flatters them): {}", offsets.join(", "))?;
            }
        }
        if !selection.fold_scores.is_empty() {
            let (mean, sd) = mean_sd(&selection.fold_scores);
            writeln!(
                out,
                "  per-fold {} of the chosen C: {} (mean {:.4}, sd {:.4}); the mean is the best of {} candidates, so slightly optimistic",
                selection.metric,
                selection.fold_scores.iter().map(|v| format!("{v:.3}")).collect::<Vec<_>>().join(", "),
                mean,
                sd,
                selection.candidates.len()
            )?;
        }
        if selection.fold_scores.is_empty() {
            writeln!(
                out,
                "\nheld-out report of the chosen model ({} records):\n",
                selection.report.n
            )?;
        } else {
            writeln!(
                out,
                "\ncross-validated report of the chosen C (pooled out-of-fold predictions on {} records; the saved model is refitted on all of them):\n",
                selection.report.n
            )?;
        }
        write!(out, "{}", selection.report)?;
    }
    Ok(())
}

fn describe_views(classifier: &Classifier) -> String {
    classifier
        .vectorizer
        .views
        .iter()
        .map(|v| format!("{:?} {} n-grams: {}", v.kind, v.range, v.vocabulary.len()).to_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

fn mean_sd(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

fn cmd_eval(args: EvalArgs, progress: &Progress) -> Result<()> {
    let classifier = model_file::load(&args.model)?;
    progress.say(format!("reading {}", args.data.display()));
    let data = args.input.read(&args.data)?;
    let metric = args
        .metric
        .unwrap_or_else(|| classifier.metadata.options.metric.clone());
    metric.check_labels(&classifier.labels)?;
    progress.say("predicting");
    let report: Report = classifier.evaluate(&data.texts, &data.labels, Some(&metric));
    progress.finish();
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if args.json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} on {} ({} records)\n",
            args.model.display(),
            args.data.display(),
            report.n
        )?;
        write!(out, "{report}")?;
    }
    Ok(())
}

/// Records predicted per batch: bounded memory on any input length.
const PREDICT_BATCH: usize = 8192;

fn cmd_predict(args: PredictArgs) -> Result<()> {
    let classifier = model_file::load(&args.model)?;
    let source = args.input.source(args.data.clone());
    let mut reader = RecordReader::open(&source, false)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut batch: Vec<String> = Vec::with_capacity(PREDICT_BATCH);
    let mut done = false;
    while !done {
        batch.clear();
        for record in reader.by_ref() {
            batch.push(record?.text);
            if batch.len() == PREDICT_BATCH {
                break;
            }
        }
        done = batch.len() < PREDICT_BATCH;
        for prediction in classifier.predict(&batch) {
            let probs: serde_json::Map<String, serde_json::Value> = classifier
                .labels
                .iter()
                .zip(&prediction.probs)
                .map(|(l, p)| (l.clone(), json!(p)))
                .collect();
            let line = json!({"label": prediction.label, "probs": probs});
            if let Err(e) = writeln!(out, "{line}") {
                if e.kind() == io::ErrorKind::BrokenPipe {
                    return Ok(());
                }
                return Err(e.into());
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn cmd_inspect(args: InspectArgs) -> Result<()> {
    let classifier = model_file::load(&args.model)?;
    let top = classifier.top_features(args.top);
    let meta = &classifier.metadata;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if args.json {
        let top_json: serde_json::Map<String, serde_json::Value> = top
            .iter()
            .map(|(label, feats)| {
                (
                    label.clone(),
                    json!(feats
                        .iter()
                        .map(|(f, w)| json!({"feature": f, "weight": w}))
                        .collect::<Vec<_>>()),
                )
            })
            .collect();
        serde_json::to_writer(
            &mut out,
            &json!({
                "format_version": model_file::FORMAT_VERSION,
                "tool_version": meta.tool_version,
                "labels": classifier.labels,
                "label_counts": meta.label_counts,
                "n_train": meta.n_train,
                "data_fingerprint": meta.data_fingerprint,
                "options": meta.options,
                "analyzer": meta.options.vectorizer.analyzer.describe(),
                "n_features": classifier.vectorizer.n_features(),
                "fit": classifier.model.fit_info,
                "selection": meta.selection,
                "top_features": top_json,
            }),
        )?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(out, "model file     {}", args.model.display())?;
    writeln!(
        out,
        "format         version {} (stance {})",
        model_file::FORMAT_VERSION,
        meta.tool_version
    )?;
    writeln!(
        out,
        "labels         {}",
        classifier
            .labels
            .iter()
            .zip(&meta.label_counts)
            .map(|(l, c)| format!("{l} ({c})"))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    writeln!(
        out,
        "training data  {} records, sha256 {}",
        meta.n_train, meta.data_fingerprint
    )?;
    writeln!(out, "validation     {}", meta.options.validation)?;
    writeln!(
        out,
        "analyser       {}",
        meta.options.vectorizer.analyzer.describe()
    )?;
    let v = &meta.options.vectorizer;
    writeln!(
        out,
        "features       {} ({}); min_df {}, max_df {}, sublinear tf {}",
        classifier.vectorizer.n_features(),
        describe_views(&classifier),
        v.min_df,
        v.max_df,
        v.sublinear_tf
    )?;
    let info = &classifier.model.fit_info;
    writeln!(
        out,
        "model          logistic regression ({}), C = {}, class weight {}, {} iterations, converged {}",
        if classifier.labels.len() == 2 { "binary" } else { "multinomial" },
        info.c,
        info.class_weight,
        info.iterations,
        info.converged
    )?;
    if let Some(s) = &meta.selection {
        writeln!(
            out,
            "held-out       {} = {:.4}, accuracy {:.4} on {}",
            s.metric,
            s.report.metric.as_ref().map_or(f64::NAN, |m| m.value),
            s.report.accuracy,
            s.scored_on
        )?;
    }
    for (label, feats) in &top {
        writeln!(out, "\ntop n-grams for {label}:")?;
        for (feature, weight) in feats {
            writeln!(out, "  {weight:>+9.4}  {feature}")?;
        }
    }
    Ok(())
}

fn cmd_score(args: ScoreArgs) -> Result<()> {
    // Everything is loaded and read first: a bad model or article fails before any output.
    let models = score::load_models(&args.models)?;
    let articles = score::read_articles(&args.paths)?;
    let options = ScoreOptions {
        evidence: args.evidence,
        top_sentences: args.top_sentences,
    };
    let scored = articles
        .iter()
        .map(|a| score::score_article(&a.path, &a.text, &models, &options));
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    if args.csv {
        // Unwrap csv's I/O errors so that a closed pipe is recognised in `main`.
        let io_error = |e: csv::Error| match e.into_kind() {
            csv::ErrorKind::Io(e) => e,
            other => io::Error::other(format!("{other:?}")),
        };
        let mut writer = csv::Writer::from_writer(out);
        writer
            .write_record(score::csv_header(&models))
            .map_err(io_error)?;
        for article in scored {
            for record in score::csv_records(&article) {
                writer.write_record(&record).map_err(io_error)?;
            }
        }
        writer.flush()?;
        return Ok(());
    }
    for (i, article) in scored.enumerate() {
        if args.json {
            writeln!(out, "{}", serde_json::to_string(&article)?)?;
        } else {
            if i > 0 {
                writeln!(out)?;
            }
            write!(out, "{article}")?;
        }
    }
    out.flush()?;
    Ok(())
}
