package dev.splitkernel.monitor.storage;

import java.nio.file.Path;

/**
 * The storage journal is damaged where it cannot be a torn tail (records forced to disk follow the bad one, or the
 * file is not a journal of this version): the storage monitor refuses to start rather than drop acknowledged data.
 */
public final class JournalCorruptException extends IllegalStateException
{
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offset;

    JournalCorruptException(final Path file, final long offset, final String what)
    {
        super("storage journal " + file + " is corrupt at byte " + offset + ": " + what + ". The storage monitor " +
            "will not start on it (records acknowledged as durable would be lost); restore the data directory " +
            "from a backup, or move it aside to start empty");
        this.file = file;
        this.offset = offset;
    }

    public Path file()
    {
        return file;
    }

    /** Offset in the journal of the bad record (or header). */
    public long offset()
    {
        return offset;
    }
}
