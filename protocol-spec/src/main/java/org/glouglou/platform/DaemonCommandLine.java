package org.glouglou.platform;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.glouglou.spi.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * How every glouglou daemon runs its picocli command: a bad option or a configuration problem is one line on
 * standard error and exit code 2, a runtime failure one line and exit code 1 (the stack trace only at debug level),
 * and {@code --config FILE} supplies any option as a properties file (option name without dashes = value) that the
 * command line overrides.
 */
public final class DaemonCommandLine {
    private static final Logger LOG = LoggerFactory.getLogger(DaemonCommandLine.class);

    private DaemonCommandLine() {
    }

    /** Executes {@code cmd} with {@code args}; {@code name} prefixes every message (e.g. "glouglou probe"). */
    public static int execute(String name, CommandLine cmd, String[] args, PrintStream out, PrintStream err) {
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setParameterExceptionHandler((ex, a) -> {
            err.println(name + ": " + ex.getMessage() + " (see --help)");
            return 2;
        });
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof ConfigException) {
                err.println(name + ": " + ex.getMessage());
                return 2;
            }
            err.println(name + ": " + ex);
            LOG.debug("failure", ex);
            return 1;
        });
        Path configFile = findConfig(args);
        if (configFile != null) {
            if (!Files.isReadable(configFile)) {
                err.println(name + ": cannot read config file " + configFile);
                return 2;
            }
            cmd.setDefaultValueProvider(new CommandLine.PropertiesDefaultProvider(configFile.toFile()));
        }
        return cmd.execute(args);
    }

    /** The file of {@code --config FILE} or {@code --config=FILE}, or null. */
    static Path findConfig(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--config") && i + 1 < args.length) {
                return Path.of(args[i + 1]);
            }
            if (args[i].startsWith("--config=")) {
                return Path.of(args[i].substring("--config=".length()));
            }
        }
        return null;
    }
}
