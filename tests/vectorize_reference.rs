//! The vectoriser (n-grams counted by integer keys, merged across blocks) against a
//! straightforward reference that spells every n-gram as a `String`: the same vocabulary, IDF
//! and matrix, bit for bit, on adversarial text — Unicode that normalisation changes, tokens
//! of more than 7 bytes (hashed keys), repeated n-grams, documents without tokens — and at the
//! edges of `min_df`, `max_df` and `max_features`.

use std::collections::{BTreeMap, HashMap, HashSet};

use proptest::prelude::*;
use stance::sparse::CsrMatrix;
use stance::tokenize::{AnalyzerKind, TokenBuffer};
use stance::vectorize::{smoothed_idf, DocFreq, NgramRange, TfidfVectorizer, VectorizerConfig};

/// Every n-gram of each view of `text`, spelled out, in the reference's own way.
fn ngrams(config: &VectorizerConfig, text: &str) -> Vec<Vec<String>> {
    let mut buffer = TokenBuffer::default();
    config.analyzer.build().analyze(text, &mut buffer);
    let tokens: Vec<&str> = buffer.iter().collect();
    let mut views = Vec::new();
    if let Some(r) = config.word_ngrams {
        let mut grams = Vec::new();
        for n in r.min..=r.max {
            for window in tokens.windows(n) {
                grams.push(window.join(" "));
            }
        }
        views.push(grams);
    }
    if let Some(r) = config.char_ngrams {
        let mut grams = Vec::new();
        for token in &tokens {
            let chars: Vec<char> = format!(" {token} ").chars().collect();
            for n in r.min..=r.max {
                if n >= chars.len() {
                    grams.push(chars.iter().collect());
                    break;
                }
                for window in chars.windows(n) {
                    grams.push(window.iter().collect());
                }
            }
        }
        views.push(grams);
    }
    views
}

fn threshold(d: DocFreq, n_docs: usize) -> f64 {
    match d {
        DocFreq::Count(c) => c as f64,
        DocFreq::Fraction(f) => f * n_docs as f64,
        DocFreq::Auto if n_docs < stance::vectorize::KEEP_SINGLETONS_BELOW => 1.0,
        DocFreq::Auto => 2.0,
    }
}

/// One fitted view of the reference: vocabulary, term → column, IDF.
type RefView = (Vec<String>, HashMap<String, u32>, Vec<f32>);

/// A fitted reference, one entry per view.
struct Reference {
    config: VectorizerConfig,
    views: Vec<RefView>,
}

impl Reference {
    fn fit(config: &VectorizerConfig, texts: &[String]) -> Self {
        let docs: Vec<Vec<Vec<String>>> = texts.iter().map(|t| ngrams(config, t)).collect();
        let n_views = ngrams(config, "").len();
        let mut views = Vec::new();
        for v in 0..n_views {
            let mut df: BTreeMap<&str, u32> = BTreeMap::new();
            for doc in &docs {
                let distinct: HashSet<&str> = doc[v].iter().map(String::as_str).collect();
                for g in distinct {
                    *df.entry(g).or_default() += 1;
                }
            }
            let (lo, hi) = (
                threshold(config.min_df, texts.len()),
                threshold(config.max_df, texts.len()),
            );
            let mut kept: Vec<(&str, u32)> = df
                .into_iter()
                .filter(|&(_, d)| d as f64 >= lo && d as f64 <= hi)
                .collect();
            if let Some(cap) = config.max_features {
                kept.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
                kept.truncate(cap);
                kept.sort();
            }
            let vocabulary: Vec<String> = kept.iter().map(|(g, _)| g.to_string()).collect();
            let index = (0..vocabulary.len())
                .map(|i| (vocabulary[i].clone(), i as u32))
                .collect();
            let idf = kept
                .iter()
                .map(|&(_, d)| smoothed_idf(texts.len(), d))
                .collect();
            views.push((vocabulary, index, idf));
        }
        Reference {
            config: config.clone(),
            views,
        }
    }

    fn n_features(&self) -> usize {
        self.views.iter().map(|v| v.0.len()).sum()
    }

