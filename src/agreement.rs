//! Agreement between coders: before a model learns from hand-labelled records, how far do
//! the people who labelled them agree? A model cannot be trusted to tell labels apart that
//! its coders do not, and content analysis reports reliability next to any finding.
//!
//! Each coder labels a copy of the same records (`stance sentences` lists an article's
//! sentences with an empty `label` to fill in). The copies are matched record by record
//! ([`align`]): by position, with every text checked against the first file's, or by one or
//! more key fields (`source` and `sentence`, an id) when a coder may have sorted or dropped
//! rows. A record a coder left without a label counts as not coded.
//!
//! [`measure`] then gives:
//! - the observed agreement: the share of pairs of values within a record that match (for
//!   two coders who both coded every record, the share of records they agree on);
//! - Krippendorff's alpha for nominal data over all coders, which allows missing values and
//!   any number of coders and corrects for the agreement the labels' frequencies alone
//!   would give (K. Krippendorff, "Computing Krippendorff's Alpha-Reliability", 2011; the
//!   coincidence-matrix form), with a bootstrap interval over records;
//! - Cohen's kappa for each pair of coders, on the records both coded, with their
//!   confusion matrix;
//! - per label, how many records each coder gave it and the share of its values matched
//!   by another coder's (the coincidence matrix's `o_cc / n_c`: for two coders, positive
//!   specific agreement `2·both / (uses by one + uses by the other)`).

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::bootstrap::{describe_resampling, percentile_interval, Units, DEFAULT_LEVEL};
use crate::corpus::{Format, RecordReader, Source};
use crate::error::{Error, Result};
use crate::metrics::write_confusion;
use crate::score::shorten;
use crate::train::SplitMix64;

/// Krippendorff's threshold for drawing conclusions from coded data.
pub const ALPHA_RELIABLE: f64 = 0.800;
/// Krippendorff's lowest threshold, for tentative conclusions only.
pub const ALPHA_TENTATIVE: f64 = 0.667;

/// One record of a coder's file.
#[derive(Debug, Clone, PartialEq)]
pub struct CodedRecord {
    /// The 1-based line where the record starts.
    pub line: u64,
    pub text: String,
    /// The values of the key fields, in their order (empty when matching by position).
    pub key: Vec<String>,
    /// The coder's label; `None` when left empty (not coded).
    pub label: Option<String>,
    /// The record's group (its article, its author) when the source names a group field,
    /// for a bootstrap that draws whole groups.
    pub group: Option<String>,
}

/// One coder's file, read whole.
#[derive(Debug, Clone)]
pub struct Coding {
    /// The file, as named in messages and reports.
    pub name: PathBuf,
    pub records: Vec<CodedRecord>,
}

/// Read one coder's file: CSV, TSV or JSON lines with `source`'s text and label fields,
/// every field in `key_fields`, and `source`'s group field when it names one. An empty or
/// null label is a record not coded; a missing or empty key or group is refused, naming
/// the line.
pub fn read_coding(source: &Source, key_fields: &[String]) -> Result<Coding> {
    let name = source.display_name();
    if matches!(source.resolve_format(true)?, Format::FastText) {
        return Err(Error::BadInput {
            path: name,
            problem: "fastText lines cannot be matched with other coders' files: use CSV, TSV or JSON lines with a text and a label field".into(),
        });
    }
    // The text and the label have their own columns in the disagreements file, and the
    // label differs from coder to coder, so neither can be a key.
    if let Some(field) = key_fields
        .iter()
        .find(|f| **f == source.text_field || **f == source.label_field)
    {
        return Err(Error::InvalidOption(format!(
            "--key-field {field} is the text or the label field: name a field that identifies each record, such as an id"
        )));
    }
    let mut reader = RecordReader::open(source, true)?
        .allow_unlabelled()
        .keep_fields_for(key_fields, "for --key-field")?;
    if let Some(field) = &source.group_field {
        reader = reader.group_field(field)?;
    }
    let mut records = Vec::new();
    for record in reader {
        let record = record?;
        let key = key_fields
            .iter()
            .zip(&record.kept)
            .map(|(field, value)| match field_text(value) {
                Some(Some(key)) => Ok(key),
                Some(None) => Err(format!(
                    "empty `{field}`: every record needs its key (--key-field) to be matched with the other coders' files"
                )),
                None => Err(format!(
                    "the `{field}` field holds a list or an object: expected an identifier"
                )),
            })
            .collect::<std::result::Result<Vec<String>, String>>()
            .map_err(|problem| Error::BadRecord {
                path: name.clone(),
                line: record.line,
                problem,
            })?;
        records.push(CodedRecord {
            line: record.line,
            text: record.text,
            key,
            label: record.label,
            group: record.group,
        });
    }
    if records.is_empty() {
        return Err(Error::BadInput {
            path: name,
            problem: "no records".into(),
        });
    }
    Ok(Coding { name, records })
}

