"""What the ingress layer hands to the others."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class IngressOutputs:
    # Environment name -> the IngressClass its Ingresses name (`spec.ingressClassName`);
    # the class is usable from that environment's namespace only.
    ingress_classes: Mapping[str, str]
    # Environment name -> the name of its Application Load Balancer (created by the
    # controller once the first Ingress of the class exists).
    load_balancer_names: Mapping[str, str]
    # The controller's Pod Identity role (the upstream IAM policy of its version).
    controller_role_arn: pulumi.Output[str]
