package dev.splitkernel.workload;

import java.io.IOException;
import java.io.InputStream;
import java.util.Set;

/**
 * Loads a workload's own classes afresh, so that its local-memory twin and its splitkernel twin each run their own
 * copy of the code. One copy would be JIT-compiled for both memories at once (every load and store a call on two
 * receiver types, profiles mixed), which made either twin several times slower after the other had run: two
 * separate processes, which is what the twins stand for, do not share compiled code either.
 * <p>
 * The workload API ({@link MemoryWorkload}, {@link WordMemory}, {@link WorkloadFiles}, ...) and everything outside
 * {@code dev.splitkernel.workload} come from the parent, so the copies plug into the same run command.
 */
public final class TwinLoader extends ClassLoader
{
    private static final String PACKAGE = "dev.splitkernel.workload.";
    /** The API and the memories: one class for every copy. */
    private static final Set<String> SHARED = Set.of(MemoryWorkload.class.getName(), WordMemory.class.getName(),
        WorkloadFiles.class.getName(), VerificationException.class.getName(), LocalMemory.class.getName(),
        LocalFiles.class.getName(), LocalReference.class.getName(), TwinLoader.class.getName(),
        StepClock.class.getName(), Workloads.class.getName());

    static
    {
        registerAsParallelCapable();
    }

    public TwinLoader(final ClassLoader parent)
    {
        super("workload-twin", parent);
    }

    /** A fresh copy of the built-in workload {@code name} (see {@link Workloads#byName}). */
    public static MemoryWorkload builtIn(final String name)
    {
        try
        {
            final Class<?> registry = new TwinLoader(Workloads.class.getClassLoader()).loadClass(
                PACKAGE + "Workloads$Copy");
            return (MemoryWorkload)registry.getMethod("byName", String.class).invoke(null, name);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new IllegalStateException("cannot load a copy of workload " + name + ": " + ex, ex);
        }
    }

    @Override
    protected Class<?> loadClass(final String name, final boolean resolve) throws ClassNotFoundException
    {
        if (!name.startsWith(PACKAGE) || SHARED.contains(name))
        {
            return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name))
        {
            Class<?> type = findLoadedClass(name);
            if (type == null)
            {
                final String resource = name.replace('.', '/') + ".class";
                try (InputStream in = getParent().getResourceAsStream(resource))
                {
                    if (in == null)
                    {
                        throw new ClassNotFoundException(name);
                    }
                    final byte[] bytes = in.readAllBytes();
                    type = defineClass(name, bytes, 0, bytes.length);
                }
                catch (final IOException ex)
                {
                    throw new ClassNotFoundException(name, ex);
                }
            }
            if (resolve)
            {
                resolveClass(type);
            }
            return type;
        }
    }
}
