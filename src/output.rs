//! Writing predictions: JSON lines (`{"label": …, "probs": {label: p}}`), or CSV / TSV rows
//! (`label`, then `p_<label>` per label), one per input record, in input order; with each
//! label's explanation when asked (`"baseline"` and `"evidence"` members, or columns).
//! Also the other records the command line writes for a person to fill in: sentences to
//! label, and the records coders disagree on.

use std::borrow::Cow;
use std::io::{self, Write};
use std::path::Path;

use rayon::prelude::*;

use crate::agreement::Aligned;
use crate::classifier::{Evidence, Prediction};
use crate::sentences::SentenceRecord;

/// The formats predictions can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// One JSON object per record: the label and every class's probability.
    Jsonl,
    /// A header, then per record the label and every class's probability (`p_LABEL`).
    Csv,
    /// As [`OutputFormat::Csv`], tab-separated.
    Tsv,
    /// One label per line and nothing else, as fastText's `predict` writes: for shell
    /// pipelines (`sort | uniq -c`, `paste`) and when the probabilities are not wanted.
    Labels,
}

impl OutputFormat {
    /// The format a file name asks for: `.jsonl`/`.ndjson`/`.json`, `.csv`, `.tsv`/`.tab`,
    /// `.txt` (labels).
    pub fn from_path(path: &Path) -> Option<OutputFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "jsonl" | "ndjson" | "json" => OutputFormat::Jsonl,
            "csv" => OutputFormat::Csv,
            "tsv" | "tab" => OutputFormat::Tsv,
            "txt" => OutputFormat::Labels,
            _ => return None,
        })
    }

    /// Refuse `labels` this format cannot write unambiguously: one label per line cannot
    /// show a label with a line break. (Checked before an output file is created.)
    pub fn check_labels(self, labels: &[String]) -> io::Result<()> {
        match labels.iter().find(|l| l.contains(['\n', '\r'])) {
            Some(label) if self == OutputFormat::Labels => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "the label {label:?} contains a line break, which one label per line cannot show: write JSON lines, CSV or TSV instead"
                ),
            )),
            _ => Ok(()),
        }
    }

    /// The format called `name`: `jsonl`, `csv`, `tsv` or `labels`.
    pub fn from_name(name: &str) -> Option<OutputFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "jsonl" => OutputFormat::Jsonl,
            "csv" => OutputFormat::Csv,
            "tsv" => OutputFormat::Tsv,
            "labels" => OutputFormat::Labels,
            _ => return None,
        })
    }

    /// Refuse `extras` this format cannot write for `labels`: one label per line has no room
    /// for anything else, and a kept field may not share a name with another field of the
    /// output (`label`, a `p_LABEL` column, …) or with another kept field.
    pub fn check_extras(self, labels: &[String], extras: &Extras) -> io::Result<()> {
        let refuse = |problem: String| Err(io::Error::new(io::ErrorKind::InvalidInput, problem));
        if self == OutputFormat::Labels {
            if extras.explain {
                return refuse("one label per line has no room for the evidence: write JSON lines, CSV or TSV instead".into());
            }
            if let Some(field) = extras.kept_fields.first() {
                return refuse(format!("one label per line has no room for the kept field `{field}`: write JSON lines, CSV or TSV instead"));
            }
        }
        let mut own: Vec<String> = vec!["label".into()];
        match self {
            OutputFormat::Jsonl => own.push("probs".into()),
            _ => own.extend(labels.iter().map(|l| format!("p_{l}"))),
        }
        if extras.explain {
            own.extend(["baseline", "evidence"].map(String::from));
        }
        for (i, field) in extras.kept_fields.iter().enumerate() {
            if own.contains(field) {
                return refuse(format!("the kept field `{field}` has the name of the output's own `{field}`: rename it in the input"));
            }
            if extras.kept_fields[..i].contains(field) {
                return refuse(format!("the field `{field}` is kept twice"));
            }
        }
        Ok(())
    }
}

/// What each written prediction carries besides its label and probabilities.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    /// Names of the input fields written in front of each prediction, whose values come
    /// with the predictions ([`PredictionWriter::write_all_keeping`]): an id, say, to join
    /// the predictions back to the input.
    pub kept_fields: Vec<String>,
    /// Write each prediction's [`Explanation`](crate::classifier::Explanation): `baseline`
    /// and `evidence`, as JSON members or the last two columns.
    pub explain: bool,
}

