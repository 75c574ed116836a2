//! Property tests (proptest) of the analyser and the TF-IDF vectoriser.
//!
//! The analyser must never panic, whatever Unicode it is given, and must be deterministic;
//! its tokens are non-empty and hold no whitespace. A fitted vectoriser gives rows of unit
//! L2 norm (or empty rows), strictly increasing in-range columns and finite values, the same
//! rows from `fit_transform`, `transform` and `transform_one`, and the same vocabulary, IDF
//! and matrix whatever the number of threads.
//!
//! Case counts are modest so the file runs in a few seconds in debug builds on two cores.

use proptest::collection::vec;
use proptest::prelude::*;

use stance::sparse::CsrMatrix;
use stance::tokenize::{Analyzer, AnalyzerKind, TokenBuffer};
use stance::vectorize::{DocFreq, NgramRange, TfidfVectorizer, VectorizerConfig};

// ---------------------------------------------------------------------------------------
// strategies
// ---------------------------------------------------------------------------------------

/// Characters that are known to stress normalisers and pre-tokenisers: case mappings that
/// change length, NFKC expansions, invisible format characters, noncharacters, NUL.
const AWKWARD: &[char] = &[
    '\0',
    '\u{FFFD}', // replacement character
    '\u{FFFE}', // noncharacters
    '\u{FFFF}',
    '\u{10FFFF}',
    '\u{FEFF}', // byte-order mark / zero-width no-break space
    '\u{200B}', // zero-width space
    '\u{200C}', // zero-width non-joiner
    '\u{200D}', // zero-width joiner
    '\u{200E}', // left-to-right mark
    '\u{200F}', // right-to-left mark
    '\u{202A}',
    '\u{202B}',
    '\u{202C}',
    '\u{202D}',
    '\u{202E}', // right-to-left override
    '\u{2066}',
    '\u{2067}',
    '\u{2068}',
    '\u{2069}',
    '\u{FE0F}',  // emoji presentation selector
    '\u{E0001}', // language tag
    '\u{E0067}', // tag letters (flag sequences)
    '\u{0130}',  // İ: lowercases to two characters
    '\u{1E9E}',  // ẞ
    '\u{03A3}',  // Σ (final-sigma rule)
    '\u{03C2}',
    '\u{FB01}', // ﬁ ligature
    '\u{FDFA}', // an Arabic ligature that NFKC expands to 18 characters
    '\u{FDFB}',
    '\u{3300}', // squared katakana: NFKC expands
    '\u{33FF}',
    '\u{2126}',  // Ohm sign → Ω
    '\u{212B}',  // Angstrom sign → Å
    '\u{00BD}',  // ½ → 1⁄2
    '\u{2460}',  // ① → 1
    '\u{1D400}', // mathematical bold A
    '\u{1F1FA}', // regional indicators
    '\u{1F1F8}',
    '\u{0345}', // combining ypogegrammeni (uppercases specially)
    '\u{0F73}', // Tibetan vowel with a decomposition that must not be used
    '\u{0344}',
    '\u{1100}', // Hangul jamo (composition)
    '\u{1161}',
    '\u{11A8}',
    '\u{AC00}',
    '\u{D7A3}',
];

/// Whitespace of every kind, ASCII and not.
const SPACES: &[char] = &[
    ' ', '\t', '\n', '\r', '\u{0B}', '\u{0C}', '\u{85}', '\u{A0}', '\u{1680}', '\u{2000}',
    '\u{2007}', '\u{200A}', '\u{2028}', '\u{2029}', '\u{202F}', '\u{205F}', '\u{3000}',
];

fn one_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => proptest::char::range('a', 'z'),
        2 => proptest::sample::select(AWKWARD),
        2 => proptest::sample::select(SPACES),
        1 => proptest::char::range('\u{0300}', '\u{036F}'), // combining diacritics
        1 => proptest::char::range('\u{1AB0}', '\u{1AFF}'),
        1 => proptest::char::range('\u{20D0}', '\u{20FF}'),
        1 => proptest::char::range('\u{0590}', '\u{05FF}'), // Hebrew
        1 => proptest::char::range('\u{0600}', '\u{06FF}'), // Arabic
        1 => proptest::char::range('\u{0000}', '\u{001F}'), // C0 controls
        1 => proptest::char::range('\u{007F}', '\u{009F}'), // DEL and C1 controls
        1 => proptest::char::range('\u{FF01}', '\u{FFEE}'), // full-width and half-width forms
        1 => proptest::char::range('\u{1F300}', '\u{1FAFF}'), // emoji
        1 => proptest::char::range('\u{1F3FB}', '\u{1F3FF}'), // skin-tone modifiers
        1 => proptest::char::range('\u{1D400}', '\u{1D7FF}'), // mathematical alphanumerics
        1 => proptest::char::range('\u{3040}', '\u{30FF}'), // kana
        1 => proptest::char::range('\u{4E00}', '\u{4E80}'), // CJK
        1 => proptest::char::range('\u{E000}', '\u{E010}'), // private use
    ]
}

