"""The data layer's graph (Aurora, Valkey) in the default stack, under the mock engine."""

from __future__ import annotations

import json
import shlex

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.data.cache_acl import cache_access_string
from pingvas_infra.environments import ENVIRONMENTS, Environment
from pingvas_infra.plan.model import PlanResult, RecordedResource, reveal
from pingvas_infra.tables import load_table
from tests.support.plan_graph import PlanRunner, cluster_security_group_id, tags_of


def data_layer(graph: PlanResult) -> list[RecordedResource]:
    return [r for r in graph.resources if r.layer == "data"]


def data_subnet_ids(graph: PlanResult) -> set[str]:
    """The network layer's data tier."""
    return {str(s.id) for s in graph.of_type(rt.SUBNET) if tags_of(s.inputs).get("Tier") == "data"}


def test_two_serverless_instances_in_distinct_azs(graph: PlanResult) -> None:
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    instances = graph.of_type(rt.RDS_CLUSTER_INSTANCE)
    assert len(instances) == 2
    assert {i.inputs["instanceClass"] for i in instances} == {"db.serverless"}
    assert {i.inputs["clusterIdentifier"] for i in instances} == {
        cluster.inputs["clusterIdentifier"]
    }
    zones = [i.inputs["availabilityZone"] for i in instances]
    assert len(set(zones)) == 2
    assert set(zones) <= {"us-east-1a", "us-east-1b", "us-east-1c"}
    # The reader in tier 2: it scales with its own load, not the writer's (README, "Aurora
    # failover and cost").
    tiers = {i.inputs["tags"]["Role"]: i.inputs["promotionTier"] for i in instances}
    assert tiers == {"writer": 0, "reader": 2}
    for instance in instances:
        assert instance.inputs["publiclyAccessible"] is False
        assert instance.inputs["autoMinorVersionUpgrade"] is True
        assert instance.inputs["performanceInsightsEnabled"] is True
        assert instance.inputs["performanceInsightsRetentionPeriod"] == 7
        assert instance.inputs["performanceInsightsKmsKeyId"] == cluster.inputs["kmsKeyId"]


def test_scaling_configuration_lets_idle_instances_pause(graph: PlanResult) -> None:
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    scaling = cluster.inputs["serverlessv2ScalingConfiguration"]
    # The design guide's 4 ACU maximum; a 0 minimum so the reader nobody connects to pauses.
    assert scaling == {"minCapacity": 0, "maxCapacity": 4, "secondsUntilAutoPause": 300}
    version = cluster.inputs["engineVersion"]
    assert version in load_table("aurora_versions")["versions"]
    assert cluster.inputs["engine"] == "aurora-postgresql"
    assert cluster.inputs["engineMode"] == "provisioned"


def test_scale_to_zero_sends_the_auto_pause_delay(run_plan: PlanRunner) -> None:
    graph = run_plan(
        {"pingvas-infra:data": {"aurora": {"minAcu": 0, "maxAcu": 2, "secondsUntilAutoPause": 900}}}
    )
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    assert cluster.inputs["serverlessv2ScalingConfiguration"] == {
        "minCapacity": 0,
        "maxCapacity": 2,
        "secondsUntilAutoPause": 900,
    }


def test_cluster_is_encrypted_protected_and_manages_its_password(
    graph: PlanResult,
) -> None:
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    inputs = cluster.inputs
    assert inputs["databaseName"] == "pingvas_saas"
    assert inputs["masterUsername"] == "pingvas_admin"
    assert inputs["manageMasterUserPassword"] is True
    assert "masterPassword" not in inputs and "masterPasswordWo" not in inputs
    assert inputs["storageEncrypted"] is True
    assert inputs["masterUserSecretKmsKeyId"] == inputs["kmsKeyId"]
    assert inputs["iamDatabaseAuthenticationEnabled"] is True
    assert inputs["autoMinorVersionUpgrade"] is True
    assert inputs["backupRetentionPeriod"] >= 7
    assert inputs["preferredBackupWindow"] and inputs["preferredMaintenanceWindow"]
    assert inputs["deletionProtection"] is True
    assert inputs["skipFinalSnapshot"] is False
    assert inputs["copyTagsToSnapshot"] is True
    assert cluster.protect is True


def test_the_data_key_is_customer_managed_and_rotated(graph: PlanResult) -> None:
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    (group,) = graph.of_type(rt.CACHE_REPLICATION_GROUP)
    (key,) = [k for k in graph.of_type(rt.KMS_KEY) if k.layer == "data"]
    assert key.inputs["enableKeyRotation"] is True
    assert 7 <= key.inputs["deletionWindowInDays"] <= 30
    # The key id (a UUID) is the last part of the ARN every consumer was given.
    key_arn = cluster.inputs["kmsKeyId"]
    assert key_arn.startswith("arn:aws:kms:us-east-1:")
    assert group.inputs["kmsKeyId"] == key_arn


