#!/usr/bin/env python3
"""Merges the benchmark parts into one side-by-side report.

    bench/report.py [--dir target/bench] [--command "make bench"] [--mode full|smoke]

Reads DIR/parts/*.json (lists of {name, subject, unit, value, threads, ...} written by
native/examples/bench_engine.rs, java/freshcreds-bench/run.sh and timing.sh,
java/freshcreds-agent/bench/startup.py) and DIR/parts/uptime-{start,end}.txt, then writes
  DIR/results.json   every entry, one list
  DIR/report.md      one table per section, freshcreds beside sdk-v2 and sdk-v1 with ratios,
                     the machine, its load, and the command
  DIR/refresh.svg    callers' latency during a refresh against a stalled / throttling IMDS
Nothing here measures: it only formats what the parts hold, and says what is missing.
"""
import argparse
import datetime
import glob
import json
import math
import os
import platform
import subprocess
import sys

SUBJECTS = ["freshcreds", "sdk-v2", "sdk-v1"]
LABEL = {"freshcreds": "freshcreds", "sdk-v2": "SDK v2", "sdk-v1": "SDK v1"}


def load_parts(d):
    entries = []
    for path in sorted(glob.glob(os.path.join(d, "parts", "*.json"))):
        with open(path) as f:
            part = json.load(f)
        for e in part:
            e.setdefault("source", os.path.basename(path))
            entries.append(e)
    return entries


def sh(cmd):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
        return p.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine(d):
    cpu = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576.0)
    except OSError:
        pass
    java = sh(["java", "-version"]).splitlines()
    start = ""
    p = os.path.join(d, "parts", "uptime-start.txt")
    if os.path.exists(p):
        start = open(p).read().strip()
    # The end of the run: parts/uptime-end.txt (written by `make bench` before the report), else now.
    end, when = sh(["uptime"]), datetime.datetime.now(datetime.timezone.utc)
    p = os.path.join(d, "parts", "uptime-end.txt")
    if os.path.exists(p):
        end = open(p).read().strip()
        when = datetime.datetime.fromtimestamp(os.path.getmtime(p), datetime.timezone.utc)
    return {
        "date": when.strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "kernel": platform.release(),
        "jdk": java[1] if len(java) > 1 else (java[0] if java else ""),
        "rustc": sh(["rustc", "--version"]),
        "uptime_start": start,
        "uptime_end": end,
    }


def load_avg(uptime_line):
    """The 1-minute load average in an `uptime` line, or None."""
    if "load average:" not in uptime_line:
        return None
    try:
        return float(uptime_line.split("load average:")[1].split(",")[0])
    except ValueError:
        return None


def find(entries, name, subject, **match):
    for e in entries:
        if e["name"] == name and e["subject"] == subject and all(e.get(k) == v for k, v in match.items()):
            return e
    return None


def fmt_ns(v):
    if v is None:
        return ""
    if v < 1e3:
        return "%.0f ns" % v if v >= 100 else "%.1f ns" % v
    if v < 1e6:
        return "%.1f µs" % (v / 1e3)
    if v < 1e9:
        return "%.1f ms" % (v / 1e6)
    return "%.2f s" % (v / 1e9)


def fmt_bytes(v):
    if v is None:
        return ""
    if abs(v) >= 1048576:
        return "%.1f MiB" % (v / 1048576.0)
    if abs(v) >= 1024:
        return "%.0f KiB" % (v / 1024.0)
    return "%.0f B" % v


def fmt_num(v, digits=1):
    if v is None:
        return ""
    if float(v).is_integer():
        return "%d" % v
    return ("%." + str(digits) + "f") % v


