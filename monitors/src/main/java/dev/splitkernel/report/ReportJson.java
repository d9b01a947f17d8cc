package dev.splitkernel.report;

import com.fasterxml.jackson.jr.ob.JSON;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A report as a JSON file, through jackson-jr: a tree of maps, lists, strings, booleans and numbers (numbers are
 * written as JSON numbers; NaN and infinities, which JSON cannot hold, as null). {@link Samples} become their
 * {@link Samples#toMap()}.
 */
public final class ReportJson
{
    private static final JSON WRITER = JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT);

    private ReportJson()
    {
    }

    /** Write {@code report} to {@code file} (its folder is created), replacing it. */
    public static void write(final Path file, final Map<String, ?> report) throws IOException
    {
        final Path parent = file.toAbsolutePath().getParent();
        if (parent != null)
        {
            Files.createDirectories(parent);
        }
        Files.writeString(file, toJson(report) + System.lineSeparator());
    }

    public static String toJson(final Map<String, ?> report) throws IOException
    {
        return WRITER.asString(plain(report));
    }

    /** Read a report back as maps, lists, strings, numbers, booleans and nulls. */
    public static Map<String, Object> read(final Path file) throws IOException
    {
        return JSON.std.mapFrom(Files.readString(file));
    }

    private static Object plain(final Object value)
    {
        if (value instanceof Samples samples)
        {
            return plain(samples.toMap());
        }
        if (value instanceof Double || value instanceof Float)
        {
            final double d = ((Number)value).doubleValue();
            return Double.isFinite(d) ? value : null;
        }
        if (value instanceof Map<?, ?> map)
        {
            final Map<String, Object> copy = new LinkedHashMap<>();
            for (final Map.Entry<?, ?> e : map.entrySet())
            {
                copy.put(String.valueOf(e.getKey()), plain(e.getValue()));
            }
            return copy;
        }
        if (value instanceof Collection<?> list)
        {
            final ArrayList<Object> copy = new ArrayList<>(list.size());
            for (final Object o : list)
            {
                copy.add(plain(o));
            }
            return copy;
        }
        if (value instanceof double[] array)
        {
            final ArrayList<Object> copy = new ArrayList<>(array.length);
            for (final double d : array)
            {
                copy.add(plain(d));
            }
            return copy;
        }
        if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean)
        {
            return value;
        }
        if (value instanceof Enum<?> e)
        {
            return e.name();
        }
        throw new IllegalArgumentException("cannot write a " + value.getClass().getName() + " to a JSON report: use "
            + "maps, lists, strings, numbers, booleans or Samples");
    }
}
