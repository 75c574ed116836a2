//! Overlap between datasets: which evaluation texts a model has already seen.
//!
//! A figure computed on records the model was fitted on, or whose scores chose its C and
//! decision rule, is not a held-out estimate. Such overlap is easy to miss: evaluating a
//! model on the small validation file that training pooled with its training data, or on a
//! test file that repeats training texts (TweetEval's emoji validation file repeats 181 of
//! its 5,000 texts from the training file). So a model file keeps a [`TextSet`] of the texts
//! it was fitted on and one of the texts it was selected on, and `stance eval` and `stance
//! train` say how many of their records fall in either.
//!
//! Texts are compared by [`text_fingerprint`], the first 64 bits of the SHA-256 of the text
//! with leading and trailing whitespace removed: exact repeats are found, near-duplicates
//! (different case, spacing or punctuation) are not. With 64-bit fingerprints, the chance
//! that a new text is counted as seen among n others is n/2⁶⁴: below 10⁻¹² per text
//! against a million training texts.

use rayon::prelude::*;
use serde::{Deserialize, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// The first 64 bits (big-endian) of the SHA-256 of `text` without its leading and trailing
/// whitespace: a stable identity for a text, the same on every platform and version.
pub fn text_fingerprint(text: &str) -> u64 {
    let digest = Sha256::digest(text.trim().as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("SHA-256 has 32 bytes"))
}

/// A set of texts, held as their sorted, distinct [`text_fingerprint`]s (8 bytes a text in
/// memory; in a model file, the gaps between them, a few bytes each).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Gaps", try_from = "Gaps")]
pub struct TextSet {
    sorted: Vec<u64>,
}

impl TextSet {
    /// The set of `texts` (repeats count once).
    pub fn from_texts(texts: &[String]) -> Self {
        Self::with_repeats(texts).0
    }

    /// The set of `texts`, and how many of them share their text with another of them
    /// (every copy counted): under cross-validation, a record whose copy falls in another
    /// fold is scored by a model fitted on its text.
    pub fn with_repeats(texts: &[String]) -> (Self, usize) {
        let mut sorted = sorted_fingerprints(texts);
        let repeated = sorted
            .chunk_by(|a, b| a == b)
            .filter(|run| run.len() > 1)
            .map(<[u64]>::len)
            .sum();
        sorted.dedup();
        (TextSet { sorted }, repeated)
    }

    /// The set of held-out `texts`, and how many of them (each record counted) repeat a text
    /// of `training`.
    pub fn held_out(texts: &[String], training: &TextSet) -> (Self, usize) {
        let mut sorted = sorted_fingerprints(texts);
        let repeats = sorted.iter().filter(|&&f| training.contains(f)).count();
        sorted.dedup();
        (TextSet { sorted }, repeats)
    }

    /// The texts of both sets.
    pub fn union(&self, other: &TextSet) -> TextSet {
        let mut sorted = Vec::with_capacity(self.len() + other.len());
        let (mut a, mut b) = (
            self.sorted.iter().peekable(),
            other.sorted.iter().peekable(),
        );
        while let (Some(&&x), Some(&&y)) = (a.peek(), b.peek()) {
            sorted.push(x.min(y));
            if x <= y {
                a.next();
            }
            if y <= x {
                b.next();
            }
        }
        sorted.extend(a.chain(b));
        TextSet { sorted }
    }

    /// Number of distinct texts.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// True when the set holds no text.
    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// Whether the text with this fingerprint is in the set.
    pub fn contains(&self, fingerprint: u64) -> bool {
        self.sorted.binary_search(&fingerprint).is_ok()
    }
}

/// The [`text_fingerprint`] of every text, sorted (repeats kept).
fn sorted_fingerprints(texts: &[String]) -> Vec<u64> {
    let mut sorted: Vec<u64> = texts.par_iter().map(|t| text_fingerprint(t)).collect();
    sorted.par_sort_unstable();
    sorted
}

/// A [`TextSet`] as stored: the first fingerprint, then each one's distance from the one
/// before. Fingerprints are spread evenly over 64 bits, so the gaps of n texts are about
/// 2⁶⁴/n and, as variable-length integers of 7 bits a byte, take (64 − log₂ n)/7 bytes
/// rounded up (seven for 50,000 texts, six from about 4 million) instead of nine or ten.
#[derive(Serialize, Deserialize)]
struct Gaps(Vec<u64>);

impl From<TextSet> for Gaps {
    fn from(set: TextSet) -> Self {
        let mut previous = 0;
        Gaps(
            set.sorted
                .iter()
                .map(|&f| {
                    let gap = f - previous;
                    previous = f;
                    gap
                })
                .collect(),
        )
    }
}

impl TryFrom<Gaps> for TextSet {
    type Error = String;

    fn try_from(Gaps(gaps): Gaps) -> Result<Self, String> {
        let mut sorted = Vec::with_capacity(gaps.len());
        let mut previous: u64 = 0;
        for (i, gap) in gaps.into_iter().enumerate() {
            if i > 0 && gap == 0 {
                return Err("the text fingerprints repeat a value".into());
            }
            previous = previous
                .checked_add(gap)
                .ok_or("the text fingerprints overflow 64 bits")?;
            sorted.push(previous);
        }
        Ok(TextSet { sorted })
    }
}

/// How a model has seen a text: it was fitted on it, or (not fitted on it) its held-out
/// score chose the model's C and decision rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The model's weights were fitted on the text.
    Fitted,
    /// The text was held out, and its score helped choose C and the decision rule.
    Selected,
}