/// A field's value as text: `Some(None)` when empty or null, `None` for a list or an
/// object.
fn field_text(value: &serde_json::Value) -> Option<Option<String>> {
    use serde_json::Value;
    match value {
        Value::Null => Some(None),
        Value::String(s) => {
            let s = s.trim();
            Some((!s.is_empty()).then(|| s.to_string()))
        }
        Value::Bool(_) | Value::Number(_) => Some(Some(value.to_string())),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// One record as every coder labelled it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    /// The key values (empty when matched by position).
    pub key: Vec<String>,
    /// The text, from the first file that has the record.
    pub text: String,
    /// Each coder's line for the record; `None` when the coder's file lacks it (a second
    /// record with the same key in one file is refused by it).
    pub lines: Vec<Option<u64>>,
    /// Each coder's label, as an index into [`Aligned::labels`]; `None` when not coded.
    pub values: Vec<Option<usize>>,
    /// The record's group, from the first file that has the record; `None` without groups.
    pub group: Option<String>,
}

impl Unit {
    /// The labels given, without the coders who gave none.
    fn given(&self) -> impl Iterator<Item = usize> + '_ {
        self.values.iter().flatten().copied()
    }

    /// True when two or more coders labelled the record and not all alike.
    pub fn is_disagreement(&self) -> bool {
        let mut given = self.given();
        let first = given.next();
        given.any(|v| Some(v) != first)
    }
}

/// The coders' files matched record by record.
#[derive(Debug, Clone, PartialEq)]
pub struct Aligned {
    /// The coders' files, in the order given.
    pub coders: Vec<PathBuf>,
    /// Every label any coder used, sorted.
    pub labels: Vec<String>,
    /// The key fields records were matched by; empty: by position.
    pub key_fields: Vec<String>,
    /// One per record: the first file's, in its order, then those only later files have.
    pub units: Vec<Unit>,
}

