//! Temperature scaling (Guo et al., "On Calibration of Modern Neural Networks", 2017): one
//! scalar `T`, fitted on held-out data, that divides every score of the model so that its
//! probabilities match how often it is right.
//!
//! The C search picks the model the metric likes best, and the metric looks only at the
//! labels: on small data it can pick a strongly regularised model whose probabilities are
//! nearly flat (TweetEval abortion: held-out log-loss 0.96 where a sharper model reaches
//! 0.77). Dividing all scores, intercepts included, by the same `T` leaves every argmax —
//! and so every label, and the class-prior shift folded into the intercepts — as it was,
//! and changes only how confident the probabilities are.
//!
//! `p'ₖ ∝ pₖ^(1/T)` is exactly the softmax (or sigmoid) of the scores divided by `T`, so
//! `T` is fitted from the held-out probabilities alone, by golden-section search on
//! `ln T` for the lowest log-loss plus a Gaussian prior on `ln T` (standard deviation
//! [`PRIOR_SD_LN_T`]), so that a handful of records, all classified right, cannot talk the
//! model into certainty. As with the class-prior shift ([`crate::decision`]), a temperature
//! is kept only if it also wins cross-fitted: fitted on one stratified half of the
//! held-out records (each group, when records have groups, within one half), it must lower
//! the log-loss of the other half, pooled both ways.

use serde::{Deserialize, Serialize};

use crate::train::cross_fit_halves;

/// Search range of `ln T`: `T` from about 0.0025 to 400, wide enough that the prior and the
/// data, not the range, decide.
const LN_T_RANGE: (f64, f64) = (-6.0, 6.0);
/// Standard deviation of the prior on `ln T`: a temperature between e⁻² and e² is
/// plausible before seeing the data.
pub const PRIOR_SD_LN_T: f64 = 1.0;
/// Golden-section steps (the bracket shrinks by 0.618 each: 60 steps reach 1e-12).
const STEPS: usize = 60;

/// What the held-out data said about a temperature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Temperature {
    /// Every score is divided by this (1 when not adopted).
    pub t: f64,
    /// Held-out log-loss as fitted.
    pub log_loss_before: f64,
    /// Held-out log-loss with temperatures fitted on one half and applied to the other,
    /// pooled: the honest estimate.
    pub log_loss_cross_fitted: f64,
    /// True when `log_loss_cross_fitted < log_loss_before`, so `t` is applied.
    pub adopted: bool,
}

/// The logarithms of class probabilities, floored so that a zero stays finite.
pub(crate) fn log_probs(p: &[f64]) -> Vec<f64> {
    p.iter().map(|&q| q.max(1e-300).ln()).collect()
}

/// `ln Σⱼ e^(lⱼ/t)`, computed stably: the normaliser of log-probabilities `l` tempered by `t`
/// (with `t` = 1, of any log-odds).
pub(crate) fn tempered_norm(l: &[f64], t: f64) -> f64 {
    let max = l.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v / t));
    max + l.iter().map(|&v| (v / t - max).exp()).sum::<f64>().ln()
}

/// `p` (class probabilities) as a model with every score divided by `t` would give them:
/// `pₖ^(1/t) / Σⱼ pⱼ^(1/t)`, in the log domain so that sharp temperatures do not underflow.
pub fn temper(p: &[f64], t: f64) -> Vec<f64> {
    let l = log_probs(p);
    let norm = tempered_norm(&l, t);
    l.iter().map(|&v| (v / t - norm).exp()).collect()
}

/// Mean negative log-likelihood of `truth` under log-probabilities `logs` tempered by `t`.
fn tempered_log_loss(logs: &[Vec<f64>], truth: &[usize], t: f64) -> f64 {
    let total: f64 = logs
        .iter()
        .zip(truth)
        .map(|(l, &y)| tempered_norm(l, t) - l[y] / t)
        .sum();
    total / logs.len().max(1) as f64
}

/// The temperature that minimises the total log-loss of `logs` (rows of class
/// log-probabilities) for their true classes `truth`, plus the prior's penalty on `ln T`.
fn best_temperature(logs: &[Vec<f64>], truth: &[usize]) -> f64 {
    let n = logs.len() as f64;
    let loss = |ln_t: f64| {
        n * tempered_log_loss(logs, truth, ln_t.exp())
            + ln_t * ln_t / (2.0 * PRIOR_SD_LN_T * PRIOR_SD_LN_T)
    };
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let (mut lo, mut hi) = LN_T_RANGE;
    let mut a = hi - ratio * (hi - lo);
    let mut b = lo + ratio * (hi - lo);
    let (mut fa, mut fb) = (loss(a), loss(b));
    for _ in 0..STEPS {
        if fa <= fb {
            hi = b;
            b = a;
            fb = fa;
            a = hi - ratio * (hi - lo);
            fa = loss(a);
        } else {
            lo = a;
            a = b;
            fa = fb;
            b = lo + ratio * (hi - lo);
            fb = loss(b);
        }
    }
    ((lo + hi) / 2.0).exp()
}

