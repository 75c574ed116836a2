//! Vectorising: tokens → word and character n-grams → TF-IDF weights, as a sparse CSR matrix.
//!
//! Two *views* of each document are built: word n-grams (default 1–2) and character n-grams
//! taken inside word boundaries (each token padded with a space on both sides, as
//! scikit-learn's `char_wb`; default 2–5). Each view has its own vocabulary and IDF, fitted on
//! training data only. Weights are `tf · idf` with sublinear `tf = 1 + ln(count)` (optional)
//! and smoothed `idf = ln((1 + n) / (1 + df)) + 1`. Each view's part of a row is scaled to
//! unit L2 norm and the non-empty views are then weighted equally, so every row has L2
//! norm 1 (or 0 when no n-gram of it is in the vocabulary).

use std::borrow::Cow;
use std::collections::hash_map::Entry;

use rustc_hash::FxHashMap as HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::packed::{read_entry, write_entry, PackedChunk, PackedMatrix};
use crate::sparse::{ColumnSorter, CsrMatrix, RowBuffer, SparseRows};
use crate::tokenize::{AnalyzerKind, TokenBuffer};

/// Documents per parallel task; fixed so results never depend on the thread count.
const DOC_BLOCK: usize = 1024;

/// A document-frequency threshold: an absolute count of documents or a fraction of them.
/// Written as on the command line: `2` is a count, `1.0` or `0.5` a fraction, `auto` (for
/// `min_df` only) the count [`DocFreq::resolved`] picks by the size of the training data.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum DocFreq {
    /// At least / at most this many documents.
    Count(u32),
    /// At least / at most this fraction of the documents (0–1].
    Fraction(f64),
    /// `min_df` by the size of the training data ([`DocFreq::resolved`]); fitting resolves it
    /// to a count, which is what a fitted vectoriser records.
    Auto,
}

/// Training data with fewer documents than this keeps every n-gram by default (`min_df` 1);
/// from this size up, n-grams of a single document are dropped (`min_df` 2). On little data
/// an n-gram seen once is often one of the few clues there are; on much data singletons are
/// mostly noise, and they are most of the vocabulary's memory. Measured with
/// `benches/selection_sim.py` (TweetEval, test sets held out of train + val, `min_df` 1 minus
/// 2 in test points, ± standard error, 12 repetitions unless noted; training records per
/// model in brackets): stance +1.60 ± 0.29 (250–435 per target), emotion at pools of 650 /
/// 1,500 / 3,000 records +1.32 ± 0.48 (~410), +0.68 ± 0.26 (~950), +0.47 ± 0.27 (~1,900),
/// all of emotion +0.01 ± 0.21 (~2,300), hate at 650 +0.27 ± 0.51, all of hate +0.18 ± 0.20
/// (~6,300), emoji −0.29 ± 0.11 (~31,500, 6 repetitions).
pub const KEEP_SINGLETONS_BELOW: usize = 2000;

impl DocFreq {
    /// This threshold for `n_docs` training documents, with [`DocFreq::Auto`] made a count:
    /// 1 below [`KEEP_SINGLETONS_BELOW`], else 2.
    pub fn resolved(self, n_docs: usize) -> DocFreq {
        match self {
            DocFreq::Auto => DocFreq::Count(if n_docs < KEEP_SINGLETONS_BELOW { 1 } else { 2 }),
            other => other,
        }
    }

    /// The threshold as a document count for a corpus of `n_docs`.
    fn as_count(self, n_docs: usize) -> f64 {
        match self {
            DocFreq::Count(c) => c as f64,
            DocFreq::Fraction(f) => f * n_docs as f64,
            DocFreq::Auto => self.resolved(n_docs).as_count(n_docs),
        }
    }
}

impl std::str::FromStr for DocFreq {
    type Err = String;
    /// `"2"` is a count, `"0.5"` a fraction, `"auto"` [`DocFreq::Auto`].
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "auto" {
            return Ok(DocFreq::Auto);
        }
        if let Ok(count) = s.parse::<u32>() {
            return Ok(DocFreq::Count(count));
        }
        match s.parse::<f64>() {
            Ok(f) if f > 0.0 && f <= 1.0 => Ok(DocFreq::Fraction(f)),
            _ => Err(format!(
                "`{s}` is neither a document count (2), a fraction in (0, 1] (0.9) nor auto"
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
            DocFreq::Auto => write!(f, "auto"),
        }
    }
}

/// An inclusive n-gram length range such as 1–2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NgramRange {
    pub min: usize,
    pub max: usize,
}

impl NgramRange {
    /// Whether `1 ≤ min ≤ max`: a range that can be counted (parsing also caps `max` at 16).
    pub fn is_valid(&self) -> bool {
        1 <= self.min && self.min <= self.max
    }
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
    /// Drop n-grams in fewer documents than this ([`DocFreq::Auto`] by default: 1 or 2 by the
    /// size of the training data).
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
            min_df: DocFreq::Auto,
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
        if self.max_df == DocFreq::Auto {
            return Err(Error::InvalidOption(
                "max_df cannot be auto: give a count or a fraction".into(),
            ));
        }
        for (name, range) in [("word", self.word_ngrams), ("character", self.char_ngrams)] {
            if let Some(r) = range {
                if !r.is_valid() {
                    return Err(Error::InvalidOption(format!(
                        "{name} n-gram range {r} must satisfy 1 ≤ min ≤ max"
                    )));
                }
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

// N-gram keys. Part of a model's meaning: a fitted vocabulary is looked up by these keys,
// so they are defined here once, independent of any hashing crate, and never change.

/// Set in every key that is a hash of the n-gram rather than its bytes themselves.
pub const HASHED_KEY: u64 = 1 << 63;

const SEED: u64 = 0x243F_6A88_85A3_08D3;
const M1: u64 = 0xA076_1D64_78BD_642F;
const M2: u64 = 0xE703_7ED1_A0B4_28DB;
const M3: u64 = 0x8EBC_6AF0_9C88_C6E3;

/// The high and low halves of the 128-bit product, xored.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The 64-bit key that an n-gram's UTF-8 bytes are counted and looked up by.
///
/// * Up to 7 bytes: the bytes themselves, little-endian from the lowest byte, with the length
///   in the top byte. Exact: two short n-grams never share a key.
/// * Longer: with `fold(a, b)` the xor of the two halves of the 128-bit product `a · b`,
///   `h = SEED ⊕ len`, then for each 8-byte little-endian chunk `c` (the last one zero-padded)
///   `h = fold(h ⊕ c ⊕ M1, M2)`, and the key is `fold(h ⊕ M3, M1)` with [`HASHED_KEY`] set.
///   Distinct n-grams can share such a key; the vectoriser detects it and tells them apart
///   by their text.
#[inline]
pub fn ngram_key(bytes: &[u8]) -> u64 {
    let n = bytes.len();
    let mut buf = [0u8; 8];
    if n <= 7 {
        buf[..n].copy_from_slice(bytes);
        buf[7] = n as u8;
        return u64::from_le_bytes(buf);
    }
    let mut h = SEED ^ n as u64;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let c = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
        h = fold_mul(h ^ c ^ M1, M2);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        buf[..rest.len()].copy_from_slice(rest);
        h = fold_mul(h ^ u64::from_le_bytes(buf) ^ M1, M2);
    }
    fold_mul(h ^ M3, M1) | HASHED_KEY
}

/// The key of a word n-gram from the key of its first n − 1 tokens and the [`ngram_key`] of
/// its last token: `fold(fold(prefix ⊕ M1, M2) ⊕ token ⊕ M3, M1)` with [`HASHED_KEY`] set.
/// A single token's key is its own [`ngram_key`].
#[inline]
pub fn word_key_step(prefix: u64, token: u64) -> u64 {
    fold_mul(fold_mul(prefix ^ M1, M2) ^ token ^ M3, M1) | HASHED_KEY
}

/// The key of a vocabulary entry of a view of `kind`: a character n-gram's [`ngram_key`], or a
/// word n-gram's token keys folded by [`word_key_step`] (tokens never contain a space, so
/// splitting the entry on spaces gives back its tokens).
pub fn term_key(kind: ViewKind, term: &str) -> u64 {
    match kind {
        ViewKind::Char => ngram_key(term.as_bytes()),
        ViewKind::Word => {
            let mut tokens = term.split(' ');
            let first = ngram_key(tokens.next().unwrap_or_default().as_bytes());
            tokens.fold(first, |key, t| word_key_step(key, ngram_key(t.as_bytes())))
        }
    }
}

/// An open-addressing map from a 64-bit key (an n-gram key, or another well-spread integer)
/// to `u32`, with linear probing, kept at most half full: a lookup reads one entry in the
/// common case, where a std map reads its control bytes and then the entry, two cache (and
/// TLB) misses on a table of megabytes. And the slot a lookup starts at can be prefetched
/// ([`KeyTable::prefetch`]), so a batch of lookups overlaps its misses.
#[derive(Debug, Clone, Default)]
struct KeyTable {
    slots: Vec<Slot>,
    shift: u32,
    len: usize,
}

/// One [`KeyTable`] entry in 12 bytes, where `(u64, u32)` is padded to 16: the tables of a
/// large fit hold tens of millions of slots.
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(4))]
struct Slot {
    key: u64,
    value: u32,
}

