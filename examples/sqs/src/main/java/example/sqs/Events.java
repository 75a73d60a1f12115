package example.sqs;

import java.io.BufferedWriter;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The per-call event log ({@code --events PATH}): one line per SQS call,
 * {@code <epoch ms> <call> <outcome> [code]}, the time read from this JVM's clock (which the rig
 * may set wrong on purpose: the reader corrects it). The code is the SDK's error code, or the
 * exception's class when there is none; never a message, so never a secret. Without a path,
 * nothing is written. Buffered; lines reach the file within a second, and all of them on close.
 */
final class Events implements AutoCloseable {
    private static final long FLUSH_MILLIS = 1000;
    private static final Events NONE = new Events(null);

    private final Writer out;
    private long lastFlush;

    private Events(Writer out) {
        this.out = out;
    }

    static Events open(String path) {
        if (path == null || path.isEmpty()) {
            return NONE;
        }
        try {
            return new Events(new BufferedWriter(new OutputStreamWriter(new FileOutputStream(path, true),
                    StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException("--events " + path, e);
        }
    }

    void ok(String call) {
        write(call + " ok");
    }

    void failed(String call, QueueFailure f) {
        String m = f.getMessage() == null ? "" : f.getMessage();
        int colon = m.indexOf(':');
        String code = (colon > 0 ? m.substring(0, colon) : m).replaceAll("[^A-Za-z0-9_.-]", "");
        write(call + " " + f.outcome().name().toLowerCase(Locale.ROOT).replace("_token", "") + " "
                + (code.isEmpty() ? "-" : code));
    }

    private void write(String line) {
        if (out == null) {
            return;
        }
        long now = System.currentTimeMillis();
        try {
            out.write(now + " " + line + "\n");
            if (now - lastFlush >= FLUSH_MILLIS) {
                out.flush();
                lastFlush = now;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing the event log", e);
        }
    }

    @Override
    public void close() {
        if (out == null) {
            return;
        }
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing the event log", e);
        }
    }
}
