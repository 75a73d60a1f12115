package dev.freshcreds.internal;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Hands native log records to {@code java.util.logging} logger {@code dev.freshcreds}, and
 * tells the native side which levels that logger wants.
 *
 * <p>Native levels: 1 error → SEVERE, 2 warn → WARNING, 3 info → INFO, 4 debug → FINE,
 * 5 trace → FINEST. The native target (e.g. {@code freshcreds::refresh}) becomes the record's
 * source class name.
 */
final class NativeLogs {
    static final Logger LOG = Logger.getLogger("dev.freshcreds");
    private static final int MAX_PER_DRAIN = 256;

    private NativeLogs() {}

    /** The native level matching the logger's effective level. */
    static int wantedLevel() {
        if (LOG.isLoggable(Level.FINEST)) {
            return 5;
        } else if (LOG.isLoggable(Level.FINE)) {
            return 4;
        } else if (LOG.isLoggable(Level.INFO)) {
            return 3;
        } else if (LOG.isLoggable(Level.WARNING)) {
            return 2;
        } else if (LOG.isLoggable(Level.SEVERE)) {
            return 1;
        }
        return 0;
    }

    static Level toJul(String nativeLevel) {
        switch (nativeLevel) {
            case "1":
                return Level.SEVERE;
            case "2":
                return Level.WARNING;
            case "3":
                return Level.INFO;
            case "4":
                return Level.FINE;
            default:
                return Level.FINEST;
        }
    }

    /** Logs every waiting native record. */
    static void drain(Backend backend) {
        long[] dropped = new long[1];
        String[] records;
        do {
            records = backend.logDrain(MAX_PER_DRAIN, dropped);
            for (int i = 0; i + 2 < records.length; i += 3) {
                LOG.logp(toJul(records[i]), records[i + 1], null, records[i + 2]);
            }
            if (dropped[0] > 0) {
                LOG.warning(dropped[0] + " native log records were dropped: the queue was full");
                dropped[0] = 0;
            }
        } while (records.length >= 3 * MAX_PER_DRAIN);
    }
}