const _: () = assert!(std::mem::size_of::<Slot>() == 12);

/// Value of an unused [`KeyTable`] slot; never a column.
const VACANT: u32 = u32::MAX - 1;

impl KeyTable {
    /// A table that holds `n` entries without growing.
    fn with_capacity(n: usize) -> Self {
        let size = (2 * n).next_power_of_two().max(16);
        KeyTable {
            slots: vec![
                Slot {
                    key: 0,
                    value: VACANT
                };
                size
            ],
            shift: 64 - size.trailing_zeros(),
            len: 0,
        }
    }

    /// Double the table (or allocate its first slots), reinserting every entry.
    #[cold]
    fn grow(&mut self) {
        let old = std::mem::replace(self, KeyTable::with_capacity(2 * self.len.max(8)));
        for &Slot { key, value } in &old.slots {
            if value != VACANT {
                self.get_or_insert(key, value);
            }
        }
    }

    #[inline]
    fn home(&self, key: u64) -> usize {
        (fold_mul(key ^ M1, M2) >> self.shift) as usize
    }

    /// The value of `key`, inserting `value` first when `key` is absent (then `None`).
    /// `value` must not be [`VACANT`].
    #[inline]
    fn get_or_insert(&mut self, key: u64, value: u32) -> Option<&mut u32> {
        if 2 * (self.len + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let Slot { key: k, value: v } = self.slots[i];
            if v == VACANT {
                self.slots[i] = Slot { key, value };
                self.len += 1;
                return None;
            }
            if k == key {
                return Some(&mut self.slots[i].value);
            }
            i = (i + 1) & mask;
        }
    }

    /// Start loading the slot where a lookup of `key` begins.
    #[inline(always)]
    fn prefetch(&self, key: u64) {
        if !self.slots.is_empty() {
            crate::prefetch::prefetch(std::slice::from_ref(&self.slots[self.home(key)]));
        }
    }

    #[inline]
    fn get(&self, key: u64) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let Slot { key: k, value: v } = self.slots[i];
            if v == VACANT {
                return None;
            }
            if k == key {
                return Some(v);
            }
            i = (i + 1) & mask;
        }
    }
}

/// A view's column lookup by n-gram key, rebuilt from the vocabulary after loading. Entries
/// whose keys coincide (a hash collision, or an entry repeated in a damaged file) are marked
/// ambiguous and looked up by their text instead, so two n-grams never share a column.
#[derive(Debug, Clone, Default)]
struct NgramIndex {
    by_key: KeyTable,
    by_text: HashMap<String, u32>,
}

/// `by_key` value of a key shared by several vocabulary entries.
const AMBIGUOUS: u32 = u32::MAX;

impl NgramIndex {
    fn build(vocabulary: &[String], key_of: impl Fn(&str) -> u64 + Sync) -> Self {
        let mut index = NgramIndex {
            by_key: KeyTable::with_capacity(vocabulary.len()),
            by_text: HashMap::default(),
        };
        // Keys are computed in parallel, then inserted in column order with each slot asked
        // for a few entries ahead (insertion into a table of megabytes is a miss per entry).
        let keys: Vec<u64> = vocabulary.par_iter().map(|t| key_of(t)).collect();
        crate::prefetch::pipelined(
            keys.len(),
            &mut index,
            |index, col| index.by_key.prefetch(keys[col]),
            |index, col| {
                if let Some(slot) = index.by_key.get_or_insert(keys[col], col as u32) {
                    let first = *slot;
                    if first != AMBIGUOUS {
                        *slot = AMBIGUOUS;
                        let text = vocabulary[first as usize].clone();
                        index.by_text.insert(text, first);
                    }
                    // A repeated entry keeps its last column, as a map built by insertion does.
                    index.by_text.insert(vocabulary[col].clone(), col as u32);
                }
            },
        );
        index
    }

    /// The column of the n-gram with `key`; `text` spells the n-gram, needed only when the key
    /// is ambiguous.
    #[inline]
    fn get<'t>(&self, key: u64, text: impl FnOnce() -> Cow<'t, str>) -> Option<u32> {
        match self.by_key.get(key) {
            None => None,
            Some(AMBIGUOUS) => self.by_text.get(text().as_ref()).copied(),
            Some(col) => Some(col),
        }
    }

    /// Replace `cols` with the column of each n-gram of `keys`, or [`DROPPED`] where it has
    /// none; `text_of(i)` spells the `i`-th n-gram, needed only when its key is ambiguous.
    /// The table slots are read a few keys after they were asked for, so the cache misses of
    /// a document's lookups overlap.
    fn get_many<'t>(
        &self,
        keys: &[u64],
        text_of: impl Fn(usize) -> Cow<'t, str>,
        cols: &mut Vec<u32>,
    ) {
        cols.clear();
        crate::prefetch::pipelined(
            keys.len(),
            cols,
            |_, i| self.by_key.prefetch(keys[i]),
            |cols, i| cols.push(self.get(keys[i], || text_of(i)).unwrap_or(DROPPED)),
        );
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
    index: NgramIndex,
}

