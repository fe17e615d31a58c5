package io.relabel.spark.io;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * The local file system under the scheme {@code faulty:}, with two failures a local test cannot otherwise provoke:
 * a rename of a staging directory onto {@link #refuseRenameOnto} returns false (a failed commit), and writing a
 * Parquet part file under {@link #fullUnder} fails like a full disk (the fallback where no tiny tmpfs can be
 * mounted).
 */
public class FaultyFileSystem extends RawLocalFileSystem {

  static final String SCHEME = "faulty";
  /** A local path (no scheme); renames of a staging directory onto it fail. Null: no failure. */
  static volatile String refuseRenameOnto;
  /** A local path (no scheme); part files written below it fail with ENOSPC's message. Null: no failure. */
  static volatile String fullUnder;

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

  @Override
  public FSDataOutputStream create(Path f, boolean overwrite, int bufferSize, short replication, long blockSize,
      Progressable progress) throws IOException {
    return full(f) ? fullStream() : super.create(f, overwrite, bufferSize, replication, blockSize, progress);
  }

  @Override
  public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
      short replication, long blockSize, Progressable progress) throws IOException {
    return full(f) ? fullStream()
        : super.create(f, permission, overwrite, bufferSize, replication, blockSize, progress);
  }

  private static boolean full(Path f) {
    String under = fullUnder;
    return under != null && f.getName().startsWith("part-") && f.toUri().getPath().startsWith(under + "/");
  }

  private static FSDataOutputStream fullStream() throws IOException {
    return new FSDataOutputStream(new OutputStream() {
      @Override
      public void write(int b) throws IOException {
        throw new IOException("No space left on device");
      }

      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        throw new IOException("No space left on device");
      }
    }, null);
  }
}
