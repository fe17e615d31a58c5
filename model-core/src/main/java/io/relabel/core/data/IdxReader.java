package io.relabel.core.data;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * Reads the IDX files in which MNIST-style data sets are distributed (LeCun's format: a 4-byte magic number
 * {@code 0x00 0x00 <type> <rank>}, {@code rank} big-endian 32-bit dimension sizes, then the values row-major).
 *
 * <p>It is written here rather than borrowed because the readers in circulation trust the header: a truncated or
 * wrongly named file then yields a short or garbled table without a word. This one checks the magic number, the
 * element type, the rank the caller expects and that the data is exactly as long as the header says, and names the
 * file and the problem when it is not. Gzip-compressed files (as Debian ships them) are recognised by their own magic
 * bytes, whatever the file is called.
 */
public final class IdxReader {

  /** The only element type these data sets use: unsigned bytes. */
  public static final int TYPE_UNSIGNED_BYTE = 0x08;

  private IdxReader() {}

  /** A decoded IDX array of unsigned bytes: its dimensions and the raw values, row-major. */
  public record IdxArray(int[] dims, byte[] data) {

    /** Size of the first dimension (the number of items). */
    public int count() {
      return dims[0];
    }

    /** Values per item: the product of every dimension after the first. */
    public int itemSize() {
      int size = 1;
      for (int i = 1; i < dims.length; i++) {
        size *= dims[i];
      }
      return size;
    }

    /** Value {@code j} of item {@code i}, as 0..255. */
    public int value(int i, int j) {
      return data[i * itemSize() + j] & 0xff;
    }
  }

  /**
   * Reads an IDX file of unsigned bytes with the given rank (1 for labels, 3 for images).
   *
   * @throws IdxFormatException when the file is missing, not gzip-readable, has the wrong magic number or rank, is
   *                            truncated or has bytes after the data its header describes
   */
  public static IdxArray readUnsignedBytes(Path file, int expectedRank) {
    if (expectedRank < 1 || expectedRank > 255) {
      throw new IllegalArgumentException("rank must be in [1, 255]: " + expectedRank);
    }
    try (InputStream in = open(file)) {
      byte[] magic = readHeader(in, 4, file, "its magic number");
      if (magic[0] != 0 || magic[1] != 0) {
        throw new IdxFormatException(file + " is not an IDX file: magic number " + hex(magic)
            + " does not start with two zero bytes");
      }
      int type = magic[2] & 0xff;
      int rank = magic[3] & 0xff;
      if (type != TYPE_UNSIGNED_BYTE || rank != expectedRank) {
        throw new IdxFormatException(file + " has magic number " + hex(magic) + " (type 0x"
            + String.format("%02x", type) + ", rank " + rank + "); expected "
            + hex(new byte[] {0, 0, TYPE_UNSIGNED_BYTE, (byte) expectedRank}) + " (unsigned bytes, rank "
            + expectedRank + ")");
      }
      byte[] dimBytes = readHeader(in, 4 * rank, file, "its " + rank + " dimension sizes");
      int[] dims = new int[rank];
      long total = 1;
      for (int d = 0; d < rank; d++) {
        dims[d] = ((dimBytes[4 * d] & 0xff) << 24) | ((dimBytes[4 * d + 1] & 0xff) << 16)
            | ((dimBytes[4 * d + 2] & 0xff) << 8) | (dimBytes[4 * d + 3] & 0xff);
        if (dims[d] < 0) {
          throw new IdxFormatException(file + " declares a negative dimension size: " + Integer.toUnsignedString(
              dims[d]));
        }
        total *= dims[d];
        if (total > Integer.MAX_VALUE - 16) {
          throw new IdxFormatException(file + " declares dimensions " + dimsText(dims, d + 1)
              + ", more values than one array can hold");
        }
      }
      byte[] data = new byte[(int) total];
      int got = in.readNBytes(data, 0, data.length);
      if (got < data.length) {
        throw new IdxFormatException(file + " is truncated: its header declares " + dimsText(dims, rank) + " = "
            + data.length + " values, but the data ends after " + got);
      }
      if (in.read() != -1) {
        long extra = 1 + in.transferTo(OutputStream.nullOutputStream());
        throw new IdxFormatException(file + " has " + extra + " bytes after the " + data.length
            + " values its header declares (" + dimsText(dims, rank) + ")");
      }
      return new IdxArray(dims, data);
    } catch (NoSuchFileException e) {
      throw new IdxFormatException("no such file: " + file, e);
    } catch (ZipException | EOFException e) {
      throw new IdxFormatException(file + " is a corrupt or truncated gzip file: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IdxFormatException("cannot read " + file + ": " + e, e);
    }
  }

  /** Opens a file, decompressing it when it starts with the gzip magic bytes. */
  private static InputStream open(Path file) throws IOException {
    BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    if (b0 == 0x1f && b1 == 0x8b) {
      return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
    }
    return in;
  }

  private static byte[] readHeader(InputStream in, int n, Path file, String what) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length < n) {
      throw new IdxFormatException(file + " is truncated: it ends after " + b.length + " of the " + n
          + " bytes of " + what);
    }
    return b;
  }

  private static String hex(byte[] b) {
    StringBuilder s = new StringBuilder("0x");
    for (byte x : b) {
      s.append(String.format("%02x", x & 0xff));
    }
    return s.toString();
  }

  private static String dimsText(int[] dims, int n) {
    StringBuilder s = new StringBuilder();
    for (int d = 0; d < n; d++) {
      if (d > 0) {
        s.append(" x ");
      }
      s.append(dims[d]);
    }
    return s.toString();
  }

  /** Writes an IDX array (used by tests and tools that make small fixtures); {@code gzip} compresses it. */
  public static void write(Path file, int[] dims, byte[] data, boolean gzip) throws IOException {
    long total = 1;
    for (int d : dims) {
      total *= d;
    }
    if (total != data.length) {
      throw new IllegalArgumentException("dims " + Arrays.toString(dims) + " need " + total + " values, got "
          + data.length);
    }
    try (OutputStream raw = Files.newOutputStream(file);
        OutputStream out = gzip ? new GZIPOutputStream(raw) : raw;
        DataOutputStream d = new DataOutputStream(new BufferedOutputStream(out))) {
      d.write(new byte[] {0, 0, TYPE_UNSIGNED_BYTE, (byte) dims.length});
      for (int x : dims) {
        d.writeInt(x);
      }
      d.write(data);
    }
  }
}