impl View {
    fn rebuild_index(&mut self) {
        let kind = self.kind;
        self.index = NgramIndex::build(&self.vocabulary, |t| term_key(kind, t));
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

/// Append the padded token (`" token "`, as scikit-learn's `char_wb`) to `arena` and call
/// `emit` with each of its character n-grams and that n-gram's byte range in `arena`.
/// Reuses `char_starts`.
fn append_char_ngrams(
    range: NgramRange,
    token: &str,
    arena: &mut String,
    char_starts: &mut Vec<usize>,
    emit: &mut impl FnMut(&str, (usize, usize)),
) {
    let base = arena.len();
    arena.push(' ');
    arena.push_str(token);
    arena.push(' ');
    let arena: &str = arena;
    let padded = &arena[base..];
    char_starts.clear();
    char_starts.extend(padded.char_indices().map(|(i, _)| base + i));
    char_starts.push(arena.len());
    let n_chars = char_starts.len() - 1;
    for n in range.min..=range.max {
        if n >= n_chars {
            // As scikit-learn's char_wb: a padded word no longer than n counts once, whole.
            emit(padded, (base, arena.len()));
            break;
        }
        for start in 0..=n_chars - n {
            let (a, b) = (char_starts[start], char_starts[start + n]);
            emit(&arena[a..b], (a, b));
        }
    }
}

/// The character n-grams of one token with their keys, reused from token to token.
#[derive(Default)]
struct CharGrams {
    padded: String,
    char_starts: Vec<usize>,
    keys: Vec<u64>,
    spans: Vec<(usize, usize)>,
}

impl CharGrams {
    /// Append the id in `interner` of each character n-gram of `token` to `ids`. The keys
    /// come first, then each n-gram is interned a few n-grams after its table slot was asked
    /// for, so the cache misses of a new token's n-grams (about 34 for an emoji tweet's
    /// distinct token, char 2–5) overlap.
    fn intern(
        &mut self,
        range: NgramRange,
        token: &str,
        interner: &mut Interner,
        ids: &mut Vec<u32>,
    ) {
        let CharGrams {
            padded,
            char_starts,
            keys,
            spans,
        } = self;
        padded.clear();
        keys.clear();
        spans.clear();
        append_char_ngrams(range, token, padded, char_starts, &mut |gram, span| {
            keys.push(ngram_key(gram.as_bytes()));
            spans.push(span);
        });
        let padded: &str = padded;
        crate::prefetch::pipelined(
            keys.len(),
            &mut (interner, ids),
            |(interner, _), i| interner.by_key.prefetch(keys[i]),
            |(interner, ids), i| {
                let (a, b) = spans[i];
                ids.push(interner.intern_keyed(keys[i], &padded[a..b]).0);
            },
        );
    }
}

/// Exact text → dense id numbering, in order of first appearance. The [`ngram_key`] picks the
/// entry; a hashed key is confirmed by comparing the text, and a text whose key is already
/// taken by another gets an id of its own through `collided`.
#[derive(Default)]
struct Interner {
    by_key: KeyTable,
    collided: HashMap<Box<str>, u32>,
    keys: Vec<u64>,
    ends: Vec<usize>,
    arena: String,
}

impl Interner {
    fn len(&self) -> usize {
        self.keys.len()
    }

    fn text(&self, id: u32) -> &str {
        text_in(&self.arena, &self.ends, id)
    }

    /// The id of `text` and whether it is new.
    #[inline]
    fn intern(&mut self, text: &str) -> (u32, bool) {
        self.intern_keyed(ngram_key(text.as_bytes()), text)
    }

    /// As [`Interner::intern`], with `key` already computed as `ngram_key(text)`.
    #[inline]
    fn intern_keyed(&mut self, key: u64, text: &str) -> (u32, bool) {
        let next = self.keys.len() as u32;
        if let Some(&mut id) = self.by_key.get_or_insert(key, next) {
            if key & HASHED_KEY == 0 || text_in(&self.arena, &self.ends, id) == text {
                return (id, false);
            }
            match self.collided.entry(text.into()) {
                Entry::Occupied(other) => return (*other.get(), false),
                Entry::Vacant(other) => {
                    other.insert(next);
                }
            }
        }
        self.keys.push(key);
        self.arena.push_str(text);
        self.ends.push(self.arena.len());
        (next, true)
    }

    /// Intern every entry of `other`, in its order, and return their ids here; each table
    /// slot is asked for a few entries before it is used.
    fn intern_all(&mut self, other: &Interner) -> Vec<u32> {
        let mut ids = Vec::with_capacity(other.len());
        crate::prefetch::pipelined(
            other.len(),
            &mut (self, &mut ids),
            |(this, _), i| this.by_key.prefetch(other.keys[i]),
            |(this, ids), i| ids.push(this.intern_keyed(other.keys[i], other.text(i as u32)).0),
        );
        ids
    }
}

/// The `id`-th of the strings stored back to back in `arena`, each ending at `ends[id]`.
#[inline]
fn text_in<'a>(arena: &'a str, ends: &[usize], id: u32) -> &'a str {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] };
    &arena[start..ends[id]]
}

/// `prefix` of a one-token word n-gram.
const NO_PREFIX: u32 = u32::MAX;

/// Word n-grams numbered in order of first appearance, each stored as (the node of its first
/// n − 1 tokens, or [`NO_PREFIX`], its last token's id): an exact integer key, so no word
/// n-gram is ever spelled out or hashed while counting.
#[derive(Default)]
struct WordNodes {
    /// Node by `prefix << 32 | token`.
    by_link: KeyTable,
    links: Vec<(u32, u32)>,
}

impl WordNodes {
    fn len(&self) -> usize {
        self.links.len()
    }

    #[inline]
    fn node(&mut self, prefix: u32, token: u32) -> u32 {
        let next = self.links.len() as u32;
        match self
            .by_link
            .get_or_insert(u64::from(prefix) << 32 | u64::from(token), next)
        {
            Some(&mut id) => id,
            None => {
                self.links.push((prefix, token));
                next
            }
        }
    }
}

/// Push the node of every word n-gram of a document (`tids`: its token ids) with a length in
/// `range`; `unigram[t]` is the one-token node of token `t`.
fn word_ngram_nodes(
    range: NgramRange,
    tids: &[u32],
    unigram: &[u32],
    nodes: &mut WordNodes,
    out: &mut Vec<u32>,
) {
    for (start, &first) in tids.iter().enumerate() {
        let mut node = unigram[first as usize];
        if range.min == 1 {
            out.push(node);
        }
        for (len, &tid) in (2..=range.max).zip(&tids[start + 1..]) {
            node = nodes.node(node, tid);
            if len >= range.min {
                out.push(node);
            }
        }
    }
}

/// Counts the distinct ids of one document after another in time linear in the ids:
/// `stamp[id]` tells whether `id` was already seen in the current document and `slot[id]`
/// where its count is.
#[derive(Default)]
struct DocCounter {
    stamp: Vec<u32>,
    slot: Vec<u32>,
    doc: u32,
}

impl DocCounter {
    /// Replace `out` with the (id, count) pairs of `ids` (every id below `n_ids`), in order of
    /// first appearance.
    fn count(&mut self, ids: &[u32], n_ids: usize, out: &mut Vec<(u32, u32)>) {
        out.clear();
        if self.stamp.len() < n_ids {
            self.stamp.resize(n_ids, 0);
            self.slot.resize(n_ids, 0);
        }
        self.doc = self.doc.wrapping_add(1);
        if self.doc == 0 {
            self.stamp.fill(0);
            self.doc = 1;
        }
        for &id in ids {
            let i = id as usize;
            if self.stamp[i] == self.doc {
                out[self.slot[i] as usize].1 += 1;
            } else {
                self.stamp[i] = self.doc;
                self.slot[i] = out.len() as u32;
                out.push((id, 1));
            }
        }
    }
}

