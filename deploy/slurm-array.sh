#!/bin/bash
# massivit on a Slurm cluster: one array task per shard, then one merge job.
#
#   sbatch deploy/slurm-array.sh                      # N shards (the --array range below)
#   sbatch --dependency=afterok:<jobid> --wrap \
#     "massivit merge $SCAN_ROOT/shard-* --out $SCAN_ROOT/merged"
#
# Each task finds its shard by itself: massivit reads SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT
# (and _MIN/_STEP), so task i of N scans a fixed, deterministic 1/N of the images (by a hash of each
# file's path relative to --images). Use a plain range such as --array=0-15 (or 1-16; a %limit is fine).
# Re-submitting a failed or preempted task resumes it: images already in its store are not recomputed.
#
#SBATCH --job-name=massivit
#SBATCH --array=0-15
#SBATCH --cpus-per-task=8
#SBATCH --mem=4G
#SBATCH --time=04:00:00
#SBATCH --output=massivit-%A_%a.log
## For GPUs (needs the CUDA build of onnxruntime-node, see README "GPU"):
## #SBATCH --gres=gpu:1
set -euo pipefail

MODEL=${MODEL:-/shared/models/vit-tiny-augreg-in1k}   # model folder (config.json, preprocessor_config.json, model.onnx)
IMAGES=${IMAGES:-/shared/datasets/imagenet/val}        # the same path on every node
SCAN_ROOT=${SCAN_ROOT:-/shared/scans/imagenet-val}     # one --out folder per shard below this

# Same options on every task: shards scanned with other options are refused by `massivit merge`.
massivit scan \
  --model "$MODEL" \
  --images "$IMAGES" \
  --out "$SCAN_ROOT/shard-$SLURM_ARRAY_TASK_ID" \
  --threads "${SLURM_CPUS_PER_TASK:-8}" \
  --batch 16 \
  --device cpu
