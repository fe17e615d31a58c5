package io.relabel.spark.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** TODO: filled in by its owner. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "TODO")
public final class RunCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Override
  public Integer call() {
    throw new UnsupportedOperationException("run is not implemented yet");
  }
}