/// Writes predictions in one of the [`OutputFormat`]s. A batch is formatted in parallel
/// (formatting twenty probabilities a line costs more than predicting them) and written in
/// input order.
pub struct PredictionWriter {
    out: Box<dyn Write>,
    lines: LineFormat,
}

/// How one prediction becomes bytes.
struct LineFormat {
    format: OutputFormat,
    /// JSON lines: each label's `"label":` key, JSON-escaped, with the label's index, in the
    /// order of the keys' text (as a `serde_json` map orders them).
    json_keys: Vec<(usize, Vec<u8>)>,
    /// JSON lines: each kept field's `"field":` key, JSON-escaped.
    kept_keys: Vec<Vec<u8>>,
    explain: bool,
}

/// Predictions formatted per parallel task.
const FORMAT_CHUNK: usize = 1024;

impl PredictionWriter {
    /// A writer for `labels` (the classifier's label order); CSV and TSV start with a header.
    /// One-label-per-line output refuses labels with a line break, which it could not show,
    /// and what [`OutputFormat::check_extras`] refuses. Kept fields come first (JSON members
    /// or columns); with `extras.explain`, JSON lines carry each prediction's explanation as
    /// `"baseline"` and `"evidence"` members, and CSV and TSV end with `baseline` and
    /// `evidence` columns (empty for a prediction without one).
    pub fn new(
        mut writer: Box<dyn Write>,
        format: OutputFormat,
        labels: &[String],
        extras: &Extras,
    ) -> io::Result<Self> {
        format.check_extras(labels, extras)?;
        let explain = extras.explain;
        let mut json_keys = Vec::new();
        let mut kept_keys = Vec::new();
        match format {
            OutputFormat::Jsonl => {
                let mut order: Vec<usize> = (0..labels.len()).collect();
                order.sort_by(|&a, &b| labels[a].cmp(&labels[b]));
                for i in order {
                    let mut key = serde_json::to_vec(&labels[i])?;
                    key.push(b':');
                    json_keys.push((i, key));
                }
                for field in &extras.kept_fields {
                    let mut key = serde_json::to_vec(field)?;
                    key.push(b':');
                    kept_keys.push(key);
                }
            }
            OutputFormat::Csv | OutputFormat::Tsv => {
                let mut header = extras.kept_fields.clone();
                header.push("label".to_string());
                header.extend(labels.iter().map(|l| format!("p_{l}")));
                if explain {
                    header.extend(["baseline", "evidence"].map(String::from));
                }
                let mut w = delimited_writer(&mut writer, format);
                w.write_record(&header)?;
                w.flush()?;
            }
            OutputFormat::Labels => format.check_labels(labels)?,
        }
        Ok(PredictionWriter {
            out: writer,
            lines: LineFormat {
                format,
                json_keys,
                kept_keys,
                explain,
            },
        })
    }

    /// Write one prediction.
    pub fn write(&mut self, prediction: &Prediction) -> io::Result<()> {
        self.write_all(std::slice::from_ref(prediction))
    }

    /// Write predictions, in order (with no kept fields).
    pub fn write_all(&mut self, predictions: &[Prediction]) -> io::Result<()> {
        self.write_all_keeping(predictions, &[])
    }

