#!/usr/bin/env bash
# Browser check of the HTML evaluation report: train a small model on data/framing.jsonl with
# --report, open report.html in headless Chromium, check from the rendered DOM that the three
# charts (and the two of a `compare --report` page) were laid out with a non-zero size (the
# page's own script writes each chart's size into <body data-svg-sizes="…">), and save a
# screenshot.
#
#   tests/browser/check_report.sh [SCREENSHOT]   # default docs/report-screenshot.png
#
# Needs Chromium (Debian's `chromium` package; CHROMIUM=/path overrides /usr/bin/chromium);
# prints that the check is skipped and exits 0 when it is absent. No network is used: the
# report is self-contained, and Chromium runs with its background networking off.
set -euo pipefail
cd "$(dirname "$0")/../.."

chromium=${CHROMIUM:-/usr/bin/chromium}
screenshot=${1:-docs/report-screenshot.png}
case "$screenshot" in
/*) ;;
*) screenshot="$PWD/$screenshot" ;;
esac
if [ ! -x "$chromium" ]; then
    echo "browser check skipped: $chromium is not installed"
    exit 0
fi

cargo build --quiet --bin stance
work=target/browser-check
rm -rf "$work"
mkdir -p "$work"
# Relative paths, so the page (and the screenshot) is the same on every machine.
./target/debug/stance train --data data/framing.jsonl --label-field stance --cv 5 \
    --model "$work/framing-stance.stance" --report "$work/report" --quiet >"$work/train.txt"
page="file://$PWD/$work/report/report.html"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
browse() {
    timeout 180 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$profile" "$@" 2>>"$work/chromium.log"
}

# Check that every chart named after PAGE (a file:// URL) rendered: a non-zero size and at
# least 20 elements, from the sizes the page's own script reports. The DOM goes to DOM.
check_charts() {
    local page=$1 dom=$2 sizes entry chart
    shift 2
    browse --dump-dom "$page" >"$dom"
    sizes=$(sed -n 's/.*data-svg-sizes="\([^"]*\)".*/\1/p' "$dom" | head -n 1)
    if [ -z "$sizes" ]; then
        echo "browser check FAILED: the page's script did not report chart sizes (see $dom, $work/chromium.log)"
        return 1
    fi
    echo "rendered charts (id:WIDTHxHEIGHT:elements): $sizes"
    for chart in "$@"; do
        entry=$(tr ' ' '\n' <<<"$sizes" | grep "^$chart:" || true)
        if [[ ! "$entry" =~ ^$chart:([0-9]+)x([0-9]+):([0-9]+)$ ]] ||
            [ "${BASH_REMATCH[1]}" -eq 0 ] || [ "${BASH_REMATCH[2]}" -eq 0 ] || [ "${BASH_REMATCH[3]}" -lt 20 ]; then
            echo "browser check FAILED: chart $chart did not render: '${entry:-missing}'"
            status=1
        fi
    done
    return "$status"
}

status=0
check_charts "$page" "$work/dom.html" confusion per-class reliability || exit 1
for section in "Most confidently misclassified" "Top-weighted n-grams per class" "bootstrap"; do
    if ! grep -q "$section" "$work/dom.html"; then
        echo "browser check FAILED: no '$section' in the rendered page"
        status=1
    fi
done
[ "$status" -eq 0 ] || exit 1

# The comparison page of `stance compare --report`: its two charts render too.
./target/debug/stance train --data data/framing.jsonl --label-field stance --cv 5 --c 0.1 \
    --model "$work/framing-stance-c0.1.stance" --quiet >/dev/null
./target/debug/stance compare --model "$work/framing-stance.stance" \
    --model "$work/framing-stance-c0.1.stance" --data data/framing.jsonl --label-field stance \
    --report "$work/comparison" --quiet >"$work/compare.txt"
check_charts "file://$PWD/$work/comparison/report.html" "$work/comparison-dom.html" \
    differences per-class-f1 || exit 1
[ "$status" -eq 0 ] || exit 1

mkdir -p "$(dirname "$screenshot")"
rm -f "$screenshot"
browse --hide-scrollbars --window-size=1280,2000 --screenshot="$screenshot" "$page" >/dev/null
if [ ! -s "$screenshot" ] || [ "$(head -c 8 "$screenshot" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
    echo "browser check FAILED: no PNG screenshot at $screenshot (see $work/chromium.log)"
    exit 1
fi
echo "browser check passed: 3 charts and 2 comparison charts rendered; screenshot ${screenshot#"$PWD/"} ($(wc -c <"$screenshot") bytes)"