    fn transform(&self, texts: &[String]) -> CsrMatrix {
        let mut matrix = CsrMatrix::new(self.n_features());
        for text in texts {
            let grams = ngrams(&self.config, text);
            let counts: Vec<BTreeMap<u32, u32>> = grams
                .iter()
                .zip(&self.views)
                .map(|(doc, (_, index, _))| {
                    let mut c = BTreeMap::new();
                    for g in doc {
                        if let Some(&col) = index.get(g) {
                            *c.entry(col).or_default() += 1;
                        }
                    }
                    c
                })
                .collect();
            let non_empty = counts.iter().filter(|c| !c.is_empty()).count();
            let mut row: Vec<(u32, f32)> = Vec::new();
            let mut offset = 0;
            for (c, (vocabulary, _, idf)) in counts.iter().zip(&self.views) {
                if !c.is_empty() {
                    let view_scale = 1.0 / (non_empty as f64).sqrt();
                    let start = row.len();
                    let mut norm2 = 0.0f64;
                    for (&col, &count) in c {
                        let tf = if self.config.sublinear_tf {
                            1.0 + (count as f64).ln()
                        } else {
                            count as f64
                        };
                        let w = tf * idf[col as usize] as f64;
                        norm2 += w * w;
                        row.push((offset + col, w as f32));
                    }
                    let scale = view_scale / norm2.sqrt();
                    for e in &mut row[start..] {
                        e.1 = (e.1 as f64 * scale) as f32;
                    }
                }
                offset += vocabulary.len() as u32;
            }
            matrix.push_row(row);
        }
        matrix
    }
}

/// Bit-for-bit equality of two matrices (`==` on f32 would accept 0.0 == -0.0).
fn assert_same_bits(a: &CsrMatrix, b: &CsrMatrix, what: &str) {
    assert_eq!(a.n_rows(), b.n_rows(), "{what}: rows");
    assert_eq!(a.n_cols(), b.n_cols(), "{what}: columns");
    for i in 0..a.n_rows() {
        let ((ca, va), (cb, vb)) = (a.row(i), b.row(i));
        assert_eq!(ca, cb, "{what}: columns of row {i}");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(va), bits(vb), "{what}: values of row {i}");
    }
}

fn check(config: &VectorizerConfig, train: &[String], unseen: &[String]) {
    let reference = Reference::fit(config, train);
    let fitted = TfidfVectorizer::fit_transform(config, train);
    if reference.n_features() == 0 {
        assert!(
            fitted.is_err(),
            "no feature survives, yet the fit succeeded"
        );
        return;
    }
    let (vectorizer, x) = fitted.expect("fit");
    for (view, (vocabulary, _, idf)) in vectorizer.views.iter().zip(&reference.views) {
        assert_eq!(&view.vocabulary, vocabulary, "{:?} vocabulary", view.kind);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&view.idf), bits(idf), "{:?} idf", view.kind);
    }
    assert_same_bits(&x, &reference.transform(train), "fit_transform");
    assert_same_bits(
        &vectorizer.transform(unseen),
        &reference.transform(unseen),
        "transform",
    );
    // A model loaded from a file rebuilds its index from the vocabulary alone.
    let bytes = postcard::to_allocvec(&vectorizer).unwrap();
    let mut loaded: TfidfVectorizer = postcard::from_bytes(&bytes).unwrap();
    loaded.rebuild_indexes();
    assert_same_bits(
        &loaded.transform(unseen),
        &reference.transform(unseen),
        "transform after loading",
    );
    for (i, text) in unseen.iter().enumerate() {
        let one = loaded.transform_one(text);
        let alone = reference.transform(std::slice::from_ref(text));
        let (cols, vals) = alone.row(0);
        assert_eq!(
            one.iter().map(|e| (e.0, e.1.to_bits())).collect::<Vec<_>>(),
            cols.iter()
                .zip(vals)
                .map(|(&c, v)| (c, v.to_bits()))
                .collect::<Vec<_>>(),
            "transform_one of unseen text {i}"
        );
    }
}

