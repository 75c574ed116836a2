#!/usr/bin/env bash
# The main job: train the stance and topic models on the bundled framing set
# (data/framing.jsonl), estimate their accuracy by 5-fold cross-validation that
# keeps each article's sentences in one fold (--group-field source: with five
# articles, each fold holds one out), print the reports and the learning curves
# (how the held-out score grows with the number of articles fitted on), and
# write the models to models/.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
stance=target/release/stance
for task in stance topic; do
    echo "=== ${task} (data/framing.jsonl, label field \"${task}\") ==="
    "$stance" train --data data/framing.jsonl --label-field "$task" \
        --cv 5 --group-field source --seed 42 --metric macro-f1 --learning-curve \
        --model "models/framing-${task}.stance" "$@"
    echo
done
