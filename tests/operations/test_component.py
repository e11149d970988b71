"""The operations layer's resources in the stack's ops, under the mock engine."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD
from pingvas_infra.operations import backup, model_sync, monitoring, sizing
from pingvas_infra.plan.kubernetes import is_kubernetes_object, write_manifests
from pingvas_infra.plan.model import SECRET, PlanResult, RecordedResource
from pingvas_infra.tables import load_table
from pingvas_infra.tenancy.component import DB_CREDENTIALS_SECRET
from tests.operations.scheduling import tolerates
from tests.support.plan_graph import PlanRunner, layer_graph

COMPONENT = "pingvas:operations:Operations"
# Both alert receivers' keys, set as `pulumi config set --secret` sets them.
KEYS = {
    "pingvas-infra:pagerdutyRoutingKey": "pd-routing-key",
    "pingvas-infra:slackWebhookUrl": "https://hooks.invalid/x",
}
REPO = "https://github.com/pingvas/services"
ARGOCD = {"pingvas-infra:operations": {"argocd": {"enabled": True, "repoUrl": REPO}}}
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
REGION = "us-east-1"


@pytest.fixture(scope="module")
def stack(run_plan: PlanRunner) -> PlanResult:
    """The whole stack with both receivers' keys set."""
    return run_plan({}, KEYS)


@pytest.fixture(scope="module")
def ops(stack: PlanResult) -> PlanResult:
    """The operations layer's own resources."""
    return layer_graph(stack, "operations")


@pytest.fixture(scope="module")
def with_argocd(run_plan: PlanRunner) -> PlanResult:
    return layer_graph(run_plan(ARGOCD), "operations")


def storage_bucket(stack: PlanResult, purpose: str) -> RecordedResource:
    (bucket,) = [b for b in stack.of_type(rt.BUCKET) if b.inputs["tags"]["Purpose"] == purpose]
    return bucket


def bucket_key_arn(stack: PlanResult, bucket: RecordedResource) -> str:
    """The KMS key the storage layer encrypts ``bucket`` with."""
    (encryption,) = [
        e
        for e in stack.of_type(rt.BUCKET_ENCRYPTION)
        if e.inputs["bucket"] == bucket.inputs["bucket"]
    ]
    (rule,) = encryption.inputs["rules"]
    return str(rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"])


def named(ops: PlanResult, type_token: str, object_name: str) -> RecordedResource:
    found = [r for r in ops.of_type(type_token) if r.inputs["metadata"]["name"] == object_name]
    assert len(found) == 1, f"{type_token} {object_name}: {len(found)}"
    return found[0]


def backup_cron_job(ops: PlanResult) -> RecordedResource:
    return named(ops, rt.CRON_JOB, backup.NAME)


def kube_prometheus_stack(ops: PlanResult) -> RecordedResource:
    (release,) = [
        r for r in ops.of_type(rt.HELM_RELEASE) if r.inputs["name"] == monitoring.RELEASE_NAME
    ]
    return release


def pod_spec(ops: PlanResult) -> dict[str, Any]:
    template = backup_cron_job(ops).inputs["spec"]["jobTemplate"]["spec"]["template"]
    spec: dict[str, Any] = template["spec"]
    return spec


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def statements(policy: str) -> list[dict[str, Any]]:
    document = json.loads(policy)
    return [
        {**s, "Action": _list(s["Action"]), "Resource": _list(s.get("Resource", []))}
        for s in document["Statement"]
    ]


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def test_everything_is_one_component_through_the_explicit_providers(
    stack: PlanResult, ops: PlanResult
) -> None:
    (component,) = ops.of_type(COMPONENT)
    kubernetes_provider = stack.one(rt.KUBERNETES_PROVIDER)
    aws_provider = stack.one(rt.AWS_PROVIDER)
    for resource in ops.resources:
        if resource is component:
            continue
        assert resource.parent == component.urn, resource.urn
        if resource.type.startswith(rt.KUBERNETES_PREFIX):
            assert resource.provider == kubernetes_provider.urn, resource.urn
        if resource.type.startswith(rt.AWS_PREFIX):
            assert resource.provider == aws_provider.urn, resource.urn


def test_backup_role_is_pod_identity_and_may_only_write_prod_dumps(
    stack: PlanResult, ops: PlanResult
) -> None:
    backups = storage_bucket(stack, "backups")
    prod_key = bucket_key_arn(stack, backups)
    role = ops.one(rt.IAM_ROLE)
    (trust,) = statements(role.inputs["assumeRolePolicy"])
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}

    (policy,) = [p for p in ops.of_type(rt.IAM_ROLE_POLICY)]
    assert ops.by_id()[policy.inputs["role"]] == role
    allowed = statements(policy.inputs["policy"])
    assert all(s["Effect"] == "Allow" for s in allowed)
    s3 = [s for s in allowed if any(a.startswith("s3:") for a in s["Action"])]
    kms = [s for s in allowed if any(a.startswith("kms:") for a in s["Action"])]
    assert s3 and kms and len(s3) + len(kms) == len(allowed)
    for statement in s3:
        assert set(statement["Action"]) <= {"s3:PutObject", "s3:AbortMultipartUpload"}
        assert statement["Resource"] == [f"arn:aws:s3:::{backups.inputs['bucket']}/{PROD.name}/*"]
    for statement in kms:
        assert set(statement["Action"]) <= {"kms:GenerateDataKey", "kms:Decrypt"}
        assert statement["Resource"] == [prod_key]
        assert statement["Condition"] == {
            "StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
        }
    actions = {a for s in allowed for a in s["Action"]}
    assert not {a for a in actions if re.search(r"Get|List|Delete|\*", a)}