    /// Write predictions, in order, each after the values of its record's kept fields
    /// (`kept[i]` for `predictions[i]`, in the order of [`Extras::kept_fields`]; `kept` is
    /// empty when no field is kept). A JSON value is written as it is, and in CSV or TSV a
    /// string as it is and any other value as its JSON text. Kept values for a different
    /// number of records are refused, and nothing is written.
    pub fn write_all_keeping(
        &mut self,
        predictions: &[Prediction],
        kept: &[Vec<serde_json::Value>],
    ) -> io::Result<()> {
        if !kept.is_empty() && kept.len() != predictions.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "kept fields for {} records, predictions for {}",
                    kept.len(),
                    predictions.len()
                ),
            ));
        }
        let lines = &self.lines;
        let no_fields: &[Vec<serde_json::Value>] = &[];
        let chunks: Vec<io::Result<Vec<u8>>> = predictions
            .par_chunks(FORMAT_CHUNK)
            .enumerate()
            .map(|(n, chunk)| {
                let kept = if kept.is_empty() {
                    no_fields
                } else {
                    &kept[n * FORMAT_CHUNK..n * FORMAT_CHUNK + chunk.len()]
                };
                lines.format(chunk, kept)
            })
            .collect();
        for bytes in chunks {
            self.out.write_all(&bytes?)?;
        }
        Ok(())
    }

    /// Flush buffered output.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl LineFormat {
    /// The bytes of `predictions`, one line (or row) each, after their `kept` values (or
    /// none, when `kept` is empty).
    fn format(
        &self,
        predictions: &[Prediction],
        kept: &[Vec<serde_json::Value>],
    ) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::with_capacity(predictions.len() * 64);
        let kept_of = |i: usize| kept.get(i).map_or(&[][..], Vec::as_slice);
        match self.format {
            OutputFormat::Jsonl => {
                for (i, prediction) in predictions.iter().enumerate() {
                    // The bytes of `json!({"label": …, "probs": {label: p}})`, without
                    // building that value.
                    bytes.push(b'{');
                    for (key, value) in self.kept_keys.iter().zip(kept_of(i)) {
                        bytes.extend_from_slice(key);
                        serde_json::to_writer(&mut bytes, value)?;
                        bytes.push(b',');
                    }
                    bytes.extend_from_slice(b"\"label\":");
                    serde_json::to_writer(&mut bytes, &prediction.label)?;
                    bytes.extend_from_slice(b",\"probs\":{");
                    for (n, (i, key)) in self.json_keys.iter().enumerate() {
                        if n > 0 {
                            bytes.push(b',');
                        }
                        bytes.extend_from_slice(key);
                        serde_json::to_writer(&mut bytes, &prediction.probs[*i])?;
                    }
                    bytes.push(b'}');
                    if let (true, Some(explanation)) = (self.explain, &prediction.explanation) {
                        bytes.extend_from_slice(b",\"baseline\":");
                        serde_json::to_writer(&mut bytes, &explanation.baseline)?;
                        bytes.extend_from_slice(b",\"evidence\":");
                        serde_json::to_writer(&mut bytes, &explanation.evidence)?;
                    }
                    bytes.extend_from_slice(b"}\n");
                }
            }
            OutputFormat::Csv | OutputFormat::Tsv => {
                let mut w = delimited_writer(&mut bytes, self.format);
                for (i, prediction) in predictions.iter().enumerate() {
                    let mut record: Vec<String> = kept_of(i)
                        .iter()
                        .map(|value| match value {
                            serde_json::Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    record.push(prediction.label.clone());
                    record.extend(prediction.probs.iter().map(|p| p.to_string()));
                    if self.explain {
                        let explanation = prediction.explanation.as_ref();
                        record.push(explanation.map_or(String::new(), |e| e.baseline.to_string()));
                        record.push(
                            explanation.map_or(String::new(), |e| evidence_cell(&e.evidence)),
                        );
                    }
                    w.write_record(&record)?;
                }
                w.flush()?;
            }
            OutputFormat::Labels => {
                for prediction in predictions {
                    bytes.extend_from_slice(prediction.label.as_bytes());
                    bytes.push(b'\n');
                }
            }
        }
        Ok(bytes)
    }
}

/// `+0.412 sanctions, −0.120 talks`: each item's contribution formatted by `number`, then
/// its feature, joined by `separator`.
pub fn join_evidence(
    evidence: &[Evidence],
    separator: &str,
    number: impl Fn(f64) -> String,
) -> String {
    evidence
        .iter()
        .map(|e| format!("{} {}", number(e.contribution), e.feature))
        .collect::<Vec<_>>()
        .join(separator)
}

/// Evidence in one CSV or TSV cell: `+0.4120 sanctions; -0.1200 talks`.
pub fn evidence_cell(evidence: &[Evidence]) -> String {
    join_evidence(evidence, "; ", |c| format!("{c:+.4}"))
}

/// The columns (CSV, TSV) or keys (JSON lines) of [`write_sentences`]: a sentence's place,
/// its text, and an empty `label` to fill in.
pub const SENTENCE_FIELDS: [&str; 6] = ["source", "sentence", "start", "end", "text", "label"];

