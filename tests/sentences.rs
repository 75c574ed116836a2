//! Tests of sentence splitting and furniture detection (`stance::sentences`).
//!
//! Passages are copied from the five seed articles in `data/seeds` (news articles on
//! US–Russia relations from 2017); the seed files themselves are checked only when that
//! directory exists, so the suite passes on a bare clone.

use std::path::PathBuf;

use stance::sentences::{segment_article, split_sentences, Segment, SkipReason, Span};

/// The sentence texts `split_sentences` finds in `text`.
fn split(text: &str) -> Vec<&str> {
    split_sentences(text).iter().map(|s| s.text(text)).collect()
}

/// The sentence texts of `segment_article`.
fn sentences(text: &str) -> Vec<&str> {
    segment_article(text)
        .iter()
        .filter_map(|seg| match seg {
            Segment::Sentence(span) => Some(span.text(text)),
            Segment::Skipped(..) => None,
        })
        .collect()
}

/// The skipped pieces of `segment_article`, with their reasons.
fn skipped(text: &str) -> Vec<(SkipReason, &str)> {
    segment_article(text)
        .iter()
        .filter_map(|seg| match seg {
            Segment::Skipped(span, reason) => Some((*reason, span.text(text))),
            Segment::Sentence(_) => None,
        })
        .collect()
}

/// Spans in order, non-overlapping, within bounds, on char boundaries, non-empty and
/// trimmed.
fn assert_well_formed(text: &str, spans: &[Span]) {
    let mut previous_end = 0;
    for span in spans {
        assert!(span.start < span.end, "empty span {span:?}");
        assert!(span.end <= text.len(), "span {span:?} out of bounds");
        assert!(
            span.start >= previous_end,
            "span {span:?} overlaps or is out of order"
        );
        assert!(text.is_char_boundary(span.start) && text.is_char_boundary(span.end));
        let piece = span.text(text);
        assert_eq!(piece, piece.trim(), "span {span:?} is not trimmed");
        previous_end = span.end;
    }
}

fn assert_segments_well_formed(text: &str) -> Vec<Segment> {
    let segments = segment_article(text);
    let spans: Vec<Span> = segments.iter().map(Segment::span).collect();
    assert_well_formed(text, &spans);
    segments
}

// ------------------------------------------------------------------------------------
// Sentence splitting on real passages.
// ------------------------------------------------------------------------------------

#[test]
fn splits_on_full_stops_and_keeps_us_inside_sentences() {
    // 001 (Reuters), three one-line paragraphs.
    let text = "Trump said last month after meeting Putin in Vietnam that he believed Putin s denial of accusations that Moscow meddled in the 2016 U.S. election.\n\
That was despite U.S. intelligence agencies evidence of Russian interference.\n\
At the NATO dinner with ministers, Tillerson also blamed Russia for interfering in the U.S. election, said a diplomat who was present.";
    assert_eq!(
        split(text),
        [
            "Trump said last month after meeting Putin in Vietnam that he believed Putin s denial of accusations that Moscow meddled in the 2016 U.S. election.",
            "That was despite U.S. intelligence agencies evidence of Russian interference.",
            "At the NATO dinner with ministers, Tillerson also blamed Russia for interfering in the U.S. election, said a diplomat who was present.",
        ]
    );
}

#[test]
fn us_before_capitalised_continuations_does_not_split() {
    // 003: a headline and a paragraph.
    let text = "U.S. And Russia’s Escalating Spat\n\n\
On Monday, Rex Tillerson, the U.S. Secretary of State was found at odds from his low-profile demeanour as he made headlines due to his statements regarding Russia. \
Lately, relations between the two countries have been more strained than usual due to evidence of Russia meddling in the recent U.S. elections.\n\n\
Russia has not taken lightly to this matter and consequently responded with the expulsion of 755 diplomatic staff members from the U.S. embassy in Moscow and the seized two American compounds. \
The U.S. mission to Russia has been advised to reduce its strength.";
    assert_eq!(
        split(text),
        [
            "U.S. And Russia’s Escalating Spat",
            "On Monday, Rex Tillerson, the U.S. Secretary of State was found at odds from his low-profile demeanour as he made headlines due to his statements regarding Russia.",
            "Lately, relations between the two countries have been more strained than usual due to evidence of Russia meddling in the recent U.S. elections.",
            "Russia has not taken lightly to this matter and consequently responded with the expulsion of 755 diplomatic staff members from the U.S. embassy in Moscow and the seized two American compounds.",
            "The U.S. mission to Russia has been advised to reduce its strength.",
        ]
    );
}

