"""The tenancy layer's resources in the stack's graph, under the mock engine.

What it takes from the data layer (endpoints, the master secret, cache passwords) is read
from the data layer's own resources in the same graph."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pytest
from psycopg.conninfo import conninfo_to_dict

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import ENVIRONMENTS, PROD, Environment
from pingvas_infra.iam import POD_IDENTITY_PRINCIPAL
from pingvas_infra.plan.engine import run_program
from pingvas_infra.plan.kubernetes import kubernetes_objects, write_manifests
from pingvas_infra.plan.model import PlanResult, RecordedResource, reveal
from pingvas_infra.tenancy import bootstrap
from pingvas_infra.tenancy.component import DB_CREDENTIALS_SECRET, REDIS_SECRET
from pingvas_infra.tenancy.credentials import scram_sha256_verifier
from pingvas_infra.tenancy.static import SYSTEM_NAMESPACE, static_objects
from tests.support.plan_graph import PlanRunner, layer_graph, mock_outputs

COMPONENT = "pingvas:tenancy:Tenancy"
MESH = {"pingvas-infra:tenancy": {"serviceMesh": "istio"}}


def k8s_resources(graph: PlanResult) -> list[RecordedResource]:
    return [r for r in graph.resources if r.type.startswith(rt.KUBERNETES_PREFIX) and r.custom]


def objects(graph: PlanResult, *, reveal: bool = False) -> dict[str, dict[str, Any]]:
    return {o.relative_path: o.document for o in kubernetes_objects(graph, reveal=reveal)}


def find(graph: PlanResult, kind: str, name: str, namespace: str | None = None) -> RecordedResource:
    (found,) = [
        o.resource
        for o in kubernetes_objects(graph)
        if o.document["kind"] == kind
        and o.document["metadata"]["name"] == name
        and o.document["metadata"].get("namespace") == namespace
    ]
    return found


def revealed(resource: RecordedResource) -> dict[str, Any]:
    return dict(reveal(resource.raw_inputs))


def job(graph: PlanResult) -> RecordedResource:
    (found,) = graph.of_type(rt.JOB)
    return found


@pytest.fixture(scope="module")
def tenancy(graph: PlanResult) -> PlanResult:
    """The tenancy layer's own resources."""
    return layer_graph(graph, "tenancy")


@pytest.fixture(scope="module")
def aurora(graph: PlanResult) -> RecordedResource:
    return graph.one(rt.RDS_CLUSTER)


@pytest.fixture(scope="module")
def master_secret_arn(aurora: RecordedResource) -> str:
    """The RDS-managed master secret, as AWS (the mock) reports it for the cluster."""
    (secret,) = mock_outputs(aurora)["masterUserSecrets"]
    return str(secret["secretArn"])


def cache_passwords(graph: PlanResult) -> dict[str, str]:
    """Cache user name -> the password the data layer created it with."""
    return {
        user.inputs["userName"]: reveal(user.raw_inputs)["authenticationMode"]["passwords"][0]
        for user in graph.of_type(rt.CACHE_USER)
    }


# --- structure ---------------------------------------------------------------------------


def test_one_component_parents_everything(tenancy: PlanResult) -> None:
    (component,) = tenancy.of_type(COMPONENT)
    for resource in tenancy.resources:
        if resource is not component:
            assert resource.parent == component.urn, resource.urn


def test_kubernetes_objects_use_the_explicit_provider(
    graph: PlanResult, tenancy: PlanResult
) -> None:
    (provider,) = graph.of_type(rt.KUBERNETES_PROVIDER)
    assert k8s_resources(tenancy)
    for resource in k8s_resources(tenancy):
        assert resource.provider == provider.urn, resource.urn
    (aws_provider,) = graph.of_type(rt.AWS_PROVIDER)
    for resource in tenancy.resources:
        if resource.type.startswith(rt.AWS_PREFIX):
            assert resource.provider == aws_provider.urn


def test_no_remote_component_hides_objects(tenancy: PlanResult) -> None:
    for resource in tenancy.resources:
        assert not resource.remote, resource.urn
        assert "yaml" not in resource.type and "helm.sh/v4" not in resource.type


