//! Sentence splitting and page-furniture detection for whole news articles.
//!
//! `stance score` classifies sentences, so a plain-text article has to be cut into
//! sentences first, and the parts of a scraped page that are not article prose (comment
//! forms, disclaimers, navigation, date and byline lines, wire codes, credits) have to be
//! set aside so that they are neither scored nor silently lost: they come back as
//! [`Segment::Skipped`] with a [`SkipReason`]. Everything is rule based and std-only; no
//! rule names a particular site or article.
//!
//! # Sentence boundaries
//!
//! * A blank line (a paragraph break) always ends a sentence.
//! * A sentence ends at `.`, `!`, `?`, `…` (or a run of them), optionally followed by
//!   closing quotes and brackets, then whitespace, then a plausible sentence start: an
//!   uppercase letter, a digit, a letter of an uncased script, or an opening quote or
//!   bracket that is not followed by a lowercase letter. Quotes are not tracked, so a
//!   quotation of several sentences is split like any other text:
//!   `He said: "Stop." Then he left.` gives `He said: "Stop."` and `Then he left.`, while
//!   `"We will not stand for this," he said.` stays whole (a comma ends nothing), and so
//!   does `"Why?" Lavrov asked.`: a quoted `?` or `!` followed by a speech tag (one to four
//!   capitalised words and a verb such as said, asked, replied) ends nothing either.
//! * Nothing splits inside a matched pair of parentheses or square brackets; a closing
//!   bracket right after the punctuation belongs to the sentence it closes.
//! * A single newline inside a paragraph is decided by the paragraph's layout. When the
//!   paragraph looks hard-wrapped (lines of similar width that break mid-sentence) a long
//!   line's newline is just a space. Otherwise (one line per paragraph, as scraped text
//!   usually is) a newline after sentence punctuation always ends the sentence, and a
//!   newline after a line without punctuation ends it when the next line starts like a
//!   sentence and the line does not end in a comma, dash or a word such as "the" or "and"
//!   — that is how headings, datelines and similar standalone lines become separate.
//! * Abbreviations: titles (`Mr.`, `Dr.`, `Gen.`, `Sen.`, …) and `e.g.`, `i.e.`, `vs.`,
//!   `cf.` never end a sentence. Month abbreviations and numbering words (`Dec. 29`,
//!   `No. 2`, `pp. 4`) do not end one before a number. Dotted acronyms (`U.S.`, `U.N.`,
//!   `D.C.`, `a.m.`), single-letter initials and abbreviations that can close a sentence
//!   (`Jr.`, `Inc.`, `Corp.`, `etc.`, a month before a word) are ambiguous.
//!
//! ## The `U.S.` choice
//!
//! For an ambiguous abbreviation the sentence ends only when (a) a paragraph break
//! follows, (b) a newline follows in a paragraph that is not hard-wrapped, or (c) the next
//! word is a closed-class word that cannot continue a noun phrase and typically starts a
//! sentence (`The`, `He`, `It`, `But`, `In`, `However`, `Mr`, …, about 80 words). So
//! `the U.S. Secretary of State` and `U.S. And Russia's Escalating Spat` stay whole,
//! `in the U.S. The talks ended.` splits, and `sanctions on the U.S. Russia said` is
//! (wrongly, but rarely) kept as one sentence: a missed split costs less than cutting
//! every `U.S. President` in two.
//!
//! # Furniture
//!
//! [`segment_article`] looks at each line that stands on its own (not the continuation of
//! a wrapped sentence) and at each sentence, using keyword patterns, line shape (length,
//! terminal punctuation, capitalisation, separators such as `|` and `»`) and position:
//!
//! * wire codes: bracketed upper-case alphanumeric codes mixing letters and digits
//!   (`[L8N1O63LC]`, `[nL1N1O70XR]`) anywhere in the text; they are cut out of the
//!   sentence they lead or trail and reported on their own;
//! * credits: lines or sentences starting `Reporting by`, `(Editing by`, `Photo:`, …;
//! * bylines: `By Jane Doe`, `Written by …` with only name-like words;
//! * date lines: a line made only of date and time words (`Friday, 23 March 2018`), or
//!   `Posted on …` / `Updated …` with a date; and the leading dateline of a story
//!   (`BRUSSELS (Reuters) -`, `Washington, Dec 29 (IANS):`), cut off the first sentence;
//! * comment forms: `Leave a comment`, `Your email address will not be published`,
//!   `Required fields are marked`, `You have 2000 characters left`, …;
//! * disclaimers: `The views expressed in this article … do not necessarily reflect …`,
//!   `This article may contain …`, `All rights reserved`, a `Disclaimer:` heading, and
//!   prose paragraphs of posting rules (addressed to the reader and full of words such as
//!   comment, e-mail address, abusive, defamatory, responsible, own risk);
//! * navigation: short lines such as `Share`, `Tweet`, `Top Stories`, `Read more: …`,
//!   `Next post`, and short lines of items separated by `|`, `»`, `›`, `•`;
//! * once a standalone comment-form or disclaimer line (not a phrase inside a prose
//!   sentence) is found in the last two thirds of the article or after three sentences,
//!   the rest is a comment area: short unpunctuated lines, form labels (`Title: …`) and
//!   paragraphs with any posting-rule word or addressed to the reader are skipped too;
//! * too short: pieces without a letter or digit, and standalone lines of one or two
//!   words without sentence punctuation.
//!
//! A short line that ends with a full stop and matches none of these stays a sentence.

use std::fmt;

/// A half-open byte range into the article text.
///
/// Spans produced by this module always lie on `char` boundaries of the text they were
/// computed from, so [`Span::text`] cannot panic for that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The slice of `article` (the text the span was computed from) that the span covers.
    pub fn text<'a>(&self, article: &'a str) -> &'a str {
        &article[self.start..self.end]
    }
}

/// Why a piece of the article was not scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// The comment form and its notices: "Leave a comment", "Your email address will not be
    /// published", "You have 2000 characters left", form labels in a comment area.
    CommentForm,
    /// Publisher disclaimers, copyright notices and posting rules ("The views expressed …
    /// do not necessarily reflect …", "Please do not post abusive comments …").
    Disclaimer,
    /// Menus, breadcrumbs, share buttons and section labels ("Top Stories", "Home | News",
    /// "Read more: …").
    Navigation,
    /// A line that is only a date or time ("Friday, 23 March 2018", "Posted on …",
    /// "Updated …"), or the "CITY (Agency) -" dateline leading a story.
    Dateline,
    /// An author line ("By Jane Doe").
    Byline,
    /// A bracketed wire-service story code such as `[L8N1O63LC]`.
    WireCode,
    /// Reporting, editing and photo credits ("Reporting by …; Editing by …").
    Credit,
    /// Nothing to classify: no letter or digit, or a stray one- or two-word line without
    /// sentence punctuation.
    TooShort,
}

