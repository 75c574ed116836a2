//! Writing predictions: JSON lines (`{"label": …, "probs": {label: p}}`), or CSV / TSV rows
//! (`label`, then `p_<label>` per label), one per input record, in input order.

use std::io::{self, Write};
use std::path::Path;

use serde_json::json;

use crate::classifier::Prediction;

/// The formats predictions can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Jsonl,
    Csv,
    Tsv,
}

impl OutputFormat {
    /// The format a file name asks for: `.jsonl`/`.ndjson`/`.json`, `.csv`, `.tsv`/`.tab`.
    pub fn from_path(path: &Path) -> Option<OutputFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "jsonl" | "ndjson" | "json" => OutputFormat::Jsonl,
            "csv" => OutputFormat::Csv,
            "tsv" | "tab" => OutputFormat::Tsv,
            _ => return None,
        })
    }
}

/// Writes predictions one at a time in one of the [`OutputFormat`]s.
pub enum PredictionWriter {
    Lines(Box<dyn Write>),
    Delimited(Box<csv::Writer<Box<dyn Write>>>),
}

impl PredictionWriter {
    /// A writer for `labels` (the classifier's label order); CSV and TSV start with a header.
    pub fn new(
        writer: Box<dyn Write>,
        format: OutputFormat,
        labels: &[String],
    ) -> io::Result<Self> {
        Ok(match format {
            OutputFormat::Jsonl => PredictionWriter::Lines(writer),
            OutputFormat::Csv | OutputFormat::Tsv => {
                let delimiter = if format == OutputFormat::Csv {
                    b','
                } else {
                    b'\t'
                };
                let mut w = csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .from_writer(writer);
                let mut header = vec!["label".to_string()];
                header.extend(labels.iter().map(|l| format!("p_{l}")));
                w.write_record(&header).map_err(csv_io_error)?;
                PredictionWriter::Delimited(Box::new(w))
            }
        })
    }

    /// Write one prediction.
    pub fn write(&mut self, labels: &[String], prediction: &Prediction) -> io::Result<()> {
        match self {
            PredictionWriter::Lines(out) => {
                let probs: serde_json::Map<String, serde_json::Value> = labels
                    .iter()
                    .zip(&prediction.probs)
                    .map(|(l, p)| (l.clone(), json!(p)))
                    .collect();
                let line = json!({"label": prediction.label, "probs": probs});
                writeln!(out, "{line}")
            }
            PredictionWriter::Delimited(w) => {
                let mut record = vec![prediction.label.clone()];
                record.extend(prediction.probs.iter().map(|p| p.to_string()));
                w.write_record(&record).map_err(csv_io_error)
            }
        }
    }

    /// Flush buffered output.
    pub fn flush(&mut self) -> io::Result<()> {
        match self {
            PredictionWriter::Lines(out) => out.flush(),
            PredictionWriter::Delimited(w) => w.flush(),
        }
    }
}

/// csv's errors as I/O errors, so that a closed pipe stays recognisable.
fn csv_io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}
