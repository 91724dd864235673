#!/usr/bin/env bash
# report.html in headless Chromium: it loads with no console message at all (the page has no
# script, so any message is an error) and no failed request, and its DOM holds every figure with
# its picture, every embedded image a data: URI. Exit 77 (ctest: skipped) without Chromium.
#   report_in_chromium.sh HERD SCENARIO WORK_DIR   (WORK_DIR absolute)
set -euo pipefail
herd=$1 scenario=$2 work=$3
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
  echo "SKIPPED: chromium is not installed (apt-get install chromium); the report was not loaded in a browser"
  exit 77
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work/profile"
"$herd" sim "$scenario" --out "$work/run" >"$work/sim.out" || fail "herd sim exited $?: $(cat "$work/sim.out")"
[[ -s $work/run/report.html ]] || fail "no report.html"

# The flags keep Chromium from reaching for the network (its own services) on a locked-down host.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0 \
  --dump-dom "file://$work/run/report.html" >"$work/dom.html" 2>"$work/chromium.log" ||
  fail "chromium exited $? (log: $work/chromium.log)"

if grep -E ':CONSOLE|net::ERR_|Failed to load' "$work/chromium.log"; then
  fail "console messages or failed loads above (log: $work/chromium.log)"
fi
grep -q '</html>' "$work/dom.html" || fail "no DOM dumped"
for f in convergence delay-cdf staleness messages herd; do
  # The figure's own markup up to its caption: an <svg> with drawing in it.
  figure=$(awk -v id="<figure id=\"figure-$f\">" 'index($0, id) {on = 1} on {print} on && /<\/figure>/ {exit}' "$work/dom.html")
  [[ -n $figure ]] || fail "figure $f is missing from the DOM"
  grep -q '<svg' <<<"$figure" || fail "figure $f has no picture"
  grep -Eq '<(path|line|image|circle)' <<<"$figure" || fail "figure $f has an empty picture"
done
grep -q '<image[^>]*href="data:image/png;base64,' "$work/dom.html" || fail "the heatmap's image is not embedded"
if grep -Eo '<image[^>]*href="[^"]*"' "$work/dom.html" | grep -v 'href="data:'; then
  fail "an image above is not embedded"
fi
echo "ok: report.html loaded in $("$browser" --version 2>/dev/null || echo chromium) with every figure and no console message"
