package dev.splitkernel.exec;

/**
 * Which of a program's resident heap pages to evict when the ExCache size is reached. The handler sees only
 * faults (a hit is the hardware's), so a page is "referenced" when it is installed or first written.
 * Not thread-safe: owned by the fault handler thread.
 */
interface Residency
{
    /** A page became resident; there is room ({@link #size()} below the capacity). */
    void installed(int page);

    /** The program wrote to a resident page (a write-protect fault). */
    void referenced(int page);

    /** Choose and remove a victim; only called when {@link #size()} is the capacity. */
    int evict();

    int size();

    static Residency create(final String policy, final int capacityPages, final int arenaPages)
    {
        switch (policy)
        {
            case "fifo":
                return new Fifo(capacityPages);
            case "clock":
                return new Clock(capacityPages, arenaPages);
            default:
                throw new IllegalArgumentException("eviction policy '" + policy + "' is not fifo or clock");
        }
    }

    /** First in, first out: a ring of resident pages in install order. */
    final class Fifo implements Residency
    {
        private final int[] ring;
        private int head;
        private int size;

        Fifo(final int capacityPages)
        {
            ring = new int[capacityPages];
        }

        @Override
        public void installed(final int page)
        {
            int tail = head + size;
            if (tail >= ring.length)
            {
                tail -= ring.length;
            }
            ring[tail] = page;
            size++;
        }

        @Override
        public void referenced(final int page)
        {
        }

        @Override
        public int evict()
        {
            final int victim = ring[head];
            head = head + 1 == ring.length ? 0 : head + 1;
            size--;
            return victim;
        }

        @Override
        public int size()
        {
            return size;
        }
    }

    /** CLOCK (second chance): frames in a circle, a hand that clears reference bits until it finds none set. */
    final class Clock implements Residency
    {
        private static final int NO_FRAME = -1;
        private final int[] frames;
        private final boolean[] referenced;
        private final int[] frameOfPage;
        private int hand;
        private int size;
        private int freeFrame = NO_FRAME;

        Clock(final int capacityPages, final int arenaPages)
        {
            frames = new int[capacityPages];
            referenced = new boolean[capacityPages];
            frameOfPage = new int[arenaPages];
            java.util.Arrays.fill(frameOfPage, NO_FRAME);
        }

        @Override
        public void installed(final int page)
        {
            final int frame = freeFrame != NO_FRAME ? freeFrame : size;
            freeFrame = NO_FRAME;
            frames[frame] = page;
            referenced[frame] = true;
            frameOfPage[page] = frame;
            size++;
        }

        @Override
        public void referenced(final int page)
        {
            final int frame = frameOfPage[page];
            if (frame != NO_FRAME)
            {
                referenced[frame] = true;
            }
        }

        @Override
        public int evict()
        {
            while (referenced[hand])
            {
                referenced[hand] = false;
                hand = hand + 1 == frames.length ? 0 : hand + 1;
            }
            final int victim = frames[hand];
            frameOfPage[victim] = NO_FRAME;
            freeFrame = hand;
            hand = hand + 1 == frames.length ? 0 : hand + 1;
            size--;
            return victim;
        }

        @Override
        public int size()
        {
            return size;
        }
    }
}
