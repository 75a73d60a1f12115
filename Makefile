# freshcreds: the two commands a newcomer needs are `make demo` and `make test`.
#   make test        every test of the project (Rust engine + CLI, Java, consumers, rig)
#   make demo        the main job on local stand-ins (see README)
#   make bench       benchmarks side by side with the AWS SDK providers
#   make lint        rustfmt + clippy -D warnings
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export FRESHCREDS_RIG_DIR ?= $(CURDIR)/target/rig

.PHONY: test test-rust test-java rig lint bench bench-rust bench-java bench-agent bench-smoke build release demo demo-engine test-e2e compare

build:
	$(CARGO) build --workspace --all-targets

release:
	$(CARGO) build --release -p freshcreds

rig:
	tests/rig/install.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: lint test-rust test-java test-e2e

test-rust: rig
	$(CARGO) test --workspace -- --test-threads=2

# The Java build (java/pom.xml) runs cargo itself (scripts/build-jni.sh: cargo zigbuild, glibc
# 2.17), then the JUnit tests and the Maven/Gradle consumer builds (java/freshcreds-it).
test-java: rig
	mvn -B -ntp -f java/pom.xml install

# The SQS example end to end (library and agent, SDK v1 and v2) through rotations, a slow clock,
# IMDS throttling, an outage across an expiry and a hop-limited token PUT; after test-java,
# which installs the library and builds the agent.
test-e2e: rig
	tests/e2e-sqs.sh

# The SQS example under the agent on the rig: four rotations, a clock 10 minutes slow, IMDS
# throttling and an outage across an expiry (tests/demo.sh builds what it needs).
demo: rig
	tests/demo.sh

# library, agent, stock-v2 and stock-v1 side by side on the rig with realistic lifetimes (15 min,
# IMDS publishing 5 min early) and a clock 10 min slow: RESULT lines, a table with each stock
# error's root cause, and a timeline picture under target/compare/ (at most 30 minutes).
compare: rig
	tests/compare.sh

# The engine on its own (`freshcreds watch`) through four rotations with a slow host clock.
demo-engine: rig
	$(CARGO) build --release -q -p freshcreds --bin freshcreds
	tests/demo-engine.sh

bench: bench-rust bench-java bench-agent

bench-rust:
	$(CARGO) build --release -p freshcreds --lib
	$(CARGO) run --release -q -p freshcreds --example bench_engine

# JMH: provider call cost (ns/op, B/op) at 1 and 8 threads beside the SDKs' IMDS providers.
bench-java: rig
	mvn -B -ntp -q -f java/pom.xml -Pbench install -DskipTests
	java/freshcreds-bench/run.sh

# JVM start-up with and without the -javaagent (median of RUNS, default 15) and the jar's size.
bench-agent: rig
	mvn -B -ntp -q -f java/pom.xml install -DskipTests
	java/freshcreds-agent/bench/run.sh
