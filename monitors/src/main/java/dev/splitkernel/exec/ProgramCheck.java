package dev.splitkernel.exec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/** Finds a program on the PATH and checks that a preload library can load into it (a dynamically linked ELF). */
final class ProgramCheck
{
    private static final int PT_INTERP = 3;

    private ProgramCheck()
    {
    }

    /** The program's file: {@code name} itself when it contains a slash, else the first match on PATH; or null. */
    static Path resolve(final String name)
    {
        if (name.contains("/"))
        {
            final Path p = Path.of(name);
            return Files.isRegularFile(p) ? p : null;
        }
        final String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        for (final String dir : path.split(":"))
        {
            final Path p = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p))
            {
                return p;
            }
        }
        return null;
    }

    /**
     * Null when the preload library can load into {@code program} (a dynamically linked x86-64 ELF, or a script whose
     * interpreter is), else why it cannot.
     */
    static String whyNotPreloadable(final Path program) throws IOException
    {
        final byte[] head = new byte[64];
        final ByteBuffer elf;
        try (InputStream in = Files.newInputStream(program))
        {
            final int n = in.readNBytes(head, 0, head.length);
            if (n >= 2 && head[0] == '#' && head[1] == '!')
            {
                return null; // a script: its interpreter is what runs, and those are dynamically linked
            }
            if (n < 64 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F')
            {
                return program + " is not an ELF executable";
            }
        }
        if (head[4] != 2 || head[5] != 1 || (head[18] & 0xff) != 62)
        {
            return program + " is not a 64-bit little-endian x86-64 ELF executable";
        }
        final byte[] all = Files.readAllBytes(program);
        elf = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        final long phoff = elf.getLong(0x20);
        final int phentsize = elf.getShort(0x36) & 0xffff;
        final int phnum = elf.getShort(0x38) & 0xffff;
        for (int i = 0; i < phnum; i++)
        {
            final long at = phoff + (long)i * phentsize;
            if (at + 4 > all.length)
            {
                return program + " has a truncated ELF program header table";
            }
            if (elf.getInt((int)at) == PT_INTERP)
            {
                return null;
            }
        }
        return program + " is statically linked: the preload library that serves its heap cannot load into it "
            + "(splitkernel exec runs dynamically linked programs)";
    }
}
