"""The storage layer's graph in the default stack: buckets, EFS and its volumes, workload
roles, the default block StorageClass (mock engine)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pingvas_infra import resource_types as rt
from pingvas_infra.environments import DEV, ENVIRONMENTS, PROD, Environment
from pingvas_infra.plan.kubernetes import kubernetes_objects, write_manifests
from pingvas_infra.plan.model import PlanResult, RecordedResource
from pingvas_infra.storage.config import BUCKET_BASE_NAMES
from pingvas_infra.tenancy.static import SYSTEM_NAMESPACE
from tests.support.plan_graph import PlanRunner, cluster_security_group_id, layer_graph, tags_of

VERSIONED = {"prod-images", "models", "backups"}


@pytest.fixture(scope="module")
def storage(graph: PlanResult) -> PlanResult:
    """The storage layer's own resources (other layers have roles and keys too)."""
    return layer_graph(graph, "storage")


def buckets(graph: PlanResult) -> dict[str, RecordedResource]:
    """Purpose -> bucket, read from each bucket's Purpose tag."""
    return {b.inputs["tags"]["Purpose"]: b for b in graph.of_type(rt.BUCKET)}


def attached(
    graph: PlanResult, type_token: str, bucket: RecordedResource
) -> list[RecordedResource]:
    """Resources of ``type_token`` configuring ``bucket`` (matched by the bucket's name)."""
    return [r for r in graph.of_type(type_token) if r.inputs["bucket"] == bucket.inputs["bucket"]]


def one_attached(graph: PlanResult, type_token: str, bucket: RecordedResource) -> RecordedResource:
    (found,) = attached(graph, type_token, bucket)
    return found


def bucket_arn(graph: PlanResult, bucket: RecordedResource) -> str:
    """The bucket's ARN, as its own TLS-only policy names it."""
    policy = json.loads(one_attached(graph, rt.BUCKET_POLICY, bucket).inputs["policy"])
    (deny,) = [s for s in policy["Statement"] if s["Sid"] == "DenyInsecureTransport"]
    arns = [r for r in deny["Resource"] if not r.endswith("/*")]
    (arn,) = arns
    return str(arn)


def encryption_rule(graph: PlanResult, bucket: RecordedResource) -> dict[str, Any]:
    (rule,) = one_attached(graph, rt.BUCKET_ENCRYPTION, bucket).inputs["rules"]
    return dict(rule)


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, str):
        yield value


def test_five_buckets_named_after_the_guide_with_account_suffix(
    graph: PlanResult,
) -> None:
    found = buckets(graph)
    assert set(found) == set(BUCKET_BASE_NAMES)
    names = {p: b.inputs["bucket"] for p, b in found.items()}
    assert names["dev-images"] == "pingvas-dev-images-123456789012"
    assert names["models"] == "pingvas-models-shared-123456789012"
    assert all(len(n) <= 63 for n in names.values())


def test_prefix_and_suffix_shape_every_name(run_plan: PlanRunner) -> None:
    graph = run_plan({"pingvas-infra:storage": {"bucketPrefix": "acme-", "bucketSuffix": "-eu1"}})
    names = {b.inputs["bucket"] for b in graph.of_type(rt.BUCKET)}
    assert names == {f"acme-pingvas-{base}-eu1" for base in BUCKET_BASE_NAMES.values()}


