#!/usr/bin/env python3
"""Model-selection simulation on TweetEval: how training protocols score on a held-out test set.

TweetEval's test split is held back, and a validation score cannot judge a protocol that
trains on the validation file (as `stance train` does by default with a small one). So
this script makes its own test sets: for each repetition r and each model of a task (each
stance target), it pools the train and validation splits, holds out a stratified 30 % as a
test set, splits the rest 9:1 into training and validation (TweetEval's own proportions),
trains `stance` once per protocol on those, predicts the test set, and scores it with the
task's official metric (stance: the five targets' predictions pooled). It prints each
repetition's scores and, per protocol, the mean difference to the first one with its
standard error.

    python3 benches/selection_sim.py stance --reps 20
    python3 benches/selection_sim.py emoji --protocols valid-only,refit --reps 6

Protocols (each a `stance train` command on the repetition's files, `--metric` the task's):
  defaults    --data TRAIN --valid VAL
  valid-only  --data TRAIN --valid VAL --no-valid-pooling
  refit       --data TRAIN --valid VAL --no-valid-pooling --refit
  no-shift    --data TRAIN --valid VAL --no-valid-pooling --no-prior-shift
  cv-train    --data TRAIN --cv 5                  (the validation records unused)
  cv-all      --data TRAIN+VAL --cv 5

A protocol can carry extra `stance train` options after a colon, separated by spaces:
`defaults:--min-df 1` is the defaults with `--min-df 1` (quote it in the shell).

`--test-from train` and `--test-from valid` keep the task's own files apart instead of
pooling them, to see how what a validation file decides transfers when it is a different
sample from the training file (as TweetEval emoji's is): with `train`, the test set is 30 %
of the training file and the whole validation file is the validation set (test data drawn
like the training data); with `valid`, the test set is 30 % of the validation file, the
rest of it is the validation set and the whole training file is trained on (test data
drawn like the validation data). Either way a test record whose text is also in the
training or validation records is dropped.

    python3 benches/selection_sim.py emoji --test-from train --protocols valid-only,no-shift --reps 3

The splits depend only on the repetition number, so every protocol, and every run of the
script, sees the same ones. Nothing here is part of the test suite; TweetEval is read from
../shared/data/tweeteval (or --data-root) and never copied. Work files go to a temporary
directory. Uses the Python standard library only.
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (the helpers the benchmark scripts share)
import tweeteval_accuracy as bench  # noqa: E402  (TweetEval's tasks, files and official metrics)

PROTOCOLS = {
    "defaults": ["--data", "{train}", "--valid", "{valid}"],
    "valid-only": ["--data", "{train}", "--valid", "{valid}", "--no-valid-pooling"],
    "refit": ["--data", "{train}", "--valid", "{valid}", "--no-valid-pooling", "--refit"],
    "no-shift": ["--data", "{train}", "--valid", "{valid}", "--no-valid-pooling", "--no-prior-shift"],
    "cv-train": ["--data", "{train}", "--cv", "5"],
    "cv-all": ["--data", "{all}", "--cv", "5"],
}
TEST_FRACTION = 0.3
VALID_FRACTION = 0.1


def read_records(path):
    texts, labels = common.read_jsonl(path)
    return list(zip(texts, labels))


def stratified_split(records, fraction, rng):
    """(held, rest): `fraction` of each label's records, shuffled by `rng`."""
    by_label = collections.defaultdict(list)
    for rec in records:
        by_label[rec[1]].append(rec)
    held, rest = [], []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        k = round(len(group) * fraction)
        held += group[:k]
        rest += group[k:]
    rng.shuffle(held)
    rng.shuffle(rest)
    return held, rest


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as f:
        for text, label in records:
            f.write(json.dumps({"text": text, "label": label}) + "\n")


def protocol_args(protocol):
    """`stance train` options of a protocol: a PROTOCOLS name, optionally `:` and extra options."""
    name, _, extra = protocol.partition(":")
    if name not in PROTOCOLS:
        raise SystemExit("error: unknown protocol %r; choose from %s" % (name, ",".join(PROTOCOLS)))
    return PROTOCOLS[name] + extra.split()


def write_test_texts(path, records):
    """The texts of (text, label) `records`, one per line, as `stance predict` reads them."""
    with open(path, "w", encoding="utf-8") as f:
        for text, _ in records:
            f.write(" ".join(text.split()) + "\n")