def test_every_static_object_is_applied_as_written(tenancy: PlanResult) -> None:
    for item in static_objects():
        resource = find(tenancy, item.kind, item.name, item.namespace)
        assert resource.type.startswith(rt.KUBERNETES_PREFIX)
        applied = {k: v for k, v in resource.inputs.items() if k not in ("apiVersion", "kind")}
        written = {k: v for k, v in item.document.items() if k not in ("apiVersion", "kind")}
        assert applied == written
        assert resource.inputs["apiVersion"] == item.document["apiVersion"]


def test_namespaced_objects_wait_for_their_namespace(graph: PlanResult) -> None:
    """Every layer's objects in a namespace the stack creates wait for that Namespace."""
    namespaces = {
        o.document["metadata"]["name"]: o.resource.urn
        for o in kubernetes_objects(graph)
        if o.document["kind"] == "Namespace"
    }
    checked = set()
    for item in kubernetes_objects(graph):
        namespace = item.document["metadata"].get("namespace")
        if namespace in namespaces:
            assert namespaces[namespace] in item.resource.dependencies, item.relative_path
            checked.add(item.resource.layer)
    assert {"tenancy", "storage", "operations"} <= checked


def test_the_mesh_label_only_with_a_mesh_and_never_on_the_platform(
    tenancy: PlanResult, run_plan: PlanRunner
) -> None:
    def labels(graph: PlanResult) -> dict[str, dict[str, str]]:
        return {
            o.document["metadata"]["name"]: o.document["metadata"]["labels"]
            for o in kubernetes_objects(graph)
            if o.document["kind"] == "Namespace"
        }

    assert all("istio-injection" not in v for v in labels(tenancy).values())
    meshed = labels(layer_graph(run_plan(MESH), "tenancy"))
    for env in ENVIRONMENTS:
        assert meshed[env.namespace]["istio-injection"] == "enabled"
    assert "istio-injection" not in meshed[SYSTEM_NAMESPACE]


def test_load_balancer_ports_follow_the_config(run_plan: PlanRunner) -> None:
    graph = run_plan({"pingvas-infra:tenancy": {"loadBalancerPorts": [8080, 8443]}})
    for env in ENVIRONMENTS:
        policy = find(graph, "NetworkPolicy", "allow-load-balancer", env.namespace)
        (rule,) = policy.inputs["spec"]["ingress"]
        assert [p["port"] for p in rule["ports"]] == [8080, 8443]
    closed = run_plan({"pingvas-infra:tenancy": {"loadBalancerPorts": []}})
    paths = objects(closed)
    assert not any("allow-load-balancer" in path for path in paths)


def test_app_service_accounts_never_mount_api_tokens(tenancy: PlanResult) -> None:
    for env in ENVIRONMENTS:
        account = find(tenancy, "ServiceAccount", env.app_service_account, env.namespace)
        assert account.inputs["automountServiceAccountToken"] is False


def test_what_other_layers_take_from_tenancy_exists(graph: PlanResult, tenancy: PlanResult) -> None:
    """The outputs other layers consume (namespaces, ServiceAccounts, Secret names) name
    objects this layer created, followed through the storage and operations layers."""
    created = {
        (
            o.document["kind"],
            o.document["metadata"].get("namespace"),
            o.document["metadata"]["name"],
        )
        for o in kubernetes_objects(tenancy)
    }
    storage = layer_graph(graph, "storage")
    for env in ENVIRONMENTS:
        assert ("Namespace", None, env.namespace) in created
        (association,) = [
            a
            for a in storage.of_type(rt.POD_IDENTITY_ASSOCIATION)
            if a.inputs["namespace"] == env.namespace
        ]
        service_account = association.inputs["serviceAccount"]
        assert ("ServiceAccount", env.namespace, service_account) in created
        assert service_account == env.app_service_account
    assert ("Namespace", None, SYSTEM_NAMESPACE) in created
    for claim in storage.of_type(rt.PERSISTENT_VOLUME_CLAIM):
        assert ("Namespace", None, claim.inputs["metadata"]["namespace"]) in created
    (cron_job,) = layer_graph(graph, "operations").of_type(rt.CRON_JOB)
    pod = cron_job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    references = [
        (cron_job.inputs["metadata"]["namespace"], v["secret"]["secretName"])
        for v in pod["volumes"]
        if "secret" in v
    ]
    assert references == [(PROD.namespace, DB_CREDENTIALS_SECRET)]
    for namespace, name in references:
        assert ("Secret", namespace, name) in created
    for env in ENVIRONMENTS:
        assert ("Secret", env.namespace, REDIS_SECRET) in created


