"""Every use of the Pulumi Python SDK's private or undocumented parts, in one place.

The offline plan runs the program in-process under the SDK's mock runtime and records what
it registers (pingvas_infra.plan.engine); the config check reads the engine's config the way
the SDK does; the policy controls ask the SDK which resource class a type token names. None
of that is public API, so a minor SDK release may move it (the generated provider classes'
``_internal_init`` likewise). Everything the project touches
is listed in :data:`REQUIRED` and reached only through this module:
tests/test_sdk_internals.py fails naming the missing attribute and the SDK version, and the
plan refuses to run with the same message, instead of every test breaking at once.

Raising the SDK's upper bound (pyproject.toml, ``pulumi``): install the new version into
the project's virtualenv, run ``pytest tests/test_sdk_internals.py tests/plan`` and the
whole suite, adapt this module if an attribute moved, then move the bound to the next minor.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from importlib import metadata
from typing import Any, TypeVar

from pulumi.runtime import config as runtime_config
from pulumi.runtime import mocks as runtime_mocks
from pulumi.runtime import rpc as runtime_rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime import stack as runtime_stack
from pulumi.runtime import sync_await as runtime_sync_await
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc, resource_pb2

SDK_VERSION = metadata.version("pulumi")

# (module, dotted attribute) of everything private or undocumented the project uses.
REQUIRED: tuple[tuple[str, str], ...] = (
    ("pulumi.runtime.sync_await", "_sync_await"),
    ("pulumi.runtime.settings", "ROOT"),
    ("pulumi.runtime.settings", "SETTINGS.rpc_manager.clear"),
    ("pulumi.runtime.settings", "SETTINGS.outputs.clear"),
    ("pulumi.runtime.settings", "get_root_resource"),
    ("pulumi.runtime.config", "CONFIG"),
    ("pulumi.runtime.config", "set_all_config"),
    ("pulumi.runtime.config", "get_config_env"),
    ("pulumi.runtime.config", "get_config_secret_keys_env"),
    ("pulumi.runtime.config", "is_config_secret"),
    ("pulumi.runtime.mocks", "MockMonitor"),
    ("pulumi.runtime.mocks", "MockMonitor.ResourceRegistration"),
    ("pulumi.runtime.mocks", "MockMonitor.make_urn"),
    ("pulumi.runtime.mocks", "MockMonitor.RegisterResourceOutputs"),
    ("pulumi.runtime.mocks", "set_mocks"),
    # The engine's gRPC messages: the monitor answers RegisterResource with them, and the
    # policy pack test speaks the Analyzer protocol.
    ("pulumi.runtime.proto.resource_pb2", "RegisterResourceResponse"),
    ("pulumi.runtime.proto.analyzer_pb2", "AnalyzeRequest"),
    ("pulumi.runtime.proto.analyzer_pb2_grpc", "AnalyzerStub"),
    ("pulumi.runtime.stack", "Stack._finish"),
    ("pulumi.runtime.stack", "run_pulumi_func"),
    ("pulumi.runtime.rpc", "get_resource_module"),
    # Generated provider classes take their arguments in `_internal_init` (pulumi-aws).
    ("pulumi_aws.s3", "Bucket._internal_init"),
)
# Set on the root Stack object by its constructor (an instance attribute, checked when used).
_STACK_OUTPUTS_FLAG = "_outputs_registered"

T = TypeVar("T")

__all__ = [
    "REQUIRED",
    "SDK_VERSION",
    "MockMonitor",
    "RegisterResourceResponse",
    "ResourceRegistration",
    "SdkInternalsChanged",
    "analyzer_pb2",
    "analyzer_pb2_grpc",
    "check_internals",
    "engine_config",
    "missing_internals",
    "register_root_outputs",
    "reset_runtime",
    "resource_arguments",
    "resource_class",
    "run_in_runtime",
    "set_mocks",
    "sync_await",
]

MockMonitor = runtime_mocks.MockMonitor
ResourceRegistration = runtime_mocks.MockMonitor.ResourceRegistration
set_mocks = runtime_mocks.set_mocks
RegisterResourceResponse = resource_pb2.RegisterResourceResponse


class SdkInternalsChanged(RuntimeError):
    """The installed Pulumi SDK no longer has a private part the project relies on."""


def _changed(what: str) -> SdkInternalsChanged:
    return SdkInternalsChanged(
        f"the installed Pulumi SDK {SDK_VERSION} has no {what}, which the offline plan "
        "relies on (pingvas_infra/sdk_internals.py): install a pulumi version within "
        "pyproject.toml's range, or adapt that module to this SDK"
    )


def _resolve(module: str, attribute: str) -> Any:
    value: Any = importlib.import_module(module)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def missing_internals() -> list[str]:
    """``module.attribute`` of every required private part the installed SDK lacks."""
    missing = []
    for module, attribute in REQUIRED:
        try:
            _resolve(module, attribute)
        except (ImportError, AttributeError):
            missing.append(f"{module}.{attribute}")
    return missing


def check_internals() -> None:
    """Raise SdkInternalsChanged naming the first missing part and the SDK version."""
    missing = missing_internals()
    if missing:
        raise _changed(", ".join(missing))


def sync_await(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to completion on the SDK's event loop."""
    result: T = runtime_sync_await._sync_await(awaitable)
    return result


