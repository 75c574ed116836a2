//! The `stance` command line: a thin layer over the library.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anstyle::{AnsiColor, Style};
use anyhow::{bail, Context, Result};
use clap::{Args, CommandFactory, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use stance::agreement;
use stance::atomic_write::{self, AtomicFile};
use stance::bootstrap::DEFAULT_RESAMPLES;
use stance::classifier::{Classifier, Selection};
use stance::compare;
use stance::corpus::{self, Format, LabelledCorpus, RecordReader, Source};
use stance::label_shift::LabelShift;
use stance::learning_curve;
use stance::logistic::{ClassWeight, Solver};
use stance::metrics::{Metric, Report};
use stance::model_file;
use stance::output::{self, Extras, OutputFormat, PredictionWriter};
use stance::report::{self, Evaluation, Page};
use stance::score::{self, ScoreOptions};
use stance::sentences::{sentence_records, SentenceRecord};
use stance::train::{self, Event, TrainOptions, Validation, DEFAULT_C_BELOW, DEFAULT_C_GRID};
use stance::vectorize::{DocFreq, NgramRange, VectorizerConfig};

/// Huge pages for the large tables read at random (weights, vocabularies): fewer TLB misses.
#[global_allocator]
static ALLOC: stance::huge_pages::HugePageAlloc = stance::huge_pages::HugePageAlloc;

const EXIT_CODES: &str = "Exit codes: 0 success; 1 an error (bad input, bad model file, failed write — the message names the file and line); 2 a usage error (an unknown option, a missing argument, an option value that cannot be used); 130, 143 or 129 interrupted by Ctrl-C (SIGINT), SIGTERM or a closed terminal (SIGHUP). Model files, --output files and reports are written whole or not at all.";

/// The prefix of an `--output` file's temporary name while it is written (`predict`,
/// `sentences`).
const OUTPUT_TEMP_PREFIX: &str = ".stance-output-";

/// Train, evaluate and apply text classifiers (TF-IDF n-grams + logistic regression).
#[derive(Parser)]
#[command(name = "stance", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print nothing but results and errors (no progress display).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Print each stage's wall-clock time on standard error.
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    verbose: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Train a classifier on labelled text, select C on held-out data, print the report, save the model.
    #[command(after_help = EXIT_CODES)]
    Train(Box<TrainArgs>),
    /// Evaluate a saved model on labelled text.
    #[command(after_help = EXIT_CODES)]
    Eval(EvalArgs),
    /// Classify text with a saved model: one prediction per input record, in input order.
    #[command(after_help = EXIT_CODES)]
    Predict(PredictArgs),
    /// Show a saved model's metadata and, per class, its baseline and most heavily weighted
    /// n-grams.
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
    /// List the sentences of whole articles, split as `score` splits them, for labelling: one
    /// record per sentence with its article and position, and an empty `label` to fill in.
    ///
    /// Page furniture is left out and sentences are numbered from 0 per article, as `score`
    /// does, so the labels describe what `score` will see. Each record has `source` (the
    /// article as named on the command line), `sentence`, `start` and `end` (byte offsets,
    /// as `score --json` gives them), `text` and `label`. Once labelled, the file is
    /// training data whose held-out figures are for articles the model has not seen:
    /// `stance train --data FILE --cv 5 --group-field source`.
    #[command(after_help = EXIT_CODES)]
    Sentences(SentencesArgs),
    /// Compare models on the same labelled records: each model's figures, and each model
    /// against the first with the paired bootstrap interval of the difference and McNemar's
    /// exact test, to tell a real improvement from the luck of the test set.
    #[command(after_help = EXIT_CODES)]
    Compare(CompareArgs),
    /// Measure how far coders who labelled the same records agree, before a model learns
    /// from their labels: Krippendorff's alpha with its bootstrap interval, Cohen's kappa for
    /// each pair of coders, each label's agreement, and the records they disagree on.
    ///
    /// Each file is one coder's copy of the same records (for example the listing `stance
    /// sentences` writes, with the `label` column filled in), in CSV, TSV or JSON lines. An
    /// empty label means not coded: alpha allows it, kappa uses the records both coders of
    /// a pair labelled. Records are matched by position, with each text checked against the
    /// first file's, or by --key-field when a coder may have sorted or dropped rows.
    /// Krippendorff asks for alpha ≥ 0.800 before drawing conclusions from coded data, and
    /// accepts ≥ 0.667 for tentative ones.
    #[command(after_help = EXIT_CODES)]
    Agree(AgreeArgs),
    /// Print a shell completion script for bash, zsh, fish, elvish or powershell.
    ///
    /// For example `stance completions bash > ~/.local/share/bash-completion/completions/stance`
    /// or `stance completions zsh > ~/.zfunc/_stance` (with ~/.zfunc in $fpath).
    #[command(after_help = EXIT_CODES)]
    Completions(CompletionsArgs),
}

#[derive(Args)]
struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Options that write an evaluation report.
#[derive(Args, Clone)]
struct ReportArgs {
    /// Write an evaluation report into this directory (created if needed): report.html (a
    /// self-contained page), metrics.json, confusion.svg, per_class.svg and reliability.svg.
    /// `train` reports on the held-out predictions of the model search (with --cv, the pooled
    /// out-of-fold ones; without held-out data, the training data, marked optimistic).
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    /// Bootstrap resamples for 95% percentile intervals of accuracy, macro-F1 and the metric;
    /// 0 turns them off. Default: 1000 with --report, else 0.
    #[arg(long, value_name = "N")]
    bootstrap: Option<usize>,
}

impl ReportArgs {
    /// The number of resamples in force.
    fn resamples(&self) -> usize {
        self.bootstrap.unwrap_or(if self.report.is_some() {
            DEFAULT_RESAMPLES
        } else {
            0
        })
    }
}

#[derive(Args, Clone)]
struct InputArgs {
    /// Input format; by default from the extension (.csv, .tsv, .jsonl, .txt = fastText lines
    /// for labelled data, plain lines for prediction). Labelled data can also be a directory
    /// with one sub-directory per label, one file per document (DIR/LABEL/*.txt); this option
    /// does not apply to it.
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
            group_field: None,
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

    /// Read labelled data that must hold at least two labels, with each record's group
    /// when `group_field` names one.
    fn read_training(&self, path: &Path, group_field: Option<&str>) -> Result<LabelledCorpus> {
        let corpus = self.read(path, group_field)?;
        if path.is_dir() {
            let labels = corpus.label_set();
            if labels.len() < 2 {
                bail!(
                    "{}: only one label sub-directory (`{}`) holds documents: a classifier needs at least two",
                    path.display(),
                    labels.first().map_or("", String::as_str)
                );
            }
        } else {
            corpus.require_two_labels(&self.source(path))?;
        }
        Ok(corpus)
    }

