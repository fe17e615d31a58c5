package io.relabel.spark.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** TODO: filled in by its owner. */
@Command(name = "inject-noise", mixinStandardHelpOptions = true, description = "TODO")
public final class InjectNoiseCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Override
  public Integer call() {
    throw new UnsupportedOperationException("inject-noise is not implemented yet");
  }
}
