#!/usr/bin/env bash
# The training campaigns (helpers/recipes/campaign.py): trainings that outlive a session.
#   bash campaigns/campaign.sh start [NAME ...]   resume them in the background (all by default), one CPU
#                                                 thread each, nice 19, from a copy of helpers/ (so the work
#                                                 tree may change under them); logs in /tmp/campaign-NAME.log
#   bash campaigns/campaign.sh stop               SIGTERM: each saves its snapshot and stops
#   bash campaigns/campaign.sh status             the last validation of each
# Snapshots (NAME.pt) and learning curves (campaign-NAME.jsonl) stay here, in campaigns/, and are committed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python="$root/.venv/bin/python"
export WORKBENCH_DATA="${WORKBENCH_DATA:-$(cd "$root/.." && pwd)/shared/data}"
case "${1:-status}" in
start)
    shift || true
    names=("$@")
    if [ ${#names[@]} -eq 0 ]; then
        mapfile -t names < <("$python" -c "from helpers.recipes import campaign; print('\n'.join(sorted(campaign.CAMPAIGNS)))")
    fi
    copy="${CAMPAIGN_CODE:-/tmp/campaign-code}"
    rm -rf "$copy" && mkdir -p "$copy" && cp -r "$root/helpers" "$copy/"
    for name in "${names[@]}"; do
        if pgrep -f "helpers.recipes.campaign run $name" >/dev/null; then
            echo "$name is already running"
            continue
        fi
        (cd "$copy" && OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 setsid nohup nice -n 19 "$python" -m helpers.recipes.campaign \
            run "$name" --threads 1 --out "$root/campaigns" >>"/tmp/campaign-$name.log" 2>&1 &)
        sleep 1
        # its own session, so its own scheduler autogroup: "nice" alone only ranks threads within a group,
        # and an autogroup of nice 19 is what gives the CPU back to the session's own work
        for pid in $(pgrep -f "helpers.recipes.campaign run $name"); do
            echo 19 > "/proc/$pid/autogroup" 2>/dev/null || true
        done
        echo "$name started (log: /tmp/campaign-$name.log)"
    done
    ;;
stop)
    pkill -TERM -f "helpers.recipes.campaign run" || true
    while pgrep -f "helpers.recipes.campaign run" >/dev/null; do sleep 2; done
    echo "stopped; snapshots saved"
    ;;
status)
    "$python" -m helpers.recipes.campaign status --out "$root/campaigns"
    ;;
*)
    echo "usage: bash campaigns/campaign.sh start [NAME ...] | stop | status" >&2
    exit 2
    ;;
esac
