//! Whether a validation file's labels are distributed like the training data's.
//!
//! A validation file drawn from the same population as the training data has nearly the
//! same label shares; one from elsewhere (a later period, another source) often does not.
//! That matters for what the file decides: C and the class-prior shift are fitted to serve
//! records like the validation file's, and on TweetEval emoji, whose validation labels
//! differ from the training labels well beyond chance, the shift it adopts gains on test
//! sets drawn like the validation file and costs on test sets drawn like the training file
//! (`benches/selection_sim.py --test-from`). So training reports a marked difference.
//!
//! The test is Pearson's chi-square test of homogeneity on the 2 × K table of label counts;
//! the report also gives the total variation distance between the two label distributions
//! (half the sum of the absolute differences of the shares), which says how large the
//! difference is where the p-value only says how surely it is there.

use serde::{Deserialize, Serialize};

/// The p-value below which training reports the difference.
pub const SIGNIFICANCE: f64 = 0.001;

/// What a marked difference adds when the records come in groups (articles, authors): the
/// test counts records as independent, while an article's sentences tend to share their
/// labels, so its p-value is smaller than the evidence warrants.
pub const GROUPS_CAVEAT: &str = "the test counts records as independent, but records of one group tend to share their labels, so with groups the difference is less certain than its p says";

/// How the label distributions of two samples differ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LabelShift {
    /// Half the sum over labels of the absolute difference of the two shares (0 to 1).
    pub total_variation: f64,
    /// Pearson's chi-square statistic of the 2 × K table.
    pub chi_square: f64,
    /// Its degrees of freedom: the labels present in either sample, less one.
    pub degrees_of_freedom: usize,
    /// The probability of a statistic at least this large if both samples were drawn from
    /// one population.
    pub p_value: f64,
}

impl LabelShift {
    /// Compare two samples' label counts (same labels, same order).
    pub fn between(a: &[usize], b: &[usize]) -> Self {
        assert_eq!(a.len(), b.len(), "both samples count the same labels");
        let (n_a, n_b) = (
            a.iter().sum::<usize>() as f64,
            b.iter().sum::<usize>() as f64,
        );
        if n_a == 0.0 || n_b == 0.0 {
            // An empty sample: nothing to compare.
            return LabelShift {
                total_variation: 0.0,
                chi_square: 0.0,
                degrees_of_freedom: 0,
                p_value: 1.0,
            };
        }
        let n = n_a + n_b;
        let mut total_variation = 0.0;
        let mut chi_square = 0.0;
        let mut present = 0;
        for (&x, &y) in a.iter().zip(b) {
            let (x, y) = (x as f64, y as f64);
            total_variation += (x / n_a - y / n_b).abs() / 2.0;
            let column = x + y;
            if column == 0.0 {
                continue;
            }
            present += 1;
            for (observed, row) in [(x, n_a), (y, n_b)] {
                let expected = row * column / n;
                chi_square += (observed - expected).powi(2) / expected;
            }
        }
        let degrees_of_freedom = present.max(1) - 1;
        LabelShift {
            total_variation,
            chi_square,
            degrees_of_freedom,
            p_value: chi_square_survival(chi_square, degrees_of_freedom),
        }
    }

    /// True when the difference is beyond chance at [`SIGNIFICANCE`].
    pub fn is_marked(&self) -> bool {
        self.p_value < SIGNIFICANCE
    }

    /// What `stance eval` says when its records' labels (sample b) are distributed unlike the
    /// model's training labels (sample a), if they are; with [`GROUPS_CAVEAT`] when the
    /// records are `grouped`.
    pub fn evaluation_note(&self, grouped: bool) -> Option<String> {
        self.is_marked().then(|| {
            let note = format!(
                "these labels are not distributed like the model's training data's ({}): a different sample from the one it was fitted on, so the figures describe data like this.",
                self.describe()
            );
            if grouped {
                format!("{note} ({GROUPS_CAVEAT})")
            } else {
                note
            }
        })
    }

    /// The figures for a report: `total variation 0.059; chi-square 129.2 on 19 degrees of
    /// freedom, p = 2.1e-18`.
    pub fn describe(&self) -> String {
        let p = if self.p_value < 1e-300 {
            "p < 1e-300".to_string()
        } else {
            format!("p = {:.1e}", self.p_value)
        };
        format!(
            "total variation {:.3}; chi-square {:.1} on {} degree{} of freedom, {p}",
            self.total_variation,
            self.chi_square,
            self.degrees_of_freedom,
            if self.degrees_of_freedom == 1 {
                ""
            } else {
                "s"
            }
        )
    }
}

/// P(X ≥ x) for X chi-square distributed with `df` degrees of freedom (1 for `df` = 0).
pub fn chi_square_survival(x: f64, df: usize) -> f64 {
    if df == 0 || x <= 0.0 {
        return 1.0;
    }
    upper_regularized_gamma(df as f64 / 2.0, x / 2.0)
}