/// Decide on, and fit, a temperature for held-out probabilities `probs` with true class
/// indices `truth` (`seed` splits the halves, which keep each of the records' `groups`
/// whole; empty: none).
pub fn fit_temperature(
    probs: &[Vec<f64>],
    truth: &[usize],
    groups: &[String],
    seed: u64,
) -> Temperature {
    let logs: Vec<Vec<f64>> = probs.iter().map(|p| log_probs(p)).collect();
    let names: Vec<String> = truth.iter().map(|t| t.to_string()).collect();
    let halves = cross_fit_halves(&names, groups, seed);
    let pick = |rows: &[usize]| -> (Vec<Vec<f64>>, Vec<usize>) {
        (
            rows.iter().map(|&i| logs[i].clone()).collect(),
            rows.iter().map(|&i| truth[i]).collect(),
        )
    };
    let cross_fit = |fit_on: &[usize], apply_to: &[usize]| {
        let (p_fit, y_fit) = pick(fit_on);
        let (p_apply, y_apply) = pick(apply_to);
        let t = best_temperature(&p_fit, &y_fit);
        tempered_log_loss(&p_apply, &y_apply, t) * apply_to.len() as f64
    };
    // The three fits are independent, so they run side by side; the one on all the data is
    // kept only if the cross-fitted halves adopt it. Sums keep their order, so the result
    // does not depend on the thread count.
    let log_loss_before = tempered_log_loss(&logs, truth, 1.0);
    let (cross_total, on_all) = rayon::join(
        || {
            // Records all of one group leave nothing to check a fit on: no temperature.
            halves.as_ref().map(|(half_a, half_b)| {
                let (a, b) =
                    rayon::join(|| cross_fit(half_a, half_b), || cross_fit(half_b, half_a));
                a + b
            })
        },
        || best_temperature(&logs, truth),
    );
    let log_loss_cross_fitted =
        cross_total.map_or(log_loss_before, |total| total / truth.len().max(1) as f64);
    let adopted = log_loss_cross_fitted < log_loss_before;
    Temperature {
        t: if adopted { on_all } else { 1.0 },
        log_loss_before,
        log_loss_cross_fitted,
        adopted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn softmax(scores: &[f64]) -> Vec<f64> {
        let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        e.iter().map(|v| v / sum).collect()
    }

    #[test]
    fn recovers_the_temperature_that_flattened_calibrated_scores() {
        // Labels drawn from softmax(s); the model reports softmax(s / 4).
        let mut rng = crate::train::SplitMix64::new(7);
        let (mut probs, mut truth) = (Vec::new(), Vec::new());
        for _ in 0..20_000 {
            let s: Vec<f64> = (0..3)
                .map(|_| 4.0 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64))
                .collect();
            let p = softmax(&s);
            let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let y = if u < p[0] {
                0
            } else if u < p[0] + p[1] {
                1
            } else {
                2
            };
            probs.push(softmax(&s.iter().map(|v| v / 4.0).collect::<Vec<_>>()));
            truth.push(y);
        }
        let t = fit_temperature(&probs, &truth, &[], 1);
        assert!(t.adopted && (t.t - 0.25).abs() < 0.03, "{t:?}");
        assert!(t.log_loss_cross_fitted < t.log_loss_before, "{t:?}");
        // Halves keep groups whole: forty groups still confirm the temperature; records all
        // of one group leave no half to check it on.
        let forty: Vec<String> = (0..truth.len()).map(|i| format!("g{}", i % 40)).collect();
        let grouped = fit_temperature(&probs, &truth, &forty, 1);
        assert!(grouped.adopted, "{grouped:?}");
        let one = fit_temperature(&probs, &truth, &vec!["all".to_string(); truth.len()], 1);
        assert!(!one.adopted && one.t == 1.0, "{one:?}");
        assert_eq!(one.log_loss_cross_fitted, one.log_loss_before);
        // Already calibrated probabilities keep T ≈ 1.
        let calibrated: Vec<Vec<f64>> = probs
            .iter()
            .map(|p| softmax(&p.iter().map(|q| q.ln() * 4.0).collect::<Vec<_>>()))
            .collect();
        let t1 = fit_temperature(&calibrated, &truth, &[], 1);
        assert!((t1.t - 1.0).abs() < 0.1, "{t1:?}");
        // Eight records, all classified right: sharper, but the prior keeps it from
        // certainty (without it T would run to the end of its range).
        let few: Vec<Vec<f64>> = (0..8)
            .map(|i| {
                if i % 2 == 0 {
                    vec![0.6, 0.4]
                } else {
                    vec![0.4, 0.6]
                }
            })
            .collect();
        let labels: Vec<usize> = (0..8).map(|i| i % 2).collect();
        let t2 = fit_temperature(&few, &labels, &[], 1);
        assert!(t2.t > 0.1 && t2.t < 1.0, "{t2:?}");
    }
}
