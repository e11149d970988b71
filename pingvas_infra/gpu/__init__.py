"""GPU capacity layer: Karpenter (controller, interruption queue, node role) and the GPU
NodePools, plus the NVIDIA device plugin."""
