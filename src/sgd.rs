//! The default optimiser: averaged stochastic gradient descent (ASGD) on the regularised,
//! weighted log-loss, with sparse updates.
//!
//! On TF-IDF text the full-batch L-BFGS of [`crate::lbfgs`] converges slowly: on TweetEval
//! emoji (45 k tweets, 195 k features, 20 classes) 60 iterations still leave the validation
//! macro-F1 three points short of the optimum's, and every iteration is a full pass over the
//! data. ASGD gets there in a few passes (Polyak–Juditsky averaging; the implementation
//! follows Bottou's `svmasgd`, "Stochastic Gradient Descent Tricks", 2012, and Xu,
//! "Towards Optimal One Pass Large Scale Learning with Averaged SGD", 2011):
//!
//! - the weights are stored as `W = V / w_div`, so the L2 shrinkage of every step is one
//!   scalar update and a step touches only the features of one document;
//! - the average is stored as `Ā = (A + w_frac · V) / a_div`, so averaging is sparse too;
//! - the step size is `η₀ / (1 + λ η₀ t)^0.75`, with `η₀` calibrated on a sample of the
//!   data (the rate that lowers the sample objective most in one pass);
//! - averaging covers the second half of the epochs (suffix averaging).
//!
//! Documents are visited in a fresh shuffled order each epoch from a fixed seed, so a fit is
//! reproducible bit for bit. The intercepts are not penalised.

use crate::logistic::residuals;
use crate::sparse::{CsrMatrix, RowBuffer, SparseRows};
use crate::train::SplitMix64;

/// Settings of one ASGD run.
#[derive(Debug, Clone, Copy)]
pub struct SgdOptions {
    /// Passes over the data.
    pub epochs: u32,
    /// Seed of the visiting order.
    pub seed: u64,
}

/// The problem: minimise `(1/n) Σᵢ sᵢ·ℓᵢ(W, b) + (λ/2)‖W‖²`.
pub struct Problem<'a> {
    /// Read one row at a time, so any storage will do (training passes the compact
    /// [`crate::packed::PackedMatrix`]).
    pub x: &'a dyn SparseRows,
    pub y: &'a [usize],
    pub sample_weight: &'a [f64],
    /// 1 (binary, sigmoid of the score of class 1) or the number of classes (softmax).
    pub n_outputs: usize,
    /// The L2 strength λ.
    pub alpha: f64,
}

/// How a run went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SgdResult {
    pub epochs: u32,
    pub eta0: f64,
}

/// Weights in Bottou's scaled form, with their running average. Each feature's weights and
/// averaged weights sit side by side (`2k` values in f32), so one document's update touches
/// one short run of memory per feature: the update is bound by memory latency, and f32
/// halves the footprint (TweetEval emoji: 195 k features × 20 classes × 2 × 4 bytes = 31 MB,
/// which fits in this machine's L3 cache where f64 does not).
struct State {
    k: usize,
    /// Per feature: `v[0..k]` then `a[0..k]`, with `W = v / w_div` and
    /// `Ā = (a + w_frac · v) / a_div` when averaging.
    weights: Vec<f32>,
    w_div: f64,
    b: Vec<f64>,
    a_div: f64,
    w_frac: f64,
    b_avg: Vec<f64>,
    averaging: bool,
    /// Steps taken since averaging began.
    averaged_steps: u64,
    scores: Vec<f64>,
    update: Vec<f32>,
}

impl State {
    fn new(params: &[f64], n_features: usize, k: usize) -> Self {
        let n_w = n_features * k;
        let mut weights = vec![0.0f32; 2 * n_w];
        for (row, p) in weights
            .chunks_exact_mut(2 * k)
            .zip(params[..n_w].chunks_exact(k))
        {
            for (w, &p) in row[..k].iter_mut().zip(p) {
                *w = p as f32;
            }
        }
        State {
            k,
            weights,
            w_div: 1.0,
            b: params[n_w..].to_vec(),
            a_div: 1.0,
            w_frac: 0.0,
            b_avg: params[n_w..].to_vec(),
            averaging: false,
            averaged_steps: 0,
            scores: vec![0.0; k],
            update: vec![0.0; k],
        }
    }

    fn start_averaging(&mut self) {
        let k = self.k;
        for row in self.weights.chunks_exact_mut(2 * k) {
            row[k..].fill(0.0);
        }
        self.a_div = self.w_div;
        self.w_frac = 1.0;
        self.b_avg.copy_from_slice(&self.b);
        self.averaging = true;
        self.averaged_steps = 0;
    }

