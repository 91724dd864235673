#!/usr/bin/env bash
# herd sim renders the plots and report.html by default and --no-plots skips them, without
# changing the run's own files; herd plot re-renders a run directory to the same bytes, says how
# to render without gnuplot, and refuses a directory that is not a run (exit 2).
#   cli_plots.sh HERD SCENARIO WORK_DIR
set -euo pipefail
herd=$1 scenario=$2 work=$3
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work"
mkdir -p "$work"

"$herd" sim "$scenario" --out "$work/a" >"$work/a.out" || fail "herd sim exited $?"
grep -q '^plots: .*report: ' "$work/a.out" || fail "herd sim printed no plots line: $(cat "$work/a.out")"
for f in convergence delay-cdf staleness messages; do
  [[ -s $work/a/plots/$f.png && -s $work/a/plots/$f.svg && -s $work/a/plots/$f.gp ]] || fail "no $f.png, .svg and .gp"
done
[[ -s $work/a/report.html ]] || fail "no report.html"

"$herd" sim "$scenario" --out "$work/b" --no-plots >"$work/b.out" || fail "herd sim --no-plots exited $?"
[[ ! -e $work/b/plots && ! -e $work/b/report.html ]] || fail "--no-plots wrote plots"
! grep -q '^plots:' "$work/b.out" || fail "--no-plots printed a plots line"
for f in summary.json timeline.jsonl updates.csv; do
  cmp -s "$work/a/$f" "$work/b/$f" || fail "$f differs with and without plots"
done

"$herd" plot "$work/b" >"$work/plot.out" || fail "herd plot exited $?"
for f in convergence delay-cdf staleness messages; do
  for ext in png svg gp; do
    cmp -s "$work/a/plots/$f.$ext" "$work/b/plots/$f.$ext" || fail "$f.$ext differs between herd sim and herd plot"
  done
done
cmp -s "$work/a/report.html" "$work/b/report.html" || fail "report.html differs between herd sim and herd plot"

HERD_GNUPLOT=none "$herd" plot "$work/b" >"$work/none.out" || fail "herd plot without gnuplot exited $?"
[[ $(wc -l <"$work/none.out") -eq 1 ]] || fail "more than one line without gnuplot: $(cat "$work/none.out")"
grep -q 'gnuplot not found.*render with: cd .* && gnuplot \*.gp' "$work/none.out" || fail "no render hint: $(cat "$work/none.out")"
(cd "$work/b/plots" && gnuplot ./*.gp) || fail "the written scripts do not render"
cmp -s "$work/a/plots/staleness.png" "$work/b/plots/staleness.png" || fail "the scripts rendered other pictures"

set +e
"$herd" plot "$work/missing" >/dev/null 2>"$work/missing.err"
code=$?
set -e
[[ $code -eq 2 ]] || fail "herd plot on a missing directory exited $code, not 2"
grep -q 'summary.json' "$work/missing.err" || fail "no file named: $(cat "$work/missing.err")"
echo "ok"