    /// Read labelled data — a file, or a directory with one sub-directory per label —
    /// saying on standard error which records were skipped and which labels differ only in
    /// case; with each record's group when `group_field` names one (files only: a
    /// directory's documents have no fields).
    fn read(&self, path: &Path, group_field: Option<&str>) -> Result<LabelledCorpus> {
        let corpus = if path.is_dir() {
            if let Some(field) = group_field {
                bail!(
                    "{}: a directory of documents has no fields, so no `{field}` field for --group-field: give the records in a CSV, TSV or JSON lines file with a column or key naming each one's group",
                    path.display()
                );
            }
            let dir = corpus::read_labelled_dir(path, self.strict)?;
            if let Some(first) = dir.skipped_empty.first() {
                eprintln!(
                    "warning: {}: skipped {} empty file(s) (first: {}); --strict refuses them",
                    path.display(),
                    dir.skipped_empty.len(),
                    first.display()
                );
            }
            dir.corpus
        } else {
            let source = Source {
                group_field: group_field.map(str::to_string),
                ..self.source(path)
            };
            let corpus = corpus::read_labelled(&source)?;
            if let Some(first) = corpus.skipped_empty.first() {
                eprintln!(
                    "warning: {}: skipped {} record(s) with an empty text (first at line {first}); --strict refuses them",
                    path.display(),
                    corpus.skipped_empty.len()
                );
            }
            corpus
        };
        let labels = corpus.label_set();
        let counts = corpus.label_counts(&labels);
        let alone = counts.iter().filter(|&&c| c == 1).count();
        if !path.is_dir() && labels.len() > 20 && alone * 2 > corpus.len() {
            eprintln!(
                "warning: {}: {alone} of the {} records have a label no other record has ({} labels in all): is `{}` the field that holds the label? (--label-field)",
                path.display(),
                corpus.len(),
                labels.len(),
                self.label_field
            );
        }
        for variants in corpus.case_variants() {
            eprintln!(
                "warning: {}: the labels {} differ only in case, so they are different labels; if they are one, spell it one way in the file",
                path.display(),
                variants
                    .iter()
                    .map(|l| format!("`{l}`"))
                    .collect::<Vec<_>>()
                    .join(" and ")
            );
        }
        Ok(corpus)
    }
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("held_out").args(["valid", "valid_split", "cv"])))]
struct TrainArgs {
    /// Labelled training data: a file, or a directory with one sub-directory per label.
    #[arg(long)]
    data: PathBuf,
    /// Labelled validation data (a file or a directory): C is chosen by --metric on it (on it
    /// and the training data together, by cross-validation or on large data a split, when it
    /// has fewer than 1,000 records; see --no-valid-pooling).
    #[arg(long, conflicts_with_all = ["valid_split", "cv"])]
    valid: Option<PathBuf>,
    /// Hold out this stratified fraction of --data to choose C (e.g. 0.1).
    #[arg(long, conflicts_with = "cv")]
    valid_split: Option<f64>,
    /// Choose C and estimate performance by stratified K-fold cross-validation, then fit on all data.
    #[arg(long, value_name = "K")]
    cv: Option<usize>,
    /// Field (CSV/TSV column or JSON key) naming each record's group: the article a
    /// sentence comes from, the author of a post, the source of a story. --cv and
    /// --valid-split then keep each group's records together (all fitted on or all held
    /// out), as does the cross-validation a small --valid file is pooled into, and a larger
    /// --valid file's report says how many of its groups the training data shares; the
    /// decision rule and the calibration are checked on halves of the held-out groups, the
    /// report ends with each group's held-out accuracy, and --bootstrap resamples whole
    /// groups. Without it, a model scored on some sentences of an article after fitting on
    /// the others learns that article's names and wording, and its held-out figures flatter
    /// it for articles it has not seen.
    #[arg(long, value_name = "FIELD", requires = "held_out")]
    group_field: Option<String>,
    /// Seed for --valid-split, --cv (and the folds a small --valid file is pooled into) and
    /// --bootstrap.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Where to write the model.
    #[arg(long)]
    model: PathBuf,
    /// Selection metric: accuracy, macro-f1, weighted-f1, macro-recall or f1:LABEL[,LABEL…].
    #[arg(long, default_value = "macro-f1", value_parser = parse_metric)]
    metric: Metric,
    /// Inverse regularisation strength(s) to try, comma-separated, exactly these. Default with
    /// held-out data: 0.3,1,3,10,30,100, searched from 3 and 10 towards the better end, then
    /// 0.1 if 0.3 scores best; without: 1.
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
    /// Drop n-grams found in fewer documents: a count (2), a fraction (0.001), or auto: 1 when
    /// the training data has fewer than 2,000 records (on little data a word seen once is
    /// often a clue), else 2.
    #[arg(long, default_value = "auto")]
    min_df: DocFreq,
    /// Drop n-grams found in more documents: a count or a fraction.
    #[arg(long, default_value = "1.0", value_parser = parse_max_df)]
    max_df: DocFreq,
    /// Keep at most this many n-grams per view, the most frequent (default: no limit).
    #[arg(long)]
    max_features: Option<usize>,
    /// Use raw term counts instead of 1 + ln(count).
    #[arg(long)]
    no_sublinear_tf: bool,
    /// Always predict the most probable class: do not fit a class-prior shift for the metric
    /// on the held-out predictions (by default one is kept only when, fitted on one half of
    /// them, it improves the metric on the other half; with cross-validation they are the
    /// out-of-fold predictions).
    #[arg(long)]
    no_prior_shift: bool,
    /// Choose C on the --valid file alone even when it is small (by default a validation file
    /// of fewer than 1,000 records, too few to tell values of C apart, is pooled with the
    /// training data: C and the decision rule are chosen by stratified 5-fold
    /// cross-validation over both, or from 50,000 records together on a stratified 10%
    /// split of both, and the model is fitted on both). Use it when the
    /// validation file is a different sample from the training data (a later period,
    /// another source) that resembles the text the model will meet.
    #[arg(long, requires = "valid", conflicts_with_all = ["valid_split", "cv"])]
    no_valid_pooling: bool,
    /// Once C and the decision rule are chosen on the validation file or split, fit the
    /// saved model again on the training and validation records together (by default the
    /// chosen model is kept as it was fitted, on the training records alone).
    #[arg(long)]
    refit: bool,
    /// Fit on plain TF-IDF columns: do not scale each column by its Naive Bayes log-count
    /// ratio (by default columns that occur evenly across the classes are penalised more).
    #[arg(long)]
    no_nb_weights: bool,
    /// Keep the model's probabilities as fitted: do not fit a temperature on the validation
    /// data (by default one is kept when it lowers the log-loss cross-fitted; it never
    /// changes a label).
    #[arg(long)]
    no_calibration: bool,
    /// Refuse to fit when the solver would need more memory than this many bytes (suffixes K,
    /// M, G allowed). Default: the memory the system reports available.
    #[arg(long, value_parser = parse_bytes)]
    memory_limit: Option<u64>,
    /// Optimiser: asgd (averaged stochastic gradient descent, a few passes over the data) or
    /// lbfgs (full-batch L-BFGS to its tolerance: exact, slower on large data).
    #[arg(long, default_value = "asgd")]
    solver: Solver,
    /// ASGD passes over the data per fit. Default: enough for about 100,000 steps (2 passes
    /// over 50,000 records or more, up to 100 over small data), a third of that (at least 2)
    /// for a C-search candidate warm-started from a neighbouring C
    #[arg(long)]
    epochs: Option<u32>,
    /// L-BFGS iteration cap per fit.
    #[arg(long, default_value_t = 100)]
    max_iter: u64,
    /// After training, show how the held-out metric grows with the training data: the
    /// chosen C fitted on nested, stratified shares of each training part (whole groups
    /// with --group-field; default 0.1,0.25,0.5,0.75,1), scored on the same held-out
    /// records as model selection (the same folds, split or file), with plain argmax, and
    /// whether the last step still rises beyond its spread over the folds
    /// (`learning_curve` in --json; a chart in --report). One fit per share and fold.
    #[arg(
        long,
        value_name = "SHARES",
        num_args = 0..=1,
        value_delimiter = ',',
        requires = "held_out"
    )]
    learning_curve: Option<Vec<f64>>,
    /// Print the report as one JSON object.
    #[arg(long)]
    json: bool,
    // For train, --report describes the held-out predictions of the model search.
    #[command(flatten)]
    report: ReportArgs,
    #[command(flatten)]
    input: LabelledInputArgs,
}

#[derive(Args)]
struct EvalArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
    /// Labelled test data: a file, or a directory with one sub-directory per label.
    #[arg(long)]
    data: PathBuf,
    /// Metric to report besides the standard ones (default: the model's selection metric).
    #[arg(long, value_parser = parse_metric)]
    metric: Option<Metric>,
    /// Print the report as one JSON object (with a `bootstrap` member when --bootstrap is in force).
    #[arg(long)]
    json: bool,
    /// List the N most confidently misclassified records after the report, each with why:
    /// the predicted label's baseline and the n-grams that pushed hardest toward or away
    /// from it (`most_confident_errors` in --json).
    #[arg(long, value_name = "N", default_value_t = 0)]
    errors: usize,
    #[command(flatten)]
    report: ReportArgs,
    /// Seed for --bootstrap.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Field (CSV/TSV column or JSON key) naming each record's group (its article, its
    /// author): the report ends with each group's accuracy, least accurate first, and
    /// --bootstrap resamples whole groups, since records of one group are not independent
    /// and resampling them one by one gives intervals too narrow.
    #[arg(long, value_name = "FIELD")]
    group_field: Option<String>,
    #[command(flatten)]
    input: LabelledInputArgs,
}