    /// Fold the scale factors back into the stored weights (they would overflow otherwise).
    fn renormalise(&mut self) {
        let k = self.k;
        let inv_w = (1.0 / self.w_div) as f32;
        let (inv_a, frac) = ((1.0 / self.a_div) as f32, (self.w_frac / self.a_div) as f32);
        for row in self.weights.chunks_exact_mut(2 * k) {
            let (v, a) = row.split_at_mut(k);
            if self.averaging {
                for (a, &v) in a.iter_mut().zip(v.iter()) {
                    *a = *a * inv_a + frac * v;
                }
            }
            v.iter_mut().for_each(|v| *v *= inv_w);
        }
        self.a_div = 1.0;
        self.w_frac = 0.0;
        self.w_div = 1.0;
    }

    /// Ask the CPU to start loading the weights of feature `column`. The step is bound by
    /// memory traffic (the rows of one tweet's ~200 n-grams are scattered over tens of
    /// megabytes), so each step prefetches the next document's rows while it computes its
    /// own scores, a few at a time: issued all at once they overflow the CPU's queue of
    /// outstanding misses and stall it. Into L2, not L1: one tweet's rows fill L1 (200 ×
    /// 160 bytes on emoji), and the current document's are needed again for its update
    /// (measured on emoji: 9 epochs 3.6–4.6 s with L2 hints, 4.0–5.7 s with L1 hints).
    #[inline(always)]
    fn prefetch(&self, column: u32) {
        let width = if self.averaging { 2 * self.k } else { self.k };
        crate::prefetch::prefetch(&self.weights[column as usize * 2 * self.k..][..width]);
    }

    /// One SGD step on document `i`, whose row is `row`, with step size `eta`, prefetching
    /// the weights of the columns `upcoming` (the next document's).
    fn step(&mut self, problem: &Problem, i: usize, row: &RowBuffer, upcoming: &[u32], eta: f64) {
        let k = self.k;
        let (cols, vals) = (&row.cols[..], &row.vals[..]);
        let mut raw = [0.0f32; 64];
        let raw = if k <= 64 {
            &mut raw[..k]
        } else {
            &mut vec![0.0f32; k][..]
        };
        let mut prefetched = 0;
        for (position, (&c, &x)) in cols.iter().zip(vals).enumerate() {
            // Spread the next document's prefetches evenly over this loop.
            let due = (position + 1) * upcoming.len() / cols.len();
            while prefetched < due {
                self.prefetch(upcoming[prefetched]);
                prefetched += 1;
            }
            let row = &self.weights[c as usize * 2 * k..c as usize * 2 * k + k];
            for (s, w) in raw.iter_mut().zip(row) {
                *s += x * w;
            }
        }
        for &c in &upcoming[prefetched..] {
            self.prefetch(c);
        }
        let inv_w = 1.0 / self.w_div;
        for ((s, r), b) in self.scores.iter_mut().zip(raw.iter()).zip(&self.b) {
            *s = *r as f64 * inv_w + b;
        }
        // Gradient of the loss with respect to the scores, written over them.
        residuals(&mut self.scores, problem.y[i], problem.sample_weight[i]);

        self.w_div /= 1.0 - eta * problem.alpha;
        // v += x ⊗ u with u = −η·g·w_div keeps W = v / w_div on the SGD path.
        let scale = -eta * self.w_div;
        for ((u, g), b) in self
            .update
            .iter_mut()
            .zip(&self.scores)
            .zip(self.b.iter_mut())
        {
            *u = (g * scale) as f32;
            *b -= eta * g;
        }
        if self.averaging {
            let frac = self.w_frac as f32;
            for (&c, &x) in cols.iter().zip(vals) {
                let row = &mut self.weights[c as usize * 2 * k..(c as usize + 1) * 2 * k];
                let (v, a) = row.split_at_mut(k);
                for ((v, a), u) in v.iter_mut().zip(a.iter_mut()).zip(&self.update) {
                    let delta = x * u;
                    *v += delta;
                    *a -= frac * delta;
                }
            }
            self.averaged_steps += 1;
            let mu = 1.0 / self.averaged_steps as f64;
            // Ā ← (1 − μ)·Ā + μ·W.
            if mu < 1.0 {
                self.a_div /= 1.0 - mu;
            }
            self.w_frac += mu * self.a_div / self.w_div;
            for (ba, b) in self.b_avg.iter_mut().zip(&self.b) {
                *ba += mu * (b - *ba);
            }
        } else {
            for (&c, &x) in cols.iter().zip(vals) {
                let row = &mut self.weights[c as usize * 2 * k..c as usize * 2 * k + k];
                for (v, u) in row.iter_mut().zip(&self.update) {
                    *v += x * u;
                }
            }
        }
        if self.w_div > 1e5 || self.a_div > 1e5 {
            self.renormalise();
        }
    }