def test_the_layer_refuses_to_run_without_a_kubernetes_provider() -> None:
    import pulumi_aws as aws  # noqa: PLC0415

    from pingvas_infra.tenancy.component import MissingKubernetesProvider, Tenancy  # noqa: PLC0415
    from pingvas_infra.tenancy.config import TenancyConfig  # noqa: PLC0415

    def program() -> None:
        Tenancy(
            "tenancy",
            TenancyConfig(),
            cluster_policy=[],
            network=None,  # type: ignore[arg-type]
            cluster=None,  # type: ignore[arg-type]
            data=None,  # type: ignore[arg-type]
            opts=pulumi.ResourceOptions(providers={"aws": aws.Provider("aws")}),
        )

    with pytest.raises(MissingKubernetesProvider, match="Kubernetes provider"):
        run_program(program, project="t", stack="t", config={}, secret_keys=[], region="us-east-1")


# --- per-environment credentials ---------------------------------------------------------


def _secret_data(graph: PlanResult, name: str, env: Environment) -> dict[str, str]:
    return revealed(find(graph, "Secret", name, env.namespace))["stringData"]


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_database_url_is_the_environments_own_role(
    graph: PlanResult, tenancy: PlanResult, aurora: RecordedResource, env: Environment
) -> None:
    data = _secret_data(tenancy, DB_CREDENTIALS_SECRET, env)
    parsed = conninfo_to_dict(data["DATABASE_URL"])
    assert parsed["user"] == env.db_user
    # The data layer's writer endpoint (a stack output), the environment's own database.
    assert parsed["host"] == graph.outputs["databaseWriterEndpoint"]
    assert parsed["host"] == mock_outputs(aurora)["endpoint"]
    assert parsed["port"] == "5432"
    assert parsed["dbname"] == env.database != aurora.inputs["databaseName"]
    assert parsed["sslmode"] == "require"
    assert parsed["options"] == f"-c search_path={env.schema}"
    assert data["DB_SCHEMA"] == env.schema
    assert len(parsed["password"]) == 32 and parsed["password"].isalnum()


def test_each_environment_has_its_own_password(tenancy: PlanResult) -> None:
    passwords = {
        conninfo_to_dict(_secret_data(tenancy, DB_CREDENTIALS_SECRET, env)["DATABASE_URL"])[
            "password"
        ]
        for env in ENVIRONMENTS
    }
    assert len(passwords) == len(ENVIRONMENTS)
    for password in tenancy.of_type(rt.RANDOM_PASSWORD):
        assert password.inputs["special"] is False


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_redis_config_is_a_secret_with_the_acl_user(
    graph: PlanResult, tenancy: PlanResult, env: Environment
) -> None:
    data = _secret_data(tenancy, REDIS_SECRET, env)
    url = urlsplit(data["REDIS_URL"])
    assert url.scheme == "rediss"
    # The data layer's cache user for the environment, with the password it was made with.
    password = cache_passwords(graph)[env.cache_user]
    assert (url.username, url.password) == (env.cache_user, password)
    host = graph.outputs["cachePrimaryEndpoint"]
    (group,) = graph.of_type(rt.CACHE_REPLICATION_GROUP)
    assert (url.hostname, url.port, url.path) == (host, group.inputs["port"], f"/{env.redis_db}")
    assert data["REDIS_DB"] == str(env.redis_db)
    assert data["REDIS_KEY_PREFIX"] == env.key_prefix
    # The design guide's ConfigMap of the same name, which would now hold a password, is gone.
    assert not [p for p in objects(tenancy) if p.endswith(f"configmap-{REDIS_SECRET}.yaml")]


def test_database_credentials_wait_for_the_schema_bootstrap(tenancy: PlanResult) -> None:
    bootstrap_job = job(tenancy)
    for env in ENVIRONMENTS:
        secret = find(tenancy, "Secret", DB_CREDENTIALS_SECRET, env.namespace)
        assert bootstrap_job.urn in secret.dependencies


# --- schema bootstrap --------------------------------------------------------------------