#[derive(Args)]
struct CompareArgs {
    /// Model files, at least two; the first is the baseline the others are compared with.
    #[arg(long = "model", value_name = "MODEL", required = true)]
    models: Vec<PathBuf>,
    /// Labelled test data: a file, or a directory with one sub-directory per label.
    #[arg(long)]
    data: PathBuf,
    /// Metric to compare by besides macro-F1 and accuracy (default: the first model's
    /// selection metric).
    #[arg(long, value_parser = parse_metric)]
    metric: Option<Metric>,
    /// Paired bootstrap resamples for the 95% intervals of the differences; 0 turns them
    /// off.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RESAMPLES)]
    bootstrap: usize,
    /// Seed for --bootstrap.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Field (CSV/TSV column or JSON key) naming each record's group (its article, its
    /// author): the paired bootstrap then resamples whole groups, since records of one
    /// group are not independent and resampling them one by one gives intervals too narrow.
    #[arg(long, value_name = "FIELD")]
    group_field: Option<String>,
    /// Print the comparison as one JSON object.
    #[arg(long)]
    json: bool,
    /// Also write the comparison into this directory (created if needed): report.html (a
    /// self-contained page with both tables and the charts), comparison.json (what --json
    /// prints), differences.svg (each difference with its interval) and per_class_f1.svg.
    #[arg(long, value_name = "DIR")]
    report: Option<PathBuf>,
    #[command(flatten)]
    input: LabelledInputArgs,
}

#[derive(Args)]
struct AgreeArgs {
    /// The coders' files, two or more: the same records, each with one coder's labels.
    #[arg(value_name = "FILE", num_args = 2.., required = true)]
    files: Vec<PathBuf>,
    /// Match records by this field instead of by position; repeat it for a key of several
    /// fields (`--key-field source --key-field sentence` for a `stance sentences` listing).
    #[arg(long = "key-field", value_name = "FIELD")]
    key_fields: Vec<String>,
    /// Field (CSV/TSV column or JSON key) holding each coder's label.
    #[arg(long, default_value = "label")]
    label_field: String,
    /// Field naming each record's group (its article, its author): alpha's bootstrap then
    /// draws whole groups, since an article's sentences are not independent of one another.
    #[arg(long, value_name = "FIELD")]
    group_field: Option<String>,
    /// Bootstrap resamples of the records for alpha's 95% interval; 0 turns it off.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RESAMPLES)]
    bootstrap: usize,
    /// Seed for --bootstrap.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Write the records the coders disagree on to this file, whole or not at all, for
    /// adjudication: the key (or the record's position), the text, each coder's label and
    /// an empty `label` to fill in. Its extension names the format (.jsonl, .csv, .tsv)
    /// unless --output-format says.
    #[arg(long, value_name = "FILE")]
    disagreements: Option<PathBuf>,
    /// Format of the --disagreements file: jsonl, csv or tsv.
    #[arg(long, value_name = "FORMAT", value_parser = parse_output_format, requires = "disagreements")]
    output_format: Option<OutputFormat>,
    /// Print the figures as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    input: InputArgs,
}

#[derive(Args)]
struct PredictArgs {
    /// The model file.
    #[arg(long)]
    model: PathBuf,
    /// Input; standard input when absent or `-` (plain text lines unless --format says
    /// otherwise).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Write the predictions to this file instead of standard output, in the format its
    /// extension names (unless --output-format says): .jsonl (or .ndjson, .json: JSON
    /// lines), .csv or .tsv (columns: label, then p_LABEL for every label), .txt (labels).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output format: jsonl (a JSON object per record with the label and every label's
    /// probability), csv, tsv (label, then p_LABEL columns) or labels (one label per line,
    /// nothing else). Default: from the --output file's extension, else jsonl.
    #[arg(long, value_name = "FORMAT", value_parser = parse_output_format)]
    output_format: Option<OutputFormat>,
    /// With each prediction, the N n-grams that pushed hardest toward or away from its label
    /// (value × weight, in log-odds, signed), as `stance score` shows them, and the label's
    /// baseline (its intercept's push): `baseline` and `evidence` members in JSON lines,
    /// columns in CSV and TSV. Not with one label per line.
    #[arg(long, value_name = "N", default_value_t = 0)]
    evidence: usize,
    /// Copy these fields of each input record (CSV or TSV columns, JSON keys) into its
    /// output, in front of the prediction: an id, say, to join the predictions back to the
    /// input. Comma-separated or repeated. Not with plain text input or one label per line.
    #[arg(long, value_name = "FIELD", value_delimiter = ',')]
    keep: Vec<String>,
    #[command(flatten)]
    input: InputArgs,
}

fn parse_output_format(s: &str) -> Result<OutputFormat, String> {
    OutputFormat::from_name(s)
        .ok_or_else(|| format!("unknown output format `{s}`: use jsonl, csv, tsv or labels"))
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

#[derive(Args)]
struct SentencesArgs {
    /// Plain-text articles (UTF-8): files; directories, meaning every regular file directly
    /// inside (not subdirectories), by name; `-` or nothing for standard input.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Write the sentences to this file instead of standard output, whole or not at all, in
    /// the format its extension names (.jsonl, .csv, .tsv) unless --output-format says.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Output format: jsonl, csv or tsv (with a header). Default: from the --output file's
    /// extension, else jsonl.
    #[arg(long, value_name = "FORMAT", value_parser = parse_output_format)]
    output_format: Option<OutputFormat>,
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

/// A count or a fraction: `auto` is a rule for the lower bound only.
fn parse_max_df(s: &str) -> Result<DocFreq, String> {
    match s.parse() {
        Ok(DocFreq::Auto) | Err(_) => Err(format!(
            "`{s}` is neither a document count (2) nor a fraction in (0, 1] (0.9)"
        )),
        Ok(value) => Ok(value),
    }
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
        if is_closed_pipe(&error) {
            // The reader went away (`stance … | head`): not an error.
            return;
        }
        eprintln!("error: {error:#}");
        // An option value that cannot be used is a usage error, as clap's own refusals are.
        let usage = error.chain().any(|cause| {
            matches!(
                cause.downcast_ref::<stance::Error>(),
                Some(stance::Error::InvalidOption(_))
            )
        });
        std::process::exit(if usage { 2 } else { 1 });
    }
}

/// Whether `error` is a write to a reader that went away (`stance … | head`).
fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<stance::Error>()
                .is_some_and(stance::Error::is_broken_pipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
    })
}

fn run(cli: Cli) -> Result<()> {
    let ui = Ui::new(cli.quiet, cli.verbose);
    let result = match cli.command {
        Command::Train(args) => cmd_train(*args, &ui),
        Command::Eval(args) => cmd_eval(args, &ui),
        Command::Predict(args) => cmd_predict(args, &ui),
        Command::Inspect(args) => cmd_inspect(args),
        Command::Score(args) => cmd_score(args),
        Command::Sentences(args) => cmd_sentences(args),
        Command::Compare(args) => cmd_compare(args, &ui),
        Command::Agree(args) => cmd_agree(args),
        Command::Completions(args) => cmd_completions(args),
    };
    ui.finish();
    result
}

/// Progress on standard error — a spinner, or a bar with rate and ETA where a step has a
/// known length — shown only on a terminal and without --quiet; with --verbose, each stage's
/// wall-clock time (a stage lasts from one [`Ui::say`] to the next).
struct Ui {
    bar: Option<ProgressBar>,
    verbose: bool,
    start: Instant,
    stage: RefCell<Option<(String, Instant)>>,
}

/// What a progress bar counts.
#[derive(Clone, Copy)]
enum Unit {
    Bytes,
    Items,
}