/// Q(a, x) = Γ(a, x) / Γ(a): the series for P below x = a + 1, Lentz's continued fraction
/// for Q above it (Numerical Recipes, §6.2), each accurate to about 1e-14.
fn upper_regularized_gamma(a: f64, x: f64) -> f64 {
    let log_prefactor = a * x.ln() - x - ln_gamma(a);
    if x < a + 1.0 {
        let (mut term, mut sum, mut ap) = (1.0 / a, 1.0 / a, a);
        for _ in 0..1000 {
            ap += 1.0;
            term *= x / ap;
            sum += term;
            if term.abs() < sum.abs() * 1e-15 {
                break;
            }
        }
        (1.0 - sum * log_prefactor.exp()).clamp(0.0, 1.0)
    } else {
        const TINY: f64 = 1e-300;
        let mut b = x + 1.0 - a;
        let mut c = 1.0 / TINY;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < TINY {
                d = TINY;
            }
            c = b + an / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            let step = d * c;
            h *= step;
            if (step - 1.0).abs() < 1e-15 {
                break;
            }
        }
        (log_prefactor.exp() * h).clamp(0.0, 1.0)
    }
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, nine coefficients: about 15 significant digits).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection: Γ(x) Γ(1 − x) = π / sin(πx).
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, &c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_known_values() {
        assert!(ln_gamma(1.0).abs() < 1e-14);
        assert!(ln_gamma(2.0).abs() < 1e-14);
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-13
        ));
        // ln 9! = ln 362880.
        assert!(close(ln_gamma(10.0), 362_880f64.ln(), 1e-13));
        assert!(close(ln_gamma(100.5), 361.435_540_467_777_6, 1e-12));
    }

    #[test]
    fn chi_square_tail_matches_tables() {
        // Critical values at 5 %, 1 % and 0.1 % (scipy.stats.chi2.isf).
        for (x, df, p) in [
            (3.841_458_820_694_128_5, 1, 0.05),
            (6.634_896_601_021_217, 1, 0.01),
            (18.307_038_053_275_15, 10, 0.05),
            (30.143_527_205_646_155, 19, 0.05),
            (43.820_195_964_517_53, 19, 0.001),
            (124.342_113_404_004_08, 100, 0.05),
        ] {
            let q = chi_square_survival(x, df);
            assert!(close(q, p, 1e-9), "Q({x}, {df}) = {q}, expected {p}");
        }
        // Two degrees of freedom: exactly e^(−x/2).
        assert!(close(chi_square_survival(5.0, 2), (-2.5f64).exp(), 1e-13));
        assert_eq!(chi_square_survival(0.0, 3), 1.0);
        assert_eq!(chi_square_survival(7.0, 0), 1.0);
        assert!(chi_square_survival(2000.0, 19) < 1e-200);
    }

    #[test]
    fn identical_shares_are_no_shift_and_a_large_difference_is_marked() {
        let same = LabelShift::between(&[200, 100, 100], &[20, 10, 10]);
        assert!(same.total_variation.abs() < 1e-15);
        assert!(same.chi_square.abs() < 1e-12);
        assert_eq!(same.degrees_of_freedom, 2);
        assert!(close(same.p_value, 1.0, 1e-12) && !same.is_marked());

        let shifted = LabelShift::between(&[500, 500], &[300, 700]);
        assert!(close(shifted.total_variation, 0.2, 1e-12));
        // Expected counts 400 / 600 in each row: 4 × 100² / 400 + ... = 83.33.
        assert!(close(
            shifted.chi_square,
            2.0 * (100.0f64.powi(2) / 400.0) + 2.0 * (100.0f64.powi(2) / 600.0),
            1e-12
        ));
        assert!(shifted.is_marked());
        assert_eq!(
            shifted.describe(),
            "total variation 0.200; chi-square 83.3 on 1 degree of freedom, p = 6.9e-20"
        );
    }

    proptest::proptest! {
        /// The figures stay in range, do not depend on which sample is which, and the tail
        /// probability falls as the statistic grows.
        #[test]
        fn figures_are_in_range_and_symmetric(
            pairs in proptest::collection::vec((0usize..60, 0usize..60), 2..8),
            extra in 0.0f64..50.0,
        ) {
            let (a, b): (Vec<usize>, Vec<usize>) = pairs.into_iter().unzip();
            let ab = LabelShift::between(&a, &b);
            let ba = LabelShift::between(&b, &a);
            proptest::prop_assert!((0.0..=1.0 + 1e-12).contains(&ab.total_variation));
            proptest::prop_assert!((0.0..=1.0).contains(&ab.p_value));
            proptest::prop_assert!(ab.chi_square >= 0.0 && ab.chi_square.is_finite());
            proptest::prop_assert!((ab.chi_square - ba.chi_square).abs() <= 1e-9 * ab.chi_square.max(1.0));
            proptest::prop_assert!((ab.total_variation - ba.total_variation).abs() < 1e-12);
            proptest::prop_assert_eq!(ab.degrees_of_freedom, ba.degrees_of_freedom);
            let df = ab.degrees_of_freedom.max(1);
            proptest::prop_assert!(
                chi_square_survival(ab.chi_square + extra, df) <= chi_square_survival(ab.chi_square, df) + 1e-12
            );
        }
    }

    #[test]
    fn labels_absent_from_both_samples_add_no_degree_of_freedom() {
        let s = LabelShift::between(&[10, 0, 5], &[4, 0, 3]);
        assert_eq!(s.degrees_of_freedom, 1);
        let empty = LabelShift::between(&[0, 0], &[0, 0]);
        assert_eq!((empty.degrees_of_freedom, empty.p_value), (0, 1.0));
        let one_empty = LabelShift::between(&[3, 4], &[0, 0]);
        assert_eq!(
            (
                one_empty.total_variation,
                one_empty.degrees_of_freedom,
                one_empty.p_value
            ),
            (0.0, 0, 1.0)
        );
    }
}
