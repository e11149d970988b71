"""CrossGuard entry point for `pulumi preview --policy-pack policy_pack`.

Only wiring: the validators are pingvas_infra.policy.controls, shared with the offline plan.
``PolicyPack`` serves them over gRPC to the engine and never returns.
"""

import sys
from pathlib import Path

# The project root, so the controls import even from a virtualenv without pingvas-infra.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from pingvas_infra.policy.controls import policies

PolicyPack(
    name="pingvas-guardrails",
    policies=policies(),
    description="AWS FSBP and CIS Amazon EKS Benchmark controls for the pingvas stack",
)
