package dev.splitkernel.protocol;

/**
 * What stat and fstat return (and what a file reply carried): size and type. Mutable and reusable.
 * <p>
 * Not thread-safe.
 */
public final class FileStat
{
    private long sizeBytes;
    private int type;
    private int dataLength;

    public long sizeBytes()
    {
        return sizeBytes;
    }

    public boolean isDirectory()
    {
        return type == StorageDescriptor.TYPE_DIRECTORY;
    }

    public boolean isFile()
    {
        return type == StorageDescriptor.TYPE_FILE;
    }

    /** {@link StorageDescriptor#TYPE_FILE} or {@link StorageDescriptor#TYPE_DIRECTORY}, 0 if unknown. */
    public int type()
    {
        return type;
    }

    /** Bytes of data the last reply carried (read, readdir). */
    public int dataLength()
    {
        return dataLength;
    }

    public FileStat set(final long sizeBytes, final int type, final int dataLength)
    {
        this.sizeBytes = sizeBytes;
        this.type = type;
        this.dataLength = dataLength;
        return this;
    }

    @Override
    public String toString()
    {
        return (isDirectory() ? "directory" : isFile() ? "file" : "unknown") + " of " + sizeBytes + " bytes";
    }
}
