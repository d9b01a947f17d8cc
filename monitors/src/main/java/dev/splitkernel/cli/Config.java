package dev.splitkernel.cli;

import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.TreeSet;

/**
 * Settings files: {@code --config FILE} (a preset in native-config/presets/, or your own) loads a properties file
 * into the system properties before a command builds its contexts. Precedence: flags, then {@code -D} system
 * properties, then the file, then the defaults. Every {@code splitkernel.*} key in a file must be a setting some
 * context knows, and numeric settings must be numbers, wherever they come from: a bad one fails at start naming it.
 */
final class Config
{
    /** Classes whose {@code *_PROP_NAME} constants are the known settings (loaded by name: some may be absent). */
    private static final String[] CONTEXT_CLASSES = {
        "dev.splitkernel.verbs.FabricContext",
        "dev.splitkernel.verbs.rdma.RdmaContext",
        "dev.splitkernel.monitor.runtime.MonitorContext",
        "dev.splitkernel.excache.ExCacheContext",
        "dev.splitkernel.monitor.global.GlobalManagerContext",
        "dev.splitkernel.monitor.memory.MemoryMonitorContext",
        "dev.splitkernel.monitor.processor.ProcessorMonitorContext",
        "dev.splitkernel.monitor.storage.StorageMonitorContext",
        "dev.splitkernel.cluster.ClusterContext",
    };

    private Config()
    {
    }

    /**
     * Take {@code --config FILE} out of the arguments and apply the file; then validate the numeric settings among
     * the system properties.
     *
     * @return the arguments without {@code --config FILE}.
     * @throws IllegalArgumentException naming the file or the setting that is wrong.
     */
    static String[] apply(final String[] args)
    {
        final List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++)
        {
            if ("--config".equals(args[i]))
            {
                if (i + 1 >= args.length)
                {
                    throw new IllegalArgumentException("--config needs a file (e.g. native-config/presets/tcp-cluster.properties)");
                }
                load(Path.of(args[++i]));
            }
            else
            {
                rest.add(args[i]);
            }
        }
        validateNumbers();
        return rest.toArray(new String[0]);
    }

    /** Load {@code file} into the system properties; a property already set (by -D) wins. */
    static void load(final Path file)
    {
        if (!Files.isRegularFile(file))
        {
            throw new IllegalArgumentException("--config: no such file " + file.toAbsolutePath());
        }
        final Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8))
        {
            properties.load(reader);
        }
        catch (final IOException | IllegalArgumentException ex)
        {
            throw new IllegalArgumentException("--config: cannot read " + file + ": " + ex.getMessage(), ex);
        }
        final TreeSet<String> known = knownSettings();
        for (final String key : new TreeSet<>(properties.stringPropertyNames()))
        {
            if (!known.contains(key))
            {
                throw new IllegalArgumentException("unknown setting '" + key + "' in " + file +
                    ": known settings are " + known);
            }
            if (System.getProperty(key) == null)
            {
                System.setProperty(key, properties.getProperty(key).trim());
            }
        }
    }

    /** Every numeric splitkernel.* system property must parse: Long.getLong would silently use the default. */
    static void validateNumbers()
    {
        for (final String key : new TreeSet<>(System.getProperties().stringPropertyNames()))
        {
            if (!key.startsWith("splitkernel.") || !isNumeric(key))
            {
                continue;
            }
            final String value = System.getProperty(key).trim();
            try
            {
                Long.parseLong(value);
            }
            catch (final NumberFormatException ex)
            {
                throw new IllegalArgumentException("setting " + key + "='" + value + "' is not a whole number" +
                    (key.endsWith("Bytes") ? " of bytes (no k/m/g suffix in properties)" : ""), ex);
            }
        }
    }

    static boolean isNumeric(final String key)
    {
        return key.endsWith("Ns") || key.endsWith("Ms") || key.endsWith("Bytes") || key.endsWith("workers") ||
            key.endsWith("Workers") || key.endsWith("Second") || key.endsWith("Ways") || key.endsWith("InFlight") || key.endsWith("Slots") || key.endsWith("Depth") ||
            key.endsWith("Connections") || key.endsWith("Count");
    }

    /** The names of every setting the contexts read. */
    static TreeSet<String> knownSettings()
    {
        final TreeSet<String> names = new TreeSet<>();
        for (final String className : CONTEXT_CLASSES)
        {
            final Class<?> type;
            try
            {
                type = Class.forName(className, false, Config.class.getClassLoader());
            }
            catch (final ClassNotFoundException ex)
            {
                continue;
            }
            for (final Field field : type.getFields())
            {
                if (Modifier.isStatic(field.getModifiers()) && field.getType() == String.class &&
                    field.getName().endsWith("PROP_NAME"))
                {
                    try
                    {
                        names.add((String)field.get(null));
                    }
                    catch (final IllegalAccessException ex)
                    {
                        throw new IllegalStateException(ex);
                    }
                }
            }
        }
        return names;
    }
}
