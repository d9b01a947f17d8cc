package dev.splitkernel.cli;

import dev.splitkernel.workload.MemoryWorkload;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Loads a user's workload class ({@code run --workload-class NAME --classpath PATH}) with errors a person can act on. */
final class UserWorkloads
{
    private UserWorkloads()
    {
    }

    /**
     * An instance of {@code className}, found on {@code classpath} (jars and folders separated by ':') or, without
     * one, on the command's own class path. Each call with a class path loads the classes afresh (a twin of its own,
     * see {@link dev.splitkernel.workload.TwinLoader}).
     *
     * @throws IllegalArgumentException naming what is wrong: a missing path, an unknown class, a class that is not a
     *                                  {@link MemoryWorkload}, no public no-argument constructor, a failing one.
     */
    static MemoryWorkload load(final String className, final String classpath)
    {
        final ClassLoader parent = UserWorkloads.class.getClassLoader();
        final ClassLoader loader;
        if (classpath == null)
        {
            loader = parent;
        }
        else
        {
            final List<URL> urls = new ArrayList<>();
            for (final String entry : classpath.split(java.io.File.pathSeparator))
            {
                if (entry.isEmpty())
                {
                    continue;
                }
                final Path path = Path.of(entry);
                if (!Files.exists(path))
                {
                    throw new IllegalArgumentException("--classpath: " + entry + " does not exist");
                }
                try
                {
                    urls.add(path.toUri().toURL());
                }
                catch (final MalformedURLException ex)
                {
                    throw new IllegalArgumentException("--classpath: " + entry + " is not a usable path: " + ex);
                }
            }
            loader = new URLClassLoader(urls.toArray(new URL[0]), parent);
        }
        final Class<?> type;
        try
        {
            type = Class.forName(className, true, loader);
        }
        catch (final ClassNotFoundException | LinkageError ex)
        {
            throw new IllegalArgumentException("--workload-class: cannot load '" + className + "'"
                + (classpath == null ? " (no --classpath given)" : " from " + classpath) + ": " + ex);
        }
        if (!MemoryWorkload.class.isAssignableFrom(type))
        {
            throw new IllegalArgumentException("--workload-class: " + className + " is not a workload: it must "
                + "implement " + MemoryWorkload.class.getName());
        }
        if (!Modifier.isPublic(type.getModifiers()) || Modifier.isAbstract(type.getModifiers()))
        {
            throw new IllegalArgumentException("--workload-class: " + className + " must be a public, concrete class");
        }
        final Constructor<?> constructor;
        try
        {
            constructor = type.getConstructor();
        }
        catch (final NoSuchMethodException ex)
        {
            throw new IllegalArgumentException("--workload-class: " + className + " has no public no-argument "
                + "constructor");
        }
        try
        {
            return (MemoryWorkload)constructor.newInstance();
        }
        catch (final InvocationTargetException ex)
        {
            throw new IllegalArgumentException("--workload-class: the constructor of " + className + " failed: "
                + ex.getCause(), ex.getCause());
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new IllegalArgumentException("--workload-class: cannot create " + className + ": " + ex, ex);
        }
    }
}