impl SkipReason {
    /// A stable kebab-case name for reports and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::CommentForm => "comment-form",
            SkipReason::Disclaimer => "disclaimer",
            SkipReason::Navigation => "navigation",
            SkipReason::Dateline => "dateline",
            SkipReason::Byline => "byline",
            SkipReason::WireCode => "wire-code",
            SkipReason::Credit => "credit",
            SkipReason::TooShort => "too-short",
        }
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One piece of an article: a sentence to score, or furniture that was skipped and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Article prose to classify.
    Sentence(Span),
    /// Page furniture, reported rather than scored.
    Skipped(Span, SkipReason),
}

impl Segment {
    /// The byte range of the segment, whatever its kind.
    pub fn span(&self) -> Span {
        match self {
            Segment::Sentence(span) | Segment::Skipped(span, _) => *span,
        }
    }

    /// The segment's span when it is a sentence to classify: `stance score` and `stance
    /// sentences` both number sentences by filtering segments with it, so they agree.
    pub fn sentence(&self) -> Option<Span> {
        match self {
            Segment::Sentence(span) => Some(*span),
            Segment::Skipped(..) => None,
        }
    }

    /// The reason the segment was skipped, or `None` for a sentence.
    pub fn skip_reason(&self) -> Option<SkipReason> {
        match self {
            Segment::Sentence(_) => None,
            Segment::Skipped(_, reason) => Some(*reason),
        }
    }
}

/// Split a whole article into sentences and skipped furniture, in text order.
///
/// The segments do not overlap, lie within the text and on `char` boundaries; whitespace
/// between them belongs to no segment.
pub fn segment_article(text: &str) -> Vec<Segment> {
    let (masked, codes) = mask_wire_codes(text);
    let mut out: Vec<Segment> = codes
        .iter()
        .map(|&code| Segment::Skipped(code, SkipReason::WireCode))
        .collect();
    let mut article = Article {
        text: &masked,
        codes: &codes,
        comment_area: false,
        tail_start: text.len() / 3,
        sentences: 0,
    };
    for para in paragraphs(&masked) {
        let wrapped = wrapped_flags(&masked, &para);
        // Index of the first line of the current prose run, if one is open.
        let mut run: Option<usize> = None;
        for (k, &(start, end)) in para.iter().enumerate() {
            let line = &masked[start..end];
            let continues = run.is_some() && {
                let (ps, pe) = para[k - 1];
                let prev = &masked[ps..pe];
                !ends_with_terminal(prev) && !line_break_ends_sentence(prev, line, wrapped[k - 1])
            };
            let reason = if continues {
                None
            } else {
                classify_line(line, article.comment_area)
            };
            match reason {
                Some(reason) => {
                    if let Some(first) = run.take() {
                        article.prose(&para[first..k], &wrapped[first..k], &mut out);
                    }
                    article.skip(Span { start, end }, reason, &mut out);
                }
                None => {
                    run.get_or_insert(k);
                }
            }
        }
        if let Some(first) = run {
            article.prose(&para[first..], &wrapped[first..], &mut out);
        }
    }
    out.sort_by_key(|segment| segment.span().start);
    out
}

/// One sentence of an article as `stance sentences` lists it, to be labelled: where it is
/// (its article, its position among the article's sentences from 0 as `stance score`
/// numbers them, its byte range) and its text exactly as in the article.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SentenceRecord {
    /// The article's name (its path, or `-` for standard input).
    pub source: String,
    /// Position among the article's sentences, from 0; furniture is not counted.
    pub sentence: usize,
    /// Byte offset of the sentence in the article.
    pub start: usize,
    /// Byte offset one past its end.
    pub end: usize,
    pub text: String,
}

/// The sentences of `article` named `source`, furniture left out, split and numbered as
/// `stance score` splits and numbers them ([`segment_article`]), so that labels given to
/// them describe what `score` will see.
pub fn sentence_records(source: &str, article: &str) -> Vec<SentenceRecord> {
    segment_article(article)
        .iter()
        .filter_map(Segment::sentence)
        .enumerate()
        .map(|(sentence, span)| SentenceRecord {
            source: source.to_string(),
            sentence,
            start: span.start,
            end: span.end,
            text: span.text(article).to_string(),
        })
        .collect()
}