def ratio(sdk, fresh):
    if sdk is None or fresh is None or not math.isfinite(sdk) or not math.isfinite(fresh):
        return ""
    if fresh == 0:
        return "—" if sdk == 0 else "∞"
    r = sdk / fresh
    if r >= 10000:
        exp = int(math.floor(math.log10(r)))
        return "%.1f·10^%d×" % (r / 10 ** exp, exp)
    return ("%.0f×" if r >= 100 else "%.1f×" if r >= 1 else "%.2f×") % r


def value(e):
    return None if e is None else e["value"]


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def hot_path(entries):
    rows = []
    for method, sdk in [("resolveIdentity", "sdk-v2"), ("resolveCredentials", "sdk-v2"), ("getCredentials", "sdk-v1")]:
        for t in (1, 8, 64):
            f_ns = value(find(entries, "hot-path-ns", "freshcreds", method=method, threads=t))
            f_b = value(find(entries, "hot-path-bytes", "freshcreds", method=method, threads=t))
            s_ns = value(find(entries, "hot-path-ns", sdk, method=method, threads=t))
            s_b = value(find(entries, "hot-path-bytes", sdk, method=method, threads=t))
            if f_ns is None and s_ns is None:
                continue
            cells = {"sdk-v2": ["", ""], "sdk-v1": ["", ""]}
            cells[sdk] = ["%s, %s" % (fmt_ns(s_ns), fmt_bytes(s_b)) if s_ns is not None else "", ratio(s_ns, f_ns)]
            rows.append(["`%s()`" % method, str(t), "%s, %s" % (fmt_ns(f_ns), fmt_bytes(f_b)) if f_ns is not None else "",
                         cells["sdk-v2"][0], cells["sdk-v2"][1], cells["sdk-v1"][0], cells["sdk-v1"][1]])
    return table(["call", "threads", "freshcreds (ns/op, B/op)", "SDK v2", "v2 ÷ fc", "SDK v1", "v1 ÷ fc"], rows)


def three_way(entries, names, fmt, label=None, **match):
    rows = []
    for name in names:
        vals = {s: value(find(entries, name, s, **match)) for s in SUBJECTS}
        if all(v is None for v in vals.values()):
            continue
        rows.append([label(name) if label else name] + [fmt(vals["freshcreds"]), fmt(vals["sdk-v2"]), ratio(vals["sdk-v2"], vals["freshcreds"]),
                     fmt(vals["sdk-v1"]), ratio(vals["sdk-v1"], vals["freshcreds"])])
    return rows


def refresh(entries):
    rows, notes = [], []
    for prefix, title in [("refresh-stall-", "IMDS stalled"), ("refresh-throttled-", "IMDS answering 429")]:
        names = [prefix + p + "-ns" for p in ("p50", "p99", "p999", "max")]
        label = lambda n, title=title: "%s: %s" % (title, n.split("-")[-2].replace("p999", "p99.9"))
        rows += three_way(entries, names, fmt_ns, label)
        parts = []
        for s in SUBJECTS:
            e = find(entries, prefix + "max-ns", s)
            if e:
                parts.append("%s %s calls, %s of them over 1 ms, %s IMDS requests" % (
                    LABEL[s], fmt_num(e.get("calls")), fmt_num(e.get("calls_over_1ms")), fmt_num(e.get("imds_requests"))))
        e = find(entries, prefix + "max-ns", "freshcreds")
        if e:
            notes.append("%s for %s ms, %s caller threads, one call every %s µs each: %s." % (
                title, fmt_num(e.get("fault_ms")), e["threads"], fmt_num(e.get("interval_us")), "; ".join(parts)))
    return table(["callers' latency", "freshcreds", "SDK v2", "v2 ÷ fc", "SDK v1", "v1 ÷ fc"], rows), notes


