//! Corpus loading: labelled and unlabelled records from CSV, TSV, JSON lines,
//! fastText lines (`__label__X text`) and plain text lines, from a file or standard input.
//!
//! Records are read one at a time ([`RecordReader`]) so prediction can stream; training
//! collects them into a [`LabelledCorpus`]. Every error names the source, the line and the
//! problem. The rules: a byte-order mark at the start is ignored, Windows line endings are
//! accepted, a blank line in JSON-lines or fastText input is skipped, a labelled record whose
//! text is empty (or only whitespace) is skipped and counted — real data sets have them,
//! TweetEval's hate training set among them — unless [`Source::strict`] makes it an error,
//! and anything else that cannot be read (invalid UTF-8, malformed JSON, a missing field, a
//! missing label) stops the run with an error naming the line. For prediction an empty
//! text is still a record: it gets a prediction, so output lines match input records.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The input formats `stance` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// Tab-separated values with a header row.
    Tsv,
    /// One JSON object per line.
    Jsonl,
    /// fastText's supervised format: `__label__X some text` per line.
    FastText,
    /// One text per line, no labels (prediction input only).
    Text,
}

impl Format {
    /// Guess the format from a file name. `.txt` means fastText lines when labels are
    /// required (as fastText's own files are named) and plain text lines otherwise.
    pub fn from_path(path: &Path, labelled: bool) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "csv" => Format::Csv,
            "tsv" | "tab" => Format::Tsv,
            "jsonl" | "ndjson" | "json" => Format::Jsonl,
            "ft" | "fasttext" => Format::FastText,
            "txt" | "text" if labelled => Format::FastText,
            "txt" | "text" => Format::Text,
            _ => return None,
        })
    }

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Jsonl => "jsonl",
            Format::FastText => "fasttext",
            Format::Text => "text",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "csv" => Format::Csv,
            "tsv" => Format::Tsv,
            "jsonl" | "ndjson" | "json" => Format::Jsonl,
            "fasttext" | "ft" => Format::FastText,
            "text" | "txt" | "lines" => Format::Text,
            other => {
                return Err(Error::InvalidOption(format!(
                    "unknown format `{other}`: use csv, tsv, jsonl, fasttext or text"
                )))
            }
        })
    }
}

/// Why labelled input cannot be plain text lines.
const TEXT_HAS_NO_LABELS: &str =
    "plain text lines carry no labels: training and evaluation need csv, tsv, jsonl or fasttext input";

/// Where records come from and how to read them.
#[derive(Debug, Clone)]
pub struct Source {
    /// A file, or `None` for standard input.
    pub path: Option<PathBuf>,
    /// The format; `None` means detect it from the file extension.
    pub format: Option<Format>,
    /// The field (column or JSON key) holding the text.
    pub text_field: String,
    /// The field holding the label.
    pub label_field: String,
    /// Refuse labelled records with an empty text instead of skipping them.
    pub strict: bool,
    /// The field naming each labelled record's group — the article a sentence comes from,
    /// the author of a post — read into [`LabelledCorpus::groups`] so that model selection
    /// never fits on some of a group's records and scores the others. `None`: no groups.
    pub group_field: Option<String>,
}

impl Source {
    /// A file read with the default field names (`text`, `label`) and a detected format.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Source {
            path: Some(path.into()),
            format: None,
            text_field: "text".into(),
            label_field: "label".into(),
            strict: false,
            group_field: None,
        }
    }

    /// The name used in messages: the path, or `<stdin>`.
    pub fn display_name(&self) -> PathBuf {
        self.path
            .clone()
            .unwrap_or_else(|| PathBuf::from("<stdin>"))
    }

    /// The format to use, from `--format` or else from the extension.
    pub fn resolve_format(&self, labelled: bool) -> Result<Format> {
        if let Some(format) = self.format {
            if labelled && format == Format::Text {
                return Err(Error::BadInput {
                    path: self.display_name(),
                    problem: TEXT_HAS_NO_LABELS.into(),
                });
            }
            return Ok(format);
        }
        match &self.path {
            None if labelled => Err(Error::BadInput {
                path: self.display_name(),
                problem: "cannot detect the format of standard input: pass --format csv|tsv|jsonl|fasttext".into(),
            }),
            None => Ok(Format::Text),
            Some(path) => Format::from_path(path, labelled).ok_or_else(|| Error::BadInput {
                path: path.clone(),
                problem: "unknown input format (expected a .csv, .tsv, .jsonl or .txt file): pass --format csv|tsv|jsonl|fasttext|text".into(),
            }),
        }
    }
}

/// One input record. `line` is the 1-based line where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: u64,
    pub text: String,
    pub label: Option<String>,
    /// The values of the fields [`RecordReader::keep_fields`] asked for, in its order: JSON
    /// values as they are, CSV and TSV fields as strings. Empty unless asked for.
    pub kept: Vec<serde_json::Value>,
    /// The value of the field [`RecordReader::group_field`] names (JSON numbers and booleans
    /// as text); `None` unless asked for.
    pub group: Option<String>,
}

/// A labelled data set held in memory, in input order.
#[derive(Debug, Clone, Default)]
pub struct LabelledCorpus {
    pub texts: Vec<String>,
    pub labels: Vec<String>,
    /// Lines of the records left out because their text was empty.
    pub skipped_empty: Vec<u64>,
    /// Each record's line in its file (of its first line, for a CSV record spanning
    /// several), for messages; empty when the records came from elsewhere (a directory of
    /// documents, a subset).
    pub lines: Vec<u64>,
    /// Each record's group ([`Source::group_field`]), in record order; empty when the data
    /// has no groups. Splits and folds keep a group's records together
    /// ([`crate::train::grouped_folds`]), so that held-out figures are for groups the model
    /// has not seen, as new articles or new authors will be.
    pub groups: Vec<String>,
}