def test_the_cron_job_pod_gets_the_role_through_its_service_account(ops: PlanResult) -> None:
    role = ops.one(rt.IAM_ROLE)
    association = ops.one(rt.POD_IDENTITY_ASSOCIATION)
    account = ops.one(rt.SERVICE_ACCOUNT)
    assert association.inputs["roleArn"] == f"arn:aws:iam::123456789012:role/{role.inputs['name']}"
    assert association.inputs["clusterName"] == "pingvas-shared-eks"
    assert association.inputs["namespace"] == account.inputs["metadata"]["namespace"] == "prod"
    assert association.inputs["serviceAccount"] == account.inputs["metadata"]["name"]
    assert pod_spec(ops)["serviceAccountName"] == account.inputs["metadata"]["name"]
    # Pod Identity brings its own projected token: no Kubernetes API token is mounted.
    assert pod_spec(ops)["automountServiceAccountToken"] is False


def test_cron_job_runs_daily_at_two_utc_one_at_a_time_and_fails_visibly(
    ops: PlanResult,
) -> None:
    cron_job = backup_cron_job(ops)
    spec = cron_job.inputs["spec"]
    assert cron_job.inputs["metadata"]["namespace"] == PROD.namespace
    assert (spec["schedule"], spec["timeZone"]) == ("0 2 * * *", "Etc/UTC")
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 2
    assert job["activeDeadlineSeconds"] == 3600
    pod = pod_spec(ops)
    # A failed container fails the pod; the Job retries, then is marked Failed.
    assert pod["restartPolicy"] == "Never"


def test_the_pod_runs_the_repository_scripts_dump_first_then_upload(ops: PlanResult) -> None:
    pod = pod_spec(ops)
    (dump,) = pod["initContainers"]
    (upload,) = pod["containers"]
    (scripts_volume,) = [v for v in pod["volumes"] if "configMap" in v]
    config_map = named(ops, rt.CONFIG_MAP, scripts_volume["configMap"]["name"])
    scripts_dir = Path(backup.__file__).parent / "scripts"
    for container, script in ((dump, "backup-dump.sh"), (upload, "backup-upload.sh")):
        (mount,) = [m for m in container["volumeMounts"] if m["name"] == scripts_volume["name"]]
        assert container["command"] == ["/bin/bash", f"{mount['mountPath']}/{script}"]
        assert config_map.inputs["data"][script] == (scripts_dir / script).read_text()