/// Split one block of prose into sentence spans (byte offsets into `text`), trimmed of
/// surrounding whitespace.
///
/// This is the plain splitter of the module documentation, without furniture detection;
/// blank lines inside `text` still end sentences.
pub fn split_sentences(text: &str) -> Vec<Span> {
    let mut out = Vec::new();
    for para in paragraphs(text) {
        let wrapped = wrapped_flags(text, &para);
        split_lines(text, &para, &wrapped, &mut out);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Word lists. They describe English news prose and web-page furniture in general. Word
// lists are space-separated, phrase lists `|`-separated (phrases are lowercase).
// ---------------------------------------------------------------------------------------

/// Is `word` in the space-separated word `list`?
fn is_word_in(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// The phrases of a `|`-separated phrase list.
fn phrases(list: &'static str) -> impl Iterator<Item = &'static str> {
    list.split('|').map(str::trim).filter(|p| !p.is_empty())
}

/// Does `s` start with `phrase` followed by the end of `s` or a non-alphanumeric char?
fn starts_with_phrase(s: &str, phrase: &str) -> bool {
    s.strip_prefix(phrase)
        .is_some_and(|rest| !rest.starts_with(char::is_alphanumeric))
}

/// Sentence-ending punctuation.
const TERMINALS: &[char] = &['.', '!', '?', '…'];
/// Characters that may close a sentence after its punctuation.
const CLOSERS: &[char] = &['"', '”', '’', '\'', ')', ']', '»'];
/// Characters that may open a sentence before its first word.
const OPENERS: &[char] = &['"', '“', '‘', '\'', '(', '[', '«', '„', '¿', '¡'];

/// Capitalised words that start sentences but cannot continue a noun phrase after an
/// ambiguous abbreviation such as `U.S.` (see "The `U.S.` choice" in the module docs).
const STARTERS: &str = "The A An This That These Those He She It They We I You His Her Its Their \
    Our My Your But However Meanwhile Moreover Furthermore Also Still Yet So Then Thus Instead \
    Indeed In On At For As If When While Although Though After Before Since Because There Here \
    What Why How Who Where Some Many Most Both Such Each Earlier Later Now Today Yesterday \
    Neither Nor Not No During Despite According Mr Mrs Ms Dr";

/// Verbs of a speech tag after a quotation.
const SPEECH_VERBS: &str = "said says asked asks replied replies added adds told tells wrote \
    writes shouted insisted explained noted warned declared stressed answered responded tweeted \
    recalled continued";
/// Titles before a name: never the end of a sentence.
const TITLES: &str = "mr mrs ms messrs mmes mme dr drs prof profs gen gens sen sens rep reps gov \
    govs lt col capt cpt cmdr cdr sgt maj adm brig cpl pvt rev hon pres supt insp amb atty fr \
    msgr";
/// Abbreviations that are never the end of a sentence.
const NEVER_FINAL: &str = "vs v cf viz approx";
/// Month abbreviations: not final before a number (`Dec. 29`), ambiguous otherwise.
const MONTH_ABBREVIATIONS: &str = "jan feb mar apr jun jul aug sep sept oct nov dec";
/// Numbering words: not final before a number (`No. 2`), ordinary words otherwise.
const NUMBER_LABELS: &str = "no nos nr art arts fig figs vol vols pp ch chap sec para op ca tel";
/// Abbreviations that may or may not close a sentence.
const AMBIGUOUS: &str = "jr sr inc corp ltd co bros llc plc etc al dept govt est ave blvd rd st \
    mt ft univ assn intl natl";
/// Words after which a line break cannot end a sentence.
const CONNECTORS: &str = "and or but nor the a an of to in on at for with by from that as is was \
    are were be been his her their its our this these those than into over about";

/// Weekday names and abbreviations (lowercase).
const WEEKDAYS: &str = "monday tuesday wednesday thursday friday saturday sunday mon tue tues wed \
    thu thur thurs fri sat sun";
/// Month names and abbreviations (lowercase).
const MONTHS: &str = "january february march april may june july august september october \
    november december jan feb mar apr jun jul aug sep sept oct nov dec";
/// Other words of a date line: clock words, time zones, prepositions, dashes.
const DATE_FILLERS: &str = "at on of the am pm a.m p.m gmt utc et est edt ct cst cdt pt pst pdt \
    ist cet cest bst msk jst hours hour hrs minutes minute mins days day today yesterday - – —";
/// Line openings of a timestamp (the longest match wins).
const TIMESTAMP_PREFIXES: &str = "originally published on|first published on|last updated on|\
    last modified on|originally published|first published:|first published|last updated:|\
    last updated|last modified:|last modified|published on|published at|published:|published|\
    posted on|posted at|posted:|posted|updated on|updated at|updated:|updated|modified:|modified|\
    created:|date:|dated";

/// Words of a `Label:` before a date ("Published time:", "Date posted:").
const TIMESTAMP_LABEL_WORDS: &str = "publish post updat edit modif date time creat";

/// Openings of a byline, followed by the author's name.
const BYLINE_PREFIXES: &str =
    "written by|words by|story by|posted by|reported by|authors:|author:|by:|by";
/// Lowercase words allowed among the names of a byline.
const BYLINE_WORDS: &str = "and of the in for at on with de del la le van von der den da dos al \
    bin ibn el staff writer correspondent reporter editor contributor senior chief special \
    political diplomatic foreign news desk agency team";

/// Openings of a credit line or sentence.
const CREDIT_PREFIXES: &str = "reporting by|additional reporting|with reporting by|\
    with additional reporting|writing by|editing by|edited by|compiled by|produced by|research by|\
    photo by|photos by|photo:|photos:|photo credit|photograph:|photograph by|photographs by|\
    image:|images:|image credit|image by|image source|picture:|pictures:|credit:|credits:|\
    illustration:|illustration by|graphic by|graphics by|video by|translated by|translation by|\
    file photo|this article originally appeared|this story originally appeared|\
    this article first appeared|this story first appeared|this article was originally published|\
    this story was originally published|originally published at|originally published in|\
    republished with permission";
/// Credit phrases anywhere in a short line or sentence.
const CREDIT_PHRASES: &str = "contributed to this report|contributed to this story|\
    contributed reporting|contributed to this article";
/// Credit openings that only count on short lines.
const SHORT_CREDIT_PREFIXES: &str = "source:|sources:|courtesy of|courtesy:";

/// Comment-form notices, specific enough to count anywhere.
const COMMENT_FORM_PHRASES: &str = "email address will not be published|\
    e-mail address will not be published|required fields are marked|comments are moderated|\
    comments will be moderated|comments are subject to moderation|characters left|\
    characters remaining|notify me of follow-up|notify me of new|save my name, email|\
    logged in to post a comment|log in to post a comment|log in to comment|login to comment|\
    sign in to comment|comment policy|comments policy|commenting policy|comments are closed";
/// Comment-form labels and buttons, counted on short lines only.
const COMMENT_FORM_SHORT: &str = "leave a comment|leave a reply|post a comment|post your comment|\
    add a comment|add comment|add your comment|write a comment|submit a comment|post comment|\
    submit comment|view comments|show comments|hide comments|load comments|cancel reply|\
    join the discussion|join the conversation|be the first to comment|no comments yet|\
    community guidelines";
/// Labels of comment-form fields.
const FORM_LABELS: &str = "name|your name|email|e-mail|your email|email address|website|url|title|\
    subject|comment|your comment|message|location|city";
/// How a disclaimer refers to the publication it is attached to.
const THIS_PUBLICATION: &str = "this article|this column|this piece|this post|this blog|this site|\
    this website|this commentary|here";
/// Words of posting rules and legal notices.
const POLICY_CUES: &str = "comment|email address|e-mail address|defam|abusive|obscene|offensive|\
    indecent|unlawful|moderat|ip address|own risk|responsib|liab|terms of use|terms of service|\
    privacy policy|posted|publish|reserve the right|disclaim|copyright|personal information|\
    post any";

/// Whole navigation lines (lowercase, without decoration).
const NAV_LINES: &str = "home|homepage|main menu|menu|latest|latest news|latest stories|\
    top stories|top news|breaking news|most read|most popular|most viewed|most shared|trending|\
    trending now|related|related articles|related stories|related posts|related news|\
    related content|related coverage|related topics|more stories|more news|you may also like|\
    you might also like|recommended|recommended for you|read more|read also|read next|also read|\
    see also|continue reading|next|previous|prev|next post|previous post|next article|\
    previous article|next story|previous story|older posts|newer posts|share|share this|\
    share this article|share this story|share this post|tweet|email|e-mail|print|whatsapp|\
    facebook|twitter|linkedin|reddit|pinterest|telegram|comments|advertisement|advertisements|\
    sponsored|sponsored content|subscribe|subscribe now|sign up|sign in|log in|login|register|\
    search|skip to content|skip to main content|back to top|go to top|tags|topics|categories|\
    filed under|follow us|share via|photo gallery|print this article|email this article";
/// Openings of navigation lines.
const NAV_PREFIXES: &str = "read more|read also|also read|see also|related:|related articles|\
    related stories|related coverage|share this|share on|share via|follow us|click here|tags:|\
    tagged:|filed under|categories:|category:|posted in|next post|previous post|next article|\
    previous article|next story|previous story|next:|previous:|prev:|you may also like|\
    you might also like|recommended:|more from|more on this|more:";
/// Calls to action that make a short line navigation wherever they occur in it.
const NAV_CALLS: &str = "share this article|share this story|share this post|share it with|\
    like this story|like this article|follow us on|subscribe to our|sign up for our|click here|\
    download our app|short url|copy link|permalink";
/// Separators between the items of a menu or breadcrumb line.
const NAV_SEPARATORS: &[char] = &['|', '»', '›', '•', '·'];

/// Longest line (in chars) that can belong to a hard-wrapped paragraph.
const WRAP_MAX_CHARS: usize = 130;
/// Shortest line (in chars) that counts as filling the wrap width.
const WRAP_MIN_CHARS: usize = 35;
/// Longest matched bracket pair (in bytes) that suppresses splitting.
const MAX_BRACKET_BYTES: usize = 600;

// ---------------------------------------------------------------------------------------
// Furniture-aware walk over an article.
// ---------------------------------------------------------------------------------------

/// State of [`segment_article`] while it walks through the (wire-code masked) text.
struct Article<'t> {
    text: &'t str,
    codes: &'t [Span],
    /// Set once a standalone comment-form or disclaimer line (or a paragraph of posting
    /// rules) is seen after the article's prose has begun.
    comment_area: bool,
    /// Offset where the last two thirds of the article begin.
    tail_start: usize,
    /// Sentences emitted so far (story datelines are only looked for near the top).
    sentences: usize,
}

impl Article<'_> {
    /// Emit a standalone skipped line or block (minus the wire codes inside it, which are
    /// reported on their own).
    fn skip(&mut self, span: Span, reason: SkipReason, out: &mut Vec<Segment>) {
        self.open_comment_area(reason, span.start);
        for piece in cut_out(self.text, span, self.codes) {
            out.push(Segment::Skipped(piece, reason));
        }
    }

    /// A standalone comment form or disclaimer at `start` opens the comment area if it is
    /// in the last two thirds of the article or after three sentences of prose. (Phrases
    /// inside prose never get here.)
    fn open_comment_area(&mut self, reason: SkipReason, start: usize) {
        if matches!(reason, SkipReason::CommentForm | SkipReason::Disclaimer)
            && (start >= self.tail_start || self.sentences >= 3)
        {
            self.comment_area = true;
        }
    }

    /// Segment a run of consecutive prose lines of one paragraph.
    fn prose(&mut self, lines: &[(usize, usize)], wrapped: &[bool], out: &mut Vec<Segment>) {
        let start = lines[0].0;
        let end = lines[lines.len() - 1].1;
        if is_policy_block(&self.text[start..end], self.comment_area) {
            self.skip(Span { start, end }, SkipReason::Disclaimer, out);
            return;
        }
        let mut spans = Vec::new();
        split_lines(self.text, lines, wrapped, &mut spans);
        let before = self.sentences;
        let mut furniture = None;
        for span in spans {
            for piece in cut_out(self.text, span, self.codes) {
                furniture = self.sentence(piece, out).or(furniture);
            }
        }
        // A run of nothing but comment-form or disclaimer sentences is standalone furniture.
        if self.sentences == before {
            if let Some(reason) = furniture {
                self.open_comment_area(reason, start);
            }
        }
    }

    /// Emit one sentence span, minus a leading story dateline, unless it is furniture;
    /// return the reason if it is.
    fn sentence(&mut self, mut span: Span, out: &mut Vec<Segment>) -> Option<SkipReason> {
        if self.sentences <= 2 && at_line_start(self.text, span.start) {
            if let Some(len) = dateline_prefix(span.text(self.text)) {
                let dateline = Span {
                    start: span.start,
                    end: span.start + len,
                };
                out.push(Segment::Skipped(dateline, SkipReason::Dateline));
                let (start, end) = trim_range(self.text, dateline.end, span.end);
                if start == end {
                    return Some(SkipReason::Dateline);
                }
                span = Span { start, end };
            }
        }
        let reason = classify_sentence(span.text(self.text));
        match reason {
            Some(reason) => out.push(Segment::Skipped(span, reason)),
            None => {
                self.sentences += 1;
                out.push(Segment::Sentence(span));
            }
        }
        reason
    }
}

/// Replace wire codes by spaces (same byte length) and return their spans.
fn mask_wire_codes(text: &str) -> (String, Vec<Span>) {
    let mut codes = Vec::new();
    let mut from = 0;
    while let Some(offset) = text[from..].find('[') {
        let open = from + offset;
        from = open + 1;
        if let Some(len) = text[open..].find(']') {
            let close = open + len;
            if len <= 64 && is_wire_code(&text[open + 1..close]) {
                codes.push(Span {
                    start: open,
                    end: close + 1,
                });
                from = close + 1;
            }
        }
    }
    let mut masked = text.to_string();
    for code in &codes {
        // Wire codes are ASCII, so the replacement keeps every offset valid.
        masked.replace_range(code.start..code.end, &" ".repeat(code.end - code.start));
    }
    (masked, codes)
}

/// The inside of `[…]` is one or more wire-service story codes: upper-case letters and
/// digits alternating (`L8N1O63LC`), optionally with an `ID:` or lowercase `n` prefix.
fn is_wire_code(inner: &str) -> bool {
    !inner.trim().is_empty()
        && inner.split([',', ';']).all(|part| {
            let part = part.trim();
            let part = part.strip_prefix("ID:").unwrap_or(part);
            let part = part
                .strip_prefix('n')
                .filter(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
                .unwrap_or(part);
            let digits = part.chars().filter(char::is_ascii_digit).count();
            let changes = part
                .as_bytes()
                .windows(2)
                .filter(|pair| pair[0].is_ascii_digit() != pair[1].is_ascii_digit())
                .count();
            (6..=20).contains(&part.len())
                && part
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
                && digits >= 2
                && changes >= 3
        })
}

/// Split `span` around the wire codes strictly inside it.
fn cut_out(text: &str, span: Span, codes: &[Span]) -> Vec<Span> {
    let mut pieces = Vec::new();
    let mut from = span.start;
    let inner = codes
        .iter()
        .filter(|code| code.start > span.start && code.end < span.end);
    for code in inner.chain(std::iter::once(&Span {
        start: span.end,
        end: span.end,
    })) {
        let (start, end) = trim_range(text, from, code.start);
        if start < end {
            pieces.push(Span { start, end });
        }
        from = code.end;
    }
    pieces
}

/// Classify a line that stands on its own.
fn classify_line(line: &str, comment_area: bool) -> Option<SkipReason> {
    if !line.chars().any(char::is_alphanumeric) {
        return Some(SkipReason::TooShort);
    }
    let words = line.split_whitespace().count();
    let lower = line.to_lowercase();
    // Comment-form and disclaimer phrases only condemn a whole line if it is one sentence;
    // otherwise its sentences are judged one by one.
    let one_sentence = words <= 40 && split_sentences(line).len() <= 1;
    let reason = if is_credit(&lower, words) {
        SkipReason::Credit
    } else if is_byline(line, words) {
        SkipReason::Byline
    } else if is_timestamp_line(&lower, words) {
        SkipReason::Dateline
    } else if one_sentence && is_comment_form(&lower, words) {
        SkipReason::CommentForm
    } else if one_sentence && is_disclaimer(&lower, words) {
        SkipReason::Disclaimer
    } else if comment_area && is_form_label(&lower) {
        SkipReason::CommentForm
    } else if is_navigation(line, &lower, words) {
        SkipReason::Navigation
    } else if comment_area && words <= 12 && !ends_with_terminal(line) {
        SkipReason::CommentForm
    } else if words <= 2 && !ends_with_terminal(line) {
        SkipReason::TooShort
    } else {
        return None;
    };
    Some(reason)
}

/// Classify one sentence of prose.
fn classify_sentence(sentence: &str) -> Option<SkipReason> {
    if !sentence.chars().any(char::is_alphanumeric) {
        return Some(SkipReason::TooShort);
    }
    let words = sentence.split_whitespace().count();
    let lower = sentence.to_lowercase();
    if is_credit(&lower, words) {
        Some(SkipReason::Credit)
    } else if is_comment_form(&lower, words) {
        Some(SkipReason::CommentForm)
    } else if is_disclaimer(&lower, words) {
        Some(SkipReason::Disclaimer)
    } else {
        None
    }
}

/// A reporting, editing, photo or republication credit.
fn is_credit(lower: &str, words: usize) -> bool {
    if words > 45 {
        return false;
    }
    let body = lower.trim_start_matches(|c: char| c == '(' || c == '[' || c.is_whitespace());
    phrases(CREDIT_PREFIXES).any(|p| body.starts_with(p))
        || (words <= 12 && phrases(SHORT_CREDIT_PREFIXES).any(|p| body.starts_with(p)))
        || (words <= 30 && phrases(CREDIT_PHRASES).any(|p| lower.contains(p)))
        || ["; editing by", "; additional reporting by", "; writing by"]
            .iter()
            .any(|p| lower.contains(p))
}

/// `By Jane Doe`, `Written by Jane Doe and John Roe, Staff Writers`.
fn is_byline(line: &str, words: usize) -> bool {
    if !(2..=14).contains(&words) {
        return false;
    }
    let Some(prefix) = phrases(BYLINE_PREFIXES).find(|p| {
        line.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
            && line[p.len()..].starts_with(char::is_whitespace)
    }) else {
        return false;
    };
    let mut tokens = line[prefix.len()..]
        .split(|c: char| c.is_whitespace() || ",|;()/•·".contains(c))
        .filter(|t| !t.is_empty())
        .peekable();
    let Some(first) = tokens.peek() else {
        return false;
    };
    first.starts_with(char::is_uppercase)
        && tokens.all(|t| {
            t.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit())
                || t.contains('@')
                || ["&", "-", "–", "—"].contains(&t)
                || is_word_in(BYLINE_WORDS, &t.to_lowercase())
        })
}

/// A line made of date and time words, optionally after `Posted on`, `Updated`, a label
/// such as `Published time:` (any of which may also carry `by <author>`).
fn is_timestamp_line(lower: &str, words: usize) -> bool {
    if words > 16 {
        return false;
    }
    let line = lower.trim();
    let after_prefix = phrases(TIMESTAMP_PREFIXES)
        .filter(|p| starts_with_phrase(line, p))
        .max_by_key(|p| p.len())
        .map(|p| &line[p.len()..]);
    // "Published time: 29 Dec, 2017 14:05", "Last update: …"
    let after_label = line.split_once(':').and_then(|(label, after)| {
        (label.split_whitespace().count() <= 3
            && TIMESTAMP_LABEL_WORDS
                .split_whitespace()
                .any(|w| label.contains(w)))
        .then_some(after)
    });
    date_words(line, false)
        || after_prefix.is_some_and(|rest| date_words(rest, true))
        || after_label.is_some_and(|rest| date_words(rest, true))
}

/// Is `rest` made of date and time words, with at least one that pins it down as a date?
/// After a timestamp prefix, `by <author>` is allowed and a clock time is enough.
fn date_words(rest: &str, prefixed: bool) -> bool {
    let mut anchored = false;
    let mut after_by = false;
    for token in rest
        .split(|c: char| c.is_whitespace() || ",|•·()".contains(c))
        .filter(|t| !t.is_empty())
    {
        let token = token.trim_end_matches(['.', ':']);
        if token.is_empty() {
            continue;
        }
        if prefixed && token == "by" {
            after_by = true;
            continue;
        }
        match date_token(token, prefixed) {
            DateToken::Anchor => {
                anchored = true;
                after_by = false;
            }
            DateToken::Filler => {}
            DateToken::Other if after_by => {}
            DateToken::Other => return false,
        }
    }
    anchored
}

/// What a word contributes to a date line.
enum DateToken {
    /// Pins the line down as a date: a month or weekday name, a numeric date, "ago", or a
    /// clock time after a timestamp prefix.
    Anchor,
    /// Can be part of a date line: numbers, "am", time zones, "at", ….
    Filler,
    /// Anything else.
    Other,
}

/// Classify one lowercase word of a candidate date line.
fn date_token(token: &str, prefixed: bool) -> DateToken {
    let digits_only = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    if is_word_in(MONTHS, token) || is_word_in(WEEKDAYS, token) || token == "ago" {
        return DateToken::Anchor;
    }
    // 29/12/2017, 2017-12-29, 12.29.17, 2017-12-29t10:30:00z
    let numeric_date = token.split(['/', '-', '.']).count() == 3
        && token.split(['/', '-', '.']).enumerate().all(|(i, p)| {
            digits_only(p) || (i == 2 && p.starts_with(|c: char| c.is_ascii_digit()))
        });
    if numeric_date {
        return DateToken::Anchor;
    }
    let clock = token.trim_end_matches("am").trim_end_matches("pm");
    let is_clock = {
        let parts: Vec<&str> = clock.split(':').collect();
        (2..=3).contains(&parts.len()) && parts.iter().all(|p| digits_only(p) && p.len() <= 2)
    };
    if is_clock {
        return if prefixed {
            DateToken::Anchor
        } else {
            DateToken::Filler
        };
    }
    let ordinal = token
        .strip_suffix("st")
        .or_else(|| token.strip_suffix("nd"))
        .or_else(|| token.strip_suffix("rd"))
        .or_else(|| token.strip_suffix("th"));
    if (digits_only(token) && token.len() <= 4)
        || ordinal.is_some_and(|n| digits_only(n) && n.len() <= 2)
        || is_word_in(DATE_FILLERS, token)
    {
        return DateToken::Filler;
    }
    DateToken::Other
}

/// A comment-form notice anywhere, or a comment-form label or button on a short line.
fn is_comment_form(lower: &str, words: usize) -> bool {
    if phrases(COMMENT_FORM_PHRASES).any(|p| lower.contains(p)) {
        return true;
    }
    if words > 8 {
        return false;
    }
    // "12 comments", "Comments (12)"
    let bare = lower.trim_end_matches(|c: char| !c.is_alphanumeric());
    let counter = bare
        .split_whitespace()
        .next()
        .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()))
        && (bare.ends_with(" comments") || bare.ends_with(" comment"));
    counter
        || (lower.starts_with("comments (") && words <= 2)
        || phrases(COMMENT_FORM_SHORT).any(|p| lower.contains(p))
}

