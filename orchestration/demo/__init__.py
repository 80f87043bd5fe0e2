"""Demo data: a simulated Durham-sized city whose true metric values are known (planted truth)."""