/// Write sentences to label in `format` (JSON lines, CSV or TSV with a header; not one label
/// per line, which has no room for them), each with an empty `label` ([`SENTENCE_FIELDS`]):
/// once labelled, the file is training data, its `source` the group to keep together
/// (`stance train --group-field source`).
pub fn write_sentences(
    out: impl Write,
    format: OutputFormat,
    sentences: &[SentenceRecord],
) -> io::Result<()> {
    let row = |s: &SentenceRecord| {
        [
            s.source.clone(),
            s.sentence.to_string(),
            s.start.to_string(),
            s.end.to_string(),
            s.text.clone(),
            String::new(),
        ]
    };
    match format {
        OutputFormat::Labels => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "one label per line has no room for sentences: write JSON lines, CSV or TSV",
        )),
        OutputFormat::Jsonl => {
            /// A sentence with its label to fill in, keys in [`SENTENCE_FIELDS`] order.
            #[derive(serde::Serialize)]
            struct ToLabel<'a> {
                #[serde(flatten)]
                sentence: &'a SentenceRecord,
                label: &'a str,
            }
            let mut out = out;
            for sentence in sentences {
                serde_json::to_writer(
                    &mut out,
                    &ToLabel {
                        sentence,
                        label: "",
                    },
                )?;
                out.write_all(b"\n")?;
            }
            out.flush()
        }
        OutputFormat::Csv | OutputFormat::Tsv => {
            let mut writer = delimited_writer(out, format);
            writer.write_record(SENTENCE_FIELDS)?;
            for s in sentences {
                writer.write_record(row(s))?;
            }
            writer.flush()
        }
    }
}

/// Write the records coders disagree on ([`crate::agreement::Unit::is_disagreement`]), for adjudication, in
/// `format` (JSON lines, CSV or TSV): the key fields (or `record`, the 1-based position),
/// `text`, each coder's label under the coder's file name (empty when not coded), and an
/// empty `label` for the adjudicated one, so that the file can be filled in and trained on.
pub fn write_disagreements(
    out: impl Write,
    format: OutputFormat,
    aligned: &Aligned,
) -> io::Result<()> {
    let mut columns: Vec<String> = if aligned.key_fields.is_empty() {
        vec!["record".to_string()]
    } else {
        aligned.key_fields.clone()
    };
    columns.push("text".into());
    columns.extend(aligned.coders.iter().map(|c| c.display().to_string()));
    columns.push("label".into());
    let rows = aligned
        .units
        .iter()
        .enumerate()
        .filter(|(_, unit)| unit.is_disagreement())
        .map(|(i, unit)| {
            let mut row: Vec<Option<String>> = if unit.key.is_empty() {
                vec![Some((i + 1).to_string())]
            } else {
                unit.key.iter().cloned().map(Some).collect()
            };
            row.push(Some(unit.text.clone()));
            row.extend(
                unit.values
                    .iter()
                    .map(|v| v.map(|v| aligned.labels[v].clone())),
            );
            row.push(Some(String::new()));
            row
        });
    match format {
        OutputFormat::Labels => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "one label per line has no room for disagreements: write JSON lines, CSV or TSV",
        )),
        OutputFormat::Jsonl => {
            let mut out = out;
            for row in rows {
                // Keys in column order (a JSON object from serde_json's map would sort them);
                // a label not coded is null. The position is a number.
                let fields: Vec<String> = columns
                    .iter()
                    .zip(&row)
                    .enumerate()
                    .map(|(c, (column, value))| {
                        let value = match value {
                            Some(v) if c == 0 && aligned.key_fields.is_empty() => v.clone(),
                            Some(v) => serde_json::to_string(v).expect("a string serialises"),
                            None => "null".to_string(),
                        };
                        format!(
                            "{}:{value}",
                            serde_json::to_string(column).expect("a string serialises")
                        )
                    })
                    .collect();
                writeln!(out, "{{{}}}", fields.join(","))?;
            }
            out.flush()
        }
        OutputFormat::Csv | OutputFormat::Tsv => {
            let mut writer = delimited_writer(out, format);
            writer.write_record(&columns)?;
            for row in rows {
                writer.write_record(row.iter().map(|v| v.as_deref().unwrap_or("")))?;
            }
            writer.flush()
        }
    }
}

/// A CSV or TSV writer over `out`, in the form `stance` reads back ([`crate::corpus`]).
///
/// CSV is quoted as `csv` quotes it. TSV has no quoting: a field is taken as it stands
/// between tabs, so a text that starts with a quotation mark reads as written (as tweets
/// often do). A tab or line break inside a field cannot be written that way and becomes a
/// space, which splits words as it did; nothing else is changed.
pub struct DelimitedWriter<W: Write> {
    inner: csv::Writer<W>,
    tsv: bool,
}