impl LabelledCorpus {
    /// Number of records.
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The records at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> LabelledCorpus {
        let pick = |values: &[String]| indices.iter().map(|&i| values[i].clone()).collect();
        LabelledCorpus {
            texts: pick(&self.texts),
            labels: pick(&self.labels),
            skipped_empty: Vec::new(),
            groups: if self.groups.is_empty() {
                Vec::new()
            } else {
                pick(&self.groups)
            },
            lines: Vec::new(),
        }
    }

    /// These records followed by `other`'s; with groups only when both have them.
    pub fn concat(&self, other: &LabelledCorpus) -> LabelledCorpus {
        let join = |a: &[String], b: &[String]| a.iter().chain(b).cloned().collect();
        LabelledCorpus {
            texts: join(&self.texts, &other.texts),
            labels: join(&self.labels, &other.labels),
            skipped_empty: Vec::new(),
            groups: if self.groups.is_empty() || other.groups.is_empty() {
                Vec::new()
            } else {
                join(&self.groups, &other.groups)
            },
            lines: Vec::new(),
        }
    }

    /// The number of distinct groups (0 without groups).
    pub fn n_groups(&self) -> usize {
        index_by_value(&self.groups).0.len()
    }

    /// Refuse data with fewer than two distinct labels, naming the source.
    pub fn require_two_labels(&self, source: &Source) -> Result<()> {
        let labels = self.label_set();
        if labels.len() < 2 {
            return Err(Error::BadInput {
                path: source.display_name(),
                problem: format!(
                    "only one label (`{}`, field `{}`): a classifier needs at least two; is --label-field right?",
                    labels.first().map_or("", String::as_str),
                    source.label_field
                ),
            });
        }
        Ok(())
    }

    /// The sorted distinct labels.
    pub fn label_set(&self) -> Vec<String> {
        let mut set: Vec<String> = self.labels.clone();
        set.sort();
        set.dedup();
        set
    }

    /// Labels that differ only in letter case (`favor`, `Favor`), each set sorted: almost
    /// always one label spelt two ways, which would otherwise train as two classes.
    pub fn case_variants(&self) -> Vec<Vec<String>> {
        let mut by_folded: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for label in self.label_set() {
            by_folded
                .entry(label.to_lowercase())
                .or_default()
                .push(label);
        }
        by_folded.into_values().filter(|v| v.len() > 1).collect()
    }

    /// Records per label of `labels` (sorted, as [`label_set`](Self::label_set) gives them);
    /// a label not among them is not counted.
    pub fn label_counts(&self, labels: &[String]) -> Vec<usize> {
        let mut counts = vec![0; labels.len()];
        for label in &self.labels {
            if let Ok(i) = labels.binary_search(label) {
                counts[i] += 1;
            }
        }
        counts
    }
}

/// The distinct values of `values` in sorted order, and each value's index among them: how
/// records are numbered by their label or their group wherever they are counted per label
/// or per group.
pub fn index_by_value(values: &[String]) -> (Vec<&str>, Vec<usize>) {
    // Number the values as met (one hash lookup each), then sort only the distinct ones:
    // a million records' groups take tens of milliseconds, not the half second of sorting
    // them all.
    let mut first_seen: std::collections::HashMap<&str, usize> = Default::default();
    let met: Vec<usize> = values
        .iter()
        .map(|v| {
            let next = first_seen.len();
            *first_seen.entry(v.as_str()).or_insert(next)
        })
        .collect();
    let mut names: Vec<(&str, usize)> = first_seen.into_iter().collect();
    names.sort_unstable();
    let mut rank = vec![0; names.len()];
    for (sorted, &(_, id)) in names.iter().enumerate() {
        rank[id] = sorted;
    }
    let index = met.into_iter().map(|id| rank[id]).collect();
    (names.into_iter().map(|(name, _)| name).collect(), index)
}

/// A labelled data set read from a directory tree: see [`read_labelled_dir`].
#[derive(Debug, Clone, Default)]
pub struct LabelledDir {
    pub corpus: LabelledCorpus,
    /// The file of each record of `corpus`, in the same order.
    pub files: Vec<PathBuf>,
    /// Files left out because their text was empty (or only whitespace).
    pub skipped_empty: Vec<PathBuf>,
}

/// Read a directory with one sub-directory per label, each file in it one document — the
/// layout of scikit-learn's `load_files` and MALLET (`DIR/LABEL/*.txt`). Labels are the
/// sub-directory names, in sorted order; within a label, files are read in sorted order
/// of their names. Names starting with `.` are ignored, and so are files directly in `dir`
/// and directories below the label level. Every file must be UTF-8 (a byte-order mark is
/// dropped); a file whose text is empty is skipped and listed (an error with `strict`).
pub fn read_labelled_dir(dir: &Path, strict: bool) -> Result<LabelledDir> {
    let bad = |path: &Path, problem: String| Error::BadInput {
        path: path.to_path_buf(),
        problem,
    };
    let sorted_entries = |path: &Path| -> Result<Vec<(String, PathBuf, std::fs::Metadata)>> {
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            let entry = entry.map_err(|e| Error::io(path, e))?;
            let name = entry.file_name();
            if name.as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let full = entry.path();
            // Follow symbolic links, as opening the file would.
            let meta = std::fs::metadata(&full).map_err(|e| Error::io(&full, e))?;
            let name = name
                .into_string()
                .map_err(|_| bad(&full, "the name is not valid UTF-8: rename it".into()))?;
            entries.push((name, full, meta));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(entries)
    };
    let mut out = LabelledDir::default();
    let mut n_labels = 0;
    for (label, label_dir, meta) in sorted_entries(dir)? {
        if !meta.is_dir() {
            continue;
        }
        n_labels += 1;
        for (_, file, meta) in sorted_entries(&label_dir)? {
            if !meta.is_file() {
                continue;
            }
            let mut bytes = std::fs::read(&file).map_err(|e| Error::io(&file, e))?;
            if bytes.starts_with(b"\xEF\xBB\xBF") {
                bytes.drain(..3);
            }
            let text = document_text(bytes, &file)?;
            if text.trim().is_empty() {
                if strict {
                    return Err(bad(
                        &file,
                        "empty text (files with an empty text are skipped without --strict)".into(),
                    ));
                }
                out.skipped_empty.push(file);
                continue;
            }
            out.corpus.texts.push(text);
            out.corpus.labels.push(label.clone());
            out.files.push(file);
        }
    }
    if n_labels == 0 {
        return Err(bad(
            dir,
            "is a directory with no label sub-directories: labelled data in a directory needs one sub-directory per label holding one file per document (DIR/LABEL/*.txt)".into(),
        ));
    }
    if out.corpus.is_empty() {
        return Err(bad(
            dir,
            if out.skipped_empty.is_empty() {
                format!("no documents: its {n_labels} label sub-directories hold no files")
            } else {
                format!(
                    "no documents with a text: all {} files are empty",
                    out.skipped_empty.len()
                )
            },
        ));
    }
    Ok(out)
}

