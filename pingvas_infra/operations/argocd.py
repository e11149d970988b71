"""Optional Argo CD: the chart's values, the AppProject and the services' ApplicationSet.

The design guide's ApplicationSet templates
`selfHeal: '{{ if eq .env "dev" }}true{{ else }}false{{ end }}'` into a boolean field,
under an `automated` block every environment gets: prod syncs by itself (and prunes)
whatever the string says. Here the sync policy is data per
environment: dev's element carries an `automated` patch with prune and self-heal, prod's
carries none, so nothing but a person syncs prod.

Each environment's Application belongs to its own AppProject, whose only destination is
that environment's namespace: Argo CD checks every resource it would apply against the
project, so a manifest under dev's path that names `namespace: prod` is refused instead of
being applied by dev's automated sync past prod's manual one.
"""

from __future__ import annotations

from typing import Any

import pulumi

from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD
from pingvas_infra.labels import SYNC_MODE_LABEL
from pingvas_infra.operations import sizing
from pingvas_infra.operations.config import ArgoCdConfig

NAMESPACE = "argocd"
RELEASE_NAME = "argo-cd"
PROJECT_PREFIX = "pingvas-services"
APPLICATION_SET = "pingvas-services"
IN_CLUSTER = "https://kubernetes.default.svc"
SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"

# Dev first, prod after: the design guide's order.
SYNC_WAVES = {DEV.name: "1", PROD.name: "2"}
# Dev follows Git on its own, prunes what Git dropped and undoes drift; prod has no
# automated policy at all.
AUTOMATED = {DEV.name: {"prune": True, "selfHeal": True}}

# What an environment's services deploy, and nothing else: a list of what is allowed, not
# of what is refused, because every CRD installed later (the VPC CNI's PolicyEndpoints,
# which the node agents enforce for any pod they list; the load balancer controller's
# TargetGroupBindings, which register pods into any target group) would otherwise be
# allowed the day it appears. Left out on purpose: RBAC (it could hand a workload rights
# over the platform's objects), what the tenancy layer owns (NetworkPolicies, quotas,
# limit ranges), Endpoints and EndpointSlices (a Service pointing at addresses of
# another namespace) and DaemonSets (a pod on every node, GPU nodes of the other
# environment included). Ingresses are in: the admission policy lets an environment's
# Ingress name its own class only, whose parameters fix everything else.
SERVICE_KINDS: tuple[tuple[str, str], ...] = (
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("", "Service"),
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "ServiceAccount"),
    ("", "PersistentVolumeClaim"),
    ("policy", "PodDisruptionBudget"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("networking.k8s.io", "Ingress"),
)


def helm_values(priority_class: pulumi.Input[str]) -> dict[str, Any]:
    """Argo CD on the system nodes, at the platform's priority."""
    return {
        "global": {
            "nodeSelector": dict(sizing.SYSTEM_NODE_SELECTOR),
            "priorityClassName": priority_class,
        },
        # No SSO broker or notification controller: smaller, fewer moving parts.
        "dex": {"enabled": False},
        "notifications": {"enabled": False},
        "controller": {"resources": sizing.ARGOCD_CONTROLLER.values()},
        "repoServer": {"resources": sizing.ARGOCD_REPO_SERVER.values()},
        "server": {"resources": sizing.ARGOCD_SERVER.values()},
        "applicationSet": {"resources": sizing.ARGOCD_APPLICATIONSET.values()},
        "redis": {"resources": sizing.ARGOCD_REDIS.values()},
    }


def project_name(environment: str) -> str:
    return f"{PROJECT_PREFIX}-{environment}"


def app_project_spec(config: ArgoCdConfig, namespace: str) -> dict[str, Any]:
    """One environment's services: the service kinds only, in its own namespace only, from
    one repository; nothing cluster-scoped."""
    return {
        "description": f"pingvas application services ({namespace} only)",
        "sourceRepos": [config.repo_url],
        "destinations": [{"server": IN_CLUSTER, "namespace": namespace}],
        "clusterResourceWhitelist": [],
        "namespaceResourceWhitelist": [
            {"group": group, "kind": kind} for group, kind in SERVICE_KINDS
        ],
    }


def _patch(environment: str) -> dict[str, Any]:
    automated = AUTOMATED.get(environment)
    patch: dict[str, Any] = {
        "metadata": {"labels": {SYNC_MODE_LABEL: "automated" if automated else "manual"}}
    }
    if automated:
        patch["spec"] = {"syncPolicy": {"automated": dict(automated)}}
    return patch


def application_set_spec(config: ArgoCdConfig) -> dict[str, Any]:
    return {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [
            {
                "list": {
                    "elements": [
                        {
                            "env": env.name,
                            "namespace": env.namespace,
                            "syncWave": SYNC_WAVES[env.name],
                            "patch": _patch(env.name),
                        }
                        for env in ENVIRONMENTS
                    ]
                }
            }
        ],
        "template": {
            "metadata": {
                "name": f"{APPLICATION_SET}-{{{{ .env }}}}",
                "labels": {"environment": "{{ .env }}"},
                "annotations": {SYNC_WAVE_ANNOTATION: "{{ .syncWave }}"},
            },
            "spec": {
                "project": project_name("{{ .env }}"),
                "source": {
                    "repoURL": config.repo_url,
                    "targetRevision": config.target_revision,
                    "path": f"{config.services_path}/{{{{ .env }}}}",
                },
                "destination": {"server": IN_CLUSTER, "namespace": "{{ .namespace }}"},
                "syncPolicy": {"syncOptions": ["PruneLast=true"]},
            },
        },
        # The element's patch, as JSON: a strategic merge onto the rendered Application.
        "templatePatch": "{{ toJson .patch }}",
    }