/// A [`DelimitedWriter`] for `format` (CSV or TSV) over `out`.
pub fn delimited_writer<W: Write>(out: W, format: OutputFormat) -> DelimitedWriter<W> {
    let tsv = format == OutputFormat::Tsv;
    let inner = if tsv {
        csv::WriterBuilder::new()
            .delimiter(b'\t')
            .quote_style(csv::QuoteStyle::Never)
            .from_writer(out)
    } else {
        csv::Writer::from_writer(out)
    };
    DelimitedWriter { inner, tsv }
}

impl<W: Write> DelimitedWriter<W> {
    /// Write one record; csv's I/O errors come back unwrapped, so that a closed pipe stays
    /// recognisable.
    pub fn write_record<I, T>(&mut self, record: I) -> io::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        if !self.tsv {
            return self.inner.write_record(record).map_err(csv_io_error);
        }
        for field in record {
            self.inner
                .write_field(tsv_field(field.as_ref()))
                .map_err(csv_io_error)?;
        }
        // An empty record after fields ends the record they make.
        self.inner.write_record(None::<&[u8]>).map_err(csv_io_error)
    }

    /// Flush what is buffered to the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `field` with each tab, carriage return and line feed replaced by a space.
fn tsv_field(field: &[u8]) -> Cow<'_, [u8]> {
    let breaks = |b: &u8| matches!(b, b'\t' | b'\r' | b'\n');
    if !field.iter().any(breaks) {
        return Cow::Borrowed(field);
    }
    Cow::Owned(
        field
            .iter()
            .map(|b| if breaks(b) { b' ' } else { *b })
            .collect(),
    )
}

