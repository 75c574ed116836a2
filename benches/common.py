"""Helpers the benchmark scripts share: the repository's paths, logging, metrics, reading
JSON lines, the machine's description, building `stance`, generating synthetic corpora and
the peers' virtual environment.

Imported by speed.py, scale.py, tweeteval_accuracy.py and selection_sim.py; not a script
itself. The Python standard library only.
"""

import datetime
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_DIR = os.path.join(REPO_ROOT, "benches")
OUT_DIR = os.path.join(BENCH_DIR, "out")
VENV_DIR = os.path.join(BENCH_DIR, ".venv")
DEFAULT_DATA_ROOT = os.path.normpath(os.path.join(REPO_ROOT, "..", "shared", "data", "tweeteval"))
STANCE_BIN = os.path.join(REPO_ROOT, "target", "release", "stance")

SKLEARN_PACKAGES = ["scikit-learn", "numpy", "scipy"]
# fasttext-wheel ships prebuilt wheels; plain `fasttext` has to compile (needs a C++ compiler).
FASTTEXT_PACKAGES = [["fasttext-wheel"], ["fasttext"]]


def log(msg):
    print("[%s] %s" % (datetime.datetime.now().strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- metrics

def f1_per_label(gold, pred, labels):
    """F1 of each label in `labels` (0 when precision+recall is 0, as sklearn's zero_division=0)."""
    if len(gold) != len(pred):
        raise ValueError("gold and predicted lengths differ: %d vs %d" % (len(gold), len(pred)))
    out = {}
    for lab in labels:
        tp = fp = fn = 0
        for g, p in zip(gold, pred):
            if p == lab and g == lab:
                tp += 1
            elif p == lab:
                fp += 1
            elif g == lab:
                fn += 1
        # F1 = 2TP / (2TP + FP + FN); identical to 2PR/(P+R), defined as 0 when TP = 0.
        denom = 2 * tp + fp + fn
        out[lab] = (2.0 * tp / denom) if denom else 0.0
    return out


def macro_f1(gold, pred):
    """Unweighted mean F1 over every label seen in gold or predictions (sklearn's average='macro',
    zero_division=0)."""
    labels = sorted(set(gold) | set(pred))
    f1 = f1_per_label(gold, pred, labels)
    return sum(f1.values()) / len(labels)


# --------------------------------------------------------------------------- data

def read_jsonl(path):
    """(texts, labels) of a JSON-lines file with `text` and `label` fields; blank lines skipped."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit("%s:%d: bad JSON: %s" % (path, n, e))
            texts.append(str(rec["text"]))
            labels.append(str(rec["label"]))
    return texts, labels


def corpus_command(args):
    """The command that writes a synthetic corpus (the `synthetic_corpus` example) to stdout."""
    return ["cargo", "run", "--release", "--quiet", "--example", "synthetic_corpus", "--"] + args


def generate_corpus(args, path):
    """Write the `synthetic_corpus` example's output for `args` to `path`, whole or not at all."""
    cmd = corpus_command(args)
    log("generating: %s > %s" % (shlex.join(cmd), os.path.relpath(path, REPO_ROOT)))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as out:
        r = subprocess.run(cmd, stdout=out, cwd=REPO_ROOT)
    if r.returncode != 0:
        os.remove(tmp)
        raise SystemExit("error: generating the synthetic corpus failed (exit %d)" % r.returncode)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- environment

def run_quiet(cmd, **kw):
    """subprocess.run with the output captured as text; None when the program cannot start."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, **kw)
    except OSError:
        return None


def git_commit():
    r = run_quiet(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT)
    if r is None or r.returncode != 0:
        return "unknown"
    commit = r.stdout.strip()
    # Tracked changes only (like `git describe --dirty`): untracked files do not make the tree dirty.
    d = run_quiet(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT)
    if d is not None and d.returncode == 0 and d.stdout.strip():
        commit += "-dirty"
    return commit


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def nproc():
    r = run_quiet(["nproc"])
    if r is not None and r.returncode == 0:
        return r.stdout.strip()
    return str(os.cpu_count())


def mem_total_gib():
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return "%.0f GiB" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return "unknown"


def loadavg():
    try:
        return "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        return "unknown"


# --------------------------------------------------------------------------- stance and the peers

def build(bin_dir):
    """Build, then copy the binary to bin_dir so that a concurrent rebuild of target/ cannot
    swap it (and its model format) out from under a run. Returns the copy's path."""
    log("building: cargo build --release")
    r = subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO_ROOT)
    if r.returncode != 0:
        raise SystemExit("error: cargo build --release failed (exit %d)" % r.returncode)
    if not os.path.isfile(STANCE_BIN):
        raise SystemExit("error: %s not found after the build" % STANCE_BIN)
    os.makedirs(bin_dir, exist_ok=True)
    copy = os.path.join(bin_dir, "stance")
    shutil.copy2(STANCE_BIN, copy)
    return copy


def peer_env():
    """The environment for the peers' processes."""
    env = dict(os.environ)
    # These two slow numpy's OpenBLAS down on this machine; unset for the peers only.
    for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(k, None)
    return env


def venv_python():
    return os.path.join(VENV_DIR, "bin", "python")


def ensure_venv(want_sklearn, want_fasttext):
    """Create benches/.venv if needed and install whichever peers are missing. Returns
    (python, {peer: error} for the peers that could not be installed)."""
    py = venv_python()
    env = peer_env()
    if not os.path.isfile(py):
        log("peers: creating %s" % os.path.relpath(VENV_DIR, REPO_ROOT))
        r = subprocess.run([sys.executable, "-m", "venv", VENV_DIR])
        if r.returncode != 0:
            raise SystemExit("error: python3 -m venv %s failed (is python3-venv installed?)" % VENV_DIR)

    def importable(mods):
        r = run_quiet([py, "-c", "import " + ", ".join(mods)], env=env)
        return r is not None and r.returncode == 0

    def pip(pkgs):
        log("peers: pip install %s into %s" % (" ".join(pkgs), os.path.relpath(VENV_DIR, REPO_ROOT)))
        return subprocess.run([py, "-m", "pip", "install", "--quiet"] + pkgs, env=env).returncode == 0

    status = {}
    if want_sklearn and not importable(["sklearn", "numpy", "scipy"]):
        if not pip(SKLEARN_PACKAGES) or not importable(["sklearn", "numpy", "scipy"]):
            status["sklearn"] = "could not install %s into %s" % (" ".join(SKLEARN_PACKAGES), VENV_DIR)
    if want_fasttext and not importable(["fasttext"]):
        for pkgs in FASTTEXT_PACKAGES:
            if pip(pkgs) and importable(["fasttext"]):
                break
        else:
            status["fasttext"] = "could not install fasttext-wheel or fasttext into %s" % VENV_DIR
    return py, status