/// Match the records of two or more coders' files. With no `key_fields` the files must
/// list the same records in the same order (same count, same texts up to surrounding
/// white space); with them, records are matched by their key values, each key at most once
/// per file and its text the same in every file that has it. Errors name the file and line
/// where the files part.
pub fn align(codings: &[Coding], key_fields: &[String]) -> Result<Aligned> {
    if codings.len() < 2 {
        return Err(Error::InvalidOption(
            "agreement needs the files of at least two coders".into(),
        ));
    }
    for (c, coding) in codings.iter().enumerate() {
        if codings[..c].iter().any(|other| other.name == coding.name) {
            return Err(Error::InvalidOption(format!(
                "{} is given twice: give each coder's file once",
                coding.name.display()
            )));
        }
    }
    let mut labels: Vec<String> = codings
        .iter()
        .flat_map(|c| c.records.iter().filter_map(|r| r.label.clone()))
        .collect();
    labels.sort_unstable();
    labels.dedup();
    let index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    let value = |r: &CodedRecord| r.label.as_deref().map(|l| index[l]);
    let n_coders = codings.len();
    let first = &codings[0];
    // `record` of `coding` has another text than `reference` of `reference_coding`.
    let mismatch = |coding: &Coding,
                    record: &CodedRecord,
                    reference_coding: &Coding,
                    reference: &CodedRecord,
                    whose: &str| Error::BadRecord {
        path: coding.name.clone(),
        line: record.line,
        problem: format!(
            "{whose} text differs from {}:{}'s ({}): {}",
            reference_coding.name.display(),
            reference.line,
            preview(&reference.text),
            if key_fields.is_empty() {
                "the files must list the same records in the same order, or name a field that identifies each record with --key-field"
            } else {
                "are the keys the same records in every file?"
            }
        ),
    };

    let mut units: Vec<Unit>;
    if key_fields.is_empty() {
        for coding in &codings[1..] {
            // A dropped or moved row shows first as a text that differs; only then the count.
            for (record, reference) in coding.records.iter().zip(&first.records) {
                if record.text.trim() != reference.text.trim() {
                    return Err(mismatch(coding, record, first, reference, "its"));
                }
            }
            if coding.records.len() != first.records.len() {
                return Err(Error::BadInput {
                    path: coding.name.clone(),
                    problem: format!(
                        "{} records, but {} has {}: the files must list the same records in the same order, or name a field that identifies each record with --key-field",
                        coding.records.len(),
                        first.name.display(),
                        first.records.len()
                    ),
                });
            }
        }
        units = first
            .records
            .iter()
            .map(|r| Unit {
                key: Vec::new(),
                text: r.text.clone(),
                lines: vec![None; n_coders],
                values: vec![None; n_coders],
                group: r.group.clone(),
            })
            .collect();
        for (c, coding) in codings.iter().enumerate() {
            for (unit, record) in units.iter_mut().zip(&coding.records) {
                unit.lines[c] = Some(record.line);
                unit.values[c] = value(record);
            }
        }
    } else {
        units = Vec::new();
        // Where each key's unit is, and the record that first gave it (for messages).
        let mut by_key: HashMap<&[String], (usize, usize, usize)> = HashMap::new();
        for (c, coding) in codings.iter().enumerate() {
            for (r, record) in coding.records.iter().enumerate() {
                let at = match by_key.get(record.key.as_slice()) {
                    Some(&(at, c0, r0)) => {
                        if let Some(line) = units[at].lines[c] {
                            return Err(Error::BadRecord {
                                path: coding.name.clone(),
                                line: record.line,
                                problem: format!(
                                    "key {} again (first at line {line}): --key-field must name fields that identify one record",
                                    describe_key(key_fields, &record.key)
                                ),
                            });
                        }
                        let reference = &codings[c0].records[r0];
                        if record.text.trim() != reference.text.trim() {
                            let whose =
                                format!("the {} record's", describe_key(key_fields, &record.key));
                            return Err(mismatch(coding, record, &codings[c0], reference, &whose));
                        }
                        at
                    }
                    None => {
                        by_key.insert(&record.key, (units.len(), c, r));
                        units.push(Unit {
                            key: record.key.clone(),
                            text: record.text.clone(),
                            lines: vec![None; n_coders],
                            values: vec![None; n_coders],
                            group: record.group.clone(),
                        });
                        units.len() - 1
                    }
                };
                units[at].lines[c] = Some(record.line);
                units[at].values[c] = value(record);
            }
        }
    }
    Ok(Aligned {
        coders: codings.iter().map(|c| c.name.clone()).collect(),
        labels,
        key_fields: key_fields.to_vec(),
        units,
    })
}

/// `field=value` pairs naming a record by its key, for messages.
fn describe_key(fields: &[String], key: &[String]) -> String {
    let pairs: Vec<String> = fields
        .iter()
        .zip(key)
        .map(|(f, v)| format!("{f}={v}"))
        .collect();
    format!("`{}`", pairs.join(", "))
}

/// The start of a text, quoted, for messages.
fn preview(text: &str) -> String {
    format!("\"{}\"", shorten(text, 40))
}

/// Agreement between two coders.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairAgreement {
    /// The two coders' files.
    pub coders: [String; 2],
    /// Records both coded.
    pub records: usize,
    /// The share of those the two gave the same label.
    pub agreement: Option<f64>,
    /// Cohen's kappa on those records; `None` when undefined (no records, or both coders
    /// gave every one the same label).
    pub kappa: Option<f64>,
    /// `confusion[first's label][second's label]`, indexed like [`Agreement::labels`].
    pub confusion: Vec<Vec<usize>>,
}

/// How one label was used and agreed on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelAgreement {
    pub label: String,
    /// How many records each coder gave the label, in coder order.
    pub uses: Vec<usize>,
    /// The share of the label's values, in records coded at least twice, that another
    /// coder matched (`o_cc / n_c`); `None` when it has none there.
    pub agreement: Option<f64>,
}

/// A bootstrap interval of Krippendorff's alpha.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlphaInterval {
    pub lower: f64,
    pub upper: f64,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// Resamples of the records coded at least twice (those where alpha was undefined are
    /// left out).
    pub resamples: usize,
    /// Seed of the SplitMix64 generator.
    pub seed: u64,
    /// The number of groups drawn whole, when the records have groups; `None` when the
    /// records were drawn one by one.
    pub groups: Option<usize>,
}