/// csv's errors as I/O errors, so that a closed pipe stays recognisable.
fn csv_io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::Explanation;

    /// What `write_all` produced into a shared buffer.
    fn written(format: OutputFormat, labels: &[String], predictions: &[Prediction]) -> String {
        written_as(format, labels, predictions, &Extras::default(), &[])
    }

    /// What `write_all` produced with explanations asked for.
    fn written_explained(
        format: OutputFormat,
        labels: &[String],
        predictions: &[Prediction],
    ) -> String {
        let extras = Extras {
            explain: true,
            ..Extras::default()
        };
        written_as(format, labels, predictions, &extras, &[])
    }

    /// What `write_all_keeping` produced.
    fn written_as(
        format: OutputFormat,
        labels: &[String],
        predictions: &[Prediction],
        extras: &Extras,
        kept: &[Vec<serde_json::Value>],
    ) -> String {
        #[derive(Clone, Default)]
        struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let shared = Shared::default();
        let mut w =
            PredictionWriter::new(Box::new(shared.clone()), format, labels, extras).unwrap();
        w.write_all_keeping(predictions, kept).unwrap();
        w.flush().unwrap();
        let bytes = shared.0.lock().unwrap().clone();
        String::from_utf8(bytes).unwrap()
    }

    fn example() -> (Vec<String>, Vec<Prediction>) {
        // Labels out of text order, with characters JSON and CSV must escape.
        let labels: Vec<String> = ["zeta", "a\"b", "é,x", "A\\n"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let predictions = (0..2500)
            .map(|i| {
                let p = i as f64 / 2500.0;
                let mut probs = vec![p, 1.0 - p, 1e-300, 0.25];
                if i == 7 {
                    probs[2] = f64::NAN;
                }
                Prediction {
                    label: labels[i % 4].clone(),
                    probs,
                    explanation: None,
                }
            })
            .collect();
        (labels, predictions)
    }

    #[test]
    fn json_lines_are_what_serde_json_writes_for_the_same_value() {
        let (labels, predictions) = example();
        let expected: String = predictions
            .iter()
            .map(|p| {
                let probs: serde_json::Map<String, serde_json::Value> = labels
                    .iter()
                    .zip(&p.probs)
                    .map(|(l, v)| (l.clone(), serde_json::json!(v)))
                    .collect();
                format!(
                    "{}\n",
                    serde_json::json!({"label": p.label, "probs": probs})
                )
            })
            .collect();
        assert_eq!(
            written(OutputFormat::Jsonl, &labels, &predictions),
            expected
        );
    }

    #[test]
    fn explanations_are_json_members_and_last_columns_when_asked_for() {
        let (labels, mut predictions) = example();
        for (i, p) in predictions.iter_mut().enumerate() {
            // Every third prediction has no evidence, which is written as an empty list,
            // and every fifth no explanation at all, which is written as nothing.
            p.explanation = (i % 5 != 4).then(|| Explanation {
                baseline: i as f64 / 7.0 - 1.0,
                evidence: (0..i % 3)
                    .map(|k| Evidence {
                        feature: format!("n\"gram, {k}"),
                        contribution: (k as f64 - 0.5) / (i + 1) as f64,
                    })
                    .collect(),
            });
        }
        let jsonl = written_explained(OutputFormat::Jsonl, &labels, &predictions);
        assert_eq!(jsonl.lines().count(), predictions.len());
        for (line, p) in jsonl.lines().zip(&predictions) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["label"], serde_json::json!(p.label));
            match &p.explanation {
                Some(e) => {
                    assert_eq!(value["baseline"], serde_json::json!(e.baseline), "{line}");
                    assert_eq!(value["evidence"], serde_json::json!(e.evidence), "{line}");
                }
                None => assert!(value.get("baseline").is_none() && value.get("evidence").is_none()),
            }
        }
        for (format, delimiter) in [(OutputFormat::Csv, b','), (OutputFormat::Tsv, b'\t')] {
            let text = written_explained(format, &labels, &predictions);
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .from_reader(text.as_bytes());
            let header: Vec<&str> = reader.headers().unwrap().iter().skip(5).collect();
            assert_eq!(header, ["baseline", "evidence"]);
            let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            assert_eq!(rows.len(), predictions.len());
            for (row, p) in rows.iter().zip(&predictions) {
                match &p.explanation {
                    Some(e) => {
                        assert_eq!(row[5].parse::<f64>().unwrap(), e.baseline);
                        assert_eq!(&row[6], evidence_cell(&e.evidence));
                    }
                    None => assert_eq!((&row[5], &row[6]), ("", "")),
                }
            }
        }
        assert_eq!(
            evidence_cell(&predictions[2].explanation.as_ref().unwrap().evidence),
            "-0.1667 n\"gram, 0; +0.1667 n\"gram, 1"
        );
        let explain = Extras {
            explain: true,
            ..Extras::default()
        };
        let err = PredictionWriter::new(
            Box::new(io::sink()),
            OutputFormat::Labels,
            &labels,
            &explain,
        )
        .err()
        .expect("refused");
        assert!(err.to_string().contains("no room for the evidence"));
    }

    #[test]
    fn kept_fields_come_first_as_json_values_or_cells() {
        let (labels, predictions) = example();
        let extras = Extras {
            kept_fields: vec!["id".into(), "when, \"quoted\"".into()],
            explain: false,
        };
        // Across chunk boundaries: each record's own values.
        let kept: Vec<Vec<serde_json::Value>> = (0..predictions.len())
            .map(|i| {
                vec![
                    serde_json::json!(i),
                    if i % 2 == 0 {
                        serde_json::json!(format!("day, {i}"))
                    } else {
                        serde_json::json!({"nested": [i, null]})
                    },
                ]
            })
            .collect();
        let plain = written(OutputFormat::Jsonl, &labels, &predictions);
        let jsonl = written_as(OutputFormat::Jsonl, &labels, &predictions, &extras, &kept);
        for ((line, plain_line), values) in jsonl.lines().zip(plain.lines()).zip(&kept) {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(value["id"], values[0]);
            assert_eq!(value["when, \"quoted\""], values[1]);
            // The rest is the line written without kept fields.
            let mut rest = value.as_object().unwrap().clone();
            for field in &extras.kept_fields {
                rest.remove(field);
            }
            let plain_value: serde_json::Value = serde_json::from_str(plain_line).unwrap();
            assert_eq!(serde_json::Value::Object(rest), plain_value);
        }
        assert_eq!(jsonl.lines().count(), predictions.len());
        assert!(jsonl.starts_with("{\"id\":0,\"when, \\\"quoted\\\"\":\"day, 0\",\"label\":"));

        let text = written_as(OutputFormat::Csv, &labels, &predictions, &extras, &kept);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header[..3], ["id", "when, \"quoted\"", "label"]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), predictions.len());
        for (i, row) in rows.iter().enumerate() {
            assert_eq!(&row[0], i.to_string());
            let expected = match &kept[i][1] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(&row[1], expected);
            assert_eq!(&row[2], predictions[i].label);
        }
    }

    #[test]
    fn kept_values_for_other_records_are_refused() {
        let (labels, predictions) = example();
        let extras = Extras {
            kept_fields: vec!["id".into()],
            explain: false,
        };
        let mut w =
            PredictionWriter::new(Box::new(io::sink()), OutputFormat::Csv, &labels, &extras)
                .unwrap();
        let kept = vec![vec![serde_json::json!(1)]; predictions.len() - 1];
        let err = w.write_all_keeping(&predictions, &kept).unwrap_err();
        assert_eq!(
            err.to_string(),
            "kept fields for 2499 records, predictions for 2500"
        );
    }

    #[test]
    fn a_kept_field_may_not_take_the_name_of_another_field() {
        let labels: Vec<String> = vec!["no".into(), "yes".into()];
        let keep = |fields: &[&str], explain: bool| Extras {
            kept_fields: fields.iter().map(|f| f.to_string()).collect(),
            explain,
        };
        let check = |format: OutputFormat, extras: &Extras| {
            format
                .check_extras(&labels, extras)
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(
            check(OutputFormat::Jsonl, &keep(&["id", "date"], true)),
            None
        );
        for (format, fields, explain, problem) in [
            (
                OutputFormat::Jsonl,
                &["label"][..],
                false,
                "the kept field `label` has the name of the output's own `label`",
            ),
            (OutputFormat::Jsonl, &["probs"][..], false, "own `probs`"),
            (OutputFormat::Csv, &["p_yes"][..], false, "own `p_yes`"),
            (OutputFormat::Tsv, &["evidence"][..], true, "own `evidence`"),
            (
                OutputFormat::Jsonl,
                &["id", "id"][..],
                false,
                "the field `id` is kept twice",
            ),
            (
                OutputFormat::Labels,
                &["id"][..],
                false,
                "one label per line has no room for the kept field `id`",
            ),
        ] {
            let found = check(format, &keep(fields, explain));
            assert!(
                found.as_deref().is_some_and(|f| f.contains(problem)),
                "{format:?} {fields:?}: {found:?}"
            );
        }
        // `p_yes` and `evidence` are other fields' names only where those fields exist.
        assert_eq!(
            check(OutputFormat::Jsonl, &keep(&["p_yes", "evidence"], false)),
            None
        );
    }

    #[test]
    fn labels_are_one_per_line_in_input_order() {
        let labels: Vec<String> = ["zeta", "a\"b", "é,x"].map(String::from).to_vec();
        let predictions: Vec<Prediction> = (0..2500)
            .map(|i| Prediction {
                label: labels[i % 3].clone(),
                probs: vec![0.2, 0.3, 0.5],
                explanation: None,
            })
            .collect();
        let expected: String = predictions
            .iter()
            .map(|p| format!("{}\n", p.label))
            .collect();
        assert_eq!(
            written(OutputFormat::Labels, &labels, &predictions),
            expected
        );
    }

    #[test]
    fn a_label_with_a_line_break_is_refused_one_per_line() {
        let labels = vec!["fine".to_string(), "two\nlines".to_string()];
        let err = PredictionWriter::new(
            Box::new(io::sink()),
            OutputFormat::Labels,
            &labels,
            &Extras::default(),
        )
        .err()
        .expect("refused");
        assert!(err
            .to_string()
            .contains("\"two\\nlines\" contains a line break"));
        assert!(PredictionWriter::new(
            Box::new(io::sink()),
            OutputFormat::Jsonl,
            &labels,
            &Extras::default()
        )
        .is_ok());
    }

    #[test]
    fn delimited_rows_keep_input_order_across_chunks() {
        let (labels, predictions) = example();
        for (format, delimiter) in [(OutputFormat::Csv, b','), (OutputFormat::Tsv, b'\t')] {
            let text = written(format, &labels, &predictions);
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .from_reader(text.as_bytes());
            let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
            assert_eq!(header, ["label", "p_zeta", "p_a\"b", "p_é,x", "p_A\\n"]);
            let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            assert_eq!(rows.len(), predictions.len());
            for (row, p) in rows.iter().zip(&predictions) {
                assert_eq!(&row[0], p.label);
                assert_eq!(row[1].parse::<f64>().unwrap(), p.probs[0]);
            }
        }
    }
}
