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
use unicode_normalization_alignments::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// The tokens of one text, stored as one string plus byte ranges so that analysing a
/// document allocates nothing per token once the buffer has grown.
#[derive(Debug, Default, Clone)]
pub struct TokenBuffer {
    /// What the tokens are ranges of; it may hold bytes between them (the default analyser
    /// puts a lowercased copy of the whole text here).
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
    /// a byte-level path in one pass over the text: for ASCII, NFKC is the identity,
    /// lowercasing is `to_ascii_lowercase` and `\w+|[^\w\s]+` splits into `[A-Za-z0-9_]`
    /// runs and runs of other printable characters. Other words are normalised and split by
    /// the functions and tables `tokenizers` uses (`unicode-normalization-alignments`' NFKC
    /// and its quick check, `char::to_lowercase`, the `regex` crate's `\w`) without its
    /// per-byte alignment bookkeeping, which cost about 2.5 µs a word. So this gives exactly
    /// the tokens of `tokenizers` on the whole text; a differential test
    /// (`tests/tokenizer_differential.rs`: proptest, the bundled text, and every TweetEval
    /// text when `../shared` is present) and the `analyze` fuzz target check it.
    fn analyze(&self, text: &str, out: &mut TokenBuffer) {
        out.clear();
        // ASCII tokens are spans of a lowercased copy of the whole text, at their own byte
        // positions; the tokens of words with other characters are appended after it.
        out.text.push_str(text);
        out.text.make_ascii_lowercase();
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut word_start = 0;
        let mut word_first_span = 0;
        while i < bytes.len() {
            match BYTE_CLASS[bytes[i] as usize] {
                ByteClass::Space => {
                    i += 1;
                    word_start = i;
                    word_first_span = out.spans.len();
                }
                ByteClass::NonAscii => {
                    let word_end = bytes[i..]
                        .iter()
                        .position(|&b| BYTE_CLASS[b as usize] == ByteClass::Space)
                        .map_or(bytes.len(), |len| i + len);
                    out.spans.truncate(word_first_span);
                    // Cut at ASCII bytes, so both ends are character boundaries.
                    unicode_tokens(&text[word_start..word_end], out);
                    i = word_end;
                }
                class => {
                    let start = i;
                    i += 1;
                    while i < bytes.len() && BYTE_CLASS[bytes[i] as usize] == class {
                        i += 1;
                    }
                    out.spans.push((start as u32, i as u32));
                }
            }
        }
    }
}

/// What a byte of UTF-8 text is to the pre-tokeniser's pattern `\w+|[^\w\s]+`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ByteClass {
    /// An ASCII character that `\s` matches (Unicode `White_Space`).
    Space,
    /// `[A-Za-z0-9_]`, the ASCII characters `\w` matches.
    Word,
    /// Any other ASCII character.
    Other,
    /// Part of a character outside ASCII.
    NonAscii,
}

/// The [`ByteClass`] of every byte.
static BYTE_CLASS: [ByteClass; 256] = {
    let mut table = [ByteClass::NonAscii; 256];
    let mut b = 0;
    while b < 128 {
        let byte = b as u8;
        table[b] = if matches!(byte, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ') {
            ByteClass::Space
        } else if byte.is_ascii_alphanumeric() || byte == b'_' {
            ByteClass::Word
        } else {
            ByteClass::Other
        };
        b += 1;
    }
    table
};

/// Tokens of a word without ASCII whitespace: NFKC, then each character lowercased on its
/// own (as `tokenizers`' `Lowercase`, so no final-sigma rule), then the pre-tokeniser's
/// pattern. NFKC is skipped when the word passes its quick check (every character
/// `NFKC_Quick_Check=Yes`, so the word is its own NFKC form), as most emoji and letters do.
fn unicode_tokens(word: &str, out: &mut TokenBuffer) {
    let mut normalized = std::mem::take(&mut out.scratch);
    normalized.clear();
    if is_nfkc_quick(word.chars()) == IsNormalized::Yes {
        normalized.extend(word.chars().flat_map(char::to_lowercase));
    } else {
        normalized.extend(word.nfkc().flat_map(|(c, _)| c.to_lowercase()));
    }
    push_pattern_matches(&normalized, out);
    out.scratch = normalized;
}

/// Push the matches of the pre-tokeniser's pattern `\w+|[^\w\s]+` in `text`: its maximal runs
/// of word characters and its maximal runs of characters that are neither word nor space.
/// `\w` is the `regex` crate's own table ([`regex_syntax::is_word_character`]) and `\s` is
/// Unicode `White_Space` ([`char::is_whitespace`]); a test checks both against the pattern
/// for every `char`.
fn push_pattern_matches(text: &str, out: &mut TokenBuffer) {
    // The current run's start and whether it is of word characters.
    let mut run: Option<(usize, bool)> = None;
    for (i, c) in text.char_indices() {
        let class = if regex_syntax::is_word_character(c) {
            Some(true)
        } else if c.is_whitespace() {
            None
        } else {
            Some(false)
        };
        if let Some((start, word)) = run {
            if class == Some(word) {
                continue;
            }
            out.push(&text[start..i]);
        }
        run = class.map(|word| (i, word));
    }
    if let Some((start, _)) = run {
        out.push(&text[start..]);
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

    /// The pattern's classes, as the fast path reads them, against the pattern itself for
    /// every `char`.
    #[test]
    fn character_classes_match_the_pattern_for_every_char() {
        let word = regex::Regex::new(r"\A\w\z").unwrap();
        let space = regex::Regex::new(r"\A\s\z").unwrap();
        let mut buf = [0u8; 4];
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let text = c.encode_utf8(&mut buf);
            assert_eq!(
                regex_syntax::is_word_character(c),
                word.is_match(text),
                "{c:?}"
            );
            assert_eq!(c.is_whitespace(), space.is_match(text), "{c:?}");
            if c.is_ascii() {
                let class = match BYTE_CLASS[c as usize] {
                    ByteClass::Space => space.is_match(text),
                    ByteClass::Word => word.is_match(text),
                    ByteClass::Other => !word.is_match(text) && !space.is_match(text),
                    ByteClass::NonAscii => false,
                };
                assert!(class, "{c:?}");
            } else {
                assert!(text
                    .bytes()
                    .all(|b| BYTE_CLASS[b as usize] == ByteClass::NonAscii));
            }
        }
    }

    #[test]
    fn emoji_is_its_own_token() {
        assert_eq!(tokens("love😂"), ["love", "😂"]);
        assert!(tokens("   ").is_empty());
    }
}
