#!/usr/bin/env python3
"""Build data/framing.jsonl and data/furniture.jsonl from the seed articles.

The annotation lives here, in ANNOTATION below: for every seed file, an ordered
list of segments, each given by an *anchor* (the first characters of the
segment, which must occur in the file at or after the end of the previous
anchor) and either a (stance, topic) label or a furniture reason.

A segment runs from its anchor to the next anchor (or to the end of the file)
and is stripped of surrounding whitespace (Python str.strip(), which also strips
U+00A0). Offsets are therefore computed, never typed by hand.

Checks made before anything is written:
  * the first anchor is the first non-whitespace character of the file, so every
    non-whitespace character of every file is in exactly one row of
    framing.jsonl or furniture.jsonl;
  * no segment contains a line break (a paragraph / line break always ends a
    sentence);
  * text[start:end] == segment text, labels are from the fixed label sets.

Usage:  python3 data/build_framing.py          (from the repository root or data/)
        python3 data/build_framing.py --counts (print the count tables only)

Without --counts it also rewrites the counts section of GUIDE.md (between the
<!-- counts:begin --> and <!-- counts:end --> markers) from the new framing.jsonl.
"""
import json
import sys
from collections import Counter
from pathlib import Path

DATA = Path(__file__).resolve().parent

STANCES = ["confrontational", "cooperative", "neutral"]
TOPICS = [
    "ukraine-crimea",
    "syria",
    "election-interference",
    "sanctions-diplomats",
    "nato-europe",
    "relations-general",
    "other",
]

C, P, N = "confrontational", "cooperative", "neutral"
UK, SY, EL, SD, NE, RG, OT = TOPICS

FURN = "furniture"  # marker: ("anchor", FURN, why)