/// One view's counts over one block of documents, against the block's own numbering.
#[derive(Default)]
struct ViewCounts {
    /// Each document's (local id, count) pairs as [`write_entry`] varints (about 2 bytes a
    /// pair where `(u32, u32)` would take 8), documents back to back.
    entries: Vec<u8>,
    /// End of each document's entries.
    doc_ends: Vec<usize>,
    /// Number of the block's documents containing each local id.
    df: Vec<u32>,
}

impl ViewCounts {
    fn doc(&self, d: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        let mut pos = if d == 0 { 0 } else { self.doc_ends[d - 1] };
        let end = self.doc_ends[d];
        std::iter::from_fn(move || {
            (pos < end).then(|| {
                let (id, count) = read_entry(&self.entries, &mut pos);
                (id as u32, count)
            })
        })
    }

    fn push_doc(&mut self, counts: &[(u32, u32)], n_ids: usize) {
        self.df.resize(n_ids, 0);
        for &(id, count) in counts {
            self.df[id as usize] += 1;
            write_entry(&mut self.entries, u64::from(id), count);
        }
        self.doc_ends.push(self.entries.len());
    }

    /// Free the per-document counts once they have been turned into matrix rows.
    fn release_documents(&mut self) {
        self.entries = Vec::new();
        self.doc_ends = Vec::new();
    }
}

/// `texts` cut into one run of whole [`DOC_BLOCK`]s per thread, in order. Since every count is
/// exact and the vocabulary is ordered by text, results never depend on this split; one run
/// per thread rather than one per block means far fewer tokens are met anew, so far fewer
/// character n-grams are looked up (random reads of a large table) and merged.
fn runs_of_blocks(texts: &[String]) -> Vec<&[String]> {
    let n_blocks = texts.len().div_ceil(DOC_BLOCK).max(1);
    let per_run = n_blocks.div_ceil(rayon::current_num_threads().max(1));
    texts.chunks(per_run * DOC_BLOCK).collect()
}

/// Term counts of a run of consecutive documents (see [`runs_of_blocks`]), with the tokens,
/// word n-grams and character n-grams numbered run-locally in order of first appearance.
struct BlockCounts {
    n_docs: usize,
    tokens: Interner,
    words: WordNodes,
    chars: Interner,
    /// Per view, in [`VectorizerConfig::views`] order.
    views: Vec<ViewCounts>,
    counters: Vec<DocCounter>,
    /// Per distinct token: its one-token word node, and the range of its character
    /// n-grams' ids in `char_ids`, computed when the token is first met.
    unigram: Vec<u32>,
    char_spans: Vec<(usize, usize)>,
    char_ids: Vec<u32>,
}

impl BlockCounts {
    fn new(config: &VectorizerConfig) -> Self {
        let n_views = config.views().len();
        BlockCounts {
            n_docs: 0,
            tokens: Interner::default(),
            words: WordNodes::default(),
            chars: Interner::default(),
            views: (0..n_views).map(|_| ViewCounts::default()).collect(),
            counters: (0..n_views).map(|_| DocCounter::default()).collect(),
            unigram: Vec::new(),
            char_spans: Vec::new(),
            char_ids: Vec::new(),
        }
    }

    /// Count `texts`, which follow the documents already counted.
    fn count(&mut self, texts: &[String], config: &VectorizerConfig) {
        let analyzer = config.analyzer.build();
        let specs = config.views();
        let mut tokens = TokenBuffer::default();
        let mut tids: Vec<u32> = Vec::new();
        let mut ids: Vec<u32> = Vec::new();
        let mut counts: Vec<(u32, u32)> = Vec::new();
        let mut grams = CharGrams::default();
        for text in texts {
            analyzer.analyze(text, &mut tokens);
            tids.clear();
            for token in tokens.iter() {
                let (tid, new) = self.tokens.intern(token);
                if new {
                    if config.word_ngrams.is_some() {
                        self.unigram.push(self.words.node(NO_PREFIX, tid));
                    }
                    if let Some(range) = config.char_ngrams {
                        let start = self.char_ids.len();
                        grams.intern(range, token, &mut self.chars, &mut self.char_ids);
                        self.char_spans.push((start, self.char_ids.len()));
                    }
                }
                tids.push(tid);
            }
            for (v, &(kind, range)) in specs.iter().enumerate() {
                ids.clear();
                let n_ids = match kind {
                    ViewKind::Word => {
                        word_ngram_nodes(range, &tids, &self.unigram, &mut self.words, &mut ids);
                        self.words.len()
                    }
                    ViewKind::Char => {
                        for &t in &tids {
                            let (start, end) = self.char_spans[t as usize];
                            ids.extend_from_slice(&self.char_ids[start..end]);
                        }
                        self.chars.len()
                    }
                };
                self.counters[v].count(&ids, n_ids, &mut counts);
                self.views[v].push_doc(&counts, n_ids);
            }
        }
        self.n_docs += texts.len();
    }
}

/// How the merged n-grams of a view are spelled.
enum Terms {
    /// Word n-grams as chains of (prefix node, token) over the merged tokens.
    Words {
        tokens: Interner,
        nodes: WordNodes,
    },
    Chars(Interner),
}

impl Terms {
    fn text(&self, id: u32) -> String {
        match self {
            Terms::Chars(chars) => chars.text(id).to_string(),
            Terms::Words { tokens, nodes } => {
                let mut chain = Vec::new();
                let mut node = id;
                while node != NO_PREFIX {
                    let (prefix, token) = nodes.links[node as usize];
                    chain.push(token);
                    node = prefix;
                }
                let mut text = String::new();
                for (i, &token) in chain.iter().rev().enumerate() {
                    if i > 0 {
                        text.push(' ');
                    }
                    text.push_str(tokens.text(token));
                }
                text
            }
        }
    }
}

/// One view's n-grams merged over all blocks, in block order.
struct MergedView {
    terms: Terms,
    df: Vec<u32>,
    /// Per block, the merged id of each local id.
    local_to_global: Vec<Vec<u32>>,
}

fn merge_words(blocks: &[BlockCounts], v: usize) -> MergedView {
    let mut tokens = Interner::default();
    let mut nodes = WordNodes::default();
    let mut df: Vec<u32> = Vec::new();
    let mut local_to_global = Vec::with_capacity(blocks.len());
    for block in blocks {
        let token_map = tokens.intern_all(&block.tokens);
        // A node's prefix always has a smaller id, so it is mapped before the node.
        let mut map: Vec<u32> = Vec::with_capacity(block.words.len());
        for &(prefix, token) in &block.words.links {
            let prefix = if prefix == NO_PREFIX {
                NO_PREFIX
            } else {
                map[prefix as usize]
            };
            map.push(nodes.node(prefix, token_map[token as usize]));
        }
        df.resize(nodes.len(), 0);
        for (&g, &d) in map.iter().zip(&block.views[v].df) {
            df[g as usize] += d;
        }
        local_to_global.push(map);
    }
    MergedView {
        terms: Terms::Words { tokens, nodes },
        df,
        local_to_global,
    }
}

