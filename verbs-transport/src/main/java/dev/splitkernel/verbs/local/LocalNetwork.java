package dev.splitkernel.verbs.local;

import dev.splitkernel.verbs.FabricException;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where local fabrics find each other by listen name. {@link #DEFAULT} serves the whole JVM; tests make private
 * instances so that their names never clash.
 * <p>
 * Thread-safe.
 */
public final class LocalNetwork
{
    /** The JVM-wide network that {@link LocalFabricProvider} uses. */
    public static final LocalNetwork DEFAULT = new LocalNetwork();

    private final ConcurrentHashMap<String, LocalFabric> listeners = new ConcurrentHashMap<>();

    void bind(final String name, final LocalFabric fabric)
    {
        if (name == null || name.isEmpty())
        {
            throw new FabricException("local listen name is empty: give each listener a unique name");
        }
        final LocalFabric previous = listeners.putIfAbsent(name, fabric);
        if (previous != null && previous != fabric)
        {
            throw new FabricException("local name '" + name + "' is already taken by another fabric: choose another");
        }
    }

    void unbind(final String name, final LocalFabric fabric)
    {
        listeners.remove(name, fabric);
    }

    LocalFabric lookup(final String name)
    {
        return listeners.get(name);
    }

    /** The names listened at now, sorted. */
    public List<String> names()
    {
        final List<String> names = new ArrayList<>(listeners.keySet());
        Collections.sort(names);
        return names;
    }
}
