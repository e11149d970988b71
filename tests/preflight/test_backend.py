"""The first `pulumi up` path as the README writes it: the backend folder the set-up creates,
the backend Pulumi.yaml names, the switch to the team's S3 backend, and a stack file whose
secrets open on every machine. The Pulumi CLI does not run here: these test the files and
commands the steps use."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from pingvas_infra.preflight import backend
from pingvas_infra.preflight.bootstrap import StateBackend, key_alias
from tests.support.project import PROJECT_DIR

README = PROJECT_DIR / "README.md"
SCRIPTS = PROJECT_DIR / "scripts"
TEAM_URL = "s3://pingvas-pulumi-state-123456789012-us-east-1?region=us-east-1&awssdk=v2"


def readme_section(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def shell_lines(section: str) -> list[str]:
    """The commands of a section's bash blocks, comments cut."""
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    lines = (line.split("  #")[0].strip() for block in blocks for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


REAL_PATH = readme_section("The real path: `pulumi up`")


def run_lib(function: str, home: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    """One function of scripts/lib.sh, as install.sh runs it, with HOME pointed elsewhere."""
    env = {k: v for k, v in os.environ.items() if k != backend.BACKEND_URL_VARIABLE}
    return subprocess.run(
        ["bash", "-c", f'source "{SCRIPTS / "lib.sh"}" && {function}'],
        env={**env, "HOME": str(home), **environ},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_the_project_keeps_state_in_a_home_folder_that_the_set_up_creates(tmp_path: Path) -> None:
    url = backend.project_backend_url(PROJECT_DIR)
    assert url == "file://~/.pulumi-pingvas"
    folder = backend.local_state_folder(url, home=tmp_path, project_dir=PROJECT_DIR)
    assert folder == tmp_path / ".pulumi-pingvas"
    assert not folder.exists()

    done = run_lib("ensure_local_state_folder", tmp_path)

    assert done.returncode == 0, done.stderr
    assert folder.is_dir()
    # Again: nothing to do, nothing said.
    again = run_lib("ensure_local_state_folder", tmp_path)
    assert again.returncode == 0 and again.stderr == ""


def test_a_team_backend_in_the_environment_needs_no_folder(tmp_path: Path) -> None:
    done = run_lib("ensure_local_state_folder", tmp_path, PULUMI_BACKEND_URL=TEAM_URL)
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("file://~", "HOME"),
        ("file://~/state", "HOME/state"),
        ("file:///var/lib/pulumi", "/var/lib/pulumi"),
        ("file://.pulumi-state", "PROJECT/.pulumi-state"),
        (TEAM_URL, None),
        ("https://api.pulumi.com", None),
        (None, None),
    ],
)
def test_local_state_folder(tmp_path: Path, url: str | None, expected: str | None) -> None:
    home, project = tmp_path / "home", tmp_path / "project"
    found = backend.local_state_folder(url, home=home, project_dir=project)
    wanted = (
        Path(expected.replace("HOME", str(home)).replace("PROJECT", str(project)))
        if expected
        else None
    )
    assert found == wanted


def test_the_environment_wins_over_the_project_file() -> None:
    assert backend.backend_url(PROJECT_DIR, {}) == "file://~/.pulumi-pingvas"
    assert backend.backend_url(PROJECT_DIR, {"PULUMI_BACKEND_URL": TEAM_URL}) == TEAM_URL


def test_the_readme_creates_the_folder_pulumi_yaml_names_and_never_logs_in(
    tmp_path: Path,
) -> None:
    """`pulumi login` is ignored while Pulumi.yaml names a backend: a README step that
    relies on it would point the reader at the wrong state."""
    lines = shell_lines(REAL_PATH)
    assert not [line for line in lines if line.startswith("pulumi login")]
    solo = shell_lines(REAL_PATH.split("### A team")[0])
    assert solo[0] == "./scripts/install.sh"
    mkdir = re.search(r"mkdir -p (\S+)", REAL_PATH.split("```bash")[1])
    assert mkdir is not None
    named = backend.local_state_folder(
        backend.project_backend_url(PROJECT_DIR), home=tmp_path, project_dir=PROJECT_DIR
    )
    assert Path(mkdir.group(1).replace("~", str(tmp_path))) == named
    # The steps reach `pulumi preview` and `pulumi up` in that order, after the stack exists.
    order = [line.split()[1] for line in solo if line.startswith("pulumi ")]
    assert order == ["stack", "config", "preview", "up"]


def test_every_script_the_readme_runs_exists_and_is_executable() -> None:
    for section in ("Set up on a fresh machine", "The real path: `pulumi up`"):
        for line in shell_lines(readme_section(section)):
            for script in re.findall(r"\./scripts/[\w.]+", line):
                path = PROJECT_DIR / script
                assert path.is_file() and os.access(path, os.X_OK), script


def test_the_uv_the_readme_puts_on_path_is_the_one_the_scripts_install() -> None:
    lib = (SCRIPTS / "lib.sh").read_text()
    assert 'UV_BIN_DIR="$PROJECT_ROOT/.venv-tools/uv/bin"' in lib
    assert 'export PATH="$PWD/.venv-tools/uv/bin:$PATH"' in shell_lines(REAL_PATH)
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["runtime"]["options"] == {"toolchain": "uv", "virtualenv": ".venv"}
    assert 'UV_PROJECT_ENVIRONMENT="$PROJECT_ROOT/.venv"' in lib


def test_only_the_first_person_of_a_team_creates_the_stack() -> None:
    team = REAL_PATH.split("### A team")[1]
    lines = shell_lines(team)
    creates = [line for line in lines if "--create" in line]
    assert creates == []
    init = [line for line in lines if line.startswith("pulumi stack init shared")]
    provider = f"awskms://{key_alias('pingvas')}?region=us-east-1"
    assert init == [
        f'pulumi stack init shared --secrets-provider "{provider}"',
        "pulumi stack init shared --secrets-provider passphrase",
    ]
    assert f'pulumi stack change-secrets-provider "{provider}"' in lines
    # Export before the backend moves, import after it.
    export = lines.index("pulumi stack export --file shared.json")
    switch = lines.index(".venv/bin/pingvas-infra bootstrap-state --write-project", export)
    imported = lines.index("pulumi stack import --file shared.json && rm shared.json")
    assert (
        export
        < switch
        < imported
        < lines.index(f'pulumi stack change-secrets-provider "{provider}"')
    )
    assert StateBackend("b", "us-east-1", key_alias("pingvas"), "").secrets_provider == provider


def test_write_project_points_pulumi_yaml_at_the_bucket_and_keeps_its_comments(
    tmp_path: Path,
) -> None:
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    before = (tmp_path / "Pulumi.yaml").read_text()

    assert backend.set_project_backend(tmp_path, TEAM_URL) is True
    assert backend.set_project_backend(tmp_path, TEAM_URL) is False

    after = (tmp_path / "Pulumi.yaml").read_text()
    assert backend.project_backend_url(tmp_path) == TEAM_URL
    assert [line for line in after.splitlines() if line.lstrip().startswith("#")] == [
        line for line in before.splitlines() if line.lstrip().startswith("#")
    ]
    assert yaml.safe_load(after)["runtime"] == yaml.safe_load(before)["runtime"]
    assert backend.local_state_folder(TEAM_URL, home=tmp_path, project_dir=tmp_path) is None


def test_write_project_adds_a_backend_to_a_project_file_without_one(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: p\nruntime: python\n")
    assert backend.set_project_backend(tmp_path, TEAM_URL)
    assert yaml.safe_load((tmp_path / "Pulumi.yaml").read_text()) == {
        "name": "p",
        "runtime": "python",
        "backend": {"url": TEAM_URL},
    }


def test_the_committed_stack_file_has_no_secret_that_only_one_machine_can_open() -> None:
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.shared.yaml").read_text())
    assert backend.secrets_problems(document, "Pulumi.shared.yaml") == []


SECRET = {"secure": "v1:abc"}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        # A secret set before anyone committed the salt: it opens only where it was set.
        ({"config": {"pingvas-infra:slackWebhookUrl": SECRET}}, "no committed encryptionsalt"),
        (
            {"encryptionsalt": "v1:s", "secretsprovider": "awskms://k", "encryptedkey": "e"},
            "both a passphrase salt",
        ),
        ({"secretsprovider": "awskms://alias/k", "config": {}}, "without its encryptedkey"),
    ],
)
def test_a_stack_file_whose_secrets_would_not_open_elsewhere_is_named(
    document: dict[str, object], problem: str
) -> None:
    (found,) = backend.secrets_problems(document, "Pulumi.shared.yaml")
    assert problem in found


