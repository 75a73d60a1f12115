#!/usr/bin/env python3
"""JVM start-up with and without the freshcreds agent, and the agent jar's size.

Runs each case N times (after one warm-up run), alternating with and without the agent, and
prints the median wall time of the whole JVM, from exec to exit:
  hello      a main that prints one line (what premain costs every JVM); also with a no-op
             -javaagent, the JVM's own cost of any agent, so freshcreds' share shows
  sdk-v2     SDK v2 DefaultCredentialsProvider.resolveCredentials() once, against AEMM:
             without the agent the SDK's own IMDS provider fetches, with it freshcreds does
Usage: startup.py --agent-jar JAR --cp CLASSPATH --aemm URL [--runs N] [--json FILE]
  --json FILE  also writes the figures for bench/report.py: agent-startup-added-ms (one entry
               per case, "case" field; hello also "noop_agent_added_ms"), agent-jar-bytes
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile


def run(cmd, env, tries=3):
    """Wall time of one JVM in ms. A failed run is retried (up to `tries` in all, 5 s apart):
    the agent module's classes may be mid-rebuild on a shared working tree."""
    for attempt in range(tries):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ms = (time.perf_counter() - t0) * 1000
        if p.returncode == 0:
            return ms
        if attempt + 1 < tries:
            print("startup.py: run failed, retrying in 5 s: %s" % (p.stderr.strip().splitlines() or [""])[-1], file=sys.stderr)
            time.sleep(5)
    sys.exit("failed: %s\n%s%s" % (" ".join(cmd), p.stdout, p.stderr))


def noop_agent(workdir, java_home):
    """A -javaagent whose premain does nothing: the JVM's own cost of any agent (the floor)."""
    src = os.path.join(workdir, "NoopAgent.java")
    with open(src, "w") as f:
        f.write("public final class NoopAgent {\n"
                "    public static void premain(String a, java.lang.instrument.Instrumentation i) {}\n}\n")
    subprocess.run([os.path.join(java_home, "bin", "javac"), "-d", workdir, src], check=True)
    jar = os.path.join(workdir, "noop-agent.jar")
    with zipfile.ZipFile(jar, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nPremain-Class: NoopAgent\n\n")
        z.write(os.path.join(workdir, "NoopAgent.class"), "NoopAgent.class")
    return jar


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent-jar", required=True)
    ap.add_argument("--cp", required=True)
    ap.add_argument("--aemm", required=True)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--json")
    a = ap.parse_args()
    java_home = os.environ.get("JAVA_HOME", "/usr")
    java = os.path.join(java_home, "bin", "java")
    workdir = tempfile.mkdtemp(prefix="startup-")
    noop = "-javaagent:" + noop_agent(workdir, java_home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("FRESHCREDS_")}
    env["AWS_REGION"] = "us-east-1"
    imds = ["-Daws.ec2MetadataServiceEndpoint=" + a.aemm, "-Dcom.amazonaws.sdk.ec2MetadataServiceEndpointOverride=" + a.aemm]
    agent = "-javaagent:%s=endpoint=%s,ntp=off" % (a.agent_jar, a.aemm)
    cases = [("hello", "dev.freshcreds.agent.it.apps.Hello"), ("sdk-v2", "dev.freshcreds.agent.it.apps.FirstCredentials")]
    size = os.path.getsize(a.agent_jar)
    entries = [{"name": "agent-jar-bytes", "subject": "freshcreds", "unit": "bytes", "value": size, "threads": 1,
                "variant": os.path.basename(a.agent_jar)}]
    print("java: %s" % subprocess.run([java, "-version"], stderr=subprocess.PIPE, text=True).stderr.splitlines()[0])
    print("agent jar: %s, %d bytes (%.1f MiB)" % (os.path.basename(a.agent_jar), size, size / 1048576.0))
    print("%-8s %14s %14s %10s   (median of %d runs, ms)" % ("case", "without agent", "with agent", "added", a.runs))
    for name, main_class in cases:
        without, with_, with_noop = [], [], []
        base = [java] + imds + ["-cp", a.cp]
        run(base + [main_class], env)  # warm the page cache
        run([base[0], agent] + base[1:] + [main_class], env)
        for _ in range(a.runs):
            without.append(run(base + [main_class], env))
            with_.append(run([base[0], agent] + base[1:] + [main_class], env))
            if name == "hello":
                with_noop.append(run([base[0], noop] + base[1:] + [main_class], env))
        w, g = statistics.median(without), statistics.median(with_)
        print("%-8s %14.0f %14.0f %+10.0f" % (name, w, g, g - w))
        entry = {"name": "agent-startup-added-ms", "subject": "freshcreds", "unit": "ms", "value": g - w,
                 "threads": 1, "case": name, "without_agent_ms": w, "with_agent_ms": g, "runs": a.runs}
        if with_noop:
            n = statistics.median(with_noop)
            print("%-8s %14.0f %14.0f %+10.0f   (a no-op -javaagent: the JVM's own cost of any agent)"
                  % (name, w, n, n - w))
            entry["noop_agent_added_ms"] = n - w
        entries.append(entry)
    shutil.rmtree(workdir, ignore_errors=True)
    if a.json:
        tmp = a.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(entries, f, indent=1)
        os.replace(tmp, a.json)


if __name__ == "__main__":
    main()