#[test]
fn us_at_the_end_of_a_sentence() {
    // Followed by a typical sentence opener: split.
    assert_eq!(
        split("Lavrov wants sanctions lifted by the U.S. The talks ended on Friday."),
        [
            "Lavrov wants sanctions lifted by the U.S.",
            "The talks ended on Friday."
        ]
    );
    // Followed by a paragraph break: split.
    assert_eq!(
        split("Moscow blamed the U.S.\n\nRussia expelled 755 staff."),
        ["Moscow blamed the U.S.", "Russia expelled 755 staff."]
    );
    // Followed by a capitalised word that could continue it: no split (the documented
    // trade-off: `U.S. President`, `U.S. Embassy` are far more common).
    assert_eq!(
        split("Moscow blamed the U.S. Embassy staff for the leak."),
        ["Moscow blamed the U.S. Embassy staff for the leak."]
    );
    // 003: `U.S.` then a non-breaking space and an opening quote with a lowercase word.
    let text = "Russia is willing to work on the strained relationship as long as the U.S.\u{a0}“pulls back from confrontation.”";
    assert_eq!(split(text), [text]);
}

#[test]
fn curly_quotes_end_sentences_with_their_closing_quote() {
    // 003, with a non-breaking space after the closing quote, as in the article.
    let text = "Tillerson was quoted saying that “this (the interference) had created serious mistrust between our two countries.” Although Russia has consistently maintained that it did not interfere in the election, Tillerson said, “We talked about it in the discussion we had with Minister Lavrov yesterday – and trying to help them understand just how serious this incident had been.”\u{a0}Tillerson further emphasized that the two countries would have to find a way to deal with the situation.";
    assert_eq!(
        split(text),
        [
            "Tillerson was quoted saying that “this (the interference) had created serious mistrust between our two countries.”",
            "Although Russia has consistently maintained that it did not interfere in the election, Tillerson said, “We talked about it in the discussion we had with Minister Lavrov yesterday – and trying to help them understand just how serious this incident had been.”",
            "Tillerson further emphasized that the two countries would have to find a way to deal with the situation.",
        ]
    );
}

#[test]
fn quotes_with_said_stay_whole() {
    // 003
    let text = "“I don’t think it is useful to just cut everything off on one single issue,” he said. “These are two very large countries and we should find places that we can work together, let’s try to work together,” Tillerson added.";
    assert_eq!(
        split(text),
        [
            "“I don’t think it is useful to just cut everything off on one single issue,” he said.",
            "“These are two very large countries and we should find places that we can work together, let’s try to work together,” Tillerson added.",
        ]
    );
    // 000, one line per paragraph, straight and curly quotes mixed.
    let text = "“We will not stand for this violation of international norms,” he noted in his speech.\n\
He also said that there was still an imminent threat after the Cold War, adding that Russia sought \"to define a new post-Soviet global balance of power.\"\n\
Russia \"seeks to impose its will on others by force” either \"by virtue of its nuclear arsenal\" or by partnering with the Syrian government of President Bashar al-Assad, Tillerson claimed.";
    assert_eq!(
        split(text),
        [
            "“We will not stand for this violation of international norms,” he noted in his speech.",
            "He also said that there was still an imminent threat after the Cold War, adding that Russia sought \"to define a new post-Soviet global balance of power.\"",
            "Russia \"seeks to impose its will on others by force” either \"by virtue of its nuclear arsenal\" or by partnering with the Syrian government of President Bashar al-Assad, Tillerson claimed.",
        ]
    );
}

