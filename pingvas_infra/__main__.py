"""`python -m pingvas_infra` is the `pingvas-infra` command."""

from pingvas_infra.cli import main

main()