def reset_runtime(config: Mapping[str, str], secret_keys: Sequence[str]) -> None:
    """A fresh runtime: no root stack, no outstanding RPCs or outputs, and this config
    (tests and repeated plans in one process share nothing)."""
    runtime_settings.ROOT.set(None)
    runtime_settings.SETTINGS.rpc_manager.clear()
    runtime_settings.SETTINGS.outputs.clear()
    runtime_config.set_all_config(dict(config), list(secret_keys))


def register_root_outputs() -> None:
    """Register the root stack's exports once the program is done, as the engine does.

    ``set_mocks`` finishes the root stack before the program runs, so its exports would
    never be registered otherwise."""
    root = runtime_settings.get_root_resource()
    if not isinstance(root, runtime_stack.Stack):
        return
    if not hasattr(root, _STACK_OUTPUTS_FLAG):
        raise _changed(f"pulumi.runtime.stack.Stack.{_STACK_OUTPUTS_FLAG}")
    setattr(root, _STACK_OUTPUTS_FLAG, False)
    root._finish()


def engine_config() -> tuple[dict[str, str], frozenset[str]]:
    """The config the engine handed the program (``ns:key`` -> string) and its secret keys."""
    values = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secrets = set(runtime_config.get_config_secret_keys_env())
    secrets |= {key for key in values if runtime_config.is_config_secret(key)}
    return values, frozenset(secrets)


# The provider SDK that registers the resource modules of a type token's package.
_PROVIDER_PACKAGES = {
    "aws": "pulumi_aws",
    "kubernetes": "pulumi_kubernetes",
    "random": "pulumi_random",
    "eks": "pulumi_eks",
}


def resource_class(type_token: str) -> type | None:
    """The resource class the installed provider SDK generates for ``type_token``
    (``aws:<module>/<name>:<Type>``), or None when it has none.

    Importing a provider package registers its resource modules with the runtime
    (token -> Python module and class); the answer comes from that registry."""
    if type_token.count(":") != 2:
        return None
    package, module, _ = type_token.split(":", 2)
    provider = _PROVIDER_PACKAGES.get(package)
    if provider is None:
        return None
    importlib.import_module(provider)
    registered = runtime_rpc.get_resource_module(package, module, "")
    mod_info = getattr(registered, "mod_info", None)
    if not isinstance(mod_info, dict):
        return None
    class_name = mod_info.get("classes", {}).get(type_token)
    if class_name is None:
        return None
    found = getattr(importlib.import_module(mod_info["fqn"]), class_name, None)
    return found if isinstance(found, type) else None


def run_in_runtime(program: Callable[[], None]) -> None:
    """Run ``program`` in the SDK's program runner: it waits for every outstanding RPC and
    re-raises the program's error."""
    sync_await(runtime_stack.run_pulumi_func(program))


def resource_arguments(cls: type) -> Mapping[str, inspect.Parameter]:
    """The arguments a generated resource class takes (its ``_internal_init``)."""
    init = getattr(cls, "_internal_init", None)
    if init is None:
        raise _changed(f"{cls.__module__}.{cls.__name__}._internal_init")
    return inspect.signature(init).parameters