/// Everything [`measure`] finds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agreement {
    /// The coders' files.
    pub coders: Vec<String>,
    /// Every label used, sorted.
    pub labels: Vec<String>,
    /// The key fields records were matched by; empty: by position.
    pub key_fields: Vec<String>,
    /// Records in any file.
    pub records: usize,
    /// Records every coder labelled.
    pub coded_by_all: usize,
    /// Records labelled by at least two coders: those the figures rest on.
    pub pairable: usize,
    /// Of the pairable records, those not given the same label by all who coded them.
    pub disagreements: usize,
    /// The share of matching pairs of values within records (`Σ o_cc / n`).
    pub observed_agreement: Option<f64>,
    /// Krippendorff's alpha, nominal; `None` when undefined (no pairable records, or a
    /// single label used throughout).
    pub alpha: Option<f64>,
    pub alpha_interval: Option<AlphaInterval>,
    /// Every pair of coders, in order.
    pub pairs: Vec<PairAgreement>,
    pub per_label: Vec<LabelAgreement>,
}

/// Measure the agreement of aligned codings; `resamples` bootstrap resamples of the
/// pairable records (0: none) give alpha's 95% interval. Records with groups are drawn a
/// whole group at a time ([`Units::Groups`]): an article's sentences share its wording and
/// its difficulty, so drawing them one by one would make the interval too narrow.
pub fn measure(aligned: &Aligned, resamples: usize, seed: u64) -> Agreement {
    let k = aligned.labels.len();
    let n_coders = aligned.coders.len();
    let values: Vec<&[Option<usize>]> = aligned.units.iter().map(|u| u.values.as_slice()).collect();
    let pairable_units: Vec<&Unit> = aligned
        .units
        .iter()
        .filter(|u| u.given().count() >= 2)
        .collect();
    let pairable: Vec<&[Option<usize>]> =
        pairable_units.iter().map(|u| u.values.as_slice()).collect();
    let groups: Vec<String> = pairable_units
        .iter()
        .filter_map(|u| u.group.clone())
        .collect();
    let units = Units::new(pairable.len(), &groups);
    let coincidence = coincidences(&pairable, k);
    let n: f64 = coincidence.iter().flatten().sum();
    let matched: f64 = (0..k).map(|c| coincidence[c][c]).sum();
    let alpha = alpha_of(&coincidence);
    let alpha_interval = alpha.and_then(|_| {
        let mut rng = SplitMix64::new(seed);
        let mut drawn: Vec<&[Option<usize>]> = Vec::with_capacity(pairable.len());
        let mut alphas: Vec<f64> = (0..resamples)
            .filter_map(|_| {
                drawn.clear();
                units.resample(&mut rng, |i| drawn.push(pairable[i]));
                alpha_of(&coincidences(&drawn, k))
            })
            .collect();
        (!alphas.is_empty()).then(|| {
            let (lower, upper) = percentile_interval(&mut alphas, DEFAULT_LEVEL);
            AlphaInterval {
                lower,
                upper,
                level: DEFAULT_LEVEL,
                resamples: alphas.len(),
                seed,
                groups: units.groups(),
            }
        })
    });

    let mut pairs = Vec::new();
    for a in 0..n_coders {
        for b in a + 1..n_coders {
            let mut confusion = vec![vec![0usize; k]; k];
            for v in &values {
                if let (Some(x), Some(y)) = (v[a], v[b]) {
                    confusion[x][y] += 1;
                }
            }
            let records: usize = confusion.iter().flatten().sum();
            let same: usize = (0..k).map(|c| confusion[c][c]).sum();
            pairs.push(PairAgreement {
                coders: [name(aligned, a), name(aligned, b)],
                records,
                agreement: (records > 0).then(|| same as f64 / records as f64),
                kappa: cohen_kappa(&confusion),
                confusion,
            });
        }
    }
    let per_label = (0..k)
        .map(|c| {
            let n_c: f64 = coincidence[c].iter().sum();
            LabelAgreement {
                label: aligned.labels[c].clone(),
                uses: (0..n_coders)
                    .map(|coder| values.iter().filter(|v| v[coder] == Some(c)).count())
                    .collect(),
                agreement: (n_c > 0.0).then(|| coincidence[c][c] / n_c),
            }
        })
        .collect();
    Agreement {
        coders: (0..n_coders).map(|c| name(aligned, c)).collect(),
        labels: aligned.labels.clone(),
        key_fields: aligned.key_fields.clone(),
        records: aligned.units.len(),
        coded_by_all: values
            .iter()
            .filter(|v| v.iter().all(Option::is_some))
            .count(),
        pairable: pairable.len(),
        disagreements: aligned.units.iter().filter(|u| u.is_disagreement()).count(),
        observed_agreement: (n > 0.0).then(|| matched / n),
        alpha,
        alpha_interval,
        pairs,
        per_label,
    }
}