def test_every_bucket_blocks_public_access_and_disables_acls(
    graph: PlanResult,
) -> None:
    for bucket in buckets(graph).values():
        block = one_attached(graph, rt.BUCKET_PUBLIC_ACCESS_BLOCK, bucket).inputs
        for flag in (
            "blockPublicAcls",
            "blockPublicPolicy",
            "ignorePublicAcls",
            "restrictPublicBuckets",
        ):
            assert block[flag] is True
        ownership = one_attached(graph, rt.BUCKET_OWNERSHIP_CONTROLS, bucket).inputs
        assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_every_bucket_is_encrypted_kms_where_it_matters(graph: PlanResult) -> None:
    found = buckets(graph)
    for purpose, bucket in found.items():
        rule = encryption_rule(graph, bucket)
        algorithm = rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"]
        if purpose in VERSIONED:
            assert algorithm == "aws:kms"
            assert rule["bucketKeyEnabled"] is True
            assert rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"].startswith(
                "arn:aws:kms:"
            )
        else:
            # Server access logs can only be delivered to SSE-S3 buckets; dev images stay
            # off every KMS key.
            assert algorithm == "AES256"
    key_of = {
        p: encryption_rule(graph, found[p])["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
        for p in VERSIONED
    }
    assert key_of["prod-images"] == key_of["backups"]
    assert key_of["models"] != key_of["prod-images"]


def test_every_bucket_refuses_plain_http(graph: PlanResult) -> None:
    for bucket in buckets(graph).values():
        policy = json.loads(one_attached(graph, rt.BUCKET_POLICY, bucket).inputs["policy"])
        arn = f"arn:aws:s3:::{bucket.inputs['bucket']}"
        denies = [
            s
            for s in policy["Statement"]
            if s["Effect"] == "Deny"
            and s["Principal"] == "*"
            and s["Action"] == "*"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert len(denies) == 1
        assert set(denies[0]["Resource"]) == {arn, f"{arn}/*"}


def test_access_logs_of_four_buckets_go_to_the_logs_bucket(
    graph: PlanResult,
) -> None:
    found = buckets(graph)
    logs = found["logs"]
    assert not attached(graph, rt.BUCKET_LOGGING, logs)
    sources = []
    for purpose, bucket in found.items():
        if purpose == "logs":
            continue
        logging = one_attached(graph, rt.BUCKET_LOGGING, bucket).inputs
        assert logging["targetBucket"] == logs.inputs["bucket"]
        assert logging["targetPrefix"] == f"s3/{purpose}/"
        sources.append(bucket_arn(graph, bucket))
    policy = json.loads(one_attached(graph, rt.BUCKET_POLICY, logs).inputs["policy"])
    (delivery,) = [s for s in policy["Statement"] if s["Sid"] == "AllowServerAccessLogDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "s3:PutObject"
    assert delivery["Resource"] == f"{bucket_arn(graph, logs)}/s3/*"
    assert sorted(delivery["Condition"]["ArnLike"]["aws:SourceArn"]) == sorted(sources)
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}


def test_versioning_and_protect_on_what_cannot_be_regenerated(
    graph: PlanResult,
) -> None:
    for purpose, bucket in buckets(graph).items():
        versioning = attached(graph, rt.BUCKET_VERSIONING, bucket)
        if purpose in VERSIONED:
            (only,) = versioning
            assert only.inputs["versioningConfiguration"]["status"] == "Enabled"
            assert bucket.protect is True
        else:
            assert not versioning
            assert bucket.protect is False
        assert bucket.inputs["forceDestroy"] is False


def test_lifecycle_rules(graph: PlanResult) -> None:
    for purpose, bucket in buckets(graph).items():
        lifecycle = one_attached(graph, rt.BUCKET_LIFECYCLE, bucket)
        rules = {r["id"]: r for r in lifecycle.inputs["rules"]}
        assert all(r["status"] == "Enabled" for r in rules.values())
        aborts = [r for r in rules.values() if "abortIncompleteMultipartUpload" in r]
        assert aborts and aborts[0]["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7
        noncurrent = [r for r in rules.values() if "noncurrentVersionExpiration" in r]
        expiring = [
            r["expiration"]["days"] for r in rules.values() if "days" in r.get("expiration", {})
        ]
        assert bool(noncurrent) == (purpose in VERSIONED)
        if purpose in VERSIONED:
            versioning = one_attached(graph, rt.BUCKET_VERSIONING, bucket)
            assert versioning.urn in lifecycle.dependencies
        # Backups expire early enough that the noncurrent day and the delete marker fit in
        # the 35 days (tests/storage/test_backup_retention.py).
        assert expiring == {"logs": [90], "backups": [31]}.get(purpose, [])


def test_backup_retention_is_configurable(run_plan: PlanRunner) -> None:
    graph = run_plan({"pingvas-infra:storage": {"backupRetentionDays": 400}})
    backups = buckets(graph)["backups"]
    rules = one_attached(graph, rt.BUCKET_LIFECYCLE, backups).inputs["rules"]
    assert [r["expiration"]["days"] for r in rules if "days" in r.get("expiration", {})] == [396]


def test_storage_keys_rotate(storage: PlanResult) -> None:
    keys = storage.of_type(rt.KMS_KEY)
    assert len(keys) == 2
    assert all(k.inputs["enableKeyRotation"] is True for k in keys)
    assert all(k.inputs["deletionWindowInDays"] == 30 for k in keys)


def test_efs_is_encrypted_bursting_backed_up_and_tls_only(graph: PlanResult) -> None:
    (file_system,) = graph.of_type(rt.EFS_FILE_SYSTEM)
    inputs = file_system.inputs
    models_key = encryption_rule(graph, buckets(graph)["models"])[
        "applyServerSideEncryptionByDefault"
    ]["kmsMasterKeyId"]
    assert inputs["encrypted"] is True
    assert inputs["kmsKeyId"] == models_key
    # Bursting by default (free; README "Cost" shows what Elastic would add).
    assert inputs["throughputMode"] == "bursting"
    assert inputs["lifecyclePolicies"] == [
        {"transitionToIa": "AFTER_30_DAYS"},
        {"transitionToPrimaryStorageClass": "AFTER_1_ACCESS"},
    ]
    fs_id = file_system.id
    (backup,) = [r for r in graph.of_type(rt.EFS_BACKUP_POLICY)]
    assert backup.inputs == {"fileSystemId": fs_id, "backupPolicy": {"status": "ENABLED"}}
    (policy_resource,) = graph.of_type(rt.EFS_FILE_SYSTEM_POLICY)
    assert policy_resource.inputs["fileSystemId"] == fs_id
    statements = json.loads(policy_resource.inputs["policy"])["Statement"]
    # Who may mount and write is proven in test_model_store_access.py.
    assert {"Bool": {"aws:SecureTransport": "false"}} in [
        s.get("Condition") for s in statements if s["Effect"] == "Deny"
    ]
    for allow in (s for s in statements if s["Effect"] == "Allow"):
        assert "elasticfilesystem:ClientRootAccess" not in allow["Action"]
        assert allow["Condition"]["Bool"] == {"elasticfilesystem:AccessedViaMountTarget": "true"}


def test_a_mount_target_in_each_data_subnet_behind_an_nfs_only_group(
    graph: PlanResult,
) -> None:
    (file_system,) = graph.of_type(rt.EFS_FILE_SYSTEM)
    targets = graph.of_type(rt.EFS_MOUNT_TARGET)
    data_subnets = {
        s.id for s in graph.of_type(rt.SUBNET) if tags_of(s.inputs).get("Tier") == "data"
    }
    assert len(data_subnets) == 3
    assert {t.inputs["subnetId"] for t in targets} == data_subnets
    assert {t.inputs["fileSystemId"] for t in targets} == {file_system.id}
    (group_ids,) = {tuple(t.inputs["securityGroups"]) for t in targets}
    (group_id,) = group_ids
    group = graph.by_id()[group_id]
    assert group.type == rt.SECURITY_GROUP
    assert not group.inputs.get("ingress") and not group.inputs.get("egress")
    (rule,) = [
        r
        for r in graph.of_type(rt.SECURITY_GROUP_INGRESS_RULE)
        if r.inputs["securityGroupId"] == group_id
    ]
    assert rule.inputs["referencedSecurityGroupId"] == cluster_security_group_id(graph)
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
        "tcp",
        2049,
        2049,
    )
    assert "cidrIpv4" not in rule.inputs


def test_models_access_points(graph: PlanResult) -> None:
    """A reader and a writer on the same /models tree, both as the configured user."""
    (file_system,) = graph.of_type(rt.EFS_FILE_SYSTEM)
    access_points = graph.of_type(rt.EFS_ACCESS_POINT)
    assert sorted(a.name for a in access_points) == ["storage-models", "storage-models-writer"]
    for access_point in access_points:
        assert access_point.inputs["fileSystemId"] == file_system.id
        assert access_point.inputs["rootDirectory"] == {
            "path": "/models",
            "creationInfo": {"ownerUid": 1000, "ownerGid": 1000, "permissions": "0755"},
        }
        assert access_point.inputs["posixUser"] == {"uid": 1000, "gid": 1000}


def claims(graph: PlanResult) -> dict[tuple[str, str], RecordedResource]:
    return {
        (c.inputs["metadata"]["namespace"], c.inputs["metadata"]["name"]): c
        for c in graph.of_type(rt.PERSISTENT_VOLUME_CLAIM)
    }


def test_each_claim_has_its_own_volume_on_an_access_point(graph: PlanResult) -> None:
    (file_system,) = graph.of_type(rt.EFS_FILE_SYSTEM)
    points = {a.name: a.id for a in graph.of_type(rt.EFS_ACCESS_POINT)}
    volumes = {v.inputs["metadata"]["name"]: v for v in graph.of_type(rt.PERSISTENT_VOLUME)}
    found = claims(graph)
    assert set(found) == {
        ("dev", "models"),
        ("prod", "models"),
        (SYSTEM_NAMESPACE, "models-writer"),
    }
    bound = set()
    for (namespace, name), claim in found.items():
        volume = volumes[claim.inputs["spec"]["volumeName"]]
        spec = volume.inputs["spec"]
        assert spec["claimRef"] == {"namespace": namespace, "name": name}
        assert spec["csi"]["driver"] == "efs.csi.aws.com"
        point = points["storage-models-writer" if name == "models-writer" else "storage-models"]
        assert spec["csi"]["volumeHandle"] == f"{file_system.id}::{point}"
        assert {"tls", "iam"} <= set(spec["mountOptions"])
        assert spec["persistentVolumeReclaimPolicy"] == "Retain"
        assert spec["storageClassName"] == claim.inputs["spec"]["storageClassName"]
        assert spec["accessModes"] == claim.inputs["spec"]["accessModes"]
        bound.add(volume.urn)
    assert len(bound) == len(found) == len(volumes)


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda e: e.name)
def test_environments_mount_models_read_only(graph: PlanResult, env: Environment) -> None:
    claim = claims(graph)[(env.namespace, "models")]
    assert claim.inputs["spec"]["accessModes"] == ["ReadOnlyMany"]
    volumes = {v.inputs["metadata"]["name"]: v for v in graph.of_type(rt.PERSISTENT_VOLUME)}
    volume = volumes[claim.inputs["spec"]["volumeName"]]
    assert volume.inputs["spec"]["csi"]["readOnly"] is True


def test_only_the_platform_namespace_can_write_models(graph: PlanResult) -> None:
    writable = [
        c
        for c in graph.of_type(rt.PERSISTENT_VOLUME_CLAIM)
        if c.inputs["spec"]["accessModes"] != ["ReadOnlyMany"]
    ]
    assert [c.inputs["metadata"]["namespace"] for c in writable] == [SYSTEM_NAMESPACE]
    assert {e.namespace for e in ENVIRONMENTS}.isdisjoint(
        c.inputs["metadata"]["namespace"] for c in writable
    )


def test_static_storage_class_cannot_provision(graph: PlanResult) -> None:
    """The models claims name a class with no provisioner parameters: every volume on the
    file system is one of the static PersistentVolumes above, never a dynamic one."""
    (class_name,) = {
        c.inputs["spec"]["storageClassName"] for c in graph.of_type(rt.PERSISTENT_VOLUME_CLAIM)
    }
    (storage_class,) = [
        c for c in graph.of_type(rt.STORAGE_CLASS) if c.inputs["metadata"]["name"] == class_name
    ]
    assert storage_class.layer == "storage"
    assert storage_class.inputs["provisioner"] == "efs.csi.aws.com"
    assert not storage_class.inputs.get("parameters")
    annotations = storage_class.inputs["metadata"].get("annotations") or {}
    assert annotations.get("storageclass.kubernetes.io/is-default-class") != "true"


def test_the_default_storage_class_is_encrypted_gp3(graph: PlanResult) -> None:
    defaults = [
        c
        for c in graph.of_type(rt.STORAGE_CLASS)
        if (c.inputs["metadata"].get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        )
        == "true"
    ]
    (storage_class,) = defaults
    assert storage_class.layer == "storage"
    assert storage_class.inputs["provisioner"] == "ebs.csi.aws.com"
    assert storage_class.inputs["parameters"]["type"] == "gp3"
    assert storage_class.inputs["parameters"]["encrypted"] == "true"
    # An EBS volume lives in one AZ: bind where the pod lands.
    assert storage_class.inputs["volumeBindingMode"] == "WaitForFirstConsumer"
    assert storage_class.inputs["allowVolumeExpansion"] is True


def test_every_kubernetes_object_of_the_layer_is_rendered(
    graph: PlanResult, tmp_path: Path
) -> None:
    rendered = {o.resource.urn: o.relative_path for o in kubernetes_objects(graph)}
    ours = [
        r
        for r in graph.resources
        if r.type.startswith(rt.KUBERNETES_PREFIX) and r.layer == "storage"
    ]
    assert len(ours) == 9
    assert {r.urn for r in ours} <= set(rendered)
    paths = {rendered[r.urn] for r in ours}
    assert "dev/persistentvolumeclaim-models.yaml" in paths
    assert "cluster/persistentvolume-models-prod.yaml" in paths
    assert "cluster/storageclass-gp3-encrypted.yaml" in paths
    assert f"{SYSTEM_NAMESPACE}/serviceaccount-model-sync.yaml" in paths
    # What the plan writes under build/plan/manifests/.
    written = {p.relative_to(tmp_path).as_posix() for p in write_manifests(graph, tmp_path)}
    assert paths <= written


def role_policy(graph: PlanResult, role: RecordedResource) -> dict[str, Any]:
    (policy,) = [p for p in graph.of_type(rt.IAM_ROLE_POLICY) if p.inputs["role"] == role.id]
    return dict(json.loads(policy.inputs["policy"]))


def app_roles(graph: PlanResult) -> dict[str, RecordedResource]:
    """Each environment's application role (the restore role is tagged prod too)."""
    names = {f"storage-{e.name}-app": e.name for e in ENVIRONMENTS}
    return {names[r.name]: r for r in graph.of_type(rt.IAM_ROLE) if r.name in names}


def arns_of(graph: PlanResult, env: Environment) -> set[str]:
    """The ARNs (bucket, objects, key) that hold only ``env``'s data."""
    found = buckets(graph)
    images = found[f"{env.name}-images"]
    arn = bucket_arn(graph, images)
    arns = {arn, f"{arn}/*"}
    key = encryption_rule(graph, images)["applyServerSideEncryptionByDefault"].get("kmsMasterKeyId")
    if key:
        arns.add(key)
    if env is PROD:
        backups = bucket_arn(graph, found["backups"])
        arns |= {backups, f"{backups}/*"}
    return arns


def actions_of(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


@pytest.mark.parametrize(("env", "other"), [(DEV, PROD), (PROD, DEV)], ids=["dev", "prod"])
def test_no_environment_role_names_the_other_environment(
    graph: PlanResult, storage: PlanResult, env: Environment, other: Environment
) -> None:
    policy = role_policy(graph, app_roles(storage)[env.name])
    named = set(strings_in([s["Resource"] for s in policy["Statement"]]))
    assert not named & arns_of(graph, other)
    images = bucket_arn(graph, buckets(graph)[f"{env.name}-images"])
    assert {images, f"{images}/*"} <= named


def test_roles_read_models_and_write_only_their_own_images(
    graph: PlanResult, storage: PlanResult
) -> None:
    found = buckets(graph)
    models = bucket_arn(graph, found["models"])
    for env, role in app_roles(storage).items():
        statements = role_policy(graph, role)["Statement"]
        images = bucket_arn(graph, found[f"{env}-images"])
        writes = {s["Resource"] for s in statements if "s3:PutObject" in actions_of(s)}
        assert writes == {f"{images}/*"}
        on_models = set().union(
            *(actions_of(s) for s in statements if s["Resource"] in (models, f"{models}/*"))
        )
        assert on_models == {"s3:GetObject", "s3:ListBucket"}
        for statement in statements:
            if any(a.startswith("kms:") for a in actions_of(statement)):
                assert statement["Condition"] == {
                    "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
                }


def test_pod_identity_for_each_environments_service_account(storage: PlanResult) -> None:
    roles = app_roles(storage)
    associations = storage.of_type(rt.POD_IDENTITY_ASSOCIATION)
    for env in ENVIRONMENTS:
        role = roles[env.name]
        trust = json.loads(role.inputs["assumeRolePolicy"])
        (statement,) = trust["Statement"]
        assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
        assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:TagSession"]
        (association,) = [a for a in associations if a.inputs["namespace"] == env.namespace]
        assert association.inputs["serviceAccount"] == env.app_service_account
        assert association.inputs["clusterName"] == "pingvas-shared-eks"
        assert association.dependencies and role.urn in association.dependencies


# The Elastic Load Balancing account of us-east-1 (tables/ingress.yaml) and a session of it,
# as the request reaches the bucket.
ELB_US_EAST_1 = "127311923021"
ELB_DELIVERY = f"arn:aws:iam::{ELB_US_EAST_1}:role/elb-access-log-delivery"
ACCOUNT = "123456789012"


def logs_policy(graph: PlanResult) -> str:
    return str(one_attached(graph, rt.BUCKET_POLICY, buckets(graph)["logs"]).inputs["policy"])


@pytest.mark.parametrize("env", [e.name for e in ENVIRONMENTS])
def test_load_balancer_access_logs_may_be_written_under_the_environments_prefix_only(
    graph: PlanResult, env: str
) -> None:
    """The region's Elastic Load Balancing account writes each environment's access logs
    (SSE-S3 bucket, as ALB log delivery requires) under elb/<env>/AWSLogs/<account>/, and
    nothing else: not the S3 access logs, not another account's folder, no reads."""
    from tests.support.iam import Request, allowed  # noqa: PLC0415

    logs = buckets(graph)["logs"]
    arn = bucket_arn(graph, logs)
    policy = logs_policy(graph)
    assert encryption_rule(graph, logs)["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "AES256"
    }
    key = f"{arn}/elb/{env}/AWSLogs/{ACCOUNT}/elasticloadbalancing/us-east-1/2026/11/30/x.log.gz"
    assert allowed(Request(ELB_DELIVERY, "s3:PutObject", key), resource_policy=policy)
    for elsewhere in (
        f"{arn}/s3/prod-images/2026-11-30-x",
        f"{arn}/elb/{env}/AWSLogs/210987654321/elasticloadbalancing/us-east-1/x.log.gz",
        f"{arn}/AWSLogs/{ACCOUNT}/x.log.gz",
    ):
        assert not allowed(Request(ELB_DELIVERY, "s3:PutObject", elsewhere), resource_policy=policy)
    assert not allowed(Request(ELB_DELIVERY, "s3:GetObject", key), resource_policy=policy)
    # S3's own log delivery does not write into the load balancers' folders either.
    assert not allowed(
        Request(None, "s3:PutObject", key, service="logging.s3.amazonaws.com"),
        resource_policy=policy,
    )


def test_regions_opened_after_august_2022_deliver_through_the_service_principal() -> None:
    """Where Elastic Load Balancing has no account of its own (AWS's log delivery guide),
    the bucket policy names logdelivery.elasticloadbalancing.amazonaws.com."""
    from pingvas_infra.storage.buckets import load_balancer_log_principal  # noqa: PLC0415
    from pingvas_infra.tables import load_table  # noqa: PLC0415

    assert load_balancer_log_principal("us-east-1") == {"AWS": f"arn:aws:iam::{ELB_US_EAST_1}:root"}
    newer = {
        "eu-central-2",
        "eu-south-2",
        "ap-southeast-4",
        "ap-south-2",
        "me-central-1",
        "il-central-1",
    }
    regions = set(load_table("regions")["regions"])
    accounts = set(load_table("ingress")["accessLogDelivery"]["accounts"])
    assert accounts <= regions
    assert regions - accounts == newer
    for region in newer:
        assert load_balancer_log_principal(region) == {
            "Service": "logdelivery.elasticloadbalancing.amazonaws.com"
        }