fn merge_chars(blocks: &[BlockCounts], v: usize) -> MergedView {
    let mut chars = Interner::default();
    let mut df: Vec<u32> = Vec::new();
    let mut local_to_global = Vec::with_capacity(blocks.len());
    for block in blocks {
        let map = chars.intern_all(&block.chars);
        df.resize(chars.len(), 0);
        for (&g, &d) in map.iter().zip(&block.views[v].df) {
            df[g as usize] += d;
        }
        local_to_global.push(map);
    }
    MergedView {
        terms: Terms::Chars(chars),
        df,
        local_to_global,
    }
}

/// Column of a dropped n-gram.
const DROPPED: u32 = u32::MAX;

/// Prune a merged view by document frequency and size, and return its sorted vocabulary with
/// the document frequency of each entry, and for each block the column of each local id.
fn select_vocabulary(
    config: &VectorizerConfig,
    n_docs: usize,
    merged: MergedView,
) -> (Vec<String>, Vec<u32>, Vec<Vec<u32>>) {
    let MergedView {
        terms,
        df,
        mut local_to_global,
    } = merged;
    let min_df = config.min_df.as_count(n_docs);
    let max_df = config.max_df.as_count(n_docs);
    // Nodes that are only prefixes of longer word n-grams have df 0 and are never features.
    let mut kept: Vec<(u32, String)> = (0..df.len() as u32)
        .filter(|&g| {
            let d = df[g as usize];
            d > 0 && d as f64 >= min_df && d as f64 <= max_df
        })
        .map(|g| (g, terms.text(g)))
        .collect();
    if let Some(cap) = config.max_features {
        if kept.len() > cap {
            kept.par_sort_unstable_by(|a, b| {
                df[b.0 as usize]
                    .cmp(&df[a.0 as usize])
                    .then_with(|| a.1.cmp(&b.1))
            });
            kept.truncate(cap);
        }
    }
    kept.par_sort_unstable_by(|a, b| a.1.cmp(&b.1));
    let mut column_of_global = vec![DROPPED; df.len()];
    for (col, &(g, _)) in kept.iter().enumerate() {
        column_of_global[g as usize] = col as u32;
    }
    local_to_global.par_iter_mut().for_each(|map| {
        for slot in map.iter_mut() {
            *slot = column_of_global[*slot as usize];
        }
    });
    let kept_df = kept.iter().map(|&(g, _)| df[g as usize]).collect();
    let vocabulary = kept.into_iter().map(|(_, t)| t).collect();
    (vocabulary, kept_df, local_to_global)
}

impl TfidfVectorizer {
    /// Fit the vocabulary and IDF on `texts` and return the fitted vectoriser together with
    /// the training matrix, tokenising every text once.
    pub fn fit_transform(config: &VectorizerConfig, texts: &[String]) -> Result<(Self, CsrMatrix)> {
        let (vectorizer, packed) = Self::fit_transform_packed(config, texts)?;
        let matrix = packed.to_csr().into_owned();
        Ok((vectorizer, matrix))
    }

    /// As [`TfidfVectorizer::fit_transform`], with the training matrix in the compact
    /// [`PackedMatrix`] form (about a quarter of the memory; the same values bit for bit).
    /// Training uses this: the matrix is what limits the size of a corpus that fits.
    pub fn fit_transform_packed(
        config: &VectorizerConfig,
        texts: &[String],
    ) -> Result<(Self, PackedMatrix)> {
        config.validate()?;
        let n_docs = texts.len();
        let config = &VectorizerConfig {
            min_df: config.min_df.resolved(n_docs),
            ..config.clone()
        };
        let mut blocks: Vec<BlockCounts> = runs_of_blocks(texts)
            .into_par_iter()
            .map(|run| {
                let mut counts = BlockCounts::new(config);
                counts.count(run, config);
                counts
            })
            .collect();
        let specs = config.views();
        let fitted: Vec<(View, Vec<Vec<u32>>)> = specs
            .par_iter()
            .enumerate()
            .map(|(v, &(kind, range))| {
                let merged = match kind {
                    ViewKind::Word => merge_words(&blocks, v),
                    ViewKind::Char => merge_chars(&blocks, v),
                };
                let (vocabulary, df, columns) = select_vocabulary(config, n_docs, merged);
                let mut view = View {
                    kind,
                    range,
                    vocabulary,
                    idf: df.iter().map(|&d| smoothed_idf(n_docs, d)).collect(),
                    offset: 0,
                    index: NgramIndex::default(),
                };
                view.rebuild_index();
                (view, columns)
            })
            .collect();
        let mut views = Vec::with_capacity(fitted.len());
        let mut columns = Vec::with_capacity(fitted.len());
        let mut offset = 0u32;
        for (mut view, view_columns) in fitted {
            view.offset = offset;
            offset += view.vocabulary.len() as u32;
            views.push(view);
            columns.push(view_columns);
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
        let n_views = specs.len();
        // Run by run, so each run's counts are freed as soon as its rows are built; within
        // a run, fixed blocks of rows (one chunk of the matrix each) in parallel.
        let mut chunks: Vec<PackedChunk> = Vec::with_capacity(n_docs.div_ceil(DOC_BLOCK));
        for (b, block) in blocks.iter_mut().enumerate() {
            let block_chunks: Vec<PackedChunk> =
                (0..block.n_docs)
                    .step_by(DOC_BLOCK)
                    .collect::<Vec<_>>()
                    .into_par_iter()
                    .map(|first| {
                        let end = (first + DOC_BLOCK).min(block.n_docs);
                        let mut chunk = PackedChunk::default();
                        let mut scales = [0.0f64; MAX_VIEWS];
                        let mut view_counts: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n_views];
                        let mut sorter = ColumnSorter::default();
                        for d in first..end {
                            for (v, counts) in view_counts.iter_mut().enumerate() {
                                let map = &columns[v][b];
                                counts.clear();
                                counts.extend(block.views[v].doc(d).filter_map(|(local, c)| {
                                    let col = map[local as usize];
                                    (col != DROPPED).then_some((col, c))
                                }));
                            }
                            vectorizer.view_scales(&mut view_counts, &mut scales, &mut sorter);
                            let entries = vectorizer.views.iter().zip(&view_counts).flat_map(
                                |(view, counts)| {
                                    counts.iter().map(|&(col, c)| (view.offset + col, c))
                                },
                            );
                            chunk.push_row(entries, &scales[..n_views]);
                        }
                        chunk
                    })
                    .collect();
            chunks.extend(block_chunks);
            for view in &mut block.views {
                view.release_documents();
            }
        }
        let idf = vectorizer
            .views
            .iter()
            .flat_map(|v| v.idf.iter().copied())
            .collect();
        let view_starts = vectorizer.views[1..].iter().map(|v| v.offset).collect();
        let matrix = PackedMatrix::new(chunks, DOC_BLOCK, idf, view_starts, config.sublinear_tf);
        Ok((vectorizer, matrix))
    }

    /// Vectorise new documents with the fitted vocabulary and IDF. N-grams not in the
    /// vocabulary are ignored.
    pub fn transform(&self, texts: &[String]) -> CsrMatrix {
        let n_features = self.n_features();
        let blocks = self.fold_rows(
            texts,
            || CsrMatrix::new(n_features),
            |out, row| {
                out.push_row(row.cols.iter().copied().zip(row.vals.iter().copied()));
            },
        );
        CsrMatrix::concat(n_features, &blocks)
    }

