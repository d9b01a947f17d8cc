package dev.splitkernel.verbs.rdma;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.stream.Stream;

/** Finding the local RDMA interface: which network interfaces carry an ACTIVE RDMA port, and their address. */
public final class RdmaInterfaces
{
    private RdmaInterfaces()
    {
    }

    /**
     * The first IPv4 address of a network interface that carries an ACTIVE RDMA port under {@code infinibandDir}
     * (RoCE and Soft-RoCE: {@code ports/N/gid_attrs/ndevs/0}; InfiniBand: {@code device/net/*}), or null.
     */
    public static String detectLocalAddress(final Path infinibandDir)
    {
        for (final String netdev : rdmaNetdevs(infinibandDir))
        {
            try
            {
                final NetworkInterface nif = NetworkInterface.getByName(netdev);
                if (nif == null)
                {
                    continue;
                }
                final Enumeration<InetAddress> addresses = nif.getInetAddresses();
                while (addresses.hasMoreElements())
                {
                    final InetAddress a = addresses.nextElement();
                    if (a instanceof Inet4Address)
                    {
                        return a.getHostAddress();
                    }
                }
            }
            catch (final SocketException ex)
            {
                // try the next interface
            }
        }
        return null;
    }

    /** Network interface names behind the ACTIVE ports under {@code infinibandDir}, in device order. */
    static List<String> rdmaNetdevs(final Path infinibandDir)
    {
        final List<String> netdevs = new ArrayList<>();
        for (final Path device : list(infinibandDir))
        {
            boolean active = false;
            for (final Path port : list(device.resolve("ports")))
            {
                final String state = read(port.resolve("state"));
                if (state == null || !state.endsWith("ACTIVE"))
                {
                    continue;
                }
                active = true;
                final String ndev = read(port.resolve("gid_attrs").resolve("ndevs").resolve("0"));
                if (ndev != null && !ndev.isEmpty() && !netdevs.contains(ndev))
                {
                    netdevs.add(ndev);
                }
            }
            if (!active)
            {
                continue;
            }
            for (final Path net : list(device.resolve("device").resolve("net")))
            {
                final String name = net.getFileName().toString();
                if (!netdevs.contains(name))
                {
                    netdevs.add(name);
                }
            }
        }
        return netdevs;
    }

    private static List<Path> list(final Path dir)
    {
        if (!Files.isDirectory(dir))
        {
            return Collections.emptyList();
        }
        try (Stream<Path> entries = Files.list(dir))
        {
            final List<Path> paths = new ArrayList<>();
            entries.sorted().forEach(paths::add);
            return paths;
        }
        catch (final IOException ex)
        {
            return Collections.emptyList();
        }
    }

    private static String read(final Path file)
    {
        try
        {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        }
        catch (final IOException ex)
        {
            return null;
        }
    }
}