    /// The current iterate (or its average, when averaging) as flat parameters.
    fn write_params(&self, params: &mut [f64]) {
        let k = self.k;
        let n_w = params.len() - k;
        let (inv_w, inv_a, frac) = (1.0 / self.w_div, 1.0 / self.a_div, self.w_frac / self.a_div);
        for (p, row) in params[..n_w]
            .chunks_exact_mut(k)
            .zip(self.weights.chunks_exact(2 * k))
        {
            let (v, a) = row.split_at(k);
            for ((p, &v), &a) in p.iter_mut().zip(v).zip(a) {
                *p = if self.averaging {
                    a as f64 * inv_a + frac * v as f64
                } else {
                    v as f64 * inv_w
                };
            }
        }
        params[n_w..].copy_from_slice(if self.averaging { &self.b_avg } else { &self.b });
    }
}

/// The documents of a calibration sample as a problem of their own, over only the features
/// they use (a few percent of the vocabulary), so that trying a step size costs time in
/// proportion to the sample, not to the model.
struct Sample {
    x: CsrMatrix,
    y: Vec<usize>,
    sample_weight: Vec<f64>,
    /// `[W rows of the sample's features, b]`, taken from the starting point.
    params: Vec<f64>,
    /// `‖W‖²` of the features the sample does not use; they only shrink during a trial.
    other_penalty: f64,
}

impl Sample {
    fn new(problem: &Problem, params: &[f64], rows: &[usize]) -> Sample {
        let k = problem.n_outputs;
        let mut row = RowBuffer::default();
        let mut columns: Vec<u32> = Vec::new();
        for &i in rows {
            problem.x.read_row(i, &mut row);
            columns.extend_from_slice(&row.cols);
        }
        columns.sort_unstable();
        columns.dedup();
        let mut local_of = vec![u32::MAX; problem.x.n_cols()];
        for (local, &c) in columns.iter().enumerate() {
            local_of[c as usize] = local as u32;
        }
        let mut x = CsrMatrix::new(columns.len());
        for &i in rows {
            problem.x.read_row(i, &mut row);
            // Local ids follow the global order, so each row stays sorted.
            x.push_row(
                row.cols
                    .iter()
                    .map(|&c| local_of[c as usize])
                    .zip(row.vals.iter().copied()),
            );
        }
        let n_w = problem.x.n_cols() * k;
        let mut local_params = Vec::with_capacity((columns.len() + 1) * k);
        for &c in &columns {
            local_params.extend_from_slice(&params[c as usize * k..(c as usize + 1) * k]);
        }
        local_params.extend_from_slice(&params[n_w..]);
        let total: f64 = params[..n_w].iter().map(|w| w * w).sum();
        let local: f64 = local_params[..columns.len() * k]
            .iter()
            .map(|w| w * w)
            .sum();
        Sample {
            x,
            y: rows.iter().map(|&i| problem.y[i]).collect(),
            sample_weight: rows.iter().map(|&i| problem.sample_weight[i]).collect(),
            params: local_params,
            other_penalty: (total - local).max(0.0),
        }
    }