#[test]
fn quoted_sentences_are_split_like_any_other() {
    assert_eq!(
        split("He said: \"Stop.\" Then he left."),
        ["He said: \"Stop.\"", "Then he left."]
    );
    assert_eq!(
        split("\"Why?\" he asked. \"We will see!\" Lavrov replied."),
        ["\"Why?\" he asked.", "\"We will see!\" Lavrov replied."]
    );
    // 004: a quotation of several sentences is split inside the quotation.
    let text = "\"And I think it's very bad for Russian Federation\", he said in and interview with Maria Bartiromo airing today on Fox Business Network. \"We'll see. We'll see the end result, which will be in a long period of time perhaps\".";
    assert_eq!(
        split(text),
        [
            "\"And I think it's very bad for Russian Federation\", he said in and interview with Maria Bartiromo airing today on Fox Business Network.",
            "\"We'll see.",
            "We'll see the end result, which will be in a long period of time perhaps\".",
        ]
    );
}

#[test]
fn titles_are_not_sentence_ends() {
    // 004
    let text = "The President and Mr. Mattis appeared eager to underscore that they had no desire to get more involved in Syria. \"Frankly, Putin is backing a person that is truly an evil person\", Trump said.";
    assert_eq!(
        split(text),
        [
            "The President and Mr. Mattis appeared eager to underscore that they had no desire to get more involved in Syria.",
            "\"Frankly, Putin is backing a person that is truly an evil person\", Trump said.",
        ]
    );
    assert_eq!(
        split("Sen. John McCain met Gen. Jim Mattis and Dr. Smith. Rep. Adam Schiff was absent."),
        [
            "Sen. John McCain met Gen. Jim Mattis and Dr. Smith.",
            "Rep. Adam Schiff was absent."
        ]
    );
}

#[test]
fn other_abbreviations() {
    assert_eq!(
        split("The talks on Dec. 29 and Jan. 5 at 10 a.m. in Washington, D.C. were brief. U.N. envoys came too."),
        [
            "The talks on Dec. 29 and Jan. 5 at 10 a.m. in Washington, D.C. were brief.",
            "U.N. envoys came too."
        ]
    );
    assert_eq!(
        split("Russia vs. the West, e.g. in Syria, i.e. the war. It was item No. 2 on the list."),
        [
            "Russia vs. the West, e.g. in Syria, i.e. the war.",
            "It was item No. 2 on the list."
        ]
    );
    assert_eq!(
        split("The meeting ended at 10 a.m. The ministers left."),
        ["The meeting ended at 10 a.m.", "The ministers left."]
    );
    assert_eq!(
        split("John F. Kennedy met Nikita Khrushchev. Exxon Mobil Corp. It had interests."),
        [
            "John F. Kennedy met Nikita Khrushchev.",
            "Exxon Mobil Corp.",
            "It had interests."
        ]
    );
    // A lowercase word after a full stop does not start a sentence.
    assert_eq!(
        split("He went to St. Petersburg and back."),
        ["He went to St. Petersburg and back."]
    );
}

#[test]
fn brackets_are_not_split() {
    assert_eq!(
        split("Russia (which denied it. Again.) stayed quiet. Then it spoke."),
        [
            "Russia (which denied it. Again.) stayed quiet.",
            "Then it spoke."
        ]
    );
    assert_eq!(
        split("The ministers met. (Both sides declined to comment.) The talks ended."),
        [
            "The ministers met.",
            "(Both sides declined to comment.)",
            "The talks ended."
        ]
    );
}

