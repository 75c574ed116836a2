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

use serde::{Deserialize, Serialize};
use tokenizers::normalizers::{Lowercase, NFKC};
use tokenizers::pre_tokenizers::whitespace::Whitespace;
use tokenizers::{Normalizer, OffsetReferential, OffsetType, PreTokenizedString, PreTokenizer};

/// The tokens of one text, stored as one string plus byte ranges so that analysing a
/// document allocates nothing per token once the buffer has grown.
#[derive(Debug, Default, Clone)]
pub struct TokenBuffer {
    text: String,
    spans: Vec<(u32, u32)>,
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

/// Texts longer than this are analysed a piece at a time, cut at whitespace: `tokenizers`
/// keeps per-byte alignment tables while normalising (about 57 bytes of memory per input
/// byte), so a 20 MB text would take over a gigabyte at once.
const PIECE_BYTES: usize = 1 << 16;

impl Analyzer for HfAnalyzer {
    /// Words (runs between ASCII whitespace) that are pure ASCII take a fast path — for ASCII,
    /// NFKC is the identity, lowercasing is `to_ascii_lowercase` and the pre-tokenizer's
    /// `\w+|[^\w\s]+` is a split into alphanumeric-or-underscore runs and runs of other
    /// printable characters. Other words go through `tokenizers` one by one. Because tokens
    /// never span whitespace and neither normaliser combines characters across an ASCII
    /// space, this gives exactly the tokens of `tokenizers` on the whole text; a
    /// differential test (`tests/properties.rs`, and every TweetEval text when `../shared`
    /// is present) checks it.
    fn analyze(&self, text: &str, out: &mut TokenBuffer) {
        out.clear();
        for word in text.split(is_regex_ascii_space).filter(|w| !w.is_empty()) {
            if word.is_ascii() {
                ascii_tokens(word, out);
            } else {
                for piece in whitespace_pieces(word, PIECE_BYTES) {
                    self.analyze_piece(piece, out);
                }
            }
        }
    }
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
    /// The definition the fast path must match: `tokenizers` on the whole text at once
    /// (slow, and memory-hungry on very long texts). For differential tests.
    pub fn analyze_reference(&self, text: &str, out: &mut TokenBuffer) {
        out.clear();
        self.analyze_piece(text, out);
    }

    /// Append the tokens of `text` to `out`.
    fn analyze_piece(&self, text: &str, out: &mut TokenBuffer) {
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

/// Cut `text` into pieces of about `size` bytes, each ending just after an ASCII whitespace
/// character. Tokens never span whitespace, and neither NFKC nor lowercasing combines a
/// character across an ASCII space, so analysing the pieces one by one gives the same
/// tokens as analysing the whole. A run of `size` bytes without ASCII whitespace stays whole.
fn whitespace_pieces(text: &str, size: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() <= size {
            return Some(std::mem::take(&mut rest));
        }
        let cut = rest.as_bytes()[size..]
            .iter()
            .position(|b| b.is_ascii_whitespace())
            .map_or(rest.len(), |i| size + i + 1);
        let (piece, tail) = rest.split_at(cut);
        rest = tail;
        Some(piece)
    })
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

    #[test]
    fn long_texts_give_the_same_tokens_piece_by_piece() {
        let text = "Ｒussia's «talks» café\u{301} 😂😂 don't\tstop\nNOW!! ".repeat(40);
        let analyzer = HfAnalyzer::default();
        let mut whole = TokenBuffer::default();
        analyzer.analyze_piece(&text, &mut whole);
        for size in [1, 7, 64, 1000] {
            let mut pieces = TokenBuffer::default();
            for piece in whitespace_pieces(&text, size) {
                analyzer.analyze_piece(piece, &mut pieces);
            }
            assert_eq!(
                pieces.iter().collect::<Vec<_>>(),
                whole.iter().collect::<Vec<_>>(),
                "size {size}"
            );
        }
        assert_eq!(whitespace_pieces(&text, 64).collect::<String>(), text);
    }

    /// The reference: `tokenizers` on the whole text.
    fn reference(text: &str) -> Vec<String> {
        let mut buf = TokenBuffer::default();
        HfAnalyzer::default().analyze_piece(text, &mut buf);
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
