"""An evaluator of AWS IAM policies (identity, resource and trust policies) for the
boundary proofs, following AWS's documented evaluation logic for a request inside one
account ("Policy evaluation logic" and "IAM JSON policy elements: Condition operators" in
the IAM user guide):

- an explicit Deny in any applicable policy wins;
- otherwise an Allow in an identity policy of the principal, or in the resource's policy
  for a matching Principal, allows (same account: either suffices);
- otherwise the request is implicitly denied.

Action matching is case-insensitive with `*` and `?`; Resource and ARN matching are
case-sensitive with the same wildcards. Conditions: every key of every operator in a
statement must hold (AND), any value of a key may match (OR). String, Arn, Bool and
Null operators, their negations and `...IfExists`; a key missing from the request makes
a positive operator false and a negated operator true (IfExists: true), as documented.

Why not moto's evaluator (moto.iam.access_control.IAMPolicy): it evaluates StringEquals
only and treats every other operator (Bool, ArnLike, StringLike, ...) as satisfied, answers
DENIED when an Allow statement's condition does not hold, matches principals only as "*"
or an exact string, and has no NotResource. The tests cross-check this evaluator against
moto's on condition-free statements, where moto is right.

KMS keys follow their own rule ("Determining access to an AWS KMS key" in the KMS developer
guide), evaluated by :func:`evaluate_key`: the key policy must allow the request. A key
policy statement naming the principal itself (its ARN, a service principal, or "*") allows
it alone; one naming the account (its root ARN or id) only lets the account's IAM policies
decide, so an identity policy must allow too. Without such a statement, no IAM policy can
grant use of the key. A role's trust policy is the other resource policy that must allow
even in the same account (IAM user guide, "Policy evaluation logic": an identity policy
alone never lets a principal assume a role), with the same reading of a statement that
names the account: :func:`evaluate_trust`.

What AWS does that this does not: service control and resource control policies,
permission boundaries, session policies, cross-account rules (both sides must allow),
KMS grants, S3 ACLs, policy variables (${aws:username}), numeric and date operators,
ForAllValues/ForAnyValue on multivalued keys beyond plain lists, NotPrincipal, and the
request context each service really sends (the tests state the keys they assume).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any

from pingvas_infra import resource_types as rt

Policy = Mapping[str, Any]


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "explicit deny"
    IMPLICIT_DENY = "implicit deny"


@cache
def _pattern(glob: str, case_sensitive: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{regex}$", 0 if case_sensitive else re.IGNORECASE)


def matches(glob: str, value: str, *, case_sensitive: bool = True) -> bool:
    return bool(_pattern(glob, case_sensitive).match(value))


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


@dataclass(frozen=True)
class Request:
    """One API call: who (an IAM role or user ARN; None for an anonymous caller), which
    action on which resource, and the request context's condition keys."""

    principal: str | None
    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    # The service principal calling, for trust policies (pods.eks.amazonaws.com).
    service: str | None = None

    def keys(self) -> dict[str, Any]:
        keys: dict[str, Any] = {"aws:SecureTransport": "true"}
        if self.principal is not None:
            keys["aws:PrincipalArn"] = self.principal
            keys["aws:PrincipalAccount"] = self.principal.split(":")[4]
        keys.update(self.context)
        return {k.lower(): v for k, v in keys.items()}


def _string_equals(expected: str, actual: str) -> bool:
    return expected == actual


def _string_like(expected: str, actual: str) -> bool:
    return matches(expected, actual)


def _bool(expected: Any, actual: Any) -> bool:
    return str(expected).lower() == str(actual).lower()


_OPERATORS = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (lambda e, a: e.lower() == a.lower(), False),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_string_like, False),
    "ArnLike": (_string_like, False),
    "ArnNotEquals": (_string_like, True),
    "ArnNotLike": (_string_like, True),
    "Bool": (_bool, False),
}


def _condition_holds(operator: str, key: str, expected: Any, keys: Mapping[str, Any]) -> bool:
    if operator == "Null":
        present = key.lower() in keys
        return str(expected).lower() == ("false" if present else "true")
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base not in _OPERATORS:
        raise NotImplementedError(f"condition operator {operator} is not evaluated here")
    compare, negated = _OPERATORS[base]
    if key.lower() not in keys:
        return True if if_exists else negated
    actual_values = [str(v) for v in _listed(keys[key.lower()])]
    expected_values = [str(v) for v in _listed(expected)]
    hit = any(compare(e, a) for e in expected_values for a in actual_values)
    return not hit if negated else hit


def _conditions_hold(statement: Mapping[str, Any], keys: Mapping[str, Any]) -> bool:
    for operator, entries in (statement.get("Condition") or {}).items():
        for key, expected in entries.items():
            if not _condition_holds(operator, key, expected, keys):
                return False
    return True


def _element_matches(
    statement: Mapping[str, Any], positive: str, negative: str, value: str, case_sensitive: bool
) -> bool:
    if positive in statement:
        return any(
            matches(p, value, case_sensitive=case_sensitive) for p in _listed(statement[positive])
        )
    if negative in statement:
        return not any(
            matches(p, value, case_sensitive=case_sensitive) for p in _listed(statement[negative])
        )
    return False


