#!/usr/bin/env python3
"""Minimal SNTP (RFC 4330) client for the test rig. Standard library only.

Usage: sntp_query.py [--timeout SECONDS] [--verbose] [HOST:]PORT

Sends one NTPv4 client request to a loopback NTP server and prints the clock
offset of the server relative to this host, in seconds (positive = server ahead),
computed the usual way: ((T2 - T1) + (T3 - T4)) / 2.

--verbose prints key=value lines instead: offset, delay, stratum, leap, and the
receive (T2) and transmit (T3) offsets separately.

Exit codes: 0 answer ok; 1 no (valid) answer before the timeout;
2 the server answered but is unsynchronised (leap 3 or stratum 0, a kiss-o'-death);
64 usage error. Only loopback addresses are accepted: the rig never talks to the
outside world.
"""
import argparse
import ipaddress
import os
import socket
import struct
import sys
import time

NTP_EPOCH_DELTA = 2208988800  # seconds from 1900-01-01 to 1970-01-01


def to_ntp(t):
    secs = int(t)
    frac = int((t - secs) * 2**32) & 0xFFFFFFFF
    return ((secs + NTP_EPOCH_DELTA) & 0xFFFFFFFF, frac)


def from_ntp(secs, frac):
    return secs - NTP_EPOCH_DELTA + frac / 2**32


def main():
    ap = argparse.ArgumentParser(description="Query a loopback NTP server once (SNTP).")
    ap.add_argument("server", nargs="?", default="127.0.0.1:11123",
                    help="[HOST:]PORT, host must be loopback (default 127.0.0.1:11123)")
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds to wait (default 1)")
    ap.add_argument("--verbose", action="store_true", help="print key=value details")
    args = ap.parse_args()

    host, _, port = args.server.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port)
        addr = ipaddress.ip_address(host)
    except ValueError:
        print(f"sntp_query: bad server {args.server!r} (want IP:PORT)", file=sys.stderr)
        return 64
    if not addr.is_loopback:
        print(f"sntp_query: refusing non-loopback address {host}", file=sys.stderr)
        return 64

    family = socket.AF_INET6 if addr.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(args.timeout)
        # LI=0, VN=4, Mode=3 (client); transmit timestamp = T1 (also our nonce).
        t1 = time.time()
        t1s, t1f = to_ntp(t1)
        req = struct.pack("!BBbbII4sQQQII", (0 << 6) | (4 << 3) | 3, 0, 0, 0, 0, 0,
                          b"\0\0\0\0", 0, 0, 0, t1s, t1f)
        deadline = time.monotonic() + args.timeout
        try:
            s.sendto(req, (host, port))
            while True:
                s.settimeout(max(0.001, deadline - time.monotonic()))
                data, _ = s.recvfrom(512)
                t4 = time.time()
                if len(data) < 48:
                    continue
                (flags, stratum, _poll, _prec, _rd, _rdisp, refid, _ref,
                 orig_s, orig_f, rx_s, rx_f, tx_s, tx_f) = struct.unpack("!BBbbII4sQIIIIII", data[:48])
                if (orig_s, orig_f) != (t1s, t1f) or (flags & 7) != 4:
                    continue  # not an answer to our request
                break
        except (socket.timeout, OSError) as e:
            print(f"sntp_query: no answer from {host}:{port}: {e}", file=sys.stderr)
            return 1

    leap = flags >> 6
    t2 = from_ntp(rx_s, rx_f)
    t3 = from_ntp(tx_s, tx_f)
    offset = ((t2 - t1) + (t3 - t4)) / 2
    delay = (t4 - t1) - (t3 - t2)
    if args.verbose:
        print(f"offset={offset:.6f}")
        print(f"delay={delay:.6f}")
        print(f"stratum={stratum}")
        print(f"leap={leap}")
        print(f"refid={refid.hex() if stratum > 1 else refid.decode('ascii', 'replace')}")
        print(f"rx_offset={t2 - t1:.6f}")
        print(f"tx_offset={t3 - t4:.6f}")
    else:
        print(f"{offset:.6f}")
    if leap == 3 or stratum == 0:
        print(f"sntp_query: server unsynchronised (leap={leap}, stratum={stratum})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
