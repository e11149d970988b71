"""The admission policies of k8s_manifests/admission-policies.yaml, evaluated as the API
server evaluates them (tests/support/admission.py, with cel-python as the CEL interpreter),
against pods, Services and dev-side identities that try each bypass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import ENVIRONMENTS
from pingvas_infra.gpu.component import OVERFLOW_POOL
from pingvas_infra.manifests import load_documents
from pingvas_infra.operations import backup
from pingvas_infra.plan.model import PlanResult
from tests.support.admission import (
    PEOPLE_GROUP_PREFIX,
    Request,
    bindings,
    container,
    denials,
    environment_pod,
    namespaces,
    pod,
    pod_denials,
    policies,
)

ENV = "pingvas.io/environment"
GPU = "nvidia.com/gpu"
ENVS = [env.name for env in ENVIRONMENTS]
BASELINE = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "pod-security-baseline.yaml").read_text(encoding="utf-8")
)


def toleration(key: str | None = None, **fields: str) -> dict[str, Any]:
    return {**({"key": key} if key is not None else {}), **fields}


# --- placement: tolerations, nodeName -------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "tolerations", "allowed"),
    [
        ("dev", None, True),
        ("dev", [toleration(GPU, operator="Exists", effect="NoSchedule")], True),
        ("dev", [toleration(ENV, operator="Equal", value="dev", effect="NoSchedule")], True),
        ("prod", [toleration(ENV, value="prod", effect="NoSchedule")], True),
        ("dev", [toleration(ENV, operator="Equal", value="prod", effect="NoSchedule")], False),
        ("prod", [toleration(ENV, value="dev")], False),
        ("dev", [toleration(ENV, operator="Exists")], False),
        ("dev", [toleration(operator="Exists")], False),
        ("dev", [toleration("", operator="Exists")], False),
        ("dev", [toleration("node.kubernetes.io/not-ready", operator="Exists")], True),
        (
            "dev",
            [toleration(GPU, operator="Exists"), toleration(ENV, value="prod")],
            False,
        ),
    ],
)
def test_pods_may_tolerate_only_their_own_environment(
    namespace: str, tolerations: list[dict[str, Any]] | None, allowed: bool
) -> None:
    fields = {} if tolerations is None else {"tolerations": tolerations}
    assert (pod_denials(environment_pod(namespace, **fields), namespace) == []) is allowed


def test_a_pod_tolerating_a_pool_is_admitted_only_in_that_pools_environment(
    graph: PlanResult,
) -> None:
    """Tied to the real NodePools: their taints are what the policy guards."""
    pools = [
        p for p in graph.of_type(rt.NODE_POOL) if p.inputs["metadata"]["name"] != OVERFLOW_POOL
    ]
    assert len(pools) == 2
    for pool in pools:
        template = pool.inputs["spec"]["template"]
        environment = template["metadata"]["labels"][ENV]
        taints = template["spec"]["taints"]
        assert {t["key"] for t in taints} >= {ENV, GPU}
        tolerations = [
            {"key": t["key"], "operator": "Equal", "value": t.get("value", ""), **t} for t in taints
        ]
        other = "prod" if environment == "dev" else "dev"
        assert pod_denials(environment_pod(environment, tolerations=tolerations), environment) == []
        assert pod_denials(environment_pod(other, tolerations=tolerations), other)


@pytest.mark.parametrize("namespace", ENVS)
def test_no_dev_or_prod_pod_may_tolerate_the_platforms_overflow_nodes(
    graph: PlanResult, namespace: str
) -> None:
    """The system tier's overflow nodes (Karpenter, for platform pods such as Prometheus)
    are tainted for the platform: a dev or prod pod tolerating that taint, to land there
    or to make Karpenter launch one, is refused like any other environment's taint."""
    (pool,) = [
        p for p in graph.of_type(rt.NODE_POOL) if p.inputs["metadata"]["name"] == OVERFLOW_POOL
    ]
    (taint,) = pool.inputs["spec"]["template"]["spec"]["taints"]
    exact = {"operator": "Equal", **taint}
    by_key = {"key": taint["key"], "operator": "Exists", "effect": taint["effect"]}
    for toleration in (exact, by_key):
        spec = environment_pod(namespace, tolerations=[toleration])
        assert pod_denials(spec, namespace), toleration


