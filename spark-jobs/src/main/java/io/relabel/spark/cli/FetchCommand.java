package io.relabel.spark.cli;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.data.DatasetFetcher;
import io.relabel.spark.data.Datasets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code relabel fetch DATASET}: turns a public data set into a Parquet table under {@code relabel.data.dir}, so
 * that the demo and the tests of the pipeline run on real data rather than synthetic blobs. The known names come
 * from {@link Datasets}.
 */
@Command(name = "fetch", mixinStandardHelpOptions = true,
    description = {"Downloads a public data set and writes it as a Parquet table <relabel.data.dir>/<DATASET>"
        + " (default data/; change it with --set relabel.data.dir=DIR) with the columns id, label, split and the"
        + " data set's features (features for images, text for WordNet). Downloads are cached in"
        + " <relabel.data.dir>/cache/. A data set without a published split (WordNet) gets one drawn per class"
        + " with relabel.seed.",
        "Debian-packaged data sets are fetched with 'apt-get download' and unpacked with 'dpkg -x': no root needed,"
            + " nothing is installed. Without apt, get the files by hand and pass --from DIR."})
public final class FetchCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(FetchCommand.class);

  @Mixin CommonOptions common;

  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DATASET", completionCandidates = KnownNames.class,
      description = "The data set to fetch: ${COMPLETION-CANDIDATES}.")
  String dataset;

  @Option(names = "--force", description = "Download and write the table again even when it already exists.")
  boolean force;

  @Option(names = "--from", paramLabel = "DIR",
      description = "Read the source files from DIR (or from where an unpacked .deb keeps them under DIR)"
          + " instead of downloading them.")
  Path from;

  /** The names in {@link Datasets}, for the help text. */
  static final class KnownNames implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Datasets.names().iterator();
    }
  }

  @Override
  public Integer call() {
    Datasets known = Datasets.byName(dataset).orElseThrow(() -> new RelabelException("unknown data set '"
        + dataset + "'; known: " + String.join(", ", Datasets.names())));
    Settings settings = common.settings();
    String dataDir = settings.get(RelabelParams.DATA_DIR);
    long t0 = System.nanoTime();
    DatasetFetcher.Result r = known.fetcher().fetch(new DatasetFetcher.Request(dataDir, force, from,
        settings.get(RelabelParams.SEED)),
        () -> SparkSessions.getOrCreate("relabel fetch " + known.cliName(), common.master()));
    double secs = (System.nanoTime() - t0) / 1e9;
    if (r.alreadyPresent()) {
      spec.commandLine().getOut().println(known.cliName() + " is already at " + r.table()
          + "; nothing to do (--force fetches it again)");
    } else {
      long rows = r.rowsPerSplit().values().stream().mapToLong(Long::longValue).sum();
      String splits = r.rowsPerSplit().entrySet().stream().map(e -> e.getKey() + " " + e.getValue())
          .collect(Collectors.joining(", "));
      String line = String.format("fetched %s: %d rows (%s) from %s into %s in %.1f s", known.cliName(), rows, splits,
          r.source(), r.table(), secs);
      LOG.info(line);
      spec.commandLine().getOut().println(line);
    }
    spec.commandLine().getOut().flush();
    return 0;
  }
}
