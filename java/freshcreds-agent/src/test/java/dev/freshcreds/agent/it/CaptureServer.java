package dev.freshcreds.agent.it;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny SQS endpoint on loopback that records every request (headers, body) and answers
 * AWS JSON: {@code 200 {}} by default, or an {@code ExpiredTokenException} for the first N
 * requests. It checks no signature: tests read the recorded {@code Authorization},
 * {@code X-Amz-Security-Token} and {@code X-Amz-Date} headers.
 */
final class CaptureServer implements AutoCloseable {
    /** One recorded request. */
    static final class Request {
        final String method;
        final String path;
        final Map<String, String> headers;
        final String body;

        Request(String method, String path, Map<String, String> headers, String body) {
            this.method = method;
            this.path = path;
            this.headers = headers;
            this.body = body;
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        /** The access key id in the SigV4 Authorization header. */
        String keyId() {
            String auth = header("authorization");
            int i = auth == null ? -1 : auth.indexOf("Credential=");
            return i < 0 ? null : auth.substring(i + "Credential=".length(), auth.indexOf('/', i));
        }

        @Override
        public String toString() {
            return method + " " + path + " keyId=" + keyId() + " x-amz-date=" + header("x-amz-date") + " body=" + body;
        }
    }

    private final HttpServer server;
    private final List<Request> requests = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger expiredLeft = new AtomicInteger();

    private CaptureServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "capture-server");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/", this::handle);
        server.start();
    }

    static CaptureServer start() {
        try {
            return new CaptureServer();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The next {@code n} requests get {@code 403 ExpiredTokenException}. */
    CaptureServer expireNext(int n) {
        expiredLeft.set(n);
        return this;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    List<Request> requests() {
        synchronized (requests) {
            return new ArrayList<>(requests);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        Map<String, String> headers = new TreeMap<>();
        for (Map.Entry<String, List<String>> e : ex.getRequestHeaders().entrySet()) {
            headers.put(e.getKey().toLowerCase(Locale.ROOT), String.join(",", e.getValue()));
        }
        String body;
        try (InputStream in = ex.getRequestBody()) {
            java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
            byte[] b = new byte[4096];
            for (int n; (n = in.read(b)) > 0; ) {
                buf.write(b, 0, n);
            }
            body = new String(buf.toByteArray(), StandardCharsets.UTF_8);
        }
        requests.add(new Request(ex.getRequestMethod(), ex.getRequestURI().toString(), headers, body));
        int status = 200;
        String answer = "{}";
        if (expiredLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            status = 403;
            answer = "{\"__type\":\"com.amazonaws.sqs#ExpiredTokenException\","
                    + "\"message\":\"The security token included in the request is expired\"}";
            ex.getResponseHeaders().add("x-amzn-ErrorType", "ExpiredTokenException");
        }
        byte[] out = answer.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.0");
        ex.getResponseHeaders().add("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000");
        ex.sendResponseHeaders(status, out.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(out);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
