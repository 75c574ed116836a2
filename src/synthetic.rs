//! A deterministic synthetic labelled corpus, for scale runs and benchmarks that anyone can
//! reproduce without downloading data.
//!
//! Words are pronounceable pseudo-words (`talomi`, `vesuna`, …) drawn from a Zipfian
//! distribution (exponent 1.07, as in English text). Each class has a topic of its own: a
//! document's word is drawn from the class's distribution — the same Zipf law over a
//! class-specific shuffle of the vocabulary — with probability `topicality`, and from the
//! shared distribution otherwise, so classes overlap as real ones do. Document lengths
//! follow a log-normal law around the requested mean; class frequencies are mildly skewed
//! (class k weighs `1 / (k + 2)`). The same seed and settings give the same bytes; corpora
//! with different seeds share vocabulary and topics, so one can train on one and test on
//! another.

use std::io::{self, Write};

use crate::train::SplitMix64;

/// Seed of the vocabulary and class topics, shared by every corpus of the same sizes.
const LANGUAGE_SEED: u64 = 0x5EED_1A96;

/// Settings of a synthetic corpus.
#[derive(Debug, Clone)]
pub struct SyntheticConfig {
    /// Number of documents.
    pub documents: usize,
    /// Number of classes.
    pub classes: usize,
    /// Vocabulary size.
    pub vocabulary: usize,
    /// Mean words per document.
    pub mean_words: f64,
    /// Share of a document's words drawn from its class's own distribution.
    pub topicality: f64,
    /// Seed of the documents (the vocabulary and topics do not depend on it).
    pub seed: u64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            documents: 10_000,
            classes: 10,
            vocabulary: 50_000,
            mean_words: 30.0,
            topicality: 0.15,
            seed: 1,
        }
    }
}

/// Generates documents one at a time.
pub struct SyntheticCorpus {
    config: SyntheticConfig,
    rng: SplitMix64,
    words: Vec<String>,
    /// Cumulative Zipf probabilities over ranks.
    zipf_cdf: Vec<f64>,
    /// For each class, rank → word index.
    class_words: Vec<Vec<u32>>,
    class_cdf: Vec<f64>,
    produced: usize,
}

impl SyntheticCorpus {
    /// Prepare the vocabulary and distributions.
    pub fn new(config: SyntheticConfig) -> Self {
        // The "language" (vocabulary and class topics) depends only on its sizes, so corpora
        // drawn with different seeds — a training set and a held-out set — share it.
        let mut rng = SplitMix64::new(LANGUAGE_SEED);
        let words = pseudo_words(config.vocabulary, &mut rng);
        let mut zipf_cdf = Vec::with_capacity(config.vocabulary);
        let mut total = 0.0;
        for rank in 0..config.vocabulary {
            total += 1.0 / ((rank + 1) as f64).powf(1.07);
            zipf_cdf.push(total);
        }
        zipf_cdf.iter_mut().for_each(|c| *c /= total);
        let class_words = (0..config.classes)
            .map(|_| {
                let mut order: Vec<u32> = (0..config.vocabulary as u32).collect();
                rng.shuffle(&mut order);
                order
            })
            .collect();
        let mut class_cdf = Vec::with_capacity(config.classes);
        let mut total = 0.0;
        for k in 0..config.classes {
            total += 1.0 / (k + 2) as f64;
            class_cdf.push(total);
        }
        class_cdf.iter_mut().for_each(|c| *c /= total);
        SyntheticCorpus {
            rng: SplitMix64::new(config.seed),
            config,
            words,
            zipf_cdf,
            class_words,
            class_cdf,
            produced: 0,
        }
    }

    /// The label name of class `k`.
    pub fn label(k: usize) -> String {
        format!("class{k:02}")
    }

    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The next document as (text, class).
    pub fn next_document(&mut self) -> Option<(String, usize)> {
        if self.produced == self.config.documents {
            return None;
        }
        self.produced += 1;
        let u = self.uniform();
        let class = self
            .class_cdf
            .partition_point(|&c| c < u)
            .min(self.config.classes - 1);
        // Log-normal length with σ = 0.5 and the requested mean.
        let normal = self.standard_normal();
        let mu = self.config.mean_words.ln() - 0.125;
        let length = ((mu + 0.5 * normal).exp().round() as usize).clamp(3, 400);
        let mut text = String::with_capacity(length * 8);
        for i in 0..length {
            let u = self.uniform();
            let rank = self
                .zipf_cdf
                .partition_point(|&c| c < u)
                .min(self.config.vocabulary - 1);
            let word = if self.uniform() < self.config.topicality {
                self.class_words[class][rank] as usize
            } else {
                rank
            };
            if i > 0 {
                text.push(' ');
            }
            text.push_str(&self.words[word]);
        }
        text.push('.');
        Some((text, class))
    }

    fn standard_normal(&mut self) -> f64 {
        // Box–Muller.
        let u1 = self.uniform().max(1e-300);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// Write the whole corpus as JSON lines (`{"text": …, "label": …}`).
    pub fn write_jsonl(mut self, out: &mut impl Write) -> io::Result<()> {
        while let Some((text, class)) = self.next_document() {
            // Pseudo-words are plain ASCII letters: no JSON escaping needed.
            writeln!(
                out,
                "{{\"text\":\"{text}\",\"label\":\"{}\"}}",
                Self::label(class)
            )?;
        }
        Ok(())
    }
}

/// `n` distinct pronounceable words of 2–4 syllables.
fn pseudo_words(n: usize, rng: &mut SplitMix64) -> Vec<String> {
    const ONSETS: [&str; 16] = [
        "b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "st",
    ];
    const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ei"];
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut words = Vec::with_capacity(n);
    while words.len() < n {
        let syllables = 2 + (rng.next_u64() % 3) as usize;
        let mut word = String::new();
        for _ in 0..syllables {
            word.push_str(ONSETS[(rng.next_u64() % 16) as usize]);
            word.push_str(VOWELS[(rng.next_u64() % 6) as usize]);
        }
        if seen.insert(word.clone()) {
            words.push(word);
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_corpus_and_sensible_shape() {
        let config = SyntheticConfig {
            documents: 2000,
            vocabulary: 5000,
            ..SyntheticConfig::default()
        };
        let mut a = Vec::new();
        SyntheticCorpus::new(config.clone())
            .write_jsonl(&mut a)
            .unwrap();
        let mut b = Vec::new();
        SyntheticCorpus::new(config).write_jsonl(&mut b).unwrap();
        assert_eq!(a, b);
        let text = String::from_utf8(a).unwrap();
        assert_eq!(text.lines().count(), 2000);
        let words: usize = text.lines().map(|l| l.split(' ').count()).sum();
        let mean = words as f64 / 2000.0;
        assert!((25.0..35.0).contains(&mean), "mean length {mean}");
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert!(first["label"].as_str().unwrap().starts_with("class"));
        // Skewed but every class present.
        for k in 0..10 {
            assert!(
                text.contains(&format!("\"class{k:02}\"")),
                "class {k} missing"
            );
        }
    }
}
