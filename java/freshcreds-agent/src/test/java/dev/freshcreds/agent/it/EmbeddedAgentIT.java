package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.freshcreds.agent.it.apps.V2App;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * An executable jar that embeds the agent ({@code Launcher-Agent-Class} in its manifest, the
 * agent jar's classes inside it, as docs/agent.md describes), started with plain
 * {@code java -jar app.jar} and the options in {@code -Dfreshcreds.agent.options}: its
 * default-chain clients get freshcreds' credentials and the SDK's own IMDS provider stays
 * silent.
 */
class EmbeddedAgentIT extends ItSupport {
    @Test
    void executableJarWithLauncherAgentClass() throws IOException {
        Path jar = buildExecutableJar(V2App.class);
        AgentJvm.Result r = AgentJvm.of(V2App.class).noAgent().executableJar(jar)
                .jvm("-Dfreshcreds.agent.options=" + agentArgs()).sdkImds(aemm.url)
                .args("basic", sqs.url()).run().assertOk();
        assertEquals("ok", r.value("call"), r.toString());
        assertEquals(aemmValue("AccessKeyId"), r.value("chainKeyId"), r.toString());
        assertServedByFreshcreds(r);
    }

    /**
     * app.jar: the agent jar's entries, the test applications' package, and a manifest with
     * Main-Class, Launcher-Agent-Class and a Class-Path of the SDK jars (relative, as the JAR
     * specification wants).
     */
    private static Path buildExecutableJar(Class<?> main) throws IOException {
        Path dir = AgentJvm.Classpaths.work().resolve("embedded");
        Files.createDirectories(dir);
        Path jar = dir.resolve("app.jar");
        Manifest mf = new Manifest();
        Attributes a = mf.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.put(Attributes.Name.MAIN_CLASS, main.getName());
        a.putValue("Launcher-Agent-Class", "dev.freshcreds.agent.FreshcredsAgent");
        List<String> classPath = new ArrayList<>();
        for (String e : AgentJvm.Classpaths.sdk()) {
            classPath.add(dir.toAbsolutePath().relativize(Paths.get(e).toAbsolutePath()).toString().replace('\\', '/'));
        }
        a.put(Attributes.Name.CLASS_PATH, String.join(" ", classPath));
        try (OutputStream file = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(file, mf);
             JarFile agent = new JarFile(AgentJvm.Classpaths.agentJar())) {
            for (Enumeration<JarEntry> en = agent.entries(); en.hasMoreElements(); ) {
                JarEntry e = en.nextElement();
                if (e.getName().equalsIgnoreCase("META-INF/MANIFEST.MF") || e.getName().equals("META-INF/")) {
                    continue;
                }
                out.putNextEntry(new JarEntry(e.getName()));
                try (InputStream in = agent.getInputStream(e)) {
                    copy(in, out);
                }
                out.closeEntry();
            }
            Path classes = Paths.get(AgentJvm.Classpaths.testClasses());
            Path pkg = classes.resolve(main.getPackage().getName().replace('.', '/'));
            try (Stream<Path> files = Files.list(pkg)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    out.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                    try (InputStream in = Files.newInputStream(f)) {
                        copy(in, out);
                    }
                    out.closeEntry();
                }
            }
        }
        return jar;
    }

    private static void copy(InputStream in, OutputStream out) throws IOException {
        byte[] b = new byte[65536];
        for (int n; (n = in.read(b)) > 0; ) {
            out.write(b, 0, n);
        }
    }
}
