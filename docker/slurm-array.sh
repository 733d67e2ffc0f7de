#!/usr/bin/env bash
# slurm-array.sh — one shard of an initscope sweep per Slurm array task, each into its own folder;
# a preempted (requeued) task resumes from what it had kept. Merge once every task is done.
#
#   jid=$(sbatch --parsable --array=0-3 docker/slurm-array.sh sweep.toml results/sweep [run options...])
#   sbatch --dependency=afterok:$jid --wrap "initscope merge results/sweep/merged results/sweep/shard-*"
#
# initscope reads the shard from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT; set INITSCOPE to
# the binary's path if it is not on PATH.
#SBATCH --job-name=initscope
#SBATCH --output=initscope-%A_%a.log
#SBATCH --requeue
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: sbatch --array=0-(N-1) $0 CONFIG OUT_ROOT [initscope run options...]" >&2
  exit 2
fi
config=$1
root=$2
shift 2
: "${SLURM_ARRAY_TASK_ID:?not in a Slurm job array (sbatch --array=...)}"
exec "${INITSCOPE:-initscope}" run "$config" --out "$root/shard-$SLURM_ARRAY_TASK_ID" --no-plot "$@"
