//! Integrity checks for the labelled framing data set in `data/`.
//!
//! * every row of `data/framing.jsonl` and `data/furniture.jsonl` points, by
//!   Unicode code-point offsets, at exactly its `text` in `data/<source>`;
//! * labels come from the fixed sets defined in `data/GUIDE.md`;
//! * rows within a source are in increasing order and do not overlap, and no
//!   labelled row overlaps a furniture row;
//! * every non-whitespace character of every seed file is accounted for, either
//!   by a labelled row or by a furniture row;
//! * the seed copies in `data/seeds/` are byte-identical to `../shared/seeds/`
//!   when that directory exists (skipped otherwise, e.g. on a fresh clone).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Stance labels, as defined in data/GUIDE.md.
const STANCES: &[&str] = &["confrontational", "cooperative", "neutral"];

/// Topic labels, as defined in data/GUIDE.md.
const TOPICS: &[&str] = &[
    "ukraine-crimea",
    "syria",
    "election-interference",
    "sanctions-diplomats",
    "nato-europe",
    "relations-general",
    "other",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FramingRow {
    source: String,
    start: usize,
    end: usize,
    text: String,
    stance: String,
    topic: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FurnitureRow {
    source: String,
    start: usize,
    end: usize,
    text: String,
    why: String,
}

/// A span of one source file, tagged with where it came from (for messages).
#[derive(Debug, Clone)]
struct Span {
    start: usize,
    end: usize,
    origin: String,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// Reads a JSONL file into (1-based line number, row) pairs.
fn read_jsonl<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<(usize, T)> {
    let path = data_dir().join(name);
    let body =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(
        body.is_empty() || body.ends_with('\n'),
        "{name}: last line is not newline-terminated"
    );
    body.lines()
        .enumerate()
        .map(|(i, line)| {
            let row: T = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name} row {}: invalid JSON row: {e}", i + 1));
            (i + 1, row)
        })
        .collect()
}

/// Source file text, decoded as UTF-8, plus the byte offset of every code point
/// (with the total byte length appended, so index `n_chars` is valid).
struct SourceText {
    text: String,
    byte_at: Vec<usize>,
}

impl SourceText {
    fn load(source: &str) -> Self {
        assert!(
            !source.contains("..") && !Path::new(source).is_absolute(),
            "source path must stay inside data/: {source}"
        );
        let path = data_dir().join(source);
        let bytes =
            fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|e| panic!("{} is not valid UTF-8: {e}", path.display()));
        let mut byte_at: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
        byte_at.push(text.len());
        SourceText { text, byte_at }
    }

    fn n_chars(&self) -> usize {
        self.byte_at.len() - 1
    }

    /// The code-point slice `[start, end)`, or None when out of range.
    fn slice(&self, start: usize, end: usize) -> Option<&str> {
        if start > end || end > self.n_chars() {
            return None;
        }
        Some(&self.text[self.byte_at[start]..self.byte_at[end]])
    }
}

struct Sources(BTreeMap<String, SourceText>);

impl Sources {
    fn get(&mut self, source: &str) -> &SourceText {
        self.0
            .entry(source.to_string())
            .or_insert_with(|| SourceText::load(source))
    }
}

fn check_slice(
    sources: &mut Sources,
    file: &str,
    n: usize,
    source: &str,
    start: usize,
    end: usize,
    text: &str,
) {
    let src = sources.get(source);
    let n_chars = src.n_chars();
    let got = src.slice(start, end).unwrap_or_else(|| {
        panic!("{file} row {n}: offsets {start}..{end} out of range for {source} ({n_chars} code points)")
    });
    assert_eq!(
        got, text,
        "{file} row {n}: {source}[{start}..{end}] does not equal the row's text"
    );
    assert!(start < end, "{file} row {n}: empty span {start}..{end}");
    assert_eq!(
        text.trim(),
        text,
        "{file} row {n}: text has leading or trailing whitespace"
    );
    assert!(
        !text.contains('\n') && !text.contains('\r'),
        "{file} row {n}: text spans a line break"
    );
}

#[test]
fn framing_and_furniture_rows_match_their_sources() {
    let framing: Vec<(usize, FramingRow)> = read_jsonl("framing.jsonl");
    let furniture: Vec<(usize, FurnitureRow)> = read_jsonl("furniture.jsonl");
    assert!(!framing.is_empty(), "framing.jsonl is empty");

    let mut sources = Sources(BTreeMap::new());
    let mut labelled: BTreeMap<String, Vec<Span>> = BTreeMap::new();
    let mut skipped: BTreeMap<String, Vec<Span>> = BTreeMap::new();

    // Labelled rows: offsets, labels, order within each source, article order.
    let mut source_order: Vec<String> = Vec::new();
    for (n, row) in &framing {
        check_slice(
            &mut sources,
            "framing.jsonl",
            *n,
            &row.source,
            row.start,
            row.end,
            &row.text,
        );
        assert!(
            STANCES.contains(&row.stance.as_str()),
            "framing.jsonl row {n}: unknown stance {:?} (expected one of {STANCES:?})",
            row.stance
        );
        assert!(
            TOPICS.contains(&row.topic.as_str()),
            "framing.jsonl row {n}: unknown topic {:?} (expected one of {TOPICS:?})",
            row.topic
        );
        if source_order.last() != Some(&row.source) {
            assert!(
                !source_order.contains(&row.source),
                "framing.jsonl row {n}: rows of {} are not contiguous",
                row.source
            );
            source_order.push(row.source.clone());
        }
        let spans = labelled.entry(row.source.clone()).or_default();
        if let Some(prev) = spans.last() {
            assert!(
                row.start >= prev.end,
                "framing.jsonl row {n}: span {}..{} overlaps or precedes {} ({}..{})",
                row.start,
                row.end,
                prev.origin,
                prev.start,
                prev.end
            );
        }
        spans.push(Span {
            start: row.start,
            end: row.end,
            origin: format!("framing.jsonl row {n}"),
        });
    }
    let mut sorted_order = source_order.clone();
    sorted_order.sort();
    assert_eq!(
        source_order, sorted_order,
        "framing.jsonl: sources are not in article (file-name) order"
    );

    // Furniture rows: offsets, a reason, order within each source.
    for (n, row) in &furniture {
        check_slice(
            &mut sources,
            "furniture.jsonl",
            *n,
            &row.source,
            row.start,
            row.end,
            &row.text,
        );
        assert!(
            !row.why.trim().is_empty(),
            "furniture.jsonl row {n}: empty `why`"
        );
        let spans = skipped.entry(row.source.clone()).or_default();
        if let Some(prev) = spans.last() {
            assert!(
                row.start >= prev.end,
                "furniture.jsonl row {n}: span {}..{} overlaps or precedes {} ({}..{})",
                row.start,
                row.end,
                prev.origin,
                prev.start,
                prev.end
            );
        }
        spans.push(Span {
            start: row.start,
            end: row.end,
            origin: format!("furniture.jsonl row {n}"),
        });
    }

    // No labelled row overlaps a furniture row.
    for (source, fspans) in &skipped {
        for f in fspans {
            for l in labelled.get(source).into_iter().flatten() {
                assert!(
                    l.end <= f.start || f.end <= l.start,
                    "{} ({}..{}) overlaps {} ({}..{}) in {source}",
                    l.origin,
                    l.start,
                    l.end,
                    f.origin,
                    f.start,
                    f.end
                );
            }
        }
    }

    // Every seed file is covered: each non-whitespace code point lies in a
    // labelled or a furniture span (the skipped material is auditable).
    let seed_dir = data_dir().join("seeds");
    let mut seed_names: Vec<String> = fs::read_dir(&seed_dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", seed_dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".txt"))
        .collect();
    seed_names.sort();
    assert!(
        !seed_names.is_empty(),
        "no seed files in {}",
        seed_dir.display()
    );
    for name in &seed_names {
        let source = format!("seeds/{name}");
        assert!(
            labelled.contains_key(&source),
            "seed file {source} has no labelled rows"
        );
        let mut covered = vec![false; sources.get(&source).n_chars()];
        for span in labelled
            .get(&source)
            .into_iter()
            .chain(skipped.get(&source))
            .flatten()
        {
            covered[span.start..span.end]
                .iter_mut()
                .for_each(|c| *c = true);
        }
        let src = sources.get(&source);
        for (i, ch) in src.text.chars().enumerate() {
            assert!(
                covered[i] || ch.is_whitespace(),
                "{source}: code point {i} ({ch:?}) is neither in a labelled row nor in a furniture row; context: {:?}",
                src.slice(i.saturating_sub(20), (i + 20).min(src.n_chars())).unwrap()
            );
        }
    }
    for source in labelled.keys().chain(skipped.keys()) {
        let name = source.strip_prefix("seeds/").unwrap_or(source);
        assert!(
            seed_names.iter().any(|s| s == name),
            "row source {source} is not one of the seed files in data/seeds/"
        );
    }
}

#[test]
fn guide_defines_exactly_the_labels_used_by_the_test() {
    let guide_path = data_dir().join("GUIDE.md");
    let guide = fs::read_to_string(&guide_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", guide_path.display()));
    for label in STANCES.iter().chain(TOPICS) {
        assert!(
            guide.contains(&format!("`{label}`")),
            "GUIDE.md does not define the label `{label}`"
        );
    }
    // Every label actually occurs in the data set.
    let framing: Vec<(usize, FramingRow)> = read_jsonl("framing.jsonl");
    let used: BTreeSet<&str> = framing
        .iter()
        .flat_map(|(_, r)| [r.stance.as_str(), r.topic.as_str()])
        .collect();
    for label in STANCES.iter().chain(TOPICS) {
        assert!(
            used.contains(label),
            "label `{label}` is defined but never used"
        );
    }
}

#[test]
fn seed_copies_are_byte_identical_to_shared_seeds() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = manifest.join("../shared/seeds");
    if !shared.is_dir() {
        println!(
            "skipped: {} does not exist, not comparing data/seeds/ against it",
            shared.display()
        );
        return;
    }
    let list = |dir: &Path| -> BTreeSet<String> {
        fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".txt"))
            .collect()
    };
    let ours_dir = data_dir().join("seeds");
    let theirs = list(&shared);
    let ours = list(&ours_dir);
    assert_eq!(
        ours, theirs,
        "data/seeds/ and ../shared/seeds/ hold different file names"
    );
    for name in &theirs {
        let a = fs::read(shared.join(name)).unwrap();
        let b = fs::read(ours_dir.join(name)).unwrap();
        assert!(
            a == b,
            "data/seeds/{name} differs from ../shared/seeds/{name}"
        );
    }
}