impl Ui {
    fn new(quiet: bool, verbose: bool) -> Self {
        let bar = (!quiet && io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(Self::spinner_style());
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Ui {
            bar,
            verbose,
            start: Instant::now(),
            stage: RefCell::new(None),
        }
    }

    fn spinner_style() -> ProgressStyle {
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").expect("valid template")
    }

    /// Begin a new stage: the spinner's message, and a timing line for the previous stage.
    fn say(&self, message: impl Into<String>) {
        let message = message.into();
        self.end_stage();
        if let Some(bar) = &self.bar {
            bar.set_style(Self::spinner_style());
            bar.set_message(message.clone());
        }
        *self.stage.borrow_mut() = Some((message, Instant::now()));
    }

    /// Begin a stage of known length: a bar of `len` units with rate and ETA.
    fn say_bar(&self, message: impl Into<String>, len: u64, unit: Unit) {
        self.say(message);
        if let Some(bar) = &self.bar {
            let template = match unit {
                Unit::Bytes => "{spinner} [{elapsed}] {msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, ETA {eta})",
                Unit::Items => "{spinner} [{elapsed}] {msg} {bar:30} {pos}/{len} ({per_sec}, ETA {eta})",
            };
            bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
            bar.set_length(len);
            bar.set_position(0);
            bar.reset_eta();
        }
    }

    /// Move the bar of the current stage.
    fn set_position(&self, position: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
        }
    }

    fn inc(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// A line above the progress display (nothing when there is none).
    fn note(&self, line: impl AsRef<str>) {
        if let Some(bar) = &self.bar {
            bar.println(line.as_ref());
        }
    }

    /// A line on standard error that does not garble the progress display.
    fn eprint(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }

    fn end_stage(&self) {
        if let Some((name, started)) = self.stage.borrow_mut().take() {
            if self.verbose {
                self.eprint(&format!(
                    "[time] {name}: {:.3} s",
                    started.elapsed().as_secs_f64()
                ));
            }
        }
    }

    /// Clear the progress display (before printing results).
    fn clear(&self) {
        self.end_stage();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// At exit: the last stage's time and the total.
    fn finish(&self) {
        self.clear();
        if self.verbose {
            self.eprint(&format!(
                "[time] total: {:.3} s",
                self.start.elapsed().as_secs_f64()
            ));
        }
    }
}

/// Styles for terminal output; `anstream` drops them when standard output is not a terminal
/// or NO_COLOR is set (CLICOLOR_FORCE=1 forces them).
const HEADER: Style = Style::new().bold();
const HIGHLIGHT: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Green)));
const WARNING: Style = Style::new()
    .bold()
    .fg_color(Some(anstyle::Color::Ansi(AnsiColor::Yellow)));

