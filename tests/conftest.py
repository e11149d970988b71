"""Shared fixtures, kept in tests/support/ by concern and loaded here: the project and its
stack file (project), the program's graph under the offline engine (plan_graph), the
command line (cli) and the session's real servers (servers). Test modules import helpers
from those modules, never from this file.
"""

pytest_plugins = [
    "tests.support.project",
    "tests.support.plan_graph",
    "tests.support.cli",
    "tests.support.servers",
]
