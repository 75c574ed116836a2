//! Vectorising: tokens → word and character n-grams → TF-IDF weights, as a sparse CSR matrix.
//!
//! Two *views* of each document are built: word n-grams (default 1–2) and character n-grams
//! taken inside word boundaries (each token padded with a space on both sides, as
//! scikit-learn's `char_wb`; default 2–5). Each view has its own vocabulary and IDF, fitted on
//! training data only. Weights are `tf · idf` with sublinear `tf = 1 + ln(count)` (optional)
//! and smoothed `idf = ln((1 + n) / (1 + df)) + 1`. Each view's part of a row is scaled to
//! unit L2 norm and the non-empty views are then weighted equally, so every row has L2
//! norm 1 (or 0 when no n-gram of it is in the vocabulary).

use rustc_hash::FxHashMap as HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::sparse::CsrMatrix;
use crate::tokenize::{AnalyzerKind, TokenBuffer};

/// Documents per parallel task; fixed so results never depend on the thread count.
const DOC_BLOCK: usize = 1024;

/// A document-frequency threshold: an absolute count of documents or a fraction of them.
/// Written as on the command line: `2` is a count, `1.0` or `0.5` a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum DocFreq {
    /// At least / at most this many documents.
    Count(u32),
    /// At least / at most this fraction of the documents (0–1].
    Fraction(f64),
}

impl DocFreq {
    /// The threshold as a document count for a corpus of `n_docs`.
    fn as_count(self, n_docs: usize) -> f64 {
        match self {
            DocFreq::Count(c) => c as f64,
            DocFreq::Fraction(f) => f * n_docs as f64,
        }
    }
}

impl std::str::FromStr for DocFreq {
    type Err = String;
    /// `"2"` is a count, `"0.5"` a fraction.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if let Ok(count) = s.parse::<u32>() {
            return Ok(DocFreq::Count(count));
        }
        match s.parse::<f64>() {
            Ok(f) if f > 0.0 && f <= 1.0 => Ok(DocFreq::Fraction(f)),
            _ => Err(format!(
                "`{s}` is neither a document count (2) nor a fraction in (0, 1] (0.9)"
            )),
        }
    }
}

impl From<DocFreq> for String {
    fn from(d: DocFreq) -> String {
        d.to_string()
    }
}

impl TryFrom<String> for DocFreq {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        s.parse()
    }
}

impl std::fmt::Display for DocFreq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DocFreq::Count(c) => write!(f, "{c}"),
            DocFreq::Fraction(x) => write!(f, "{x:?}"),
        }
    }
}

/// An inclusive n-gram length range such as 1–2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NgramRange {
    pub min: usize,
    pub max: usize,
}

impl std::str::FromStr for NgramRange {
    type Err = String;
    /// `"1-2"`, `"1..2"`, `"1,2"` or a single length `"3"`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let parts: Vec<&str> = s.split(['-', ',', '.']).filter(|p| !p.is_empty()).collect();
        let parse = |p: &str| {
            p.trim()
                .parse::<usize>()
                .map_err(|_| format!("`{s}` is not an n-gram range like 1-2"))
        };
        let (min, max) = match parts.as_slice() {
            [one] => (parse(one)?, parse(one)?),
            [lo, hi] => (parse(lo)?, parse(hi)?),
            _ => return Err(format!("`{s}` is not an n-gram range like 1-2")),
        };
        if min == 0 || min > max || max > 16 {
            return Err(format!(
                "n-gram range `{s}` must satisfy 1 ≤ min ≤ max ≤ 16"
            ));
        }
        Ok(NgramRange { min, max })
    }
}

impl std::fmt::Display for NgramRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.min, self.max)
    }
}

/// The kinds of n-gram view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ViewKind {
    /// Sequences of whole tokens, joined by a space.
    Word,
    /// Character sequences inside a space-padded token.
    Char,
}

/// How documents become vectors. Stored in model files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorizerConfig {
    /// Text → tokens.
    pub analyzer: AnalyzerKind,
    /// Word n-gram lengths, or `None` for no word view.
    pub word_ngrams: Option<NgramRange>,
    /// Character n-gram lengths (inside word boundaries), or `None` for no character view.
    pub char_ngrams: Option<NgramRange>,
    /// Drop n-grams in fewer documents than this.
    pub min_df: DocFreq,
    /// Drop n-grams in more documents than this.
    pub max_df: DocFreq,
    /// Keep at most this many n-grams per view, the most frequent (by document count).
    pub max_features: Option<usize>,
    /// Use `1 + ln(count)` instead of the raw count.
    pub sublinear_tf: bool,
}

