package dev.splitkernel.exec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The user a program runs as under {@code exec --user}: setpriv (util-linux) drops the program's credentials to the
 * user's uid, primary group and groups before the program starts. The preload library must load only into the
 * program, as that user, so its variables reach the program through env, after setpriv, not setpriv itself (which
 * keeps the pid: the handler still knows the program by it).
 */
final class ProgramUser
{
    /** Exit code for a user that does not exist (a bad option, as the command line's). */
    static final int NO_SUCH_USER = 2;

    private static final long LOOKUP_TIMEOUT_S = 10;

    final String name;
    final int uid;
    final int gid;

    private ProgramUser(final String name, final int uid, final int gid)
    {
        this.name = name;
        this.uid = uid;
        this.gid = gid;
    }

    /** The user {@code user} (a name or a uid) as the system knows it; an {@link ExecException} if it does not. */
    static ProgramUser lookup(final String user) throws IOException, InterruptedException
    {
        if (ProgramCheck.resolve("setpriv") == null)
        {
            throw new ExecException("--user needs setpriv (apt-get install util-linux)", ExecRunner.CANNOT_EXECUTE);
        }
        return new ProgramUser(user, id("-u", user), id("-g", user));
    }

    private static int id(final String which, final String user) throws IOException, InterruptedException
    {
        final Process id = new ProcessBuilder("id", which, "--", user).redirectErrorStream(true).start();
        final String text = new String(id.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!id.waitFor(LOOKUP_TIMEOUT_S, TimeUnit.SECONDS) || id.exitValue() != 0 || !text.matches("[0-9]+"))
        {
            id.destroyForcibly();
            throw new ExecException("--user: no such user '" + user + "' (" + text + ")", NO_SUCH_USER);
        }
        return Integer.parseInt(text);
    }

    /** The command that runs {@code command} as this user with {@code environment} set for the program only. */
    List<String> wrap(final List<String> command, final Path program, final Map<String, String> environment)
    {
        final List<String> all = new ArrayList<>(List.of("setpriv", "--reuid=" + uid, "--regid=" + gid,
            "--init-groups", "--", "env"));
        environment.forEach((k, v) -> all.add(k + "=" + v));
        // env would take a program name with '=' for a variable: give it the path then.
        all.add(command.get(0).contains("=") ? program.toAbsolutePath().toString() : command.get(0));
        all.addAll(command.subList(1, command.size()));
        return all;
    }

    /**
     * Make the handler's directory and socket (private to the caller) the user's, and copy the preload library into
     * it (the build's file may lie where the user cannot read, and ld.so would then skip it: the program would run
     * outside the emulation). Returns the copy.
     */
    Path prepare(final Path dir, final Path socket, final Path preload) throws IOException
    {
        final Path copy = Files.copy(preload, dir.resolve(preload.getFileName()));
        for (final Path p : List.of(dir, socket, copy))
        {
            Files.setAttribute(p, "unix:uid", uid);
            Files.setAttribute(p, "unix:gid", gid);
        }
        return copy;
    }
}