def test_the_dump_is_prod_schema_only_as_prod_user_into_the_backups_bucket(
    stack: PlanResult, ops: PlanResult
) -> None:
    pod = pod_spec(ops)
    dump, upload = env_of(pod["initContainers"][0]), env_of(pod["containers"][0])
    assert dump["DB_SCHEMA"] == upload["DB_SCHEMA"] == PROD.schema
    # The tenancy layer's prod db-credentials Secret: prod_user's own URL, as a file (an
    # environment variable would show in the pod spec's consumers and crash dumps).
    assert "DATABASE_URL" not in dump
    (mount,) = [
        m
        for m in pod["initContainers"][0]["volumeMounts"]
        if dump["DATABASE_URL_FILE"].startswith(m["mountPath"] + "/")
    ]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"]["secretName"] == DB_CREDENTIALS_SECRET
    (item,) = volume["secret"]["items"]
    assert item["key"] == backup.DATABASE_URL_KEY
    assert dump["DATABASE_URL_FILE"] == f"{mount['mountPath']}/{item['path']}"
    (credentials,) = [
        s
        for s in stack.of_type(rt.KUBERNETES_SECRET)
        if s.layer == "tenancy"
        and s.inputs["metadata"]["name"] == DB_CREDENTIALS_SECRET
        and s.inputs["metadata"]["namespace"] == PROD.namespace
    ]
    assert backup.DATABASE_URL_KEY in credentials.inputs["stringData"]
    backups = storage_bucket(stack, "backups")
    assert upload["BACKUP_BUCKET"] == backups.inputs["bucket"]
    assert upload["BACKUP_PREFIX"] == PROD.name
    assert upload["KMS_KEY_ARN"] == bucket_key_arn(stack, backups)
    # Prod's own database, the one its Secret's URL names (tests/tenancy/test_component.py).
    assert upload["BACKUP_NAME"] == f"{PROD.database}-{PROD.schema}"


def test_backup_containers_are_pinned_unprivileged_and_read_only(ops: PlanResult) -> None:
    pod = pod_spec(ops)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in [*pod["initContainers"], *pod["containers"]]:
        image = container["image"]
        assert re.fullmatch(r"[a-z0-9./-]+:[0-9][0-9.]*(-[a-z]+)?", image), image
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"]["memory"]
    postgres_major = int(pod["initContainers"][0]["image"].split(":")[1].split(".")[0])
    # pg_dump must not be older than the server (Aurora PostgreSQL 16 or 17).
    assert postgres_major >= 17


def test_only_the_backup_pod_may_reach_the_pod_identity_agent(ops: PlanResult) -> None:
    policy = ops.one(rt.NETWORK_POLICY)
    spec = policy.inputs["spec"]
    template = backup_cron_job(ops).inputs["spec"]["jobTemplate"]["spec"]["template"]
    labels = template["metadata"]
    assert policy.inputs["metadata"]["namespace"] == PROD.namespace
    assert spec["podSelector"]["matchLabels"].items() <= labels["labels"].items()
    assert spec["policyTypes"] == ["Egress"]
    assert spec["egress"] == [
        {
            "to": [{"ipBlock": {"cidr": "169.254.170.23/32"}}],
            "ports": [{"protocol": "TCP", "port": 80}],
        }
    ]


def test_prometheus_rule_is_selected_by_the_charts_prometheus(ops: PlanResult) -> None:
    release = kube_prometheus_stack(ops)
    rule = named(ops, rt.PROMETHEUS_RULE, "pingvas-alerts")
    prometheus = release.inputs["values"]["prometheus"]["prometheusSpec"]
    assert prometheus["ruleSelectorNilUsesHelmValues"] is True
    # The chart then selects rules labelled release=<release name>, in its namespace.
    assert rule.inputs["metadata"]["labels"]["release"] == release.inputs["name"]
    assert rule.inputs["metadata"]["namespace"] == release.inputs["namespace"]
    assert release.urn in rule.dependencies
    alerts = {r["alert"] for g in rule.inputs["spec"]["groups"] for r in g["rules"]}
    assert {"DevResourceQuotaExceeded", "ProdResourceQuotaExceeded"} <= alerts
    for group in rule.inputs["spec"]["groups"]:
        for alert in group["rules"]:
            if alert["alert"].endswith("ResourceQuotaExceeded"):
                assert alert["for"] == "5m"
                assert "ignoring(type)" in alert["expr"]


def _selected_namespaces(selector: dict[str, Any], namespaces: list[str]) -> set[str]:
    """Namespaces a matchLabels selector picks, by the label the API server sets on each."""
    labels = selector["matchLabels"]
    return {n for n in namespaces if {"kubernetes.io/metadata.name": n} == labels}


def test_prometheus_reads_rules_and_targets_from_the_monitoring_namespace_only(
    ops: PlanResult,
) -> None:
    """A PrometheusRule a dev workload applies could page prod (namespace=prod) or inhibit
    prod's alerts; Prometheus must not load one. The stack's own rules and monitors must
    still be loaded."""
    spec = kube_prometheus_stack(ops).inputs["values"]["prometheus"]["prometheusSpec"]
    own = [
        r.inputs["metadata"]["namespace"]
        for kind in (rt.PROMETHEUS_RULE, rt.SERVICE_MONITOR)
        for r in ops.of_type(kind)
    ]
    assert own, "the stack renders rules and monitors of its own"
    candidates = sorted({*own, *(e.namespace for e in ENVIRONMENTS), "kube-system"})
    for selector in monitoring.WATCHED_KINDS_SELECTORS:
        chosen = _selected_namespaces(spec[selector], candidates)
        assert set(own) <= chosen, selector
        assert chosen.isdisjoint({e.namespace for e in ENVIRONMENTS}), selector