impl Default for VectorizerConfig {
    fn default() -> Self {
        VectorizerConfig {
            analyzer: AnalyzerKind::default(),
            word_ngrams: Some(NgramRange { min: 1, max: 2 }),
            char_ngrams: Some(NgramRange { min: 2, max: 5 }),
            min_df: DocFreq::Count(2),
            max_df: DocFreq::Fraction(1.0),
            max_features: None,
            sublinear_tf: true,
        }
    }
}

impl VectorizerConfig {
    /// A rough upper estimate of the distinct n-grams stored per byte of input text, for
    /// memory planning: a word n-gram per length per token (~6 bytes), and per character
    /// n-gram length about one n-gram per byte.
    pub fn ngrams_per_input_byte(&self) -> f64 {
        let lengths = |r: Option<NgramRange>| r.map_or(0.0, |r| (r.max - r.min + 1) as f64);
        lengths(self.word_ngrams) / 6.0 + lengths(self.char_ngrams)
    }

    /// Check the options before any work is done.
    pub fn validate(&self) -> Result<()> {
        if self.word_ngrams.is_none() && self.char_ngrams.is_none() {
            return Err(Error::InvalidOption(
                "both word and character n-grams are disabled: enable at least one view".into(),
            ));
        }
        if let DocFreq::Fraction(f) = self.max_df {
            if !(f > 0.0 && f <= 1.0) {
                return Err(Error::InvalidOption(format!(
                    "max_df fraction {f} is not in (0, 1]"
                )));
            }
        }
        if self.max_features == Some(0) {
            return Err(Error::InvalidOption(
                "max_features must be at least 1".into(),
            ));
        }
        Ok(())
    }

    fn views(&self) -> Vec<(ViewKind, NgramRange)> {
        let mut views = Vec::new();
        if let Some(r) = self.word_ngrams {
            views.push((ViewKind::Word, r));
        }
        if let Some(r) = self.char_ngrams {
            views.push((ViewKind::Char, r));
        }
        views
    }
}

/// One fitted view: its vocabulary (sorted), IDF weights and first column.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct View {
    pub kind: ViewKind,
    pub range: NgramRange,
    /// The n-grams, in column order (lexicographic).
    pub vocabulary: Vec<String>,
    /// IDF weight of each n-gram.
    pub idf: Vec<f32>,
    /// Column of this view's first n-gram in the combined matrix.
    pub offset: u32,
    #[serde(skip)]
    index: HashMap<String, u32>,
}

impl View {
    fn rebuild_index(&mut self) {
        self.index = self
            .vocabulary
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect();
    }
}

/// A fitted TF-IDF vectoriser.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TfidfVectorizer {
    pub config: VectorizerConfig,
    pub views: Vec<View>,
    /// Number of training documents the IDF was computed from.
    pub n_train_docs: usize,
}

/// Call `emit` with every n-gram of `tokens` for one view, reusing `scratch`.
fn for_each_ngram(
    kind: ViewKind,
    range: NgramRange,
    tokens: &TokenBuffer,
    scratch: &mut String,
    char_starts: &mut Vec<usize>,
    emit: &mut impl FnMut(&str),
) {
    match kind {
        ViewKind::Word => {
            let n_tokens = tokens.len();
            for n in range.min..=range.max.min(n_tokens) {
                for start in 0..=n_tokens - n {
                    if n == 1 {
                        emit(tokens.get(start));
                        continue;
                    }
                    scratch.clear();
                    for i in start..start + n {
                        if i > start {
                            scratch.push(' ');
                        }
                        scratch.push_str(tokens.get(i));
                    }
                    emit(scratch);
                }
            }
        }
        ViewKind::Char => {
            for token in tokens.iter() {
                scratch.clear();
                scratch.push(' ');
                scratch.push_str(token);
                scratch.push(' ');
                char_starts.clear();
                char_starts.extend(scratch.char_indices().map(|(i, _)| i));
                char_starts.push(scratch.len());
                let n_chars = char_starts.len() - 1;
                for n in range.min..=range.max {
                    if n >= n_chars {
                        // As scikit-learn's char_wb: a padded word no longer than n
                        // counts once, whole.
                        emit(scratch);
                        break;
                    }
                    for start in 0..=n_chars - n {
                        emit(&scratch[char_starts[start]..char_starts[start + n]]);
                    }
                }
            }
        }
    }
}

