#!/bin/bash
# GPU nodes: a container sees only the GPUs the device plugin allocated to it.
#
# CUDA images set NVIDIA_VISIBLE_DEVICES=all, and by default the NVIDIA container toolkit
# honours it for any container, so a pod without a GPU request (or one that landed next
# to another environment's pod) would see every GPU of the node. Told to ignore the
# variable for unprivileged containers and to read the allocation from volume mounts
# instead (the device plugin's deviceListStrategy: volume-mounts, gpu layer), the toolkit
# gives each container exactly the devices the kubelet allocated. The admission policy
# refuses pods that mount anything under nvidia-container-devices themselves, and
# privileged containers, in dev and prod. The toolkit reads this file at each container
# start, so no restart is needed.
set -euo pipefail
nvidia-ctk config --in-place \
  --set accept-nvidia-visible-devices-envvar-when-unprivileged=false \
  --set accept-nvidia-visible-devices-as-volume-mounts=true