def svg_chart(entries, path):
    """Grouped bars, log scale: p50 / p99 / p99.9 / max per subject, stalled and throttled."""
    groups = []
    for prefix, title in [("refresh-stall-", "stalled"), ("refresh-throttled-", "429")]:
        for p in ("p50", "p99", "p999", "max"):
            vals = [value(find(entries, prefix + p + "-ns", s)) for s in SUBJECTS]
            if any(v is not None for v in vals):
                groups.append(("%s %s" % (title, p.replace("p999", "p99.9")), vals))
    if not groups:
        return False
    colors = {"freshcreds": "#2a7ab9", "sdk-v2": "#e07b39", "sdk-v1": "#8c8c8c"}
    w, h, left, top, bottom = 900, 380, 70, 40, 60
    lo, hi = 1.0, 10.0 ** 10  # 1 ns .. 10 s
    plot_h = h - top - bottom
    gw = (w - left - 20) / len(groups)
    bw = gw / 4.0

    def y(v):
        v = min(max(v, lo), hi)
        return top + plot_h * (1 - (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))

    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">' % (w, h),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="20" font-size="14">Callers\' latency during a refresh (log scale)</text>' % left]
    for k in range(0, 11):
        v = 10.0 ** k
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, w - 20, y(v), y(v)))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 5, y(v) + 4, fmt_ns(v)))
    target = 10000.0
    out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#2a7ab9" stroke-dasharray="4 3"/>' % (left, w - 20, y(target), y(target)))
    out.append('<text x="%d" y="%.1f" fill="#2a7ab9">target: freshcreds p99.9 ≤ 10 µs</text>' % (left + 4, y(target) - 4))
    for i, (label, vals) in enumerate(groups):
        x0 = left + i * gw + bw / 2
        for j, (s, v) in enumerate(zip(SUBJECTS, vals)):
            if v is None:
                continue
            x = x0 + j * bw
            out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>' % (
                x, y(v), bw - 2, top + plot_h - y(v), colors[s], LABEL[s], label, fmt_ns(v)))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (x0 + 1.5 * bw, top + plot_h + 16, label))
    out.append('<text x="%d" y="%d">IMDS stalled (left) and answering 429 (right) during the refresh; '
               'percentiles of every call, max = the longest call</text>' % (left, top + plot_h + 40))
    for j, s in enumerate(SUBJECTS):
        out.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>' % (
            left + 420 + j * 110, 11, colors[s], left + 434 + j * 110, 20, LABEL[s]))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return True