/// A report as text, with its header row and the chosen metric's line styled.
fn styled_report(report: &Report) -> String {
    let metric = report.metric.as_ref().map(|m| m.name.as_str());
    let mut out = String::new();
    for (i, line) in report.to_string().lines().enumerate() {
        let trimmed = line.trim_start();
        let is_metric = metric.is_some_and(|m| {
            trimmed
                .strip_prefix(m)
                .is_some_and(|rest| rest.starts_with("  ") && !rest.trim().contains(' '))
        });
        if i == 0 || line.starts_with("confusion matrix") {
            out.push_str(&format!("{HEADER}{line}{HEADER:#}\n"));
        } else if is_metric {
            out.push_str(&format!("{HIGHLIGHT}{line}{HIGHLIGHT:#}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Bytes of labelled input: a file's size, or the files of a directory's label
/// sub-directories.
fn input_size(path: &Path) -> u64 {
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| if m.is_file() { m.len() } else { 0 });
    if !path.is_dir() {
        return size(path);
    }
    let entries = |p: &Path| {
        std::fs::read_dir(p)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .collect::<Vec<_>>()
    };
    entries(path)
        .into_iter()
        .filter(|p| p.is_dir())
        .flat_map(|d| entries(&d))
        .map(|f| size(&f))
        .sum()
}

fn cmd_train(args: TrainArgs, ui: &Ui) -> Result<()> {
    let mut inputs = vec![("the training data", args.data.as_path())];
    if let Some(valid) = &args.valid {
        inputs.push(("the validation data", valid.as_path()));
    }
    refuse_overwriting_inputs(&args.model, &inputs)?;
    if args.model.is_dir() {
        return Err(stance::Error::InvalidOption(format!(
            "--model {} is a directory: name a file in it, such as {}",
            args.model.display(),
            args.model.join("model.stance").display()
        ))
        .into());
    }
    if let Some(valid) = args
        .valid
        .as_deref()
        .filter(|v| atomic_write::same_file(v, &args.data))
    {
        return Err(stance::Error::InvalidOption(format!(
            "--valid {} is the training data: C would be chosen on the records it is fitted on; give a separate file, or hold some of --data out with --valid-split or --cv",
            valid.display()
        ))
        .into());
    }
    let (c_grid, c_below) = match &args.c {
        Some(c) => (c.clone(), Vec::new()),
        None if args.valid.is_none() && args.valid_split.is_none() && args.cv.is_none() => {
            (vec![1.0], Vec::new())
        }
        None => (DEFAULT_C_GRID.to_vec(), DEFAULT_C_BELOW.to_vec()),
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
        c_below,
        class_weight: args.class_weight,
        metric: args.metric.clone(),
        solver: args.solver,
        epochs: args.epochs,
        max_iterations: args.max_iter,
        prior_shift: !args.no_prior_shift,
        refit: args.refit,
        nb_weights: !args.no_nb_weights,
        calibrate: !args.no_calibration,
        seed: args.seed,
        memory_limit: args.memory_limit,
        validation: String::new(),
    };
    // `--learning-curve` alone asks for the default shares; checked before any training.
    let curve_fractions = match &args.learning_curve {
        Some(given) if given.is_empty() => Some(learning_curve::DEFAULT_FRACTIONS.to_vec()),
        Some(given) => Some(learning_curve::check_fractions(given)?),
        None => None,
    };
    let input_bytes: u64 = [Some(&args.data), args.valid.as_ref()]
        .into_iter()
        .flatten()
        .map(|p| input_size(p))
        .sum();
    train::check_input_size(input_bytes, &options)?;
    ui.say(format!("reading {}", args.data.display()));
    let group_field = args.group_field.as_deref();
    let data = args.input.read_training(&args.data, group_field)?;
    let validation = if let Some(path) = &args.valid {
        let corpus = args.input.read(path, group_field)?;
        Validation::for_file(
            path.display().to_string(),
            corpus,
            !args.no_valid_pooling,
            args.seed,
        )
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
    let resamples = args.report.resamples();
    // Groups get each group's held-out accuracy, from the held-out predictions.
    let needs_evaluation =
        resamples > 0 || args.report.report.is_some() || args.group_field.is_some();
    // The model search's progress: a bar of candidates (or of folds for --cv).
    let mut held_out: Option<(LabelledCorpus, Vec<Vec<f64>>)> = None;
    let mut fitted: Option<Vec<Vec<f64>>> = None;
    let mut counting_candidates = false;
    let mut on_event = |event: Event| match event {
        Event::Stage(s) => {
            counting_candidates = false;
            ui.say(s);
        }
        Event::Search {
            candidates,
            features,
            nonzeros,
        } => {
            ui.say_bar(
                format!("searching C ({features} features, {nonzeros} non-zeros)"),
                candidates as u64,
                Unit::Items,
            );
            counting_candidates = true;
        }
        Event::Fold { fold, folds, cs } => {
            counting_candidates = false;
            let cs: Vec<String> = cs.iter().map(f64::to_string).collect();
            ui.say_bar(
                format!(
                    "cross-validation fold {fold}/{folds} (C = {})",
                    cs.join(", ")
                ),
                folds as u64,
                Unit::Items,
            );
            ui.set_position(fold as u64 - 1);
        }
        Event::Candidate {
            c,
            score,
            iterations,
        } => {
            ui.note(format!(
                "  C = {c:<8} {} = {score:.4}  ({iterations} iterations)",
                options.metric
            ));
            if counting_candidates {
                ui.inc();
            }
        }
        Event::HeldOut { probs, records } => {
            if needs_evaluation {
                held_out = Some((records.clone(), probs));
            }
        }
        Event::Fitted { probs } => fitted = Some(probs),
    };
    let classifier = train::train(&data, &validation, &options, &mut on_event)?;
    ui.say(format!("writing {}", args.model.display()));
    // Written now, put in place last: a report or output that fails leaves the old model.
    let prepared = model_file::prepare(&classifier, &args.model)
        .with_context(|| format!("could not save the model to {}", args.model.display()))?;
    let training_probs = match &classifier.metadata.selection {
        Some(_) => None,
        None => Some(fitted.context("training gave no predictions on its training data")?),
    };
    let training_report = training_probs.as_ref().map(|probs| {
        let predicted: Vec<usize> = probs.iter().map(|p| stance::logistic::argmax(p)).collect();
        Report::new(
            &classifier.labels,
            &data.labels,
            &predicted,
            Some(probs),
            Some(&args.metric),
        )
    });
    // The records behind the held-out predictions, in their order.
    let evaluated: Option<(LabelledCorpus, Vec<Vec<f64>>)> = if !needs_evaluation {
        None
    } else if let Some(probs) = training_probs {
        Some((data.clone(), probs))
    } else {
        Some(held_out.context("training gave no held-out predictions to report on")?)
    };
    let evaluation = evaluated.as_ref().map(|(records, probs)| {
        ui.say(if resamples > 0 {
            format!("bootstrap ({resamples} resamples)")
        } else {
            "evaluating".to_string()
        });
        Evaluation::new(
            &classifier.labels,
            &records.labels,
            probs,
            &records.groups,
            Some(&args.metric),
            resamples,
            args.seed,
        )
    });
    let curve = match &curve_fractions {
        None => None,
        Some(fractions) => {
            let selection = classifier
                .metadata
                .selection
                .as_ref()
                .context("a learning curve needs held-out data")?;
            let c = selection.candidates[selection.chosen].c;
            Some(learning_curve::learning_curve(
                &data,
                &validation,
                &options,
                c,
                fractions,
                &mut |stage| ui.say(stage),
            )?)
        }
    };
    if let (Some(dir), Some((records, probs)), Some(evaluation)) =
        (&args.report.report, &evaluated, &evaluation)
    {
        ui.say(format!("writing the report to {}", dir.display()));
        let selection = classifier.metadata.selection.as_ref();
        let mut context = vec![
            ("command".to_string(), "stance train".to_string()),
            ("training data".to_string(), args.data.display().to_string()),
            ("model".to_string(), args.model.display().to_string()),
            (
                "evaluated on".to_string(),
                match selection {
                    Some(s) => s.scored_on.clone(),
                    None => format!("the training data ({} records)", data.len()),
                },
            ),
        ];
        if let Some(note) = selection.and_then(Selection::repeats_note) {
            context.push(("repeated texts".to_string(), note));
        }
        if let Some(note) = selection.and_then(|s| s.label_shift_note(args.group_field.is_some())) {
            context.push(("validation labels".to_string(), note));
        }
        if let Some(s) = selection {
            context.push((
                "model selection".to_string(),
                format!(
                    "C = {} chosen by {} among {} candidates",
                    s.candidates[s.chosen].c,
                    s.metric,
                    s.candidates.len()
                ),
            ));
        }
        context.push((
            "features".to_string(),
            format!(
                "{} ({})",
                classifier.vectorizer.n_features(),
                describe_views(&classifier)
            ),
        ));
        let caveat = match selection {
            None => Some("No held-out data: these figures are on the TRAINING data and are optimistic. Pass --valid FILE, --valid-split FRACTION or --cv K for an honest estimate.".to_string()),
            Some(s) if s.prior_shift.as_ref().is_some_and(|p| p.adopted) => Some("A class-prior shift was fitted on these held-out records, so they flatter it; the cross-fitted figure in the training output is the honest one.".to_string()),
            Some(_) => None,
        };
        let page = Page {
            title: format!(
                "{} trained on {}",
                args.model.display(),
                args.data.display()
            ),
            context,
            caveat,
            overlap: None,
            label_shift: None,
            explainer: validation
                .saved_model_predicted(classifier.metadata.options.refit)
                .then_some(&classifier),
            labels: &classifier.labels,
            texts: &records.texts,
            truth: &records.labels,
            probs,
            top_features: classifier.top_features(12),
            evaluation,
            learning_curve: curve.as_ref(),
        };
        report::write_report(dir, &page)?;
    }
    ui.clear();
    let mut out = anstream::stdout().lock();
    // Everything but the closing lines is printed before the model is put in place; a
    // reader that went away (`stance train … | head`) is no reason not to save it.
    let printed = (|| -> Result<()> {
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
                    "refitted": classifier.metadata.options.refit,
                    "n_features": classifier.vectorizer.n_features(),
                    "selection": classifier.metadata.selection,
                    "evaluated_on": if training_report.is_some() { "training data (optimistic)" } else { "held-out data" },
                    "report": report,
                    "bootstrap": evaluation.as_ref().and_then(|e| e.bootstrap.as_ref()),
                    "accuracy_by_group": evaluation.as_ref().and_then(|e| e.by_group.as_ref()),
                    "learning_curve": curve,
                    "report_dir": args.report.report,
                }),
            )?;
            writeln!(out)?;
            return Ok(out.flush()?);
        }
        print_training_summary(&mut out, &classifier, args.group_field.is_some())?;
        if let Some(report) = training_report {
            writeln!(
                out,
                "no held-out data: the figures below are on the TRAINING data and are optimistic;"
            )?;
            writeln!(
                out,
                "pass --valid FILE, --valid-split FRACTION or --cv K for an honest estimate.\n"
            )?;
            write!(out, "{}", styled_report(&report))?;
        }
        if let Some(evaluation) = &evaluation {
            write_intervals_and_groups(&mut out, evaluation, args.group_field.as_deref())?;
        }
        if let Some(curve) = &curve {
            write!(out, "\n{curve}")?;
        }
        Ok(out.flush()?)
    })();
    let reader_gone = match printed {
        Ok(()) => false,
        Err(e) if is_closed_pipe(&e) => true,
        Err(e) => return Err(e),
    };
    prepared
        .commit()
        .with_context(|| format!("could not save the model to {}", args.model.display()))?;
    if reader_gone || args.json {
        return Ok(());
    }
    writeln!(out, "\nmodel written to {}", args.model.display())?;
    if let Some(dir) = &args.report.report {
        writeln!(
            out,
            "report written to {}",
            dir.join("report.html").display()
        )?;
    }
    Ok(())
}

/// A decision rule's non-zero log-odds `offsets` by label: `against -0.2, none +0.1`.
fn offsets_text(labels: &[String], offsets: &[f64]) -> String {
    labels
        .iter()
        .zip(offsets)
        .filter(|(_, o)| **o != 0.0)
        .map(|(l, o)| format!("{l} {o:+}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// After a report: its bootstrap intervals, when there are any, and with `group_field` each
/// group's accuracy.
fn write_intervals_and_groups(
    out: &mut impl Write,
    evaluation: &report::Evaluation,
    group_field: Option<&str>,
) -> io::Result<()> {
    let lines = evaluation.interval_lines();
    if !lines.is_empty() {
        writeln!(out)?;
        for line in lines {
            writeln!(out, "{line}")?;
        }
    }
    if let Some(field) = group_field {
        for line in evaluation.group_lines(field) {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// `12 ASGD epochs`, `100 L-BFGS iterations`.
fn describe_fit(info: &stance::logistic::FitInfo) -> String {
    match info.solver {
        Solver::Asgd => format!("{} ASGD epochs", info.iterations),
        Solver::Lbfgs => format!("{} L-BFGS iterations", info.iterations),
    }
}

fn print_training_summary(
    out: &mut impl Write,
    classifier: &Classifier,
    grouped: bool,
) -> Result<()> {
    let meta = &classifier.metadata;
    // The decision rule and the calibration are cross-fitted on halves that keep each
    // group whole when the records have groups.
    let half = if grouped {
        "the held-out data's groups"
    } else {
        "the held-out data"
    };
    writeln!(
        out,
        "trained on {} records, {} labels, {} features ({})",
        meta.n_train,
        classifier.labels.len(),
        classifier.vectorizer.n_features(),
        describe_views(classifier)
    )?;
    let info = &classifier.model.fit_info;
    let refitted = meta.options.refit;
    writeln!(
        out,
        "final fit: C = {}, class weight {}, {}{}{}",
        info.c,
        info.class_weight,
        describe_fit(info),
        if info.converged {
            ""
        } else {
            " (iteration cap reached: raise --max-iter)"
        },
        if refitted {
            "; fitted again on the training and held-out records once C was chosen"
        } else {
            ""
        }
    )?;
    if let Some(selection) = &meta.selection {
        writeln!(
            out,
            "\nmodel selection by {} on {}:",
            selection.metric, selection.scored_on
        )?;
        for note in selection.notes(grouped) {
            writeln!(out, "  {WARNING}note: {note}{WARNING:#}")?;
        }
        for (i, cand) in selection.candidates.iter().enumerate() {
            let line = format!(
                "  {} C = {:<8} {:.4}",
                if i == selection.chosen { "*" } else { " " },
                cand.c,
                cand.score
            );
            if i == selection.chosen {
                writeln!(out, "{HIGHLIGHT}{line}{HIGHLIGHT:#}")?;
            } else {
                writeln!(out, "{line}")?;
            }
        }
        if let Some(shift) = &selection.prior_shift {
            let verdict = if shift.adopted {
                "adopted"
            } else {
                "not adopted"
            };
            let splits = match stance::decision::cross_fit_repeats(selection.report.n) {
                1 => String::new(),
                n => format!(" (mean of {n} half splits)"),
            };
            writeln!(
                out,
                "  decision rule: class-prior shift {verdict} ({} {:.4} when fitted on one half of {half} and scored on the other{splits}, {:.4} with plain argmax)",
                selection.metric, shift.cross_fitted, shift.plain
            )?;
            if shift.adopted {
                writeln!(
                    out,
                    "  log-odds offsets (fitted on all the held-out data, so the report below flatters them): {}",
                    offsets_text(&classifier.labels, &shift.offsets)
                )?;
            }
        }
        if let Some(t) = &selection.temperature {
            let verdict = if t.adopted {
                format!("scores divided by a temperature of {:.3}", t.t)
            } else {
                "no temperature".to_string()
            };
            writeln!(
                out,
                "  calibration: {verdict} (held-out log-loss {:.4} as fitted, {:.4} with a temperature fitted on one half of {half} and applied to the other; labels unchanged)",
                t.log_loss_before, t.log_loss_cross_fitted
            )?;
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
                "\nheld-out report of the chosen model{} ({} records):\n",
                if refitted {
                    ", as fitted before the final refit"
                } else {
                    ""
                },
                selection.report.n
            )?;
        } else {
            writeln!(
                out,
                "\ncross-validated report of the chosen C (pooled out-of-fold predictions on {} records; the saved model is refitted on all of them):\n",
                selection.report.n
            )?;
        }
        write!(out, "{}", styled_report(&selection.report))?;
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

fn cmd_eval(args: EvalArgs, ui: &Ui) -> Result<()> {
    ui.say(format!("loading {}", args.model.display()));
    let classifier = model_file::load(&args.model)?;
    ui.say(format!("reading {}", args.data.display()));
    let data = args.input.read(&args.data, args.group_field.as_deref())?;
    let metric = args
        .metric
        .unwrap_or_else(|| classifier.metadata.options.metric.clone());
    metric.check_labels(&classifier.labels, "the model's")?;
    ui.say("predicting");
    let probs = classifier.predict_proba(&data.texts);
    let overlap = classifier.overlap(&data.texts);
    let resamples = args.report.resamples();
    if resamples > 0 {
        ui.say(format!("bootstrap ({resamples} resamples)"));
    }
    let evaluation = Evaluation::new(
        &classifier.labels,
        &data.labels,
        &probs,
        &data.groups,
        Some(&metric),
        resamples,
        args.seed,
    );
    // Against the report's classes, so labels the model never saw count (none in training).
    let mut trained_counts = classifier.metadata.label_counts.clone();
    trained_counts.resize(evaluation.report.classes.len(), 0);
    let evaluated_counts: Vec<usize> = evaluation
        .report
        .classes
        .iter()
        .map(|c| c.support)
        .collect();
    let label_shift = LabelShift::between(&trained_counts, &evaluated_counts);
    if let Some(dir) = &args.report.report {
        ui.say(format!("writing the report to {}", dir.display()));
        let meta = &classifier.metadata;
        let mut context = vec![
            ("command".to_string(), "stance eval".to_string()),
            ("model".to_string(), args.model.display().to_string()),
            ("data".to_string(), args.data.display().to_string()),
            ("records".to_string(), data.len().to_string()),
            ("metric".to_string(), metric.to_string()),
            (
                "model trained on".to_string(),
                format!(
                    "{} records; validation: {}",
                    meta.n_train, meta.options.validation
                ),
            ),
            (
                "labels against the training data's".to_string(),
                label_shift.describe(),
            ),
        ];
        if let Some(s) = &meta.selection {
            context.push((
                "model's held-out score".to_string(),
                format!(
                    "{} = {:.4} on {}",
                    s.metric, s.candidates[s.chosen].score, s.scored_on
                ),
            ));
        }
        let page = Page {
            title: format!("{} on {}", args.model.display(), args.data.display()),
            context,
            caveat: overlap.describe(),
            overlap: Some(overlap),
            label_shift: Some(label_shift),
            explainer: Some(&classifier),
            labels: &classifier.labels,
            texts: &data.texts,
            truth: &data.labels,
            probs: &probs,
            top_features: classifier.top_features(12),
            evaluation: &evaluation,
            learning_curve: None,
        };
        report::write_report(dir, &page)?;
    }
    ui.clear();
    let report = &evaluation.report;
    let errors = (args.errors > 0).then(|| {
        report::explained_errors(
            &classifier.labels,
            &data.texts,
            &data.labels,
            &probs,
            Some(&classifier),
            args.errors,
        )
    });
    let mut out = anstream::stdout().lock();
    if args.json {
        let mut value = serde_json::to_value(report)?;
        if let Some(object) = value.as_object_mut() {
            if let Some(b) = &evaluation.bootstrap {
                object.insert("bootstrap".into(), serde_json::to_value(b)?);
            }
            if let Some(by_group) = &evaluation.by_group {
                object.insert("accuracy_by_group".into(), serde_json::to_value(by_group)?);
            }
            object.insert("overlap".into(), serde_json::to_value(overlap)?);
            object.insert("label_shift".into(), serde_json::to_value(label_shift)?);
            if let Some(errors) = &errors {
                object.insert(
                    "most_confident_errors".into(),
                    serde_json::to_value(errors)?,
                );
            }
        }
        serde_json::to_writer(&mut out, &value)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "{} on {} ({} records)\n",
            args.model.display(),
            args.data.display(),
            report.n
        )?;
        let shift_note = label_shift.evaluation_note(args.group_field.is_some());
        for note in [overlap.describe(), shift_note].into_iter().flatten() {
            writeln!(out, "{WARNING}note: {note}{WARNING:#}\n")?;
        }
        write!(out, "{}", styled_report(report))?;
        write_intervals_and_groups(&mut out, &evaluation, args.group_field.as_deref())?;
        if let Some(errors) = &errors {
            let right: usize = (0..report.classes.len())
                .map(|c| report.confusion[c][c])
                .sum();
            let wrong = report.n - right;
            writeln!(
                out,
                "\nmost confidently misclassified ({} of {wrong}; # is the record's position, from 1; why: the predicted label's baseline and n-gram pushes, in log-odds):",
                errors.len()
            )?;
            write!(out, "{}", report::render_errors(errors))?;
        }
        if let Some(dir) = &args.report.report {
            writeln!(
                out,
                "\nreport written to {}",
                dir.join("report.html").display()
            )?;
        }
    }
    keep_until_exit(classifier);
    Ok(())
}

/// Records predicted per batch: bounded memory on any input length.
const PREDICT_BATCH: usize = 8192;

/// A reader that counts the bytes read through it, for a progress bar.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn cmd_predict(mut args: PredictArgs, ui: &Ui) -> Result<()> {
    if args.data.as_deref().is_some_and(score::is_stdin) {
        args.data = None;
    }
    let format = output_format(args.output.as_deref(), args.output_format);
    let extras = Extras {
        kept_fields: args.keep.clone(),
        explain: args.evidence > 0,
    };
    ui.say(format!("loading {}", args.model.display()));
    let classifier = model_file::load(&args.model)?;
    if let Err(e) = format.check_extras(&classifier.labels, &extras) {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, e.to_string())
            .exit()
    }
    let source = args.input.source(args.data.clone());
    // Opening checks the source (found, not a directory, a known format) and reads it.
    let mut reader = RecordReader::open(&source, false)?;
    let read_bytes = Arc::new(AtomicU64::new(0));
    let file_size = args
        .data
        .as_ref()
        .and_then(|p| std::fs::metadata(p).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len());
    if let (Some(path), Some(size)) = (&args.data, file_size) {
        // Read it again through a counter, for a bar of bytes read.
        let file =
            File::open(path).with_context(|| format!("could not open {}", path.display()))?;
        reader = RecordReader::from_reader(
            CountingReader {
                inner: file,
                count: Arc::clone(&read_bytes),
            },
            source.display_name(),
            source.resolve_format(false)?,
            &source.text_field,
            &source.label_field,
            false,
        )?;
        ui.say_bar("predicting", size, Unit::Bytes);
    } else {
        ui.say("predicting");
    }
    let mut reader = reader.keep_fields(&extras.kept_fields)?;
    format.check_labels(&classifier.labels)?;
    let mut inputs = vec![("the model", args.model.as_path())];
    if let Some(data) = &args.data {
        inputs.push(("the input", data.as_path()));
    }
    let (pending, writer) = open_output(args.output.as_deref(), &inputs)?;
    let mut sink = PredictionWriter::new(writer, format, &classifier.labels, &extras)?;
    let mut batch: Vec<String> = Vec::with_capacity(PREDICT_BATCH);
    let mut kept: Vec<Vec<serde_json::Value>> = Vec::new();
    let mut done = false;
    while !done {
        batch.clear();
        kept.clear();
        for record in reader.by_ref() {
            let record = record?;
            batch.push(record.text);
            if !extras.kept_fields.is_empty() {
                kept.push(record.kept);
            }
            if batch.len() == PREDICT_BATCH {
                break;
            }
        }
        done = batch.len() < PREDICT_BATCH;
        let predictions = if args.evidence > 0 {
            classifier.predict_with_evidence(&batch, args.evidence)
        } else {
            classifier.predict(&batch)
        };
        if let Err(e) = sink.write_all_keeping(&predictions, &kept) {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(write_failed(e, args.output.as_deref()));
        }
        ui.set_position(read_bytes.load(Ordering::Relaxed));
    }
    let flushed = match sink.flush() {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => {
            Err(write_failed(e, args.output.as_deref()))
        }
        _ => Ok(()),
    };
    drop(sink);
    if flushed.is_ok() {
        commit_output(pending)?;
    }
    keep_until_exit(classifier);
    flushed
}

/// A failed write of a command's records, naming where they were going (`output`, or
/// standard output): a full disk or a `ulimit -f` says which file.
fn write_failed(error: io::Error, output: Option<&Path>) -> anyhow::Error {
    let target = output.map_or("standard output".to_string(), |p| p.display().to_string());
    anyhow::Error::new(error).context(format!("could not write {target}"))
}

/// The format of a command's records: the one asked for, else the one the output file's
/// extension names (a usage error when it names none), else JSON lines.
fn output_format(output: Option<&Path>, chosen: Option<OutputFormat>) -> OutputFormat {
    match (output, chosen) {
        (_, Some(format)) => format,
        (None, None) => OutputFormat::Jsonl,
        (Some(path), None) => OutputFormat::from_path(path).unwrap_or_else(|| {
            Cli::command()
                .error(
                    clap::error::ErrorKind::InvalidValue,
                    format!(
                        "cannot tell the output format of `{}` from its extension: name a .jsonl, .csv, .tsv or .txt file, or give --output-format",
                        path.display()
                    ),
                )
                .exit()
        }),
    }
}

/// Where a command's records go: standard output, or an `--output` file written whole or
/// not at all ([`AtomicFile`]: a bad record halfway through the input, or Ctrl-C, leaves
/// it as it was). Commit the file with [`commit_output`] once everything is flushed.
fn open_output(
    path: Option<&Path>,
    inputs: &[(&str, &Path)],
) -> Result<(Option<AtomicFile>, Box<dyn Write>)> {
    let Some(path) = path else {
        return Ok((None, Box::new(BufWriter::new(io::stdout().lock()))));
    };
    refuse_overwriting_inputs(path, inputs)?;
    let file = AtomicFile::create(path, OUTPUT_TEMP_PREFIX)
        .with_context(|| format!("could not create {}", path.display()))?;
    let writer = file
        .file()
        .try_clone()
        .with_context(|| format!("could not write {}", file.path().display()))?;
    Ok((Some(file), Box::new(BufWriter::new(writer))))
}

/// Refuse to write `output` over one of the command's `inputs` (what each is, and its path):
/// the input would be gone by the time anyone noticed.
fn refuse_overwriting_inputs(output: &Path, inputs: &[(&str, &Path)]) -> Result<()> {
    if let Some((what, input)) = inputs
        .iter()
        .find(|(_, input)| atomic_write::same_file(output, input))
    {
        return Err(stance::Error::InvalidOption(format!(
            "{} is {what} ({}): writing there would destroy it; choose another path",
            output.display(),
            input.display()
        ))
        .into());
    }
    Ok(())
}

/// Put an `--output` file opened by [`open_output`] in place.
fn commit_output(pending: Option<AtomicFile>) -> Result<()> {
    if let Some(file) = pending {
        let dest = file.destination().to_path_buf();
        file.commit()
            .with_context(|| format!("could not write {}", dest.display()))?;
    }
    Ok(())
}

/// Leave `value` to the end of the process instead of freeing it. Commands call it on a
/// loaded model when they are done: some 10^5 allocations (its vocabulary) and tens of
/// megabytes of weights, which the OS takes back at exit anyway, so freeing them would only
/// delay the exit (5–26 ms to free TweetEval emoji's, over five loads).
fn keep_until_exit<T>(value: T) {
    std::mem::forget(value);
}

fn cmd_completions(args: CompletionsArgs) -> Result<()> {
    let mut command = Cli::command();
    let mut out = io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "stance", &mut out);
    out.flush()?;
    Ok(())
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
                "distinct_texts_fitted_on": meta.fitted_texts.len(),
                "distinct_texts_selected_on": meta.selected_texts.len(),
                "options": meta.options,
                "analyzer": meta.options.vectorizer.analyzer.describe(),
                "n_features": classifier.vectorizer.n_features(),
                "fit": classifier.model.fit_info,
                "selection": meta.selection,
                "top_features": top_json,
                "baselines": classifier
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(k, label)| (label.clone(), json!(classifier.model.intercept_contribution(k))))
                    .collect::<serde_json::Map<String, serde_json::Value>>(),
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
        "texts seen     {} distinct texts fitted on, {} distinct held-out texts selected on (stance eval counts its records among them)",
        meta.fitted_texts.len(),
        meta.selected_texts.len()
    )?;
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
        "model          logistic regression ({}), C = {}, class weight {}, {}{}{}{}{}",
        if classifier.labels.len() == 2 {
            "binary"
        } else {
            "multinomial"
        },
        info.c,
        info.class_weight,
        describe_fit(info),
        info.objective
            .map_or(String::new(), |v| format!(", objective {v:.6}")),
        match info.solver {
            Solver::Lbfgs => format!(", converged {}", info.converged),
            Solver::Asgd => String::new(),
        },
        if meta.options.nb_weights {
            ", NB-weighted features"
        } else {
            ""
        },
        if meta.options.refit {
            ", refitted on training + held-out records"
        } else {
            ""
        }
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
        if let Some(shift) = &s.prior_shift {
            let rule = if shift.adopted {
                format!(
                    "class-prior shift, log-odds offsets {} ({} {:.4} cross-fitted against {:.4} with plain argmax)",
                    offsets_text(&classifier.labels, &shift.offsets),
                    s.metric,
                    shift.cross_fitted,
                    shift.plain
                )
            } else {
                "plain argmax (a class-prior shift did not improve the held-out metric)".to_string()
            };
            writeln!(out, "decision rule  {rule}")?;
        }
        if let Some(t) = s.temperature.as_ref().filter(|t| t.adopted) {
            writeln!(
                out,
                "calibration    scores divided by a temperature of {:.3} (labels unchanged)",
                t.t
            )?;
        }
        // A saved model does not record whether its records had groups.
        for note in s.notes(false) {
            writeln!(out, "note           {note}")?;
        }
    }
    for (k, (label, feats)) in top.iter().enumerate() {
        writeln!(
            out,
            "\ntop n-grams for {label} (baseline {:+.4}):",
            classifier.model.intercept_contribution(k)
        )?;
        for (feature, weight) in feats {
            writeln!(out, "  {weight:>+9.4}  {feature}")?;
        }
    }
    Ok(())
}

fn cmd_compare(args: CompareArgs, ui: &Ui) -> Result<()> {
    if args.models.len() < 2 {
        Cli::command()
            .error(
                clap::error::ErrorKind::TooFewValues,
                "compare needs at least two --model: the baseline, then the models to compare with it",
            )
            .exit()
    }
    let models: Vec<(String, Classifier)> = args
        .models
        .iter()
        .map(|path| {
            ui.say(format!("loading {}", path.display()));
            Ok((path.display().to_string(), model_file::load(path)?))
        })
        .collect::<Result<_>>()?;
    ui.say(format!("reading {}", args.data.display()));
    let data = args.input.read(&args.data, args.group_field.as_deref())?;
    let metric = args
        .metric
        .unwrap_or_else(|| models[0].1.metadata.options.metric.clone());
    let mut notes = Vec::new();
    let mut predictions = Vec::with_capacity(models.len());
    for (name, classifier) in &models {
        metric
            .check_labels(&classifier.labels, "the model's")
            .with_context(|| format!("cannot compare {name} by {metric}"))?;
        ui.say(format!("predicting with {name}"));
        predictions.push(compare::Predictions::of(
            name.clone(),
            classifier,
            &data,
            &metric,
        ));
        if let Some(note) = classifier.overlap(&data.texts).describe() {
            notes.push(format!("{name}: {note}"));
        }
        for note in predictions.last().expect("just pushed").report.notes() {
            notes.push(format!("{name}: {note}"));
        }
    }
    if args.bootstrap > 0 {
        ui.say(format!("paired bootstrap ({} resamples)", args.bootstrap));
    }
    let comparison = compare::compare(
        &predictions,
        &metric,
        &stance::bootstrap::Units::new(data.len(), &data.groups),
        args.bootstrap,
        args.seed,
        stance::bootstrap::DEFAULT_LEVEL,
    );
    let data_name = args.data.display().to_string();
    if let Some(dir) = &args.report {
        ui.say(format!("writing the report to {}", dir.display()));
        let mut context = vec![
            ("command".to_string(), "stance compare".to_string()),
            ("data".to_string(), args.data.display().to_string()),
            ("metric".to_string(), metric.to_string()),
        ];
        if let Some(field) = &args.group_field {
            context.push(("groups".to_string(), format!("`{field}`")));
        }
        let page = report::ComparisonPage {
            title: format!(
                "{} models on {}",
                comparison.models.len(),
                args.data.display()
            ),
            context,
            notes: &notes,
            comparison: &comparison,
            reports: predictions.iter().map(|p| &p.report).collect(),
            data: &data_name,
        };
        report::write_comparison_report(dir, &page)?;
    }
    ui.clear();
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &comparison.to_json(&data_name, &notes))?;
        writeln!(out)?;
        return Ok(());
    }
    for note in &notes {
        writeln!(out, "note: {note}")?;
    }
    if !notes.is_empty() {
        writeln!(out)?;
    }
    write!(out, "{}", compare::render(&comparison, &data_name))?;
    if let Some(dir) = &args.report {
        writeln!(
            out,
            "\nreport written to {}",
            dir.join("report.html").display()
        )?;
    }
    Ok(())
}

