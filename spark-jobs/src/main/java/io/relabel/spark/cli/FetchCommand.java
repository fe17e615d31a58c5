package io.relabel.spark.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** TODO: filled in by its owner. */
@Command(name = "fetch", mixinStandardHelpOptions = true, description = "TODO")
public final class FetchCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Override
  public Integer call() {
    throw new UnsupportedOperationException("fetch is not implemented yet");
  }
}