    /// The sample objective after one plain SGD pass with constant step `eta`.
    fn trial(&self, problem: &Problem, eta: f64) -> f64 {
        let k = problem.n_outputs;
        let local = Problem {
            x: &self.x,
            y: &self.y,
            sample_weight: &self.sample_weight,
            n_outputs: k,
            alpha: problem.alpha,
        };
        let mut state = State::new(&self.params, self.x.n_cols(), k);
        let mut row = RowBuffer::default();
        for i in 0..self.x.n_rows() {
            self.x.read_row(i, &mut row);
            state.step(&local, i, &row, &[], eta);
        }
        let mut p = self.params.clone();
        state.write_params(&mut p);
        let n_w = p.len() - k;
        let (w, b) = p.split_at(n_w);
        let mut loss = 0.0;
        let mut scores = vec![0.0; k];
        for i in 0..self.x.n_rows() {
            scores.copy_from_slice(b);
            let (cols, vals) = self.x.row(i);
            for (&c, &x) in cols.iter().zip(vals) {
                let row = &w[c as usize * k..(c as usize + 1) * k];
                for (s, wk) in scores.iter_mut().zip(row) {
                    *s += x as f64 * wk;
                }
            }
            loss += residuals(&mut scores, self.y[i], self.sample_weight[i]);
        }
        let shrink = (1.0 - eta * problem.alpha).powi(2 * self.x.n_rows() as i32);
        let penalty = w.iter().map(|v| v * v).sum::<f64>() + self.other_penalty * shrink;
        let value = loss / self.x.n_rows() as f64 + 0.5 * problem.alpha * penalty;
        if value.is_finite() {
            value
        } else {
            f64::INFINITY
        }
    }
}

/// Bottou's calibration: on a sample of up to 1,000 documents, the step size (a power of
/// two) that lowers the sample objective most in one plain SGD pass from `params`.
fn calibrate_eta0(problem: &Problem, params: &[f64], order: &[usize]) -> f64 {
    let sample = Sample::new(problem, params, &order[..order.len().min(1000)]);
    let start = sample.trial(problem, 0.0);
    let factor = 2.0;
    let (mut best_eta, mut best) = (1.0, sample.trial(problem, 1.0));
    // Walk up while the objective improves, else down.
    let up = {
        let v = sample.trial(problem, factor);
        if v < best {
            best_eta = factor;
            best = v;
            true
        } else {
            false
        }
    };
    let mut eta = best_eta;
    for _ in 0..20 {
        eta = if up { eta * factor } else { eta / factor };
        let v = sample.trial(problem, eta);
        if v < best {
            best = v;
            best_eta = eta;
        } else {
            break;
        }
    }
    if best >= start {
        // No step helps (already at the optimum of the sample): keep a small, safe one.
        best_eta = best_eta.min(0.1);
    }
    best_eta
}

/// The step (0-based, counted over all epochs of `n_rows` steps) from which the iterates
/// are averaged: the first step of the second half of the epochs (suffix averaging), never
/// in the first epoch of several; a single epoch averages its second half. Averaging only
/// the later iterates is as good as averaging from epoch 1 on TweetEval (emoji C = 3, 5
/// epochs: validation macro-F1 0.2480–0.2509 from epoch 2 or 3 vs 0.2461 from epoch 1;
/// emotion and hate within ±0.005), and the steps before it touch half the memory.
fn averaging_start(epochs: u32, n_rows: usize) -> u64 {
    if epochs == 1 {
        n_rows as u64 / 2
    } else {
        u64::from(epochs / 2) * n_rows as u64
    }
}

/// Minimise the problem by ASGD from (and overwriting) `params`
/// (`[W (n_features × n_outputs, row-major), b]`).
pub fn minimize(problem: &Problem, params: &mut [f64], options: &SgdOptions) -> SgdResult {
    let n = problem.x.n_rows();
    let mut rng = SplitMix64::new(options.seed);
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let eta0 = calibrate_eta0(problem, params, &order);
    let mut state = State::new(params, problem.x.n_cols(), problem.n_outputs);
    let mut t = 0u64;
    // The current document's row and the next one's, read a step ahead so that its
    // weights can be prefetched.
    let (mut row, mut next_row) = (RowBuffer::default(), RowBuffer::default());
    let averaging_from = averaging_start(options.epochs, n);
    for epoch in 0..options.epochs {
        if epoch > 0 {
            rng.shuffle(&mut order);
        }
        if let Some(&first) = order.first() {
            problem.x.read_row(first, &mut next_row);
        }
        for (position, &i) in order.iter().enumerate() {
            std::mem::swap(&mut row, &mut next_row);
            match order.get(position + 1) {
                Some(&next) => problem.x.read_row(next, &mut next_row),
                None => next_row.cols.clear(),
            }
            if t == averaging_from {
                state.start_averaging();
            }
            let eta = eta0 / (1.0 + problem.alpha * eta0 * t as f64).powf(0.75);
            state.step(problem, i, &row, &next_row.cols, eta);
            t += 1;
        }
    }
    state.write_params(params);
    SgdResult {
        epochs: options.epochs,
        eta0,
    }
}