def test_final_snapshot_name_is_stable_between_plans(
    graph: PlanResult, run_plan_uncached: PlanRunner
) -> None:
    (first,) = graph.of_type(rt.RDS_CLUSTER)
    (second,) = run_plan_uncached({}).of_type(rt.RDS_CLUSTER)
    name = first.inputs["finalSnapshotIdentifier"]
    assert name == second.inputs["finalSnapshotIdentifier"]
    assert name.startswith(first.inputs["clusterIdentifier"])


def test_parameter_group_matches_the_engine_and_logs_ddl_over_tls(
    graph: PlanResult,
) -> None:
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    (group,) = graph.of_type(rt.RDS_CLUSTER_PARAMETER_GROUP)
    by_id = graph.by_id()
    assert by_id[cluster.inputs["dbClusterParameterGroupName"]] is group
    family = load_table("aurora_versions")["versions"][cluster.inputs["engineVersion"]][
        "parameter_group_family"
    ]
    assert group.inputs["family"] == family
    parameters = {p["name"]: p["value"] for p in group.inputs["parameters"]}
    assert parameters == {
        "log_statement": "ddl",
        "log_connections": "1",
        "rds.force_ssl": "1",
        # Statements slower than data.aurora.slowStatementMs (1 s) are logged.
        "log_min_duration_statement": "1000",
    }


def test_postgresql_log_exported_to_a_precreated_bounded_group(
    graph: PlanResult,
) -> None:
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    assert cluster.inputs["enabledCloudwatchLogsExports"] == ["postgresql"]
    (log_group,) = [g for g in graph.of_type(rt.LOG_GROUP) if g.layer == "data"]
    assert log_group.inputs["name"] == (
        f"/aws/rds/cluster/{cluster.inputs['clusterIdentifier']}/postgresql"
    )
    assert log_group.inputs["retentionInDays"] == 30
    assert log_group.urn in cluster.dependencies


def test_aurora_and_cache_live_in_the_data_subnets(graph: PlanResult) -> None:
    by_id = graph.by_id()
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    rds_subnets = by_id[cluster.inputs["dbSubnetGroupName"]]
    assert rds_subnets.type == rt.RDS_SUBNET_GROUP
    assert len(data_subnet_ids(graph)) == 3
    assert set(rds_subnets.inputs["subnetIds"]) == data_subnet_ids(graph)
    (group,) = graph.of_type(rt.CACHE_REPLICATION_GROUP)
    cache_subnets = by_id[group.inputs["subnetGroupName"]]
    assert cache_subnets.type == rt.CACHE_SUBNET_GROUP
    assert set(cache_subnets.inputs["subnetIds"]) == data_subnet_ids(graph)


@pytest.mark.parametrize(
    ("consumer", "port"), [(rt.RDS_CLUSTER, 5432), (rt.CACHE_REPLICATION_GROUP, 6379)]
)
def test_security_groups_admit_only_the_cluster(
    graph: PlanResult, consumer: str, port: int
) -> None:
    (resource,) = graph.of_type(consumer)
    key = "vpcSecurityGroupIds" if consumer == rt.RDS_CLUSTER else "securityGroupIds"
    (group_id,) = resource.inputs[key]
    group = graph.by_id()[group_id]
    assert group.type == rt.SECURITY_GROUP
    assert group.inputs["vpcId"] == graph.one(rt.VPC).id
    assert not group.inputs.get("ingress") and not group.inputs.get("egress")
    rules = [
        r
        for r in graph.of_type(rt.SECURITY_GROUP_INGRESS_RULE)
        if r.inputs["securityGroupId"] == group_id
    ]
    assert len(rules) == 1
    (rule,) = rules
    assert rule.inputs["referencedSecurityGroupId"] == cluster_security_group_id(graph)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
        "tcp",
        port,
        port,
    )
    assert not {"cidrIpv4", "cidrIpv6", "prefixListId"} & set(rule.inputs)
    assert not [
        r
        for r in graph.of_type(rt.SECURITY_GROUP_EGRESS_RULE)
        if r.inputs["securityGroupId"] == group_id
    ]


def test_replication_group_is_multi_az_encrypted_and_snapshotted(
    graph: PlanResult,
) -> None:
    (group,) = graph.of_type(rt.CACHE_REPLICATION_GROUP)
    inputs = group.inputs
    assert inputs["engine"] == "valkey"
    assert inputs["engineVersion"] in [
        str(v) for v in load_table("cache_engine_versions")["versions"]
    ]
    assert inputs["clusterMode"] == "disabled"
    assert inputs["numCacheClusters"] == 2
    azs = inputs["preferredCacheClusterAzs"]
    assert len(azs) == 2 and len(set(azs)) == 2
    assert inputs["automaticFailoverEnabled"] is True
    assert inputs["multiAzEnabled"] is True
    assert inputs["atRestEncryptionEnabled"] is True
    assert inputs["transitEncryptionEnabled"] is True
    assert inputs["transitEncryptionMode"] == "required"
    assert inputs["snapshotRetentionLimit"] >= 1
    assert inputs["snapshotWindow"]
    assert inputs["nodeType"] == "cache.t4g.micro"
    assert "authToken" not in inputs


