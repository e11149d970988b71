"""`python -m pingvas_infra.boundary`: check docs/boundary-matrix.yaml and write
docs/boundary.md and the README's "The promise" section from it (exit 2 on a bad matrix)."""

from __future__ import annotations

import sys

from pingvas_infra.boundary.matrix import MatrixError, load, write


def main() -> int:
    try:
        matrix = load()
    except MatrixError as error:
        print(error, file=sys.stderr)
        return 2
    for path in write(matrix):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
