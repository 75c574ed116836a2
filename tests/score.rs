//! End-to-end tests of `stance score`: two small models (stance and topic) are trained here
//! through the library on `data/framing.jsonl`, saved, and the binary is run on the five
//! seed articles in `data/seeds/` in every output mode. The checks recompute what the
//! output claims: the segmentation (from `stance::sentences`), the probabilities and the
//! evidence (from the saved models), the article-level means, shares and top sentences, and
//! that every evidence n-gram really occurs in its sentence.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use stance::classifier::Classifier;
use stance::corpus::{self, Source};
use stance::model_file;
use stance::sentences::{segment_article, Segment};
use stance::tokenize::{AnalyzerKind, TokenBuffer};
use stance::train::{self, TrainOptions, Validation};
use stance::vectorize::DocFreq;

const STANCE: &str = "framing-stance";
const TOPIC: &str = "framing-topic";
const TOLERANCE: f64 = 1e-9;

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Output {
    #[track_caller]
    fn success(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// The JSON lines of stdout.
    fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}")))
            .collect()
    }
}

/// Run `stance score ARGS`, feeding `stdin` when given.
fn score(args: &[&str], stdin: Option<&str>) -> Output {
    stance(&[&["score"], args].concat(), stdin)
}

/// Run `stance ARGS`, feeding `stdin` when given.
fn stance(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stance"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("write stdin");
    drop(input);
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

fn data(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(path)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The five seed articles, by name.
fn seeds() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = fs::read_dir(data("seeds"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 5, "data/seeds should hold five articles");
    paths
}

fn seed(prefix: &str) -> PathBuf {
    seeds()
        .into_iter()
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .unwrap()
}

/// The two trained models: their files and the classifiers as loaded back.
struct Models {
    stance: PathBuf,
    topic: PathBuf,
    loaded: Vec<(String, Classifier)>,
}

impl Models {
    fn classifier(&self, name: &str) -> &Classifier {
        &self.loaded.iter().find(|(n, _)| n == name).unwrap().1
    }

    /// `--model STANCE --model TOPIC`.
    fn both(&self) -> Vec<&str> {
        vec!["--model", s(&self.stance), "--model", s(&self.topic)]
    }
}

/// Train the stance and topic models once per test run, into the target's temporary
/// directory. Training is deterministic and saving atomic, so concurrent runs are safe.
fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("score-models");
        let stance = dir.join(format!("{STANCE}.stance"));
        let topic = dir.join(format!("{TOPIC}.stance"));
        let loaded = vec![
            train_model(STANCE, "stance", &stance),
            train_model(TOPIC, "topic", &topic),
        ];
        Models {
            stance,
            topic,
            loaded,
        }
    })
}

/// Train on `data/framing.jsonl` with `field` as the label (no validation, C = 10, every
/// n-gram kept), save to `path` and load it back.
fn train_model(name: &str, field: &str, path: &Path) -> (String, Classifier) {
    let corpus = corpus::read_labelled(&Source {
        label_field: field.into(),
        ..Source::file(data("framing.jsonl"))
    })
    .unwrap();
    let mut options = TrainOptions::default();
    options.vectorizer.min_df = DocFreq::Count(1);
    options.c_grid = vec![10.0];
    let classifier = train::train(&corpus, &Validation::None, &options, &mut |_| {}).unwrap();
    model_file::save(&classifier, path).unwrap();
    (name.to_string(), model_file::load(path).unwrap())
}

/// The `--json` lines for every seed article under both models.
fn seed_json() -> &'static Vec<Value> {
    static JSON: OnceLock<Vec<Value>> = OnceLock::new();
    JSON.get_or_init(|| {
        let models = models();
        let paths = seeds();
        let mut args = models.both();
        args.push("--json");
        args.extend(paths.iter().map(|p| s(p)));
        let lines = score(&args, None).success().json_lines();
        assert_eq!(lines.len(), paths.len(), "one JSON line per article");
        lines
    })
}

