"""The timeline picture of a `make compare` run: calls over time by outcome per mode, with the
rotations, throttling and the outage marked (hand-written SVG, standard library only).
"""

import html

from causes import credential_reads, hms
from run import OUTCOMES

COLOURS = {"ok": "#4caf50", "expired": "#d32f2f", "skew": "#ff9800", "other": "#757575"}


def svg(run, width=1200):
    """Calls per time bin, stacked by outcome, one lane per mode; IMDS reads under each lane."""
    starts = [p for p, _ in run.sets.values()]
    ends = [run.stop or 0] + [ev[-1][0] for ev in run.events.values() if ev]
    t0 = min(starts + [ev[0][0] for ev in run.events.values() if ev])
    t1 = max(ends) + 5
    span = max(t1 - t0, 1.0)
    left, right, top, lane_h, imds_h, gap = 110, 20, 90, 90, 22, 18
    plot_w = width - left - right
    height = top + len(run.modes) * (lane_h + imds_h + gap) + 50
    bin_s = max(5, int(span / 160))
    nbins = int(span // bin_s) + 1

    def x(t):
        return left + (t - t0) / span * plot_w

    counts = {}
    peak = 1
    for m in run.modes:
        c = [{o: 0 for o in OUTCOMES} for _ in range(nbins)]
        for t, _call, o, _code in run.events.get(m, []):
            i = int((t - t0) // bin_s)
            if 0 <= i < nbins:
                c[i][o] += 1
        counts[m] = c
        # The scale comes from the main loop: after the stop, an app whose receives fail at once
        # spins through its drain, and those bars are drawn clipped, with their count on top.
        last = nbins if run.stop is None else max(1, int((run.stop - t0) // bin_s))
        peak = max([peak] + [sum(b.values()) for b in c[:last]])
    reads = {m: credential_reads(run, m) for m in run.modes}
    imds_peak = max([1] + [n for r in reads.values() for _t, n in r])

    el = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
          'font-family="sans-serif" font-size="11">' % (width, height, width, height),
          '<rect width="100%" height="100%" fill="white"/>',
          '<text x="%d" y="18" font-size="14" font-weight="bold">SQS calls per %d s by outcome '
          '(true time, UTC); JVM clocks %d s slow</text>' % (left, bin_s, run.skew)]
    # Legend.
    lx = left
    for o, label in (("ok", "ok"), ("expired", "ExpiredToken"), ("skew", "skew error"), ("other", "other error")):
        el.append('<rect x="%d" y="28" width="10" height="10" fill="%s"/><text x="%d" y="37">%s</text>'
                  % (lx, COLOURS[o], lx + 14, label))
        lx += 110
    el.append('<rect x="%d" y="28" width="10" height="10" fill="#7b1fa2"/><text x="%d" y="37">IMDS credential '
              'reads</text>' % (lx, lx + 14))
    lx += 150
    el.append('<rect x="%d" y="28" width="10" height="10" fill="#fff176"/><text x="%d" y="37">IMDS throttling '
              '(429)</text>' % (lx, lx + 14))
    lx += 140
    el.append('<rect x="%d" y="28" width="10" height="10" fill="#bdbdbd"/><text x="%d" y="37">IMDS down</text>'
              % (lx, lx + 14))
    bottom = height - 40
    # Fault windows and rotation markers, across every lane.
    for cls, fill, windows in (("throttle", "#fff176", run.throttles), ("outage", "#bdbdbd", run.outages)):
        for f0, u0 in windows:
            f, u = max(f0, t0), min(u0, t1)  # drawn within the plot, titled with the whole window
            if u <= f:
                continue
            el.append('<rect class="%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" fill-opacity="0.6">'
                      '<title>IMDS %s %s..%s</title></rect>' % (
                          cls, x(f), top - 10, max(x(u) - x(f), 1), bottom - top + 10, fill,
                          "throttling" if cls == "throttle" else "down", hms(f0), hms(u0)))
    if run.stop is not None and t0 <= run.stop <= t1:
        el.append('<line class="stop" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#000" stroke-dasharray="1 3">'
                  '<title>JVMs told to stop %s (then each drains its queue)</title></line>' % (
                      x(run.stop), top - 10, x(run.stop), bottom, hms(run.stop)))
    row = 0
    for n, (p, e) in sorted(run.sets.items()):
        for cls, t, colour, label in (("publish", p, "#1565c0", "set %d published" % n),
                                      ("expiry", e, "#b71c1c", "set %d expires" % n)):
            if not t0 <= t <= t1:
                continue
            el.append('<line class="%s" x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-dasharray="4 3">'
                      '<title>%s %s</title></line>' % (cls, x(t), top - 22, x(t), bottom, colour, label, hms(t)))
            el.append('<text x="%.1f" y="%d" fill="%s" font-size="10">%s</text>' % (
                x(t) + 2, top - 24 - 11 * (row % 2), colour, html.escape(label)))
            row += 1
    # Lanes.
    for li, m in enumerate(run.modes):
        y0 = top + li * (lane_h + imds_h + gap)
        base = y0 + lane_h
        el.append('<text x="8" y="%d" font-weight="bold">%s</text>' % (y0 + lane_h / 2, html.escape(m)))
        _line, kv = run.results[m]
        el.append('<text x="8" y="%d" font-size="9">expired %s, skew %s</text>' % (
            y0 + lane_h / 2 + 13, kv.get("expired_token_errors", "?"), kv.get("skew_errors", "?")))
        el.append('<text x="8" y="%d" font-size="9">other %s, IMDS %s</text>' % (
            y0 + lane_h / 2 + 25, kv.get("other_errors", "?"), kv.get("imds_requests", "?")))
        el.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (left, base, width - right, base))
        bw = max(plot_w / nbins - 0.5, 0.5)
        for i, b in enumerate(counts[m]):
            y = base
            total = sum(b.values())
            fit = min(1.0, peak / total) if total else 1.0
            if fit < 1.0:
                el.append('<text x="%.1f" y="%d" font-size="8" text-anchor="middle">%d</text>' % (
                    left + (i + 0.5) * plot_w / nbins, y0 - 4 - 8 * (i % 2), total))
            for o in OUTCOMES:
                if b[o]:
                    h = b[o] * fit / peak * (lane_h - 4)
                    y -= h
                    el.append('<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">'
                              '<title>%s %s: %d %s</title></rect>' % (
                                  o, left + i * plot_w / nbins, y, bw, h, COLOURS[o], m,
                                  hms(t0 + i * bin_s), b[o], o))
        for t, n in reads[m]:
            h = max(2.0, (n / imds_peak) ** 0.5 * (imds_h - 4))
            el.append('<rect class="imds" x="%.1f" y="%.1f" width="2" height="%.1f" fill="#7b1fa2">'
                      '<title>%s: %d IMDS credential reads by %s</title></rect>' % (
                          x(t) - 1, base + imds_h - h, h, m, n, hms(t)))
        el.append('<text x="%d" y="%d" font-size="9" fill="#7b1fa2">IMDS reads</text>' % (
            left - 52, base + imds_h - 4))
    # Time axis: minutes since the first set was published.
    step = 60 if span <= 1800 else 120
    if span < 300:
        step = 15
    t = t0
    el.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (left, bottom, width - right, bottom))
    while t <= t1:
        el.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333"/><text x="%.1f" y="%d" '
                  'text-anchor="middle" font-size="9">%s</text>' % (
                      x(t), bottom, x(t), bottom + 4, x(t), bottom + 15, hms(t)[:5] if step >= 60 else hms(t)))
        t += step
    el.append('<text x="%d" y="%d" font-size="10">UTC; %d s per bar; the scale is the same in every lane '
              '(%d calls for a full lane; taller bars, after the stop line, are cut and labelled)</text>'
              % (left, bottom + 32, bin_s, peak))
    el.append("</svg>")
    return "\n".join(el) + "\n"