impl fmt::Display for Agreement {
    /// The figures for the terminal: alpha with its interval and Krippendorff's thresholds,
    /// the observed agreement, each pair's kappa, each label's agreement and uses, labels
    /// only one coder used, and the confusion matrix of each pair (up to three pairs; past
    /// that, a pointer to `--json`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let matched = if self.key_fields.is_empty() {
            "matched by position".to_string()
        } else {
            format!("matched by {}", self.key_fields.join(" and "))
        };
        writeln!(
            f,
            "{} coders ({}), {} records {matched}: {} coded by two or more, {} by all",
            self.coders.len(),
            self.coders.join(", "),
            self.records,
            self.pairable,
            self.coded_by_all
        )?;
        let figure = |v: Option<f64>| v.map_or("undefined".to_string(), |v| format!("{v:.4}"));
        write!(f, "Krippendorff's alpha (nominal)  {}", figure(self.alpha))?;
        match (&self.alpha_interval, self.alpha) {
            (Some(i), _) => writeln!(
                f,
                "  95% interval [{:.4}, {:.4}] (bootstrap over the records coded by two or more: {})",
                i.lower,
                i.upper,
                describe_resampling(i.resamples, self.pairable, i.groups, i.seed)
            )?,
            (None, None) if self.pairable > 0 => {
                writeln!(f, " (every value is the same label: chance explains it all)")?
            }
            _ => writeln!(f)?,
        }
        if let Some(alpha) = self.alpha {
            let reading = if alpha >= ALPHA_RELIABLE {
                "at or above 0.800, Krippendorff's threshold for drawing conclusions from the labels"
            } else if alpha >= ALPHA_TENTATIVE {
                "below 0.800, Krippendorff's threshold for conclusions; at or above 0.667, his threshold for tentative ones"
            } else {
                "below 0.667, Krippendorff's lowest threshold (for tentative conclusions): sharpen the labelling guide before relying on these labels"
            };
            writeln!(f, "  {reading}")?;
        }
        writeln!(
            f,
            "observed agreement              {}",
            figure(self.observed_agreement)
        )?;

        let width = self
            .coders
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0);
        writeln!(
            f,
            "\nCohen's kappa, pair by pair (on the records both coded):"
        )?;
        for pair in &self.pairs {
            writeln!(
                f,
                "  {:<width$}  {:<width$}  kappa {}  agreement {}  ({} record{})",
                pair.coders[0],
                pair.coders[1],
                figure(pair.kappa),
                figure(pair.agreement),
                pair.records,
                if pair.records == 1 { "" } else { "s" }
            )?;
        }

        let label_width = self
            .labels
            .iter()
            .map(|l| l.chars().count())
            .fold(5, usize::max);
        writeln!(
            f,
            "\nper label (agreement: the share of its values another coder matched; then how many records each coder gave it):"
        )?;
        write!(f, "  {:<label_width$}  {:>9}", "label", "agreement")?;
        for coder in &self.coders {
            write!(f, "  {coder}")?;
        }
        writeln!(f)?;
        for label in &self.per_label {
            write!(
                f,
                "  {:<label_width$}  {:>9}",
                label.label,
                figure(label.agreement)
            )?;
            for (coder, uses) in self.coders.iter().zip(&label.uses) {
                write!(f, "  {uses:>w$}", w = coder.chars().count())?;
            }
            writeln!(f)?;
        }
        for label in &self.per_label {
            let users: Vec<usize> = (0..self.coders.len())
                .filter(|&c| label.uses[c] > 0)
                .collect();
            if let [only] = users[..] {
                let uses = label.uses[only];
                writeln!(
                    f,
                    "  `{}` is used by {} only ({uses} record{}): a label of its own, or a misspelling?",
                    label.label,
                    self.coders[only],
                    if uses == 1 { "" } else { "s" }
                )?;
            }
        }

        if self.pairs.len() <= 3 {
            let labels: Vec<&str> = self.labels.iter().map(String::as_str).collect();
            for pair in &self.pairs {
                writeln!(f)?;
                let title = format!(
                    "{} against {} (rows: {}, columns: {}, numbered as the rows)",
                    pair.coders[0], pair.coders[1], pair.coders[0], pair.coders[1]
                );
                write_confusion(f, &title, &labels, &pair.confusion, label_width)?;
            }
        } else {
            writeln!(
                f,
                "\n(each of the {} pairs' confusion matrices is in --json)",
                self.pairs.len()
            )?;
        }
        Ok(())
    }
}

