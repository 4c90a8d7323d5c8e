#!/usr/bin/env bash
# Time every report page of `cargo xtask bench --only reports` (xtask/src/bench/reports.rs,
# PAGES) against a running `chorus serve`, the way the bench does: sign in as the seeded admin,
# one untimed fetch per page, then RUNS timed fetches (each a new connection), p50 and p95 by
# nearest rank. Prints a Markdown table row per page.
#
#   bench/scale/measure.sh 127.0.0.1:8123 bench@chorus.example bench-password-for-reports-42 [RUNS]
set -euo pipefail
addr=$1 email=$2 password=$3 runs=${4:-20}
jar=$(mktemp)
trap 'rm -f "$jar"' EXIT
csrf=$(curl -s -c "$jar" "http://$addr/dashboard/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
status=$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" -c "$jar" -H "Origin: http://$addr" \
    --data-urlencode "csrf=$csrf" --data-urlencode "email=$email" --data-urlencode "password=$password" \
    "http://$addr/dashboard/login")
[ "$status" = 303 ] || { echo "signing in answered $status" >&2; exit 1; }
last=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%Y-%m)
pages=(
    "/dashboard?site=demo"
    "/dashboard/fft?site=demo"
    "/dashboard/fft?site=demo&service=outpatients"
    "/dashboard/i-statements?site=demo"
    "/dashboard/decisions?site=demo"
    "/dashboard/comments?site=demo"
    "/dashboard/comments?site=demo&q=parking"
    "/dashboard/themes?site=demo"
    "/dashboard/equality?site=demo"
    "/dashboard/exports/fft-return?site=demo&month=$last"
    "/dashboard/exports/fft-return.csv?site=demo&month=$last"
)
echo "| page | status | p50 ms | p95 ms | slowest ms |"
echo "|---|---|---:|---:|---:|"
for p in "${pages[@]}"; do
    first=$(curl -s -o /dev/null -w '%{http_code}' --max-time 120 -b "$jar" "http://$addr$p")
    times=()
    for _ in $(seq 1 "$runs"); do
        out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 120 -b "$jar" "http://$addr$p")
        [ "${out% *}" = "$first" ] || { echo "$p answered ${out% *}, then $first" >&2; exit 1; }
        times+=("${out#* }")
    done
    printf '%s\n' "${times[@]}" | sort -g | awk -v p="$p" -v s="$first" -v n="$runs" '
        { t[NR] = $1 * 1000 }
        END {
            r50 = int(0.50 * n); if (r50 < 0.50 * n) r50++; if (r50 < 1) r50 = 1
            r95 = int(0.95 * n); if (r95 < 0.95 * n) r95++; if (r95 < 1) r95 = 1
            printf "| `%s` | %s | %.1f | %.1f | %.1f |\n", p, s, t[r50], t[r95], t[n]
        }'
done
