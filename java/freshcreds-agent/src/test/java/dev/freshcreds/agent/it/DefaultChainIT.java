package dev.freshcreds.agent.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.freshcreds.agent.it.apps.V1App;
import dev.freshcreds.agent.it.apps.V2App;
import dev.freshcreds.agent.it.launch.IsolatedLauncher;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Unmodified v1 and v2 applications, each in its own JVM with the agent, against AEMM: their
 * default-chain clients sign with freshcreds' credentials, and the SDKs' own IMDS providers
 * make no request to the credentials paths (AEMM's log, which records every request with its
 * User-Agent, says so). Then the same with the application and its SDK in a child class
 * loader, child-first (Tomcat) and parent-first (Spring Boot).
 */
class DefaultChainIT extends ItSupport {
    @ParameterizedTest
    @ValueSource(strings = {"v1", "v2"})
    void unmodifiedAppGetsFreshcredsCredentials(String sdk) {
        AgentJvm.Result r = AgentJvm.of(sdk.equals("v1") ? V1App.class : V2App.class)
                .agentArgs(agentArgs()).sdkImds(aemm.url).args("basic", sqs.url()).run().assertOk();
        assertEquals("ok", r.value("call"), r.toString());
        assertEquals(aemmValue("AccessKeyId"), r.value("chainKeyId"));
        assertServedByFreshcreds(r);
        // The bridge is defined in the bootstrap loader, not appended to its class path, which
        // would cost class-data sharing and print this JVM warning on the application's stderr.
        assertEquals(0, r.countErr("Sharing is only supported"), r.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1 child-first", "v2 child-first", "v1 parent-first", "v2 parent-first"})
    void sdkInAChildClassLoader(String variant) throws IOException {
        String[] v = variant.split(" ");
        Class<?> app = v[0].equals("v1") ? V1App.class : V2App.class;
        Path launcher = copyClasses("launcher", IsolatedLauncher.class.getPackage().getName());
        Path apps = copyClasses("apps", app.getPackage().getName());
        List<String> child = new ArrayList<>();
        child.add(apps.toString());
        child.addAll(AgentJvm.Classpaths.sdk());
        AgentJvm.Result r = AgentJvm.of(IsolatedLauncher.class).classpath(launcher.toString())
                .agentArgs(agentArgs()).sdkImds(aemm.url)
                .args(v[1], String.join(File.pathSeparator, child), app.getName(), "basic", sqs.url())
                .run().assertOk();
        assertEquals("ok", r.value("call"), r.toString());
        assertServedByFreshcreds(r);
    }

    /** Copies one package of the compiled tests into its own directory (so only a child loader has it). */
    static Path copyClasses(String name, String pkg) throws IOException {
        Path src = Paths.get(AgentJvm.Classpaths.testClasses());
        Path dest = AgentJvm.Classpaths.work().resolve("cp-" + name);
        Path rel = Paths.get(pkg.replace('.', '/'));
        Files.createDirectories(dest.resolve(rel));
        try (Stream<Path> files = Files.list(src.resolve(rel))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.toString().endsWith(".class")) {
                    Files.copy(f, dest.resolve(rel).resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        return dest;
    }
}