#[test]
fn blank_lines_always_end_sentences() {
    // 002, paragraphs separated by blank lines, the first a headline without punctuation.
    let text = "US recognizes 'poor' relation with Russia, seeks cooperation on Syria\n\n\n\
Washington, Dec 29 (IANS): The United States, while maintaining \"a poor relationship\" with Russia, still needs to work with Russia in areas of mutual interests including Syria, US Secretary of State Rex Tillerson has said.\n\n\
Russian Foreign Minister Sergey Lavrov has denied evidence exists of any Russian interference in the US elections in 2016. The statement came after charges were filed in the US against former aides of the Trump campaign.\n\n\
Earlier this month, the latest round of Geneva peace talks on Syria ended without any \"real negotiations\"";
    assert_eq!(
        split(text),
        [
            "US recognizes 'poor' relation with Russia, seeks cooperation on Syria",
            "Washington, Dec 29 (IANS): The United States, while maintaining \"a poor relationship\" with Russia, still needs to work with Russia in areas of mutual interests including Syria, US Secretary of State Rex Tillerson has said.",
            "Russian Foreign Minister Sergey Lavrov has denied evidence exists of any Russian interference in the US elections in 2016.",
            "The statement came after charges were filed in the US against former aides of the Trump campaign.",
            "Earlier this month, the latest round of Geneva peace talks on Syria ended without any \"real negotiations\"",
        ]
    );
    // A blank line ends a sentence even after a title.
    assert_eq!(
        split("He met Mr.\n\nPutin arrived."),
        ["He met Mr.", "Putin arrived."]
    );
}

#[test]
fn hard_wrapped_lines_are_joined() {
    let text = "Tillerson acknowledged that he told the foreign minister that we have not\n\
made a decision about how we would respond to the Russian request to\n\
remove US diplomatic personnel. He asked several clarifying questions of the\n\
U.S. Embassy in Moscow and said he would respond by September 1.";
    assert_eq!(
        split(text),
        [
            "Tillerson acknowledged that he told the foreign minister that we have not\nmade a decision about how we would respond to the Russian request to\nremove US diplomatic personnel.",
            "He asked several clarifying questions of the\nU.S. Embassy in Moscow and said he would respond by September 1.",
        ]
    );
}

#[test]
fn standalone_lines_end_sentences() {
    // A heading on its own line in a one-line-per-paragraph text.
    let text = "Russian relations 'may be at an all-time low'\nPresident Donald Trump declared that US-Russia ties \"may be at an all-time low\", and Mr Tillerson struck a similar tone after a day of talks in Moscow.";
    assert_eq!(
        split(text),
        [
            "Russian relations 'may be at an all-time low'",
            "President Donald Trump declared that US-Russia ties \"may be at an all-time low\", and Mr Tillerson struck a similar tone after a day of talks in Moscow.",
        ]
    );
    // A line ending in a comma or "the" continues.
    assert_eq!(
        split("Tillerson said the\nRussian side had agreed."),
        ["Tillerson said the\nRussian side had agreed."]
    );
}

// ------------------------------------------------------------------------------------
// Edge cases.
// ------------------------------------------------------------------------------------

#[test]
fn empty_and_whitespace_only() {
    assert!(split_sentences("").is_empty());
    assert!(segment_article("").is_empty());
    assert!(split_sentences(" \n\t\r\n \u{a0}\n").is_empty());
    assert!(segment_article(" \n\t\r\n \u{a0}\n").is_empty());
}

#[test]
fn text_without_terminal_punctuation() {
    assert_eq!(
        split("  Tillerson meets Lavrov in Moscow  "),
        ["Tillerson meets Lavrov in Moscow"]
    );
    assert_eq!(
        sentences("Tillerson meets Lavrov in Moscow"),
        ["Tillerson meets Lavrov in Moscow"]
    );
}

#[test]
fn non_ascii_text() {
    let text = "Лавров сказал, что переговоры были трудными. Тиллерсон — госсекретарь США — ответил: «Мы увидим». «Посмотрим.» Потом он ушёл…";
    let got = split(text);
    assert_eq!(
        got,
        [
            "Лавров сказал, что переговоры были трудными.",
            "Тиллерсон — госсекретарь США — ответил: «Мы увидим».",
            "«Посмотрим.»",
            "Потом он ушёл…",
        ]
    );
    assert_well_formed(text, &split_sentences(text));
    let text = "Tillerson — the top U.S. diplomat — said “enough.” Lavrov’s reply: “No.” Café talks resumed.";
    assert_eq!(
        split(text),
        [
            "Tillerson — the top U.S. diplomat — said “enough.”",
            "Lavrov’s reply: “No.”",
            "Café talks resumed."
        ]
    );
    assert_segments_well_formed(text);
}