/// A publisher's disclaimer or copyright notice. "Views expressed" alone is not enough
/// (news reports views): it must be tied to an author or to "this article" and the like.
fn is_disclaimer(lower: &str, words: usize) -> bool {
    let has = |p: &str| lower.contains(p);
    let views = (has("views") || has("opinions"))
        && has("expressed")
        && (has("author") || (has("necessarily") && phrases(THIS_PUBLICATION).any(has)));
    let copyright =
        (lower.starts_with('©') || lower.starts_with("copyright") || lower.starts_with("(c) "))
            && words <= 20;
    lower.starts_with("disclaimer")
        || views
        || has("author's own")
        || has("authors' own")
        || has("this article may contain")
        || has("this post may contain")
        || has("contains affiliate links")
        || has("may contain affiliate links")
        || (has("all rights reserved") && words <= 30)
        || (has("may not be")
            && ["republished", "redistributed", "reproduced", "rewritten"]
                .iter()
                .any(|p| has(p)))
        || has("for informational purposes only")
        || has("not responsible for the content")
        || copyright
}

/// A prose paragraph of posting rules or legal notices.
fn is_policy_block(block: &str, comment_area: bool) -> bool {
    let lower = block.to_lowercase();
    let cues = phrases(POLICY_CUES).filter(|c| lower.contains(c)).count();
    // Addressed to the reader by the page, not by someone quoted in the story.
    let to_reader = unquoted(&lower)
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| matches!(w, "please" | "kindly" | "you" | "your"));
    if comment_area {
        cues >= 1 || to_reader
    } else {
        to_reader && cues >= 3
    }
}