    /// `f` of each document's row, in order, computed in parallel without building a
    /// matrix: for consumers of one row at a time, such as prediction, which then reads
    /// each row while it is still in cache. The rows are those of [`Self::transform`].
    pub fn map_rows<R: Send>(
        &self,
        texts: &[String],
        f: impl Fn(&RowBuffer) -> R + Sync,
    ) -> Vec<R> {
        let runs = self.fold_rows(texts, Vec::new, |out, row| out.push(f(row)));
        let mut all = Vec::with_capacity(texts.len());
        for run in runs {
            all.extend(run);
        }
        all
    }

    /// Vectorise `texts` in parallel runs of consecutive documents, handing each run's rows
    /// in order to `add_row` on an accumulator made by `init`; the accumulators come back
    /// in the texts' order.
    fn fold_rows<A: Send>(
        &self,
        texts: &[String],
        init: impl Fn() -> A + Sync,
        add_row: impl Fn(&mut A, &RowBuffer) + Sync,
    ) -> Vec<A> {
        runs_of_blocks(texts)
            .into_par_iter()
            .map(|run| {
                // One state per run: what it caches is a pure function of each token.
                let mut state = TransformState::new(self);
                let mut acc = init();
                for text in run {
                    state.vectorize(self, text);
                    add_row(&mut acc, &state.row);
                }
                acc
            })
            .collect()
    }