def test_charts_are_pinned_to_the_table(ops: PlanResult, with_argocd: PlanResult) -> None:
    charts = load_table("operations")["charts"]
    releases = {r.inputs["chart"]: r for r in with_argocd.of_type(rt.HELM_RELEASE)}
    assert set(releases) == {c["chart"] for c in charts.values()}
    for chart in charts.values():
        release = releases[chart["chart"]]
        assert re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", release.inputs["version"])
        assert release.inputs["version"] == chart["version"]
        assert release.inputs["repositoryOpts"]["repo"].startswith("https://")


def walk(value: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, value)]
    if isinstance(value, dict):
        for key, child in value.items():
            found += walk(child, (*path, key))
    return found


def test_monitoring_is_sized_and_placed_on_the_system_nodes(ops: PlanResult) -> None:
    values = kube_prometheus_stack(ops).inputs["values"]
    resources = [
        v for p, v in walk(values) if p and p[-1] == "resources" and "cpu" in v.get("requests", {})
    ]
    assert len(resources) >= 7
    for block in resources:
        assert set(block) == {"requests", "limits"}
        assert set(block["requests"]) == set(block["limits"]) == {"cpu", "memory"}
    selectors = [v for p, v in walk(values) if p and p[-1] == "nodeSelector"]
    assert len(selectors) >= 6
    assert all(s == {"role": "system"} for s in selectors)
    requested = sizing.total_requests(
        sizing.monitoring_workloads(sizing.Resources("250m", "1Gi", "1", "1536Mi"))
    )
    budget = sizing.Budget.from_table()
    assert requested[0] <= budget.cpu_millicores
    assert requested[1] <= budget.memory_mebibytes


def test_node_exporter_runs_on_gpu_nodes_too(ops: PlanResult) -> None:
    exporter = kube_prometheus_stack(ops).inputs["values"]["prometheus-node-exporter"]
    assert tolerates(exporter["tolerations"], GPU_TAINT)
    assert not tolerates([{"key": "other", "operator": "Exists"}], GPU_TAINT)


def test_prometheus_keeps_its_data_on_the_storage_layers_encrypted_gp3_class(
    stack: PlanResult, ops: PlanResult
) -> None:
    release = kube_prometheus_stack(ops)
    prometheus = release.inputs["values"]["prometheus"]["prometheusSpec"]
    claim = prometheus["storageSpec"]["volumeClaimTemplate"]["spec"]
    (storage_class,) = [
        c
        for c in stack.of_type(rt.STORAGE_CLASS)
        if c.inputs["metadata"]["name"] == claim["storageClassName"]
    ]
    # The storage layer's class, handed over as its output: the release waits for it.
    assert storage_class.layer == "storage"
    assert storage_class.urn in release.dependencies
    assert storage_class.inputs["provisioner"] == "ebs.csi.aws.com"
    parameters = storage_class.inputs["parameters"]
    assert (parameters["type"], parameters["encrypted"]) == ("gp3", "true")
    assert claim["resources"]["requests"]["storage"] == "20Gi"
    # Prometheus' size units are powers of two: the cap stays below the volume.
    assert int(prometheus["retentionSize"].removesuffix("GB")) < 20
    assert prometheus["retention"] == "15d"


def test_grafana_admin_password_is_generated(ops: PlanResult) -> None:
    grafana = kube_prometheus_stack(ops).raw_inputs["values"]["grafana"]
    secret = named(ops, rt.KUBERNETES_SECRET, grafana["admin"]["existingSecret"])
    password = ops.one(rt.RANDOM_PASSWORD)
    assert password.urn in secret.dependencies
    assert secret.inputs["stringData"][grafana["admin"]["passwordKey"]] == SECRET
    assert "adminPassword" not in grafana


def test_monitoring_toggle_off_leaves_only_the_backup(run_plan: PlanRunner) -> None:
    ops = layer_graph(
        run_plan({"pingvas-infra:operations": {"monitoring": {"enabled": False}}}, KEYS),
        "operations",
    )
    assert ops.of_type(rt.HELM_RELEASE) == []
    assert ops.of_type(rt.PROMETHEUS_RULE) == []
    kinds = {r.inputs.get("kind") for r in ops.resources if is_kubernetes_object(r)}
    assert kinds == {"CronJob", "ConfigMap", "ServiceAccount", "NetworkPolicy"}
    assert {c.inputs["metadata"]["name"] for c in ops.of_type(rt.CRON_JOB)} == {
        backup.NAME,
        model_sync.NAME,
    }