/// Per-document term counts of one block of documents, against a block-local interner.
struct BlockCounts {
    terms: Vec<String>,
    /// For each view, for each document, (local term id, count) sorted by id.
    docs: Vec<Vec<Vec<(u32, u32)>>>,
}

fn count_block(texts: &[String], config: &VectorizerConfig) -> BlockCounts {
    let analyzer = config.analyzer.build();
    let views = config.views();
    let mut interner: HashMap<String, u32> = HashMap::default();
    let mut terms: Vec<String> = Vec::new();
    let mut docs = vec![Vec::with_capacity(texts.len()); views.len()];
    let mut tokens = TokenBuffer::default();
    let mut scratch = String::new();
    let mut char_starts = Vec::new();
    let mut ids: Vec<u32> = Vec::new();
    for text in texts {
        analyzer.analyze(text, &mut tokens);
        for (v, &(kind, range)) in views.iter().enumerate() {
            ids.clear();
            for_each_ngram(
                kind,
                range,
                &tokens,
                &mut scratch,
                &mut char_starts,
                &mut |gram| {
                    // One interner serves all views: ids are per string, counts are per view.
                    let id = match interner.get(gram) {
                        Some(&id) => id,
                        None => {
                            let id = terms.len() as u32;
                            interner.insert(gram.to_string(), id);
                            terms.push(gram.to_string());
                            id
                        }
                    };
                    ids.push(id);
                },
            );
            docs[v].push(run_length(&mut ids));
        }
    }
    BlockCounts { terms, docs }
}

/// Sort ids and count repeats: [(id, count)] in id order.
fn run_length(ids: &mut [u32]) -> Vec<(u32, u32)> {
    ids.sort_unstable();
    let mut out: Vec<(u32, u32)> = Vec::new();
    for &id in ids.iter() {
        match out.last_mut() {
            Some((last, count)) if *last == id => *count += 1,
            _ => out.push((id, 1)),
        }
    }
    out
}