@pytest.mark.parametrize("namespace", ENVS)
def test_a_pod_that_names_its_node_is_refused(namespace: str) -> None:
    """A pod created with spec.nodeName skips the scheduler and the taints: a dev pod could
    land on a prod GPU node and see its GPUs. Refused at CREATE, whatever it tolerates."""
    spec = environment_pod(namespace, nodeName="ip-10-0-64-7.ec2.internal")
    assert any("spec.nodeName" in m for m in pod_denials(spec, namespace))


def test_scheduled_pods_and_daemonset_pods_are_not_affected() -> None:
    # The scheduler binds through pods/binding: the pod itself is only ever UPDATEd with
    # its node set (status, labels), which the policy allows.
    bound = environment_pod("dev", nodeName="ip-10-0-64-7.ec2.internal")
    assert pod_denials(bound, "dev", operation="UPDATE") == []
    # DaemonSet pods are created without nodeName, pinned by node affinity on the name.
    daemon = environment_pod(
        "dev",
        affinity={
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchFields": [
                                {
                                    "key": "metadata.name",
                                    "operator": "In",
                                    "values": ["ip-10-0-64-7.ec2.internal"],
                                }
                            ]
                        }
                    ]
                }
            }
        },
    )
    assert pod_denials(daemon, "dev") == []


def test_the_backup_cron_jobs_pod_is_admitted(graph: PlanResult) -> None:
    (cron_job,) = [
        r for r in graph.of_type(rt.CRON_JOB) if r.inputs["metadata"]["name"] == backup.NAME
    ]
    spec = cron_job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod_denials(spec, cron_job.inputs["metadata"]["namespace"]) == []


# --- priority -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "priority_class", "allowed"),
    [
        ("dev", None, True),
        ("dev", "dev-low", True),
        ("dev", "prod-high", False),
        ("dev", "prod-critical", False),
        ("dev", "system-node-critical", False),
        ("dev", "system-cluster-critical", False),
        ("dev", "a-class-made-later", False),
        ("dev", "pingvas-platform", False),
        ("prod", "prod-high", True),
        ("prod", "prod-critical", True),
        ("prod", None, False),
        ("prod", "dev-low", False),
        ("prod", "system-node-critical", False),
        ("prod", "system-cluster-critical", False),
        ("prod", "pingvas-platform", False),
    ],
)
def test_each_environment_names_only_its_own_priority_classes(
    namespace: str, priority_class: str | None, allowed: bool
) -> None:
    spec = {"containers": [container()]}
    if priority_class is not None:
        spec["priorityClassName"] = priority_class
    assert (pod_denials(spec, namespace) == []) is allowed


def test_the_allow_list_is_the_priority_classes_labelled_for_each_environment() -> None:
    """The CEL allow-list and priority-classes.yaml name the same classes, so a class
    added for an environment is refused until both say so."""
    labelled: dict[str, set[str]] = {}
    for document in load_documents("priority-classes.yaml"):
        if document["kind"] == "PriorityClass" and "environment" in document["metadata"]["labels"]:
            environment = document["metadata"]["labels"]["environment"]
            labelled.setdefault(environment, set()).add(document["metadata"]["name"])
    assert set(labelled) == set(ENVS)
    for environment, classes in labelled.items():
        for name in classes:
            assert (
                pod_denials({"containers": [container()], "priorityClassName": name}, environment)
                == []
            )
        for other in set(ENVS) - {environment}:
            for name in classes:
                assert pod_denials({"containers": [container()], "priorityClassName": name}, other)


def _quota_refuses(namespace: str, priority_class: str) -> bool:
    """The quota admission check: a pod matching a zero-pod quota's PriorityClass scope."""
    for document in load_documents("priority-classes.yaml"):
        if document["kind"] != "ResourceQuota" or document["metadata"]["namespace"] != namespace:
            continue
        for expression in document["spec"]["scopeSelector"]["matchExpressions"]:
            assert expression["scopeName"] == "PriorityClass"
            assert expression["operator"] == "In"
            if priority_class in expression["values"] and document["spec"]["hard"]["pods"] == "0":
                return True
    return False


