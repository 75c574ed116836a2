//! Write a deterministic synthetic labelled corpus as JSON lines, for scale runs.
//!
//! ```sh
//! cargo run --release --example synthetic_corpus -- --documents 1000000 --classes 10 > big.jsonl
//! ```

use std::io::{self, BufWriter};

use clap::Parser;
use stance::synthetic::{SyntheticConfig, SyntheticCorpus};

/// Write a synthetic corpus (class-conditional Zipfian pseudo-words) to standard output.
#[derive(Parser)]
struct Args {
    /// Number of documents.
    #[arg(long, default_value_t = 10_000)]
    documents: usize,
    /// Number of classes.
    #[arg(long, default_value_t = 10)]
    classes: usize,
    /// Vocabulary size.
    #[arg(long, default_value_t = 50_000)]
    vocabulary: usize,
    /// Mean words per document.
    #[arg(long, default_value_t = 30.0)]
    mean_words: f64,
    /// Share of words drawn from the document's class distribution.
    #[arg(long, default_value_t = 0.15)]
    topicality: f64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn main() -> io::Result<()> {
    let args = Args::parse();
    let corpus = SyntheticCorpus::new(SyntheticConfig {
        documents: args.documents,
        classes: args.classes.max(2),
        vocabulary: args.vocabulary.max(10),
        mean_words: args.mean_words,
        topicality: args.topicality,
        seed: args.seed,
    });
    let stdout = io::stdout();
    corpus.write_jsonl(&mut BufWriter::new(stdout.lock()))
}