impl TfidfVectorizer {
    /// Fit the vocabulary and IDF on `texts` and return the fitted vectoriser together with
    /// the training matrix, tokenising every text once.
    pub fn fit_transform(config: &VectorizerConfig, texts: &[String]) -> Result<(Self, CsrMatrix)> {
        config.validate()?;
        let n_docs = texts.len();
        let blocks: Vec<BlockCounts> = texts
            .par_chunks(DOC_BLOCK)
            .map(|chunk| count_block(chunk, config))
            .collect();
        let view_specs = config.views();
        let n_views = view_specs.len();

        // Merge block interners into one global id space per view (in block order).
        let mut views = Vec::with_capacity(n_views);
        let mut global_maps: Vec<Vec<Vec<u32>>> = vec![Vec::new(); n_views]; // view → block → local → global
        let mut offset = 0u32;
        for (v, &(kind, range)) in view_specs.iter().enumerate() {
            let mut global: HashMap<&str, u32> = HashMap::default();
            let mut names: Vec<&str> = Vec::new();
            let mut df: Vec<u32> = Vec::new();
            for block in &blocks {
                let mut local_to_global = vec![u32::MAX; block.terms.len()];
                for doc in &block.docs[v] {
                    for &(local, _) in doc {
                        let slot = &mut local_to_global[local as usize];
                        if *slot == u32::MAX {
                            let name = block.terms[local as usize].as_str();
                            *slot = *global.entry(name).or_insert_with(|| {
                                names.push(name);
                                df.push(0);
                                (names.len() - 1) as u32
                            });
                        }
                        df[*slot as usize] += 1;
                    }
                }
                global_maps[v].push(local_to_global);
            }

            // Prune by document frequency, then cap the vocabulary size.
            let min_df = config.min_df.as_count(n_docs);
            let max_df = config.max_df.as_count(n_docs);
            let mut kept: Vec<u32> = (0..names.len() as u32)
                .filter(|&g| {
                    let d = df[g as usize] as f64;
                    d >= min_df && d <= max_df
                })
                .collect();
            if let Some(cap) = config.max_features {
                if kept.len() > cap {
                    kept.sort_by(|&a, &b| {
                        df[b as usize]
                            .cmp(&df[a as usize])
                            .then_with(|| names[a as usize].cmp(names[b as usize]))
                    });
                    kept.truncate(cap);
                }
            }
            kept.sort_by(|&a, &b| names[a as usize].cmp(names[b as usize]));

            let mut column_of_global = vec![u32::MAX; names.len()];
            for (col, &g) in kept.iter().enumerate() {
                column_of_global[g as usize] = col as u32;
            }
            // Rewrite local → global maps into local → column (u32::MAX = dropped).
            for map in global_maps[v].iter_mut() {
                for slot in map.iter_mut() {
                    if *slot != u32::MAX {
                        *slot = column_of_global[*slot as usize];
                    }
                }
            }
            let idf = kept
                .iter()
                .map(|&g| smoothed_idf(n_docs, df[g as usize]))
                .collect();
            let mut view = View {
                kind,
                range,
                vocabulary: kept
                    .iter()
                    .map(|&g| names[g as usize].to_string())
                    .collect(),
                idf,
                offset,
                index: HashMap::default(),
            };
            view.rebuild_index();
            offset += view.vocabulary.len() as u32;
            views.push(view);
        }

        let vectorizer = TfidfVectorizer {
            config: config.clone(),
            views,
            n_train_docs: n_docs,
        };
        if vectorizer.n_features() == 0 {
            return Err(Error::InvalidOption(format!(
                "no n-gram of the {n_docs} training texts survives min_df = {} and max_df = {}: lower --min-df or raise --max-df",
                config.min_df, config.max_df
            )));
        }
        let mut matrix = CsrMatrix::new(vectorizer.n_features());
        let mut row: Vec<(u32, f32)> = Vec::new();
        let mut view_counts: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n_views];
        for (b, block) in blocks.iter().enumerate() {
            for d in 0..block.docs.first().map_or(0, Vec::len) {
                for v in 0..n_views {
                    let map = &global_maps[v][b];
                    view_counts[v].clear();
                    view_counts[v].extend(block.docs[v][d].iter().filter_map(|&(local, c)| {
                        let col = map[local as usize];
                        (col != u32::MAX).then_some((col, c))
                    }));
                }
                vectorizer.weigh_row(&mut view_counts, &mut row);
                matrix.push_row(row.iter().copied());
            }
        }
        Ok((vectorizer, matrix))
    }

    /// Vectorise new documents with the fitted vocabulary and IDF. N-grams not in the
    /// vocabulary are ignored.
    pub fn transform(&self, texts: &[String]) -> CsrMatrix {
        let blocks: Vec<CsrMatrix> = texts
            .par_chunks(DOC_BLOCK)
            .map(|chunk| {
                let mut state = TransformState::new(self);
                let mut out = CsrMatrix::new(self.n_features());
                for text in chunk {
                    state.vectorize(self, text);
                    out.push_row(state.row.iter().copied());
                }
                out
            })
            .collect();
        let mut matrix = CsrMatrix::new(self.n_features());
        for block in &blocks {
            matrix.append(block);
        }
        matrix
    }

    /// Vectorise one document, returning its (column, weight) entries.
    pub fn transform_one(&self, text: &str) -> Vec<(u32, f32)> {
        let mut state = TransformState::new(self);
        state.vectorize(self, text);
        state.row
    }

    /// Total number of features (columns).
    pub fn n_features(&self) -> usize {
        self.views.iter().map(|v| v.vocabulary.len()).sum()
    }

    /// A readable name for a column: word n-grams as they are, character n-grams in
    /// brackets with the padding spaces shown as `_` (e.g. `[_war]`).
    pub fn feature_name(&self, column: u32) -> String {
        for view in &self.views {
            let local = column.wrapping_sub(view.offset) as usize;
            if column >= view.offset && local < view.vocabulary.len() {
                let term = &view.vocabulary[local];
                return match view.kind {
                    ViewKind::Word => term.clone(),
                    ViewKind::Char => format!("[{}]", term.replace(' ', "_")),
                };
            }
        }
        format!("#{column}")
    }

    /// Rebuild lookup tables after deserialising.
    pub fn rebuild_indexes(&mut self) {
        for view in &mut self.views {
            view.rebuild_index();
        }
    }

    /// Check internal consistency after deserialising an untrusted file.
    pub fn check(&self) -> std::result::Result<(), String> {
        let mut offset = 0u32;
        for view in &self.views {
            if view.vocabulary.len() != view.idf.len() {
                return Err("vocabulary and IDF lengths differ".into());
            }
            if view.offset != offset {
                return Err("view offsets are inconsistent".into());
            }
            if view.idf.iter().any(|w| !w.is_finite()) {
                return Err("non-finite IDF weight".into());
            }
            offset += view.vocabulary.len() as u32;
        }
        if self.views.len() != self.config.views().len() {
            return Err("views do not match the configuration".into());
        }
        Ok(())
    }

    /// Turn per-view (column, count) lists into one weighted, normalised row.
    fn weigh_row(&self, view_counts: &mut [Vec<(u32, u32)>], row: &mut Vec<(u32, f32)>) {
        row.clear();
        let non_empty = view_counts.iter().filter(|c| !c.is_empty()).count();
        if non_empty == 0 {
            return;
        }
        let view_scale = 1.0 / (non_empty as f64).sqrt();
        for (view, counts) in self.views.iter().zip(view_counts.iter_mut()) {
            if counts.is_empty() {
                continue;
            }
            counts.sort_unstable_by_key(|&(c, _)| c);
            let start = row.len();
            let mut norm2 = 0.0f64;
            for &(col, count) in counts.iter() {
                let tf = if self.config.sublinear_tf {
                    1.0 + (count as f64).ln()
                } else {
                    count as f64
                };
                let w = tf * view.idf[col as usize] as f64;
                norm2 += w * w;
                row.push((view.offset + col, w as f32));
            }
            let scale = view_scale / norm2.sqrt();
            for entry in &mut row[start..] {
                entry.1 = (entry.1 as f64 * scale) as f32;
            }
        }
    }
}