/// One emoji cluster: a base, optional skin tone and variation selector, joined by ZWJ.
fn emoji_cluster() -> impl Strategy<Value = String> {
    let part = (
        proptest::char::range('\u{1F466}', '\u{1F469}'),
        proptest::option::of(proptest::char::range('\u{1F3FB}', '\u{1F3FF}')),
        any::<bool>(),
    )
        .prop_map(|(base, tone, vs)| {
            let mut s = base.to_string();
            s.extend(tone);
            if vs {
                s.push('\u{FE0F}');
            }
            s
        });
    vec(part, 1..5).prop_map(|parts| parts.join("\u{200D}"))
}

/// Text built to hurt a Unicode analyser.
fn awkward_text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Anything at all.
        3 => any::<String>(),
        // A mixture of the classes above.
        4 => vec(one_char(), 0..80).prop_map(|cs| cs.into_iter().collect()),
        // A base letter with a stack of combining marks, repeated.
        1 => (proptest::char::range('a', 'z'), vec(proptest::char::range('\u{0300}', '\u{036F}'), 0..40), 1..5usize)
            .prop_map(|(base, marks, n)| {
                let one: String = std::iter::once(base).chain(marks).collect();
                one.repeat(n)
            }),
        // Right-to-left text with embedded numbers, Latin words and direction marks.
        1 => vec(
            prop_oneof![
                Just("שלום".to_string()),
                Just("مرحبا بالعالم".to_string()),
                Just("\u{202E}abc\u{202C}".to_string()),
                Just("\u{200F}123\u{200E}".to_string()),
                Just("Москва".to_string()),
                Just("ﷺ".to_string()),
                "[a-z]{1,6}",
            ],
            0..12,
        )
        .prop_map(|parts| parts.join(" ")),
        // Emoji with ZWJ and skin tones, glued to words or spaced.
        1 => vec(prop_oneof![emoji_cluster(), "[a-zA-Z]{0,5}", Just(" ".to_string())], 0..12)
            .prop_map(|parts| parts.concat()),
        // A very long run of one character.
        1 => (one_char(), 1..6000usize).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
        // Full-width forms of an ASCII sentence.
        1 => "[ -~]{0,60}".prop_map(|s| s
            .chars()
            .map(|c| match c {
                '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap(),
                ' ' => '\u{3000}',
                other => other,
            })
            .collect()),
    ]
}

fn tokens_of(analyzer: &dyn Analyzer, text: &str, buf: &mut TokenBuffer) -> Vec<String> {
    analyzer.analyze(text, buf);
    buf.iter().map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------
// analyser
// ---------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// No panic on any text; the same tokens every time (with a fresh or a reused buffer, a
    /// fresh or the same analyser); every token non-empty and free of whitespace.
    #[test]
    fn analyser_never_panics_and_is_deterministic(text in awkward_text(), other in awkward_text()) {
        let analyzer = AnalyzerKind::default().build();
        let mut buf = TokenBuffer::default();
        let first = tokens_of(analyzer.as_ref(), &text, &mut buf);
        prop_assert_eq!(buf.len(), first.len());
        prop_assert_eq!(buf.is_empty(), first.is_empty());
        for (i, token) in first.iter().enumerate() {
            prop_assert_eq!(buf.get(i), token.as_str());
            prop_assert!(!token.is_empty(), "empty token in {:?}: {:?}", text, first);
            prop_assert!(
                !token.chars().any(char::is_whitespace),
                "token {:?} of {:?} holds whitespace", token, text
            );
        }

        // Same analyser, a buffer that held another text's tokens.
        let mut dirty = TokenBuffer::default();
        tokens_of(analyzer.as_ref(), &other, &mut dirty);
        let again = tokens_of(analyzer.as_ref(), &text, &mut dirty);
        prop_assert_eq!(&again, &first);

        // A freshly built analyser.
        let fresh = AnalyzerKind::default().build();
        let third = tokens_of(fresh.as_ref(), &text, &mut TokenBuffer::default());
        prop_assert_eq!(&third, &first);
    }

    /// Text made only of whitespace, of any kind, gives no tokens.
    #[test]
    fn whitespace_only_text_has_no_tokens(text in vec(proptest::sample::select(SPACES), 0..40)) {
        let text: String = text.into_iter().collect();
        let analyzer = AnalyzerKind::default().build();
        let mut buf = TokenBuffer::default();
        let tokens = tokens_of(analyzer.as_ref(), &text, &mut buf);
        prop_assert!(tokens.is_empty(), "{:?} gave {:?}", text, tokens);
    }
}

