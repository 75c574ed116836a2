//! The sparse logistic regression: recovery of a known problem, agreement with
//! linfa-logistic on a small dense binary problem, class weights, determinism.

use linfa::prelude::*;
use linfa::DatasetBase;
use ndarray::{Array1, Array2};
use stance::logistic::{ClassWeight, LogisticRegression, LogisticRegressionParams, Solver};
use stance::sparse::CsrMatrix;
use stance::train::SplitMix64;

fn uniform(rng: &mut SplitMix64) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// `n` rows, 3 classes; class k lights up features 3k..3k+3 strongly plus shared noise
/// features 9..20.
fn separable(n: usize, seed: u64) -> (CsrMatrix, Array1<usize>) {
    let mut rng = SplitMix64::new(seed);
    let mut x = CsrMatrix::new(20);
    let mut y = Vec::new();
    for i in 0..n {
        let class = i % 3;
        let mut row: Vec<(u32, f32)> = (0..3)
            .map(|j| ((3 * class + j) as u32, 0.5 + uniform(&mut rng) as f32))
            .collect();
        for f in 9..20 {
            if uniform(&mut rng) < 0.3 {
                row.push((f, uniform(&mut rng) as f32));
            }
        }
        x.push_row(row);
        y.push(class);
    }
    (x, Array1::from(y))
}

#[test]
fn multinomial_recovers_a_separable_problem() {
    let (x, y) = separable(300, 1);
    let model = LogisticRegressionParams::new()
        .c(100.0)
        .fit(&DatasetBase::new(x, y))
        .unwrap();
    assert_eq!(model.coef.dim(), (20, 3));
    assert!(model.fit_info.converged, "{:?}", model.fit_info);
    // Fresh data from the same process is classified perfectly and confidently.
    let (x_test, y_test) = separable(90, 2);
    let probs = model.predict_proba(&x_test);
    for (row, &truth) in probs.rows().into_iter().zip(y_test.iter()) {
        assert!((row.sum() - 1.0).abs() < 1e-12);
        assert!(row[truth] > 0.9, "{row:?} for class {truth}");
    }
    let predicted: Array1<usize> = model.predict(&DatasetBase::new(x_test, y_test.clone()));
    assert_eq!(predicted, y_test);
    // Each class's own features carry its largest weights.
    for class in 0..3 {
        let column = model.coef.column(class);
        let best = (0..20)
            .max_by(|&a, &b| column[a].total_cmp(&column[b]))
            .unwrap();
        assert_eq!(best / 3, class);
    }
}

#[test]
fn binary_model_agrees_with_linfa_logistic() {
    // A small dense problem with overlapping classes so the optimum is finite.
    let mut rng = SplitMix64::new(7);
    let (n, d) = (200, 5);
    let true_w = [1.5, -2.0, 0.5, 0.0, 1.0];
    let mut dense = Array2::<f64>::zeros((n, d));
    let mut labels = Vec::new();
    for i in 0..n {
        let mut z = -0.3;
        for j in 0..d {
            let v = uniform(&mut rng) * 2.0 - 1.0;
            dense[[i, j]] = v;
            z += true_w[j] * v;
        }
        labels.push(usize::from(uniform(&mut rng) < 1.0 / (1.0 + (-z).exp())));
    }
    let mut x = CsrMatrix::new(d);
    for i in 0..n {
        x.push_row((0..d).map(|j| (j as u32, dense[[i, j]] as f32)));
    }
    // Compare on the f32-rounded inputs the sparse model sees.
    let dense = dense.mapv(|v| v as f32 as f64);
    let c = 2.0;
    let ours = LogisticRegressionParams::new()
        .c(c)
        .gradient_tolerance(1e-9)
        .fit(&DatasetBase::new(x.clone(), Array1::from(labels.clone())))
        .unwrap();
    let theirs = linfa_logistic::LogisticRegression::default()
        .alpha(1.0 / c)
        .gradient_tolerance(1e-9)
        .max_iterations(1000)
        .fit(&DatasetBase::new(
            dense.clone(),
            Array1::from(labels.clone()),
        ))
        .unwrap();
    let their_p = theirs.predict_probabilities(&dense);
    let positive_is_one = theirs.labels().pos.class == 1;
    let our_p = ours.predict_proba(&x);
    let mut max_diff: f64 = 0.0;
    for i in 0..n {
        let p1 = if positive_is_one {
            their_p[i]
        } else {
            1.0 - their_p[i]
        };
        max_diff = max_diff.max((our_p[[i, 1]] - p1).abs());
    }
    assert!(max_diff < 1e-4, "probabilities differ by {max_diff}");
    let sign = if positive_is_one { 1.0 } else { -1.0 };
    for j in 0..d {
        let diff = (ours.coef[[j, 0]] - sign * theirs.params()[j]).abs();
        assert!(
            diff < 1e-3,
            "weight {j}: {} vs {}",
            ours.coef[[j, 0]],
            theirs.params()[j]
        );
    }
}

