package dev.freshcreds.agent;

import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The agent's logging: {@code java.util.logging}, logger {@code dev.freshcreds} (the
 * library's, so one logging configuration covers both). The {@code log} option sets its level;
 * levels below INFO, which the default console handler drops, get a console handler of their
 * own, so {@code log=debug} shows without a logging.properties.
 */
final class AgentLog {
    /** Initialised on first use: java.util.logging's set-up costs start-up time, premain never pays it. */
    private static final class Holder {
        static final Logger LOG = Logger.getLogger("dev.freshcreds");
    }

    private static final String PREFIX = "freshcreds agent: ";

    private AgentLog() {}

    static boolean isLevel(String s) {
        return toJul(s) != null;
    }

    static Level toJul(String s) {
        switch (s) {
            case "off":
                return Level.OFF;
            case "error":
                return Level.SEVERE;
            case "warn":
                return Level.WARNING;
            case "info":
                return Level.INFO;
            case "debug":
                return Level.FINE;
            case "trace":
                return Level.FINEST;
            default:
                return null;
        }
    }

    /** The engine's log filter for an option level. */
    static String engineFilter(String s) {
        return s.equals("error") || s.equals("warn") || s.equals("info") || s.equals("debug") || s.equals("trace") ? s : "error";
    }

    /** Applies the {@code log} option; null leaves the logging configuration alone. */
    static void configure(String option) {
        if (option == null) {
            return;
        }
        Level level = toJul(option);
        Holder.LOG.setLevel(level);
        if (level.intValue() < Level.INFO.intValue()) {
            Handler h = new ConsoleHandler();
            h.setLevel(level);
            // INFO and above still go through the parent handlers, as configured.
            h.setFilter(r -> r.getLevel().intValue() < Level.INFO.intValue());
            Holder.LOG.addHandler(h);
        }
    }

    static void warn(String message) {
        Holder.LOG.warning(PREFIX + message);
    }

    static void warn(String message, Throwable t) {
        Holder.LOG.log(Level.WARNING, PREFIX + message, t);
    }

    static void info(String message) {
        Holder.LOG.info(PREFIX + message);
    }

    static void fine(String message) {
        Holder.LOG.fine(PREFIX + message);
    }

    static void fine(String message, Throwable t) {
        Holder.LOG.log(Level.FINE, PREFIX + message, t);
    }
}