@pytest.mark.parametrize(
    ("namespace", "priority_class"),
    [
        ("dev", "system-node-critical"),
        ("dev", "system-cluster-critical"),
        ("dev", "prod-critical"),
        ("dev", "prod-high"),
        ("dev", "pingvas-platform"),
        ("prod", "system-node-critical"),
        ("prod", "system-cluster-critical"),
        ("prod", "dev-low"),
        ("prod", "pingvas-platform"),
    ],
)
def test_zero_pod_quotas_refuse_the_known_foreign_classes_a_second_time(
    namespace: str, priority_class: str
) -> None:
    assert _quota_refuses(namespace, priority_class)
    assert not _quota_refuses(namespace, "dev-low" if namespace == "dev" else "prod-high")


def test_the_platform_class_outranks_prod_and_stays_below_kubernetes_own() -> None:
    """Monitoring and the platform's tools run above every prod class, so a busy prod
    cannot preempt what watches it; Kubernetes' system classes (2000000000 and up) stay
    above them all, and no class but Kubernetes' own may reach a billion."""
    values = {
        d["metadata"]["name"]: (d["value"], d["metadata"]["labels"])
        for d in load_documents("priority-classes.yaml")
        if d["kind"] == "PriorityClass"
    }
    (platform,) = [n for n, (_, labels) in values.items() if labels.get("tier") == "platform"]
    prod = [v for v, labels in values.values() if labels.get("environment") == "prod"]
    assert values[platform][0] > max(prod)
    assert values[platform][0] < 1_000_000_000
    assert values[platform][0] != values.get("prod-critical", (0,))[0]


# --- isolation from the node ----------------------------------------------------------------


PRIVILEGED = {"securityContext": {"privileged": True}}
NODE_ESCAPES: dict[str, dict[str, Any]] = {
    "hostNetwork": {"hostNetwork": True},
    "hostPID": {"hostPID": True},
    "hostIPC": {"hostIPC": True},
    "hostPath": {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]},
    "privileged": {"containers": [container(**PRIVILEGED)]},
    "privileged-init": {
        "containers": [container()],
        "initContainers": [container(name="init", **PRIVILEGED)],
    },
    "added-capability": {
        "containers": [container(securityContext={"capabilities": {"add": ["SYS_ADMIN"]}})]
    },
    "hostPort": {"containers": [container(ports=[{"containerPort": 80, "hostPort": 8080}])]},
}


@pytest.mark.parametrize("namespace", ENVS)
@pytest.mark.parametrize("escape", list(NODE_ESCAPES))
def test_pods_cannot_reach_into_their_node(namespace: str, escape: str) -> None:
    assert pod_denials(environment_pod(namespace, **NODE_ESCAPES[escape]), namespace)


def test_baseline_capabilities_and_ordinary_ports_stay_allowed() -> None:
    spec = environment_pod(
        "dev",
        containers=[
            container(
                securityContext={"capabilities": {"add": ["NET_BIND_SERVICE"], "drop": ["ALL"]}},
                ports=[{"containerPort": 8000}],
            )
        ],
    )
    assert pod_denials(spec, "dev") == []


def test_an_ephemeral_debug_container_is_checked_too() -> None:
    """`kubectl debug` adds ephemeral containers through pods/ephemeralcontainers."""
    spec = environment_pod(
        "dev", ephemeralContainers=[{"name": "debugger", "image": "busybox", **PRIVILEGED}]
    )
    refused = denials(
        Request(
            operation="UPDATE",
            resource="pods",
            subresource="ephemeralcontainers",
            namespace="dev",
            object=pod(spec),
        )
    )
    assert any("privileged" in m for m in refused)


@pytest.mark.parametrize(
    "gpu_claim",
    [
        {"volumeMounts": [{"name": "fake", "mountPath": "/var/run/nvidia-container-devices/all"}]},
        {"volumeMounts": [{"name": "fake", "mountPath": "/run/nvidia-container-devices/all"}]},
        {"env": [{"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"}]},
    ],
    ids=["device-list-mount", "device-list-mount-run", "visible-devices-env"],
)
def test_gpus_come_only_from_a_gpu_request(gpu_claim: dict[str, Any]) -> None:
    """With the device plugin's volume-mounts strategy the toolkit reads a container's GPUs
    from mounts under nvidia-container-devices: a pod faking one would see every GPU."""
    spec = environment_pod(
        "dev",
        containers=[container(**gpu_claim)],
        volumes=[{"name": "fake", "emptyDir": {}}],
    )
    assert pod_denials(spec, "dev")