// ---------------------------------------------------------------------------------------
// vectoriser
// ---------------------------------------------------------------------------------------

/// A small fixed corpus with repeated words, so that every configuration keeps some n-grams.
const BASE: &[&str] = &[
    "The minister condemned the hostile military buildup.",
    "The two governments signed a cooperation agreement.",
    "The statistics office published quarterly figures.",
    "Officials condemned the provocations and warned of retaliation!",
    "Both sides signed a joint agreement on trade.",
    "The office published the annual population figures.",
    "ＷＡＲ and peace 😂 café İstanbul",
    "war, peace?! café",
];

/// Words shared between generated texts, so that generated n-grams pass min_df.
const POOL: &[&str] = &[
    "the",
    "minister",
    "condemned",
    "signed",
    "agreement",
    "figures",
    "war",
    "peace",
    "WAR",
    "Ｗａｒ",
    "café",
    "cafe\u{301}",
    "😂",
    "👩🏽\u{200D}🚀",
    "!!",
    "?!",
    "—",
    "Σίσυφος",
    "שלום",
    "İ",
    "x",
    "ﬁne",
];

/// A text of up to `max_words - 1` pool words and occasional awkward fragments.
fn pool_text_of(max_words: usize) -> impl Strategy<Value = String> {
    vec(
        prop_oneof![
            6 => proptest::sample::select(POOL).prop_map(str::to_string),
            1 => vec(one_char(), 0..6).prop_map(|cs| cs.into_iter().collect()),
        ],
        0..max_words,
    )
    .prop_map(|words| words.join(" "))
}

fn pool_text() -> impl Strategy<Value = String> {
    pool_text_of(14)
}

fn range(min: usize, max: usize) -> NgramRange {
    NgramRange { min, max }
}

fn config() -> impl Strategy<Value = VectorizerConfig> {
    let word = prop_oneof![
        Just(Some(range(1, 1))),
        Just(Some(range(1, 2))),
        Just(Some(range(2, 3))),
        Just(None),
    ];
    let chars = prop_oneof![
        Just(Some(range(2, 5))),
        Just(Some(range(1, 3))),
        Just(Some(range(4, 4))),
        Just(None),
    ];
    let min_df = prop_oneof![
        Just(DocFreq::Count(1)),
        Just(DocFreq::Count(2)),
        Just(DocFreq::Fraction(0.05)),
    ];
    let max_df = prop_oneof![Just(DocFreq::Fraction(1.0)), Just(DocFreq::Fraction(0.9))];
    let max_features = prop_oneof![Just(None), Just(Some(1)), Just(Some(40))];
    (word, chars, min_df, max_df, max_features, any::<bool>())
        .prop_filter("at least one view", |(w, c, ..)| w.is_some() || c.is_some())
        .prop_map(
            |(word_ngrams, char_ngrams, min_df, max_df, max_features, sublinear_tf)| {
                VectorizerConfig {
                    word_ngrams,
                    char_ngrams,
                    min_df,
                    max_df,
                    max_features,
                    sublinear_tf,
                    ..VectorizerConfig::default()
                }
            },
        )
}

/// Check every row of `m` against the vectoriser's invariants.
fn check_rows(m: &CsrMatrix, n_features: usize, texts: &[String]) -> Result<(), TestCaseError> {
    prop_assert_eq!(m.n_rows(), texts.len());
    prop_assert_eq!(m.n_cols(), n_features);
    for (i, text) in texts.iter().enumerate() {
        let (cols, vals) = m.row(i);
        prop_assert_eq!(cols.len(), vals.len());
        prop_assert!(
            cols.windows(2).all(|w| w[0] < w[1]),
            "row {} ({:?}): columns not strictly increasing: {:?}",
            i,
            text,
            cols
        );
        prop_assert!(
            cols.iter().all(|&c| (c as usize) < n_features),
            "row {} ({:?}): column out of range ({} features): {:?}",
            i,
            text,
            n_features,
            cols
        );
        prop_assert!(
            vals.iter().all(|v| v.is_finite()),
            "row {} ({:?}): non-finite value: {:?}",
            i,
            text,
            vals
        );
        let norm = vals
            .iter()
            .map(|&v| v as f64 * v as f64)
            .sum::<f64>()
            .sqrt();
        if cols.is_empty() {
            prop_assert_eq!(norm, 0.0);
        } else {
            prop_assert!(
                (norm - 1.0).abs() <= 1e-5,
                "row {} ({:?}) has norm {}",
                i,
                text,
                norm
            );
        }
    }
    Ok(())
}