fn cmd_sentences(args: SentencesArgs) -> Result<()> {
    let format = output_format(args.output.as_deref(), args.output_format);
    if format == OutputFormat::Labels {
        Cli::command()
            .error(
                clap::error::ErrorKind::InvalidValue,
                "one label per line has no room for sentences: write JSON lines, CSV or TSV",
            )
            .exit()
    }
    // Everything is read first: a missing or non-UTF-8 article fails before any output.
    let articles = score::read_articles(&args.paths)?;
    let mut sentences: Vec<SentenceRecord> = Vec::new();
    for article in &articles {
        let listed = sentence_records(&article.path, &article.text);
        if listed.is_empty() {
            eprintln!(
                "note: {}: no sentence to list: the article is empty or all furniture",
                article.path
            );
        }
        sentences.extend(listed);
    }
    let inputs: Vec<(&str, &Path)> = articles
        .iter()
        .map(|a| ("an article", Path::new(&a.path)))
        .collect();
    let (pending, writer) = open_output(args.output.as_deref(), &inputs)?;
    match output::write_sentences(writer, format, &sentences) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(()),
        result => result?,
    }
    commit_output(pending)?;
    if let Some(path) = &args.output {
        println!(
            "{} sentences of {} articles written to {}",
            sentences.len(),
            articles.len(),
            path.display()
        );
    }
    Ok(())
}