fn name(aligned: &Aligned, coder: usize) -> String {
    aligned.coders[coder].display().to_string()
}

/// The coincidence matrix of records coded at least twice: each record with `m` values
/// adds, for every ordered pair of its values from different coders, `1 / (m − 1)` at
/// `[first][second]`, so that every record weighs as many values as it has.
fn coincidences(units: &[&[Option<usize>]], k: usize) -> Vec<Vec<f64>> {
    let mut o = vec![vec![0.0; k]; k];
    let mut counts = vec![0usize; k];
    for unit in units {
        counts.iter_mut().for_each(|c| *c = 0);
        for &v in unit.iter().flatten() {
            counts[v] += 1;
        }
        let m: usize = counts.iter().sum();
        if m < 2 {
            continue;
        }
        let weight = 1.0 / (m - 1) as f64;
        for c in 0..k {
            if counts[c] == 0 {
                continue;
            }
            for d in 0..k {
                // A value is not paired with itself.
                let partners = if c == d { counts[d] - 1 } else { counts[d] };
                o[c][d] += (counts[c] * partners) as f64 * weight;
            }
        }
    }
    o
}

/// Krippendorff's alpha for nominal data from a coincidence matrix:
/// `1 − (n − 1) · Σ_{c≠d} o_cd / Σ_{c≠d} n_c · n_d`. `None` when the expected
/// disagreement is zero (no values, or one label only).
fn alpha_of(o: &[Vec<f64>]) -> Option<f64> {
    let totals: Vec<f64> = o.iter().map(|row| row.iter().sum()).collect();
    let n: f64 = totals.iter().sum();
    let (mut observed, mut expected) = (0.0, 0.0);
    for c in 0..o.len() {
        for d in 0..o.len() {
            if c != d {
                observed += o[c][d];
                expected += totals[c] * totals[d];
            }
        }
    }
    (expected > 0.0).then(|| 1.0 - (n - 1.0) * observed / expected)
}

