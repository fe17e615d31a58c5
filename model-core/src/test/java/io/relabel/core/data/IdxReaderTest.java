package io.relabel.core.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {

  @TempDir Path dir;

  private static byte[] values(int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) (i * 37 + 5);
    }
    return b;
  }

  @Test
  void readsPlainAndGzippedFilesAlike() throws IOException {
    byte[] data = values(3 * 4 * 2);
    Path plain = dir.resolve("images-idx3-ubyte");
    Path gz = dir.resolve("images-idx3-ubyte.gz");
    IdxReader.write(plain, new int[] {3, 4, 2}, data, false);
    IdxReader.write(gz, new int[] {3, 4, 2}, data, true);
    for (Path p : new Path[] {plain, gz}) {
      IdxReader.IdxArray a = IdxReader.readUnsignedBytes(p, 3);
      assertArrayEquals(new int[] {3, 4, 2}, a.dims());
      assertArrayEquals(data, a.data());
      assertEquals(3, a.count());
      assertEquals(8, a.itemSize());
      assertEquals(data[8 + 5] & 0xff, a.value(1, 5));
    }
  }

  @Test
  void valuesAreUnsigned() throws IOException {
    Path p = dir.resolve("labels");
    IdxReader.write(p, new int[] {2}, new byte[] {(byte) 255, 9}, false);
    IdxReader.IdxArray a = IdxReader.readUnsignedBytes(p, 1);
    assertEquals(255, a.value(0, 0));
    assertEquals(9, a.value(1, 0));
  }

  @Test
  void wrongRankIsNamed() throws IOException {
    Path p = dir.resolve("labels");
    IdxReader.write(p, new int[] {2}, new byte[] {1, 2}, false);
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readUnsignedBytes(p, 3));
    assertEquals(p + " has magic number 0x00000801 (type 0x08, rank 1); expected 0x00000803 (unsigned bytes,"
        + " rank 3)", e.getMessage());
  }

  @Test
  void wrongTypeIsNamed() throws IOException {
    Path p = dir.resolve("floats");
    Files.write(p, new byte[] {0, 0, 0x0d, 1, 0, 0, 0, 1, 1, 2, 3, 4});
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readUnsignedBytes(p, 1));
    assertEquals(p + " has magic number 0x00000d01 (type 0x0d, rank 1); expected 0x00000801 (unsigned bytes,"
        + " rank 1)", e.getMessage());
  }

  @Test
  void notAnIdxFile() throws IOException {
    Path p = dir.resolve("readme.txt");
    Files.writeString(p, "hello, world");
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readUnsignedBytes(p, 1));
    assertEquals(p + " is not an IDX file: magic number 0x68656c6c does not start with two zero bytes",
        e.getMessage());
  }

  @Test
  void truncatedDataIsReported() throws IOException {
    Path full = dir.resolve("full");
    IdxReader.write(full, new int[] {5, 2, 2}, values(20), false);
    byte[] bytes = Files.readAllBytes(full);
    Path cut = dir.resolve("cut");
    Files.write(cut, Arrays.copyOf(bytes, bytes.length - 7));
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readUnsignedBytes(cut, 3));
    assertEquals(cut + " is truncated: its header declares 5 x 2 x 2 = 20 values, but the data ends after 13",
        e.getMessage());
  }

  @Test
  void truncatedHeaderIsReported() throws IOException {
    Path p = dir.resolve("short");
    Files.write(p, new byte[] {0, 0, 8, 3, 0, 0, 0, 5, 0});
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readUnsignedBytes(p, 3));
    assertEquals(p + " is truncated: it ends after 5 of the 12 bytes of its 3 dimension sizes", e.getMessage());
  }

  @Test
  void emptyFileIsReported() throws IOException {
    Path p = dir.resolve("empty");
    Files.write(p, new byte[0]);
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readUnsignedBytes(p, 1));
    assertEquals(p + " is truncated: it ends after 0 of the 4 bytes of its magic number", e.getMessage());
  }

  @Test
  void trailingBytesAreReported() throws IOException {
    Path p = dir.resolve("long");
    IdxReader.write(p, new int[] {3}, new byte[] {1, 2, 3}, false);
    Files.write(p, new byte[] {9, 9}, java.nio.file.StandardOpenOption.APPEND);
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readUnsignedBytes(p, 1));
    assertEquals(p + " has 2 bytes after the 3 values its header declares (3)", e.getMessage());
  }

  @Test
  void truncatedGzipIsReported() throws IOException {
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(raw)) {
      gz.write(new byte[] {0, 0, 8, 1, 0, 0, 0, 100});
      gz.write(values(100));
    }
    byte[] bytes = raw.toByteArray();
    Path p = dir.resolve("cut.gz");
    Files.write(p, Arrays.copyOf(bytes, bytes.length / 2));
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readUnsignedBytes(p, 1));
    assertTrue(e.getMessage().startsWith(p + " is a corrupt or truncated gzip file: "), e.getMessage());
  }

  @Test
  void missingFileIsNamed() {
    Path p = dir.resolve("nope");
    IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxReader.readUnsignedBytes(p, 1));
    assertEquals("no such file: " + p, e.getMessage());
  }
}
