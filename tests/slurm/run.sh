#!/usr/bin/env bash
# The shipped Slurm scripts against a real Slurm: a one-node cluster on 127.0.0.1.
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge if they are missing, writes a
# single-node slurm.conf into a scratch folder, starts munged (with its own key and socket
# there), slurmctld and slurmd, submits deploy/slurm/run_array.sbatch as a 4-task array and
# deploy/slurm/merge.sbatch with --dependency=afterok, waits (bounded), and checks that the
# merged curves.csv and summary.csv equal a single `hsctsim run` byte for byte. The daemons
# it started are stopped by their PIDs on every exit, failure included.
#
# Needs root and apt-get (and Debian's mirrors): without them it says so and skips with
# exit 0, so that a laptop's CI does not fail for it; HSCTSIM_REQUIRE_SLURM=1 turns a skip
# into a failure. HSCTSIM_KEEP=1 keeps the scratch folder (logs, parts, outputs).
#
# Usage: tests/slurm/run.sh   (from anywhere; .ci/run calls it after the tests)

set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
started_at=$(date +%s)
PATIENTS=40000
SHARDS=4
FIXTURE=$repo/tests/fixtures/four_strategies.toml

say() { echo "[slurm test $(( $(date +%s) - started_at ))s] $*"; }

skip() {
    echo "SKIPPED: Slurm test — $*"
    if [[ ${HSCTSIM_REQUIRE_SLURM:-0} == 1 ]]; then
        echo "HSCTSIM_REQUIRE_SLURM=1: a skip is a failure" >&2
        exit 1
    fi
    exit 0
}

# ---- can this machine run it at all? -------------------------------------------------
[[ $(id -u) == 0 ]] || skip "needs root (to install packages and run slurmd); run as root to test the Slurm scripts"
command -v timeout >/dev/null || skip "needs coreutils' timeout"