#[test]
fn balanced_class_weights_raise_minority_recall() {
    // 90 % class 0; the one informative feature is noisy.
    let mut rng = SplitMix64::new(3);
    let mut x = CsrMatrix::new(2);
    let mut y = Vec::new();
    for i in 0..1000 {
        let class = usize::from(i % 10 == 0);
        let signal = if class == 1 { 0.6 } else { 0.4 } + 0.4 * (uniform(&mut rng) - 0.5);
        x.push_row([(0u32, signal as f32), (1u32, 1.0)]);
        y.push(class);
    }
    let y = Array1::from(y);
    let recall = |weight| {
        let dataset = DatasetBase::new(x.clone(), y.clone());
        let model = LogisticRegressionParams::new()
            .c(10.0)
            .class_weight(weight)
            .fit(&dataset)
            .unwrap();
        let pred: Array1<usize> = model.predict(&dataset);
        let hits = pred
            .iter()
            .zip(y.iter())
            .filter(|(p, t)| **t == 1 && **p == 1)
            .count();
        hits as f64 / 100.0
    };
    let (uniform_recall, balanced_recall) =
        (recall(ClassWeight::Uniform), recall(ClassWeight::Balanced));
    assert!(
        balanced_recall > uniform_recall + 0.3,
        "{uniform_recall} vs {balanced_recall}"
    );
}

#[test]
fn same_model_bit_for_bit_with_one_or_two_threads() {
    let (x, y) = separable(3000, 5);
    let fit_in = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            LogisticRegressionParams::new()
                .c(1.0)
                .fit(&DatasetBase::new(&x, y.clone()))
                .unwrap()
        })
    };
    let (one, two) = (fit_in(1), fit_in(2));
    assert_eq!(one.coef, two.coef);
    assert_eq!(one.intercept, two.intercept);
}

#[test]
fn invalid_parameters_are_refused() {
    let (x, y) = separable(30, 1);
    let err = LogisticRegressionParams::new()
        .c(-1.0)
        .fit(&DatasetBase::new(x.clone(), y))
        .unwrap_err();
    assert!(
        err.to_string().contains("C must be a positive number"),
        "{err}"
    );
    let one_class = Array1::from(vec![0usize; 30]);
    let err = LogisticRegressionParams::new()
        .fit(&DatasetBase::new(x, one_class))
        .unwrap_err();
    assert!(err.to_string().contains("only one class"), "{err}");
}

/// `separable`'s rows with every fourth label replaced by a random class, so the optimum
/// has finite weights and a non-trivial loss.
fn noisy(n: usize, n_classes: usize, seed: u64) -> (CsrMatrix, Array1<usize>) {
    let (x, y) = separable(n, seed);
    let mut rng = SplitMix64::new(seed + 100);
    let y = y.mapv(|t| {
        let t = t % n_classes;
        if rng.next_u64().is_multiple_of(4) {
            (rng.next_u64() % n_classes as u64) as usize
        } else {
            t
        }
    });
    (x, y)
}

/// C = 1 with balanced class weights, and the model L-BFGS fits with them to a tight
/// tolerance: the optimum the ASGD tests measure against.
fn balanced_c1_and_its_optimum(
    data: &DatasetBase<&CsrMatrix, Array1<usize>>,
) -> (LogisticRegressionParams, LogisticRegression) {
    let params = LogisticRegressionParams::new()
        .c(1.0)
        .class_weight(ClassWeight::Balanced);
    let exact = params
        .clone()
        .solver(Solver::Lbfgs)
        .max_iterations(1000)
        .gradient_tolerance(1e-8)
        .fit(data)
        .unwrap();
    (params, exact)
}

#[test]
fn asgd_reaches_the_lbfgs_optimum() {
    for n_classes in [2, 3] {
        let (x, y) = noisy(2000, n_classes, 9);
        let data = DatasetBase::new(&x, y);
        let (params, exact) = balanced_c1_and_its_optimum(&data);
        let asgd = params
            .solver(Solver::Asgd)
            .epochs(10)
            .report_objective(true)
            .fit(&data)
            .unwrap();
        let (best, reached) = (
            exact.fit_info.objective.unwrap(),
            asgd.fit_info.objective.unwrap(),
        );
        assert!(exact.fit_info.converged, "{:?}", exact.fit_info);
        assert!(
            reached >= best - 1e-9 && reached <= best * 1.01,
            "{n_classes} classes: ASGD objective {reached} vs optimum {best}"
        );
        let probs = (exact.predict_proba(&x), asgd.predict_proba(&x));
        let diff = (&probs.0 - &probs.1).mapv(f64::abs);
        let (max_diff, mean_diff) = (diff.fold(0.0f64, |m, &d| m.max(d)), diff.mean().unwrap());
        assert!(
            max_diff < 0.1 && mean_diff < 0.01,
            "{n_classes} classes: probabilities differ by {mean_diff} on average, {max_diff} at most"
        );
    }
}

/// A single pass is averaged too (over its second half): the last iterate of plain SGD
/// lands far from the optimum.
#[test]
fn one_asgd_pass_is_averaged() {
    let (x, y) = noisy(20_000, 3, 9);
    let data = DatasetBase::new(&x, y);
    let (params, exact) = balanced_c1_and_its_optimum(&data);
    let one_pass = params
        .solver(Solver::Asgd)
        .epochs(1)
        .report_objective(true)
        .fit(&data)
        .unwrap();
    let (best, reached) = (
        exact.fit_info.objective.unwrap(),
        one_pass.fit_info.objective.unwrap(),
    );
    assert!(
        reached <= best * 1.01,
        "one ASGD pass: objective {reached} vs optimum {best}"
    );
}

#[test]
fn asgd_is_reproducible_from_its_seed() {
    let (x, y) = noisy(1000, 3, 4);
    let data = DatasetBase::new(&x, y);
    let fit = |seed| {
        LogisticRegressionParams::new()
            .solver(Solver::Asgd)
            .seed(seed)
            .fit(&data)
            .unwrap()
    };
    let (a, b, other) = (fit(1), fit(1), fit(2));
    assert_eq!(a.coef, b.coef);
    assert_eq!(a.intercept, b.intercept);
    assert_ne!(a.coef, other.coef, "the seed sets the visiting order");
}