ANNOTATION = {
    "seeds/000_eb7b621716078803.txt": [
        ("The US Secretary of State Rex Tillerson has sent", C, NE),
        ("Speaking at the Woodrow Wilson Center", C, RG),
        ("\u201cWe will not stand for this", C, NE),
        ("Tillerson said he had warned Moscow", C, UK),
        ("The US and its allies have levied", C, UK),
        ("The United States has deployed a contingent", C, NE),
        ("The deployments have been supplemented", C, NE),
        ("Tillerson also claimed that Russia employs", C, EL),
        ("\u201cRussia can continue to isolate", C, RG),
        ("He also said that there was still an imminent", C, RG),
        ("Russia \"seeks to impose its will", C, RG),
        ("The US accuses Moscow of meddling in Syria.", C, SY),
        ("Russia has been helping Damascus", N, SY),
        ("Tillerson's remarks came despite", C, RG),
        ("Special Counsel Robert Mueller", N, EL),
    ],
    "seeds/001_41486dca4cf9b297.txt": [
        ("BRUSSELS (Reuters) -", FURN, "dateline"),
        ("U.S. Secretary of State Rex Tillerson said on Wednesday", C, UK),
        ("Speaking after a dinner where he discussed", C, RG),
        ("Trump said last month after meeting Putin", P, EL),
        ("That was despite U.S. intelligence", C, EL),
        ("At NATO, Tillerson criticized", C, EL),
        ("This stands as a significant obstacle", C, EL),
        ("At the NATO dinner with ministers", C, EL),
        ("Russia has denied meddling.", C, EL),
        ("Trump, whose former aides", P, RG),
        ("Tillerson, a former Exxon Mobil", N, OT),
        ("His trip to Europe this week", N, OT),
        ("[L8N1O63LC]", FURN, "wire code"),
        ("Tillerson stressed to ministers", C, UK),
        ("The conflict between Ukrainian forces", N, UK),
        ("Russia denies accusations it fomented", C, UK),
        ("People are still dying every day", N, UK),
        ("Tillerson, who in 2013 as head", P, UK),
        ("With an internationally-agreed ceasefire", N, UK),
        ("But Tillerson warned there was still", C, UK),
        ("We hope we can close those gaps", P, UK),
        ("Russia is keen to see the end", C, UK),
        ("Tillerson also cautioned against", C, RG),
        ("I think there is broad consensus", C, NE),
    ],
    "seeds/002_0a1aa9d853795c80.txt": [
        ("US recognizes 'poor' relation", P, SY),
        ("Washington, Dec 29 (IANS):", FURN, "dateline"),
        ("The United States, while maintaining", P, SY),
        ("Washington and Moscow remained widely", C, RG),
        ("Russian Foreign Minister Sergey Lavrov has denied", C, EL),
        ("The statement came after charges", N, EL),
        ("\"The United States today has a poor", C, RG),
        ("\"There cannot be business as usual", C, UK),
        ("Earlier this month, the United States has again", C, UK),
        ("Reacting to the US arms sale", C, UK),
        ("In the article reviewing the US foreign policy", P, SY),
        ("Tillerson acknowledged Russia's commitment", P, SY),
        ("Earlier this month, the latest round of Geneva", N, SY),
        ("In parallel with the Geneva talks", N, SY),
        ("The Astana talks achieved", N, SY),
        ("Top Stories", FURN, "navigation"),
        ("Leave a Comment", FURN, "comment form"),
        ("Title: US recognizes", FURN, "comment form"),
        ("You have 2000 characters left.", FURN, "comment form"),
        ("Disclaimer:", FURN, "disclaimer"),
        ("Please write your correct name", FURN, "disclaimer"),
        ("Please note that sending false messages", FURN, "disclaimer"),
        ("Hence, sending offensive comments", FURN, "disclaimer"),
    ],
    "seeds/003_b255b46507c57bdb.txt": [
        ("U.S. And Russia\u2019s Escalating Spat", C, RG),
        ("On Monday, Rex Tillerson", N, RG),
        ("Lately, relations between the two countries", C, EL),
        ("Following a lengthy meeting", C, EL),
        ("Although Russia has consistently maintained", C, EL),
        ("Tillerson further emphasized", P, EL),
        ("Meanwhile, in response to the allegation, Trump", C, SD),
        ("The bill passed through congress", N, SD),
        ("Meanwhile, in response to the allegation, President", C, SD),
        ("The bill passed through Congress", N, SD),
        ("Russia has not taken lightly", C, SD),
        ("The U.S. mission to Russia has been advised", C, SD),
        ("Furthermore, Tillerson broke the chain", P, SD),
        ("Tillerson acknowledged that he", N, SD),
        ("I asked several clarifying questions", N, SD),
        ("In the meantime, while there is no action", P, RG),
        ("\u201cI don\u2019t think it is useful", P, RG),
        ("\u201cThese are two very large countries", P, RG),
        ("Moreover, Russia\u2019s Foreign Secretary", P, RG),
        ("With that\u00a0said, it is evident", P, RG),
    ],
    "seeds/004_8fa593e0c1b877e9.txt": [
        ("Friday, 23 March 2018", FURN, "dateline"),
        ("Latest news", FURN, "navigation"),
        ("Main \u00bb Russian relations", FURN, "navigation"),
        ("Russian relations 'may be at an all-time low'", C, RG),
        ("15 April 2017", FURN, "dateline"),
        ("President Donald Trump declared", C, RG),
        ("Russian Federation had suspended that effort", C, SY),
        ("Putin has angrily rejected", C, SY),
        ("The President and Mr. Mattis", N, SY),
        ("Relations between the two powers", C, SY),
        ("\"Frankly, Putin is backing", C, SY),
        ("However, the Russian President and his officials", C, SY),
        ("Before Rex Tillerson even met", C, RG),
        ("That leaves substantial open ground", C, RG),
        ("Russia wants the U.S. to eliminate sanctions", C, UK),
        ("Mr Tillerson was greeted frostily", C, RG),
        ("But he said Wednesday the US doesn't have", P, SY),
        ("Lavrov said Moscow was hoping", C, SY),
        ("Russian Federation said the USA strike was illegal", C, SY),
        ("Tillerson's meeting with Putin comes after", C, RG),
        ("Mr Tillerson repeated the USA administration's", N, SY),
        ("\"And I think it's very bad", C, SY),
        ("\"We'll see. ", N, RG),
        ("We'll see the end result", P, RG),
        ("His administration is now under", N, EL),
    ],
}


