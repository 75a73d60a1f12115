# freshcreds: the two commands a newcomer needs are `make demo` and `make test`.
#   make test        every test of the project (Rust engine + CLI, Java, consumers, rig)
#   make demo        the main job on local stand-ins (see README)
#   make bench       benchmarks side by side with the AWS SDK providers
#   make lint        rustfmt + clippy -D warnings
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
export FRESHCREDS_RIG_DIR ?= $(CURDIR)/target/rig

.PHONY: test test-rust test-java rig lint bench bench-rust bench-java bench-agent bench-smoke bench-start build release demo demo-engine test-e2e compare

build:
	$(CARGO) build --workspace --all-targets

release:
	$(CARGO) build --release -p freshcreds

rig:
	tests/rig/install.sh

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: lint test-rust test-java test-e2e bench-smoke

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

# Every performance figure side by side with the AWS SDK's own providers, in one run (about 15
# minutes on 2 cores): target/bench/results.json, report.md and refresh.svg (bench/report.py),
# checked by bench/check.py. `make bench-smoke` (in `make test`) runs a few short iterations of
# each and checks only that the report is well-formed.
BENCH_DIR := target/bench
export BENCH_MODE ?= full
BENCH_CMD ?= make bench

bench: bench-start bench-rust bench-java bench-agent
	uptime >$(BENCH_DIR)/parts/uptime-end.txt
	python3 bench/report.py --dir $(BENCH_DIR) --command "$(BENCH_CMD)" --mode $(BENCH_MODE)
	python3 bench/check.py $(BENCH_DIR)

bench-smoke:
	$(MAKE) --no-print-directory BENCH_MODE=smoke RUNS=2 BENCH_CMD="make bench-smoke" bench

bench-start:
	rm -rf $(BENCH_DIR)/parts
	mkdir -p $(BENCH_DIR)/parts
	uptime >$(BENCH_DIR)/parts/uptime-start.txt

# Snapshot read, engine start, engine threads, and the stripped release cdylib's size
# ($CARGO_TARGET_DIR honoured). A smoke run times a debug build of the example (already built
# by `cargo test`): its figures are not meant to mean anything, and LTO takes minutes.
# The smoke run measures the library the Java build made for the jar when it is there (make
# test builds it just before), instead of a second LTO build of the same crate.
SHIPPED_CDYLIB := $(or $(CARGO_TARGET_DIR),target)/x86_64-unknown-linux-gnu/release/libfreshcreds.so
bench-rust:
	if [[ "$(BENCH_MODE)" == smoke && -f $(SHIPPED_CDYLIB) ]]; then \
	    BENCH_CDYLIB=$(SHIPPED_CDYLIB) $(CARGO) run -q -p freshcreds --example bench_engine; \
	else \
	    $(CARGO) build --release -q -p freshcreds --lib; \
	    $(CARGO) run $(if $(filter smoke,$(BENCH_MODE)),,--release) -q -p freshcreds --example bench_engine; \
	fi

# JMH (ns/op, B/op at 1, 8, 64 threads) and the timing programs (refresh under a stalled or
# throttling IMDS, IMDS requests, first credentials, RSS, threads), beside the SDKs' IMDS
# providers. Builds only the bench module (the library from ~/.m2, built first if missing).
bench-java: rig
	am=; [[ -f $$HOME/.m2/repository/dev/freshcreds/freshcreds/0.1.0/freshcreds-0.1.0.jar ]] || am=-am; \
	mvn -B -ntp -q -f java/pom.xml -Pbench -pl freshcreds-bench $$am install -DskipTests
	java/freshcreds-bench/run.sh
	java/freshcreds-bench/timing.sh

# JVM start-up with and without the -javaagent (median of RUNS, default 15) and the jar's size;
# measures the agent as built (builds it only when its jar or test classes are missing).
bench-agent: rig
	[[ -f java/freshcreds-agent/target/freshcreds-agent-0.1.0.jar && -d java/freshcreds-agent/target/test-classes ]] || \
	mvn -B -ntp -q -f java/pom.xml -pl freshcreds-agent -am install -DskipTests
	java/freshcreds-agent/bench/run.sh
