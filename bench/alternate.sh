#!/usr/bin/env bash
# Runs `herd bench` with two builds in turns and prints each run and the medians: this machine's
# speed moves by a third within minutes, so only runs taken in turns compare.
#   bench/alternate.sh BASE_HERD NEW_HERD [ROUNDS] [-- herd bench options]
# e.g. bench/alternate.sh /tmp/herd-before build/cli/herd 3 -- --start --seconds 5 --pipeline 2
set -euo pipefail
if [[ $# -lt 2 ]]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
fi
base=$1 new=$2
shift 2
rounds=3
if [[ $# -gt 0 && $1 != -- ]]; then rounds=$1; shift; fi
[[ $# -gt 0 && $1 == -- ]] && shift
args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(--start --seconds 5)
for bin in "$base" "$new"; do
    [[ -x $bin ]] || { echo "alternate.sh: $bin: not an executable" >&2; exit 2; }
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "alternate.sh: rounds must be a positive number" >&2; exit 2; }

# One run: "<requests/s> <p99 ms> <farthest p50 ms>" (the farthest from the origin taking the
# update when the bench watched the servers, else as asked by WHATSAT).
run() {
    "$1" bench "${args[@]}" 2>/dev/null | awk '
        /requests/ { for (i = 1; i <= NF; ++i) if ($i ~ /^\([0-9]+\/s\),?$/) { rate = $i; gsub(/[^0-9]/, "", rate) } }
        /latency ms/ { p99 = $6 }
        /taking it/ { far = $(NF-4) }
        /asked by WHATSAT/ { far = $(NF-4) }
        END { if (rate == "") exit 1; printf "%s %s %s\n", rate, p99, (far == "" ? "-" : far) }'
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.10g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
printf '%-6s %-6s %12s %9s %14s\n' round build "IAMAT/s" "p99 ms" "farthest ms"
for ((i = 1; i <= rounds; ++i)); do
    for which in base new; do
        bin=$base
        [[ $which == new ]] && bin=$new
        line=$(run "$bin") || { echo "alternate.sh: $bin bench printed no figures" >&2; exit 1; }
        read -r rate p99 far <<<"$line"
        printf '%-6s %-6s %12s %9s %14s\n' "$i" "$which" "$rate" "$p99" "$far"
        echo "$which $rate $p99 $far" >>"$results"
    done
done
for which in base new; do
    printf 'median %-6s %12s %9s %14s\n' "$which" \
        "$(awk -v w="$which" '$1 == w { print $2 }' "$results" | median)" \
        "$(awk -v w="$which" '$1 == w { print $3 }' "$results" | median)" \
        "$(awk -v w="$which" '$1 == w && $4 != "-" { print $4 }' "$results" | median)"
done