/// `text` without what stands in quotation marks (straight, curly or guillemets).
fn unquoted(text: &str) -> String {
    let mut quoted = false;
    text.chars()
        .filter(|&c| {
            match c {
                '"' => quoted = !quoted,
                '“' | '«' => quoted = true,
                '”' | '»' => quoted = false,
                _ => return !quoted,
            }
            false
        })
        .collect()
}

/// `Title: …`, `Email *` and other comment-form field labels.
fn is_form_label(lower: &str) -> bool {
    let label = match lower.split_once(':') {
        Some((label, _)) => label,
        None => lower,
    };
    let label = label.trim().trim_end_matches('*').trim();
    phrases(FORM_LABELS).any(|p| p == label)
}

/// A menu item, share button, section label, "Read more" teaser or breadcrumb line.
fn is_navigation(line: &str, lower: &str, words: usize) -> bool {
    let decoration = |c: char| " :»›>→|-–—«‹<←·•*#".contains(c);
    let norm = lower
        .trim_end_matches(|c: char| c == '…' || c == '.' || decoration(c))
        .trim_start_matches(decoration);
    let norm = norm.split_whitespace().collect::<Vec<_>>().join(" ");
    // A lone word with a full stop ("Share.") is still a button; "Read more." too.
    let punct_end = ends_with_terminal(line) && !line.ends_with("...") && !line.ends_with('…');
    if phrases(NAV_LINES).any(|p| p == norm) && (!punct_end || words <= 2) {
        return true;
    }
    if words <= 15 && !punct_end && phrases(NAV_PREFIXES).any(|p| starts_with_phrase(&norm, p)) {
        return true;
    }
    if words <= 12 && phrases(NAV_CALLS).any(|p| lower.contains(p)) {
        return true;
    }
    // Menus and breadcrumbs: "Home | News | World", "Main » Some headline".
    let items: Vec<&str> = line
        .split(|c: char| NAV_SEPARATORS.contains(&c))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .collect();
    items.len() >= 2
        && words <= 25
        && !punct_end
        && items
            .iter()
            .all(|item| item.split_whitespace().count() <= 10)
}

