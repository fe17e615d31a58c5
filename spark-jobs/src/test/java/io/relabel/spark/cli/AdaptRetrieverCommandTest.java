package io.relabel.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code relabel adapt-retriever}'s help names the settings its flags set, and a bad flag value is refused. */
class AdaptRetrieverCommandTest {

  @Test
  void helpShowsEachFlagsSettingDocAndDefault() {
    CliRun run = CliRun.of("adapt-retriever", "--help");
    assertEquals(0, run.exitCode());
    assertTrue(run.out().contains("--remine-every=R"), run.out());
    assertTrue(run.out().contains("R: every R steps the model being trained re-encodes the corpus"), run.out());
    assertTrue(run.out().contains("_adapter.zip"), run.out());
  }

  @Test
  void aBadFlagValueIsRefusedWithTheAcceptedRange() {
    CliRun run = CliRun.of("adapt-retriever", "--input", "in", "--output", "out", "--teacher", "gpt");
    assertEquals(2, run.exitCode());
    assertTrue(run.err().contains("invalid value for relabel.rgpl.teacher: 'gpt'; accepted: one of bge,"
        + " cross-encoder"), run.err());
  }
}