fn row_pairs(m: &CsrMatrix, i: usize) -> Vec<(u32, f32)> {
    let (cols, vals) = m.row(i);
    cols.iter().copied().zip(vals.iter().copied()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Rows of unit norm (or empty), sorted in-range columns, finite values; transform is
    /// deterministic, agrees with transform_one, and reproduces fit_transform's rows.
    #[test]
    fn vectoriser_rows_are_normalised_and_consistent(
        config in config(),
        generated in vec(pool_text(), 0..16),
        unseen in vec(prop_oneof![pool_text(), awkward_text()], 1..6),
    ) {
        let train: Vec<String> = BASE
            .iter()
            .map(|s| s.to_string())
            .chain(generated)
            .collect();
        let (vectorizer, fitted) = TfidfVectorizer::fit_transform(&config, &train)
            .map_err(|e| TestCaseError::fail(format!("fit_transform failed: {e}")))?;
        let n_features = vectorizer.n_features();
        prop_assert!(n_features > 0);
        if let Some(cap) = config.max_features {
            for view in &vectorizer.views {
                prop_assert!(view.vocabulary.len() <= cap);
            }
        }
        for view in &vectorizer.views {
            prop_assert!(view.vocabulary.windows(2).all(|w| w[0] < w[1]), "vocabulary unsorted");
            prop_assert!(view.idf.iter().all(|w| w.is_finite() && *w >= 1.0), "{:?}", view.idf);
        }
        check_rows(&fitted, n_features, &train)?;

        // fit_transform's rows are transform's rows on the training texts.
        let transformed = vectorizer.transform(&train);
        check_rows(&transformed, n_features, &train)?;
        for (i, text) in train.iter().enumerate() {
            let (fc, fv) = fitted.row(i);
            let (tc, tv) = transformed.row(i);
            prop_assert_eq!(fc, tc, "row {} ({:?}): columns differ", i, text);
            for (a, b) in fv.iter().zip(tv) {
                prop_assert!((a - b).abs() <= 1e-6, "row {} ({:?}): {} vs {}", i, text, a, b);
            }
        }

        // New text: invariants, determinism, transform_one = the row of transform(&[text]).
        let new = vectorizer.transform(&unseen);
        check_rows(&new, n_features, &unseen)?;
        prop_assert_eq!(&vectorizer.transform(&unseen), &new, "transform is not deterministic");
        for (i, text) in unseen.iter().enumerate() {
            let one = vectorizer.transform_one(text);
            let alone = vectorizer.transform(std::slice::from_ref(text));
            prop_assert_eq!(&one, &row_pairs(&alone, 0), "transform_one differs for {:?}", text);
            prop_assert_eq!(&one, &row_pairs(&new, i), "row {} depends on its neighbours", i);
        }
    }
}

// ---------------------------------------------------------------------------------------
// thread-count independence
// ---------------------------------------------------------------------------------------

fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// A text whose words vary with its position, so that each 1024-document block sees its
/// own vocabulary as well as the shared pool.
fn numbered_text() -> impl Strategy<Value = (String, u16)> {
    (pool_text_of(8), 0u16..2000)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3))]

    /// More than two parallel blocks of documents: one and two threads give the same
    /// vocabulary, IDF and matrix, bit for bit.
    #[test]
    fn fit_transform_is_independent_of_the_thread_count(
        docs in vec(numbered_text(), 2049..2600),
        config in config(),
    ) {
        let texts: Vec<String> = docs
            .into_iter()
            .enumerate()
            .map(|(i, (text, tag))| format!("{text} w{} t{tag}", i % 700))
            .collect();
        let (v1, m1) = in_pool(1, || TfidfVectorizer::fit_transform(&config, &texts))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (v2, m2) = in_pool(2, || TfidfVectorizer::fit_transform(&config, &texts))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(v1.n_train_docs, v2.n_train_docs);
        prop_assert_eq!(v1.views.len(), v2.views.len());
        for (a, b) in v1.views.iter().zip(&v2.views) {
            prop_assert_eq!(a.kind, b.kind);
            prop_assert_eq!(a.offset, b.offset);
            prop_assert!(a.vocabulary == b.vocabulary, "vocabularies differ");
            let (ia, ib): (Vec<u32>, Vec<u32>) = (
                a.idf.iter().map(|w| w.to_bits()).collect(),
                b.idf.iter().map(|w| w.to_bits()).collect(),
            );
            prop_assert!(ia == ib, "IDF differs");
        }
        prop_assert!(m1 == m2, "matrices differ");
        // And transform agrees across thread counts too.
        let t1 = in_pool(1, || v1.transform(&texts));
        let t2 = in_pool(2, || v1.transform(&texts));
        prop_assert!(t1 == t2, "transform differs");
        prop_assert!(t1 == m1, "transform differs from fit_transform");
    }
}
