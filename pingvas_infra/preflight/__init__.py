"""Account checks before the first `pulumi up` (`pingvas-infra preflight`) and the team
state backend (`pingvas-infra bootstrap-state`)."""
