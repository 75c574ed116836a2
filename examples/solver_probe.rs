//! Times the solvers on one labelled file with its validation file: vectorises once, then
//! fits each (solver, C, epochs) given and prints seconds (including one pass to compute
//! the objective), objective and validation macro-F1; `epochs` is the L-BFGS iteration cap
//! for `lbfgs`. `cargo run --release --example solver_probe -- TRAIN VALID [SOLVER:C:EPOCHS …]`.

use std::time::Instant;

use linfa::prelude::*;
use linfa::DatasetBase;
use ndarray::Array1;
use stance::corpus::{read_labelled, Source};
use stance::logistic::{argmax, ClassWeight, LogisticRegressionParams, Solver};
use stance::metrics::{Metric, Report};
use stance::vectorize::{TfidfVectorizer, VectorizerConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let train = read_labelled(&Source::file(&args[0])).expect("training file");
    let valid = read_labelled(&Source::file(&args[1])).expect("validation file");
    let labels = train.label_set();
    let index = |t: &String| labels.binary_search(t).expect("known label");
    let modulo: usize = std::env::var("CLASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(usize::MAX);
    let y: Array1<usize> = train.labels.iter().map(|t| index(t) % modulo).collect();
    let start = Instant::now();
    let (vectorizer, x) =
        TfidfVectorizer::fit_transform(&VectorizerConfig::default(), &train.texts).unwrap();
    let x_valid = vectorizer.transform(&valid.texts);
    println!(
        "vectorised in {:.2} s: {} features, {} non-zeros",
        start.elapsed().as_secs_f64(),
        x.n_cols(),
        x.nnz()
    );
    let data = DatasetBase::new(&x, y);
    for spec in &args[2..] {
        let parts: Vec<&str> = spec.split(':').collect();
        let solver: Solver = parts[0].parse().unwrap();
        let c: f64 = parts[1].parse().unwrap();
        let epochs: u32 = parts[2].parse().unwrap();
        let start = Instant::now();
        let model = LogisticRegressionParams::new()
            .c(c)
            .class_weight(ClassWeight::Balanced)
            .solver(solver)
            .epochs(epochs)
            .max_iterations(epochs as u64)
            .report_objective(true)
            .n_classes(labels.len())
            .fit(&data)
            .unwrap();
        let seconds = start.elapsed().as_secs_f64();
        let probs = model.predict_proba(&x_valid);
        let predicted: Vec<usize> = probs
            .rows()
            .into_iter()
            .map(|r| argmax(r.as_slice().unwrap()))
            .collect();
        let report = Report::new(&labels, &valid.labels, &predicted, None, None);
        println!(
            "{spec}: {seconds:.2} s, objective {:.6?}, validation macro-F1 {:.4}",
            model.fit_info.objective,
            Metric::MacroF1.value(&report)
        );
    }
}
