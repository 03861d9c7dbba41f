"""What the benchmarks share: peer learners, process pools, the closed loop's service, VW learner and report. Not benchmarks themselves."""
