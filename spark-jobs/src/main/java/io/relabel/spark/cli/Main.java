package io.relabel.spark.cli;

import io.relabel.core.config.Param;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code relabel <command> [options]}: the entry point of the shaded jar and of spark-submit. */
@Command(name = "relabel", mixinStandardHelpOptions = true, version = "relabel 0.1.0",
    description = "Finds and fixes wrong labels in large training tables, on Apache Spark.",
    subcommands = {FetchCommand.class, InjectNoiseCommand.class, RunCommand.class, EmbedCommand.class,
        AdaptRetrieverCommand.class,
        DemoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  /** How Spark 3.5's {@code QueryExecutionErrors.cannotReadFilesError} starts its message. */
  private static final String READ_FAILED = "Encountered error while reading file ";

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs a command line and returns its exit code (tests call this instead of {@link #main}). */
  public static int execute(String... args) {
    CommandLine cli = new CommandLine(new Main());
    for (CommandLine sub : cli.getSubcommands().values()) {
      if (!(sub.getCommand() instanceof CommandLine.HelpCommand)) {
        List<String> footer = new ArrayList<>(List.of(sub.getCommandSpec().usageMessage().footer()));
        footer.addAll(settingsFooter());
        sub.getCommandSpec().usageMessage().footer(footer.toArray(new String[0]));
      }
    }
    cli.setExecutionExceptionHandler((ex, cmd, parsed) -> report(ex, cmd.getCommandName(), cmd.getErr()));
    return cli.execute(args);
  }

  /**
   * Prints a failed command's message and returns its exit code. A user error is one clear line (exit 2), wherever
   * in the cause chain it was thrown: an executor's error reaches the driver wrapped in a SparkException. Anything
   * else is a bug: one summary line naming the root cause first, then the stack trace for the report (exit 1).
   */
  static int report(Throwable ex, String command, PrintWriter err) {
    String prefix = "relabel " + command;
    String userError = userError(ex);
    if (userError != null) {
      err.println(prefix + ": error: " + userError);
      return 2;
    }
    Throwable root = rootCause(ex);
    err.println(prefix + ": failed: " + root.getClass().getName() + ": " + root.getMessage());
    ex.printStackTrace(err);
    return 1;
  }

  /**
   * The one-line message of a failure the user can fix: a {@link RelabelException} anywhere in the cause chain, an
   * {@link IllegalArgumentException} thrown by relabel itself (a bad setting), or a file a task could not read
   * (Spark's message names it); null for anything else.
   */
  static String userError(Throwable ex) {
    if (ex instanceof IllegalArgumentException) {
      return ex.getMessage();
    }
    for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof RelabelException) {
        return t.getMessage();
      }
    }
    for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      // Spark's wrapper for a file a task could not read (a corrupt page behind an intact footer): name the file
      // and what the reader said, the cause right under the wrapper, not Thrift's "socket closed" at the root
      if (t instanceof org.apache.spark.SparkException && m != null && m.startsWith(READ_FAILED)
          && m.contains(". Details:")) {
        String file = m.substring(READ_FAILED.length(), m.indexOf(". Details:"));
        Throwable cause = t.getCause();
        return "file " + file + " cannot be read (corrupt, or changed while relabel ran): "
            + (cause == null ? "no details" : cause.getMessage());
      }
      if (t instanceof org.apache.parquet.io.ParquetDecodingException) {
        return "a Parquet file cannot be decoded: " + m;
      }
    }
    return null;
  }

  static Throwable rootCause(Throwable ex) {
    Throwable t = ex;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  /** Every setting with its default and doc, from the one declaration and conf/relabel.properties. */
  static List<String> settingsFooter() {
    List<String> lines = new ArrayList<>();
    lines.add("");
    lines.add("Settings (--set KEY=VALUE or --conf FILE; defaults from conf/relabel.properties):");
    Map<String, String> defaults = Settings.defaults().asMap();
    for (Param<?> p : RelabelParams.ALL.values()) {
      String def = defaults.getOrDefault(p.key(), "");
      lines.add("  " + p.key() + " = " + (def.isEmpty() ? "(empty)" : def));
      lines.add("      " + p.doc().replace("%", "%%") + " Accepted: " + p.accepted() + ".");
    }
    return lines;
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
