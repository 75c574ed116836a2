//! Criterion benchmarks for each hot stage: tokenising, vectorising (fit and transform, each
//! view alone and both, in MB/s of raw text), training (ASGD epochs on the packed and the
//! CSR matrix, L-BFGS iterations, each L-BFGS iteration being one gradient evaluation or a
//! few) and predicting. Input: TweetEval emoji
//! from `../shared` when present (the benchmark says so), otherwise the bundled framing
//! sentences repeated.

use std::path::Path;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use linfa::prelude::*;
use linfa::DatasetBase;
use ndarray::Array1;
use stance::corpus::{read_labelled, LabelledCorpus, Source};
use stance::logistic::{LogisticRegressionParams, Solver};
use stance::packed::TrainingMatrix;
use stance::tokenize::{AnalyzerKind, TokenBuffer};
use stance::vectorize::{TfidfVectorizer, VectorizerConfig};

fn corpus() -> LabelledCorpus {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let emoji = root.join("../shared/data/tweeteval/emoji/train.jsonl");
    if emoji.exists() {
        let mut c = read_labelled(&Source::file(&emoji)).expect("TweetEval emoji");
        let keep: Vec<usize> = (0..c.len().min(10_000)).collect();
        c = c.subset(&keep);
        eprintln!("benchmark corpus: 10,000 TweetEval emoji training tweets");
        return c;
    }
    eprintln!("benchmark corpus: ../shared not found; using data/framing.jsonl repeated");
    let mut source = Source::file(root.join("data/framing.jsonl"));
    source.label_field = "stance".into();
    let base = read_labelled(&source).expect("bundled framing set");
    let idx: Vec<usize> = (0..100).flat_map(|_| 0..base.len()).collect();
    base.subset(&idx)
}

fn bytes(texts: &[String]) -> u64 {
    texts.iter().map(|t| t.len() as u64).sum()
}

fn benches(c: &mut Criterion) {
    let data = corpus();
    let word_only = VectorizerConfig {
        char_ngrams: None,
        ..VectorizerConfig::default()
    };
    let char_only = VectorizerConfig {
        word_ngrams: None,
        ..VectorizerConfig::default()
    };
    let default = VectorizerConfig::default();

    let mut group = c.benchmark_group("tokenise");
    group.throughput(Throughput::Bytes(bytes(&data.texts)));
    group.sample_size(10);
    let analyzer = AnalyzerKind::default().build();
    group.bench_function("nfkc-lowercase-whitespace", |b| {
        let mut tokens = TokenBuffer::default();
        b.iter(|| {
            let mut n = 0;
            for t in &data.texts {
                analyzer.analyze(t, &mut tokens);
                n += tokens.len();
            }
            n
        })
    });
    group.finish();

    let mut group = c.benchmark_group("vectorise");
    group.throughput(Throughput::Bytes(bytes(&data.texts)));
    group.sample_size(10);
    group.bench_function("fit_transform/word", |b| {
        b.iter(|| TfidfVectorizer::fit_transform(&word_only, &data.texts).unwrap())
    });
    group.bench_function("fit_transform/char", |b| {
        b.iter(|| TfidfVectorizer::fit_transform(&char_only, &data.texts).unwrap())
    });
    group.bench_function("fit_transform/word+char", |b| {
        b.iter(|| TfidfVectorizer::fit_transform(&default, &data.texts).unwrap())
    });
    // What training builds: the packed matrix, without the CSR copy.
    group.bench_function("fit_transform_packed/word+char", |b| {
        b.iter(|| TfidfVectorizer::fit_transform_packed(&default, &data.texts).unwrap())
    });
    for (name, config) in [("word", &word_only), ("char", &char_only)] {
        let (fitted, _) = TfidfVectorizer::fit_transform(config, &data.texts).unwrap();
        group.bench_function(format!("transform/{name}"), |b| {
            b.iter(|| fitted.transform(&data.texts))
        });
    }
    let (fitted, x) = TfidfVectorizer::fit_transform(&default, &data.texts).unwrap();
    group.bench_function("transform/word+char", |b| {
        b.iter(|| fitted.transform(&data.texts))
    });
    group.finish();

    let labels = data.label_set();
    let y: Array1<usize> = data
        .labels
        .iter()
        .map(|l| labels.binary_search(l).unwrap())
        .collect();
    let dataset = DatasetBase::new(&x, y.clone());
    let (_, packed) = TfidfVectorizer::fit_transform_packed(&default, &data.texts).unwrap();
    // ASGD reads rows one at a time from either storage training may hold.
    let storages = [
        ("csr", TrainingMatrix::Csr(x.clone())),
        ("packed", TrainingMatrix::Packed(packed)),
    ]
    .map(|(name, m)| (name, DatasetBase::new(m, y.clone())));
    let mut group = c.benchmark_group("train");
    group.sample_size(10);
    for epochs in [1u32, 5] {
        let params = LogisticRegressionParams::new()
            .solver(Solver::Asgd)
            .epochs(epochs);
        for (storage, rows) in &storages {
            group.bench_function(format!("asgd/{epochs}-epochs/{storage}"), |b| {
                b.iter(|| params.fit(rows).unwrap())
            });
        }
    }
    for iterations in [1u64, 20] {
        let params = LogisticRegressionParams::new()
            .solver(Solver::Lbfgs)
            .max_iterations(iterations);
        group.bench_function(format!("lbfgs/{iterations}-iterations"), |b| {
            b.iter(|| params.fit(&dataset).unwrap())
        });
    }
    group.finish();

    let model = LogisticRegressionParams::new()
        .epochs(5)
        .fit(&dataset)
        .unwrap();
    let mut group = c.benchmark_group("predict");
    group.throughput(Throughput::Elements(x.n_rows() as u64));
    group.sample_size(10);
    group.bench_function("proba/vectorised-batch", |b| {
        b.iter(|| model.predict_proba(&x))
    });
    group.bench_function("proba/from-text", |b| {
        b.iter_batched(
            || data.texts.clone(),
            |texts| model.predict_proba(&fitted.transform(&texts)),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