/// A whole document's bytes (an article, a file of a labelled directory) as text, or what
/// is wrong with them, at its line: a byte that is not UTF-8, or a NUL, which text does not
/// hold but a file saved as UTF-16 is full of.
pub fn document_text(bytes: Vec<u8>, path: &Path) -> Result<String> {
    // The line of byte `offset`, and where in the line it is.
    let at = |bytes: &[u8], offset: usize, problem: &dyn Fn(&str) -> String| {
        let before = &bytes[..offset];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        Error::BadRecord {
            path: path.to_path_buf(),
            line: before.iter().filter(|&&b| b == b'\n').count() as u64 + 1,
            problem: problem(&format!("byte {} of the line", offset - line_start + 1)),
        }
    };
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        return Err(at(&bytes, nul, &nul_problem));
    }
    String::from_utf8(bytes).map_err(|e| {
        at(e.as_bytes(), e.utf8_error().valid_up_to(), &|position| {
            format!("a byte that is not UTF-8 at {position}: convert the file to UTF-8")
        })
    })
}

/// Read a whole labelled file. Every record needs a label; records with an empty text are
/// skipped and their lines kept in [`LabelledCorpus::skipped_empty`] (an error with
/// [`Source::strict`]).
pub fn read_labelled(source: &Source) -> Result<LabelledCorpus> {
    let mut corpus = LabelledCorpus::default();
    let mut reader = RecordReader::open(source, true)?;
    if let Some(field) = &source.group_field {
        reader = reader.group_field(field)?;
    }
    for record in reader {
        let record = record?;
        if record.text.trim().is_empty() {
            if source.strict {
                return Err(Error::BadRecord {
                    path: source.display_name(),
                    line: record.line,
                    problem: "empty text (records with an empty text are skipped without --strict)"
                        .into(),
                });
            }
            corpus.skipped_empty.push(record.line);
            continue;
        }
        corpus.texts.push(record.text);
        corpus
            .labels
            .push(record.label.expect("labelled reader yields labels"));
        corpus.groups.extend(record.group);
        corpus.lines.push(record.line);
    }
    if corpus.is_empty() {
        let problem = if corpus.skipped_empty.is_empty() {
            "no records: the file is empty or holds only a header".to_string()
        } else {
            format!(
                "no records with a text: all {} have an empty text",
                corpus.skipped_empty.len()
            )
        };
        return Err(Error::BadInput {
            path: source.display_name(),
            problem,
        });
    }
    Ok(corpus)
}

/// Streams records from a source, one at a time, in input order.
pub struct RecordReader {
    name: PathBuf,
    labelled: bool,
    /// With `labelled`, read an empty (or JSON null) label as `None` rather than refuse it
    /// ([`RecordReader::allow_unlabelled`]).
    unlabelled_allowed: bool,
    /// What kept fields are for, in messages about a missing one
    /// ([`RecordReader::keep_fields_for`]).
    kept_purpose: String,
    inner: Inner,
}

enum Inner {
    Lines {
        reader: Box<dyn BufRead>,
        format: Format,
        text_field: String,
        label_field: String,
        /// JSON keys to carry into [`Record::kept`].
        kept_fields: Vec<String>,
        /// The JSON key of [`Record::group`].
        group_field: Option<String>,
        line: u64,
        buf: Vec<u8>,
    },
    Delimited {
        reader: csv::Reader<NewlineCounter>,
        newlines: Rc<RefCell<NewlineLog>>,
        /// The header's column names.
        columns: Vec<String>,
        text_col: usize,
        label_col: Option<usize>,
        /// Columns to carry into [`Record::kept`].
        kept_cols: Vec<usize>,
        /// The column of [`Record::group`].
        group_col: Option<usize>,
        record: csv::ByteRecord,
    },
}

impl RecordReader {
    /// Open a source. With `labelled`, every record must carry a label.
    pub fn open(source: &Source, labelled: bool) -> Result<Self> {
        let name = source.display_name();
        if let Some(path) = &source.path {
            // Say "not found" or "is a directory" before guessing at a format.
            match std::fs::metadata(path) {
                Err(e) => return Err(Error::io(path, e)),
                Ok(meta) if meta.is_dir() => {
                    return Err(Error::BadInput {
                        path: path.clone(),
                        problem: "is a directory, not a file".into(),
                    })
                }
                Ok(_) => {}
            }
        }
        let format = source.resolve_format(labelled)?;
        let raw: Box<dyn Read> = match &source.path {
            Some(path) => Box::new(File::open(path).map_err(|e| Error::io(path, e))?),
            None => Box::new(io::stdin()),
        };
        RecordReader::from_reader(
            raw,
            name,
            format,
            &source.text_field,
            &source.label_field,
            labelled,
        )
    }

