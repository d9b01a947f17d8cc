package dev.splitkernel.verbs;

/**
 * Makes fabrics of one kind. {@link Fabrics} holds the providers in a fixed list and asks each, in the order the
 * context names them, whether it can run here.
 */
public interface FabricProvider
{
    /** "local", "tcp" or "rdma": the name used in {@link FabricContext#fabric(String)}. */
    String name();

    /**
     * @return null when this fabric can be used with {@code ctx} on this machine, otherwise why not and what to do
     *         about it (a missing package, device or library).
     */
    String unavailableReason(FabricContext ctx);

    /** Create a fabric; {@code ctx} is concluded and names exactly this provider. */
    Fabric create(FabricContext ctx);
}