def test_argocd_is_off_by_default(ops: PlanResult) -> None:
    assert ops.of_type(rt.ARGOCD_APPLICATION_SET) == []
    assert [r for r in ops.of_type(rt.HELM_RELEASE) if r.inputs["chart"] == "argo-cd"] == []


def render_applications(application_set: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """What Argo CD's ApplicationSet controller generates from a list generator whose
    template uses only `{{ .field }}` substitutions and a `{{ toJson .patch }}` patch."""
    assert application_set["goTemplate"] is True
    assert application_set["templatePatch"] == "{{ toJson .patch }}"
    (generator,) = application_set["generators"]
    applications = {}
    for element in generator["list"]["elements"]:
        text = json.dumps(application_set["template"])
        for field, value in element.items():
            text = text.replace(f"{{{{ .{field} }}}}", str(value))
        assert "{{" not in text
        applications[element["env"]] = merge(json.loads(text), element["patch"])
    return applications


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def test_dev_syncs_itself_with_self_heal_and_prod_only_by_hand(with_argocd: PlanResult) -> None:
    application_set = with_argocd.one(rt.ARGOCD_APPLICATION_SET).inputs["spec"]
    apps = render_applications(application_set)
    assert set(apps) == {e.name for e in ENVIRONMENTS}
    dev, prod = apps[DEV.name], apps[PROD.name]
    # Booleans, not the design guide's templated strings.
    assert dev["spec"]["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    assert "automated" not in prod["spec"]["syncPolicy"]
    assert "automated" not in application_set["template"]["spec"]["syncPolicy"]
    for env, app in apps.items():
        assert app["spec"]["destination"]["namespace"] == env
        assert app["spec"]["source"]["path"] == f"deploy/{env}"
        assert app["spec"]["source"]["repoURL"] == REPO
    waves = {
        env: int(a["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])
        for env, a in apps.items()
    }
    assert waves[DEV.name] < waves[PROD.name]


def test_each_environment_has_its_own_argocd_project(with_argocd: PlanResult) -> None:
    """What each project lets an Application apply is proven in test_argocd_projects.py."""
    projects = {
        p.inputs["metadata"]["name"]: p.inputs["spec"]
        for p in with_argocd.of_type(rt.ARGOCD_APP_PROJECT)
    }
    assert set(projects) == {f"pingvas-services-{e.name}" for e in ENVIRONMENTS}
    for env in ENVIRONMENTS:
        spec = projects[f"pingvas-services-{env.name}"]
        assert [d["namespace"] for d in spec["destinations"]] == [env.namespace]
        assert spec["sourceRepos"] == [REPO]
        assert spec["clusterResourceWhitelist"] == []
    application_set = with_argocd.one(rt.ARGOCD_APPLICATION_SET)
    for env, app in render_applications(application_set.inputs["spec"]).items():
        assert app["spec"]["project"] == f"pingvas-services-{env}"
    release = [r for r in with_argocd.of_type(rt.HELM_RELEASE) if r.inputs["chart"] == "argo-cd"]
    assert release[0].urn in application_set.dependencies
    for project in with_argocd.of_type(rt.ARGOCD_APP_PROJECT):
        assert project.urn in application_set.dependencies


def test_rules_dashboards_and_backup_render_under_manifests(
    ops: PlanResult, tmp_path: Path
) -> None:
    written = {p.relative_to(tmp_path).as_posix() for p in write_manifests(ops, tmp_path)}
    assert {
        "monitoring/prometheusrule-pingvas-alerts.yaml",
        "monitoring/configmap-grafana-dashboard-pingvas-dev.yaml",
        "monitoring/configmap-grafana-dashboard-pingvas-prod.yaml",
        "prod/cronjob-prod-db-backup.yaml",
        "helm/kube-prometheus-stack.yaml",
    } <= written
    receivers = yaml.safe_load(
        (tmp_path / "monitoring/secret-alertmanager-receivers.yaml").read_text()
    )
    assert set(receivers["stringData"].values()) == {SECRET}
    helm = (tmp_path / "helm/kube-prometheus-stack.yaml").read_text()
    assert "routing_key_file" in helm
    for value in KEYS.values():
        assert value not in helm