    /// Read records in `format` from any reader (a file, standard input, a network stream,
    /// bytes in memory). `name` is used in messages only, as a path would be; `text_field`
    /// and `label_field` name the columns or JSON keys (ignored by fastText and plain text
    /// input). With `labelled`, every record must carry a label, and plain text input is
    /// refused (it has none). Errors are the same as [`RecordReader::open`]'s.
    pub fn from_reader<R: Read + 'static>(
        reader: R,
        name: impl Into<PathBuf>,
        format: Format,
        text_field: &str,
        label_field: &str,
        labelled: bool,
    ) -> Result<Self> {
        let name = name.into();
        if labelled && format == Format::Text {
            return Err(Error::BadInput {
                path: name,
                problem: TEXT_HAS_NO_LABELS.into(),
            });
        }
        let mut reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(1 << 16, reader));
        skip_bom(&mut reader).map_err(|e| Error::io(&name, e))?;
        let inner = match format {
            Format::Csv | Format::Tsv => {
                let newlines = Rc::new(RefCell::new(NewlineLog::default()));
                let counted = NewlineCounter {
                    inner: reader,
                    offset: 0,
                    log: Rc::clone(&newlines),
                };
                let mut csv_reader = csv::ReaderBuilder::new()
                    .delimiter(if format == Format::Csv { b',' } else { b'\t' })
                    .quoting(format == Format::Csv)
                    .flexible(false)
                    .from_reader(counted);
                let header = csv_reader
                    .byte_headers()
                    .map_err(|e| csv_error(&name, e, &newlines))?
                    .clone();
                if header
                    .iter()
                    .any(|h| std::str::from_utf8(h).is_err() || h.contains(&0))
                {
                    return Err(Error::BadRecord {
                        line: newlines.borrow_mut().record_line(header.position()).max(1),
                        path: name,
                        problem: "the header is not valid UTF-8 text (is the file UTF-16 or in a legacy encoding?): convert the file to UTF-8".into(),
                    });
                }
                let columns: Vec<String> = header
                    .iter()
                    .map(|h| String::from_utf8_lossy(h).trim().to_string())
                    .collect();
                if columns.iter().all(|c| c.is_empty()) {
                    return Err(Error::BadInput {
                        path: name,
                        problem: "empty file: expected a header row naming the columns".into(),
                    });
                }
                let find = |field: &str, what: &str| {
                    let problem = match column_index(&columns, field) {
                        Ok(Some(col)) => return Ok(col),
                        Ok(None) => format!(
                            "no `{field}` column for the {what} (columns: {}); choose one with --{what}-field",
                            columns.join(", ")
                        ),
                        Err(problem) => problem,
                    };
                    Err(Error::BadInput {
                        path: name.clone(),
                        problem,
                    })
                };
                let text_col = find(text_field, "text")?;
                let label_col = if labelled {
                    Some(find(label_field, "label")?)
                } else {
                    None
                };
                Inner::Delimited {
                    reader: csv_reader,
                    newlines,
                    columns,
                    text_col,
                    label_col,
                    kept_cols: Vec::new(),
                    group_col: None,
                    record: csv::ByteRecord::new(),
                }
            }
            Format::Jsonl | Format::FastText | Format::Text => Inner::Lines {
                reader,
                format,
                text_field: text_field.to_string(),
                label_field: label_field.to_string(),
                kept_fields: Vec::new(),
                group_field: None,
                line: 0,
                buf: Vec::new(),
            },
        };
        Ok(RecordReader {
            name,
            labelled,
            unlabelled_allowed: false,
            kept_purpose: "to keep".into(),
            inner,
        })
    }

    /// With a labelled reader, read a record whose label is empty (or JSON null) with
    /// `label: None` instead of refusing it: a coder's file, where it means not coded. The
    /// label's column or key must still be there.
    pub fn allow_unlabelled(mut self) -> Self {
        self.unlabelled_allowed = true;
        self
    }

    /// Carry `fields` (CSV or TSV columns, JSON keys) of every record into [`Record::kept`],
    /// so that what is written about a record can name it (an id, a date) as well as its
    /// position. A column missing from the header is refused here; a key missing from a
    /// JSON record, when that record is read. Plain text and fastText lines have no fields.
    pub fn keep_fields(self, fields: &[String]) -> Result<Self> {
        self.keep_fields_for(fields, "to keep")
    }

    /// [`RecordReader::keep_fields`], with messages about a missing field saying what it is
    /// `for` (`to keep`, `for --key-field`).
    pub fn keep_fields_for(mut self, fields: &[String], purpose: &str) -> Result<Self> {
        if fields.is_empty() {
            return Ok(self);
        }
        self.kept_purpose = purpose.to_string();
        match &mut self.inner {
            Inner::Delimited {
                columns, kept_cols, ..
            } => {
                for field in fields {
                    let problem = match column_index(columns, field) {
                        Ok(Some(col)) => {
                            kept_cols.push(col);
                            continue;
                        }
                        Ok(None) => format!(
                            "no `{field}` column {purpose} (columns: {})",
                            columns.join(", ")
                        ),
                        Err(problem) => problem,
                    };
                    return Err(Error::BadInput {
                        path: self.name.clone(),
                        problem,
                    });
                }
            }
            Inner::Lines {
                format: Format::Jsonl,
                kept_fields,
                ..
            } => kept_fields.extend(fields.iter().cloned()),
            Inner::Lines { format, .. } => {
                return Err(Error::BadInput {
                    path: self.name.clone(),
                    problem: format!(
                        "{} have no fields to keep: keep fields of CSV, TSV or JSON lines",
                        if *format == Format::FastText {
                            "fastText lines"
                        } else {
                            "plain text lines"
                        }
                    ),
                })
            }
        }
        Ok(self)
    }

    /// Read `field` (a CSV or TSV column, a JSON key) of every record into
    /// [`Record::group`]. A column missing from the header is refused here; a key missing
    /// from a JSON record, or a value that is empty or not a string, number or boolean,
    /// when that record is read. Plain text and fastText lines have no fields.
    pub fn group_field(mut self, field: &str) -> Result<Self> {
        let refuse = |problem: String| {
            Err(Error::BadInput {
                path: self.name.clone(),
                problem,
            })
        };
        match &mut self.inner {
            Inner::Delimited {
                columns, group_col, ..
            } => match column_index(columns, field) {
                Ok(Some(col)) => *group_col = Some(col),
                Ok(None) => {
                    return refuse(format!(
                        "no `{field}` column for the group (columns: {}); choose one with --group-field",
                        columns.join(", ")
                    ))
                }
                Err(problem) => return refuse(problem),
            },
            Inner::Lines {
                format: Format::Jsonl,
                group_field,
                ..
            } => *group_field = Some(field.to_string()),
            Inner::Lines { format, .. } => {
                let what = if *format == Format::FastText {
                    "fastText lines"
                } else {
                    "plain text lines"
                };
                return refuse(format!(
                    "{what} have no fields to name a group: use CSV, TSV or JSON lines with a column or key for it"
                ));
            }
        }
        Ok(self)
    }

    fn next_record(&mut self) -> Result<Option<Record>> {
        let RecordReader {
            name,
            labelled,
            unlabelled_allowed,
            kept_purpose,
            inner,
        } = self;
        let (name, labelled) = (&*name, *labelled);
        let label_rule = (labelled, *unlabelled_allowed);
        let bad = |line: u64, problem: String| Error::BadRecord {
            path: name.clone(),
            line,
            problem,
        };
        match inner {
            Inner::Delimited {
                reader,
                newlines,
                columns,
                text_col,
                label_col,
                kept_cols,
                group_col,
                record,
            } => {
                let more = reader
                    .read_byte_record(record)
                    .map_err(|e| csv_error(name, e, newlines))?;
                if !more {
                    return Ok(None);
                }
                // The csv crate's own line counts are off after CRLF endings and blank
                // lines, so find the line where the record starts ourselves.
                let line = newlines.borrow_mut().record_line(record.position());
                let (text_col, label_col) = (*text_col, *label_col);
                let field = |col: usize| -> std::result::Result<String, String> {
                    let bytes = record.get(col).unwrap_or_default();
                    if let Some(at) = bytes.iter().position(|&b| b == 0) {
                        return Err(format!(
                            "column {}: {}",
                            col + 1,
                            nul_problem(&format!("byte {}", at + 1))
                        ));
                    }
                    std::str::from_utf8(bytes)
                        .map(str::to_string)
                        .map_err(|e| {
                            format!(
                                "invalid UTF-8 in column {} (at byte {} of the field): convert the file to UTF-8",
                                col + 1,
                                e.valid_up_to() + 1
                            )
                        })
                };
                let text = field(text_col).map_err(|p| bad(line, p))?;
                let label = match label_col {
                    Some(col) => Some(field(col).map_err(|p| bad(line, p))?),
                    None => None,
                };
                let kept = kept_cols
                    .iter()
                    .map(|&col| field(col).map(serde_json::Value::String))
                    .collect::<std::result::Result<_, _>>()
                    .map_err(|p| bad(line, p))?;
                let group = match *group_col {
                    Some(col) => Some(
                        field(col)
                            .and_then(|g| group_name(g, &columns[col], "column"))
                            .map_err(|p| bad(line, p))?,
                    ),
                    None => None,
                };
                finish(line, text, label, label_rule)
                    .map_err(|p| bad(line, p))
                    .map(|record| {
                        Some(Record {
                            kept,
                            group,
                            ..record
                        })
                    })
            }
            Inner::Lines {
                reader,
                format,
                text_field,
                label_field,
                kept_fields,
                group_field,
                line,
                buf,
            } => loop {
                buf.clear();
                let n = reader
                    .read_until(b'\n', buf)
                    .map_err(|e| Error::io(name, e))?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                let current = *line;
                let raw = std::str::from_utf8(buf).map_err(|e| {
                    bad(
                        current,
                        format!(
                            "invalid UTF-8 at byte {} of the line: convert the file to UTF-8",
                            e.valid_up_to() + 1
                        ),
                    )
                })?;
                let content = raw.trim_end_matches(['\n', '\r']);
                if let Some(column) = content.find('\0') {
                    return Err(bad(current, nul_problem(&format!("byte {}", column + 1))));
                }
                let format = *format;
                if format != Format::Text && content.trim().is_empty() {
                    continue;
                }
                let (text, label, kept, group) = match format {
                    Format::Jsonl => parse_json_line(
                        content,
                        text_field,
                        label_field,
                        kept_fields,
                        kept_purpose,
                        group_field.as_deref(),
                        label_rule,
                    )
                    .map_err(|p| bad(current, p))?,
                    // Plain lines drop fastText label prefixes too, so a labelled .txt
                    // file can be predicted on as it is.
                    _ => {
                        let (text, labels) = parse_fasttext_line(content);
                        if format == Format::FastText && labels.len() > 1 {
                            return Err(bad(
                                current,
                                format!(
                                    "{} labels ({}): a record has one label here; keep the one it should be trained on",
                                    labels.len(),
                                    labels.iter().map(|l| format!("`{l}`")).collect::<Vec<_>>().join(", ")
                                ),
                            ));
                        }
                        (text, labels.into_iter().next(), Vec::new(), None)
                    }
                };
                if format == Format::Text {
                    return Ok(Some(Record {
                        line: current,
                        text,
                        label: None,
                        kept,
                        group: None,
                    }));
                }
                return finish(current, text, label, label_rule)
                    .map_err(|p| bad(current, p))
                    .map(|record| {
                        Some(Record {
                            kept,
                            group,
                            ..record
                        })
                    });
            },
        }
    }
}

