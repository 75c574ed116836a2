#!/usr/bin/env python3
"""Side-by-side speed benchmark: `stance` against scikit-learn and fastText.

On the same machine in one run, for each data set (TweetEval emoji: train on `train`,
predict `val`; and a 100k-document synthetic corpus with a 10k held-out set), it trains
and predicts with

  * stance       default options: `stance train --data TRAIN --valid VAL --model M -q`
                 (the default model search over C, scored on VAL), then
                 `stance predict --model M --data VAL.txt --output-format labels`;
  * scikit-learn TfidfVectorizer(word 1-2-grams, sublinear_tf, min_df=2) +
                 LogisticRegression(max_iter=1000), C=1, no search;
  * fastText     supervised, `wordNgrams=2, epoch=5, lr=0.5, thread=2` (Python binding);

and prints, per data set, a Markdown table of training wall time, peak RSS, prediction
throughput and macro-F1, with each peer's ratios to stance. Every tool predicts the SAME
plain-text file (one validation text per line, newlines inside a text replaced by spaces);
macro-F1 is computed here, against the validation labels, from each tool's predictions of
that file.

    python3 benches/speed.py                       # everything (stance, sklearn, fastText)
    python3 benches/speed.py --only emoji --skip-fasttext
    python3 benches/speed.py --data-root /path/to/tweeteval

Not part of the test suite. Run from anywhere; paths are relative to the repository root.
TweetEval is read in place from ../shared/data/tweeteval (never copied into the
repository); the synthetic corpus is generated with the `synthetic_corpus` example into
benches/out/. All outputs go to benches/out/ (gitignored): the table (speed.md), the raw
numbers (speed.json), models, predictions and logs under benches/out/speed/.

The peers run in benches/.venv (gitignored), which this script creates and fills with pip
the first time (scikit-learn, numpy, scipy, fasttext-wheel); it re-invokes itself with that
venv's python and --worker. Each timed step runs under GNU time (/usr/bin/time) for wall
time and peak RSS. OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the peers'
environments only. The parent process uses the Python standard library only.
"""

import argparse
import datetime
import fcntl
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402  (the helpers the benchmark scripts share)
    DEFAULT_DATA_ROOT, OUT_DIR, REPO_ROOT, build, cpu_model, ensure_venv, generate_corpus,
    git_commit, loadavg, log, macro_f1, mem_total_gib, nproc, peer_env, read_jsonl, run_quiet,
)

WORK_DIR = os.path.join(OUT_DIR, "speed")
GNU_TIME = "/usr/bin/time"
TIME_FORMAT = "%e %M %U %S"  # wall s, peak RSS KiB, user s, system s

DATASETS = ["emoji", "synthetic"]
SYNTH_TRAIN = os.path.join(OUT_DIR, "synthetic-100k.jsonl")
SYNTH_VALID = os.path.join(OUT_DIR, "synthetic-10k-seed2.jsonl")
SYNTH_ARGS = {SYNTH_TRAIN: ["--documents", "100000", "--seed", "1"],
              SYNTH_VALID: ["--documents", "10000", "--seed", "2"]}

FASTTEXT_PARAMS = {"wordNgrams": 2, "epoch": 5, "lr": 0.5, "thread": 2}
FT_PREFIX = "__label__"

DECISION_RE = re.compile(r"decision rule: class-prior shift (adopted|not adopted) \(\S+ ([0-9.]+) when fitted "
                         r"on one half of the held-out data and scored on the other"
                         r"(?: \(mean of \d+ half splits\))?, ([0-9.]+) with plain argmax")
STAGE_RE = re.compile(r"^\[time\] (.*): ([0-9.]+) s$")


# --------------------------------------------------------------------------- data

def one_line(text):
    """A text on one line: CR and LF become spaces (the only line breaks all three tools split on)."""
    return text.replace("\r", " ").replace("\n", " ")


def read_lines(path):
    """The lines of a plain-text file written by write_lines (split on LF only)."""
    with open(path, encoding="utf-8") as f:
        data = f.read()
    if data.endswith("\n"):
        data = data[:-1]
    return data.split("\n")


def write_lines(path, lines):
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")


def dataset_paths(name, data_root):
    if name == "emoji":
        return (os.path.join(data_root, "emoji", "train.jsonl"), os.path.join(data_root, "emoji", "val.jsonl"))
    return (SYNTH_TRAIN, SYNTH_VALID)