def train_and_predict(stance_bin, train_args, metric, files, n_test):
    """`stance train` with `train_args` (which may name `files`' paths as `{train}` and so on),
    then `stance predict` of `files["test"]`; the predicted labels."""
    model = os.path.join(files["dir"], "m.stance")
    args = [a.format(**files) for a in train_args]
    subprocess.run([stance_bin, "train", *args, "--model", model, "--metric", metric, "-q"],
                   check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([stance_bin, "predict", "--model", model, "--data", files["test"],
                          "--output-format", "labels"],
                         check=True, capture_output=True, text=True).stdout.splitlines()
    if len(out) != n_test:
        raise SystemExit("error: %d predictions for %d test records" % (len(out), n_test))
    return out


def print_summary(scores, protocols, base):
    """Each protocol's mean score, and each other protocol's mean difference to `base`."""
    for p in protocols:
        print("%s: mean %.2f" % (p, sum(scores[p]) / len(scores[p])))
    for p in protocols:
        if p == base:
            continue
        diffs = [b - a for a, b in zip(scores[base], scores[p])]
        mean = sum(diffs) / len(diffs)
        sd = (sum((d - mean) ** 2 for d in diffs) / max(1, len(diffs) - 1)) ** 0.5
        print("%s - %s: %+.2f points (sd %.2f, standard error %.2f, %d repetitions)"
              % (p, base, mean, sd, sd / len(diffs) ** 0.5, len(diffs)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("task", choices=bench.TASKS)
    ap.add_argument("--protocols", default="valid-only,defaults",
                    help="comma-separated, the first is the baseline (default: valid-only,defaults); "
                         "choose from " + ",".join(PROTOCOLS))
    ap.add_argument("--reps", type=int, default=10, help="repetitions (default: 10)")
    ap.add_argument("--pool-size", type=int, default=None,
                    help="use a stratified random N of each model's train + val records (default: all), "
                         "to see how a protocol fares on less data")
    ap.add_argument("--test-from", choices=["pool", "train", "valid"], default="pool",
                    help="where the test set comes from: the pooled train + val records (default), "
                         "the training file alone, or the validation file alone (see above)")
    ap.add_argument("--data-root", default=common.DEFAULT_DATA_ROOT)
    args = ap.parse_args()
    if args.test_from != "pool" and args.pool_size is not None:
        raise SystemExit("error: --pool-size works with --test-from pool only")
    protocols = [p.strip() for p in args.protocols.split(",") if p.strip()]
    if not protocols:
        raise SystemExit("error: no protocol given; choose from %s" % ",".join(PROTOCOLS))
    for p in protocols:
        protocol_args(p)
    bench.check_data([args.task], args.data_root)
    metric = bench.METRIC[args.task]

    with tempfile.TemporaryDirectory(prefix="selection-sim-") as work:
        stance_bin = common.build(work)
        print("task %s, protocols %s, %d repetitions, %s, test set from %s, commit %s"
              % (args.task, ",".join(protocols), args.reps,
                 "all records" if args.pool_size is None else "pools of %d records" % args.pool_size,
                 args.test_from, common.git_commit()), flush=True)
        scores = collections.defaultdict(list)
        for rep in range(args.reps):
            gold = []
            predicted = collections.defaultdict(list)
            for name, train_path, valid_path in bench.units(args.task, args.data_root):
                rng = random.Random(1000 * rep + 7)
                if args.test_from == "pool":
                    records = read_records(train_path) + read_records(valid_path)
                    if args.pool_size is not None and args.pool_size < len(records):
                        records, _ = stratified_split(records, args.pool_size / len(records), rng)
                    test, rest = stratified_split(records, TEST_FRACTION, rng)
                    valid, train = stratified_split(rest, VALID_FRACTION, rng)
                else:
                    train, valid = read_records(train_path), read_records(valid_path)
                    if args.test_from == "train":
                        test, train = stratified_split(train, TEST_FRACTION, rng)
                    else:
                        test, valid = stratified_split(valid, TEST_FRACTION, rng)
                    seen = {text.strip() for text, _ in train + valid}
                    test = [rec for rec in test if rec[0].strip() not in seen]
                files = {"dir": work, "train": os.path.join(work, "train.jsonl"),
                         "valid": os.path.join(work, "valid.jsonl"),
                         "all": os.path.join(work, "all.jsonl"), "test": os.path.join(work, "test.txt")}
                write_jsonl(files["train"], train)
                write_jsonl(files["valid"], valid)
                write_jsonl(files["all"], train + valid)
                write_test_texts(files["test"], test)
                gold += [label for _, label in test]
                for p in protocols:
                    predicted[p] += train_and_predict(stance_bin, protocol_args(p), metric,
                                                      files, len(test))
            for p in protocols:
                scores[p].append(100 * bench.official_score(args.task, gold, predicted[p]))
            print("rep %d: %s" % (rep, ", ".join("%s %.2f" % (p, scores[p][-1]) for p in protocols)),
                  flush=True)
    print_summary(scores, protocols, protocols[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