/// Length in bytes of a story dateline opening `sentence`: `BRUSSELS (Reuters) -`,
/// `Washington, Dec 29 (IANS):`, `MOSCOW, Russia —`.
fn dateline_prefix(sentence: &str) -> Option<usize> {
    agency_dateline(sentence).or_else(|| caps_dateline(sentence))
}

/// `Place[, date] (Agency)` and a separator: `BRUSSELS (Reuters) -`.
fn agency_dateline(s: &str) -> Option<usize> {
    let open = s.find('(')?;
    if open == 0 || open > 60 {
        return None;
    }
    let place = s[..open].trim_end();
    let words: Vec<&str> = place.split_whitespace().collect();
    let place_ok = !words.is_empty()
        && words.len() <= 6
        && words
            .iter()
            .all(|w| w.starts_with(|c: char| c.is_uppercase() || c.is_ascii_digit()))
        && place
            .chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || ",.'’-".contains(c));
    if !place_ok {
        return None;
    }
    let close = open + s[open..].find(')')?;
    let agency: Vec<&str> = s[open + 1..close].split_whitespace().collect();
    let agency_ok = !agency.is_empty()
        && agency.len() <= 4
        && close - open <= 40
        && agency.iter().all(|w| {
            w.starts_with(char::is_alphabetic)
                && (w.starts_with(char::is_uppercase) || w.len() <= 4)
        });
    if !agency_ok {
        return None;
    }
    separator_after(s, close + 1, true)
}