def check_tweeteval(data_root):
    train, val = dataset_paths("emoji", data_root)
    missing = [p for p in (train, val) if not os.path.isfile(p)]
    if missing:
        raise SystemExit(
            "error: TweetEval emoji not found: %s\n"
            "Expected the shared data next to the repository (../shared/data/tweeteval/emoji/"
            "{train,val}.jsonl from the repository root); pass --data-root DIR to point elsewhere, "
            "or --only synthetic to skip it." % ", ".join(missing))


def generate_synthetic():
    """Write the 100k training corpus and the 10k held-out set. Regenerated on every run (it
    takes seconds), so that files left by an older generator are never measured."""
    for path, args in SYNTH_ARGS.items():
        generate_corpus(args, path)


# --------------------------------------------------------------------------- timing

def timed(cmd, time_file, stdout_path=None, env=None):
    """Run cmd under GNU time; return (returncode, stderr, {wall, rss_mb, user, sys, wall_monotonic})."""
    full = [GNU_TIME, "-f", TIME_FORMAT, "-o", time_file] + cmd
    t0 = time.monotonic()
    if stdout_path:
        with open(stdout_path, "w", encoding="utf-8") as out:
            r = subprocess.run(full, stdout=out, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO_ROOT)
    else:
        r = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                           cwd=REPO_ROOT)
    elapsed = time.monotonic() - t0
    stats = {"wall_monotonic": elapsed}
    try:
        with open(time_file, encoding="utf-8") as f:
            # GNU time writes "Command exited with non-zero status N" before the numbers on failure.
            fields = f.read().strip().splitlines()[-1].split()
        stats.update(wall=float(fields[0]), rss_mb=int(fields[1]) / 1024.0, user=float(fields[2]),
                     sys=float(fields[3]))
    except (OSError, IndexError, ValueError):
        stats.update(wall=elapsed, rss_mb=None, user=None, sys=None)
    return r.returncode, r.stderr, stats


