package io.relabel.spark.cli;

import io.relabel.core.config.Param;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
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
    cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      // A user error is one clear line; anything else keeps its stack trace for the bug report.
      Throwable root = ex;
      if (root instanceof RelabelException || root instanceof IllegalArgumentException) {
        cmd.getErr().println("relabel " + cmd.getCommandName() + ": error: " + root.getMessage());
        return 2;
      }
      cmd.getErr().println("relabel " + cmd.getCommandName() + ": failed: " + root);
      root.printStackTrace(cmd.getErr());
      return 1;
    });
    return cli.execute(args);
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
