package io.relabel.spark.io;

import java.io.IOException;
import java.net.URI;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;

/**
 * The local file system under the scheme {@code failrename:}, whose rename of a staging directory onto
 * {@link #refuseRenameOnto} returns false: the one failure of a commit that a local test cannot otherwise provoke.
 */
public class FailingRenameFileSystem extends RawLocalFileSystem {

  static final String SCHEME = "failrename";
  /** A local path (no scheme); renames of a staging directory onto it fail. Null: no failure. */
  static volatile String refuseRenameOnto;

  @Override
  public URI getUri() {
    return URI.create(SCHEME + ":///");
  }

  @Override
  public String getScheme() {
    return SCHEME;
  }

  @Override
  public boolean rename(Path src, Path dst) throws IOException {
    if (dst.toUri().getPath().equals(refuseRenameOnto) && src.getName().contains(".staging-")) {
      return false;
    }
    return super.rename(src, dst);
  }
}