/// Reusable buffers for vectorising one document after another.
struct TransformState {
    analyzer: Box<dyn crate::tokenize::Analyzer>,
    tokens: TokenBuffer,
    scratch: String,
    char_starts: Vec<usize>,
    ids: Vec<u32>,
    view_counts: Vec<Vec<(u32, u32)>>,
    row: Vec<(u32, f32)>,
}

impl TransformState {
    fn new(vectorizer: &TfidfVectorizer) -> Self {
        TransformState {
            analyzer: vectorizer.config.analyzer.build(),
            tokens: TokenBuffer::default(),
            scratch: String::new(),
            char_starts: Vec::new(),
            ids: Vec::new(),
            view_counts: vec![Vec::new(); vectorizer.views.len()],
            row: Vec::new(),
        }
    }

    fn vectorize(&mut self, vectorizer: &TfidfVectorizer, text: &str) {
        self.analyzer.analyze(text, &mut self.tokens);
        for (v, view) in vectorizer.views.iter().enumerate() {
            self.ids.clear();
            let ids = &mut self.ids;
            for_each_ngram(
                view.kind,
                view.range,
                &self.tokens,
                &mut self.scratch,
                &mut self.char_starts,
                &mut |gram| {
                    if let Some(&id) = view.index.get(gram) {
                        ids.push(id);
                    }
                },
            );
            self.view_counts[v] = run_length(ids);
        }
        vectorizer.weigh_row(&mut self.view_counts, &mut self.row);
    }
}

/// Smoothed inverse document frequency, as scikit-learn's `smooth_idf=True`.
pub fn smoothed_idf(n_docs: usize, df: u32) -> f32 {
    (((1 + n_docs) as f64 / (1 + df) as f64).ln() + 1.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grams(kind: ViewKind, range: &str, text: &str) -> Vec<String> {
        let mut tokens = TokenBuffer::default();
        AnalyzerKind::default().build().analyze(text, &mut tokens);
        let mut out = Vec::new();
        for_each_ngram(
            kind,
            range.parse().unwrap(),
            &tokens,
            &mut String::new(),
            &mut Vec::new(),
            &mut |g| out.push(g.to_string()),
        );
        out
    }

    #[test]
    fn word_ngrams() {
        assert_eq!(
            grams(ViewKind::Word, "1-2", "a b c"),
            ["a", "b", "c", "a b", "b c"]
        );
        assert_eq!(grams(ViewKind::Word, "2-3", "a"), Vec::<String>::new());
    }

    #[test]
    fn char_ngrams_inside_word_boundaries() {
        assert_eq!(
            grams(ViewKind::Char, "2-3", "ab"),
            [" a", "ab", "b ", " ab", "ab "]
        );
        // A word shorter than n is emitted once, whole (scikit-learn's char_wb rule).
        assert_eq!(grams(ViewKind::Char, "4-5", "a"), [" a "]);
        assert_eq!(grams(ViewKind::Char, "1-1", "é"), [" ", "é", " "]);
    }
}
