package org.glouglou.platform;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.ZoneId;
import java.util.List;
import org.glouglou.spi.ConfigException;
import org.slf4j.LoggerFactory;

/**
 * Drops root for good after the privileged handles are open (issue 4; OpenBSD ntpd/relayd order: open, drop, then
 * read untrusted input). Linux/glibc through JNA: glibc applies set*id to every thread of the JVM. It does not set
 * PR_SET_NO_NEW_PRIVS, which is per thread: run the daemon under {@code setpriv --no-new-privs} or systemd
 * {@code NoNewPrivileges=yes} for that.
 */
public final class Privileges {

    /** The libc calls needed; errno through LastErrorException would cost a class per call, so -1 is checked. */
    interface LibC extends Library {
        LibC INSTANCE = Native.load("c", LibC.class);

        int getuid();

        int geteuid();

        int getgid();

        int setgroups(long size, int[] list);

        int setresgid(int rgid, int egid, int sgid);

        int setresuid(int ruid, int euid, int suid);

        int setuid(int uid);

        int chroot(String path);

        int chdir(String path);

        Passwd getpwnam(String name);
    }

    /** struct passwd of glibc (field order matters). */
    @Structure.FieldOrder({"pw_name", "pw_passwd", "pw_uid", "pw_gid", "pw_gecos", "pw_dir", "pw_shell"})
    public static final class Passwd extends Structure {
        public String pw_name;
        public String pw_passwd;
        public int pw_uid;
        public int pw_gid;
        public String pw_gecos;
        public String pw_dir;
        public String pw_shell;

        public Passwd() {
        }

        public Passwd(Pointer p) {
            super(p);
            read();
        }
    }

    /** What the drop resolved: for the log line. */
    public record Result(String user, int uid, int gid, Path chroot) {
        @Override
        public String toString() {
            return "running as " + user + " (uid " + uid + ", gid " + gid + ")"
                    + (chroot == null ? "" : ", chrooted to " + chroot);
        }
    }

    private Privileges() {
    }

    /** True when the process runs as root (effective uid 0). */
    public static boolean isRoot() {
        return LibC.INSTANCE.geteuid() == 0;
    }

    /**
     * The drop every daemon makes once its privileged handles are open: as root, becomes {@code user} (optionally
     * chrooted) and logs it; started unprivileged (for instance with CAP_NET_RAW only) there is nothing to drop, but a
     * chroot cannot be honoured.
     *
     * @param daemon the daemon's name, for the message ("probe")
     */
    public static void dropIfRoot(String daemon, String user, Path chrootOrNull) throws ConfigException {
        if (!isRoot()) {
            if (chrootOrNull != null) {
                throw new ConfigException("--chroot needs the " + daemon + " to start as root");
            }
            return;
        }
        LoggerFactory.getLogger(Privileges.class).info("dropped privileges: {}", drop(user, chrootOrNull));
    }

    /**
     * Becomes {@code user} (a name or a numeric uid) with only its primary group, optionally chrooted to
     * {@code chrootOrNull} first, and checks that root cannot be regained.
     *
     * @throws ConfigException when the user is unknown, the process is not root, or any step fails: the caller must
     *                         exit, never go on with privileges
     */
    public static Result drop(String user, Path chrootOrNull) throws ConfigException {
        LibC c = LibC.INSTANCE;
        int uid;
        int gid;
        // resolved before chroot: /etc/passwd and NSS are gone inside
        Passwd pw = c.getpwnam(user);
        if (pw != null) {
            uid = pw.pw_uid;
            gid = pw.pw_gid;
        } else if (user.matches("\\d{1,9}")) {
            uid = Integer.parseInt(user);
            gid = uid;
        } else {
            throw new ConfigException("--user " + user + ": no such user (create it, or use an existing one such as"
                    + " nobody)");
        }
        if (uid == 0) {
            throw new ConfigException("--user " + user + " is root: name an unprivileged user such as nobody");
        }
        if (c.geteuid() != 0) {
            if (c.geteuid() == uid && c.getuid() == uid) {
                return new Result(user, uid, c.getgid(), null); // already that user
            }
            throw new ConfigException("--user " + user + " needs the process to start as root (it runs as uid "
                    + c.geteuid() + "); start it as root or drop --user");
        }
        if (chrootOrNull != null) {
            if (!Files.isDirectory(chrootOrNull)) {
                throw new ConfigException("--chroot " + chrootOrNull + ": not a directory (create an empty one,"
                        + " e.g. /var/empty)");
            }
            prepareForChroot();
            check(c.chroot(chrootOrNull.toString()), "chroot(" + chrootOrNull + ")");
            check(c.chdir("/"), "chdir(/) after chroot");
        }
        // order matters: groups and gid while still root, uid last
        check(c.setgroups(1, new int[]{gid}), "setgroups(" + gid + ")");
        check(c.setresgid(gid, gid, gid), "setresgid(" + gid + ")");
        check(c.setresuid(uid, uid, uid), "setresuid(" + uid + ")");
        if (c.setuid(0) == 0 || c.getuid() == 0 || c.geteuid() == 0 || c.getgid() != gid) {
            throw new ConfigException("privilege drop to " + user + " did not hold: root could be regained; refusing"
                    + " to run");
        }
        return new Result(user, uid, gid, chrootOrNull);
    }

    /**
     * Touches what the JVM would otherwise load lazily from the file system, which a chroot hides: time-zone data,
     * the entropy source, and every jar of the class path (a lookup of a resource that does not exist opens them
     * all, and the JVM keeps them open).
     */
    private static void prepareForChroot() {
        ZoneId.systemDefault();
        new SecureRandom().nextBytes(new byte[16]);
        List.of(Privileges.class.getClassLoader(), ClassLoader.getSystemClassLoader())
                .forEach(l -> l.getResource("org/glouglou/platform/does-not-exist"));
    }

    private static void check(int rc, String what) throws ConfigException {
        if (rc != 0) {
            throw new ConfigException(what + " failed (errno " + Native.getLastError()
                    + "); refusing to run with privileges");
        }
    }
}
