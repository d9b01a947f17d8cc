package dev.splitkernel.protocol;

/**
 * A vNode as the GSM describes it: id, name, storage mount point, its storage monitor and its buffer-cache memory
 * monitor (member id -1 and an empty address when it has none).
 *
 * @param id              the vNode id.
 * @param name            unique name.
 * @param mountPoint      the storage mount point its processes see (informational: paths are per vNode).
 * @param storageMemberId the storage monitor's member id.
 * @param storageAddress  the storage monitor's address (empty in a list).
 * @param cacheMemberId   the buffer-cache memory monitor's member id, or -1.
 * @param cacheAddress    its address, or empty.
 */
public record VNodeInfo(
    int id, String name, String mountPoint, int storageMemberId, String storageAddress, int cacheMemberId,
    String cacheAddress)
{
}
