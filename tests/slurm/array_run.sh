#!/usr/bin/env bash
# array_run.sh BIN SRC_DIR — a real Slurm job array of initscope shards on this machine: starts munged,
# slurmctld and slurmd from a private slurm.conf in a temporary folder (no system file touched,
# private ports), submits docker/slurm-array.sh as a 4-task array for a small sweep, waits, merges, and
# compares byte for byte with the unsharded run. Everything it started is stopped at the end.
# Exit 0: identical; 77: Slurm cannot run here (the reason on stdout); other: failure.
set -uo pipefail
bin=$(realpath "$1")
src=$(realpath "$2")
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (slurmd runs jobs as root here)"
for b in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$b" > /dev/null || skip "$b not installed (apt-get install slurm-wlm munge)"
done
T=$(mktemp -d /tmp/initscope_slurm.XXXXXX)
chmod 755 "$T"
cleanup() {
  for p in slurmd slurmctld munged; do
    [ -f "$T/$p.pid" ] && kill "$(cat "$T/$p.pid")" 2> /dev/null
  done
  sleep 1
  for p in slurmd slurmctld munged; do
    [ -f "$T/$p.pid" ] && kill -9 "$(cat "$T/$p.pid")" 2> /dev/null
  done
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/state" "$T/spool" "$T/work"
head -c 1024 /dev/urandom > "$T/munge.key"
chmod 400 "$T/munge.key"
munged --key-file="$T/munge.key" --socket="$T/munge.sock" --pid-file="$T/munged.pid" \
  --log-file="$T/munged.log" --seed-file="$T/munge.seed" || skip "munged did not start: $(tail -1 "$T/munged.log" 2> /dev/null)"
host=$(hostname -s)
port=$((20000 + $$ % 20000))
cat > "$T/slurm.conf" << CONF
ClusterName=initscope
SlurmctldHost=$host
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/munge.sock
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SchedulerType=sched/builtin
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$T/slurm.conf"
slurmctld || skip "slurmctld did not start: $(tail -2 "$T/slurmctld.log" 2> /dev/null)"
slurmd || skip "slurmd did not start: $(tail -2 "$T/slurmd.log" 2> /dev/null)"
for i in $(seq 1 30); do
  sinfo -h -o %t 2> /dev/null | grep -q idle && break
  sleep 1
done
sinfo -h -o %t 2> /dev/null | grep -q idle || skip "the Slurm node did not come up: $(tail -2 "$T/slurmd.log")"

cd "$T/work"
cat > sweep.toml << 'TOML'
name = "slurm"
trials = 37
samples = 6
[network]
input = 10
hidden = [12, 9]
output = 3
[stats]
quantities = ["preactivation", "activation", "backprop_gradient", "weight_gradient"]
[sweep]
"network.gain" = [1.0, 1.2]
"network.activation" = ["tanh", "relu"]
TOML
jid=$(sbatch --parsable --array=0-3 --chdir="$T/work" --export=ALL,INITSCOPE="$bin" \
  "$src/docker/slurm-array.sh" sweep.toml shards --device cpu -q --per-trial) || { echo "sbatch failed"; exit 1; }
for i in $(seq 1 120); do
  [ "$(squeue -h -j "$jid" 2> /dev/null | wc -l)" = 0 ] && break
  sleep 1
done
[ "$(squeue -h -j "$jid" 2> /dev/null | wc -l)" = 0 ] || { echo "the array did not finish in 120 s"; exit 1; }
for k in 0 1 2 3; do
  [ -d "shards/shard-$k/parts" ] || { echo "task $k left no parts:"; cat initscope-*_"$k".log; exit 1; }
done
"$bin" merge merged shards/shard-0 shards/shard-1 shards/shard-2 shards/shard-3 --no-plot || exit 1
"$bin" run sweep.toml --device cpu -q --no-plot --per-trial --out ref || exit 1
for f in stats.csv histograms.csv theory.csv; do
  cmp "ref/$f" "merged/$f" || { echo "$f differs from the unsharded run"; exit 1; }
done
cmp <(gzip -dc ref/trials.csv.gz) <(gzip -dc merged/trials.csv.gz) || { echo "trials.csv.gz differs"; exit 1; }
echo "OK: sbatch --array=0-3 job $jid: 4 shards merged, identical to the unsharded run"