#[test]
fn windows_line_endings() {
    let text = "US recognizes 'poor' relation with Russia\r\n\r\nRussia has denied meddling.\r\nPeople are still dying every day from that violence, Tillerson said.\r\n";
    assert_eq!(
        split(text),
        [
            "US recognizes 'poor' relation with Russia",
            "Russia has denied meddling.",
            "People are still dying every day from that violence, Tillerson said.",
        ]
    );
    assert!(split(text).iter().all(|s| !s.contains('\r')));
    let article = "Top Stories\r\nRussia has denied meddling.\r\n\r\nLeave a Comment\r\n";
    assert_eq!(sentences(article), ["Russia has denied meddling."]);
    assert_eq!(
        skipped(article),
        [
            (SkipReason::Navigation, "Top Stories"),
            (SkipReason::CommentForm, "Leave a Comment")
        ]
    );
}

#[test]
fn skip_reason_names() {
    let all = [
        SkipReason::CommentForm,
        SkipReason::Disclaimer,
        SkipReason::Navigation,
        SkipReason::Dateline,
        SkipReason::Byline,
        SkipReason::WireCode,
        SkipReason::Credit,
        SkipReason::TooShort,
    ];
    for reason in all {
        let name = reason.as_str();
        assert!(
            name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{name}"
        );
        assert_eq!(reason.to_string(), name);
    }
    assert_eq!(SkipReason::WireCode.as_str(), "wire-code");
}

// ------------------------------------------------------------------------------------
// Furniture on synthetic articles.
// ------------------------------------------------------------------------------------

#[test]
fn synthetic_article_furniture() {
    let text = "Home | World | Europe\n\
By Jane Doe\n\
Posted on March 3, 2017 at 10:30 am\n\
\n\
Ministers meet in Moscow\n\
\n\
MOSCOW (Reuters) - Russia said on Monday it would respond. Officials declined to comment.\n\
Share\n\
Tweet\n\
\n\
The talks ended without agreement. [L1N1GH0AB]\n\
\n\
(Reporting by Jane Doe; Editing by John Roe)\n\
\n\
Read more: Lavrov warns Washington over sanctions\n\
Next post\n\
\n\
The views expressed in this article are the author's own and do not necessarily reflect the publisher's editorial policy.\n\
\n\
Leave a comment\n\
Your email address will not be published. Required fields are marked *\n\
Name *\n\
Comments are moderated. Please keep your comments civil and do not post abusive or offensive content.\n";
    let segments = assert_segments_well_formed(text);
    assert_eq!(
        sentences(text),
        [
            "Ministers meet in Moscow",
            "Russia said on Monday it would respond.",
            "Officials declined to comment.",
            "The talks ended without agreement.",
        ]
    );
    assert_eq!(
        skipped(text),
        [
            (SkipReason::Navigation, "Home | World | Europe"),
            (SkipReason::Byline, "By Jane Doe"),
            (SkipReason::Dateline, "Posted on March 3, 2017 at 10:30 am"),
            (SkipReason::Dateline, "MOSCOW (Reuters) -"),
            (SkipReason::Navigation, "Share"),
            (SkipReason::Navigation, "Tweet"),
            (SkipReason::WireCode, "[L1N1GH0AB]"),
            (SkipReason::Credit, "(Reporting by Jane Doe; Editing by John Roe)"),
            (SkipReason::Navigation, "Read more: Lavrov warns Washington over sanctions"),
            (SkipReason::Navigation, "Next post"),
            (
                SkipReason::Disclaimer,
                "The views expressed in this article are the author's own and do not necessarily reflect the publisher's editorial policy."
            ),
            (SkipReason::CommentForm, "Leave a comment"),
            (
                SkipReason::CommentForm,
                "Your email address will not be published. Required fields are marked *"
            ),
            (SkipReason::CommentForm, "Name *"),
            (
                SkipReason::Disclaimer,
                "Comments are moderated. Please keep your comments civil and do not post abusive or offensive content."
            ),
        ]
    );
    assert_eq!(segments.len(), 19);
}

