#!/usr/bin/env bash
# Wait until process PID uses less than a tenth of a core for two seconds (the bench's settle
# step: the server's background classifier and search indexing done); prints the seconds.
set -euo pipefail
pid=$1 hz=$(getconf CLK_TCK) t0=$(date +%s)
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
last=$(cpu)
while sleep 2; do
    now=$(cpu)
    [ $(( (now - last) * 10 )) -lt $(( hz * 2 )) ] && break
    last=$now
done
echo "at rest after $(( $(date +%s) - t0 )) s"