impl Seen {
    /// Whether, and how, the text with this fingerprint is among the texts a model was
    /// fitted on or selected on.
    pub fn of(fingerprint: u64, fitted_on: &TextSet, selected_on: &TextSet) -> Option<Seen> {
        if fitted_on.contains(fingerprint) {
            Some(Seen::Fitted)
        } else if selected_on.contains(fingerprint) {
            Some(Seen::Selected)
        } else {
            None
        }
    }

    /// `fitted` or `selected`, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Seen::Fitted => "fitted",
            Seen::Selected => "selected",
        }
    }
}

impl Serialize for Seen {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// How many records of an evaluation set a model has seen, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlap {
    /// Records evaluated.
    pub records: usize,
    /// Records whose text the model was fitted on.
    pub fitted_on: usize,
    /// Records whose text it was not fitted on but whose held-out scores chose its C and
    /// decision rule.
    pub selected_on: usize,
}

impl Overlap {
    /// Count `texts` against the texts a model was fitted on and those it was selected on.
    pub fn of(texts: &[String], fitted_on: &TextSet, selected_on: &TextSet) -> Self {
        let (fitted, selected) = texts
            .par_iter()
            .map(
                |t| match Seen::of(text_fingerprint(t), fitted_on, selected_on) {
                    Some(Seen::Fitted) => (1, 0),
                    Some(Seen::Selected) => (0, 1),
                    None => (0, 0),
                },
            )
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        Overlap {
            records: texts.len(),
            fitted_on: fitted,
            selected_on: selected,
        }
    }

    /// One sentence for a report, or `None` when every record is new to the model.
    pub fn describe(&self) -> Option<String> {
        let part = |k: usize, what: &str| {
            format!(
                "{} {} a text {what}",
                share(k, self.records, "records"),
                if k == 1 { "has" } else { "have" }
            )
        };
        let mut parts = Vec::new();
        if self.fitted_on > 0 {
            parts.push(part(self.fitted_on, "the model was fitted on"));
        }
        if self.selected_on > 0 {
            parts.push(part(
                self.selected_on,
                "its C and decision rule were chosen on",
            ));
        }
        if parts.is_empty() {
            return None;
        }
        Some(format!(
            "{}: the figures are not a held-out estimate for {}.",
            parts.join("; "),
            if self.fitted_on + self.selected_on == self.records {
                "any of them"
            } else {
                "those records"
            }
        ))
    }
}