def _principal_matches(statement: Mapping[str, Any], request: Request) -> bool:
    principal = statement.get("Principal")
    if principal is None:
        return True  # identity policies name no principal: the holder is the principal
    if principal == "*":
        return True
    if "NotPrincipal" in statement:
        raise NotImplementedError("NotPrincipal is not evaluated here")
    if request.service is not None:
        return request.service in _listed(principal.get("Service", []))
    aws = _listed(principal.get("AWS", []))
    if "*" in aws:
        return True
    if request.principal is None:
        return False
    account = request.principal.split(":")[4]
    for named in aws:
        # A role ARN names every session of the role; an account id or root ARN names
        # every principal of the account the account's own policies allow (same account).
        if named in (request.principal, account, f"arn:aws:iam::{account}:root"):
            return True
    return False


def statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    keys = request.keys()
    if not _element_matches(statement, "Action", "NotAction", request.action, False):
        return False
    if ("Resource" in statement or "NotResource" in statement) and not _element_matches(
        statement, "Resource", "NotResource", request.resource, True
    ):
        return False
    return _principal_matches(statement, request) and _conditions_hold(statement, keys)


def _statements(policy: Policy | str) -> list[Mapping[str, Any]]:
    document = json.loads(policy) if isinstance(policy, str) else policy
    return _listed(document["Statement"])


def evaluate(
    request: Request,
    identity_policies: Sequence[Policy | str] = (),
    resource_policy: Policy | str | None = None,
) -> Decision:
    """The decision for ``request`` given the principal's identity policies and the
    resource's own policy (bucket, key, file system, queue or trust policy)."""
    statements = [s for p in identity_policies for s in _statements(p)]
    if resource_policy is not None:
        resource_statements = _statements(resource_policy)
        for statement in resource_statements:
            if "Principal" not in statement and "NotPrincipal" not in statement:
                raise ValueError("a resource policy statement needs a Principal")
        statements += resource_statements
    applicable = [s for s in statements if statement_applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applicable):
        return Decision.EXPLICIT_DENY
    if any(s["Effect"] == "Allow" for s in applicable):
        return Decision.ALLOW
    return Decision.IMPLICIT_DENY


def _names_the_principal_itself(statement: Mapping[str, Any], request: Request) -> bool:
    """Whether a key policy statement names the caller itself, not its account."""
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if request.service is not None:
        return request.service in _listed(principal.get("Service", []))
    named = _listed(principal.get("AWS", []))
    return "*" in named or (request.principal is not None and request.principal in named)


def evaluate_key(
    request: Request,
    identity_policies: Sequence[Policy | str] = (),
    key_policy: Policy | str | None = None,
) -> Decision:
    """The decision for a request on a KMS key (see the module docstring)."""
    if key_policy is None:
        raise ValueError("a KMS key always has a key policy")
    return _resource_policy_must_allow(request, identity_policies, key_policy)


def evaluate_trust(
    request: Request, identity_policies: Sequence[Policy | str], trust: Policy | str
) -> Decision:
    """The decision on sts:AssumeRole for a role with the ``trust`` policy (see the module
    docstring)."""
    return _resource_policy_must_allow(request, identity_policies, trust)


def _resource_policy_must_allow(
    request: Request, identity_policies: Sequence[Policy | str], key_policy: Policy | str
) -> Decision:
    key_statements = [s for s in _statements(key_policy) if statement_applies(s, request)]
    identity = [
        s for p in identity_policies for s in _statements(p) if statement_applies(s, request)
    ]
    if any(s["Effect"] == "Deny" for s in [*key_statements, *identity]):
        return Decision.EXPLICIT_DENY
    allows = [s for s in key_statements if s["Effect"] == "Allow"]
    if any(_names_the_principal_itself(s, request) for s in allows):
        return Decision.ALLOW
    if allows and any(s["Effect"] == "Allow" for s in identity):
        # The key policy lets the account's IAM decide, and IAM allows.
        return Decision.ALLOW
    return Decision.IMPLICIT_DENY


def allowed(
    request: Request,
    identity_policies: Sequence[Policy | str] = (),
    resource_policy: Policy | str | None = None,
) -> bool:
    return evaluate(request, identity_policies, resource_policy) is Decision.ALLOW


# --- reading roles and policies out of the program's graph ----------------------------------


def _role(graph: Any, name: str) -> Any:
    (role,) = [r for r in graph.of_type(rt.IAM_ROLE) if r.name == name]
    return role


def role_arn(graph: Any, name: str) -> str:
    """The ARN the mock engine gave the role registered as ``name``; every policy that
    names the role received this same value."""
    from tests.support.plan_graph import mock_outputs  # noqa: PLC0415

    return str(mock_outputs(_role(graph, name))["arn"])


def role_policies(graph: Any, name: str) -> list[str]:
    """The inline policies attached to the role registered as ``name``."""
    from tests.support.plan_graph import mock_outputs  # noqa: PLC0415

    role = _role(graph, name)
    handles = {role.id, str(mock_outputs(role).get("name"))}
    return [
        str(p.inputs["policy"])
        for p in graph.of_type(rt.IAM_ROLE_POLICY)
        if p.inputs["role"] in handles
    ]


def trust_policy(graph: Any, name: str) -> str:
    return str(_role(graph, name).inputs["assumeRolePolicy"])