/// Check a record's text and label against the rules and build it; `(labelled,
/// unlabelled_allowed)` as the reader has them.
fn finish(
    line: u64,
    text: String,
    label: Option<String>,
    (labelled, unlabelled_allowed): (bool, bool),
) -> std::result::Result<Record, String> {
    let label = match label.map(|l| l.trim().to_string()) {
        Some(l) if !l.is_empty() => Some(l),
        _ if labelled && !unlabelled_allowed => {
            return Err(
                "missing label: every record needs one here; label it or leave the row out".into(),
            )
        }
        _ => None,
    };
    Ok(Record {
        line,
        text,
        label: if labelled { label } else { None },
        kept: Vec::new(),
        group: None,
    })
}

/// A record's group as read from `field` (a `what`: column or key): any text but an empty
/// one, which would put every record missing the value into one group.
fn group_name(value: String, field: &str, what: &str) -> std::result::Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(format!(
            "empty group in {what} `{field}`: give every record a group (its article, author or source)"
        ));
    }
    Ok(value.to_string())
}

impl Iterator for RecordReader {
    type Item = Result<Record>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// Byte offsets of the line-ending bytes (`\r`, `\n`) read so far but not yet passed by
/// the parser.
#[derive(Default)]
struct NewlineLog {
    /// Line feeds before the first byte still in `pending`.
    passed: u64,
    /// Each `\r` and `\n` in input order, as `offset << 1 | is a line feed` (one word each,
    /// as the plain offsets of line feeds were).
    pending: VecDeque<u64>,
}

impl NewlineLog {
    /// The 1-based line where a record whose parse began at byte `offset` starts, and
    /// forget the line endings before `offset` (offsets only grow).
    ///
    /// The parse of a record begins right after the previous record's terminator, which
    /// may be the `\r` of a CRLF, and the parser skips blank lines before a record: the
    /// record starts at the first byte from `offset` on that is not `\r` or `\n`. Counting
    /// from the start (not back from the record's end) also gives the right line for a
    /// record whose quoted field runs to the end of the input and ends in a newline.
    fn line_of_record_at(&mut self, offset: u64) -> u64 {
        while let Some(&entry) = self.pending.front() {
            if entry >> 1 >= offset {
                break;
            }
            self.pending.pop_front();
            self.passed += entry & 1;
        }
        let mut line = self.passed + 1;
        for (next, &entry) in (offset..).zip(self.pending.iter()) {
            if entry >> 1 != next {
                break;
            }
            line += entry & 1;
        }
        line
    }