def test_bootstrap_role_is_trusted_by_pod_identity_for_its_service_account_only(
    tenancy: PlanResult,
) -> None:
    (role,) = tenancy.of_type(rt.IAM_ROLE)
    (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Service": POD_IDENTITY_PRINCIPAL}
    assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
    condition = dict(statement["Condition"]["StringEquals"])
    assert condition.pop("aws:RequestTag/eks-cluster-arn").endswith(":cluster/pingvas-shared-eks")
    assert condition == {
        "aws:RequestTag/kubernetes-namespace": SYSTEM_NAMESPACE,
        "aws:RequestTag/kubernetes-service-account": bootstrap.SERVICE_ACCOUNT,
    }


def test_bootstrap_role_reads_the_master_secret_and_nothing_else(
    tenancy: PlanResult, aurora: RecordedResource, master_secret_arn: str
) -> None:
    (role,) = tenancy.of_type(rt.IAM_ROLE)
    policies = tenancy.of_type(rt.IAM_ROLE_POLICY)
    assert tenancy.of_type(rt.IAM_ROLE_POLICY_ATTACHMENT) == []
    (policy,) = policies
    assert role.urn in policy.dependencies
    grants = {
        (action, s["Resource"]): s.get("Condition")
        for s in json.loads(policy.inputs["policy"])["Statement"]
        for action in s["Action"]
        if s["Effect"] == "Allow"
    }
    assert grants == {
        ("secretsmanager:GetSecretValue", master_secret_arn): None,
        # The data layer's key, which encrypts the master secret.
        ("kms:Decrypt", aurora.inputs["masterUserSecretKmsKeyId"]): {
            "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
        },
    }


def test_pod_identity_binds_the_role_to_the_job_service_account(
    tenancy: PlanResult,
) -> None:
    (association,) = tenancy.of_type(rt.POD_IDENTITY_ASSOCIATION)
    (role,) = tenancy.of_type(rt.IAM_ROLE)
    assert association.inputs["clusterName"] == "pingvas-shared-eks"
    assert association.inputs["namespace"] == SYSTEM_NAMESPACE
    assert association.inputs["serviceAccount"] == bootstrap.SERVICE_ACCOUNT
    assert role.urn in association.dependencies
    spec = job(tenancy).inputs["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == bootstrap.SERVICE_ACCOUNT
    find(tenancy, "ServiceAccount", bootstrap.SERVICE_ACCOUNT, SYSTEM_NAMESPACE)
    assert association.urn in job(tenancy).dependencies


def test_the_job_runs_the_sql_file_itself(
    graph: PlanResult, tenancy: PlanResult, aurora: RecordedResource, master_secret_arn: str
) -> None:
    config_map = find(tenancy, "ConfigMap", bootstrap.CONFIG_MAP, SYSTEM_NAMESPACE)
    assert config_map.inputs["data"]["bootstrap.sql"] == bootstrap.SQL_FILE.read_text()
    assert config_map.inputs["data"]["database.sql"] == bootstrap.DATABASE_SQL_FILE.read_text()
    assert config_map.inputs["data"]["bootstrap.sh"] == bootstrap.SCRIPT_FILE.read_text()
    spec = job(tenancy).inputs["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["bootstrap"]["configMap"]["name"] == bootstrap.CONFIG_MAP
    (psql,) = spec["containers"]
    env = {e["name"]: e["value"] for e in psql["env"]}
    assert psql["command"][-1] == "/bootstrap/bootstrap.sh"
    assert env["BOOTSTRAP_SQL"] == "/bootstrap/bootstrap.sql"
    assert env["BOOTSTRAP_DATABASE_SQL"] == "/bootstrap/database.sql"
    assert env["BOOTSTRAP_TARGETS"].split() == [bootstrap.target(e) for e in ENVIRONMENTS]
    assert (env["PGHOST"], env["PGDATABASE"], env["PGUSER"]) == (
        graph.outputs["databaseWriterEndpoint"],
        aurora.inputs["databaseName"],
        aurora.inputs["masterUsername"],
    )
    assert env["PGSSLMODE"] == "require"
    (fetch,) = spec["initContainers"]
    fetch_env = {e["name"]: e["value"] for e in fetch["env"]}
    assert fetch_env["MASTER_SECRET_ARN"] == master_secret_arn
    assert fetch_env["MASTER_SECRET_FILE"] == env["MASTER_SECRET_FILE"]
    assert volumes["master-secret"]["emptyDir"]["medium"] == "Memory"


def test_the_role_verifiers_match_the_applications_passwords(tenancy: PlanResult) -> None:
    """The password the Job sets (as a verifier) is the one the application connects with."""
    roles = revealed(find(tenancy, "Secret", bootstrap.ROLE_PASSWORDS_SECRET, SYSTEM_NAMESPACE))
    verifiers = roles["stringData"]
    assert set(verifiers) == {env.db_user for env in ENVIRONMENTS}
    for env in ENVIRONMENTS:
        url = _secret_data(tenancy, DB_CREDENTIALS_SECRET, env)["DATABASE_URL"]
        password = conninfo_to_dict(url)["password"]
        salt = base64.b64decode(verifiers[env.db_user].split("$")[1].split(":")[1])
        assert scram_sha256_verifier(password, salt) == verifiers[env.db_user]
    spec = job(tenancy).inputs["spec"]["template"]["spec"]
    (secret_volume,) = [v for v in spec["volumes"] if "secret" in v]
    assert secret_volume["secret"]["secretName"] == bootstrap.ROLE_PASSWORDS_SECRET


def test_the_job_is_locked_down(tenancy: PlanResult) -> None:
    """What Pod Security `restricted` (the platform namespace's level) demands, and more."""
    bootstrap_job = job(tenancy)
    spec = bootstrap_job.inputs["spec"]
    assert spec["backoffLimit"] == 3
    assert spec["ttlSecondsAfterFinished"] == 86400
    assert spec["activeDeadlineSeconds"] > 0
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for container in [*pod["initContainers"], *pod["containers"]]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"] == {"drop": ["ALL"]}
        image, _, tag = container["image"].rpartition(":")
        assert image and tag and tag != "latest" and tag[0].isdigit(), container["image"]
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    for volume in pod["volumes"]:
        assert set(volume) & {"configMap", "secret", "emptyDir"}, volume


def test_the_job_name_changes_with_what_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    database = bootstrap.Database(
        host="h", port=5432, name="d", master_username="m", master_secret_arn="arn:aws:x:r:1:s"
    )
    first = bootstrap.job_name(database, ENVIRONMENTS, "verifiers-1")
    assert first.startswith(f"{bootstrap.NAME}-")
    assert bootstrap.job_name(database, ENVIRONMENTS, "verifiers-1") == first
    assert bootstrap.job_name(database, ENVIRONMENTS, "verifiers-2") != first
    monkeypatch.setattr(bootstrap, "sql_text", lambda: "SELECT 'changed';")
    assert bootstrap.job_name(database, ENVIRONMENTS, "verifiers-1") != first


def test_the_job_waits_for_its_network_policies(tenancy: PlanResult) -> None:
    bootstrap_job = job(tenancy)
    for item in kubernetes_objects(tenancy):
        document = item.document
        if document["kind"] == "NetworkPolicy" and document["metadata"]["namespace"] == (
            SYSTEM_NAMESPACE
        ):
            static = document["metadata"]["name"] in ("default-deny", "allow-dns")
            if not static:
                assert item.resource.urn in bootstrap_job.dependencies


# --- secrets never leak ------------------------------------------------------------------


def _secret_values(graph: PlanResult) -> set[str]:
    passwords = cache_passwords(graph)
    values = {passwords[env.cache_user] for env in ENVIRONMENTS}
    for env in ENVIRONMENTS:
        url = _secret_data(graph, DB_CREDENTIALS_SECRET, env)["DATABASE_URL"]
        values.add(conninfo_to_dict(url)["password"])
    roles = revealed(find(graph, "Secret", bootstrap.ROLE_PASSWORDS_SECRET, SYSTEM_NAMESPACE))
    values.update(roles["stringData"].values())
    return values


def test_no_password_reaches_the_plan_or_the_manifests(graph: PlanResult, tmp_path: Path) -> None:
    """The whole stack's plan files, as `pingvas-infra plan` writes them."""
    values = _secret_values(graph)
    assert len(values) == 2 * len(ENVIRONMENTS) + len(ENVIRONMENTS)
    written = [tmp_path / "resources.json"]
    written[0].write_text(graph.resources_json())
    written += write_manifests(graph, tmp_path / "manifests")
    written.append(tmp_path / "outputs.json")
    written[-1].write_text(json.dumps(graph.outputs))
    for path in written:
        text = path.read_text()
        for value in values:
            assert value not in text, f"a secret value in {path.name}"
