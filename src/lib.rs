//! stance: train, evaluate and apply sparse TF-IDF + logistic-regression text classifiers.
//!
//! The data's path, one module per stage: [`corpus`] (reading records) → [`tokenize`]
//! (normalised tokens) → [`vectorize`] (n-grams and TF-IDF, as a [`sparse`] matrix, or for
//! training the compact [`packed`] one) → [`logistic`] (the model) and [`train`] (model
//! selection) → [`metrics`] (evaluation) → [`classifier`] (the trained pipeline) →
//! [`model_file`] (saving and loading) → [`output`] (writing predictions). [`lbfgs`] is the optimiser, [`decision`] the optional
//! class-prior shift, [`synthetic`] a reproducible corpus generator.
//! [`sentences`] splits whole articles for scoring, and lists their sentences for labelling.
//! [`score`] scores whole articles sentence by sentence, with evidence and an article-level
//! result per model.
//! [`prefetch`] holds the memory hints the latency-bound loops (vocabulary lookups, weight
//! rows) share, [`huge_pages`] the allocator that backs their large tables with huge pages.
//! [`overlap`] tells which evaluation texts a model was fitted or selected on, and
//! [`label_shift`] whether a validation file's labels are distributed like the training data's.
//! [`atomic_write`] writes model files and prediction files whole or not at all, and
//! [`interrupt`] lets a program (the command line) remove an unfinished one on Ctrl-C.
//! [`learning_curve`] shows how the held-out metric grows with the training data.
//! [`agreement`] measures how far the coders who labelled the same records agree.
//! [`report`] renders an evaluation as a directory of files (a self-contained HTML page,
//! `metrics.json`, SVG charts), with calibration and [`bootstrap`] confidence intervals.

pub mod agreement;
pub mod atomic_write;
pub mod bootstrap;
pub mod calibration;
pub mod classifier;
pub mod compare;
pub mod corpus;
pub mod decision;
pub mod error;
pub mod huge_pages;
pub mod interrupt;
pub mod label_shift;
pub mod lbfgs;
pub mod learning_curve;
pub mod logistic;
pub mod metrics;
pub mod model_file;
pub mod nb_weights;
pub mod output;
pub mod overlap;
pub mod packed;
pub mod prefetch;
pub mod report;
pub mod score;
pub mod sentences;
pub mod sgd;
pub mod sparse;
pub mod synthetic;
pub mod tokenize;
pub mod train;
pub mod vectorize;

pub use classifier::{Classifier, Prediction};
pub use error::{Error, Result};
