//! Model files: save → load gives identical predictions; damaged files are refused with
//! the right reason.

use std::path::Path;

use stance::corpus::LabelledCorpus;
use stance::error::{Error, ModelFileProblem};
use stance::model_file::{self, FORMAT_VERSION};
use stance::train::{self, TrainOptions, Validation};
use stance::vectorize::DocFreq;
use stance::Classifier;

fn small_classifier() -> Classifier {
    let rows = [
        (
            "Washington expels Russian diplomats and imposes sanctions",
            "confrontational",
        ),
        (
            "Moscow accuses the US of hostile threats",
            "confrontational",
        ),
        (
            "The minister condemned the aggression and the sanctions",
            "confrontational",
        ),
        (
            "Both sides agreed to hold talks and cooperate",
            "cooperative",
        ),
        (
            "Tillerson and Lavrov discussed working together on Syria",
            "cooperative",
        ),
        (
            "The leaders welcomed dialogue and a common interest",
            "cooperative",
        ),
        ("The meeting took place in Moscow on Wednesday", "neutral"),
        ("The State Department published the schedule", "neutral"),
        (
            "The talks were held at the embassy in the afternoon",
            "neutral",
        ),
    ];
    let corpus = LabelledCorpus {
        texts: rows.iter().map(|r| r.0.to_string()).collect(),
        labels: rows.iter().map(|r| r.1.to_string()).collect(),
        ..LabelledCorpus::default()
    };
    let mut options = TrainOptions::default();
    options.vectorizer.min_df = DocFreq::Count(1);
    options.c_grid = vec![10.0];
    train::train(&corpus, &Validation::None, &options, &mut |_| {}).unwrap()
}

fn problem(bytes: &[u8]) -> ModelFileProblem {
    match model_file::from_bytes(bytes, Path::new("m.stance")) {
        Err(Error::BadModel { kind, .. }) => kind,
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a damaged file was accepted"),
    }
}

#[test]
fn save_load_gives_identical_predictions() {
    let classifier = small_classifier();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/dir/m.stance");
    model_file::save(&classifier, &path).unwrap();
    let loaded = model_file::load(&path).unwrap();
    let texts: Vec<String> = [
        "sanctions and threats",
        "talks on Syria",
        "",
        "völlig unbekannt",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(classifier.predict(&texts), loaded.predict(&texts));
    assert_eq!(loaded.labels, classifier.labels);
    assert_eq!(
        loaded.metadata.data_fingerprint,
        classifier.metadata.data_fingerprint
    );
    // Saving the loaded model reproduces the file byte for byte.
    assert_eq!(
        model_file::to_bytes(&loaded).unwrap(),
        std::fs::read(&path).unwrap()
    );
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
    assert_eq!(leftovers.len(), 1);
}

#[test]
fn damaged_files_are_refused_with_their_reason() {
    let bytes = model_file::to_bytes(&small_classifier()).unwrap();

    assert_eq!(
        problem(b"label,text\nfoo,bar\n"),
        ModelFileProblem::NotAModel
    );
    assert_eq!(problem(b""), ModelFileProblem::NotAModel);
    assert!(matches!(
        problem(&bytes[..bytes.len() / 2]),
        ModelFileProblem::Truncated { .. }
    ));
    assert_eq!(
        problem(&bytes[..20]),
        ModelFileProblem::TruncatedHeader {
            header: 56,
            found: 20
        }
    );
    assert_eq!(
        problem(&bytes[..4]),
        ModelFileProblem::TruncatedHeader {
            header: 56,
            found: 4
        }
    );

    let mut flipped = bytes.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    assert_eq!(problem(&flipped), ModelFileProblem::Corrupted);

    let mut extra = bytes.clone();
    extra.push(0);
    assert_eq!(problem(&extra), ModelFileProblem::Corrupted);

    let mut other_version = bytes.clone();
    other_version[8..12].copy_from_slice(&99u32.to_le_bytes());
    let found = problem(&other_version);
    assert_eq!(
        found,
        ModelFileProblem::UnsupportedVersion {
            found: 99,
            supported: FORMAT_VERSION
        }
    );
    assert!(found.to_string().contains("version 99"));
}

#[test]
fn load_names_the_missing_file() {
    let err = model_file::load(Path::new("/nonexistent/m.stance")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/m.stance"), "{err}");
}

/// The models shipped in `models/` must be readable by this build: a change of the model
/// layout bumps [`FORMAT_VERSION`] and the main job (`scripts/train-framing.sh`) writes them
/// again.
#[test]
fn bundled_models_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for name in ["framing-stance.stance", "framing-topic.stance"] {
        let path = dir.join(name);
        let classifier = model_file::load(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; run scripts/train-framing.sh", path.display()));
        assert!(classifier.labels.len() >= 2, "{name}");
    }
}

#[test]
fn streamed_predictions_match_the_matrix_bit_for_bit() {
    // Prediction scores each row as it is vectorised; evaluation during training scores a
    // transformed matrix. Both must give the same bits, over enough texts for several
    // parallel runs.
    let classifier = small_classifier();
    let words = [
        "sanctions",
        "talks",
        "Moscow",
        "cooperate",
        "threats",
        "Syria",
        "embassy",
        "the",
        "agreed",
        "hostile",
        "dialogue",
        "schedule",
    ];
    let texts: Vec<String> = (0..5000usize)
        .map(|i| {
            (0..(i % 17))
                .map(|j| words[(i * 7 + j * 3) % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    let matrix = classifier.vectorizer.transform(&texts);
    assert_eq!(
        classifier.predict_proba(&texts),
        classifier.predict_proba_matrix(&matrix)
    );
}