def summary(entries):
    """One row per figure, the three subjects side by side (the README's Performance table)."""
    def hp(method, subject):
        ns = [value(find(entries, "hot-path-ns", subject, method=method, threads=t)) for t in (1, 8, 64)]
        b = value(find(entries, "hot-path-bytes", subject, method=method, threads=1))
        if any(v is None for v in ns):
            return "—"
        return "%s, %s" % (" / ".join(fmt_ns(v) for v in ns), fmt_bytes(b))

    def pct(prefix, subject):
        vals = [value(find(entries, prefix + p + "-ns", subject)) for p in ("p50", "p99", "p999", "max")]
        return "" if any(v is None for v in vals) else " / ".join(fmt_ns(v) for v in vals)

    def each(name, fmt, **match):
        return [fmt(value(find(entries, name, s, **match))) for s in SUBJECTS]

    def ms(v):
        return "" if v is None else "%.0f ms" % v

    rows = [["`resolveIdentity()`, 1 / 8 / 64 threads", hp("resolveIdentity", "freshcreds"), hp("resolveIdentity", "sdk-v2"), "—"],
            ["`resolveCredentials()`, 1 / 8 / 64 threads", hp("resolveCredentials", "freshcreds"), hp("resolveCredentials", "sdk-v2"), "—"],
            ["`getCredentials()`, 1 / 8 / 64 threads", hp("getCredentials", "freshcreds"), "—", hp("getCredentials", "sdk-v1")]]
    for prefix, title in [("refresh-stall-", "stalled"), ("refresh-throttled-", "answering 429")]:
        e = find(entries, prefix + "max-ns", "freshcreds")
        if e:
            rows.append(["callers during a refresh, IMDS %s for %s s: p50 / p99 / p99.9 / max" % (title, fmt_num(e.get("fault_ms", 0) / 1000.0))]
                        + [pct(prefix, s) for s in SUBJECTS])
    rows.append(["IMDS requests per rotation (steady state)"] + each("imds-requests-per-rotation", lambda v: fmt_num(v, 2)))
    c = find(entries, "imds-requests-cold-start", "freshcreds")
    rows.append(["IMDS requests, %s threads on a cold start" % (c["threads"] if c else "")] + each("imds-requests-cold-start", fmt_num))
    rows.append(["first credentials, new provider in a new JVM"] + each("first-credentials-ms", ms, variant="new provider in a new JVM"))
    r = find(entries, "first-credentials-ms", "freshcreds", variant="engine alone (Rust API, in-process loopback IMDS)")
    if r:
        rows.append(["first credentials, engine alone (Rust API)", ms(r["value"]), "", ""])
    rows.append(["RSS added by the provider"] + each("rss-added-bytes", fmt_bytes))
    rows.append(["threads added to the JVM"] + each("native-threads", fmt_num, variant="threads added to the JVM"))
    r = find(entries, "snapshot-read-ns", "freshcreds")
    if r:
        rows.append(["snapshot read from Rust", fmt_ns(r["value"]), "", ""])
    for name, label in [("cdylib-bytes", "stripped JNI library (`libfreshcreds.so`)"), ("agent-jar-bytes", "agent jar")]:
        r = find(entries, name, "freshcreds")
        if r:
            rows.append([label, fmt_bytes(r["value"]), "", ""])
    agent = {e.get("case"): e for e in entries if e["name"] == "agent-startup-added-ms"}
    if agent:
        rows.append(["JVM start-up added by the agent (%s; median of %s)" % (" / ".join(agent), next(iter(agent.values())).get("runs")),
                     " / ".join("%+.0f ms" % e["value"] for e in agent.values()), "", ""])
    return table(["figure", "freshcreds", "SDK v2", "SDK v1"], rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="target/bench")
    ap.add_argument("--command", default="make bench")
    ap.add_argument("--mode", default="full")
    a = ap.parse_args()
    entries = load_parts(a.dir)
    if not entries:
        sys.exit("report.py: no parts in %s/parts" % a.dir)
    m = machine(a.dir)
    with open(os.path.join(a.dir, "results.json.tmp"), "w") as f:
        json.dump(entries, f, indent=1)
    os.replace(os.path.join(a.dir, "results.json.tmp"), os.path.join(a.dir, "results.json"))

    loads = [x for x in (load_avg(m["uptime_start"]), load_avg(m["uptime_end"])) if x is not None]
    shared = loads and max(loads) > (m["nproc"] or 1)
    md = ["# freshcreds benchmarks: side by side with the AWS SDK providers", ""]
    if a.mode == "smoke":
        md += ["**Smoke run** (a few short iterations of each, to check the pipeline): the figures are not "
               "meaningful.", ""]
    md += ["- command: `%s` (%s)" % (a.command, a.mode),
           "- date: %s" % m["date"],
           "- machine: %s CPUs, %s, %s RAM, Linux %s" % (m["nproc"], m["cpu"], m["memory"], m["kernel"]),
           "- JDK: %s; %s" % (m["jdk"], m["rustc"]),
           "- load (`uptime`): at start `%s`; at end `%s`" % (m["uptime_start"] or "?", m["uptime_end"])]
    if shared:
        md += ["- **shared machine**: the load average was above the CPU count during the run (other builds "
               "were running), so timings are noisier and slower than on an idle machine."]
    md += ["- subjects: freshcreds (`FreshAwsCredentialsProvider` for v2 calls, `FreshAWSCredentialsProvider` for "
           "`getCredentials()`), SDK v2 `software.amazon.awssdk.auth.credentials.InstanceProfileCredentialsProvider`, "
           "SDK v1 `com.amazonaws.auth.InstanceProfileCredentialsProvider`, all against the same loopback IMDS "
           "(AEMM; for sections 2 and 3 behind the IMDS fault proxy), measured in the same run. "
           "Ratios are SDK ÷ freshcreds.", ""]

    md += ["## Summary", "", summary(entries), ""]
    md += ["## 1. Hot path (JMH)", "",
           "One call of what an SDK client asks its provider for, average time and allocation per call "
           "(`-prof gc`), 2 CPUs: at 8 and 64 threads the threads share them.", "",
           hot_path(entries), ""]

    rtable, notes = refresh(entries)
    md += ["## 2. Callers' latency during a refresh", "",
           "Each provider is given credentials that make its refresh due a few seconds after its first fetch "
           "(SDK v1 refreshes in the caller under a lock when under 15 minutes are left; SDK v2 refreshes "
           "credentials with under 5 minutes left at its stale time, 1 s before expiry, every caller waiting; "
           "freshcreds refreshes in the background). IMDS is then stalled (or answers 429, `Retry-After: 1`) "
           "through the fault proxy while caller threads call the provider in a loop, each parking 200 µs "
           "after a call (so 8 callers do not compete for 2 CPUs); every call starting inside the fault window "
           "is recorded with HdrHistogram's correction for coordinated omission "
           "(`recordValueWithExpectedInterval`): a call blocked for 2 s also stands for the calls its caller "
           "would have made meanwhile, as an application's request threads would. The uncorrected figures "
           "are in `results.json` (`uncorrected_ns`).", "", rtable, ""]
    md += ["- " + n for n in notes]
    e = find(entries, "refresh-stall-p999-ns", "freshcreds")
    t = find(entries, "refresh-throttled-p999-ns", "freshcreds")
    if e:
        verdict = "met" if e["value"] <= 10000 and (t is None or t["value"] <= 10000) else "missed"
        md += ["- target freshcreds p99.9 ≤ 10 µs: **%s** (stalled %s, throttled %s)." % (
            verdict, fmt_ns(e["value"]), fmt_ns(value(t)))]
    if svg_chart(entries, os.path.join(a.dir, "refresh.svg")):
        md += ["", "![callers' latency during a refresh](refresh.svg)"]
    md += [""]

    md += ["## 3. IMDS requests", "",
           table(["requests", "freshcreds", "SDK v2", "v2 ÷ fc", "SDK v1", "v1 ÷ fc"],
                 three_way(entries, ["imds-requests-per-rotation", "imds-requests-cold-start"], lambda v: fmt_num(v, 2))), ""]
    e = find(entries, "imds-requests-per-rotation", "freshcreds")
    c = find(entries, "imds-requests-cold-start", "freshcreds")
    if e:
        md += ["- per rotation: IMDS publishes a new set every %s s, each valid 3 periods (SDK v1: 15 min + 1.25 "
               "periods, its refresh threshold being a fixed 15 minutes), %d callers, counted at the proxy over %s "
               "rotations. SDK v2 refreshes such short-lived credentials only 1 s before expiry, so it fetches every "
               "other set; a fetch is 2 requests for freshcreds (role, credentials; its token is cached 6 h), 3 for "
               "SDK v2 (token, role, credentials), 4 for SDK v1 (a token for each GET). At each rotation the proxy "
               "holds IMDS requests for 1 s while AEMM reloads (AEMM is not safe to reload under requests). Paths per subject are in `results.json` (`by_path`)." % (
                   fmt_num(e.get("period_ms", 0) / 1000.0), e["threads"], fmt_num(e.get("rotations")))]
    if c:
        md += ["- cold start: %d threads call a new provider at once (all requests until all have credentials, "
               "token PUT included)." % c["threads"]]
    md += [""]

    md += ["## 4. Start-up", ""]
    rows = three_way(entries, ["first-credentials-ms"], lambda v: "%.1f ms" % v if v is not None else "",
                     lambda n: "first credentials, new provider in a new JVM", variant="new provider in a new JVM")
    builds = [find(entries, "first-credentials-ms", s, variant="new provider in a new JVM") for s in SUBJECTS]
    if all(b is not None and "build_ms" in b for b in builds):
        rows.append(["of which building the provider"] + sum(
            ([("%.1f ms" % b["build_ms"])] + ([ratio(b["build_ms"], builds[0]["build_ms"])] if i else [])
             for i, b in enumerate(builds)), []))
    r = find(entries, "first-credentials-ms", "freshcreds", variant="engine alone (Rust API, in-process loopback IMDS)")
    if r:
        rows.append(["first credentials, engine alone (Rust API)", "%.1f ms" % r["value"], "", "", "", ""])
    for e in entries:
        if e["name"] == "agent-startup-added-ms":
            rows.append(["JVM start-up added by the agent (`%s`, median of %s)" % (e.get("case"), e.get("runs")),
                         "%+.0f ms (%.0f → %.0f)" % (e["value"], e.get("without_agent_ms", 0), e.get("with_agent_ms", 0)), "", "", "", ""])
            if "noop_agent_added_ms" in e:
                rows.append(["the same with a no-op `-javaagent` (the JVM's own cost of any agent)",
                             "%+.0f ms" % e["noop_agent_added_ms"], "", "", "", ""])
    md += [table(["start-up", "freshcreds", "SDK v2", "v2 ÷ fc", "SDK v1", "v1 ÷ fc"], rows), "",
           "- first credentials: from building the provider (freshcreds: `FreshCredentials.builder()…build()`, "
           "which loads the JNI library and starts the engine) to the first `resolveCredentials()`/"
           "`getCredentials()` returning, against AEMM; class loading included, as in an application.",
           "- agent: `hello` is a main that prints a line (what `premain` costs every JVM); `sdk-v2` resolves "
           "credentials once through the SDK's default chain (with the agent, freshcreds answers).", ""]

    md += ["## 5. Footprint", ""]
    rows = []
    for name, label in [("cdylib-bytes", "stripped JNI library (`libfreshcreds.so`, release profile)"),
                        ("agent-jar-bytes", "agent jar")]:
        e = find(entries, name, "freshcreds")
        if e:
            rows.append([label, "%s (%d bytes)" % (fmt_bytes(e["value"]), e["value"]), "", "", "", ""])
    rows += three_way(entries, ["rss-added-bytes"], fmt_bytes, lambda n: "RSS added by the provider")
    rows += three_way(entries, ["native-threads"], fmt_num, lambda n: "threads added to the JVM (`/proc/self/task`)",
                      variant="threads added to the JVM")
    r = find(entries, "native-threads", "freshcreds", variant="engine worker threads (Rust)")
    if r:
        rows.append(["engine worker threads (Rust API alone)", fmt_num(r["value"]), "", "", "", ""])
    md += [table(["footprint", "freshcreds", "SDK v2", "v2 ÷ fc", "SDK v1", "v1 ÷ fc"], rows), ""]
    e = find(entries, "native-threads", "freshcreds", variant="threads added to the JVM")
    if e:
        md += ["- threads: by design freshcreds adds its engine's runtime worker and the `freshcreds-updater` daemon thread; "
               "the SDKs' counts are whatever their first call left running. RSS is `VmRSS` before building the "
               "provider and after its first credentials plus a pause (1 s; 0.3 s in a smoke run), in a new JVM "
               "per subject, so it includes the classes each one loads."]
    md += ["", "Raw entries: `results.json` (`{name, subject, unit, value, threads, …}`)."]
    with open(os.path.join(a.dir, "report.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("report.py: %d entries -> %s/results.json, %s/report.md" % (len(entries), a.dir, a.dir))


if __name__ == "__main__":
    main()