#[test]
fn wire_codes_trailing_leading_and_alone() {
    let text = "Russia has denied meddling. [L8N1O63LC]\n[nL1N1O70XR] Tillerson stressed the Ukraine crisis.\n\n[L5N1NU3P4]\n\nHe left [ID:nL2N1OE0OH] on Friday.";
    assert_segments_well_formed(text);
    assert_eq!(
        sentences(text),
        [
            "Russia has denied meddling.",
            "Tillerson stressed the Ukraine crisis.",
            "He left",
            "on Friday."
        ]
    );
    assert_eq!(
        skipped(text),
        [
            (SkipReason::WireCode, "[L8N1O63LC]"),
            (SkipReason::WireCode, "[nL1N1O70XR]"),
            (SkipReason::WireCode, "[L5N1NU3P4]"),
            (SkipReason::WireCode, "[ID:nL2N1OE0OH]"),
        ]
    );
    // Bracketed words, years and acronyms are not wire codes.
    let text = "He called it [sic] a deal [2014] with [NATO] and [G20] partners [COVID19].";
    assert_eq!(sentences(text), [text]);
}

#[test]
fn dates_bylines_and_credits() {
    let text = "Friday, 23 March 2018\n\
Updated 14:05 GMT\n\
29/12/2017\n\
By John Smith and Jane Doe, Staff Writers\n\
WASHINGTON — The State Department said on Friday it would review the sanctions.\n\
Photo: Reuters\n\
Reporting by Robin Emmott; Additional reporting by Phil Stewart in Washington; Editing by Alison Williams";
    assert_segments_well_formed(text);
    assert_eq!(
        sentences(text),
        ["The State Department said on Friday it would review the sanctions."]
    );
    let reasons: Vec<SkipReason> = skipped(text).iter().map(|(r, _)| *r).collect();
    assert_eq!(
        reasons,
        [
            SkipReason::Dateline,
            SkipReason::Dateline,
            SkipReason::Dateline,
            SkipReason::Byline,
            SkipReason::Dateline,
            SkipReason::Credit,
            SkipReason::Credit,
        ]
    );
    assert_eq!(skipped(text)[4].1, "WASHINGTON —");
}

#[test]
fn short_real_sentences_are_kept() {
    // Short lines that end with a full stop, start with "By" or mention comments, dates
    // or sharing are prose, not furniture.
    let text = "Russia has denied meddling.\n\
By Tuesday, officials had left Moscow.\n\
Officials declined to comment.\n\
Share prices fell in Moscow on Friday.\n\
It happened on 15 April 2017.\n\
Related talks failed.\n\
Putin left.";
    assert_eq!(
        sentences(text),
        [
            "Russia has denied meddling.",
            "By Tuesday, officials had left Moscow.",
            "Officials declined to comment.",
            "Share prices fell in Moscow on Friday.",
            "It happened on 15 April 2017.",
            "Related talks failed.",
            "Putin left.",
        ]
    );
    assert!(skipped(text).is_empty());
}

#[test]
fn comment_area_follows_the_form_only() {
    // Prose mentioning comments and addressing "you" before the form is kept; after the
    // form, short lines, labels and posting rules are skipped.
    let text = "Tillerson declined to comment on the report.\n\n\
\"You have to understand our position,\" Lavrov told reporters in Moscow.\n\n\
Leave a comment\n\n\
Title: Tillerson in Moscow\n\n\
Please keep your comments civil.\n\n\
Posting rules apply\n";
    assert_eq!(
        sentences(text),
        [
            "Tillerson declined to comment on the report.",
            "\"You have to understand our position,\" Lavrov told reporters in Moscow.",
        ]
    );
    assert_eq!(
        skipped(text),
        [
            (SkipReason::CommentForm, "Leave a comment"),
            (SkipReason::CommentForm, "Title: Tillerson in Moscow"),
            (SkipReason::Disclaimer, "Please keep your comments civil."),
            (SkipReason::CommentForm, "Posting rules apply"),
        ]
    );
    // A comment-policy phrase inside prose is skipped as a sentence but opens no comment
    // area, so the following paragraph (which says "you") is kept.
    let text = "Tillerson spoke in Moscow. The site said comments are moderated. Lavrov left.\n\n\
\"You will see,\" Lavrov said.\n";
    assert_eq!(
        sentences(text),
        [
            "Tillerson spoke in Moscow.",
            "Lavrov left.",
            "\"You will see,\" Lavrov said."
        ]
    );
}