export PATH=$PATH:/usr/sbin:/sbin
missing=()
for tool in slurmctld slurmd sbatch squeue sinfo scontrol scancel munged munge unmunge; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if (( ${#missing[@]} )); then
    command -v apt-get >/dev/null || skip "Slurm is not installed and there is no apt-get (Debian or Ubuntu) to install it"
    say "installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})"
    export DEBIAN_FRONTEND=noninteractive
    apt_log=$(mktemp)
    if ! timeout 300 apt-get update -qq >"$apt_log" 2>&1; then
        tail -5 "$apt_log"; rm -f "$apt_log"
        skip "apt-get update failed (no network to Debian's mirrors?)"
    fi
    if ! timeout 600 apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >>"$apt_log" 2>&1; then
        tail -20 "$apt_log"; rm -f "$apt_log"
        skip "apt-get install slurmctld slurmd slurm-client munge failed"
    fi
    rm -f "$apt_log"
    say "installed"
fi

# ---- the binary, built once; the jobs never compile ----------------------------------
say "cargo build --release"
(cd "$repo" && cargo build --release --quiet)
HSCTSIM=${CARGO_TARGET_DIR:-$repo/target}/release/hsctsim
[[ $HSCTSIM == /* ]] || HSCTSIM=$repo/$HSCTSIM
export HSCTSIM
"$HSCTSIM" --version

# ---- scratch folder, daemons, and their cleanup --------------------------------------
work=$(mktemp -d /tmp/hsctsim-slurm.XXXXXX)
chmod 755 "$work"
mkdir -p "$work"/{etc,state,spool,run,log,job}
conf=$work/etc/slurm.conf
export SLURM_CONF=$conf
started_pids=()   # daemons this script started, stopped on exit
jobs_submitted=()
passed=0

pid_of() { [[ -s $1 ]] && cat "$1"; }

# All descendants of a process (job steps of slurmd), from /proc, without pkill.
descendants() {
    local parent=$1 child
    for child in $(ps -o pid= --ppid "$parent" 2>/dev/null); do
        echo "$child"
        descendants "$child"
    done
}

stop_pid() {
    local pid=$1 name=$2 i
    kill -0 "$pid" 2>/dev/null || return 0
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "$name ($pid) did not stop on TERM within 5 s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
}

show_logs() {
    if [[ -s $work/run/slurmctld.pid ]]; then
        echo "===== sinfo / squeue / jobs"
        timeout 10 sinfo -N -l 2>&1 || true
        timeout 10 squeue -l 2>&1 || true
        for id in "${jobs_submitted[@]}"; do timeout 10 scontrol show job "$id" 2>&1 || true; done
    fi
    for f in "$work"/job/*.out; do
        [[ -e $f ]] || continue
        echo "===== $f"
        cat "$f"
    done
    for f in "$work"/log/*.log "$work"/munge/munged.log; do
        [[ -e $f ]] || continue
        echo "===== $f (last 40 lines)"
        tail -40 "$f" 2>/dev/null || true
    done
}

cleanup() {
    local status=$?
    set +e
    if (( ! passed )); then
        echo "Slurm test FAILED (exit $status); what Slurm saw:"
        show_logs
    fi
    if (( ${#jobs_submitted[@]} )); then
        timeout 10 scancel "${jobs_submitted[@]}" 2>/dev/null
    fi
    # Job steps are children of slurmd: stop them first, by PID, then the daemons, newest first.
    local slurmd_pid
    slurmd_pid=$(pid_of "$work/run/slurmd.pid")
    if [[ -n $slurmd_pid ]]; then
        for pid in $(descendants "$slurmd_pid"); do stop_pid "$pid" "job step"; done
    fi
    for (( i = ${#started_pids[@]} - 1; i >= 0; i-- )); do
        stop_pid "${started_pids[$i]%%:*}" "${started_pids[$i]#*:}"
    done
    if [[ ${HSCTSIM_KEEP:-0} == 1 ]]; then
        echo "kept $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until a pid file appears (daemons fork, then write it), records the PID.
wait_for_pid() {
    local file=$1 name=$2 i
    for i in $(seq 100); do
        if [[ -s $file ]] && kill -0 "$(cat "$file")" 2>/dev/null; then
            started_pids+=("$(cat "$file"):$name")
            say "$name started (pid $(cat "$file"))"
            return 0
        fi
        sleep 0.1
    done
    echo "$name did not start within 10 s" >&2
    return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local port
    for port in "$@" $(shuf -i 20000-29999 -n 20); do
        if port_free "$port"; then echo "$port"; return 0; fi
    done
    return 1
}

# munge with a key, socket and files of its own in the scratch folder: the test neither
# uses nor disturbs a munged the machine may already run.
munge_dir=$work/munge
mkdir -p "$munge_dir"
dd if=/dev/urandom of="$munge_dir/munge.key" bs=1 count=1024 status=none
chown -R munge:munge "$munge_dir"
chmod 711 "$munge_dir"   # munged requires others to reach its socket; the key stays 0400
chmod 400 "$munge_dir/munge.key"
munge_socket=$munge_dir/munge.socket
runuser -u munge -- munged --socket="$munge_socket" --key-file="$munge_dir/munge.key" \
    --pid-file="$munge_dir/munged.pid" --log-file="$munge_dir/munged.log" \
    --seed-file="$munge_dir/munged.seed"
wait_for_pid "$munge_dir/munged.pid" munged
timeout 5 bash -c "munge -n --socket='$munge_socket' | unmunge --socket='$munge_socket'" >/dev/null \
    || { echo "munged does not answer on $munge_socket" >&2; exit 1; }

host=$(hostname -s)
cpus=$(nproc)
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
ctld_port=$(free_port 6817)
slurmd_port=$(free_port 6818)
[[ $slurmd_port != "$ctld_port" ]] || slurmd_port=$(free_port $(( ctld_port + 1 )))
cat >"$conf" <<EOF
# One-node cluster for tests/slurm/run.sh (written by it; removed after the test).
ClusterName=hsctsimtest
SlurmctldHost=${host}(127.0.0.1)
SlurmctldPort=${ctld_port}
SlurmdPort=${slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=${munge_socket}
CryptoType=crypto/munge
MpiDefault=none
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
StateSaveLocation=${work}/state
SlurmdSpoolDir=${work}/spool
SlurmctldPidFile=${work}/run/slurmctld.pid
SlurmdPidFile=${work}/run/slurmd.pid
SlurmctldLogFile=${work}/log/slurmctld.log
SlurmdLogFile=${work}/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memory_mb} State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
say "slurm.conf for node ${host} (${cpus} CPUs, ${memory_mb} MB) on ports ${ctld_port}/${slurmd_port}"

slurmctld -i -f "$conf"
wait_for_pid "$work/run/slurmctld.pid" slurmctld
slurmd -f "$conf" -N "$host"
wait_for_pid "$work/run/slurmd.pid" slurmd

say "waiting for the node to be idle"
state=""
for i in $(seq 60); do
    state=$(timeout 10 sinfo -h -N -n "$host" -o %t 2>/dev/null || true)
    [[ $state == idle ]] && break
    sleep 1
done
[[ $state == idle ]] || { echo "node ${host} is '${state}', not idle, after 60 s" >&2; exit 1; }
say "node ${host} idle"

# ---- the user's commands, as the README gives them -----------------------------------
cd "$work/job"
# --cpus-per-task=1 on the command line overrides the script's 4: this node has $cpus.
array=$(timeout 60 sbatch --parsable --array=0-$(( SHARDS - 1 )) --cpus-per-task=1 \
    "$repo/deploy/slurm/run_array.sbatch" "$FIXTURE" parts --patients "$PATIENTS")
array=${array%%;*}
jobs_submitted+=("$array")
merge=$(timeout 60 sbatch --parsable --dependency=afterok:"$array" \
    "$repo/deploy/slurm/merge.sbatch" parts merged)
merge=${merge%%;*}
jobs_submitted+=("$merge")
say "submitted array job $array (${SHARDS} shards) and merge job $merge (afterok)"

deadline=$(( $(date +%s) + 300 ))
while :; do
    queued=$(timeout 10 squeue -h -j "$array,$merge" -o '%i %T %r' 2>/dev/null || true)
    [[ -z $queued ]] && break
    if grep -q DependencyNeverSatisfied <<<"$queued"; then
        echo "the merge can never start: a shard failed" >&2
        exit 1
    fi
    if (( $(date +%s) > deadline )); then
        echo "jobs still queued after 300 s:" >&2
        echo "$queued" >&2
        exit 1
    fi
    sleep 1
done
say "jobs left the queue"

# Every task and the merge must have completed (records stay in slurmctld for MinJobAge).
for id in "$array" "$merge"; do
    states=$(timeout 10 scontrol show job "$id" | grep -o 'JobState=[A-Z_]*' | sort | uniq -c)
    if [[ $(grep -vc 'JobState=COMPLETED' <<<"$states") != 0 ]]; then
        echo "job $id did not complete: $states" >&2
        exit 1
    fi
done
parts=$(ls parts | grep -c '^part-.*\.json$' || true)
[[ $parts == "$SHARDS" ]] || { echo "expected $SHARDS part files, found $parts" >&2; exit 1; }
grep -q "\"merged_from_shards\": $SHARDS" merged/manifest.json || {
    echo "merged/manifest.json does not say merged_from_shards: $SHARDS" >&2
    exit 1
}

# ---- the same run on one machine, byte for byte ----------------------------------------
"$HSCTSIM" run "$FIXTURE" --patients "$PATIENTS" --out single --quiet
for file in curves.csv summary.csv; do
    if ! cmp "single/$file" "merged/$file"; then
        echo "merged $file differs from the single run's" >&2
        diff "single/$file" "merged/$file" | head -20 >&2
        exit 1
    fi
done
say "merged curves.csv ($(wc -l <merged/curves.csv) lines) and summary.csv ($(wc -l <merged/summary.csv) lines) equal the single run byte for byte"
passed=1
echo "Slurm test passed in $(( $(date +%s) - started_at )) s"
