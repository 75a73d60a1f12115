package dev.freshcreds;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every ```java block of docs/java.md compiles against this jar and both SDKs. */
class DocsExamplesTest {
    @TempDir
    Path out;

    @Test
    void theJavaExamplesInDocsJavaMdCompile() throws Exception {
        Path doc = Paths.get(System.getProperty("freshcreds.repo")).resolve("docs/java.md");
        String text = new String(Files.readAllBytes(doc), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL).matcher(text);
        List<JavaFileObject> units = new ArrayList<>();
        while (m.find()) {
            String code = m.group(1);
            Matcher cls = Pattern.compile("public class (\\w+)").matcher(code);
            assertTrue(cls.find(), "a java block without a public class:\n" + code);
            units.add(new SimpleJavaFileObject(URI.create("string:///" + cls.group(1) + ".java"), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return code;
                }
            });
        }
        assertTrue(units.size() >= 3, "expected at least 3 examples, found " + units.size());
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        List<String> options = Arrays.asList("--release", "8", "-classpath", System.getProperty("java.class.path"),
                "-d", out.toString(), "-Xlint:none");
        boolean ok = javac.getTask(diagnostics, null, null, options, null, units).call();
        assertTrue(ok, "docs/java.md examples do not compile:\n" + diagnostics);
        assertTrue(new File(out.toFile(), "QuickStartV2.class").isFile());
    }
}