    /// Vectorise one document, returning its (column, weight) entries.
    pub fn transform_one(&self, text: &str) -> Vec<(u32, f32)> {
        let mut state = TransformState::new(self);
        state.vectorize(self, text);
        let RowBuffer { cols, vals } = state.row;
        cols.into_iter().zip(vals).collect()
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

    /// Rebuild lookup tables after deserialising, one view per thread (each table is a
    /// function of its own view alone).
    pub fn rebuild_indexes(&mut self) {
        self.views.par_iter_mut().for_each(View::rebuild_index);
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
            if !view.range.is_valid() {
                return Err(format!("n-gram range {} is invalid", view.range));
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

    /// Turn per-view (column, count) lists into one weighted, normalised row; `tf_idf` is
    /// room for each entry's `tf · idf`, computed once for the norm and the value.
    fn weigh_row(
        &self,
        view_counts: &mut [Vec<(u32, u32)>],
        sorter: &mut ColumnSorter<u32>,
        tf_idf: &mut Vec<f64>,
        row: &mut RowBuffer,
    ) {
        row.cols.clear();
        row.vals.clear();
        tf_idf.clear();
        let mut scales = [0.0f64; MAX_VIEWS];
        self.scale_views(view_counts, &mut scales, sorter, |w| tf_idf.push(w));
        let mut tf_idf = tf_idf.iter();
        for ((view, counts), &scale) in self.views.iter().zip(view_counts.iter()).zip(&scales) {
            row.cols
                .extend(counts.iter().map(|&(col, _)| view.offset + col));
            row.vals.extend(
                tf_idf
                    .by_ref()
                    .take(counts.len())
                    .map(|&w| scaled_tf_idf(w, scale)),
            );
        }
    }

    /// Sort each view's (view column, count) pairs by column (word views give them sorted)
    /// and set each view's scale: the factor that gives the view's part of the row unit L2
    /// norm, times `1/√(views present)`.
    /// With [`scaled_weight`] it defines every value of the matrix, whether stored as values
    /// ([`CsrMatrix`]) or as counts ([`PackedMatrix`]).
    fn view_scales(
        &self,
        view_counts: &mut [Vec<(u32, u32)>],
        scales: &mut [f64],
        sorter: &mut ColumnSorter<u32>,
    ) {
        self.scale_views(view_counts, scales, sorter, |_| {});
    }

    /// [`Self::view_scales`], handing each entry's `tf · idf` to `tf_idf`, in row order.
    fn scale_views(
        &self,
        view_counts: &mut [Vec<(u32, u32)>],
        scales: &mut [f64],
        sorter: &mut ColumnSorter<u32>,
        mut tf_idf: impl FnMut(f64),
    ) {
        scales.fill(0.0);
        let non_empty = view_counts.iter().filter(|c| !c.is_empty()).count();
        if non_empty == 0 {
            return;
        }
        let view_scale = 1.0 / (non_empty as f64).sqrt();
        for ((view, counts), scale) in self.views.iter().zip(view_counts.iter_mut()).zip(scales) {
            if counts.is_empty() {
                continue;
            }
            if !counts.is_sorted_by_key(|&(col, _)| col) {
                sorter.sort(counts, view.vocabulary.len());
            }
            let norm2: f64 = counts
                .iter()
                .map(|&(col, count)| {
                    let w = term_frequency(self.config.sublinear_tf, count)
                        * view.idf[col as usize] as f64;
                    tf_idf(w);
                    w * w
                })
                .sum();
            *scale = view_scale / norm2.sqrt();
        }
    }
}

/// Most views a vectoriser has (word and character n-grams).
const MAX_VIEWS: usize = 2;

/// The term frequency of an n-gram seen `count` times in a document: `1 + ln(count)` when
/// sublinear, else `count`.
pub fn term_frequency(sublinear: bool, count: u32) -> f64 {
    match (sublinear, count) {
        // ln 1 is exactly 0.
        (_, 1) => 1.0,
        (true, _) => 1.0 + (count as f64).ln(),
        (false, _) => count as f64,
    }
}

/// A matrix value from its term frequency, its column's IDF and its row's view scale (the
/// factor that gives each view's part of the row its norm), rounded exactly as every matrix of this crate rounds it.
#[inline(always)]
pub fn scaled_weight(tf: f64, idf: f32, scale: f64) -> f32 {
    scaled_tf_idf(tf * idf as f64, scale)
}

/// [`scaled_weight`] from the product `tf · idf` already computed.
#[inline(always)]
fn scaled_tf_idf(tf_idf: f64, scale: f64) -> f32 {
    ((tf_idf as f32) as f64 * scale) as f32
}

/// Distinct tokens a [`TransformState`] caches before it starts afresh, bounding its memory.
const MAX_CACHED_TOKENS: usize = 1 << 17;

/// What a character view makes of the tokens a [`TransformState`] has met, so that a token's
/// n-grams (about 34 for an emoji tweet's distinct token) are looked up once per state rather
/// than once per occurrence. N-grams of the vocabulary are counted under state-local *slots*,
/// numbered in order of first appearance: the common ones get small numbers, so counting
/// touches little memory.
#[derive(Default)]
struct ViewCache {
    /// Range in `char_slots` of the slots of each token's character n-grams in the
    /// vocabulary, one per occurrence.
    char_spans: Vec<(usize, usize)>,
    char_slots: Vec<u32>,
    /// One more than the slot of each column met (0: not met), allocated on first use.
    slot_of_column: Vec<u32>,
    column_of_slot: Vec<u32>,
    counter: DocCounter,
}

impl ViewCache {
    /// The slot of vocabulary column `column` of a view of `n_columns`.
    #[inline]
    fn slot(&mut self, column: u32, n_columns: usize) -> u32 {
        if self.slot_of_column.is_empty() {
            self.slot_of_column = vec![0; n_columns];
        }
        let entry = &mut self.slot_of_column[column as usize];
        if *entry == 0 {
            self.column_of_slot.push(column);
            *entry = self.column_of_slot.len() as u32;
        }
        *entry - 1
    }

    /// Turn each vocabulary column of `cols` into its slot, in place; [`DROPPED`] stays.
    fn assign_slots(&mut self, cols: &mut [u32], n_columns: usize) {
        if self.slot_of_column.is_empty() {
            self.slot_of_column = vec![0; n_columns];
        }
        let mut state = (self, cols);
        crate::prefetch::pipelined(
            state.1.len(),
            &mut state,
            |(cache, cols), i| {
                if let Some(entry) = cache.slot_of_column.get(cols[i] as usize) {
                    crate::prefetch::prefetch(std::slice::from_ref(entry));
                }
            },
            |(cache, cols), i| {
                if cols[i] != DROPPED {
                    cols[i] = cache.slot(cols[i], n_columns);
                }
            },
        );
    }

    fn clear(&mut self) {
        self.char_spans.clear();
        self.char_slots.clear();
        self.slot_of_column.clear();
        self.column_of_slot.clear();
    }
}

/// Reusable buffers and caches for vectorising one document after another.
struct TransformState {
    analyzer: Box<dyn crate::tokenize::Analyzer>,
    tokens: TokenBuffer,
    /// The [`ngram_key`] of each of the document's tokens.
    token_keys: Vec<u64>,
    /// Whether a view caches what it makes of each token (a character view), so that tokens
    /// are interned; word views key each token directly, which costs less than interning.
    interns_tokens: bool,
    /// The distinct tokens met so far.
    seen: Interner,
    /// Per view; used by character views.
    caches: Vec<ViewCache>,
    tids: Vec<u32>,
    /// The document's tokens met for the first time, by id.
    fresh: Vec<u32>,
    lookups: Lookups,
    char_starts: Vec<usize>,
    slots: Vec<u32>,
    counts: Vec<(u32, u32)>,
    view_counts: Vec<Vec<(u32, u32)>>,
    sorter: ColumnSorter<u32>,
    tf_idf: Vec<f64>,
    row: RowBuffer,
}

/// One batch of vocabulary lookups: the n-grams' keys, then their columns or slots.
#[derive(Default)]
struct Lookups {
    keys: Vec<u64>,
    cols: Vec<u32>,
    /// Character n-grams: the padded tokens back to back, each n-gram's byte range in them,
    /// and where each token's n-grams end in `keys`.
    texts: String,
    ranges: Vec<(usize, usize)>,
    token_ends: Vec<usize>,
    /// Word n-grams: the first token's position and the length of each.
    spans: Vec<(usize, usize)>,
}

impl TransformState {
    fn new(vectorizer: &TfidfVectorizer) -> Self {
        let n_views = vectorizer.views.len();
        TransformState {
            analyzer: vectorizer.config.analyzer.build(),
            tokens: TokenBuffer::default(),
            token_keys: Vec::new(),
            interns_tokens: vectorizer.views.iter().any(|v| v.kind == ViewKind::Char),
            seen: Interner::default(),
            caches: (0..n_views).map(|_| ViewCache::default()).collect(),
            tids: Vec::new(),
            fresh: Vec::new(),
            lookups: Lookups::default(),
            char_starts: Vec::new(),
            slots: Vec::new(),
            counts: Vec::new(),
            view_counts: vec![Vec::new(); n_views],
            sorter: ColumnSorter::default(),
            tf_idf: Vec::new(),
            row: RowBuffer::default(),
        }
    }

    /// Vectorise `text` into `self.row`. A word view looks up the document's word n-grams in
    /// one batch ([`NgramIndex::get_many`]); a character view looks up the n-grams of the
    /// tokens met for the first time, cached per token from then on. The row does not depend
    /// on the order of lookups.
    fn vectorize(&mut self, vectorizer: &TfidfVectorizer, text: &str) {
        if self.seen.len() > MAX_CACHED_TOKENS {
            self.seen = Interner::default();
            self.caches.iter_mut().for_each(ViewCache::clear);
        }
        let TransformState {
            analyzer,
            tokens,
            token_keys,
            interns_tokens,
            seen,
            caches,
            tids,
            fresh,
            lookups,
            char_starts,
            slots,
            counts,
            view_counts,
            sorter,
            tf_idf,
            row,
        } = self;
        analyzer.analyze(text, tokens);
        token_keys.clear();
        token_keys.extend(tokens.iter().map(|t| ngram_key(t.as_bytes())));
        tids.clear();
        fresh.clear();
        if *interns_tokens {
            for (token, &key) in tokens.iter().zip(token_keys.iter()) {
                let (tid, new) = seen.intern_keyed(key, token);
                if new {
                    fresh.push(tid);
                }
                tids.push(tid);
            }
        }
        for ((view, cache), view_counts) in vectorizer
            .views
            .iter()
            .zip(caches.iter_mut())
            .zip(view_counts.iter_mut())
        {
            let n_columns = view.vocabulary.len();
            match view.kind {
                ViewKind::Word => word_ngram_counts(view, tokens, token_keys, lookups, view_counts),
                ViewKind::Char => {
                    slots.clear();
                    if !fresh.is_empty() {
                        let Lookups {
                            keys,
                            cols,
                            texts,
                            ranges,
                            token_ends,
                            ..
                        } = lookups;
                        keys.clear();
                        texts.clear();
                        ranges.clear();
                        token_ends.clear();
                        for &t in fresh.iter() {
                            append_char_ngrams(
                                view.range,
                                seen.text(t),
                                texts,
                                char_starts,
                                &mut |gram, span| {
                                    keys.push(ngram_key(gram.as_bytes()));
                                    ranges.push(span);
                                },
                            );
                            token_ends.push(keys.len());
                        }
                        let texts: &str = texts;
                        view.index.get_many(
                            keys,
                            |i| Cow::Borrowed(&texts[ranges[i].0..ranges[i].1]),
                            cols,
                        );
                        cache.assign_slots(cols, n_columns);
                        let mut from = 0;
                        for &to in token_ends.iter() {
                            let start = cache.char_slots.len();
                            cache
                                .char_slots
                                .extend(cols[from..to].iter().copied().filter(|&s| s != DROPPED));
                            cache.char_spans.push((start, cache.char_slots.len()));
                            from = to;
                        }
                    }
                    for &t in tids.iter() {
                        let (start, end) = cache.char_spans[t as usize];
                        slots.extend_from_slice(&cache.char_slots[start..end]);
                    }
                    let n_slots = cache.column_of_slot.len();
                    cache.counter.count(slots, n_slots, counts);
                    view_counts.clear();
                    view_counts.extend(
                        counts
                            .iter()
                            .map(|&(slot, c)| (cache.column_of_slot[slot as usize], c)),
                    );
                }
            }
        }
        vectorizer.weigh_row(view_counts, sorter, tf_idf, row);
    }
}

/// Replace `out` with the (column, count) pairs of the word n-grams of a document's tokens
/// (`tokens`, and `token_keys` their [`ngram_key`]s) in `view`'s vocabulary, in column order:
/// every n-gram's key is computed from its tokens' keys and looked up in one batch, and the
/// columns found are sorted and counted (a document has a few dozen).
fn word_ngram_counts(
    view: &View,
    tokens: &TokenBuffer,
    token_keys: &[u64],
    lookups: &mut Lookups,
    out: &mut Vec<(u32, u32)>,
) {
    let Lookups {
        keys, cols, spans, ..
    } = lookups;
    let range = view.range;
    keys.clear();
    spans.clear();
    for (start, &first) in token_keys.iter().enumerate() {
        let mut key = first;
        if range.min == 1 {
            keys.push(key);
            spans.push((start, 1));
        }
        for (len, &next) in (2..=range.max).zip(&token_keys[start + 1..]) {
            key = word_key_step(key, next);
            if len >= range.min {
                keys.push(key);
                spans.push((start, len));
            }
        }
    }
    let text_of = |i: usize| {
        let (start, len) = spans[i];
        let words: Vec<&str> = (start..start + len).map(|t| tokens.get(t)).collect();
        Cow::Owned(words.join(" "))
    };
    view.index.get_many(keys, text_of, cols);
    cols.retain(|&col| col != DROPPED);
    cols.sort_unstable();
    out.clear();
    for &col in cols.iter() {
        match out.last_mut() {
            Some((last, count)) if *last == col => *count += 1,
            _ => out.push((col, 1)),
        }
    }
}

/// Smoothed inverse document frequency, as scikit-learn's `smooth_idf=True`.
pub fn smoothed_idf(n_docs: usize, df: u32) -> f32 {
    (((1 + n_docs) as f64 / (1 + df) as f64).ln() + 1.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn char_grams(range: &str, text: &str) -> Vec<String> {
        let mut tokens = TokenBuffer::default();
        AnalyzerKind::default().build().analyze(text, &mut tokens);
        let mut out = Vec::new();
        for token in tokens.iter() {
            append_char_ngrams(
                range.parse().unwrap(),
                token,
                &mut String::new(),
                &mut Vec::new(),
                &mut |g, _| out.push(g.to_string()),
            );
        }
        out
    }

    fn word_grams(range: &str, text: &str) -> Vec<String> {
        let config = VectorizerConfig {
            word_ngrams: Some(range.parse().unwrap()),
            char_ngrams: None,
            min_df: DocFreq::Count(1),
            ..VectorizerConfig::default()
        };
        match TfidfVectorizer::fit_transform(&config, &[text.to_string()]) {
            Ok((v, _)) => v.views[0].vocabulary.clone(),
            Err(_) => Vec::new(),
        }
    }

    #[test]
    fn word_ngrams() {
        assert_eq!(word_grams("1-2", "a b c"), ["a", "a b", "b", "b c", "c"]);
        assert_eq!(word_grams("2-3", "a b c"), ["a b", "a b c", "b c"]);
        assert_eq!(word_grams("2-3", "a"), Vec::<String>::new());
    }

    #[test]
    fn char_ngrams_inside_word_boundaries() {
        assert_eq!(char_grams("2-3", "ab"), [" a", "ab", "b ", " ab", "ab "]);
        // A word shorter than n is emitted once, whole (scikit-learn's char_wb rule).
        assert_eq!(char_grams("4-5", "a"), [" a "]);
        assert_eq!(char_grams("1-1", "é"), [" ", "é", " "]);
    }

    #[test]
    fn auto_min_df_keeps_singletons_of_small_data_only_and_is_recorded_as_a_count() {
        assert_eq!("auto".parse::<DocFreq>(), Ok(DocFreq::Auto));
        assert_eq!(DocFreq::Auto.to_string(), "auto");
        let below = KEEP_SINGLETONS_BELOW - 1;
        assert_eq!(DocFreq::Auto.resolved(below), DocFreq::Count(1));
        assert_eq!(
            DocFreq::Auto.resolved(KEEP_SINGLETONS_BELOW),
            DocFreq::Count(2)
        );
        assert_eq!(DocFreq::Count(3).resolved(below), DocFreq::Count(3));

        let texts: Vec<String> = ["war talks", "peace talks", "sanctions"]
            .iter()
            .map(|t| t.to_string())
            .collect();
        let config = VectorizerConfig {
            char_ngrams: None,
            ..VectorizerConfig::default()
        };
        assert_eq!(config.min_df, DocFreq::Auto);
        let (vectorizer, _) = TfidfVectorizer::fit_transform(&config, &texts).unwrap();
        assert_eq!(vectorizer.config.min_df, DocFreq::Count(1));
        // Singletons kept: `war`, `peace`, `sanctions` and the bigrams, not only `talks`.
        assert!(vectorizer.views[0]
            .vocabulary
            .contains(&"sanctions".to_string()));

        let auto_max = VectorizerConfig {
            max_df: DocFreq::Auto,
            ..VectorizerConfig::default()
        };
        assert!(auto_max.validate().is_err());
    }

    #[test]
    fn short_keys_are_the_bytes_and_long_keys_are_hashed() {
        assert_eq!(ngram_key(b""), 0);
        assert_eq!(ngram_key(b"ab"), 0x0200_0000_0000_6261);
        assert_eq!(ngram_key(b"abcdefg") >> 56, 7);
        assert_ne!(ngram_key(b"abcdefgh") & HASHED_KEY, 0);
        assert_ne!(ngram_key(b"abcdefgh"), ngram_key(b"abcdefgh\0"));
        // Fixed values: changing the key function changes what saved models mean.
        assert_eq!(ngram_key("naïve café".as_bytes()), 0x866e_256f_02e5_a8a5);
        assert_eq!(term_key(ViewKind::Word, "of the"), 0x9c1e_f1e8_a324_c8dc);
        assert_eq!(
            term_key(ViewKind::Word, "of the"),
            word_key_step(ngram_key(b"of"), ngram_key(b"the"))
        );
        assert_eq!(term_key(ViewKind::Word, "war"), ngram_key(b"war"));
    }

    #[test]
    fn interner_keeps_colliding_texts_apart() {
        let mut interner = Interner::default();
        let same = HASHED_KEY | 42;
        assert_eq!(interner.intern_keyed(same, "first long text"), (0, true));
        assert_eq!(interner.intern_keyed(same, "second long text"), (1, true));
        assert_eq!(interner.intern_keyed(same, "first long text"), (0, false));
        assert_eq!(interner.intern_keyed(same, "second long text"), (1, false));
        assert_eq!(interner.intern("short"), (2, true));
        assert_eq!(interner.text(1), "second long text");
    }

    #[test]
    fn key_table_grows_from_empty_and_keeps_every_entry() {
        let mut table = KeyTable::default();
        // Keys that share their low bits, as the byte keys of short n-grams do.
        let keys: Vec<u64> = (0..5000u64).map(|i| i << 40 | 7).collect();
        for (v, &k) in keys.iter().enumerate() {
            assert!(table.get_or_insert(k, v as u32).is_none());
        }
        assert_eq!(table.len, keys.len());
        assert!(2 * table.len <= table.slots.len());
        for (v, &k) in keys.iter().enumerate() {
            assert_eq!(table.get(k), Some(v as u32));
            assert_eq!(table.get_or_insert(k, 0).copied(), Some(v as u32));
        }
        assert_eq!(table.get(8), None);
    }

    #[test]
    fn index_looks_colliding_entries_up_by_text() {
        let vocabulary: Vec<String> = ["x", "y", "z", "y"].map(String::from).to_vec();
        // Every entry but "x" shares one key; "y" is repeated and keeps its last column.
        let index = NgramIndex::build(&vocabulary, |t| if t == "x" { 1 } else { 2 });
        assert_eq!(index.get(1, || "x".into()), Some(0));
        assert_eq!(index.get(2, || "y".into()), Some(3));
        assert_eq!(index.get(2, || "z".into()), Some(2));
        assert_eq!(index.get(2, || "w".into()), None);
        assert_eq!(index.get(3, || unreachable!()), None);
    }
}
