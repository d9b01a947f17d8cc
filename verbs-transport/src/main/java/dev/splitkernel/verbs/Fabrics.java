package dev.splitkernel.verbs;

import dev.splitkernel.verbs.local.LocalFabricProvider;
import dev.splitkernel.verbs.tcp.TcpFabricProvider;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** Creates fabrics by name from the fixed list of providers. */
public final class Fabrics
{
    private static final List<FabricProvider> PROVIDERS = List.of(
        new LocalFabricProvider(),
        new TcpFabricProvider(),
        new dev.splitkernel.verbs.rdma.RdmaFabricProvider());

    private Fabrics()
    {
    }

    /** The registered providers, in their fixed order. */
    public static List<FabricProvider> providers()
    {
        return PROVIDERS;
    }

    /** The registered provider names, e.g. [local, tcp]. */
    public static List<String> names()
    {
        final List<String> names = new ArrayList<>();
        for (final FabricProvider provider : PROVIDERS)
        {
            names.add(provider.name());
        }
        return names;
    }

    /**
     * Create the first available fabric the context names (it is concluded here). Logs (INFO) which one it chose and
     * why any before it were skipped.
     *
     * @throws FabricException for an unknown name (naming the valid ones), or when none is available (with each
     *                         provider's reason).
     */
    public static Fabric create(final FabricContext ctx)
    {
        return create(ctx, message -> System.getLogger(Fabrics.class.getName()).log(System.Logger.Level.INFO,
            message));
    }

    /** As {@link #create(FabricContext)}, reporting the choice to {@code log} (null: silent). */
    public static Fabric create(final FabricContext ctx, final PrintStream log)
    {
        return create(ctx, log == null ? null : log::println);
    }

    private static Fabric create(final FabricContext ctx, final Consumer<String> log)
    {
        ctx.conclude();
        final List<String> names = ctx.fabricNames();
        final List<FabricProvider> chosen = new ArrayList<>(names.size());
        for (final String name : names)
        {
            final FabricProvider provider = find(name);
            if (provider == null)
            {
                throw new FabricException("unknown fabric '" + name + "' (" + FabricContext.FABRIC_PROP_NAME
                    + "): valid fabrics are " + names());
            }
            chosen.add(provider);
        }

        final StringBuilder skipped = new StringBuilder();
        for (final FabricProvider provider : chosen)
        {
            final FabricContext single = ctx.forFabric(provider.name());
            final String reason = provider.unavailableReason(single);
            if (reason == null)
            {
                if (log != null)
                {
                    log.accept("fabric: using " + provider.name()
                        + (skipped.length() == 0 ? "" : " (skipped" + skipped + ")")
                        + ("local".equals(provider.name()) ? ", timing " + single.timing() : ""));
                }
                return provider.create(single);
            }
            if (chosen.size() == 1)
            {
                throw new FabricException("fabric '" + provider.name() + "' is unavailable: " + reason);
            }
            skipped.append(' ').append(provider.name()).append(": ").append(reason).append(';');
        }
        throw new FabricException("no fabric of " + names + " is available:" + skipped);
    }

    private static FabricProvider find(final String name)
    {
        for (final FabricProvider provider : PROVIDERS)
        {
            if (provider.name().equals(name))
            {
                return provider;
            }
        }
        return null;
    }
}
