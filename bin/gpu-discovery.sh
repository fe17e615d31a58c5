#!/usr/bin/env bash
# Spark's GPU discovery script for relabel's GPU executors (conf/spark-gpu.conf, README "GPU executors"): usable as
# spark.executor.resource.gpu.discoveryScript and as a standalone worker's spark.worker.resource.gpu.discoveryScript.
#
# Prints the resource JSON Spark expects, e.g. {"name":"gpu","addresses":["0","1"]}, and always exits 0: where
# there is no GPU (no nvidia-smi, no driver, nvidia-smi failing or hanging) the list is empty, and Spark itself then
# refuses an executor that asked for a GPU, with its own message.
#
# The addresses are CUDA device numbers as this process will see them: nvidia-smi's indexes, or, when
# CUDA_VISIBLE_DEVICES is set (a worker started for some of a host's GPUs), 0..n-1 for its n valid entries, because
# CUDA renumbers the devices it leaves visible and nvidia-smi ignores that variable.
set -uo pipefail

indexes=()
if command -v nvidia-smi >/dev/null 2>&1; then
  mapfile -t indexes < <(timeout 30 nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null \
    | tr -d ' \r' | grep -E '^[0-9]+$')
fi

if [ -n "${CUDA_VISIBLE_DEVICES+set}" ]; then
  # CUDA uses the entries up to the first invalid one (empty, -1, ...): indexes, or GPU-/MIG- UUIDs
  visible=0
  IFS=',' read -ra entries <<<"$CUDA_VISIBLE_DEVICES"
  for e in "${entries[@]}"; do
    [[ "$e" =~ ^[0-9]+$ || "$e" =~ ^(GPU|MIG)- ]] || break
    visible=$((visible + 1))
  done
  [ "$visible" -le "${#indexes[@]}" ] || visible=${#indexes[@]}
  indexes=()
  for ((i = 0; i < visible; i++)); do
    indexes+=("$i")
  done
fi

json=""
for i in "${indexes[@]}"; do
  json+="${json:+,}\"$i\""
done
printf '{"name":"gpu","addresses":[%s]}\n' "$json"
exit 0
