package dev.splitkernel.exec;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** The preload library built from src/main/c/preload into the classes (native/): its file, for LD_PRELOAD. */
public final class PreloadLibrary
{
    static final String RESOURCE = "/native/libsplitkernel-preload.so";

    private PreloadLibrary()
    {
    }

    /** Its path: the built file itself when running from classes, else a copy in a temporary file (from the jar). */
    public static Path file() throws IOException
    {
        final URL url = PreloadLibrary.class.getResource(RESOURCE);
        if (url == null)
        {
            throw new IllegalStateException("the preload library " + RESOURCE + " is not in the build: rebuild with "
                + "'mvn -DskipTests install' (it needs gcc and make: apt-get install build-essential)");
        }
        if ("file".equals(url.getProtocol()))
        {
            try
            {
                return Path.of(url.toURI());
            }
            catch (final URISyntaxException ex)
            {
                throw new IOException(ex);
            }
        }
        final Path copy = Files.createTempFile("splitkernel-preload-", ".so");
        copy.toFile().deleteOnExit();
        try (InputStream in = url.openStream())
        {
            Files.copy(in, copy, StandardCopyOption.REPLACE_EXISTING);
        }
        return copy;
    }
}
