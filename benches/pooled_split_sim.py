#!/usr/bin/env python3
"""How a small validation file pooled with large training data should choose C: by 5-fold
cross-validation over both, or on one stratified 10 % split of both.

`stance train --valid FILE` pools a validation file of fewer than 1,000 records with the
training data. Below `train::POOLED_SPLIT_FROM` records together, cross-validation chooses
C; from there, one split does, at about a fifth of the cost, and the chosen C is fitted
again on all the records. This script measures what the two cost in accuracy on the same
data. For each repetition r it draws `--valid-size` records (500 by default) of a held-out
file as the small validation file, keeps the rest of that file as the test set, trains
`stance` once per protocol and scores `stance predict` on the test set with macro-F1.
Each protocol trains on TRAIN+VAL, the training file with the drawn records appended (the
order in which `stance` pools them), so each does what the default does on either side of
the threshold, whatever the data's size:

  split       --valid-split 0.1 --refit   the default from POOLED_SPLIT_FROM records on
  split-only  --valid-split 0.1           the same without the refit
  cv          --cv 5                      the default below POOLED_SPLIT_FROM records
  valid-only  --data TRAIN --valid VAL --no-valid-pooling (the drawn records alone judge)

Data sets:
  emoji       TweetEval emoji: its training file (45,000 tweets), draws from its
              validation file (5,000)
  synthetic   the speed benchmark's synthetic corpus: 100,000 training documents (seed 1),
              draws from its 10,000 held-out ones (seed 2); generated into benches/out/

    python3 benches/pooled_split_sim.py emoji --reps 6
    python3 benches/pooled_split_sim.py synthetic --reps 3 --protocols split,cv

Prints every repetition's scores and, per protocol, the mean difference to `cv` (to the first
protocol when `cv` did not run) with its standard error. Not part of the test suite; TweetEval is read from
../shared/data/tweeteval (or --data-root) and never copied. Work files go to a temporary
directory. Uses the Python standard library only.
"""

import argparse
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (the helpers the benchmark scripts share)
import selection_sim as sim  # noqa: E402  (reading and writing records, training and predicting)
import speed  # noqa: E402  (the synthetic corpus's files and how to generate them)

PROTOCOLS = {
    "split": ["--data", "{all}", "--valid-split", "0.1", "--refit"],
    "split-only": ["--data", "{all}", "--valid-split", "0.1"],
    "cv": ["--data", "{all}", "--cv", "5"],
    "valid-only": ["--data", "{train}", "--valid", "{valid}", "--no-valid-pooling"],
}


def data_files(name, data_root):
    """(training file, file the validation records are drawn from)."""
    if name == "emoji":
        speed.check_tweeteval(data_root)
        return speed.dataset_paths("emoji", data_root)
    speed.generate_synthetic()
    return speed.dataset_paths("synthetic", data_root)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", choices=["emoji", "synthetic"])
    ap.add_argument("--protocols", default="split,split-only,cv,valid-only",
                    help="comma-separated, of: " + ", ".join(PROTOCOLS))
    ap.add_argument("--reps", type=int, default=6, help="repetitions (default: 6)")
    ap.add_argument("--valid-size", type=int, default=500,
                    help="records drawn as the validation file (default: 500)")
    ap.add_argument("--data-root", default=common.DEFAULT_DATA_ROOT)
    args = ap.parse_args()
    protocols = args.protocols.split(",")
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown:
        raise SystemExit("error: unknown protocol(s): %s" % ", ".join(unknown))

    train_path, draw_path = data_files(args.data, args.data_root)
    train, draws = sim.read_records(train_path), sim.read_records(draw_path)
    with tempfile.TemporaryDirectory(prefix="pooled-split-sim-") as work:
        stance_bin = common.build(work)
        files = {"dir": work, "train": train_path}
        for name in ("valid", "all", "test"):
            files[name] = os.path.join(work, name + (".txt" if name == "test" else ".jsonl"))
        common.log("data %s: %d training records, %d validation records drawn from %d, %d "
                   "repetitions, commit %s" % (args.data, len(train), args.valid_size,
                                               len(draws), args.reps, common.git_commit()))
        scores = {p: [] for p in protocols}
        for r in range(args.reps):
            order = list(range(len(draws)))
            random.Random(r).shuffle(order)
            valid = [draws[i] for i in order[:args.valid_size]]
            test = [draws[i] for i in order[args.valid_size:]]
            sim.write_jsonl(files["valid"], valid)
            sim.write_jsonl(files["all"], train + valid)
            sim.write_test_texts(files["test"], test)
            gold = [label for _, label in test]
            for p in protocols:
                predicted = sim.train_and_predict(stance_bin, PROTOCOLS[p], "macro-f1", files,
                                                  len(test))
                scores[p].append(100 * common.macro_f1(gold, predicted))
            print("rep %d: %s" % (r, ", ".join("%s %.2f" % (p, scores[p][-1]) for p in protocols)),
                  flush=True)
    sim.print_summary(scores, protocols, "cv" if "cv" in protocols else protocols[0])


if __name__ == "__main__":
    main()
