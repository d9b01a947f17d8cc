package dev.splitkernel.workload;

import site.ycsb.generator.DiscreteGenerator;
import site.ycsb.generator.ScrambledZipfianGenerator;

/**
 * A key-value store driven by YCSB's own generators (site.ycsb:core): workload A, 50% reads and 50% updates, keys
 * from YCSB's scrambled Zipfian generator, records of 10 fields of 100 bytes as YCSB's defaults (a 1 KB slot: an
 * 8-byte header, 1016 bytes of fields). A read copies out the whole record and checks it; an update bumps the
 * version and rewrites one field, as YCSB's default (writeallfields=false) does. {@code opsPerRecord} operations per
 * record. An update goes to the nearest record of the thread's own stripe, so threads never race on a record.
 * <p>
 * YCSB's generators draw from {@code ThreadLocalRandom}: the operations differ from run to run, the totals do not;
 * {@link #verify} checks every record and that the versions add up to the updates made.
 */
public final class YcsbStore implements MemoryWorkload
{
    static final int RECORD_BYTES = 1024;
    private static final int RECORD_WORDS = RECORD_BYTES / 8;
    private static final int FIELDS = 10;
    private static final int FIELD_WORDS = (RECORD_WORDS - 1) / FIELDS;

    private final int opsPerRecord;

    public YcsbStore(final int opsPerRecord)
    {
        if (opsPerRecord < 1)
        {
            throw new IllegalArgumentException("opsPerRecord must be >= 1: " + opsPerRecord);
        }
        this.opsPerRecord = opsPerRecord;
    }

    @Override
    public String name()
    {
        return "ycsb";
    }

    @Override
    public long regionBytes(final long workingSetBytes)
    {
        return Math.max(RECORD_BYTES * 16L, workingSetBytes / RECORD_BYTES * RECORD_BYTES);
    }

    @Override
    public void populate(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long records = lengthBytes / RECORD_BYTES;
        final long end = Words.first(records, thread + 1, threads);
        for (long key = Words.first(records, thread, threads); key < end; key++)
        {
            final long record = base + key * RECORD_BYTES;
            memory.putLong(record, Words.value(key, 0));
            for (int i = 1; i < RECORD_WORDS; i++)
            {
                memory.putLong(record + 8L * i, Words.payload(key, i));
            }
        }
    }

    @Override
    public long run(final WordMemory memory, final long base, final long lengthBytes, final int thread,
        final int threads)
    {
        final long records = lengthBytes / RECORD_BYTES;
        final ScrambledZipfianGenerator keys = new ScrambledZipfianGenerator(records);
        final DiscreteGenerator operations = new DiscreteGenerator();
        operations.addValue(0.5, "READ");
        operations.addValue(0.5, "UPDATE");
        final long totalOps = records * opsPerRecord;
        final long ops = Words.first(totalOps, thread + 1, threads) - Words.first(totalOps, thread, threads);
        long updates = 0;
        for (long op = 0; op < ops; op++)
        {
            final long key = keys.nextValue();
            if ("UPDATE".equals(operations.nextValue()))
            {
                final long own = key - key % threads + thread;
                if (own < records)
                {
                    final long record = base + own * RECORD_BYTES;
                    final long header = memory.getLong(record);
                    Words.check(header, own, record, "ycsb");
                    memory.putLong(record, header + Words.VERSION_ONE);
                    final int field = (int)(op % FIELDS);
                    for (int w = 0; w < FIELD_WORDS; w++)
                    {
                        final int i = 1 + field * FIELD_WORDS + w;
                        memory.putLong(record + 8L * i, Words.payload(own, i));
                    }
                    updates++;
                    continue;
                }
            }
            read(memory, base + key * RECORD_BYTES, key);
        }
        return updates;
    }

    @Override
    public void verify(final WordMemory memory, final long base, final long lengthBytes, final long totalUpdates)
    {
        final long records = lengthBytes / RECORD_BYTES;
        long versions = 0;
        for (long key = 0; key < records; key++)
        {
            versions += Words.version(read(memory, base + key * RECORD_BYTES, key));
        }
        if (versions != totalUpdates)
        {
            throw new VerificationException("ycsb: versions add up to " + versions + " but " + totalUpdates
                + " updates were made (an update or a write-back was lost)");
        }
    }

    private static long read(final WordMemory memory, final long record, final long key)
    {
        final long header = memory.getLong(record);
        Words.check(header, key, record, "ycsb");
        for (int i = 1; i < RECORD_WORDS; i++)
        {
            final long word = memory.getLong(record + 8L * i);
            if (word != Words.payload(key, i))
            {
                throw new VerificationException("ycsb: record " + key + " word " + i + " at 0x"
                    + Long.toHexString(record + 8L * i) + " is 0x" + Long.toHexString(word));
            }
        }
        return header;
    }
}
