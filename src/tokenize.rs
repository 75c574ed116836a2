//! Tokenising: text → normalised word tokens, defined by the Hugging Face `tokenizers` crate.
//!
//! The default analyser is NFKC normalisation, then lowercasing, then the `Whitespace`
//! pre-tokeniser (`\w+|[^\w\s]+`). NFKC folds the compatibility forms common in social
//! media (full-width letters, ligatures, "math bold" letters) onto ordinary ones; the
//! pre-tokeniser separates words from runs of punctuation and symbols, so `"war!!😠"` gives
//! `war`, `!!😠` and an emoticon or `?!` survives as a token of its own. BERT's normaliser
//! would also strip accents (losing information in names and non-English text) and its
//! pre-tokeniser glues emoji onto adjacent words; both are also slower
//! (see `../shared/notes/crates.md`).

use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use tokenizers::normalizers::{Lowercase, NFKC};
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};
use unicode_normalization_alignments::UnicodeNormalization;

/// The tokens of one text, stored as one string plus byte ranges so that analysing a
/// document allocates nothing per token once the buffer has grown.
#[derive(Debug, Default, Clone)]
pub struct TokenBuffer {
    text: String,
    spans: Vec<(u32, u32)>,
    /// Room to normalise one word in before splitting it.
    scratch: String,
}

impl TokenBuffer {
    /// Empty the buffer, keeping its capacity.
    pub fn clear(&mut self) {
        self.text.clear();
        self.spans.clear();
    }

    /// Append one token.
    pub fn push(&mut self, token: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(token);
        self.spans.push((start, self.text.len() as u32));
    }

    /// Append one ASCII token, lowercased.
    fn push_ascii_lowercase(&mut self, token: &str) {
        let start = self.text.len() as u32;
        self.text
            .extend(token.bytes().map(|b| b.to_ascii_lowercase() as char));
        self.spans.push((start, self.text.len() as u32));
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// True when there are no tokens.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The `i`-th token.
    pub fn get(&self, i: usize) -> &str {
        let (start, end) = self.spans[i];
        &self.text[start as usize..end as usize]
    }

    /// The tokens in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.spans
            .iter()
            .map(|&(s, e)| &self.text[s as usize..e as usize])
    }
}

/// A text → tokens stage. Implementations must be deterministic and never panic.
pub trait Analyzer: Send + Sync {
    /// Replace the contents of `out` with the tokens of `text`.
    fn analyze(&self, text: &str, out: &mut TokenBuffer);
}

/// Which analyser a vectoriser uses; stored in model files so a model always tokenises
/// new text exactly as it tokenised its training data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AnalyzerKind {
    /// NFKC + lowercase + `Whitespace` pre-tokeniser, all from `tokenizers` 0.23.
    #[default]
    NfkcLowercaseWhitespace,
}

impl AnalyzerKind {
    /// Build the analyser.
    pub fn build(self) -> Box<dyn Analyzer> {
        match self {
            AnalyzerKind::NfkcLowercaseWhitespace => Box::new(HfAnalyzer::default()),
        }
    }

    /// A short human-readable description for reports.
    pub fn describe(self) -> &'static str {
        match self {
            AnalyzerKind::NfkcLowercaseWhitespace => {
                "tokenizers: NFKC + Lowercase normalisers, Whitespace pre-tokenizer (\\w+|[^\\w\\s]+)"
            }
        }
    }
}

/// The default analyser, built from `tokenizers` components.
#[derive(Debug, Clone)]
pub struct HfAnalyzer {
    nfkc: NFKC,
    lowercase: Lowercase,
    pre_tokenizer: Whitespace,
}

impl Default for HfAnalyzer {
    fn default() -> Self {
        HfAnalyzer {
            nfkc: NFKC,
            lowercase: Lowercase,
            pre_tokenizer: Whitespace,
        }
    }
}

impl Analyzer for HfAnalyzer {
    /// The text is cut into words at ASCII whitespace (tokens never span whitespace, and
    /// neither normaliser combines characters across an ASCII space). Pure-ASCII words take
    /// a byte-level path: for ASCII, NFKC is the identity, lowercasing is
    /// `to_ascii_lowercase` and `\w+|[^\w\s]+` splits into `[A-Za-z0-9_]` runs and runs
    /// of other printable characters. Other words are normalised and split by the very
    /// functions `tokenizers` calls (`unicode-normalization-alignments`' NFKC,
    /// `char::to_lowercase`, the `regex` crate with its pattern) without its per-byte
    /// alignment bookkeeping, which cost about 2.5 µs a word. So this gives exactly the
    /// tokens of `tokenizers` on the whole text; a differential test
    /// (`tests/tokenizer_differential.rs`: proptest, the bundled text, and every TweetEval
    /// text when `../shared` is present) checks it.
    fn analyze(&self, text: &str, out: &mut TokenBuffer) {
        out.clear();
        for word in text.split(is_regex_ascii_space).filter(|w| !w.is_empty()) {
            if word.is_ascii() {
                ascii_tokens(word, out);
            } else {
                unicode_tokens(word, out);
            }
        }
    }
}

