#!/usr/bin/env python3
"""Scale benchmark: `stance train` on synthetic corpora of growing size.

For each size (default 10,000, 100,000 and 1,000,000 documents; 10 classes, about 30
words each, seed 1) it generates the corpus with the `synthetic_corpus` example (kept in
benches/out/scale/ and reused when the generator's arguments are unchanged), then times

    stance train --data CORPUS --model M -q

(the defaults, no held-out data: one fit at the first C of the path, then the
training-data report) under GNU time, and prints a Markdown table of wall time, peak RSS
and the cost per document relative to the previous size, so linear growth reads as a
ratio near (or below) 1. The default number of ASGD epochs shrinks as the data grows (a
fixed budget of row visits, at least 2 epochs), so below about 50,000 documents a fit
visits more rows than proportional and the ratios there read low; the table shows the
epochs each fit ran.

    python3 benches/scale.py                         # 10k, 100k, 1M
    python3 benches/scale.py --sizes 10000,100000    # a quick check

Not part of the test suite; the standard library only. Outputs go to benches/out/
(gitignored): the table (scale.md), the raw numbers (scale.json), corpora and logs under
benches/out/scale/.
"""

import argparse
import datetime
import json
import os
import re
import shlex
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402  (the helpers the benchmark scripts share)
    OUT_DIR, corpus_command, cpu_model, generate_corpus, git_commit, loadavg, log, mem_total_gib,
    nproc,
)
from speed import build_stance, tail, timed  # noqa: E402  (timing as the speed benchmark does)

SCALE_DIR = os.path.join(OUT_DIR, "scale")


def corpus(n, classes, seed):
    """The corpus of n documents, generated unless an identical one is already there."""
    args = ["--documents", str(n), "--classes", str(classes), "--seed", str(seed)]
    path = os.path.join(SCALE_DIR, "synthetic-%d-k%d-seed%d.jsonl" % (n, classes, seed))
    stamp = path + ".args"
    cmd = corpus_command(args)
    if os.path.isfile(path) and os.path.isfile(stamp):
        with open(stamp, encoding="utf-8") as f:
            if f.read() == shlex.join(cmd):
                return path
    generate_corpus(args, path)
    with open(stamp, "w", encoding="utf-8") as f:
        f.write(shlex.join(cmd))
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000",
                    help="comma-separated document counts, smallest first (default: %(default)s)")
    ap.add_argument("--classes", type=int, default=10, help="number of classes (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=1, help="generator seed (default: %(default)s)")
    args = ap.parse_args()
    try:
        sizes = sorted(int(s) for s in args.sizes.split(","))
    except ValueError:
        raise SystemExit("error: --sizes must be comma-separated integers, e.g. 10000,100000")
    if not sizes or sizes[0] <= 0:
        raise SystemExit("error: --sizes needs at least one positive document count")

    os.makedirs(SCALE_DIR, exist_ok=True)
    stance_bin, version = build_stance()
    started = datetime.datetime.now(datetime.timezone.utc)
    rows = []
    for n in sizes:
        path = corpus(n, args.classes, args.seed)
        model = os.path.join(SCALE_DIR, "model-%d.stance" % n)
        cmd = [stance_bin, "train", "--data", path, "--model", model, "-q"]
        log("%d documents: %s" % (n, shlex.join(cmd)))
        rc, err, st = timed(cmd, os.path.join(SCALE_DIR, "train-%d.time" % n),
                            os.path.join(SCALE_DIR, "train-%d.txt" % n))
        if rc != 0:
            raise SystemExit("error: stance train on %d documents exited %d: %s" % (n, rc, tail(err)))
        epochs = None
        with open(os.path.join(SCALE_DIR, "train-%d.txt" % n), encoding="utf-8") as f:
            for line in f:
                m = re.search(r"(\d+) ASGD epochs", line)
                if line.startswith("final fit:") and m:
                    epochs = int(m.group(1))
        row = {"documents": n, "epochs": epochs, "input_mb": os.path.getsize(path) / 1e6, "wall_s": st["wall"],
               "peak_rss_mb": st["rss_mb"], "user_s": st["user"], "sys_s": st["sys"],
               "command": shlex.join(cmd)}
        log("%d documents: %.1f s wall, %.0f MB peak RSS" % (n, row["wall_s"], row["peak_rss_mb"] or 0))
        rows.append(row)

    lines = [
        "`python3 benches/scale.py --sizes %s` (%s UTC, commit %s, %s; %s, %s CPUs, %s; load %s):"
        % (",".join(map(str, sizes)), started.strftime("%Y-%m-%d %H:%M"), git_commit(), version,
           cpu_model(), nproc(), mem_total_gib(), loadavg()),
        "",
        "| documents | input (MB) | ASGD epochs | train wall (s) | peak RSS (MB) | µs per document "
        "| per-document cost vs the previous size |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    previous = None
    for r in rows:
        per_doc = r["wall_s"] / r["documents"]
        rel = "–" if previous is None else "%.2f" % (per_doc / previous)
        previous = per_doc
        lines.append("| %s | %.1f | %s | %.1f | %.0f | %.0f | %s |"
                     % ("{:,}".format(r["documents"]), r["input_mb"], r["epochs"] or "?", r["wall_s"],
                        r["peak_rss_mb"] or 0, per_doc * 1e6, rel))
    table = "\n".join(lines) + "\n"
    print(table)
    with open(os.path.join(OUT_DIR, "scale.md"), "w", encoding="utf-8") as f:
        f.write(table)
    with open(os.path.join(OUT_DIR, "scale.json"), "w", encoding="utf-8") as f:
        json.dump({"started": started.isoformat(), "version": version, "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
