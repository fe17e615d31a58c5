package io.relabel.spark.cli;

/** A failure the user can fix (bad input, bad settings, missing tools): printed as one line, exit code 2. */
public class RelabelException extends RuntimeException {
  public RelabelException(String message) {
    super(message);
  }

  public RelabelException(String message, Throwable cause) {
    super(message, cause);
  }
}