/// An upper-case place (optionally `, Region`) and a dash: `WASHINGTON —`.
fn caps_dateline(s: &str) -> Option<usize> {
    let mut after_comma = false;
    let mut long_caps = false;
    let mut count = 0;
    let mut offset = 0;
    for word in s.split(' ') {
        let start = offset;
        offset += word.len() + 1;
        if word.is_empty() {
            continue;
        }
        if ["-", "--", "–", "—"].contains(&word) {
            return if long_caps {
                separator_after(s, start, false)
            } else {
                None
            };
        }
        count += 1;
        if count > 6 {
            return None;
        }
        let core = word.trim_end_matches(',');
        let letters: Vec<char> = core.chars().filter(|c| c.is_alphabetic()).collect();
        let shape_ok = core
            .chars()
            .all(|c| c.is_alphabetic() || ".'’-".contains(c));
        if !shape_ok || letters.is_empty() {
            return None;
        }
        if after_comma {
            if !core.starts_with(char::is_uppercase) {
                return None;
            }
        } else {
            if !letters.iter().all(|c| c.is_uppercase()) || letters.len() < 2 {
                return None;
            }
            long_caps |= letters.len() >= 3;
        }
        after_comma |= word.ends_with(',');
    }
    None
}

/// After a dateline's place/agency at `from`: a dash or colon and the start of the
/// sentence. Returns the offset just past the separator.
fn separator_after(s: &str, from: usize, allow_colon: bool) -> Option<usize> {
    let rest = &s[from..];
    let trimmed = rest.trim_start();
    let sep = ["--", "-", "–", "—", ":"]
        .into_iter()
        .find(|p| trimmed.starts_with(p) && (allow_colon || *p != ":"))?;
    let end = from + (rest.len() - trimmed.len()) + sep.len();
    let after = &s[end..];
    let body = after.trim_start();
    let spaced = body.len() < after.len();
    if body.is_empty() || !starts_sentence(body) || !(spaced || sep == "—" || sep == "–") {
        return None;
    }
    Some(end)
}

// ---------------------------------------------------------------------------------------
// The plain sentence splitter.
// ---------------------------------------------------------------------------------------

/// `text[start..end]` without surrounding whitespace (or a byte-order mark, which a file
/// saved by some editors starts with), as a byte range.
fn trim_range(text: &str, start: usize, end: usize) -> (usize, usize) {
    let blank = |c: char| c.is_whitespace() || c == '\u{feff}';
    let slice = &text[start..end];
    let lead = slice.len() - slice.trim_start_matches(blank).len();
    (start + lead, start + lead + slice.trim_matches(blank).len())
}