#[test]
fn prose_quoting_views_is_not_a_disclaimer() {
    let text = "The views expressed by Tillerson do not necessarily reflect those of the White House, a diplomat said.";
    assert_eq!(sentences(text), [text]);
}

// ------------------------------------------------------------------------------------
// The seed articles, from the byte-identical copies bundled in data/seeds (tests/framing_data.rs
// checks them against ../shared/seeds when that is present).
// ------------------------------------------------------------------------------------

fn seed(name: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data/seeds")
        .join(name);
    Some(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

const SEEDS: [&str; 5] = [
    "000_eb7b621716078803.txt",
    "001_41486dca4cf9b297.txt",
    "002_0a1aa9d853795c80.txt",
    "003_b255b46507c57bdb.txt",
    "004_8fa593e0c1b877e9.txt",
];

/// Every piece must lie inside one skipped segment and overlap no sentence.
fn assert_skipped(text: &str, segments: &[Segment], pieces: &[&str]) {
    for piece in pieces {
        let start = text
            .find(piece)
            .unwrap_or_else(|| panic!("{piece:?} is not in the seed"));
        let end = start + piece.len();
        let covered = segments.iter().any(|seg| {
            matches!(seg, Segment::Skipped(span, _) if span.start <= start && end <= span.end)
        });
        assert!(covered, "{piece:?} is not skipped");
        for seg in segments {
            if let Segment::Sentence(span) = seg {
                assert!(
                    span.end <= start || end <= span.start,
                    "sentence {:?} overlaps {piece:?}",
                    span.text(text)
                );
            }
        }
    }
}

#[test]
fn seed_articles_are_well_formed() {
    for name in SEEDS {
        let Some(text) = seed(name) else { return };
        let segments = assert_segments_well_formed(&text);
        let sentences = segments
            .iter()
            .filter(|seg| matches!(seg, Segment::Sentence(_)))
            .count();
        assert!(sentences >= 10, "{name}: only {sentences} sentences");
        // Every word of the article is in some segment.
        let mut covered = vec![false; text.len()];
        for seg in &segments {
            let span = seg.span();
            covered[span.start..span.end]
                .iter_mut()
                .for_each(|c| *c = true);
        }
        for (i, c) in text.char_indices() {
            assert!(
                c.is_whitespace() || covered[i],
                "{name}: {c:?} at {i} is lost"
            );
        }
    }
}

#[test]
fn seed_comment_form_and_disclaimer_are_skipped() {
    let Some(text) = seed("002_0a1aa9d853795c80.txt") else {
        return;
    };
    let segments = segment_article(&text);
    assert_skipped(
        &text,
        &segments,
        &[
            "Top Stories",
            "Leave a Comment",
            "Title: US recognizes 'poor' relation with Russia, seeks cooperation on Syria",
            "You have 2000 characters left.",
            "Disclaimer:",
            "Please write your correct name and email address.",
            "Daijiworld.com will not be responsible for any defamatory message posted under this article.",
            "Please note that sending false messages to insult",
            "It is obligatory on Daijiworld to provide the IP address",
            "Hence, sending offensive comments using daijiworld will be purely at your own risk, and in no way will Daijiworld.com be held responsible.",
            "Washington, Dec 29 (IANS):",
        ],
    );
    let sentences: Vec<&str> = segments
        .iter()
        .filter_map(|seg| match seg {
            Segment::Sentence(span) => Some(span.text(&text)),
            Segment::Skipped(..) => None,
        })
        .collect();
    assert_eq!(sentences.len(), 14);
    assert_eq!(
        sentences[0],
        "US recognizes 'poor' relation with Russia, seeks cooperation on Syria"
    );
    assert!(sentences[1].starts_with("The United States, while maintaining"));
    assert_eq!(
        sentences[13],
        "The Astana talks achieved the de-escalation zones deal for the cease-fire in four major hotspots in Syria."
    );
}

#[test]
fn seed_navigation_lines_are_skipped() {
    let Some(text) = seed("004_8fa593e0c1b877e9.txt") else {
        return;
    };
    let segments = segment_article(&text);
    assert_skipped(
        &text,
        &segments,
        &[
            "Friday, 23 March 2018",
            "Latest news",
            "Main » Russian relations 'may be at an all-time low'",
            "15 April 2017",
        ],
    );
    let sentences: Vec<&str> = segments
        .iter()
        .filter_map(|seg| match seg {
            Segment::Sentence(span) => Some(span.text(&text)),
            Segment::Skipped(..) => None,
        })
        .collect();
    // The headline itself is prose and kept.
    assert_eq!(
        sentences[0],
        "Russian relations 'may be at an all-time low'"
    );
    assert!(sentences.contains(
        &"The President and Mr. Mattis appeared eager to underscore that they had no desire to get more involved in Syria amid conflicting signals from within the administration on the future course of action."
    ));
}

#[test]
fn seed_wire_code_is_skipped() {
    let Some(text) = seed("001_41486dca4cf9b297.txt") else {
        return;
    };
    let segments = segment_article(&text);
    assert_skipped(&text, &segments, &["[L8N1O63LC]", "BRUSSELS (Reuters) -"]);
    assert!(segments.iter().any(|seg| matches!(
        seg,
        Segment::Skipped(span, SkipReason::WireCode) if span.text(&text) == "[L8N1O63LC]"
    )));
    let sentences: Vec<&str> = segments
        .iter()
        .filter_map(|seg| match seg {
            Segment::Sentence(span) => Some(span.text(&text)),
            Segment::Skipped(..) => None,
        })
        .collect();
    assert_eq!(sentences.len(), 22);
    assert!(sentences[0].starts_with("U.S. Secretary of State Rex Tillerson said on Wednesday"));
    assert!(sentences[11].starts_with("Tillerson stressed to ministers that the Ukraine crisis"));
    assert_eq!(
        sentences[17],
        "But Tillerson warned there was still a significant difference between the mandate that a peacekeeping force would be given and the scope of their mandate ."
    );
}

#[test]
fn seed_articles_without_furniture_are_all_prose() {
    for (name, count) in [
        ("000_eb7b621716078803.txt", 15),
        ("003_b255b46507c57bdb.txt", 20),
    ] {
        let Some(text) = seed(name) else { return };
        let segments = segment_article(&text);
        assert!(
            segments
                .iter()
                .all(|seg| matches!(seg, Segment::Sentence(_))),
            "{name}: {segments:?}"
        );
        assert_eq!(segments.len(), count, "{name}");
    }
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_sentence() {
    let text = "\u{feff}Talks resumed in Geneva. Both sides spoke.";
    assert_eq!(
        sentences(text),
        ["Talks resumed in Geneva.", "Both sides spoke."]
    );
    assert_segments_well_formed(text);
}

#[test]
fn a_quoted_remark_to_you_in_a_news_paragraph_is_not_a_disclaimer() {
    // Three posting-rule words (comment, published, responsible) and a `you`, but the `you`
    // is Lavrov's, in quotation marks: the paragraph is news, and it is scored.
    let text = "Moscow declined to comment on the report published on Monday, and Lavrov told reporters: \"You cannot hold Russia responsible for this.\"\n\nThe talks ended on Tuesday.\n";
    assert_eq!(skipped(text), []);
    assert_eq!(sentences(text).len(), 2);
    // Addressed to the reader by the page, the same words are still posting rules.
    let rules = "Please do not post comments that could be published as abuse; you are responsible for what you write.\n\nThe talks ended on Tuesday.\n";
    assert_eq!(skipped(rules).len(), 1, "{:?}", skipped(rules));
}
