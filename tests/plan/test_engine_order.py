"""Recorded inputs have a key order independent of protobuf's map iteration order."""

from __future__ import annotations

from google.protobuf import json_format, struct_pb2

from pingvas_infra.plan.engine import _struct_to_dict


def test_struct_keys_come_back_sorted_at_every_level() -> None:
    struct = struct_pb2.Struct()
    json_format.ParseDict({"spec": {"zeta": 1, "alpha": [{"y": 1, "b": 2}]}, "kind": "X"}, struct)
    document = _struct_to_dict(struct)
    assert list(document) == ["kind", "spec"]
    assert list(document["spec"]) == ["alpha", "zeta"]
    assert list(document["spec"]["alpha"][0]) == ["b", "y"]
