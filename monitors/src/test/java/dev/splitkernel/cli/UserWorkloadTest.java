package dev.splitkernel.cli;

import dev.splitkernel.report.ReportJson;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code run --workload-class}: the example workload outside the main sources (src/example/java) is compiled here,
 * against the project's classes only, and run through the main job; bad classes get clear errors.
 */
class UserWorkloadTest
{
    private static Path classes;

    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    @BeforeAll
    static void compileTheExample() throws Exception
    {
        final JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        assertNotNull(compiler, "this JVM has no Java compiler (a JRE?): the example cannot be built");
        classes = Files.createTempDirectory("user-workload");
        final ByteArrayOutputStream diagnostics = new ByteArrayOutputStream();
        final int code = compiler.run(null, diagnostics, diagnostics, "-d", classes.toString(), "-cp",
            System.getProperty("java.class.path"), "src/example/java/example/MatrixMultiply.java");
        assertEquals(0, code, diagnostics.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldRunTheExampleWorkloadThroughTheMainJob() throws Exception
    {
        final Path dir = Files.createTempDirectory("user-workload-run");
        final int code = Main.execute(new String[]{"run", "--workload-class", "example.MatrixMultiply",
            "--classpath", classes.toString(), "--working-set", "1m", "--sizes", "25", "--repeat", "2",
            "--warmup", "0", "--target-halfwidth", "off", "--out", dir.toString()}, out, err);
        final String text = outBytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, text + errBytes.toString(StandardCharsets.UTF_8));
        assertTrue(text.contains("matmul"), text);
        try (var files = Files.list(dir))
        {
            final Path json = files.filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
            @SuppressWarnings("unchecked")
            final List<Map<String, Object>> cells = (List<Map<String, Object>>)ReportJson.read(json).get("cells");
            assertEquals(1, cells.size());
            assertEquals("matmul", cells.get(0).get("workload"));
        }
    }

    @Test
    void shouldRefuseAClassItCannotFindNamingIt()
    {
        assertEquals(2, Main.execute(new String[]{"run", "--workload-class", "example.NoSuchWorkload", "--classpath",
            classes.toString()}, out, err));
        final String errors = errBytes.toString(StandardCharsets.UTF_8);
        assertTrue(errors.contains("cannot load 'example.NoSuchWorkload'"), errors);
    }

    @Test
    void shouldRefuseAClassThatIsNotAWorkload()
    {
        assertEquals(2, Main.execute(new String[]{"run", "--workload-class", "java.lang.String"}, out, err));
        final String errors = errBytes.toString(StandardCharsets.UTF_8);
        assertTrue(errors.contains("java.lang.String is not a workload"), errors);
    }

    @Test
    void shouldRefuseAClasspathThatDoesNotExist()
    {
        assertEquals(2, Main.execute(new String[]{"run", "--workload-class", "example.MatrixMultiply", "--classpath",
            "/no/such/dir"}, out, err));
        assertTrue(errBytes.toString(StandardCharsets.UTF_8).contains("/no/such/dir does not exist"));
    }
}