def timed_median(n, cmd, time_file, stdout_path=None, env=None):
    """Run cmd n times under GNU time, one after another; return the run with the median wall
    (the lower middle one for even n) as timed() does, its stats also listing every run's wall
    ("walls"). The first failing run is returned as it is."""
    runs = []
    for _ in range(n):
        rc, err, st = timed(cmd, time_file, stdout_path, env)
        if rc != 0:
            return rc, err, st
        runs.append((rc, err, st))
    walls = [st["wall"] for _, _, st in runs]
    rc, err, st = sorted(runs, key=lambda r: r[2]["wall"])[(n - 1) // 2]
    st = dict(st, walls=walls, rss_mb=max((r[2]["rss_mb"] or 0) for r in runs) or None)
    return rc, err, st


def tail(text, n=1500):
    text = (text or "").strip()
    return text[-n:]


# --------------------------------------------------------------------------- stance

def build_stance():
    """Build and copy `stance` (common.build) into the work directory; returns the copy's path
    and its version line."""
    copy = build(os.path.join(WORK_DIR, "bin"))
    r = run_quiet([copy, "--version"])
    version = r.stdout.strip() if r is not None and r.returncode == 0 else "stance (version unknown)"
    return copy, version


def run_stance(stance_bin, ds, train, val, text_file, n_texts, repeat, train_repeat):
    d = os.path.join(WORK_DIR, ds)
    model = os.path.join(d, "stance.model")
    train_cmd = [stance_bin, "train", "--data", train, "--valid", val, "--model", model, "-q"]
    res = {"tool": "stance", "train_cmd": shlex.join(train_cmd)}
    log("%s: stance train (default options) ..." % ds)
    rc, err, st = timed_median(train_repeat, train_cmd, os.path.join(d, "stance.train.time"),
                               os.path.join(d, "stance.train.txt"))
    res["train"] = st
    if rc != 0:
        res["error"] = "stance train exited %d: %s" % (rc, tail(err))
        return res
    if err.strip():
        res["train_stderr"] = tail(err)
    with open(os.path.join(d, "stance.train.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith(("trained on", "final fit:")):
                res.setdefault("summary", []).append(line.strip())
            m = DECISION_RE.search(line)
            if m:
                res["prior_shift"] = {"adopted": m.group(1) == "adopted", "half_split": float(m.group(2)),
                                      "plain_argmax": float(m.group(3))}
    res["model_mb"] = os.path.getsize(model) / 1e6
    log("%s: stance train: %.1f s wall, %.0f MB peak RSS" % (ds, st["wall"], st["rss_mb"] or 0))

    # -v adds the tool's own stage times (model load, predicting) on standard error. Like the
    # peers, stance writes the labels (one per line); a second command, alternated with it,
    # writes its default JSON lines with every class probability, reported beside.
    pred_path = os.path.join(d, "stance.pred.txt")
    predict_cmd = [stance_bin, "predict", "-v", "--model", model, "--data", text_file,
                   "--output-format", "labels"]
    json_path = os.path.join(d, "stance.pred.jsonl")
    json_cmd = [stance_bin, "predict", "-v", "--model", model, "--data", text_file]
    res["predict_cmd"] = shlex.join(predict_cmd) + " > " + os.path.relpath(pred_path, REPO_ROOT)
    res["predict_json_cmd"] = shlex.join(json_cmd) + " > " + os.path.relpath(json_path, REPO_ROOT)
    runs, json_runs = [], []
    for i in range(repeat):
        for cmd, out_path, into in ((predict_cmd, pred_path, runs), (json_cmd, json_path, json_runs)):
            rc, err, st = timed(cmd, os.path.join(d, "stance.predict.time"), out_path)
            if rc != 0:
                res["error"] = "stance predict exited %d: %s" % (rc, tail(err))
                return res
            stages = {}
            for line in err.splitlines():
                m = STAGE_RE.match(line.strip())
                if m:
                    stages[m.group(1)] = float(m.group(2))
            st["stages"] = stages
            into.append(st)
    best = min(runs, key=lambda s: s["wall_monotonic"])
    res["predict_runs"] = runs
    res["predict_json_runs"] = json_runs
    # Whole run: the process, from start to exit (model load, read, vectorise, predict, write).
    res["predict_whole_s"] = best["wall_monotonic"]
    # Model in memory: the tool's own `predicting` stage (read the text file, vectorise, predict,
    # write), the best over the repeats.
    def best_stage(stage_runs):
        times = [s["stages"].get("predicting") for s in stage_runs if s["stages"].get("predicting") is not None]
        return min(times) if times else None
    res["predict_loaded_s"] = best_stage(runs)
    res["predict_json_loaded_s"] = best_stage(json_runs)
    loading = [v for s in runs for k, v in s["stages"].items() if k.startswith("loading")]
    res["model_load_s"] = min(loading) if loading else None
    res["predict_rss_mb"] = best["rss_mb"]
    preds = read_lines(pred_path)
    json_labels = []
    with open(json_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                json_labels.append(str(json.loads(line)["label"]))
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                res["error"] = "predict output line %d is not a JSON object with \"label\" (%s)" % (n, e)
                return res
    if json_labels != preds:
        res["error"] = "the JSON output's labels differ from the labels output (%d vs %d lines)" % (
            len(json_labels), len(preds))
        return res
    res["preds"] = preds
    return res


# --------------------------------------------------------------------------- peers (parent side)

def run_peer(py, tool, ds, train, val, text_file, ft_train, repeat, train_repeat):
    d = os.path.join(WORK_DIR, ds)
    me = os.path.abspath(__file__)
    env = peer_env()
    model = os.path.join(d, tool + (".bin" if tool == "fasttext" else ".pickle"))
    train_json = os.path.join(d, tool + ".train.json")
    train_cmd = [py, me, "--worker", tool + "-train", "--model", model, "--text", text_file, "--json", train_json]
    if tool == "sklearn":
        train_cmd += ["--train", train, "--valid", val]
    else:
        train_cmd += ["--train", ft_train]
    res = {"tool": tool, "train_cmd": shlex.join(train_cmd)}
    log("%s: %s train ..." % (ds, tool))
    rc, err, st = timed_median(train_repeat, train_cmd, os.path.join(d, tool + ".train.time"), env=env)
    res["train"] = st
    if rc != 0:
        res["error"] = "%s train worker exited %d: %s" % (tool, rc, tail(err))
        return res
    with open(train_json, encoding="utf-8") as f:
        res["train_inner"] = json.load(f)
    res["model_mb"] = os.path.getsize(model) / 1e6
    log("%s: %s train: %.1f s wall, %.0f MB peak RSS" % (ds, tool, st["wall"], st["rss_mb"] or 0))

    pred_path = os.path.join(d, tool + ".pred.txt")
    pred_json = os.path.join(d, tool + ".predict.json")
    predict_cmd = [py, me, "--worker", tool + "-predict", "--model", model, "--text", text_file,
                   "--out", pred_path, "--json", pred_json, "--repeat", str(repeat)]
    res["predict_cmd"] = shlex.join(predict_cmd)
    rc, err, st = timed(predict_cmd, os.path.join(d, tool + ".predict.time"), env=env)
    if rc != 0:
        res["error"] = "%s predict worker exited %d: %s" % (tool, rc, tail(err))
        return res
    with open(pred_json, encoding="utf-8") as f:
        inner = json.load(f)
    res["predict_inner"] = inner
    res["predict_process"] = st
    res["predict_rss_mb"] = st["rss_mb"]
    res["predict_loaded_s"] = inner["best_predict_s"]
    res["model_load_s"] = inner["best_load_s"]
    res["predict_whole_s"] = inner["best_load_s"] + inner["best_predict_s"]
    res["preds"] = read_lines(pred_path)
    return res


# --------------------------------------------------------------------------- workers (inside the venv)

def worker_sklearn_train(a):
    t_start = time.monotonic()
    import pickle
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    t = {"import_s": time.monotonic() - t_start}

    t0 = time.monotonic()
    xtr, ytr = read_jsonl(a.train)
    xva, _ = read_jsonl(a.valid)
    t["read_s"] = time.monotonic() - t0
    t0 = time.monotonic()
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    Xtr = vec.fit_transform(xtr)
    t["vectorise_s"] = time.monotonic() - t0
    t0 = time.monotonic()
    clf = LogisticRegression(max_iter=1000)  # C=1, lbfgs: sklearn's defaults, no search
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always", ConvergenceWarning)
        clf.fit(Xtr, ytr)
    t["fit_s"] = time.monotonic() - t0
    t0 = time.monotonic()
    clf.predict(vec.transform(xva))
    t["predict_valid_s"] = time.monotonic() - t0
    t0 = time.monotonic()
    with open(a.model, "wb") as f:
        pickle.dump((vec, clf), f, protocol=pickle.HIGHEST_PROTOCOL)
    t["save_s"] = time.monotonic() - t0
    t.update(n_features=int(Xtr.shape[1]), n_iter=int(max(clf.n_iter_)),
             converged=not any(issubclass(x.category, ConvergenceWarning) for x in w),
             total_in_process_s=time.monotonic() - t_start)
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump(t, f)


def worker_sklearn_predict(a):
    import pickle
    import sklearn  # noqa: F401  (import time is not part of the throughput)
    import numpy  # noqa: F401
    loads, predicts = [], []
    for _ in range(a.repeat):
        t0 = time.monotonic()
        with open(a.model, "rb") as f:
            vec, clf = pickle.load(f)
        t1 = time.monotonic()
        lines = read_lines(a.text)
        pred = clf.predict(vec.transform(lines))
        write_lines(a.out, [str(p) for p in pred])
        t2 = time.monotonic()
        loads.append(t1 - t0)
        predicts.append(t2 - t1)
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump({"load_s": loads, "predict_s": predicts, "best_load_s": min(loads),
                   "best_predict_s": min(predicts), "n": len(lines)}, f)


def ft_predict(model, lines):
    # The list form of predict returns plain lists; the single-string form calls
    # np.array(copy=False), which fastText 0.9.2 gets wrong under numpy 2.
    labels, _ = model.predict(lines)
    return [(lab[0][len(FT_PREFIX):] if lab and lab[0].startswith(FT_PREFIX) else (lab[0] if lab else ""))
            for lab in labels]


def worker_fasttext_train(a):
    t_start = time.monotonic()
    import fasttext
    t = {"import_s": time.monotonic() - t_start}
    t0 = time.monotonic()
    model = fasttext.train_supervised(input=a.train, verbose=0, **FASTTEXT_PARAMS)
    t["fit_s"] = time.monotonic() - t0
    t0 = time.monotonic()
    ft_predict(model, read_lines(a.text))
    t["predict_valid_s"] = time.monotonic() - t0
    t0 = time.monotonic()
    model.save_model(a.model)
    t["save_s"] = time.monotonic() - t0
    t.update(n_words=len(model.words), n_labels=len(model.labels), dim=model.get_dimension(),
             total_in_process_s=time.monotonic() - t_start)
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump(t, f)


def worker_fasttext_predict(a):
    import fasttext
    loads, predicts = [], []
    for _ in range(a.repeat):
        t0 = time.monotonic()
        model = fasttext.load_model(a.model)
        t1 = time.monotonic()
        lines = read_lines(a.text)
        write_lines(a.out, ft_predict(model, lines))
        t2 = time.monotonic()
        loads.append(t1 - t0)
        predicts.append(t2 - t1)
        del model
    with open(a.json, "w", encoding="utf-8") as f:
        json.dump({"load_s": loads, "predict_s": predicts, "best_load_s": min(loads),
                   "best_predict_s": min(predicts), "n": len(lines)}, f)


WORKERS = {"sklearn-train": worker_sklearn_train, "sklearn-predict": worker_sklearn_predict,
           "fasttext-train": worker_fasttext_train, "fasttext-predict": worker_fasttext_predict}


# --------------------------------------------------------------------------- report

def fmt(x, spec, none="–"):
    return none if x is None else format(x, spec)


def table(ds, info, results):
    base = next((r for r in results if r["tool"] == "stance" and "error" not in r), None)
    label = {"stance": "stance (defaults: word 1-2 + char 2-5, C searched on val%s)",
             "sklearn": "scikit-learn (word 1-2 TF-IDF + LR, C=1, no search)",
             "fasttext": "fastText (wordNgrams 2, epoch 5, lr 0.5, 2 threads)"}
    lines = ["### %s" % info["title"], "",
             "Train: `%s` (%d records); predict: %d texts of `%s` as plain text (one per line)."
             % (info["train_rel"], info["n_train"], info["n_val"], info["val_rel"]), "",
             "| tool | train wall (s) | peak RSS (MB) | predict texts/s | predict texts/s incl. model load "
             "| macro-F1 | wall ratio to stance | predict-throughput ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        name = label[r["tool"]]
        if r["tool"] == "stance":
            ps = r.get("prior_shift")
            name = name % ((", class-prior shift adopted" if ps and ps["adopted"] else "") if ps else "")
        if "error" in r:
            lines.append("| %s | failed: %s | | | | | | |" % (name, r["error"].splitlines()[0][:200]))
            continue
        n = info["n_val"]
        rate = n / r["predict_loaded_s"] if r.get("predict_loaded_s") else None
        rate_whole = n / r["predict_whole_s"] if r.get("predict_whole_s") else None
        r["rate"], r["rate_whole"] = rate, rate_whole
        if base is not None and r is not base:
            wall_ratio = fmt(r["train"]["wall"] / base["train"]["wall"], ".2f")
            rate_ratio = fmt(rate / base["rate"] if rate and base.get("rate") else None, ".2f")
        elif r is base:
            wall_ratio = rate_ratio = "1.00"
        else:
            wall_ratio = rate_ratio = "–"
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, fmt(r["train"]["wall"], ".1f"), fmt(r["train"]["rss_mb"], ".0f"), fmt(rate, ",.0f"),
            fmt(rate_whole, ",.0f"), fmt(r.get("macro_f1"), ".4f"), wall_ratio, rate_ratio))
    lines.append("")
    notes = []
    for r in results:
        if "error" in r:
            notes.append("- %s failed: %s" % (r["tool"], r["error"].replace("\n", " ")[:1500]))
            continue
        tr = r["train"]
        cpu = (tr["user"] or 0) + (tr["sys"] or 0) if tr.get("user") is not None else None
        s = "- %s: train CPU %s s (user+sys) for %s s wall (runs: %s s); model %.1f MB; predict peak RSS %s MB" % (
            r["tool"], fmt(cpu, ".1f"), fmt(tr["wall"], ".1f"), ", ".join("%.1f" % w for w in tr.get("walls", [])),
            r["model_mb"], fmt(r.get("predict_rss_mb"), ".0f"))
        s += "; model load %s s, prediction with the model loaded %s s" % (
            fmt(r.get("model_load_s"), ".3f"), fmt(r.get("predict_loaded_s"), ".3f"))
        if r["tool"] == "stance":
            s += "; `stance predict` process wall %s s" % fmt(r.get("predict_whole_s"), ".3f")
            s += "; writing JSON lines with every class probability instead of the labels: %s s loaded" % (
                fmt(r.get("predict_json_loaded_s"), ".3f"))
            if r.get("summary"):
                s += ". " + " / ".join(r["summary"])
            ps = r.get("prior_shift")
            if ps:
                s += (". Decision rule: class-prior shift %s (the tool's own half-split estimate %.4f vs %.4f "
                      "with plain argmax)" % ("adopted" if ps["adopted"] else "not adopted",
                                              ps["half_split"], ps["plain_argmax"]))
                if ps["adopted"]:
                    s += ("; its log-odds offsets are fitted on this same validation file, so the "
                          "macro-F1 here flatters stance a little")
        else:
            inner = r.get("train_inner", {})
            parts = ["%s %.1f s" % (k[:-2], v) for k, v in inner.items()
                     if k.endswith("_s") and k != "total_in_process_s"]
            s += "; in-process train stages (last run): " + ", ".join(parts)
            if r["tool"] == "sklearn":
                s += "; %d features, %d lbfgs iterations%s" % (
                    inner.get("n_features", 0), inner.get("n_iter", 0),
                    "" if inner.get("converged", True) else " (did NOT converge)")
            else:
                s += "; %d words, %d labels, dim %d" % (inner.get("n_words", 0), inner.get("n_labels", 0),
                                                       inner.get("dim", 0))
            pp = r.get("predict_process", {})
            s += "; predict worker process wall %s s (includes Python start-up and imports)" % fmt(
                pp.get("wall_monotonic"), ".2f")
        notes.append(s + ".")
    lines += notes
    lines.append("")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default=DEFAULT_DATA_ROOT,
                    help="TweetEval root holding emoji/{train,val}.jsonl (default: %(default)s)")
    ap.add_argument("--only", choices=DATASETS, help="run one data set only")
    ap.add_argument("--skip-sklearn", action="store_true", help="leave out the scikit-learn peer")
    ap.add_argument("--skip-fasttext", action="store_true", help="leave out the fastText peer")
    ap.add_argument("--repeat", type=int, default=3,
                    help="prediction runs per tool; the best is reported (default: %(default)s)")
    ap.add_argument("--train-repeat", type=int, default=3,
                    help="training runs per tool; the median wall is reported (default: %(default)s)")
    # Internal: run one peer step inside benches/.venv.
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    for flag in ("--train", "--valid", "--text", "--model", "--out", "--json"):
        ap.add_argument(flag, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        WORKERS[a.worker](a)
        return
    if a.repeat < 1 or a.train_repeat < 1:
        ap.error("--repeat and --train-repeat must be at least 1")
    if not os.access(GNU_TIME, os.X_OK):
        raise SystemExit("error: GNU time not found at %s (apt-get install time)" % GNU_TIME)

    command = "python3 " + shlex.join([os.path.relpath(os.path.abspath(__file__), REPO_ROOT)] + sys.argv[1:])
    datasets = [a.only] if a.only else DATASETS
    data_root = os.path.abspath(a.data_root)
    if "emoji" in datasets:
        check_tweeteval(data_root)
    os.makedirs(WORK_DIR, exist_ok=True)
    # One run at a time: two runs would overwrite each other's files and share the CPUs.
    lock = open(os.path.join(WORK_DIR, ".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit("error: another benches/speed.py run is in progress (%s is locked)" % lock.name)
    started = datetime.datetime.now().astimezone()
    load_start = loadavg()

    stance_bin, version = build_stance()
    if "synthetic" in datasets:
        generate_synthetic()
    want_sk, want_ft = not a.skip_sklearn, not a.skip_fasttext
    py, peer_status = (None, {})
    if want_sk or want_ft:
        py, peer_status = ensure_venv(want_sk, want_ft)

    titles = {"emoji": "TweetEval emoji (20 classes): train on `train`, predict `val`",
              "synthetic": "Synthetic corpus, 100k documents (10 classes): train on seed 1, "
                           "predict the 10k held-out set (seed 2)"}
    all_results, md_sections = {}, []
    for ds in datasets:
        train, val = dataset_paths(ds, data_root)
        d = os.path.join(WORK_DIR, ds)
        os.makedirs(d, exist_ok=True)
        xtr, ytr = read_jsonl(train)
        xva, gold = read_jsonl(val)
        # The shared prediction input: one validation text per line.
        text_file = os.path.join(d, "val.txt")
        write_lines(text_file, [one_line(x) for x in xva])
        ft_train = None
        if want_ft and "fasttext" not in peer_status:
            # fastText's own input format (untimed preparation, as a fastText user has it already).
            ft_train = os.path.join(d, "train.fasttext.txt")
            write_lines(ft_train, ["%s%s %s" % (FT_PREFIX, y.replace(" ", "_"), one_line(x))
                                   for x, y in zip(xtr, ytr)])
        del xtr
        info = {"title": titles[ds], "n_train": len(ytr), "n_val": len(gold),
                "train_rel": os.path.relpath(train, REPO_ROOT), "val_rel": os.path.relpath(val, REPO_ROOT)}
        results = [run_stance(stance_bin, ds, train, val, text_file, len(gold), a.repeat, a.train_repeat)]
        for tool, want in (("sklearn", want_sk), ("fasttext", want_ft)):
            if not want:
                continue
            if tool in peer_status:
                results.append({"tool": tool, "error": peer_status[tool]})
                continue
            results.append(run_peer(py, tool, ds, train, val, text_file, ft_train, a.repeat, a.train_repeat))
        for r in results:
            if "error" in r:
                log("%s: %s FAILED: %s" % (ds, r["tool"], r["error"].splitlines()[0]))
                continue
            preds = r.pop("preds")
            if len(preds) != len(gold):
                r["error"] = "%d predictions for %d validation texts" % (len(preds), len(gold))
                continue
            if r["tool"] == "fasttext":
                gold_cmp = [g.replace(" ", "_") for g in gold]
            else:
                gold_cmp = gold
            r["macro_f1"] = macro_f1(gold_cmp, preds)
            log("%s: %s macro-F1 %.4f" % (ds, r["tool"], r["macro_f1"]))
        md_sections += table(ds, info, results)
        all_results[ds] = {"info": info, "results": results}

    finished = datetime.datetime.now().astimezone()
    head = [
        "## Speed: stance vs scikit-learn vs fastText",
        "",
        "- date: %s (finished %s)" % (started.strftime("%Y-%m-%d %H:%M %Z"), finished.strftime("%H:%M %Z")),
        "- machine: %s CPUs (nproc), %s, %s RAM, %s; load average %s at the start, %s at the end" % (
            nproc(), cpu_model(), mem_total_gib(), platform.platform(), load_start, loadavg()),
        "- git commit: %s (%s)" % (git_commit(), version),
        "- command: `%s`" % command,
        "",
        "Train wall and peak RSS: the whole training process under GNU time (`%s`), run %d times in a "
        "row per tool: the median wall (every run's in the notes) and the largest peak RSS. stance: `stance train "
        "--data TRAIN --valid VAL --model M -q` (default options, so the model search over C with "
        "the validation file). scikit-learn: read JSONL, fit TF-IDF and LR, predict the validation "
        "texts, pickle the model. fastText: `train_supervised` on a `__label__X text` file written "
        "beforehand (not timed), predict the validation texts, save the model. The peers' times "
        "include Python start-up and imports (about a second)." % (TIME_FORMAT, a.train_repeat),
        "",
        "Prediction: every tool classifies the same plain-text file (the validation texts, one per line); "
        "best of %d runs. *predict texts/s* is with the model already in memory (stance: its own "
        "`predicting` stage from `stance predict -v --output-format labels`, which reads the file, "
        "vectorises, predicts and writes the labels, one per line; the peers: read the file, vectorise, "
        "predict, write the labels; stance's default JSON lines with every class probability are timed "
        "beside, in the notes). "
        "*incl. model load* adds loading the model file (stance: the `stance predict` process wall). "
        "Ratios are peer / stance: a wall ratio above 1 means the peer trains slower than stance, a "
        "throughput ratio above 1 means it predicts faster. macro-F1 is computed by this script from "
        "each tool's predictions of the text file against the validation labels." % a.repeat,
        "",
        "The machine is shared with other jobs, so the timings are indicative only.",
        "",
    ]
    md = "\n".join(head + md_sections)
    print(md)
    with open(os.path.join(OUT_DIR, "speed.md"), "w", encoding="utf-8") as f:
        f.write(md)
    with open(os.path.join(OUT_DIR, "speed.json"), "w", encoding="utf-8") as f:
        json.dump({"command": command, "started": started.isoformat(), "finished": finished.isoformat(),
                   "git_commit": git_commit(), "version": version, "datasets": all_results}, f, indent=1)
    log("wrote %s and %s" % (os.path.relpath(os.path.join(OUT_DIR, "speed.md"), REPO_ROOT),
                             os.path.relpath(os.path.join(OUT_DIR, "speed.json"), REPO_ROOT)))


if __name__ == "__main__":
    main()
