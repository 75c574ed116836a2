//! TF-IDF weights checked against numbers computed by hand.

use stance::vectorize::{DocFreq, NgramRange, TfidfVectorizer, VectorizerConfig};

fn words_only(sublinear_tf: bool) -> VectorizerConfig {
    VectorizerConfig {
        word_ngrams: Some(NgramRange { min: 1, max: 1 }),
        char_ngrams: None,
        min_df: DocFreq::Count(1),
        sublinear_tf,
        ..VectorizerConfig::default()
    }
}

fn corpus() -> Vec<String> {
    ["Apple banana", "apple CHERRY cherry", "banana"]
        .map(String::from)
        .to_vec()
}

fn close(a: f32, b: f64) -> bool {
    (a as f64 - b).abs() < 1e-6
}

#[test]
fn idf_and_raw_tf_match_hand_computation() {
    let (vectorizer, x) = TfidfVectorizer::fit_transform(&words_only(false), &corpus()).unwrap();
    let view = &vectorizer.views[0];
    assert_eq!(view.vocabulary, ["apple", "banana", "cherry"]);
    // idf = ln((1 + n) / (1 + df)) + 1 with n = 3
    let idf_2 = (4.0f64 / 3.0).ln() + 1.0; // 1.2876820724517808
    let idf_1 = 2.0f64.ln() + 1.0; // 1.6931471805599454
    assert!(close(view.idf[0], idf_2) && close(view.idf[1], idf_2) && close(view.idf[2], idf_1));

    // Document 1: apple and banana, equal weight → 1/√2 each.
    let (cols, vals) = x.row(0);
    assert_eq!(cols, [0, 1]);
    assert!(close(vals[0], 0.5f64.sqrt()) && close(vals[1], 0.5f64.sqrt()));
    // Document 2: apple ×1, cherry ×2: (1.28768, 3.38629) normalised.
    let (cols, vals) = x.row(1);
    assert_eq!(cols, [0, 2]);
    assert!(close(vals[0], 0.3554324678504174), "{vals:?}");
    assert!(close(vals[1], 0.9347019636214325), "{vals:?}");
    // Document 3: banana alone → 1.
    assert_eq!(x.row(2), (&[1u32][..], &[1.0f32][..]));
}

#[test]
fn sublinear_tf_uses_one_plus_log_count() {
    let (_, x) = TfidfVectorizer::fit_transform(&words_only(true), &corpus()).unwrap();
    // cherry: tf = 1 + ln 2 = 1.693147, weight 2.866748; apple 1.287682.
    let (_, vals) = x.row(1);
    assert!(close(vals[0], 0.4097416099937816), "{vals:?}");
    assert!(close(vals[1], 0.9122016295971542), "{vals:?}");
}

#[test]
fn transform_uses_training_idf_and_ignores_unknown_words() {
    let (vectorizer, _) = TfidfVectorizer::fit_transform(&words_only(false), &corpus()).unwrap();
    // One new document alone must not recompute IDF (linfa-preprocessing's flaw).
    let x = vectorizer.transform(&["cherry apple durian".to_string()]);
    let (cols, vals) = x.row(0);
    assert_eq!(cols, [0, 2]);
    let (a, c) = ((4.0f64 / 3.0).ln() + 1.0, 2.0f64.ln() + 1.0);
    let norm = a.hypot(c);
    assert!(close(vals[0], a / norm) && close(vals[1], c / norm));
    // Nothing known → an empty row, not NaN.
    let empty = vectorizer.transform(&["durian".to_string()]);
    assert_eq!(empty.row(0).0.len(), 0);
}

#[test]
fn min_df_max_df_and_max_features_prune_the_vocabulary() {
    let texts: Vec<String> = ["a b c", "a b", "a d", "a e"].map(String::from).to_vec();
    let config = |min_df, max_df, max_features| VectorizerConfig {
        min_df,
        max_df,
        max_features,
        ..words_only(false)
    };
    let vocab = |c: VectorizerConfig| {
        TfidfVectorizer::fit_transform(&c, &texts).unwrap().0.views[0]
            .vocabulary
            .clone()
    };
    assert_eq!(
        vocab(config(DocFreq::Count(2), DocFreq::Fraction(1.0), None)),
        ["a", "b"]
    );
    assert_eq!(
        vocab(config(DocFreq::Count(1), DocFreq::Count(2), None)),
        ["b", "c", "d", "e"]
    );
    assert_eq!(
        vocab(config(DocFreq::Count(1), DocFreq::Fraction(0.5), None)),
        ["b", "c", "d", "e"]
    );
    // max_features keeps the most frequent, ties broken alphabetically, then sorts.
    assert_eq!(
        vocab(config(DocFreq::Count(1), DocFreq::Fraction(1.0), Some(3))),
        ["a", "b", "c"]
    );
}

#[test]
fn two_views_each_carry_half_the_squared_norm() {
    let config = VectorizerConfig {
        min_df: DocFreq::Count(1),
        ..VectorizerConfig::default()
    };
    let texts: Vec<String> = [
        "Russia warns NATO",
        "talks with Russia resume",
        "NATO expands",
    ]
    .map(String::from)
    .to_vec();
    let (vectorizer, x) = TfidfVectorizer::fit_transform(&config, &texts).unwrap();
    let word_cols = vectorizer.views[0].vocabulary.len() as u32;
    for i in 0..x.n_rows() {
        let (cols, vals) = x.row(i);
        let (mut word, mut chars) = (0.0f64, 0.0f64);
        for (&c, &v) in cols.iter().zip(vals) {
            let sq = (v as f64).powi(2);
            if c < word_cols {
                word += sq
            } else {
                chars += sq
            }
        }
        assert!(
            (word - 0.5).abs() < 1e-6 && (chars - 0.5).abs() < 1e-6,
            "row {i}: {word} {chars}"
        );
        assert!(cols.windows(2).all(|w| w[0] < w[1]), "columns sorted");
    }
    assert_eq!(
        vectorizer.feature_name(word_cols),
        format!("[{}]", vectorizer.views[1].vocabulary[0].replace(' ', "_"))
    );
}
