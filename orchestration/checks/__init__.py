"""Great Expectations quality gate: suites in code (gates.py), run by runner.py, wired as blocking
Dagster asset checks in orchestration/assets/checks.py."""