def test_the_model_store_is_mounted_only_through_the_namespace_claim() -> None:
    inline = environment_pod(
        "dev",
        volumes=[
            {
                "name": "models",
                "csi": {"driver": "efs.csi.aws.com", "volumeAttributes": {"path": "/"}},
            }
        ],
    )
    assert pod_denials(inline, "dev")
    claim = environment_pod(
        "dev", volumes=[{"name": "models", "persistentVolumeClaim": {"claimName": "models"}}]
    )
    assert pod_denials(claim, "dev") == []


# --- Pod Security baseline, stated in CEL ---------------------------------------------------
# Pod Security Admission runs in Go inside the API server, where no test here reaches it;
# each of its baseline rules is also a CEL rule, so these pods are refused by what the tests
# can evaluate (and by PSA on the cluster).


def _policy_list(policy: str, variable: str) -> list[str]:
    (expression,) = [
        v["expression"] for v in policies()[policy]["spec"]["variables"] if v["name"] == variable
    ]
    return list(yaml.safe_load(expression))


def test_the_cel_lists_are_pod_security_baselines_own() -> None:
    """The allowed capabilities, sysctls and SELinux types are upstream's, at 1.35."""
    assert _policy_list("pingvas-pod-isolation", "baselineCapabilities") == BASELINE["capabilities"]
    assert _policy_list("pingvas-pod-isolation", "safeSysctls") == BASELINE["sysctls"]
    assert _policy_list("pingvas-pod-isolation", "allowedSELinuxTypes") == BASELINE["seLinuxTypes"]


def _with_security(level: str, context: dict[str, Any]) -> dict[str, Any]:
    if level == "pod":
        return {"securityContext": context}
    return {"containers": [container(securityContext=context)]}


PSA_ESCAPES: dict[str, dict[str, Any]] = {
    "seccomp-unconfined-pod": _with_security("pod", {"seccompProfile": {"type": "Unconfined"}}),
    "seccomp-unconfined-container": _with_security(
        "container", {"seccompProfile": {"type": "Unconfined"}}
    ),
    "apparmor-unconfined-pod": _with_security("pod", {"appArmorProfile": {"type": "Unconfined"}}),
    "apparmor-unconfined-container": _with_security(
        "container", {"appArmorProfile": {"type": "Unconfined"}}
    ),
    "selinux-type-spc": _with_security("pod", {"seLinuxOptions": {"type": "spc_t"}}),
    "selinux-user": _with_security("container", {"seLinuxOptions": {"user": "system_u"}}),
    "selinux-role": _with_security("container", {"seLinuxOptions": {"role": "system_r"}}),
    "proc-unmasked": _with_security("container", {"procMount": "Unmasked"}),
    "proc-unmasked-user-namespace": {
        "hostUsers": False,
        "containers": [container(securityContext={"procMount": "Unmasked"})],
    },
    "unsafe-sysctl": _with_security("pod", {"sysctls": [{"name": "kernel.msgmax", "value": "1"}]}),
    "windows-host-process": _with_security("pod", {"windowsOptions": {"hostProcess": True}}),
    "probe-host": {
        "containers": [
            container(livenessProbe={"httpGet": {"host": "10.0.64.20", "path": "/", "port": 80}})
        ]
    },
    "probe-tcp-host": {
        "containers": [
            container(readinessProbe={"tcpSocket": {"host": "10.0.64.20", "port": 5432}})
        ]
    },
    "startup-probe-host": {
        "containers": [container(startupProbe={"httpGet": {"host": "169.254.169.254", "port": 80}})]
    },
    "lifecycle-host": {
        "containers": [
            container(lifecycle={"preStop": {"httpGet": {"host": "10.0.64.20", "port": 80}}})
        ]
    },
    "init-container-seccomp": {
        "containers": [container()],
        "initContainers": [
            container(name="init", securityContext={"seccompProfile": {"type": "Unconfined"}})
        ],
    },
}


@pytest.mark.parametrize("namespace", ENVS)
@pytest.mark.parametrize("escape", list(PSA_ESCAPES))
def test_pod_security_baseline_holds_in_cel_too(namespace: str, escape: str) -> None:
    assert pod_denials(environment_pod(namespace, **PSA_ESCAPES[escape]), namespace)


