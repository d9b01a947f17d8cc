package dev.splitkernel.monitor.global;

import java.util.List;

/**
 * How the GMM chooses a memory monitor: for a process's home ({@code bytesNeeded} 0) or for a new vRegion.
 * Implementations are called under the manager's lock and must not block.
 */
@FunctionalInterface
public interface PlacementPolicy
{
    /**
     * @param members         the registered memory monitors, in registration order.
     * @param bytesNeeded     capacity the chosen member must still have free (0: any).
     * @param excludeMemberId a member that must not be chosen (it just refused), or -1.
     * @return the chosen member's id, or -1 if none fits.
     */
    int choose(List<MemoryMember> members, long bytesNeeded, int excludeMemberId);

    /** The default, as LegoOS's GMM: the least loaded (committed / capacity) among those with room. */
    PlacementPolicy LEAST_LOADED = (members, bytesNeeded, excludeMemberId) ->
    {
        MemoryMember best = null;
        for (final MemoryMember member : members)
        {
            if (member.memberId() == excludeMemberId || member.freeBytes() < Math.max(bytesNeeded, 1))
            {
                continue;
            }
            if (best == null || member.load() < best.load())
            {
                best = member;
            }
        }
        return best == null ? -1 : best.memberId();
    };

    /** Fill one monitor before the next (LegoOS's shipped behaviour, everything at the home, until it is full). */
    PlacementPolicy FIRST_FIT = (members, bytesNeeded, excludeMemberId) ->
    {
        for (final MemoryMember member : members)
        {
            if (member.memberId() != excludeMemberId && member.freeBytes() >= Math.max(bytesNeeded, 1))
            {
                return member.memberId();
            }
        }
        return -1;
    };
}
