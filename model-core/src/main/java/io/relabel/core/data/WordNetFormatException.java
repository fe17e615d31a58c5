package io.relabel.core.data;

/**
 * A WordNet data file that does not follow the {@code wndb(5WN)} format. An {@link IllegalArgumentException} for the
 * same reason as {@link IdxFormatException}: the cure is on the user's side (fetch the file again, point at the
 * right directory), so the command line prints it as one line naming the file, the line and the bad field.
 */
public class WordNetFormatException extends IllegalArgumentException {

  public WordNetFormatException(String message) {
    super(message);
  }

  public WordNetFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