def test_an_unconfined_apparmor_annotation_is_refused() -> None:
    """The annotation form the kubelet still honours."""
    annotated = pod(environment_pod("dev"))
    annotated["metadata"]["annotations"] = {
        "container.apparmor.security.beta.kubernetes.io/app": "unconfined"
    }
    assert denials(Request(operation="CREATE", resource="pods", namespace="dev", object=annotated))
    annotated["metadata"]["annotations"] = {
        "container.apparmor.security.beta.kubernetes.io/app": "localhost/k8s-app"
    }
    assert (
        denials(Request(operation="CREATE", resource="pods", namespace="dev", object=annotated))
        == []
    )


def test_what_baseline_allows_stays_allowed() -> None:
    spec = environment_pod(
        "dev",
        hostUsers=False,
        securityContext={
            "seccompProfile": {"type": "RuntimeDefault"},
            "appArmorProfile": {"type": "RuntimeDefault"},
            "seLinuxOptions": {"type": "container_t", "level": "s0:c123,c456"},
            "sysctls": [{"name": name, "value": "1"} for name in BASELINE["sysctls"]],
        },
        containers=[
            container(
                securityContext={
                    "seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"},
                    "appArmorProfile": {"type": "Localhost", "localhostProfile": "p"},
                    "procMount": "Default",
                    "windowsOptions": {"hostProcess": False},
                },
                livenessProbe={"httpGet": {"path": "/healthz", "port": 8000}},
                readinessProbe={"tcpSocket": {"port": 8000}},
                lifecycle={"preStop": {"exec": {"command": ["sleep", "5"]}}},
            )
        ],
    )
    assert pod_denials(spec, "dev") == []


VOLUME_SOURCES: dict[str, dict[str, Any]] = {
    "hostPath": {"path": "/"},
    "nfs": {"server": "fs-0123.efs.us-east-1.amazonaws.com", "path": "/"},
    "awsElasticBlockStore": {"volumeID": "vol-0123456789abcdef0"},
    "gitRepo": {"repository": "https://example.com/x.git"},
    "iscsi": {"targetPortal": "10.0.96.10:3260", "iqn": "iqn.2001-04.com.example:x", "lun": 0},
    "image": {"reference": "registry.example.com/models:1"},
}


@pytest.mark.parametrize("source", BASELINE["restrictedVolumeSources"] + ["image"])
def test_only_the_volume_types_services_need_are_admitted(source: str) -> None:
    """Every source Pod Security restricted refuses, and `image`: the kubelet mounts them
    with the node's own network and credentials (an inline nfs volume reaches the model
    store's mount targets from the node's address, where no NetworkPolicy applies)."""
    volume = {"name": "v", source: VOLUME_SOURCES.get(source, {})}
    assert pod_denials(environment_pod("dev", volumes=[volume]), "dev")


