package dev.splitkernel.exec;

import dev.splitkernel.cluster.ClusterContext;
import dev.splitkernel.cluster.EmbeddedCluster;
import dev.splitkernel.excache.ExCacheContext;
import dev.splitkernel.exec.linux.LibC;
import dev.splitkernel.exec.linux.SeqpacketSocket;
import dev.splitkernel.exec.linux.Userfaultfd;
import dev.splitkernel.monitor.processor.LegoProcess;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs one unmodified program with its heap served by an embedded cluster: boots the cluster (global managers, a
 * processor monitor, memory monitors), creates the program's process on the processor monitor, starts the program
 * with the preload library, takes its userfaultfd and heap memfd, and serves its faults on a thread of its own
 * ({@link FaultHandlerAgent}) until it exits. The program's stdin, stdout and stderr are its own; messages of the
 * emulation go to {@code err}, prefixed "splitkernel exec:".
 */
public final class ExecRunner
{
    /** Exit code when the program cannot run under the emulation at all (as a shell's "cannot execute"). */
    public static final int CANNOT_EXECUTE = 126;
    /** Exit code when the program is not found (as a shell's). */
    public static final int NOT_FOUND = 127;

    private static final long CONNECT_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(30);
    private static final long KILL_GRACE_MS = 5_000;

    private PrintStream err;
    private java.util.function.Consumer<EmbeddedCluster> onServing = cluster -> {};

    public ExecRunner(final PrintStream err)
    {
        this.err = err;
    }

    /** Where the emulation's own messages go. */
    ExecRunner err(final PrintStream stream)
    {
        err = stream;
        return this;
    }

    /** Called once the handler serves the program (tests use it to break the cluster under a running program). */
    ExecRunner onServing(final java.util.function.Consumer<EmbeddedCluster> hook)
    {
        onServing = hook;
        return this;
    }

    /**
     * Run the program to its end.
     *
     * @throws ExecException when it cannot run under the emulation (no userfaultfd permission, not found, static):
     *                       the message says why and {@link ExecException#exitCode()} what a shell would return.
     */
    public ExecResult run(final ExecOptions options) throws IOException, InterruptedException
    {
        return run(options, ProcessBuilder.Redirect.INHERIT, ProcessBuilder.Redirect.INHERIT);
    }

