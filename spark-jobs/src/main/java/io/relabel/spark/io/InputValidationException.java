package io.relabel.spark.io;

import io.relabel.spark.cli.RelabelException;

/**
 * The input table breaks the contract. A subclass of {@link RelabelException} so that the command line prints it as
 * one line and exits with 2; a type of its own so that callers and tests can tell bad input from bad settings.
 */
public class InputValidationException extends RelabelException {
  public InputValidationException(String message) {
    super(message);
  }
}
