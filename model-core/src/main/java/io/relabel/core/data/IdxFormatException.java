package io.relabel.core.data;

/**
 * A missing, corrupt or truncated IDX file. It is an {@link IllegalArgumentException} because the cure is always
 * on the user's side (fetch the file again, point at the right directory), so the command line prints it as one line.
 */
public class IdxFormatException extends IllegalArgumentException {

  public IdxFormatException(String message) {
    super(message);
  }

  public IdxFormatException(String message, Throwable cause) {
    super(message, cause);
  }
}