/// Pieces chosen to hit every path: ASCII words and punctuation, tokens longer than 7 bytes,
/// accents (precomposed and combining), compatibility forms NFKC rewrites (ligature, ellipsis,
/// full-width), case changes that alter length (İ, ǅ), emoji with a variation selector,
/// CJK, and every kind of whitespace.
const PIECES: &[&str] = &[
    "a",
    "b",
    "ab",
    "aaaa",
    "war",
    "War",
    "the",
    "longtokens",
    "extraordinary",
    "é",
    "e\u{301}",
    "naïve",
    "ﬁne",
    "…",
    "ＷＡＲ",
    "İ",
    "ǅ",
    "ß",
    "😂",
    "😂\u{fe0f}",
    "日本語",
    "Ω",
    "!",
    "?!",
    "'",
    "_",
    "0",
    "42",
    " ",
    " ",
    "  ",
    "\t",
    "\n",
    "\u{a0}",
    "\u{3000}",
];

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..12).prop_map(|p| p.concat())
}

fn range(max: usize) -> impl Strategy<Value = NgramRange> {
    (1..=max, 0..=2usize).prop_map(|(min, extra)| NgramRange {
        min,
        max: min + extra,
    })
}

/// A `min_df`: a count, a fraction, or `auto` (which these small training sets resolve to 1).
fn doc_freq() -> impl Strategy<Value = DocFreq> {
    prop_oneof![
        (1..=3u32).prop_map(DocFreq::Count),
        prop::sample::select(vec![0.1, 0.34, 0.5, 1.0]).prop_map(DocFreq::Fraction),
        Just(DocFreq::Auto),
    ]
}

fn config() -> impl Strategy<Value = VectorizerConfig> {
    (
        prop::option::of(range(3)),
        prop::option::of(range(5)),
        doc_freq(),
        prop_oneof![
            Just(DocFreq::Fraction(1.0)),
            Just(DocFreq::Fraction(0.5)),
            (1..=4u32).prop_map(DocFreq::Count),
        ],
        prop::option::of(1..=6usize),
        any::<bool>(),
    )
        .prop_filter("one view at least", |c| c.0.is_some() || c.1.is_some())
        .prop_map(
            |(word, chars, min_df, max_df, max_features, sublinear_tf)| VectorizerConfig {
                word_ngrams: word,
                char_ngrams: chars,
                min_df,
                max_df,
                max_features,
                sublinear_tf,
                analyzer: AnalyzerKind::default(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn keyed_counting_matches_the_string_reference(
        config in config(),
        train in prop::collection::vec(text(), 1..14),
        unseen in prop::collection::vec(text(), 0..5),
    ) {
        check(&config, &train, &unseen);
    }
}

#[test]
fn edge_cases_match_the_string_reference() {
    let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let default = VectorizerConfig {
        min_df: DocFreq::Count(1),
        ..VectorizerConfig::default()
    };
    // Documents without tokens, among others; repeated n-grams in one document.
    let train = texts(&[
        "",
        "   ",
        "aaaa aaaa aaaa",
        "a a b",
        "\t\n",
        "…!! ﬁne ＷＡＲ",
    ]);
    check(&default, &train, &texts(&["", "aaaa", "zzz", "a b a b"]));
    // max_features ties broken by text; caps of 1 and of more than the vocabulary.
    for cap in [1, 2, 3, 1000] {
        let config = VectorizerConfig {
            max_features: Some(cap),
            ..default.clone()
        };
        check(
            &config,
            &texts(&["b a", "a b", "c", "d d"]),
            &texts(&["a c d"]),
        );
    }
    // min_df above every document frequency: nothing survives, and the fit says so.
    let config = VectorizerConfig {
        min_df: DocFreq::Count(5),
        ..default.clone()
    };
    check(&config, &texts(&["a b", "a c"]), &[]);
    // Long word n-grams chain long tokens (hashed keys at every step).
    let config = VectorizerConfig {
        word_ngrams: Some(NgramRange { min: 3, max: 6 }),
        char_ngrams: None,
        ..default
    };
    let long = "extraordinary circumstances notwithstanding, unquestionably";
    check(
        &config,
        &texts(&[long, long, "extraordinary circumstances"]),
        &texts(&[long]),
    );
}
