package dev.splitkernel.protocol;

/**
 * A global manager's answer (control path): {@code result} >= 0 on success (the chosen member id) or an
 * {@link Errno} / transport status; the process id it assigned (CHOOSE_HOME), the chosen member and its listen
 * address; for a new vRegion, the memory monitor chosen to hold its replica ({@code secondaryId}, -1 for none).
 */
public record Placement(long result, int asid, int memberId, String address, int secondaryId)
{
    public Placement(final long result, final int asid, final int memberId, final String address)
    {
        this(result, asid, memberId, address, -1);
    }

    public boolean isOk()
    {
        return result >= 0;
    }

    public static Placement failed(final long result)
    {
        return new Placement(result, -1, -1, null);
    }
}
