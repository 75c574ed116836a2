//! NB-weighted features: each column of the training matrix scaled by how well it separates
//! the classes, as in NBSVM (Wang & Manning, "Baselines and Bigrams", ACL 2012).
//!
//! A column's weight is its Naive Bayes log-count ratio `|ln((p/‖p‖₁) / (q/‖q‖₁))|`, where
//! `p` and `q` count the documents containing the n-gram inside and outside a class (plus
//! one, the smoothing). With more than two classes each class gives a ratio and the weight
//! is their mean weighted by the class priors, so one multinomial model is still fitted.
//! Scaling column `j` by `r_j` before an L2-penalised fit is the same as penalising its
//! coefficient by `1 / r_j²`: n-grams that occur evenly across classes become expensive to
//! use, which is where TF-IDF logistic regression spends its noise. After the fit the
//! weights are folded into the coefficients, so the saved model applies to the plain TF-IDF
//! rows and predicting, explaining and the model file are unchanged.
//!
//! Measured on TweetEval validation (C chosen on validation, the official metric, plain
//! argmax, the former 200,000-step ASGD budget), `stance` against itself with
//! `--no-nb-weights`: stance 71.9 → 73.9, emotion 63.8 → 66.5, hate 73.3 → 74.6, emoji
//! 25.1 → 25.4. A scikit-learn prototype agreed
//! (stance 70.8 → 72.8, emotion 61.6 → 65.8, hate 73.6 → 73.9), and one-vs-rest NB models,
//! one per class as in the paper, scored no better (72.9, 66.5, 73.9) at k times the cost.

use rayon::prelude::*;

use crate::logistic::LogisticRegression;
use crate::sparse::SparseRows;

/// The NB weight of every column of `x` for class indices `y` (of `n_classes` classes).
///
/// Two passes over the rows — the documents containing each column, then each class's
/// share of them, one class at a time — so the memory is a few arrays of one value per
/// column (per thread), whatever the number of classes. Only the rows' columns are read,
/// and each pass counts contiguous parts of its rows in parallel (integer counts, so the
/// weights do not depend on the thread count).
pub fn log_count_ratios(x: &dyn SparseRows, y: &[usize], n_classes: usize) -> Vec<f32> {
    let n_cols = x.n_cols();
    let mut rows_of_class: Vec<Vec<usize>> = vec![Vec::new(); n_classes];
    for (i, &class) in y.iter().enumerate() {
        rows_of_class[class].push(i);
    }
    let all_rows: Vec<usize> = (0..y.len()).collect();
    // Documents containing each column, in all classes.
    let total = documents_per_column(x, &all_rows);
    let sum_total: f64 = total.iter().map(|&t| f64::from(t)).sum();
    let n_docs = y.len().max(1) as f64;
    // With two classes both give the same |ratio|, so one suffices.
    let classes = if n_classes == 2 { 1 } else { n_classes };
    let mut weights = vec![0.0f64; n_cols];
    for rows in rows_of_class.iter().take(classes) {
        let inside = documents_per_column(x, rows);
        let sum_inside: f64 = inside.iter().map(|&n| f64::from(n)).sum();
        // Each count is smoothed by one, so the norms gain one per column.
        let norm_inside = sum_inside + n_cols as f64;
        let norm_outside = sum_total - sum_inside + n_cols as f64;
        let prior = if classes == 1 {
            1.0
        } else {
            rows.len() as f64 / n_docs
        };
        for ((w, &n), &t) in weights.iter_mut().zip(&inside).zip(&total) {
            let p = (f64::from(n) + 1.0) / norm_inside;
            let q = (f64::from(t - n) + 1.0) / norm_outside;
            *w += prior * (p / q).ln().abs();
        }
    }
    weights.into_iter().map(|w| w as f32).collect()
}

/// How many of the rows `rows` of `x` contain each column: one contiguous part of `rows` per
/// thread, each counted into its own array, then summed.
fn documents_per_column(x: &dyn SparseRows, rows: &[usize]) -> Vec<u32> {
    let n_cols = x.n_cols();
    let part = rows.len().div_ceil(rayon::current_num_threads()).max(1);
    let mut counts = rows
        .par_chunks(part)
        .map(|part| {
            let mut counts = vec![0u32; n_cols];
            let mut cols = Vec::new();
            for &i in part {
                x.read_cols(i, &mut cols);
                for &c in &cols {
                    counts[c as usize] += 1;
                }
            }
            counts
        })
        .collect::<Vec<_>>()
        .into_iter();
    let mut sum = counts.next().unwrap_or_else(|| vec![0; n_cols]);
    for other in counts {
        for (s, o) in sum.iter_mut().zip(other) {
            *s += o;
        }
    }
    sum
}

/// Turn a model fitted on the scaled columns into one for the plain columns:
/// `score = Σ_j (x_j·r_j)·w_j = Σ_j x_j·(r_j·w_j)`.
pub fn fold_into(model: &mut LogisticRegression, scale: &[f32]) {
    for (mut coef, &r) in model.coef.rows_mut().into_iter().zip(scale) {
        coef *= f64::from(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sparse::CsrMatrix;

    #[test]
    fn weights_follow_how_unevenly_a_column_is_spread() {
        // Column 0 only in class 0, column 1 everywhere, column 2 only in class 1.
        let mut x = CsrMatrix::new(3);
        let y = [0, 0, 1, 1];
        x.push_row([(0, 1.0), (1, 1.0)]);
        x.push_row([(0, 1.0), (1, 1.0)]);
        x.push_row([(1, 1.0), (2, 1.0)]);
        x.push_row([(1, 1.0), (2, 1.0)]);
        let w = log_count_ratios(&x, &y, 2);
        assert!(w[0] > 0.5 && (w[0] - w[2]).abs() < 1e-6, "{w:?}");
        assert!(w[1].abs() < 1e-6, "{w:?}");
        // Three classes: the weight is the prior-weighted mean of one-vs-rest ratios.
        let w3 = log_count_ratios(&x, &[0, 1, 2, 2], 3);
        assert!(w3[1] < w3[0] && w3[1] < w3[2], "{w3:?}");
    }

    #[test]
    fn folding_gives_the_plain_columns_the_scores_of_the_scaled_ones() {
        let mut x = CsrMatrix::new(2);
        x.push_row([(0, 0.6), (1, 0.8)]);
        x.push_row([(1, 1.0)]);
        let scale = [2.0f32, 0.5];
        let mut scaled = x.clone();
        scaled.scale_columns(&scale);
        assert_eq!(scaled.row(0).1, [1.2, 0.4]);
        let mut model =
            crate::logistic::hand_built(ndarray::array![[0.5], [3.0]], ndarray::array![0.1]);
        let on_scaled = model.predict_proba(&scaled);
        fold_into(&mut model, &scale);
        assert_eq!(model.coef, ndarray::array![[1.0], [1.5]]);
        let on_plain = model.predict_proba(&x);
        assert!(on_plain
            .iter()
            .zip(&on_scaled)
            .all(|(a, b)| (a - b).abs() < 1e-12));
    }
}
