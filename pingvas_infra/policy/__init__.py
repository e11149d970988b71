"""The guardrail policy pack: controls as data (tables/policy_controls.yaml), validators
(controls.py) shared by the CrossGuard pack (policy_pack/) and the offline plan (offline.py)."""