@pytest.mark.parametrize(
    "volume",
    [
        {"configMap": {"name": "c"}},
        {"secret": {"secretName": "s"}},
        {"emptyDir": {"medium": "Memory"}},
        {"projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}},
        {"downwardAPI": {"items": []}},
        {"persistentVolumeClaim": {"claimName": "models"}},
        {"ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}},
        {"csi": {"driver": "secrets-store.csi.k8s.io"}},
    ],
    ids=lambda v: next(iter(v)),
)
def test_the_volume_types_services_need_stay_allowed(volume: dict[str, Any]) -> None:
    assert set(volume) <= set(BASELINE["allowedVolumeSources"])
    assert pod_denials(environment_pod("dev", volumes=[{"name": "v", **volume}]), "dev") == []


def test_gpus_named_through_env_from_are_the_nodes_business() -> None:
    """A ConfigMap or Secret key reaches the container as an environment variable that
    admission cannot read: this pod is admitted, and the GPU nodes' toolkit setting
    (tests/gpu/test_gpu_visibility.py) is what makes NVIDIA_VISIBLE_DEVICES meaningless."""
    spec = environment_pod(
        "dev", containers=[container(envFrom=[{"configMapRef": {"name": "gpus"}}])]
    )
    assert pod_denials(spec, "dev") == []


# --- the network policy agent's own objects ----------------------------------------------

ENFORCEMENT_OBJECTS = [
    ("policyendpoints", "dev"),
    ("policyendpoints", "prod"),
    ("policyendpoints", "argocd"),
    ("policyendpoints", "kube-system"),
    ("clusterpolicyendpoints", ""),
    ("applicationnetworkpolicies", "dev"),
]
WRITERS = {
    "dev-person": ("arn:aws:sts::123456789012:assumed-role/dev-engineer/alice", ("dev",)),
    "dev-service-account": ("system:serviceaccount:dev:default", ("sa-dev",)),
    "argocd-controller": (
        "system:serviceaccount:argocd:argocd-application-controller",
        ("sa-argocd",),
    ),
    "kube-system-service-account": (
        "system:serviceaccount:kube-system:aws-node",
        ("sa-kube-system",),
    ),
}
OPEN_EGRESS = {
    "apiVersion": "networking.k8s.aws/v1alpha1",
    "kind": "PolicyEndpoint",
    "metadata": {"name": "default-deny-abcde"},
    "spec": {
        "policyRef": {"name": "default-deny", "namespace": "prod"},
        "podSelectorEndpoints": [
            {"hostIP": "10.0.64.7", "podIP": "10.0.64.20", "name": "api-0", "namespace": "prod"}
        ],
        "ingress": [{"cidr": "0.0.0.0/0"}],
        "egress": [{"cidr": "0.0.0.0/0"}],
    },
}


@pytest.mark.parametrize("writer", list(WRITERS))
@pytest.mark.parametrize("operation", ["CREATE", "UPDATE", "DELETE"])
@pytest.mark.parametrize(("resource", "namespace"), ENFORCEMENT_OBJECTS)
def test_no_workload_or_person_writes_what_the_node_agents_enforce(
    writer: str, operation: str, resource: str, namespace: str
) -> None:
    """A PolicyEndpoint anywhere, listing a prod pod, would open that pod: the agent takes
    the pod's namespace from the entry. Refused for every service account (Argo CD's
    included) and every environment person, in every namespace and cluster-wide."""
    username, kind = WRITERS[writer]
    request = Request(
        operation=operation,
        resource=resource,
        group="networking.k8s.aws",
        namespace=namespace,
        object=None if operation == "DELETE" else OPEN_EGRESS,
        old_object=None if operation == "CREATE" else OPEN_EGRESS,
        username=username,
        groups=_groups(kind),
    )
    assert any("network policy controller" in m for m in denials(request))


@pytest.mark.parametrize(
    "username", ["eks:network-policy-controller", "arn:aws:sts::123456789012:assumed-role/admin/x"]
)
def test_the_network_policy_controller_and_admins_still_write_them(username: str) -> None:
    for resource, namespace in ENFORCEMENT_OBJECTS:
        request = Request(
            operation="CREATE",
            resource=resource,
            group="networking.k8s.aws",
            namespace=namespace,
            object=OPEN_EGRESS,
            username=username,
            groups=("system:authenticated",),
        )
        assert denials(request) == []


# --- Services -------------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", ENVS)
@pytest.mark.parametrize(
    ("service", "allowed"),
    [
        ({"type": "ClusterIP", "ports": [{"port": 80}]}, True),
        ({"ports": [{"port": 80}]}, True),
        ({"type": "ExternalName", "externalName": "api.example.com"}, True),
        ({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]}, False),
        ({"type": "LoadBalancer", "ports": [{"port": 80}]}, False),
        ({"type": "ClusterIP", "ports": [{"port": 80}], "externalIPs": ["10.0.64.10"]}, False),
    ],
    ids=[
        "cluster-ip",
        "default-type",
        "external-name",
        "node-port",
        "load-balancer",
        "external-ips",
    ],
)
def test_services_stay_inside_the_cluster(
    namespace: str, service: dict[str, Any], allowed: bool
) -> None:
    for operation in ("CREATE", "UPDATE"):
        request = Request(
            operation=operation, resource="services", namespace=namespace, object={"spec": service}
        )
        assert (denials(request) == []) is allowed


# --- the platform's objects inside dev and prod ---------------------------------------------


TENANCY_OBJECTS = [
    ("networking.k8s.io", "networkpolicies"),
    ("", "resourcequotas"),
    ("", "limitranges"),
]
DEV_SIDE = {
    "dev-person": ("arn:aws:sts::123456789012:assumed-role/dev-engineer/alice", ("dev",)),
    "dev-service-account": ("system:serviceaccount:dev:default", ("sa-dev",)),
    "prod-person": ("arn:aws:sts::123456789012:assumed-role/prod-engineer/bob", ("prod",)),
}


def _groups(kind: tuple[str, ...]) -> tuple[str, ...]:
    (marker,) = kind
    if marker.startswith("sa-"):
        namespace = marker.removeprefix("sa-")
        return (
            "system:serviceaccounts",
            f"system:serviceaccounts:{namespace}",
            "system:authenticated",
        )
    return (f"{PEOPLE_GROUP_PREFIX}{marker}", "system:authenticated")


@pytest.mark.parametrize("namespace", ENVS)
@pytest.mark.parametrize("identity", list(DEV_SIDE))
@pytest.mark.parametrize("operation", ["CREATE", "UPDATE", "DELETE"])
@pytest.mark.parametrize(("group", "resource"), TENANCY_OBJECTS)
def test_environment_identities_cannot_change_the_platforms_objects(
    namespace: str, identity: str, operation: str, group: str, resource: str
) -> None:
    """Deleting dev's default-deny would open dev's egress to every namespace that has no
    ingress policy of its own."""
    username, kind = DEV_SIDE[identity]
    document = {"metadata": {"name": "default-deny", "namespace": namespace}, "spec": {}}
    request = Request(
        operation=operation,
        resource=resource,
        group=group,
        namespace=namespace,
        object=None if operation == "DELETE" else document,
        old_object=None if operation == "CREATE" else document,
        username=username,
        groups=_groups(kind),
    )
    assert denials(request)


def test_the_platform_still_manages_them() -> None:
    request = Request(
        operation="UPDATE",
        resource="networkpolicies",
        group="networking.k8s.io",
        namespace="dev",
        object={"metadata": {"name": "default-deny"}, "spec": {}},
        username="arn:aws:sts::123456789012:assumed-role/platform-admin/deploy",
        groups=("system:authenticated",),
    )
    assert denials(request) == []


# --- scope ----------------------------------------------------------------------------------


CLUSTER_WIDE = {"pingvas-network-enforcement"}


def test_every_binding_covers_the_environment_namespaces_only() -> None:
    """All but the network policy agent's objects, which are refused everywhere."""
    assert {b["spec"]["policyName"] for b in bindings()} == set(policies())
    for binding in bindings():
        assert binding["spec"]["validationActions"] == ["Deny"]
        if binding["spec"]["policyName"] in CLUSTER_WIDE:
            assert "matchResources" not in binding["spec"]
            continue
        (selector,) = binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
        selected = {
            name
            for name, namespace in namespaces().items()
            if namespace["metadata"]["labels"].get(selector["key"]) in selector["values"]
        }
        assert selected == set(ENVS)


def test_platform_namespaces_are_not_bound() -> None:
    """Host-network daemons of kube-system and monitoring are not the tenants' business."""
    daemon = {"containers": [container()], "hostNetwork": True, "priorityClassName": "x"}
    for namespace in ("kube-system", "monitoring", "pingvas-system"):
        assert pod_denials(daemon, namespace) == []


def test_the_policies_are_applied_by_the_tenancy_layer(graph: PlanResult) -> None:
    applied = {
        (r.inputs["kind"], r.inputs["metadata"]["name"])
        for r in graph.resources
        if r.type.startswith("kubernetes:admissionregistration.k8s.io/v1:")
    }
    assert applied == {
        (kind, name)
        for name in policies()
        for kind in ("ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding")
    }


# --- the internet entries: Ingresses and TargetGroupBindings ---------------------------------

ALB = "alb.ingress.kubernetes.io/"
CONTROLLER_IDENTITY = "system:serviceaccount:kube-system:aws-load-balancer-controller"


def ingress(
    namespace: str, class_name: str | None = None, annotations: dict[str, str] | None = None
) -> Request:
    spec: dict[str, Any] = {
        "rules": [
            {
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "web", "port": {"number": 80}}},
                        }
                    ]
                }
            }
        ]
    }
    if class_name is not None:
        spec["ingressClassName"] = class_name
    return Request(
        operation="CREATE",
        resource="ingresses",
        group="networking.k8s.io",
        namespace=namespace,
        object={"metadata": {"name": "web", "annotations": annotations or {}}, "spec": spec},
    )