    /** {@link #run(ExecOptions)} with the program's stdout and stderr sent elsewhere. */
    public ExecResult run(final ExecOptions options, final ProcessBuilder.Redirect stdout,
        final ProcessBuilder.Redirect stderr) throws IOException, InterruptedException
    {
        final ProgramUser user = options.user() == null ? null : ProgramUser.lookup(options.user());
        final String name = options.command().get(0);
        final Path program = ProgramCheck.resolve(name);
        if (program == null)
        {
            throw new ExecException(name + ": command not found", NOT_FOUND);
        }
        final String notPreloadable = ProgramCheck.whyNotPreloadable(program);
        if (notPreloadable != null)
        {
            throw new ExecException(notPreloadable, CANNOT_EXECUTE);
        }
        final String noUffd = Userfaultfd.probe();
        if (noUffd != null)
        {
            throw new ExecException(noUffd, CANNOT_EXECUTE);
        }
        final Path preload = PreloadLibrary.file();
        final ClusterContext ctx = new ClusterContext()
            .fabric(options.fabric())
            .preset(options.preset())
            .memoryMonitors(options.memoryMonitors())
            .memoryCapacityBytes(Math.max(1L << 30, Math.min(options.arenaBytes(), 64L << 30)))
            // The program's resident pages are its ExCache: the processor's own cache holds nothing for it.
            .excache(new ExCacheContext().capacityBytes(64L * 4096));
        final Path dir = Files.createTempDirectory("splitkernel-exec-");
        try (EmbeddedCluster cluster = EmbeddedCluster.start(ctx);
            SeqpacketSocket listener = SeqpacketSocket.listen(dir.resolve("handler.sock").toString()))
        {
            final Path programPreload = user == null ? preload
                : user.prepare(dir, dir.resolve("handler.sock"), preload);
            final LegoProcess process = cluster.createProcess("exec " + program.getFileName());
            try
            {
                return runProgram(options, user, program, cluster, process, listener, dir.resolve("handler.sock"),
                    programPreload, stdout, stderr);
            }
            finally
            {
                process.exit(0);
            }
        }
        finally
        {
            try (Stream<Path> files = Files.walk(dir))
            {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private ExecResult runProgram(final ExecOptions options, final ProgramUser user, final Path program,
        final EmbeddedCluster cluster, final LegoProcess process, final SeqpacketSocket listener, final Path socketPath,
        final Path preload, final ProcessBuilder.Redirect stdout, final ProcessBuilder.Redirect stderr)
        throws IOException, InterruptedException
    {
        final Map<String, String> preloadEnvironment = new LinkedHashMap<>();
        final String existing = System.getenv("LD_PRELOAD");
        preloadEnvironment.put("LD_PRELOAD", preload + (existing == null || existing.isEmpty() ? "" : " " + existing));
        preloadEnvironment.put("SPLITKERNEL_EXEC_SOCKET", socketPath.toString());
        preloadEnvironment.put("SPLITKERNEL_EXEC_ARENA", Long.toString(options.arenaBytes()));
        final ProcessBuilder builder = new ProcessBuilder(user == null ? options.command()
            : user.wrap(options.command(), program, preloadEnvironment)).inheritIO().redirectOutput(stdout)
            .redirectError(stderr);
        if (user == null)
        {
            builder.environment().putAll(preloadEnvironment);
        }
        else
        {
            builder.environment().remove("LD_PRELOAD"); // env sets it for the program, not for setpriv
        }
        final long startNs = System.nanoTime();
        final Process child = builder.start();
        final Connections connections = new Connections(listener, child, options.command().get(0));
        HeapSession session = null;
        AgentRunner runner = null;
        Thread acceptor = null;
        try
        {
            final SessionStart start = connections.awaitProgram(cluster, process, options);
            if (start == null)
            {
                final int code = child.waitFor();
                // The preload library exits 126 after saying why it could not start (no userfaultfd, ...).
                err.println("splitkernel exec: " + options.command().get(0) + " exited before its preload library "
                    + "connected: " + (code == CANNOT_EXECUTE ? "it could not start under the emulation (exit 126)"
                    : "it ran outside the emulation"));
                return new ExecResult(code, System.nanoTime() - startNs, null, null, connections.outside, null);
            }
            session = start.session;
            final SeqpacketSocket programSocket = start.socket;
            final FaultHandlerAgent agent = new FaultHandlerAgent(session, reason ->
            {
                connections.failure = reason;
                stopProgram(programSocket, child, reason);
            });
            runner = new AgentRunner(new FaultHandlerAgent.FaultIdleStrategy(session.uffdDescriptor(),
                options.spinNs()), ex -> connections.failure = String.valueOf(ex.getMessage()), null, agent);
            AgentRunner.startOnThread(runner);
            if (!start.answer())
            {
                throw new IllegalStateException("the program closed its socket before the handler answered");
            }
            onServing.accept(cluster);
            acceptor = new Thread(connections::acceptOthers, "exec-acceptor");
            acceptor.setDaemon(true);
            acceptor.start();
            final int code = child.waitFor();
            final long wallNs = System.nanoTime() - startNs;
            connections.done = true;
            final ExecResult.LocalMemory local = readGoodbye(programSocket);
            CloseHelper.quietClose(runner);
            runner = null;
            programSocket.close();
            final String failure = connections.failure != null ? connections.failure : session.failure();
            return new ExecResult(code, wallNs, session.counts(), failure, connections.outside, local);
        }
        finally
        {
            connections.done = true;
            if (child.isAlive())
            {
                child.destroyForcibly();
                child.waitFor(KILL_GRACE_MS, TimeUnit.MILLISECONDS);
            }
            CloseHelper.quietClose(runner);
            if (acceptor != null)
            {
                acceptor.join(1_000);
            }
            CloseHelper.quietClose(session);
        }
    }

    /** Tell the program why it must stop (its watchdog prints it and exits); kill it if it has not after 5 s. */
    private static void stopProgram(final SeqpacketSocket socket, final Process child, final String reason)
    {
        final byte[] bytes = reason.getBytes(StandardCharsets.UTF_8);
        final UnsafeBuffer message = new UnsafeBuffer(ByteBuffer.allocateDirect(Math.min(bytes.length, 1000)));
        message.putBytes(0, bytes, 0, message.capacity());
        synchronized (socket)
        {
            socket.send(message, message.capacity());
        }
        final Thread killer = new Thread(() ->
        {
            try
            {
                if (!child.waitFor(KILL_GRACE_MS, TimeUnit.MILLISECONDS))
                {
                    child.destroyForcibly();
                }
            }
            catch (final InterruptedException ignored)
            {
                Thread.currentThread().interrupt();
            }
        }, "exec-killer");
        killer.setDaemon(true);
        killer.start();
    }

    private static ExecResult.LocalMemory readGoodbye(final SeqpacketSocket socket)
    {
        final UnsafeBuffer bye = new UnsafeBuffer(ByteBuffer.allocateDirect(ExecProtocol.GOODBYE_BYTES));
        final int[] fds = new int[0];
        synchronized (socket)
        {
            while (socket.readable(0))
            {
                final int n = socket.receive(bye, bye.capacity(), fds, false);
                if (n == ExecProtocol.GOODBYE_BYTES && bye.getInt(0) == ExecProtocol.GOODBYE_MAGIC)
                {
                    return new ExecResult.LocalMemory(bye.getInt(ExecProtocol.GOODBYE_FORKS_OFFSET),
                        bye.getLong(ExecProtocol.GOODBYE_MMAP_CALLS_OFFSET),
                        bye.getLong(ExecProtocol.GOODBYE_MMAP_BYTES_OFFSET),
                        bye.getLong(ExecProtocol.GOODBYE_STACK_OFFSET),
                        bye.getLong(ExecProtocol.GOODBYE_RSS_ANON_OFFSET),
                        bye.getLong(ExecProtocol.GOODBYE_RSS_FILE_OFFSET),
                        bye.getLong(ExecProtocol.GOODBYE_HEAP_USED_OFFSET));
                }
                if (n <= 0)
                {
                    break;
                }
            }
        }
        return null;
    }

    /** The program's connection, answered once the handler runs. */
    private static final class SessionStart
    {
        final HeapSession session;
        final SeqpacketSocket socket;

        SessionStart(final HeapSession session, final SeqpacketSocket socket)
        {
            this.session = session;
            this.socket = socket;
        }

        boolean answer()
        {
            return Connections.answer(socket, ExecProtocol.ANSWER_EMULATED);
        }
    }

    /** Hellos from the program (served) and from programs it starts with exec (told to run outside). */
    private final class Connections
    {
        final SeqpacketSocket listener;
        final Process child;
        final String name;
        volatile boolean done;
        volatile String failure;
        volatile int outside;

        Connections(final SeqpacketSocket listener, final Process child, final String name)
        {
            this.listener = listener;
            this.child = child;
            this.name = name;
        }

        /** The program's session, or null when it exited (or ran too long) without connecting. */
        SessionStart awaitProgram(final EmbeddedCluster cluster, final LegoProcess process, final ExecOptions options)
        {
            final long deadline = System.nanoTime() + CONNECT_TIMEOUT_NS;
            while (child.isAlive() || listener.readable(0))
            {
                if (System.nanoTime() - deadline > 0)
                {
                    err.println("splitkernel exec: " + name + " did not load the preload library within 30 s: "
                        + "stopping it");
                    child.destroyForcibly();
                    return null;
                }
                final SeqpacketSocket socket = listener.accept(50);
                if (socket == null)
                {
                    continue;
                }
                final Hello hello = Hello.receive(socket);
                if (hello == null)
                {
                    socket.close();
                    continue;
                }
                if (hello.pid != child.pid())
                {
                    runsOutside(socket, hello);
                    continue;
                }
                final HeapSession session = new HeapSession(cluster.processor(), process,
                    new Userfaultfd(hello.uffd), hello.memfd, hello.arenaBase, hello.arenaBytes, options.policy(),
                    options.excacheBytes());
                return new SessionStart(session, socket);
            }
            return null;
        }

        void acceptOthers()
        {
            while (!done)
            {
                final SeqpacketSocket socket = listener.accept(50);
                if (socket != null)
                {
                    final Hello hello = Hello.receive(socket);
                    if (hello != null)
                    {
                        runsOutside(socket, hello);
                    }
                    else
                    {
                        socket.close();
                    }
                }
            }
        }

        private void runsOutside(final SeqpacketSocket socket, final Hello hello)
        {
            LibC.close(hello.uffd);
            LibC.close(hello.memfd);
            answer(socket, ExecProtocol.ANSWER_OUTSIDE);
            socket.close();
            if (outside++ == 0)
            {
                err.println("splitkernel exec: " + name + " started another program with exec (pid " + hello.pid
                    + "): it runs outside the emulation, with local memory (said once)");
            }
        }

        static boolean answer(final SeqpacketSocket socket, final int status)
        {
            final UnsafeBuffer answer = new UnsafeBuffer(ByteBuffer.allocateDirect(ExecProtocol.ANSWER_BYTES));
            answer.putInt(0, ExecProtocol.ANSWER_MAGIC);
            answer.putInt(ExecProtocol.ANSWER_STATUS_OFFSET, status);
            return socket.send(answer, ExecProtocol.ANSWER_BYTES) == ExecProtocol.ANSWER_BYTES;
        }
    }

    /** A program's hello with its two descriptors. */
    private static final class Hello
    {
        int pid;
        long arenaBase;
        long arenaBytes;
        int uffd;
        int memfd;

        static Hello receive(final SeqpacketSocket socket)
        {
            if (!socket.readable(5_000))
            {
                return null;
            }
            final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
            final int[] fds = new int[2];
            final int n = socket.receive(buffer, buffer.capacity(), fds, false);
            if (n != ExecProtocol.HELLO_BYTES || buffer.getInt(0) != ExecProtocol.HELLO_MAGIC || fds[0] < 0
                || fds[1] < 0)
            {
                for (final int fd : fds)
                {
                    if (fd >= 0)
                    {
                        LibC.close(fd);
                    }
                }
                return null;
            }
            final Hello hello = new Hello();
            hello.pid = buffer.getInt(ExecProtocol.HELLO_PID_OFFSET);
            hello.arenaBase = buffer.getLong(ExecProtocol.HELLO_ARENA_BASE_OFFSET);
            hello.arenaBytes = buffer.getLong(ExecProtocol.HELLO_ARENA_BYTES_OFFSET);
            hello.uffd = fds[0];
            hello.memfd = fds[1];
            return hello;
        }
    }
}
