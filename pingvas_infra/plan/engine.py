"""Run the Pulumi program in-process under the mock engine and record every registration.

The stock ``MockMonitor`` hands resource inputs to the mocks but drops what the engine
also receives (parent, dependencies, protect, retainOnDelete, provider), and it rehydrates
resource references on its own thread, which breaks components such as pulumi-eks's
ManagedNodeGroup that take another component as input. :class:`RecordingMonitor` keeps
the request as plain data instead and records all of it.
"""

from __future__ import annotations

import logging
import runpy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import MockResourceArgs

from pingvas_infra import resource_types as rt
from pingvas_infra import sdk_internals as sdk
from pingvas_infra.plan.mocks import PLAN_CALLER_ARN, PlanMocks
from pingvas_infra.plan.model import PlanResult, RecordedResource, redact
from pingvas_infra.plan.wire import resource_reference


def _key_sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _key_sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_key_sorted(item) for item in value]
    return value


def _struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    # Map iteration order of protobuf Structs differs between processes (protobuf 6's
    # upb maps), so keys are sorted: the plan's files must be byte-identical run to run.
    return _key_sorted(json_format.MessageToDict(struct))


class RecordingMonitor(sdk.MockMonitor):
    def __init__(self, mocks: PlanMocks) -> None:
        super().__init__(mocks)
        self.plan_mocks = mocks
        self.records: list[RecordedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self.raw_stack_outputs: dict[str, Any] = {}
        mocks.register_reference = self.register_reference

    def register_reference(
        self, type_token: str, name: str, state: dict[str, Any]
    ) -> dict[str, Any]:
        """Register a synthetic resource and return a wire-format reference to it.

        Remote components return resources as outputs (pulumi-eks's `eksCluster`); the
        SDK rehydrates them through a `getResource` invoke that the monitor answers from
        its registry.
        """
        urn = self.make_urn("", type_token, name)
        resource_id = str(state.get("id", name))
        self.resources[urn] = sdk.ResourceRegistration(urn, resource_id, state)
        return resource_reference(urn, resource_id)

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC method name)
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == rt.STACK:
            return sdk.RegisterResourceResponse(urn=urn)
        raw_inputs = _struct_to_dict(request.object)
        resource_id, state = self.plan_mocks.new_resource(
            MockResourceArgs(
                typ=request.type,
                name=request.name,
                inputs=raw_inputs,
                provider=request.provider,
                custom=request.custom or False,
            )
        )
        self.records.append(
            RecordedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                custom=bool(request.custom),
                remote=bool(request.remote),
                inputs=redact(raw_inputs),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                dependencies=tuple(sorted(set(request.dependencies))),
                # A provider reference is "<provider urn>::<provider id>".
                provider=request.provider.rsplit("::", 1)[0] if request.provider else None,
                id=resource_id,
                raw_inputs=raw_inputs,
            )
        )
        self.resources[urn] = sdk.ResourceRegistration(urn, resource_id or "", state)
        obj = struct_pb2.Struct()
        json_format.ParseDict(state, obj)
        return sdk.RegisterResourceResponse(urn=urn, id=resource_id or "", object=obj)

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802
        if request.urn.split("::")[2] == rt.STACK:
            outputs = _struct_to_dict(request.outputs)
            self.raw_stack_outputs = outputs
            self.stack_outputs = redact(outputs)
        return super().RegisterResourceOutputs(request)


class _ProgramLog(logging.Handler):
    """Collects what the program logs through `pulumi.log` (warnings and errors) instead
    of printing it: the plan reports through its own steps."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.warnings: list[str] = []
        self.logger = logging.Logger("pingvas.plan.program", level=logging.WARNING)
        self.logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        self.warnings.append(record.getMessage())


def run_program(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: list[str],
    region: str,
    caller_arn: str = PLAN_CALLER_ARN,
) -> PlanResult:
    """Run ``program`` under mocks with the given config, as ``caller_arn`` (what
    GetCallerIdentity answers); return what it registered."""
    sdk.check_internals()
    # A fresh runtime each time, so tests and repeated plans in one process don't share
    # a root stack or outstanding RPCs.
    sdk.reset_runtime(config, secret_keys)

    mocks = PlanMocks(region=region, caller_arn=caller_arn)
    monitor = RecordingMonitor(mocks)
    program_log = _ProgramLog()
    sdk.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=False,
        monitor=monitor,
        logger=program_log.logger,
    )

    def program_then_outputs() -> None:
        program()
        sdk.register_root_outputs()

    sdk.run_in_runtime(program_then_outputs)

    records = sorted(monitor.records, key=lambda r: r.urn)
    return PlanResult(
        project=project,
        stack=stack,
        resources=records,
        outputs=monitor.stack_outputs,
        warnings=program_log.warnings,
    )


def program_from_file(main_file: Path) -> Callable[[], None]:
    """The project's `__main__.py`, run as the Pulumi language host runs it."""

    def program() -> None:
        project_dir = str(main_file.parent)
        if project_dir not in sys.path:
            sys.path.insert(0, project_dir)
        runpy.run_path(str(main_file), run_name="__main__")

    return program