def test_user_group_disables_default_and_holds_one_user_per_environment(
    graph: PlanResult,
) -> None:
    (group,) = graph.of_type(rt.CACHE_REPLICATION_GROUP)
    (user_group,) = graph.of_type(rt.CACHE_USER_GROUP)
    assert group.inputs["userGroupIds"] == [user_group.inputs["userGroupId"]]
    assert user_group.inputs["engine"] == "valkey"
    users = {u.inputs["userId"]: u for u in graph.of_type(rt.CACHE_USER)}
    members = [users[i] for i in user_group.inputs["userIds"]]
    by_name = {u.inputs["userName"]: u for u in members}
    assert set(by_name) == {"default", *(e.cache_user for e in ENVIRONMENTS)}
    default_rules = shlex.split(by_name["default"].inputs["accessString"])
    assert default_rules[0] == "off"
    assert "-@all" in default_rules
    for user in members:
        assert user.inputs["engine"] == "valkey"
        assert user.inputs["authenticationMode"]["type"] == "password"


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_cache_users_acl_confines_each_environment_to_its_prefix(
    graph: PlanResult, env: Environment
) -> None:
    (user,) = [u for u in graph.of_type(rt.CACHE_USER) if u.inputs["userName"] == env.cache_user]
    access = user.inputs["accessString"]
    assert access == cache_access_string(env)
    rules = access.split()
    assert rules[0] == "on"
    assert [r for r in rules if r.startswith("~")] == [f"~{env.key_prefix}*"]
    assert [r for r in rules if r.startswith("&")] == [f"&{env.key_prefix}*"]
    assert not {"allkeys", "allchannels", "nopass"} & set(rules)
    assert not any(rule.startswith(">") for rule in rules)
    for other in ENVIRONMENTS:
        if other is not env:
            assert other.key_prefix not in access


def test_no_plaintext_password_in_resources_json(graph: PlanResult) -> None:
    # The mock passwords, read from the engine's (unredacted) view of the cache users.
    passwords = {
        password
        for user in graph.of_type(rt.CACHE_USER)
        for password in reveal(user.raw_inputs)["authenticationMode"]["passwords"]
    }
    assert len(passwords) == 3
    rendered = graph.resources_json()
    assert not [p for p in passwords if p in rendered]
    written = json.loads(rendered)["resources"]
    for user in (r for r in written if r["type"] == rt.CACHE_USER):
        assert user["inputs"]["authenticationMode"]["passwords"] == ["[secret]"]


def test_every_data_resource_is_a_child_of_the_component(graph: PlanResult) -> None:
    (component,) = graph.of_type("pingvas:data:Data")
    children = [r for r in data_layer(graph) if r is not component]
    assert children
    assert {r.parent for r in children} == {component.urn}


def provider_state_after_read(configured: str, running: str) -> str:
    """The `engineVersion` the AWS provider keeps in its state after reading a cluster that
    runs ``running`` while the program configured ``configured``: the configured value when
    it is the running one, or a prefix of it followed by "."; the running one otherwise.
    (terraform-provider-aws internal/service/rds compareActualEngineVersion, which
    pulumi-aws bridges; in the provider since PR #20211, July 2021.)"""
    if configured == running or running.startswith(configured + "."):
        return configured
    return running


def test_only_the_major_is_pinned_so_an_automatic_upgrade_plans_no_downgrade(
    graph: PlanResult,
) -> None:
    """AWS upgrades the minor itself (autoMinorVersionUpgrade, mandatory). With the major
    alone the provider keeps "17" after AWS moves 17.4 to 17.10, so the next plan is
    empty; with an exact pin it would plan 17.10 -> 17.9, which RDS refuses."""
    (cluster,) = graph.of_type(rt.RDS_CLUSTER)
    configured = cluster.inputs["engineVersion"]
    assert configured == "17"
    assert cluster.inputs["autoMinorVersionUpgrade"] is True
    for running in ("17.4", "17.9", "17.10", "17.12.1"):
        assert provider_state_after_read(configured, running) == configured
    # A pin the stack does not allow, for contrast: the provider records the running
    # version and the configured one is a downgrade.
    assert provider_state_after_read("17.9", "17.10") == "17.10"
    # The instances name no version of their own: they follow the cluster.
    instances = graph.of_type(rt.RDS_CLUSTER_INSTANCE)
    assert instances and all("engineVersion" not in i.inputs for i in instances)