/// The `Whitespace` pre-tokeniser's pattern, compiled by the same `regex` crate.
static WHITESPACE_PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\w+|[^\w\s]+").expect("a constant, valid pattern"));

/// Tokens of a word without ASCII whitespace: NFKC, then each character lowercased on its
/// own (as `tokenizers`' `Lowercase`, so no final-sigma rule), then the pre-tokeniser's
/// pattern.
fn unicode_tokens(word: &str, out: &mut TokenBuffer) {
    let mut normalized = std::mem::take(&mut out.scratch);
    normalized.clear();
    normalized.extend(word.nfkc().flat_map(|(c, _)| c.to_lowercase()));
    for token in WHITESPACE_PATTERN.find_iter(&normalized) {
        out.push(token.as_str());
    }
    out.scratch = normalized;
}

/// The ASCII characters the pre-tokenizer's `\s` matches (Unicode `White_Space`).
fn is_regex_ascii_space(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ')
}

/// Tokens of an ASCII word without whitespace: runs of `[A-Za-z0-9_]`, lowercased, and runs
/// of anything else.
fn ascii_tokens(word: &str, out: &mut TokenBuffer) {
    let bytes = word.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut start = 0;
    while start < bytes.len() {
        let kind = is_word(bytes[start]);
        let end = bytes[start..]
            .iter()
            .position(|&b| is_word(b) != kind)
            .map_or(bytes.len(), |i| start + i);
        out.push_ascii_lowercase(&word[start..end]);
        start = end;
    }
}

impl HfAnalyzer {
    /// The definition the fast paths must match: `tokenizers` on the whole text at once
    /// (slow, and about 57 bytes of memory per input byte for its alignment tables). For
    /// differential tests.
    pub fn analyze_reference(&self, text: &str, out: &mut TokenBuffer) {
        out.clear();
        self.analyze_with_tokenizers(text, out);
    }

    /// Append the tokens of `text` to `out`, by `tokenizers`.
    fn analyze_with_tokenizers(&self, text: &str, out: &mut TokenBuffer) {
        let mut pretokenized = PreTokenizedString::from(text);
        // These stages cannot fail on a valid &str: their errors come only from
        // regexes compiled at start-up, which are constants.
        pretokenized
            .normalize(|n| {
                self.nfkc.normalize(n)?;
                self.lowercase.normalize(n)
            })
            .expect("NFKC + lowercase normalisation is infallible");
        self.pre_tokenizer
            .pre_tokenize(&mut pretokenized)
            .expect("Whitespace pre-tokenisation is infallible");
        for (token, _, _) in
            pretokenized.get_splits(OffsetReferential::Normalized, OffsetType::None)
        {
            if !token.is_empty() {
                out.push(token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut buf = TokenBuffer::default();
        HfAnalyzer::default().analyze(text, &mut buf);
        buf.iter().map(str::to_string).collect()
    }

    #[test]
    fn lowercases_and_splits_punctuation() {
        assert_eq!(
            tokens("Russia's \"aggression\"!"),
            ["russia", "'", "s", "\"", "aggression", "\"!"]
        );
    }

    #[test]
    fn nfkc_folds_compatibility_forms() {
        assert_eq!(tokens("ＷＡＲ ﬁne"), ["war", "fine"]);
    }

    /// The reference: `tokenizers` on the whole text.
    fn reference(text: &str) -> Vec<String> {
        let mut buf = TokenBuffer::default();
        HfAnalyzer::default().analyze_with_tokenizers(text, &mut buf);
        buf.iter().map(str::to_string).collect()
    }

    #[test]
    fn fast_path_matches_tokenizers() {
        for text in [
            "Hello, World!! don't_stop 123abc\tTAB\x0bVT\x0cFF\r\n",
            "ctrl\x01\x1c\x1fchars ~`@#$%^&*()[]{}<>?/\\|",
            "Ｒussia café\u{301} naïve\u{a0}nbsp 😂x x😂 «quote» İstanbul ǅ",
            "",
            "   ",
            "a\u{3000}b\u{2028}c\u{85}d",
            "ΟΔΟΣ ᄀ\u{1161}\u{11A8} \u{212B}\u{2126} ᾼ\u{345}",
        ] {
            assert_eq!(tokens(text), reference(text), "{text:?}");
        }
    }

    #[test]
    fn emoji_is_its_own_token() {
        assert_eq!(tokens("love😂"), ["love", "😂"]);
        assert!(tokens("   ").is_empty());
    }
}