@pytest.mark.parametrize("namespace", ENVS)
def test_an_ingress_names_its_own_environments_class_only(namespace: str) -> None:
    """The class fixes the namespace, group, scheme and subnets; naming the other
    environment's class (or none, or the legacy annotation) is refused outright."""
    other = "prod" if namespace == "dev" else "dev"
    assert denials(ingress(namespace, f"alb-{namespace}")) == []
    assert denials(ingress(namespace, f"alb-{other}"))
    assert denials(ingress(namespace))
    assert denials(ingress(namespace, "alb"))
    assert denials(
        ingress(namespace, f"alb-{namespace}", {"kubernetes.io/ingress.class": f"alb-{namespace}"})
    )


def test_the_classes_admission_asks_for_are_the_stacks(graph: PlanResult) -> None:
    """Tied to the real IngressClasses: each environment's class admits its own
    environment's Ingress and no other."""
    classes = graph.of_type(rt.INGRESS_CLASS)
    assert len(classes) == len(ENVS)
    for ingress_class in classes:
        environment = ingress_class.inputs["metadata"]["labels"]["environment"]
        name = ingress_class.inputs["metadata"]["name"]
        assert denials(ingress(environment, name)) == []
        for other in ENVS:
            if other != environment:
                assert denials(ingress(other, name))