/// `181 of the 5000 records (3.6 %)`: `k` of `n` things, as the reports word a share.
pub(crate) fn share(k: usize, n: usize, things: &str) -> String {
    format!(
        "{k} of the {n} {things} ({:.1} %)",
        100.0 * k as f64 / n.max(1) as f64
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn fingerprints_ignore_surrounding_whitespace_only() {
        assert_eq!(text_fingerprint("a cat"), text_fingerprint("  a cat\n"));
        assert_ne!(text_fingerprint("a cat"), text_fingerprint("a  cat"));
        assert_ne!(text_fingerprint("a cat"), text_fingerprint("A cat"));
    }

    #[test]
    fn fingerprints_are_stable_across_versions() {
        // SHA-256("abc") begins ba7816bf 8f01cfea: a model file written today must match
        // the same texts after any change to this crate.
        assert_eq!(text_fingerprint("abc"), 0xba78_16bf_8f01_cfea);
    }

    #[test]
    fn a_set_counts_each_record_and_holds_each_text_once() {
        let set = TextSet::from_texts(&texts(&["x", "y", "x ", "z"]));
        assert_eq!(set.len(), 3);
        let (held, repeats) = TextSet::held_out(&texts(&["x", "x", "w", "z"]), &set);
        assert_eq!((held.len(), repeats), (3, 3));
        assert_eq!(TextSet::held_out(&texts(&["x"]), &TextSet::default()).1, 0);
    }

    #[test]
    fn every_copy_of_a_repeated_text_counts() {
        let repeated = |words: &[&str]| TextSet::with_repeats(&texts(words)).1;
        assert_eq!(repeated(&["a", "b", "a ", "c", "a", "b"]), 5);
        assert_eq!(repeated(&["a", "b"]), 0);
        assert_eq!(repeated(&[]), 0);
    }

    #[test]
    fn a_set_round_trips_through_its_stored_gaps() {
        let set = TextSet::from_texts(&texts(&["one", "two", "three", "four"]));
        let bytes = postcard::to_allocvec(&set).unwrap();
        assert_eq!(postcard::from_bytes::<TextSet>(&bytes).unwrap(), set);
        let empty = postcard::to_allocvec(&TextSet::default()).unwrap();
        assert_eq!(
            postcard::from_bytes::<TextSet>(&empty).unwrap(),
            TextSet::default()
        );
    }

    #[test]
    fn stored_gaps_that_repeat_or_overflow_are_refused() {
        assert!(TextSet::try_from(Gaps(vec![5, 0])).is_err());
        assert!(TextSet::try_from(Gaps(vec![u64::MAX, 1])).is_err());
        assert_eq!(
            TextSet::try_from(Gaps(vec![0, 3])).unwrap().sorted,
            vec![0, 3]
        );
    }

    proptest::proptest! {
        /// Against plain string sets: the counts, the repeats and the stored form agree,
        /// whatever the texts (a small alphabet, so that repeats and padded copies occur).
        #[test]
        fn counts_agree_with_string_sets(
            texts in proptest::collection::vec("[ ab]{0,4}", 0..40),
            queries in proptest::collection::vec("[ ab]{0,4}", 0..20),
        ) {
            use std::collections::{HashMap, HashSet};
            let set = TextSet::from_texts(&texts);
            let trimmed: HashSet<&str> = texts.iter().map(|t| t.trim()).collect();
            proptest::prop_assert_eq!(set.len(), trimmed.len());
            let naive = queries.iter().filter(|q| trimmed.contains(q.trim())).count();
            let (held, repeats) = TextSet::held_out(&queries, &set);
            proptest::prop_assert_eq!(repeats, naive);
            proptest::prop_assert_eq!(&held, &TextSet::from_texts(&queries));
            let mut copies: HashMap<&str, usize> = HashMap::new();
            for t in &texts {
                *copies.entry(t.trim()).or_default() += 1;
            }
            let naive_repeated: usize = copies.values().filter(|&&n| n > 1).sum();
            let (same, repeated) = TextSet::with_repeats(&texts);
            proptest::prop_assert_eq!(&same, &set);
            proptest::prop_assert_eq!(repeated, naive_repeated);
            let union = TextSet::from_texts(&[texts.clone(), queries.clone()].concat());
            proptest::prop_assert_eq!(set.union(&TextSet::from_texts(&queries)), union);
            let bytes = postcard::to_allocvec(&set).unwrap();
            proptest::prop_assert_eq!(postcard::from_bytes::<TextSet>(&bytes).unwrap(), set);
        }
    }

    #[test]
    fn overlap_counts_fitted_before_selected_and_describes_itself() {
        let fitted = TextSet::from_texts(&texts(&["a", "b"]));
        let selected = TextSet::from_texts(&texts(&["b", "c"]));
        let o = Overlap::of(&texts(&["a", "b", "c", "d"]), &fitted, &selected);
        assert_eq!(
            o,
            Overlap {
                records: 4,
                fitted_on: 2,
                selected_on: 1
            }
        );
        assert_eq!(
            o.describe().unwrap(),
            "2 of the 4 records (50.0 %) have a text the model was fitted on; 1 of the 4 \
             records (25.0 %) has a text its C and decision rule were chosen on: the figures \
             are not a held-out estimate for those records."
        );
        let clean = Overlap::of(&texts(&["d"]), &fitted, &selected);
        assert!(clean.describe().is_none());
        let all = Overlap::of(&texts(&["a"]), &fitted, &selected);
        assert!(all.describe().unwrap().ends_with("for any of them."));
    }
}