def segments(source, items):
    text = (DATA / source).read_text(encoding="utf-8")
    first_nonws = len(text) - len(text.lstrip())
    positions = []
    pos = 0
    for item in items:
        anchor = item[0]
        i = text.find(anchor, pos)
        if i < 0:
            raise SystemExit(f"{source}: anchor not found after {pos}: {anchor!r}")
        positions.append(i)
        pos = i + len(anchor)
    if positions[0] != first_nonws:
        raise SystemExit(f"{source}: text before first anchor: {text[:positions[0]]!r}")
    out = []
    for k, item in enumerate(items):
        a = positions[k]
        b = positions[k + 1] if k + 1 < len(items) else len(text)
        chunk = text[a:b]
        seg = chunk.strip()
        assert chunk.startswith(seg), (source, item)
        start, end = a, a + len(seg)
        assert text[start:end] == seg
        if "\n" in seg or "\r" in seg:
            raise SystemExit(f"{source}: segment spans a line break: {seg!r}")
        if item[1] == FURN:
            out.append(("furniture", {"source": source, "start": start, "end": end,
                                      "text": seg, "why": item[2]}))
        else:
            stance, topic = item[1], item[2]
            assert stance in STANCES and topic in TOPICS, item
            out.append(("framing", {"source": source, "start": start, "end": end,
                                    "text": seg, "stance": stance, "topic": topic}))
    return out


def counts_table(path):
    rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]
    c = Counter((r["stance"], r["topic"]) for r in rows)
    head = "| stance \\ topic | " + " | ".join(TOPICS) + " | total |"
    sep = "|---" * (len(TOPICS) + 2) + "|"
    lines = [head, sep]
    for s in STANCES:
        cells = [c[(s, t)] for t in TOPICS]
        lines.append(f"| {s} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")
    tot = [sum(c[(s, t)] for s in STANCES) for t in TOPICS]
    lines.append("| **total** | " + " | ".join(map(str, tot)) + f" | **{sum(tot)}** |")
    lines.append("")
    lines.append("Per article (labelled rows by stance; furniture rows):")
    lines.append("")
    lines.append("| source | confrontational | cooperative | neutral | rows | furniture |")
    lines.append("|---|---|---|---|---|---|")
    furn_path = path.parent / "furniture.jsonl"
    furn = [json.loads(l) for l in furn_path.read_text(encoding="utf-8").splitlines() if l.strip()]
    fc = Counter(r["source"] for r in furn)
    sc = Counter((r["source"], r["stance"]) for r in rows)
    per_src = Counter(r["source"] for r in rows)
    for src in sorted(set(per_src) | set(fc)):
        cells = [sc[(src, s)] for s in STANCES]
        lines.append(f"| `{src}` | " + " | ".join(map(str, cells)) + f" | {per_src[src]} | {fc[src]} |")
    lines.append(f"| **total** | " + " | ".join(str(sum(sc[(x, s)] for x in per_src)) for s in STANCES)
                 + f" | **{len(rows)}** | **{len(furn)}** |")
    return "\n".join(lines), per_src


def update_guide(table):
    guide = DATA / "GUIDE.md"
    if not guide.exists():
        return
    g = guide.read_text(encoding="utf-8")
    b, e = "<!-- counts:begin -->", "<!-- counts:end -->"
    if b not in g or e not in g:
        raise SystemExit("GUIDE.md lacks the counts markers")
    head, rest = g.split(b, 1)
    _, tail = rest.split(e, 1)
    guide.write_text(head + b + "\n" + table + "\n" + e + tail, encoding="utf-8")


def main():
    if "--counts" in sys.argv:
        table, per_src = counts_table(DATA / "framing.jsonl")
        print(table)
        return
    framing, furniture = [], []
    for source, items in ANNOTATION.items():
        for kind, row in segments(source, items):
            (framing if kind == "framing" else furniture).append(row)
    with open(DATA / "framing.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for r in framing:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    with open(DATA / "furniture.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for r in furniture:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"framing rows: {len(framing)}; furniture rows: {len(furniture)}")
    table, per_src = counts_table(DATA / "framing.jsonl")
    print(table)
    update_guide(table)
    print("GUIDE.md counts section updated")


if __name__ == "__main__":
    main()