@pytest.mark.parametrize(
    "document",
    [
        {"encryptionsalt": "v1:s", "config": {"pingvas-infra:slackWebhookUrl": SECRET}},
        {"secretsprovider": "awskms://k", "encryptedkey": "e", "config": {"a:b": SECRET}},
        {"config": {"pingvas-infra:project": "pingvas"}},
    ],
)
def test_stack_files_that_open_everywhere(document: dict[str, object]) -> None:
    assert backend.secrets_problems(document, "Pulumi.shared.yaml") == []


def test_the_installed_pulumi_sdk_is_the_one_uv_lock_pins() -> None:
    """The lock decides the SDK the plan engine runs on, not the newest release in range."""
    lock = (PROJECT_DIR / "uv.lock").read_text()
    pinned = re.search(r'\[\[package\]\]\nname = "pulumi"\nversion = "([^"]+)"', lock)
    assert pinned is not None
    assert metadata.version("pulumi") == pinned.group(1)


def test_every_install_goes_through_the_lock() -> None:
    lib = (SCRIPTS / "lib.sh").read_text()
    assert '"$UV" sync --project "$PROJECT_ROOT" --locked' in lib
    install = (SCRIPTS / "install.sh").read_text()
    assert "sync_program_env" in install and "ensure_local_state_folder" in install
    for script in ("plan.sh", "test.sh"):
        text = (SCRIPTS / script).read_text()
        assert '"$PROJECT_ROOT/scripts/install.sh"' in text
        assert "pip install" not in text
    assert (PROJECT_DIR / ".ci" / "run").read_text().strip().endswith("exec ./scripts/test.sh")