fn cmd_agree(args: AgreeArgs) -> Result<()> {
    let format = output_format(args.disagreements.as_deref(), args.output_format);
    if args.disagreements.is_some() && format == OutputFormat::Labels {
        Cli::command()
            .error(
                clap::error::ErrorKind::InvalidValue,
                "one label per line has no room for disagreements: write JSON lines, CSV or TSV",
            )
            .exit()
    }
    let codings = args
        .files
        .iter()
        .map(|path| {
            let source = Source {
                label_field: args.label_field.clone(),
                group_field: args.group_field.clone(),
                ..args.input.source(Some(path.clone()))
            };
            agreement::read_coding(&source, &args.key_fields)
        })
        .collect::<stance::Result<Vec<_>>>()?;
    let aligned = agreement::align(&codings, &args.key_fields)?;
    let found = agreement::measure(&aligned, args.bootstrap, args.seed);
    if found.pairable == 0 {
        bail!(
            "no record has a label from two or more of the {} files, so there is no agreement to measure: fill in the `{}` column, or name the label's field with --label-field",
            found.coders.len(),
            args.label_field
        );
    }
    if let Some(path) = &args.disagreements {
        let inputs: Vec<(&str, &Path)> = args
            .files
            .iter()
            .map(|f| ("a coder's file", f.as_path()))
            .collect();
        let (pending, writer) = open_output(Some(path), &inputs)?;
        output::write_disagreements(writer, format, &aligned)
            .with_context(|| format!("could not write {}", path.display()))?;
        commit_output(pending)?;
    }
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &found)?;
        writeln!(out)?;
        return Ok(());
    }
    write!(out, "{found}")?;
    let where_listed = match &args.disagreements {
        Some(path) => format!("listed in {}", path.display()),
        None => "--disagreements FILE lists them for adjudication".to_string(),
    };
    match found.disagreements {
        0 => writeln!(
            out,
            "\nthe coders agree on every one of the {} records coded by two or more",
            found.pairable
        )?,
        n => writeln!(
            out,
            "\n{n} of the {} records coded by two or more get different labels: {where_listed}",
            found.pairable
        )?,
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
        let mut writer = output::delimited_writer(out, OutputFormat::Csv);
        writer.write_record(score::csv_header(&models))?;
        for article in scored {
            for record in score::csv_records(&article) {
                writer.write_record(&record)?;
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