    /// [`Self::line_of_record_at`] for a record or error position from the csv crate (0 when
    /// there is none: it always has one for records read from a reader).
    fn record_line(&mut self, position: Option<&csv::Position>) -> u64 {
        position.map_or(0, |p| self.line_of_record_at(p.byte()))
    }
}

/// A reader that logs where its line endings are, for exact CSV line numbers.
struct NewlineCounter {
    inner: Box<dyn BufRead>,
    offset: u64,
    log: Rc<RefCell<NewlineLog>>,
}

impl Read for NewlineCounter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut log = self.log.borrow_mut();
        for (i, &b) in buf[..n].iter().enumerate() {
            if b == b'\n' || b == b'\r' {
                log.pending
                    .push_back(((self.offset + i as u64) << 1) | u64::from(b == b'\n'));
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

fn skip_bom(reader: &mut Box<dyn BufRead>) -> io::Result<()> {
    let head = reader.fill_buf()?;
    if head.starts_with(b"\xEF\xBB\xBF") {
        reader.consume(3);
    }
    Ok(())
}

fn csv_error(name: &Path, error: csv::Error, newlines: &RefCell<NewlineLog>) -> Error {
    // The error's position is where the record's parse began (after a CRLF ending, the
    // line feed ending the previous line; before any blank lines).
    let line = newlines.borrow_mut().record_line(error.position());
    let problem = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "expected {expected_len} fields (as in the header) but found {len}: check for an unbalanced quote or a stray delimiter"
        ),
        csv::ErrorKind::Io(e) => e.to_string(),
        _ => error.to_string(),
    };
    if line == 0 {
        Error::BadInput {
            path: name.to_path_buf(),
            problem,
        }
    } else {
        Error::BadRecord {
            path: name.to_path_buf(),
            line,
            problem,
        }
    }
}

/// One JSON-lines record: its text, label, the values of the kept fields and its group.
type JsonRecord = (
    String,
    Option<String>,
    Vec<serde_json::Value>,
    Option<String>,
);

/// Parse one JSON-lines record into (text, label, the values of `kept_fields` — what they
/// are for in `kept_purpose` — and the value of `group_field`); `(labelled,
/// unlabelled_allowed)` as the reader has them.
fn parse_json_line(
    content: &str,
    text_field: &str,
    label_field: &str,
    kept_fields: &[String],
    kept_purpose: &str,
    group_field: Option<&str>,
    (labelled, unlabelled_allowed): (bool, bool),
) -> std::result::Result<JsonRecord, String> {
    let value: serde_json::Value = serde_json::from_str(content).map_err(|e| {
        let what = e.to_string();
        let what = what.split(" at line ").next().unwrap_or(&what).to_string();
        format!("malformed JSON at column {}: {what}", e.column())
    })?;
    let object = value
        .as_object()
        .ok_or_else(|| "expected a JSON object per line".to_string())?;
    let text = match object.get(text_field) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(_) => return Err(format!("field `{text_field}` is not a string")),
        None => {
            return Err(format!(
                "no `{text_field}` field for the text (fields: {}); choose one with --text-field",
                object.keys().cloned().collect::<Vec<_>>().join(", ")
            ))
        }
    };
    let label = match object.get(label_field) {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
        Some(serde_json::Value::Null) if unlabelled_allowed => None,
        Some(serde_json::Value::Null) if labelled => {
            return Err(format!(
                "field `{label_field}` is null: every record needs a label"
            ));
        }
        None if labelled => {
            let cure = if unlabelled_allowed {
                "give every record one (empty or null when not labelled), or choose another field with --label-field"
            } else {
                "choose one with --label-field"
            };
            return Err(format!(
                "no `{label_field}` field for the label (fields: {}); {cure}",
                object.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        Some(other) if labelled => return Err(not_a_scalar(label_field, other)),
        _ => None,
    };
    let kept = kept_fields
        .iter()
        .map(|field| {
            object.get(field).cloned().ok_or_else(|| {
                format!(
                    "no `{field}` field {kept_purpose} (fields: {})",
                    object.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })
        })
        .collect::<std::result::Result<_, _>>()?;
    let group = match group_field {
        None => None,
        Some(field) => {
            let value = match object.get(field) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                Some(serde_json::Value::Bool(b)) => b.to_string(),
                Some(serde_json::Value::Null) => {
                    return Err(format!(
                        "field `{field}` is null: every record needs a group, or choose another field with --group-field"
                    ))
                }
                None => {
                    return Err(format!(
                        "no `{field}` field for the group (fields: {}); every record needs one, or choose another field with --group-field",
                        object.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                }
                Some(other) => return Err(not_a_scalar(field, other)),
            };
            Some(group_name(value, field, "field")?)
        }
    };
    Ok((text, label, kept, group))
}

/// The position of the column named `field` among `columns` (the header's names), `None`
/// when there is none; a name the header has twice is refused, since either column could be
/// the one meant.
fn column_index(columns: &[String], field: &str) -> std::result::Result<Option<usize>, String> {
    let mut found = columns.iter().enumerate().filter(|(_, c)| *c == field);
    match (found.next(), found.next()) {
        (Some((first, _)), Some((second, _))) => Err(format!(
            "the header names two columns `{field}` (columns {} and {}): rename one of them",
            first + 1,
            second + 1
        )),
        (first, _) => Ok(first.map(|(col, _)| col)),
    }
}

/// The problem with a label or group field holding `value`, a JSON array or object.
fn not_a_scalar(field: &str, value: &serde_json::Value) -> String {
    let what = if value.is_array() {
        "an array"
    } else {
        "an object"
    };
    format!("field `{field}` is {what}: give a string, a number or true/false")
}

/// Parse one fastText line: leading `__label__X` tokens, then the text.
fn parse_fasttext_line(content: &str) -> (String, Vec<String>) {
    let mut rest = content.trim_start();
    let mut labels = Vec::new();
    while let Some(after) = rest.strip_prefix("__label__") {
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        labels.push(after[..end].to_string());
        rest = after[end..].trim_start();
    }
    (rest.to_string(), labels)
}

/// The problem with a NUL character at `position` (`byte 3 of the line`): text has
/// none, and a file of UTF-16 (as some Windows programs save "Unicode" text) is full of
/// them, every other byte of its ASCII.
fn nul_problem(position: &str) -> String {
    format!(
        "a NUL character at {position}, which text does not hold: is the file UTF-16? convert it to UTF-8"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_that_cannot_be_one_record_s_label_are_refused_with_what_they_are() {
        let problem = |input: &str, format: Format| -> String {
            reader_of(input, format, true)
                .and_then(|r| r.collect::<Result<Vec<Record>>>())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            problem("__label__a x\n__label__favor __label__against both\n", Format::FastText),
            "in:2: 2 labels (`favor`, `against`): a record has one label here; keep the one it should be trained on"
        );
        assert_eq!(
            problem("{\"text\": \"a\", \"label\": null}\n", Format::Jsonl),
            "in:1: field `label` is null: every record needs a label"
        );
        assert_eq!(
            problem("{\"text\": \"a\", \"label\": {\"x\": 1}}\n", Format::Jsonl),
            "in:1: field `label` is an object: give a string, a number or true/false"
        );
        // UTF-16 read as UTF-8: valid, but every other byte a NUL.
        let utf16: String = "__label__a hi\n".chars().flat_map(|c| [c, '\0']).collect();
        assert!(
            problem(&utf16, Format::FastText).starts_with("in:1: a NUL character at byte 2,"),
            "{}",
            problem(&utf16, Format::FastText)
        );
        assert_eq!(
            problem("text,label\na\0b,x\n", Format::Csv),
            "in:2: column 1: a NUL character at byte 2, which text does not hold: is the file UTF-16? convert it to UTF-8"
        );
        let utf16_csv: String = "text,label\n".chars().flat_map(|c| [c, '\0']).collect();
        assert!(problem(&utf16_csv, Format::Csv)
            .starts_with("in:1: the header is not valid UTF-8 text"));
        assert_eq!(
            problem("text,label,text\na,x,b\n", Format::Csv),
            "in: the header names two columns `text` (columns 1 and 3): rename one of them"
        );
        // Plain lines to predict on drop every label prefix.
        let plain: Vec<String> = reader_of("__label__a __label__b text\n", Format::Text, false)
            .unwrap()
            .map(|r| r.unwrap().text)
            .collect();
        assert_eq!(plain, ["text"]);
    }

    #[test]
    fn fasttext_lines_split_label_and_text() {
        assert_eq!(
            parse_fasttext_line("__label__favor I agree"),
            ("I agree".to_string(), vec!["favor".to_string()])
        );
        assert_eq!(
            parse_fasttext_line("no label here"),
            ("no label here".to_string(), Vec::new())
        );
    }

    #[test]
    fn json_numbers_are_labels() {
        let (text, label, _, _) = parse_json_line(
            r#"{"text":"hi","label":3}"#,
            "text",
            "label",
            &[],
            "to keep",
            None,
            (true, false),
        )
        .unwrap();
        assert_eq!((text.as_str(), label.as_deref()), ("hi", Some("3")));
    }

    /// A reader of `input` in `format` named `in`, with the default fields.
    fn reader_of(input: &str, format: Format, labelled: bool) -> Result<RecordReader> {
        let bytes = io::Cursor::new(input.as_bytes().to_vec());
        RecordReader::from_reader(bytes, "in", format, "text", "label", labelled)
    }

    /// Records of `input` in `format`, keeping `fields`, or the error.
    fn kept_records(input: &str, format: Format, fields: &[&str]) -> Result<Vec<Record>> {
        let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        reader_of(input, format, false)?
            .keep_fields(&fields)?
            .collect()
    }

    /// The groups of labelled `input` read with `--group-field group`.
    fn groups_of(input: &str, format: Format) -> Result<Vec<String>> {
        reader_of(input, format, true)?
            .group_field("group")?
            .map(|r| r.map(|r| r.group.expect("asked for")))
            .collect()
    }

    #[test]
    fn values_are_numbered_in_sorted_order() {
        let values: Vec<String> = ["b", "a", "c", "b", "a"].map(String::from).to_vec();
        let (names, index) = index_by_value(&values);
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(index, [1, 0, 2, 1, 0]);
        assert_eq!(index_by_value(&[]), (Vec::<&str>::new(), Vec::new()));
    }

    #[test]
    fn groups_are_read_from_a_column_or_key_as_text() {
        let csv = "text,label,group\na,x,story 1\nb,y, story 2 \n";
        assert_eq!(groups_of(csv, Format::Csv).unwrap(), ["story 1", "story 2"]);
        let tsv = "group\ttext\tlabel\n3\ta\tx\n";
        assert_eq!(groups_of(tsv, Format::Tsv).unwrap(), ["3"]);
        let jsonl = "{\"text\":\"a\",\"label\":\"x\",\"group\":17}\n{\"text\":\"b\",\"label\":\"x\",\"group\":\"s\"}\n";
        assert_eq!(groups_of(jsonl, Format::Jsonl).unwrap(), ["17", "s"]);
    }

    #[test]
    fn a_missing_or_empty_group_is_named_with_its_line() {
        let cases = [
            (
                "text,label\na,x\n",
                Format::Csv,
                "in: no `group` column for the group (columns: text, label); choose one with --group-field",
            ),
            (
                "text,label,group\na,x,g\nb,x,\n",
                Format::Csv,
                "in:3: empty group in column `group`",
            ),
            (
                "{\"text\":\"a\",\"label\":\"x\",\"group\":\"g\"}\n{\"text\":\"b\",\"label\":\"x\"}\n",
                Format::Jsonl,
                "in:2: no `group` field for the group (fields: label, text)",
            ),
            (
                "{\"text\":\"a\",\"label\":\"x\",\"group\":[1]}\n",
                Format::Jsonl,
                "in:1: field `group` is an array: give a string, a number or true/false",
            ),
            (
                "{\"text\":\"a\",\"label\":\"x\",\"group\":null}\n",
                Format::Jsonl,
                "in:1: field `group` is null: every record needs a group",
            ),
            (
                "__label__x a\n",
                Format::FastText,
                "in: fastText lines have no fields to name a group",
            ),
        ];
        for (input, format, expected) in cases {
            let err = groups_of(input, format).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
        }
    }

    #[test]
    fn unlabelled_records_are_read_when_allowed_and_kept_fields_say_their_purpose() {
        let labels = |input: &str, format: Format| -> Result<Vec<Option<String>>> {
            reader_of(input, format, true)?
                .allow_unlabelled()
                .map(|r| r.map(|r| r.label))
                .collect()
        };
        let csv = "text,label\na,x\nb,\n";
        assert_eq!(labels(csv, Format::Csv).unwrap(), [Some("x".into()), None]);
        let refused: Result<Vec<Record>> = reader_of(csv, Format::Csv, true).unwrap().collect();
        assert!(refused
            .unwrap_err()
            .to_string()
            .contains("in:3: missing label"));
        let json = "{\"text\": \"a\", \"label\": null}\n{\"text\": \"b\"}\n";
        let missing = labels(json, Format::Jsonl).unwrap_err().to_string();
        assert!(
            missing.starts_with("in:2: no `label` field for the label")
                && missing.contains("empty or null when not labelled"),
            "{missing}"
        );
        let keyed = reader_of(csv, Format::Csv, false)
            .unwrap()
            .keep_fields_for(&["id".to_string()], "for --key-field");
        let message = keyed.err().expect("no id column").to_string();
        assert!(
            message.contains("no `id` column for --key-field (columns: text, label)"),
            "{message}"
        );
    }

    #[test]
    fn kept_fields_are_carried_in_the_order_asked() {
        let csv = "id,text,when\n7,\"a, b\",monday\n8,c,\n";
        let records = kept_records(csv, Format::Csv, &["when", "id"]).unwrap();
        let kept: Vec<&Vec<serde_json::Value>> = records.iter().map(|r| &r.kept).collect();
        assert_eq!(
            kept,
            [
                &vec![serde_json::json!("monday"), serde_json::json!("7")],
                &vec![serde_json::json!(""), serde_json::json!("8")]
            ]
        );
        assert_eq!(records[0].text, "a, b");

        let jsonl = "{\"text\":\"a\",\"id\":7,\"meta\":{\"x\":[1]}}\n\n{\"id\":\"b-8\",\"text\":\"b\",\"meta\":null}\n";
        let records = kept_records(jsonl, Format::Jsonl, &["id", "meta"]).unwrap();
        assert_eq!(
            records[0].kept,
            [serde_json::json!(7), serde_json::json!({"x": [1]})]
        );
        assert_eq!(
            records[1].kept,
            [serde_json::json!("b-8"), serde_json::Value::Null]
        );
        assert_eq!(records[1].line, 3);
        // Nothing kept unless asked.
        assert!(kept_records(jsonl, Format::Jsonl, &[]).unwrap()[0]
            .kept
            .is_empty());
    }

    #[test]
    fn a_field_that_cannot_be_kept_is_named() {
        let err = kept_records("id,text\n1,a\n", Format::Csv, &["date"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "in: no `date` column to keep (columns: id, text)"
        );
        let err = kept_records(
            "{\"text\":\"a\",\"id\":1}\n{\"text\":\"b\"}\n",
            Format::Jsonl,
            &["id"],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "in:2: no `id` field to keep (fields: text)"
        );
        for (format, what) in [
            (Format::Text, "plain text lines"),
            (Format::FastText, "fastText lines"),
        ] {
            let err = kept_records("a line\n", format, &["id"]).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("in: {what} have no fields to keep: keep fields of CSV, TSV or JSON lines")
            );
        }
    }

    #[test]
    fn formats_from_extensions() {
        assert_eq!(
            Format::from_path(Path::new("a.CSV"), true),
            Some(Format::Csv)
        );
        assert_eq!(
            Format::from_path(Path::new("a.txt"), true),
            Some(Format::FastText)
        );
        assert_eq!(
            Format::from_path(Path::new("a.txt"), false),
            Some(Format::Text)
        );
        assert_eq!(Format::from_path(Path::new("a.xlsx"), true), None);
    }
}