/// A byte range as `(start, end)`.
type Range = (usize, usize);

/// Sentence and skipped spans of `segment_article`.
fn segmentation(text: &str) -> (Vec<Range>, Vec<Range>) {
    let mut sentences = Vec::new();
    let mut skipped = Vec::new();
    for segment in segment_article(text) {
        let span = segment.span();
        match segment {
            Segment::Sentence(_) => sentences.push((span.start, span.end)),
            Segment::Skipped(..) => skipped.push((span.start, span.end)),
        }
    }
    (sentences, skipped)
}

fn f(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {value}"))
}

fn u(value: &Value) -> usize {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("not an index: {value}")) as usize
}

/// A label → probability object, in the classifier's label order.
fn probs_in_order(probs: &Value, labels: &[String]) -> Vec<f64> {
    let object = probs.as_object().expect("probs is an object");
    assert_eq!(object.len(), labels.len(), "one entry per label: {probs}");
    labels.iter().map(|l| f(&object[l])).collect()
}

/// Index of the largest value, the first on ties (as the library's argmax).
fn argmax(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

fn tokens(text: &str) -> Vec<String> {
    let mut buffer = TokenBuffer::default();
    AnalyzerKind::default().build().analyze(text, &mut buffer);
    buffer.iter().map(str::to_string).collect()
}

/// Does the evidence feature occur in the sentence? A word n-gram's words must each appear
/// in the lowercased sentence and form a run of its tokens; a character n-gram `[.._]`
/// (`_` for the padding space) must lie inside one space-padded token.
fn feature_occurs(feature: &str, sentence: &str) -> bool {
    let tokens = tokens(sentence);
    let lower = sentence.to_lowercase();
    let words: Vec<&str> = feature.split(' ').collect();
    let as_words = words.iter().all(|w| lower.contains(w))
        && tokens
            .windows(words.len())
            .any(|run| run == words.as_slice());
    let as_chars = feature.len() > 2 && feature.starts_with('[') && feature.ends_with(']') && {
        let inner = feature[1..feature.len() - 1].replace('_', " ");
        tokens.iter().any(|t| format!(" {t} ").contains(&inner))
    };
    as_words || as_chars
}

/// Every check one sentence's prediction under one model must pass.
fn check_sentence_prediction(
    prediction: &Value,
    text: &str,
    classifier: &Classifier,
    n_evidence: usize,
) -> Vec<f64> {
    let probs = probs_in_order(&prediction["probs"], &classifier.labels);
    let sum: f64 = probs.iter().sum();
    assert!(
        (sum - 1.0).abs() < TOLERANCE,
        "probabilities sum to {sum}: {prediction}"
    );
    let label = prediction["label"].as_str().unwrap();
    let class = argmax(&probs);
    assert_eq!(
        label, classifier.labels[class],
        "label is the argmax: {prediction}"
    );
    let expected = classifier.predict_proba(&[text.to_string()]).remove(0);
    for (p, q) in probs.iter().zip(&expected) {
        assert!(
            (p - q).abs() < TOLERANCE,
            "probabilities as the model gives them: {prediction}"
        );
    }

    let evidence = prediction["evidence"].as_array().unwrap();
    assert!(
        !evidence.is_empty(),
        "a training sentence has known n-grams: {text}"
    );
    assert!(
        evidence.len() <= n_evidence,
        "at most {n_evidence} evidence items"
    );
    let contributions: Vec<f64> = evidence.iter().map(|e| f(&e["contribution"])).collect();
    assert!(
        contributions.windows(2).all(|w| w[0].abs() >= w[1].abs()),
        "evidence sorted by |contribution|, largest first: {prediction}"
    );
    for item in evidence {
        let feature = item["feature"].as_str().unwrap();
        assert!(
            feature_occurs(feature, text),
            "evidence {feature:?} does not occur in {text:?}"
        );
    }
    let explained = classifier.explain(text, class, n_evidence);
    // The baseline is the label's intercept against the labels' mean (both bundled models
    // have more than two labels, so one intercept each).
    let intercepts = &classifier.model.intercept;
    assert_eq!(intercepts.len(), classifier.labels.len());
    let baseline = intercepts[class] - intercepts.sum() / intercepts.len() as f64;
    assert!(
        (f(&prediction["baseline"]) - baseline).abs() < 1e-12,
        "baseline {baseline}: {prediction}"
    );
    let features: Vec<&str> = evidence
        .iter()
        .map(|e| e["feature"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = explained.iter().map(|e| e.feature.as_str()).collect();
    assert_eq!(
        features, expected,
        "evidence for the predicted label: {text}"
    );
    probs
}

/// The article-level result of one model against its sentences' probabilities.
fn check_article_result(
    result: &Value,
    sentence_probs: &[Vec<f64>],
    labels: &[String],
    n_top: usize,
) {
    let n = sentence_probs.len() as f64;
    let probs = probs_in_order(&result["probs"], labels);
    for (k, p) in probs.iter().enumerate() {
        let mean = sentence_probs.iter().map(|s| s[k]).sum::<f64>() / n;
        assert!(
            (p - mean).abs() < TOLERANCE,
            "article probability of {} is the mean: {p} vs {mean}",
            labels[k]
        );
    }
    let class = argmax(&probs);
    assert_eq!(
        result["label"],
        labels[class].as_str(),
        "article label is the argmax of the mean"
    );

    let share = probs_in_order(&result["share"], labels);
    assert!(
        (share.iter().sum::<f64>() - 1.0).abs() < TOLERANCE,
        "shares sum to 1: {result}"
    );
    for (k, sh) in share.iter().enumerate() {
        let count = sentence_probs.iter().filter(|s| argmax(s) == k).count() as f64;
        assert!((sh - count / n).abs() < TOLERANCE, "share of {}", labels[k]);
    }

    let top: Vec<usize> = result["top_sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(u)
        .collect();
    assert_eq!(top.len(), n_top.min(sentence_probs.len()), "{result}");
    let p_of = |i: usize| sentence_probs[i][class];
    assert!(
        top.windows(2).all(|w| p_of(w[0]) >= p_of(w[1])),
        "top sentences by probability: {top:?}"
    );
    let weakest = p_of(*top.last().unwrap());
    let beaten = (0..sentence_probs.len()).filter(|i| !top.contains(i) && p_of(*i) > weakest);
    assert_eq!(
        beaten.count(),
        0,
        "no other sentence weighs more for {}",
        labels[class]
    );
}

/// One `--json` article line against its text, its segmentation and the models.
fn check_article_json(line: &Value, path: &str, text: &str, n_evidence: usize, n_top: usize) {
    let models = models();
    assert_eq!(line["path"], path);
    assert_eq!(line["models"], serde_json::json!([STANCE, TOPIC]));
    let (sentence_spans, skipped_spans) = segmentation(text);
    let sentences = line["sentences"].as_array().unwrap();
    assert_eq!(
        sentences.len(),
        sentence_spans.len(),
        "one entry per sentence of {path}"
    );
    let mut probs_by_model: Vec<Vec<Vec<f64>>> = vec![Vec::new(); 2];
    for (i, (sentence, &(start, end))) in sentences.iter().zip(&sentence_spans).enumerate() {
        assert_eq!(u(&sentence["index"]), i);
        assert_eq!((u(&sentence["start"]), u(&sentence["end"])), (start, end));
        let sentence_text = sentence["text"].as_str().unwrap();
        assert_eq!(
            sentence_text,
            &text[start..end],
            "the full text, untruncated"
        );
        let predictions = sentence["predictions"].as_object().unwrap();
        assert_eq!(
            predictions.len(),
            2,
            "both models predict every sentence: {sentence}"
        );
        for (m, name) in [STANCE, TOPIC].iter().enumerate() {
            let prediction = predictions
                .get(*name)
                .unwrap_or_else(|| panic!("{name} missing: {sentence}"));
            let classifier = models.classifier(name);
            probs_by_model[m].push(check_sentence_prediction(
                prediction,
                sentence_text,
                classifier,
                n_evidence,
            ));
        }
    }
    let skipped = line["skipped"].as_array().unwrap();
    let spans: Vec<Range> = skipped
        .iter()
        .map(|s| (u(&s["start"]), u(&s["end"])))
        .collect();
    assert_eq!(
        spans, skipped_spans,
        "every skipped piece of {path}, in order"
    );
    for piece in skipped {
        let (start, end) = (u(&piece["start"]), u(&piece["end"]));
        assert_eq!(piece["text"], &text[start..end]);
        assert!(!piece["reason"].as_str().unwrap().is_empty());
    }
    for (m, name) in [STANCE, TOPIC].iter().enumerate() {
        let result = &line["article"][name];
        check_article_result(
            result,
            &probs_by_model[m],
            &models.classifier(name).labels,
            n_top,
        );
    }
}

#[test]
fn json_lines_hold_every_sentence_under_both_models_with_consistent_numbers() {
    let lines = seed_json();
    for (line, path) in lines.iter().zip(seeds()) {
        let text = fs::read_to_string(&path).unwrap();
        check_article_json(line, s(&path), &text, 5, 3);
    }
}

#[test]
fn evidence_and_top_sentence_counts_follow_the_options() {
    let models = models();
    let path = seed("000");
    let mut args = models.both();
    args.extend([
        "--json",
        "--evidence",
        "2",
        "--top-sentences",
        "1",
        s(&path),
    ]);
    let lines = score(&args, None).success().json_lines();
    let text = fs::read_to_string(&path).unwrap();
    check_article_json(&lines[0], s(&path), &text, 2, 1);
    let first = &lines[0]["sentences"][0]["predictions"][STANCE]["evidence"];
    assert_eq!(first.as_array().unwrap().len(), 2);

    // No top sentences asked for: no empty `weighed most:` line.
    let mut args = models.both();
    args.extend(["--top-sentences", "0", s(&path)]);
    let text = score(&args, None).success().stdout;
    assert!(!text.contains("weighed most"), "{text}");
}

fn skipped_of(line: &Value) -> Vec<(String, String)> {
    line["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["reason"].as_str().unwrap().to_string(),
                s["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn sentence_texts(line: &Value) -> Vec<String> {
    line["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn comment_form_and_disclaimer_of_seed_002_are_skipped_not_scored() {
    let line = &seed_json()[2];
    assert!(line["path"]
        .as_str()
        .unwrap()
        .ends_with("002_0a1aa9d853795c80.txt"));
    let skipped = skipped_of(line);
    let has = |reason: &str, start: &str| {
        skipped
            .iter()
            .any(|(r, t)| r == reason && t.starts_with(start))
    };
    assert!(has("comment-form", "Leave a Comment"), "{skipped:?}");
    assert!(
        has("comment-form", "You have 2000 characters left."),
        "{skipped:?}"
    );
    for paragraph in [
        "Please write your correct name and email address.",
        "Please note that sending false messages",
        "Hence, sending offensive comments using daijiworld",
    ] {
        assert!(has("disclaimer", paragraph), "{paragraph}: {skipped:?}");
    }
    for sentence in sentence_texts(line) {
        for furniture in [
            "Leave a Comment",
            "characters left",
            "aijiworld",
            "Disclaimer",
            "abusive",
        ] {
            assert!(
                !sentence.contains(furniture),
                "scored furniture: {sentence}"
            );
        }
    }
}

#[test]
fn wire_code_of_seed_001_is_skipped_not_scored() {
    let line = &seed_json()[1];
    assert!(line["path"]
        .as_str()
        .unwrap()
        .ends_with("001_41486dca4cf9b297.txt"));
    let skipped = skipped_of(line);
    assert!(
        skipped.contains(&("wire-code".to_string(), "[L8N1O63LC]".to_string())),
        "{skipped:?}"
    );
    assert!(sentence_texts(line)
        .iter()
        .all(|t| !t.contains("L8N1O63LC")));
    assert!(sentence_texts(line)
        .iter()
        .any(|t| t.starts_with("Tillerson stressed to ministers")));
}

#[test]
fn table_lists_every_sentence_model_and_skipped_line() {
    let models = models();
    let mut args = models.both();
    let paths = seeds();
    args.extend(paths.iter().map(|p| s(p)));
    let out = score(&args, None).success();
    let blocks: Vec<&str> = out.stdout.split("\n\n").collect();
    let json = seed_json();
    for (path, line) in paths.iter().zip(json) {
        let text = fs::read_to_string(path).unwrap();
        let (sentences, skipped) = segmentation(&text);
        let header = format!(
            "{}: {} sentences, {} skipped",
            s(path),
            sentences.len(),
            skipped.len()
        );
        let start = blocks
            .iter()
            .position(|b| b.starts_with(&header))
            .unwrap_or_else(|| panic!("no header {header:?}:\n{}", out.stdout));
        // Header, article results, sentences, skipped (if any): blocks of an article.
        let article = blocks[start + 1];
        for name in [STANCE, TOPIC] {
            let label = line["article"][name]["label"].as_str().unwrap();
            let shown = article.lines().any(|l| {
                let words: Vec<&str> = l.split_whitespace().take(4).collect();
                words == [name, label, "mean", "p:"]
            });
            assert!(shown, "overall {label} for {name}:\n{article}");
        }
        assert!(article.contains("share of sentences: "), "{article}");
        let sentence_block: Vec<&str> = blocks[start + 2].lines().collect();
        assert_eq!(
            sentence_block.len(),
            1 + 3 * sentences.len(),
            "{}",
            blocks[start + 2]
        );
        for (i, sentence) in line["sentences"].as_array().unwrap().iter().enumerate() {
            let text_line = sentence_block[1 + 3 * i];
            assert!(text_line.starts_with(&format!("  [{i}] ")), "{text_line}");
            assert!(text_line.chars().count() <= 110, "truncated: {text_line}");
            let full = sentence["text"].as_str().unwrap();
            if full.chars().count() > 100 {
                assert!(text_line.ends_with('…'), "{text_line}");
            }
            for (m, name) in [STANCE, TOPIC].iter().enumerate() {
                let model_line = sentence_block[2 + 3 * i + m];
                let label = sentence["predictions"][name]["label"].as_str().unwrap();
                assert!(model_line.trim_start().starts_with(name), "{model_line}");
                assert!(model_line.contains(&format!(" {label} ")), "{model_line}");
                let signed = |c: f64| format!("{}{:.3}", if c < 0.0 { '−' } else { '+' }, c.abs());
                // The label's baseline, then its strongest n-gram.
                let baseline = f(&sentence["predictions"][name]["baseline"]);
                let shown = format!("baseline {};  ", signed(baseline));
                assert!(model_line.contains(&shown), "{shown:?} in {model_line}");
                let first = &sentence["predictions"][name]["evidence"][0];
                let shown = format!(
                    "{} {}",
                    signed(f(&first["contribution"])),
                    first["feature"].as_str().unwrap()
                );
                assert!(model_line.contains(&shown), "{shown:?} in {model_line}");
            }
        }
        if skipped.is_empty() {
            assert!(blocks
                .get(start + 3)
                .is_none_or(|b| !b.starts_with("skipped")));
            continue;
        }
        let skipped_block: Vec<&str> = blocks[start + 3].lines().collect();
        assert_eq!(skipped_block[0], "skipped (not scored)");
        assert_eq!(
            skipped_block.len(),
            1 + skipped.len(),
            "{}",
            blocks[start + 3]
        );
    }
}

#[test]
fn csv_has_one_row_per_sentence_with_proper_quoting() {
    let models = models();
    let mut args = models.both();
    let paths = seeds();
    args.push("--csv");
    args.extend(paths.iter().map(|p| s(p)));
    let out = score(&args, None).success();
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "path",
            "sentence",
            "start",
            "end",
            "text",
            "framing-stance_label",
            "framing-stance_p",
            "framing-stance_baseline",
            "framing-stance_evidence",
            "framing-stance_seen",
            "framing-topic_label",
            "framing-topic_p",
            "framing-topic_baseline",
            "framing-topic_evidence",
            "framing-topic_seen",
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let sentences: Vec<(&Value, &Value)> = seed_json()
        .iter()
        .flat_map(|line| {
            line["sentences"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |s| (line, s))
        })
        .collect();
    assert_eq!(rows.len(), sentences.len(), "one row per sentence");
    for (row, (line, sentence)) in rows.iter().zip(sentences) {
        assert_eq!(&row[0], line["path"].as_str().unwrap());
        assert_eq!(row[1].parse::<usize>().unwrap(), u(&sentence["index"]));
        assert_eq!(row[2].parse::<usize>().unwrap(), u(&sentence["start"]));
        assert_eq!(row[3].parse::<usize>().unwrap(), u(&sentence["end"]));
        assert_eq!(&row[4], sentence["text"].as_str().unwrap());
        for (m, name) in [STANCE, TOPIC].iter().enumerate() {
            let prediction = &sentence["predictions"][name];
            let label = prediction["label"].as_str().unwrap();
            assert_eq!(&row[5 + 5 * m], label);
            let p: f64 = row[6 + 5 * m].parse().unwrap();
            assert!((p - f(&prediction["probs"][label])).abs() < TOLERANCE);
            let baseline: f64 = row[7 + 5 * m].parse().unwrap();
            assert_eq!(baseline, f(&prediction["baseline"]));
            let items: Vec<&str> = row[8 + 5 * m].split("; ").collect();
            let evidence = prediction["evidence"].as_array().unwrap();
            assert_eq!(items.len(), evidence.len(), "{}", &row[8 + 5 * m]);
            assert_eq!(&row[9 + 5 * m], prediction["seen"].as_str().unwrap_or(""));
            for (item, e) in items.iter().zip(evidence) {
                let expected = format!(
                    "{:+.4} {}",
                    f(&e["contribution"]),
                    e["feature"].as_str().unwrap()
                );
                assert_eq!(*item, expected);
            }
        }
    }
}

#[test]
fn sentences_the_models_were_fitted_on_are_marked() {
    // Both models are fitted on data/framing.jsonl, every sentence of the seeds.
    for line in seed_json() {
        let n = line["sentences"].as_array().unwrap().len();
        for name in [STANCE, TOPIC] {
            assert_eq!(u(&line["article"][name]["sentences_seen"]), n, "{line}");
        }
        for sentence in line["sentences"].as_array().unwrap() {
            for name in [STANCE, TOPIC] {
                assert_eq!(sentence["predictions"][name]["seen"], "fitted");
            }
        }
    }
    let models = models();
    let table = score(&[models.both(), vec![s(&seed("002"))]].concat(), None)
        .success()
        .stdout;
    assert!(
        table.contains("seen in training: 14 of the 14 sentences (marked *), so this is not a held-out view of them"),
        "{table}"
    );
    // Text new to the models: nothing is marked.
    let fresh = "The envoys met again in a quiet hotel by the lake.";
    let mut args = models.both();
    args.push("--json");
    let lines = score(&args, Some(fresh)).success().json_lines();
    assert_eq!(
        lines[0]["sentences"][0]["predictions"][STANCE]["seen"],
        Value::Null
    );
    assert_eq!(u(&lines[0]["article"][STANCE]["sentences_seen"]), 0);
    let table = score(&models.both(), Some(fresh)).success().stdout;
    assert!(
        !table.contains("seen in training") && !table.contains('*'),
        "{table}"
    );
}

#[test]
fn standard_input_is_read_for_dash_and_for_no_path() {
    let models = models();
    let path = seed("003");
    let text = fs::read_to_string(&path).unwrap();
    for extra in [vec!["-"], vec![]] {
        let mut args = models.both();
        args.push("--json");
        args.extend(extra);
        let lines = score(&args, Some(&text)).success().json_lines();
        assert_eq!(lines.len(), 1);
        check_article_json(&lines[0], "-", &text, 5, 3);
        let from_file = &seed_json()[3];
        assert_eq!(lines[0]["sentences"], from_file["sentences"]);
        assert_eq!(lines[0]["article"], from_file["article"]);
    }
}

#[test]
fn a_directory_gives_its_regular_files_by_name() {
    let models = models();
    let dir = tempfile::tempdir().unwrap();
    for path in seeds().iter().rev().take(2) {
        fs::copy(path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    fs::create_dir(dir.path().join("nested")).unwrap();
    fs::write(
        dir.path().join("nested").join("ignored.txt"),
        "Not read at all.",
    )
    .unwrap();
    let mut args = models.both();
    args.extend(["--json", s(dir.path())]);
    let lines = score(&args, None).success().json_lines();
    let names: Vec<&str> = lines.iter().map(|l| l["path"].as_str().unwrap()).collect();
    let expected: Vec<String> = ["003_b255b46507c57bdb.txt", "004_8fa593e0c1b877e9.txt"]
        .iter()
        .map(|n| dir.path().join(n).display().to_string())
        .collect();
    assert_eq!(names, expected);
    assert_eq!(lines[1]["sentences"], seed_json()[4]["sentences"]);
}

#[test]
fn an_article_without_sentences_gets_a_note() {
    let models = models();
    let furniture = "Leave a Comment\n\nTop Stories\n";
    let mut args = models.both();
    args.push("--json");
    let line = &score(&args, Some(furniture)).success().json_lines()[0];
    assert_eq!(line["sentences"], serde_json::json!([]));
    assert_eq!(line["article"][STANCE], Value::Null);
    assert_eq!(line["skipped"].as_array().unwrap().len(), 2);

    let table = score(&models.both(), Some(furniture)).success().stdout;
    assert!(table.starts_with("-: 0 sentences, 2 skipped\n"), "{table}");
    assert!(table.contains("no sentence to score"), "{table}");

    let mut args = models.both();
    args.push("--csv");
    let csv = score(&args, Some(furniture)).success().stdout;
    assert_eq!(csv.lines().count(), 1, "the header only: {csv}");
}

#[test]
fn an_unreadable_article_fails_before_any_output() {
    let models = models();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let binary = dir.path().join("binary.txt");
    fs::write(&binary, b"Talks began.\nRussia \xff\xfe talks.").unwrap();
    let utf16 = dir.path().join("utf16.txt");
    let wide: Vec<u8> = "Talks began.".bytes().flat_map(|b| [b, 0]).collect();
    fs::write(&utf16, wide).unwrap();
    let good = seed("000");
    let binary_at = format!(
        "{}:2: a byte that is not UTF-8 at byte 8 of the line",
        s(&binary)
    );
    let utf16_at = format!("{}:1: a NUL character at byte 2 of the line", s(&utf16));
    for (bad, fragment) in [
        (&missing, "No such file"),
        (&binary, binary_at.as_str()),
        (&utf16, utf16_at.as_str()),
    ] {
        for mode in [None, Some("--json"), Some("--csv")] {
            let mut args = models.both();
            args.extend(mode);
            args.extend([s(&good), s(bad)]);
            let out = score(&args, None);
            assert_eq!(out.code, 1, "{}", out.stderr);
            assert!(out.stderr.starts_with("error:"), "{}", out.stderr);
            assert!(
                out.stderr.contains(s(bad)),
                "names the file: {}",
                out.stderr
            );
            assert!(out.stderr.contains(fragment), "{}", out.stderr);
            assert!(out.stdout.is_empty(), "nothing on stdout: {}", out.stdout);
        }
    }
}

#[test]
fn models_are_required_and_their_names_must_differ() {
    let out = score(&[s(&seed("000"))], None);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let models = models();
    let dir = tempfile::tempdir().unwrap();
    let twin = dir.path().join(format!("{STANCE}.stance"));
    fs::copy(&models.stance, &twin).unwrap();
    let out = score(
        &[
            "--model",
            s(&models.stance),
            "--model",
            s(&twin),
            s(&seed("000")),
        ],
        None,
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("both named `framing-stance`"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn sentences_lists_what_score_scores_and_what_the_framing_set_labels() {
    let seeds_dir = data("seeds");
    let listed = stance(&["sentences", s(&seeds_dir)], None)
        .success()
        .json_lines();
    // The bundled framing set labels exactly these sentences, in this order.
    let framing: Vec<Value> = fs::read_to_string(data("framing.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(listed.len(), framing.len());
    for (record, row) in listed.iter().zip(&framing) {
        assert_eq!(record["text"], row["text"]);
        let name = row["source"].as_str().unwrap().trim_start_matches("seeds/");
        assert_eq!(record["source"], s(&seeds_dir.join(name)));
        assert_eq!(record["label"], "");
    }
    // Numbered and placed as `score` numbers and places them, article by article.
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/framing-stance.stance");
    let scored = score(&["--json", "--model", s(&model), s(&seeds_dir)], None)
        .success()
        .json_lines();
    let mut records = listed.iter();
    for article in &scored {
        let text = fs::read_to_string(article["path"].as_str().unwrap()).unwrap();
        for sentence in article["sentences"].as_array().unwrap() {
            let record = records.next().expect("as many sentences as score scores");
            assert_eq!(record["source"], article["path"]);
            for key in ["text", "start", "end"] {
                assert_eq!(record[key], sentence[key], "{key}");
            }
            assert_eq!(record["sentence"], sentence["index"]);
            let (start, end) = (
                record["start"].as_u64().unwrap() as usize,
                record["end"].as_u64().unwrap() as usize,
            );
            assert_eq!(record["text"], &text[start..end]);
        }
    }
    assert!(records.next().is_none());

    // As CSV to label in a spreadsheet; once labelled, training data grouped by article.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("to-label.csv");
    let out = stance(&["sentences", s(&seeds_dir), "--output", s(&csv)], None).success();
    assert_eq!(
        out.stdout,
        format!("92 sentences of 5 articles written to {}\n", s(&csv))
    );
    let written = fs::read_to_string(&csv).unwrap();
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("source,sentence,start,end,text,label"));
    let labelled: String = written
        .lines()
        .zip(std::iter::once(&Value::Null).chain(&framing))
        .map(
            |(line, row)| match row.as_str().or(row["stance"].as_str()) {
                Some(label) => format!("{line}{label}\n"),
                None => format!("{line}\n"),
            },
        )
        .collect();
    let data_csv = dir.path().join("labelled.csv");
    fs::write(&data_csv, labelled).unwrap();
    let trained = stance(
        &[
            "train",
            "--data",
            s(&data_csv),
            "--cv",
            "5",
            "--group-field",
            "source",
            "--c",
            "1",
            "--model",
            s(&dir.path().join("m.stance")),
            "-q",
        ],
        None,
    )
    .success();
    assert!(
        trained
            .stdout
            .contains("each of its 5 groups within one fold"),
        "{}",
        trained.stdout
    );
    // One label per line has no room for sentences.
    let refused = stance(
        &[
            "sentences",
            s(&seeds_dir),
            "--output",
            s(&dir.path().join("x.txt")),
        ],
        None,
    );
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(!dir.path().join("x.txt").exists());
}
