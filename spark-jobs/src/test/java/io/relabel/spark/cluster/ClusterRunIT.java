package io.relabel.spark.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The loopback cluster tier: {@code relabel run} in-process and submitted to a real Spark standalone cluster
 * (a Master and a Worker on 127.0.0.1, with their own executor JVM, started by {@code bin/spark-cluster}) gives the
 * same table, bit for bit (see {@link LoopbackCluster} for why it must).
 */
@Tag("cluster")
@ExtendWith(LoopbackCluster.class)
class ClusterRunIT {

  @Test
  void runOnTheClusterEqualsRunInProcess() throws IOException {
    Path outLocal = LoopbackCluster.work().resolve("out-local");
    List<String> local = new ArrayList<>(List.of(LoopbackCluster.repo().resolve("bin/relabel").toString(), "run",
        "--input", LoopbackCluster.input().toString(), "--output", outLocal.toString(), "--master", "local[2]"));
    local.addAll(LoopbackCluster.SETTINGS);
    LoopbackCluster.run("run-local", 600, local.toArray(String[]::new));

    Path outCluster = LoopbackCluster.reference();
    // the cluster run really ran in an executor JVM of the worker: it left that executor's logs in the work dir
    Path executorLog = LoopbackCluster.clusterDir().resolve("worker").resolve(LoopbackCluster.referenceApp())
        .resolve("0/stderr");
    assertTrue(Files.isRegularFile(executorLog), "no executor log " + executorLog);

    LoopbackCluster.assertSameCorrections(outLocal, outCluster);
  }
}