/// Cohen's kappa of a square confusion matrix of two coders' labels: the agreement beyond
/// what each coder's label frequencies would give by chance, `(p_o − p_e) / (1 − p_e)`.
/// `None` when there are no records, or chance agreement is already perfect.
pub fn cohen_kappa(confusion: &[Vec<usize>]) -> Option<f64> {
    let n: usize = confusion.iter().flatten().sum();
    if n == 0 {
        return None;
    }
    let n = n as f64;
    let k = confusion.len();
    let observed = (0..k).map(|c| confusion[c][c] as f64).sum::<f64>() / n;
    let chance = (0..k)
        .map(|c| {
            let row: usize = confusion[c].iter().sum();
            let column: usize = confusion.iter().map(|r| r[c]).sum();
            row as f64 * column as f64
        })
        .sum::<f64>()
        / (n * n);
    (chance < 1.0).then(|| (observed - chance) / (1.0 - chance))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aligned(coders: &[&[Option<&str>]]) -> Aligned {
        let codings: Vec<Coding> = coders
            .iter()
            .enumerate()
            .map(|(c, labels)| Coding {
                name: PathBuf::from(format!("coder{c}.csv")),
                records: labels
                    .iter()
                    .enumerate()
                    .map(|(i, label)| CodedRecord {
                        line: i as u64 + 2,
                        text: format!("text {i}"),
                        key: Vec::new(),
                        label: label.map(str::to_string),
                        group: None,
                    })
                    .collect(),
            })
            .collect();
        align(&codings, &[]).unwrap()
    }

    #[test]
    fn krippendorffs_worked_example() {
        // Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C:
        // four observers, twelve units, missing values; nominal alpha 0.743.
        let row = |values: [u8; 12]| -> Vec<Option<String>> {
            values
                .iter()
                .map(|&v| (v != 0).then(|| v.to_string()))
                .collect()
        };
        let coders = [
            row([1, 2, 3, 3, 2, 1, 4, 1, 2, 0, 0, 0]),
            row([1, 2, 3, 3, 2, 2, 4, 1, 2, 5, 0, 3]),
            row([0, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, 0]),
            row([1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, 0]),
        ];
        let as_str: Vec<Vec<Option<&str>>> = coders
            .iter()
            .map(|c| c.iter().map(|v| v.as_deref()).collect())
            .collect();
        let refs: Vec<&[Option<&str>]> = as_str.iter().map(|c| c.as_slice()).collect();
        let found = measure(&aligned(&refs), 0, 1);
        let alpha = found.alpha.unwrap();
        assert!((alpha - 0.743).abs() < 5e-4, "{alpha}");
        // Unit 12 has one value: not pairable.
        assert_eq!(
            (found.records, found.pairable, found.coded_by_all),
            (12, 11, 8)
        );
    }

    #[test]
    fn cohens_kappa_matches_scikit_learn() {
        let a = ["x", "x", "y", "y", "z", "z", "x", "y", "z", "x"];
        let b = ["x", "y", "y", "y", "z", "x", "x", "y", "y", "x"];
        let a: Vec<Option<&str>> = a.iter().map(|&s| Some(s)).collect();
        let b: Vec<Option<&str>> = b.iter().map(|&s| Some(s)).collect();
        let found = measure(&aligned(&[&a, &b]), 0, 1);
        let pair = &found.pairs[0];
        assert!(
            (pair.kappa.unwrap() - KAPPA_REFERENCE).abs() < 1e-12,
            "{pair:?}"
        );
        assert_eq!((pair.records, pair.agreement), (10, Some(0.7)));
        // Two coders who both coded everything: observed agreement is percent agreement.
        assert_eq!(found.observed_agreement, Some(0.7));
        assert_eq!(found.disagreements, 3);
    }

    /// scikit-learn 1.9.1's `cohen_kappa_score` on the labels of
    /// `cohens_kappa_matches_scikit_learn`.
    const KAPPA_REFERENCE: f64 = 0.5454545454545454;

    #[test]
    fn perfect_and_undefined_agreement() {
        let same: Vec<Option<&str>> = vec![Some("a"), Some("b"), Some("a"), None];
        let found = measure(&aligned(&[&same, &same]), 200, 1);
        assert_eq!(found.alpha, Some(1.0));
        assert_eq!(found.pairs[0].kappa, Some(1.0));
        assert_eq!((found.pairable, found.disagreements), (3, 0));
        // One label throughout: chance explains everything, so neither is defined.
        let one: Vec<Option<&str>> = vec![Some("a"); 4];
        let found = measure(&aligned(&[&one, &one]), 200, 1);
        assert_eq!((found.alpha, found.pairs[0].kappa), (None, None));
    }

    #[test]
    fn per_label_agreement_is_specific_agreement_for_two_coders() {
        // `a`: both 3, one coder alone 1 → 2·3 / (4 + 3) = 6/7.
        let x = [Some("a"), Some("a"), Some("a"), Some("a"), Some("b")];
        let y = [Some("a"), Some("a"), Some("a"), Some("b"), Some("b")];
        let found = measure(&aligned(&[&x, &y]), 0, 1);
        let a = &found.per_label[0];
        assert_eq!(a.uses, vec![4, 3]);
        assert!((a.agreement.unwrap() - 6.0 / 7.0).abs() < 1e-12, "{a:?}");
    }

    #[test]
    fn the_alpha_interval_is_seeded_and_holds_the_estimate() {
        let x: Vec<Option<&str>> = (0..60).map(|i| Some(["a", "b", "c"][i % 3])).collect();
        let y: Vec<Option<&str>> = (0..60)
            .map(|i| Some(["a", "b", "c"][if i % 7 == 0 { (i + 1) % 3 } else { i % 3 }]))
            .collect();
        let found = measure(&aligned(&[&x, &y]), 500, 9);
        let interval = found.alpha_interval.clone().unwrap();
        let alpha = found.alpha.unwrap();
        assert!(
            interval.lower < alpha && alpha < interval.upper,
            "{found:?}"
        );
        assert!(interval.upper - interval.lower > 0.05, "{interval:?}");
        assert_eq!(measure(&aligned(&[&x, &y]), 500, 9), found);
        let reseeded = measure(&aligned(&[&x, &y]), 500, 10)
            .alpha_interval
            .unwrap();
        assert_ne!(reseeded, interval, "the seed draws the resamples");
    }

    #[test]
    fn up_to_three_pairs_print_their_confusion_matrices() {
        let x = [Some("a"), Some("b"), Some("a")];
        let y = [Some("a"), Some("b"), Some("b")];
        let three = measure(&aligned(&[&x, &y, &x]), 0, 1).to_string();
        assert_eq!(three.matches(" against coder").count(), 3, "{three}");
        let four = measure(&aligned(&[&x, &y, &x, &y]), 0, 1).to_string();
        assert_eq!(four.matches(" against coder").count(), 0, "{four}");
        assert!(four.contains("(each of the 6 pairs' confusion matrices is in --json)"));
    }

    fn coding(name: &str, rows: &[(&str, &str, Option<&str>)]) -> Coding {
        Coding {
            name: PathBuf::from(name),
            records: rows
                .iter()
                .enumerate()
                .map(|(i, (key, text, label))| CodedRecord {
                    line: i as u64 + 2,
                    text: text.to_string(),
                    key: vec![key.to_string()],
                    label: label.map(str::to_string),
                    group: None,
                })
                .collect(),
        }
    }

    #[test]
    fn records_match_by_key_in_any_order() {
        let a = coding("a.csv", &[("1", "one", Some("x")), ("2", "two", Some("y"))]);
        let b = coding(
            "b.csv",
            &[
                ("3", "three", Some("y")),
                ("2", "two ", Some("y")),
                ("1", "one", None),
            ],
        );
        let aligned = align(&[a, b], &["id".to_string()]).unwrap();
        let keys: Vec<&str> = aligned.units.iter().map(|u| u.key[0].as_str()).collect();
        assert_eq!(keys, ["1", "2", "3"]);
        assert_eq!(aligned.units[0].values, vec![Some(0), None]);
        assert_eq!(aligned.units[1].lines, vec![Some(3), Some(3)]);
        assert_eq!(aligned.units[2].values, vec![None, Some(1)]);
    }

    #[test]
    fn files_that_part_are_refused_where_they_part() {
        let a = coding("a.csv", &[("1", "one", Some("x")), ("2", "two", Some("y"))]);
        let b = coding("b.csv", &[("2", "two", Some("x")), ("1", "one", Some("y"))]);
        let by_position = align(&[a.clone(), b.clone()], &[]).unwrap_err().to_string();
        assert!(
            by_position.starts_with("b.csv:2: its text differs from a.csv:2's (\"one\")")
                && by_position.contains("--key-field"),
            "{by_position}"
        );
        // A dropped row is named where the texts part, before the counts are compared.
        let dropped = coding("f.csv", &[("2", "two", Some("x"))]);
        let parted = align(&[a.clone(), dropped], &[]).unwrap_err().to_string();
        assert!(
            parted.starts_with("f.csv:2: its text differs from a.csv:2's"),
            "{parted}"
        );
        let short = coding("c.csv", &[("1", "one", Some("x"))]);
        let count = align(&[a.clone(), short], &[]).unwrap_err().to_string();
        assert!(
            count.starts_with("c.csv: 1 records, but a.csv has 2"),
            "{count}"
        );
        let twice = coding("d.csv", &[("1", "one", Some("x")), ("1", "one", Some("y"))]);
        let key = ["id".to_string()];
        let duplicate = align(&[a.clone(), twice], &key).unwrap_err().to_string();
        assert!(
            duplicate.starts_with("d.csv:3: key `id=1` again (first at line 2)"),
            "{duplicate}"
        );
        let other = coding("e.csv", &[("1", "uno", Some("x"))]);
        let text = align(&[a, other], &key).unwrap_err().to_string();
        assert!(
            text.starts_with("e.csv:2: the `id=1` record's text differs from a.csv:2's (\"one\")"),
            "{text}"
        );
    }
}