@pytest.mark.parametrize(
    "annotation",
    [
        "security-groups",
        "manage-backend-security-group-rules",
        "group.name",
        "scheme",
        "subnets",
        "target-type",
        "load-balancer-attributes",
        "load-balancer-name",
        "inbound-cidrs",
        "security-group-prefix-lists",
        "certificate-arn",
        "ssl-policy",
        "ssl-redirect",
        "wafv2-acl-name",
        "wafv2-acl-arn",
        "waf-acl-id",
        "shield-advanced-protection",
        "enable-frontend-nlb",
        "frontend-nlb-scheme",
        "multi-cluster-target-group",
        "tags",
        "customer-owned-ipv4-pool",
        "a-setting-a-future-controller-adds",
    ],
)
@pytest.mark.parametrize("namespace", ENVS)
def test_an_ingress_may_not_set_what_its_class_fixes(namespace: str, annotation: str) -> None:
    """Security groups (the cluster's own, say), `wafv2-acl-name: none` (which detaches the
    class's web ACL), a public frontend NLB before an internal class, a group name, load
    balancer attributes the class left out: none has a class field that wins, so each is
    refused on the Ingress."""
    assert denials(ingress(namespace, f"alb-{namespace}", {ALB + annotation: "anything"}))


@pytest.mark.parametrize(
    "annotation",
    [
        "listen-ports",
        "backend-protocol",
        "group.order",
        "success-codes",
        "target-group-attributes",
        "healthcheck-path",
        "healthy-threshold-count",
        "actions.forward-canary",
        "conditions.forward-canary",
        "auth-type",
        "auth-idp-oidc",
    ],
)
def test_routing_health_and_sign_in_stay_the_environments_own(annotation: str) -> None:
    assert denials(ingress("dev", "alb-dev", {ALB + annotation: "x", "team": "web"})) == []


@pytest.mark.parametrize(
    ("username", "groups"),
    [
        ("arn:aws:sts::123456789012:assumed-role/dev-engineer/alice", ("pingvas:people:dev",)),
        ("system:serviceaccount:dev:default", ("system:serviceaccounts:dev",)),
        ("system:serviceaccount:argocd:argocd-application-controller", ("system:authenticated",)),
        ("arn:aws:sts::123456789012:assumed-role/platform-admin/deploy", ("system:authenticated",)),
    ],
)
@pytest.mark.parametrize("namespace", ENVS)
def test_only_the_controller_binds_pods_to_target_groups(
    namespace: str, username: str, groups: tuple[str, ...]
) -> None:
    """A TargetGroupBinding naming prod's target group by ARN would put dev's pods behind
    prod's load balancer; in dev and prod only the controller makes them."""
    binding = {
        "metadata": {"name": "web"},
        "spec": {
            "serviceRef": {"name": "web", "port": 80},
            "targetGroupARN": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
            "targetgroup/k8s-prod-web-0123456789/0123456789abcdef",
            "targetType": "ip",
        },
    }
    for username_, groups_, refused in (
        (username, groups, True),
        (CONTROLLER_IDENTITY, ("system:serviceaccounts:kube-system",), False),
    ):
        request = Request(
            operation="CREATE",
            resource="targetgroupbindings",
            group="elbv2.k8s.aws",
            namespace=namespace,
            object=binding,
            username=username_,
            groups=groups_,
        )
        assert bool(denials(request)) is refused
