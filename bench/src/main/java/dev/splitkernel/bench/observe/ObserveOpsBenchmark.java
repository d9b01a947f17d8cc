package dev.splitkernel.bench.observe;

import dev.splitkernel.monitor.status.LatencyHistogram;
import dev.splitkernel.monitor.status.MonitorStatus;
import dev.splitkernel.monitor.status.StatusFileDescriptor;
import org.agrona.concurrent.status.AtomicCounter;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What each observing operation on a miss costs one thread, uncontended: a clock read, a histogram recording, a
 * timed operation (two reads and a recording, as a miss is timed) and a counter increment. Multiplied by the
 * operations a miss does, it is observing's own work per miss, to set beside the end-to-end miss benchmark's time
 * ({@code scripts/bench observe-cost}), whose runs swing between latency modes by more than that work.
 * <p>
 * Usage: {@code java @native-config/jvm.options -cp bench/target/benchmarks.jar org.openjdk.jmh.Main
 * ObserveOpsBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class ObserveOpsBenchmark
{
    private MonitorStatus status;
    private LatencyHistogram histogram;
    private AtomicCounter counter;
    private long value = 8_000;

    @Setup
    public void setUp()
    {
        status = MonitorStatus.inMemory("observe-ops", true);
        histogram = status.histogram(StatusFileDescriptor.MISS_LATENCY);
        counter = status.newCounter("observe-ops: increments", MonitorStatus.TYPE_MONITOR);
    }

    @TearDown
    public void tearDown()
    {
        status.close();
    }

    @Benchmark
    public long clockRead()
    {
        return System.nanoTime();
    }

    /** One recording into a monitor's latency histogram (an HdrHistogram Recorder), values spread over a range. */
    @Benchmark
    public void histogramRecord()
    {
        value = value * 6364136223846793005L + 1442695040888963407L;
        histogram.recordNs(8_000 + (value >>> 54));
    }

    /** An operation timed as a miss is: a clock read before, one after, and the recording. */
    @Benchmark
    public void timedOperation()
    {
        histogram.recordSince(histogram.startNs());
    }

    @Benchmark
    public void counterIncrement()
    {
        counter.increment();
    }
}
