package dev.splitkernel.verbs;

/**
 * A fabric that passes everything to another one: extend it to add to some operations (observe connections, hold
 * them in tests). Closing it closes the fabric underneath.
 * <p>
 * Thread-safe, as the fabric it wraps.
 */
public class ForwardingFabric implements Fabric
{
    protected final Fabric fabric;

    public ForwardingFabric(final Fabric fabric)
    {
        this.fabric = fabric;
    }

    /** The fabric underneath. */
    public Fabric unwrap()
    {
        return fabric;
    }

    @Override
    public String name()
    {
        return fabric.name();
    }

    @Override
    public MemoryRegion allocate(final int lengthBytes)
    {
        return fabric.allocate(lengthBytes);
    }

    @Override
    public void deregister(final MemoryRegion region)
    {
        fabric.deregister(region);
    }

    @Override
    public String listen(final String address, final RequestHandler handler)
    {
        return fabric.listen(address, handler);
    }

    @Override
    public Connection connect(final String address, final long timeoutNs)
    {
        return fabric.connect(address, timeoutNs);
    }

    @Override
    public FabricContext context()
    {
        return fabric.context();
    }

    @Override
    public FabricCounters counters()
    {
        return fabric.counters();
    }

    @Override
    public void close()
    {
        fabric.close();
    }

    @Override
    public String toString()
    {
        return fabric.toString();
    }
}