/// Paragraphs of `text` (separated by blank lines) as lists of trimmed, non-empty lines.
fn paragraphs(text: &str) -> Vec<Vec<(usize, usize)>> {
    let mut paras = Vec::new();
    let mut current = Vec::new();
    let mut pos = 0;
    for line in text.split('\n') {
        let (start, end) = trim_range(text, pos, pos + line.len());
        pos += line.len() + 1;
        if start < end {
            current.push((start, end));
        } else if !current.is_empty() {
            paras.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        paras.push(current);
    }
    paras
}

/// For each line of a paragraph: is it a full-width line of hard-wrapped text, whose
/// newline is only a space?
fn wrapped_flags(text: &str, lines: &[(usize, usize)]) -> Vec<bool> {
    let lens: Vec<usize> = lines
        .iter()
        .map(|&(s, e)| text[s..e].chars().count())
        .collect();
    let max = lens.iter().copied().max().unwrap_or(0);
    // Evidence of wrapping: some line breaks in the middle of a sentence.
    let wrap_style = lines.len() > 1
        && max <= WRAP_MAX_CHARS
        && lines.windows(2).any(|pair| {
            let line = &text[pair[0].0..pair[0].1];
            let next = &text[pair[1].0..pair[1].1];
            !ends_with_terminal(line)
                && (next.starts_with(char::is_lowercase)
                    || line.ends_with([',', ';', '-'])
                    || ends_with_connector(line))
        });
    lens.iter()
        .map(|&n| wrap_style && n >= WRAP_MIN_CHARS && n * 100 >= max * 65)
        .collect()
}

/// Split one paragraph, given as trimmed lines, into sentences.
fn split_lines(text: &str, lines: &[(usize, usize)], wrapped: &[bool], out: &mut Vec<Span>) {
    let start = lines[0].0;
    let end = lines[lines.len() - 1].1;
    let pairs = bracket_pairs(text, start, end);
    let inside = |pos: usize| {
        pairs
            .iter()
            .any(|&(open, close)| open < pos && pos <= close)
    };
    let line_of = |pos: usize| {
        lines
            .iter()
            .position(|&(_, e)| pos < e)
            .unwrap_or(lines.len() - 1)
    };
    let mut cuts = Vec::new();

    // Sentence punctuation.
    let mut i = start;
    while let Some(c) = text[i..end].chars().next() {
        if !TERMINALS.contains(&c) {
            i += c.len_utf8();
            continue;
        }
        let term_end = skip_while(text, i, end, |c| TERMINALS.contains(&c));
        let close_end = skip_while(text, term_end, end, |c| CLOSERS.contains(&c));
        let next = skip_while(text, close_end, end, char::is_whitespace);
        if next > close_end && next < end && !inside(close_end) {
            let newline = text[close_end..next].contains('\n');
            let hard = newline && !wrapped[line_of(i)];
            if ends_sentence_at(text, i, term_end, next, hard) {
                cuts.push(close_end);
            }
        }
        i = close_end;
    }

    // Line breaks after lines without sentence punctuation.
    for (k, pair) in lines.windows(2).enumerate() {
        let line = &text[pair[0].0..pair[0].1];
        let next = &text[pair[1].0..pair[1].1];
        if !ends_with_terminal(line)
            && !inside(pair[0].1)
            && line_break_ends_sentence(line, next, wrapped[k])
        {
            cuts.push(pair[0].1);
        }
    }

    cuts.sort_unstable();
    cuts.dedup();
    let mut from = start;
    for cut in cuts.into_iter().chain(std::iter::once(end)) {
        let (s, e) = trim_range(text, from, cut);
        if s < e {
            out.push(Span { start: s, end: e });
        }
        from = cut;
    }
}

/// The offset of the first char at or after `from` (before `end`) that fails `pred`.
fn skip_while(text: &str, from: usize, end: usize, pred: impl Fn(char) -> bool) -> usize {
    text[from..end]
        .char_indices()
        .find(|&(_, c)| !pred(c))
        .map_or(end, |(i, _)| from + i)
}

/// Matched `()` and `[]` pairs (byte offsets of the two brackets) in `text[start..end]`.
fn bracket_pairs(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let mut stack: Vec<(char, usize)> = Vec::new();
    let mut pairs = Vec::new();
    for (offset, c) in text[start..end].char_indices() {
        let pos = start + offset;
        let want = match c {
            '(' | '[' => {
                stack.push((c, pos));
                continue;
            }
            ')' => '(',
            ']' => '[',
            _ => continue,
        };
        if let Some(idx) = stack.iter().rposition(|&(open, _)| open == want) {
            let open = stack[idx].1;
            stack.truncate(idx);
            if pos - open <= MAX_BRACKET_BYTES {
                pairs.push((open, pos));
            }
        }
    }
    pairs
}

/// Does the punctuation `text[term..term_end]`, followed (after closers and whitespace)
/// by `text[next..]`, end a sentence? `hard` means a newline that is not a wrap.
fn ends_sentence_at(text: &str, term: usize, term_end: usize, next: usize, hard: bool) -> bool {
    let rest = &text[next..];
    if &text[term..term_end] != "." {
        // `"Why?" Lavrov asked.`: a quoted question or exclamation followed by its
        // speech tag is one sentence.
        let quoted = text[term_end..next].contains(['"', '”', '’', '\'', '»']);
        return hard || (starts_sentence(rest) && !(quoted && is_speech_tag(rest)));
    }
    let before = &text[..term];
    let token_start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let token = before[token_start..].trim_matches(|c: char| !c.is_alphanumeric() && c != '.');
    let before_digit = rest.starts_with(|c: char| c.is_ascii_digit());
    match abbreviation(token, at_line_start(text, token_start)) {
        Abbreviation::Never => false,
        Abbreviation::Month if before_digit => false,
        Abbreviation::NumberLabel if before_digit => false,
        Abbreviation::Ambiguous | Abbreviation::Month => hard || next_is_starter(rest),
        Abbreviation::NumberLabel | Abbreviation::None => hard || starts_sentence(rest),
    }
}

/// How the word before a full stop bears on ending the sentence there.
enum Abbreviation {
    /// Not an abbreviation.
    None,
    /// Never ends a sentence (`Mr.`, `e.g.`).
    Never,
    /// A month: not final before a number, else ambiguous.
    Month,
    /// A numbering word: not final before a number, else an ordinary word.
    NumberLabel,
    /// May end a sentence (`U.S.`, `Inc.`, an initial).
    Ambiguous,
}

/// What kind of abbreviation `token` (the word before a full stop) is.
fn abbreviation(token: &str, line_initial: bool) -> Abbreviation {
    if token.is_empty() {
        return Abbreviation::None;
    }
    let lower = token.to_lowercase();
    let lower = lower.as_str();
    if token.contains('.') {
        if lower == "e.g" || lower == "i.e" {
            return Abbreviation::Never;
        }
        let dotted = lower
            .split('.')
            .all(|p| (1..=2).contains(&p.chars().count()) && p.chars().all(char::is_alphabetic));
        return if dotted {
            Abbreviation::Ambiguous
        } else {
            Abbreviation::None
        };
    }
    if (token.starts_with(char::is_uppercase) && is_word_in(TITLES, lower))
        || is_word_in(NEVER_FINAL, lower)
    {
        Abbreviation::Never
    } else if is_word_in(MONTH_ABBREVIATIONS, lower) {
        Abbreviation::Month
    } else if is_word_in(NUMBER_LABELS, lower) {
        Abbreviation::NumberLabel
    } else if is_word_in(AMBIGUOUS, lower)
        || (token.chars().count() == 1 && token.chars().all(char::is_alphabetic))
    {
        Abbreviation::Ambiguous
    } else if line_initial && token.len() <= 2 && token.chars().all(|c| c.is_ascii_digit()) {
        // "1." numbering a list item.
        Abbreviation::Never
    } else {
        Abbreviation::None
    }
}

/// Could `rest` be the start of a new sentence?
fn starts_sentence(rest: &str) -> bool {
    let Some(first) = rest.chars().next() else {
        return false;
    };
    if OPENERS.contains(&first) {
        return rest
            .trim_start_matches(OPENERS)
            .chars()
            .next()
            .is_some_and(|c| !c.is_lowercase());
    }
    first.is_uppercase() || first.is_numeric() || (first.is_alphabetic() && !first.is_lowercase())
}

/// Does `rest` open with a speech tag: one to four capitalised words and a verb of
/// saying (`Lavrov replied`, `Foreign Minister Sergey Lavrov said`)?
fn is_speech_tag(rest: &str) -> bool {
    for (names, word) in rest.split_whitespace().take(5).enumerate() {
        let word = word.trim_end_matches(|c: char| !c.is_alphabetic());
        if is_word_in(SPEECH_VERBS, word) {
            return names > 0;
        }
        if !word.starts_with(char::is_uppercase) {
            return false;
        }
    }
    false
}

/// Is the first word of `rest` one of the `STARTERS`?
fn next_is_starter(rest: &str) -> bool {
    let word = rest.trim_start_matches(OPENERS);
    let len = word
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(word.len());
    is_word_in(STARTERS, &word[..len])
}

/// Does `line` end with sentence punctuation (possibly followed by closers)?
fn ends_with_terminal(line: &str) -> bool {
    line.trim_end_matches(CLOSERS).ends_with(TERMINALS)
}

/// Does `line` end with a word such as "the" or "and" that a sentence cannot end with?
fn ends_with_connector(line: &str) -> bool {
    line.rsplit(char::is_whitespace)
        .next()
        .is_some_and(|w| is_word_in(CONNECTORS, &w.to_lowercase()))
}

/// Does a newline after `line` (which has no sentence punctuation) end a sentence?
fn line_break_ends_sentence(line: &str, next: &str, wrapped: bool) -> bool {
    !wrapped
        && !line.ends_with([',', ';', '-', '–', '—', '(', '[', '/', '&', '+'])
        && !ends_with_connector(line)
        && starts_sentence(next)
}

/// Is `pos` preceded on its line by whitespace only?
fn at_line_start(text: &str, pos: usize) -> bool {
    text[..pos]
        .chars()
        .rev()
        .take_while(|&c| c != '\n')
        .all(char::is_whitespace)
}
