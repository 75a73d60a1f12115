#!/usr/bin/env bash
# `make test-e2e` (part of `make test`): the SQS example in library and agent modes, SDK v1 and
# v2 side by side (one JVM each, clock 10 minutes slow), through three rotations of 45-second
# credentials with IMDS throttling around the first, an outage across the second's expiry,
# and a token PUT that is never answered (container hop limit) for each JVM's first seconds.
# Passes when every mode reports expired_token_errors=0, skew_errors=0 and received every
# message it sent (tests/sqs-scenario.sh checks). About 4 minutes; builds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# First, in a second: make compare's report generator (tests/compare/report.py) on a fixture.
PYTHONDONTWRITEBYTECODE=1 python3 -m unittest discover -s tests/compare -p 'test_*.py'
DEMO_MODES=${E2E_MODES:-"library library-v1 agent agent-v1"} HOP_LIMIT=1 HOP_LIMIT_SECONDS=${HOP_LIMIT_SECONDS:-5} \
    LIFETIME=${LIFETIME:-45} ROTATIONS=${ROTATIONS:-3} exec tests/demo.sh
