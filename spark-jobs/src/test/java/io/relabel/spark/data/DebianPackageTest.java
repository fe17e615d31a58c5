package io.relabel.spark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.spark.cli.RelabelException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The apt route with stand-in {@code apt-get} and {@code dpkg} scripts: failures are explained, success is cached. */
class DebianPackageTest {

  @TempDir Path tmp;

  private Path script(Path bin, String name, String body) throws IOException {
    Files.createDirectories(bin);
    Path p = bin.resolve(name);
    Files.writeString(p, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    return p;
  }

  @Test
  void missingAptGetSaysHowToGetTheFilesByHand() {
    DebianPackage pkg = new DebianPackage("dataset-fashion-mnist", tmp.resolve("empty-bin").toString());
    RelabelException e = assertThrows(RelabelException.class,
        () -> pkg.fetch(tmp.resolve("cache"), false, "Do it by hand."));
    assertEquals("apt-get is not on the PATH, so the Debian package dataset-fashion-mnist cannot be fetched."
        + " Do it by hand.", e.getMessage());
  }

  @Test
  void theFetcherAppendsTheManualRoute() {
    FashionMnistFetcher f = new FashionMnistFetcher(new DebianPackage("dataset-fashion-mnist", ""));
    RelabelException e = assertThrows(RelabelException.class,
        () -> f.fetch(new DatasetFetcher.Request(tmp.resolve("data").toString(), false, null, 42), () -> {
          throw new AssertionError("no Spark needed to fail");
        }));
    assertEquals("apt-get is not on the PATH, so the Debian package dataset-fashion-mnist cannot be fetched. "
        + FashionMnistFetcher.manualHelp(), e.getMessage());
  }

  @Test
  void aFailingAptGetIsReportedWithItsLastLines() throws IOException {
    Path bin = tmp.resolve("bin");
    script(bin, "apt-get", "echo 'Reading package lists...'\necho \"E: Unable to locate package $2\" >&2\nexit 100");
    script(bin, "dpkg", "exit 0");
    Path cache = tmp.resolve("cache");
    RelabelException e = assertThrows(RelabelException.class,
        () -> new DebianPackage("dataset-fashion-mnist", bin.toString()).fetch(cache, false, "Do it by hand."));
    assertEquals("apt-get download dataset-fashion-mnist failed with exit code 100: Reading package lists... | E:"
        + " Unable to locate package dataset-fashion-mnist (log: " + cache.resolve("apt-get.log") + ")."
        + " Do it by hand.", e.getMessage());
    assertTrue(!Files.exists(cache.resolve("root")));
  }

  @Test
  void downloadsUnpacksOnceAndReusesTheCache() throws IOException {
    Path bin = tmp.resolve("bin");
    Path count = tmp.resolve("downloads");
    script(bin, "apt-get", "echo x >> " + count + "\necho deb > \"$2_1.0_all.deb\"");
    // dpkg -x DEB DIR: make the package tree
    script(bin, "dpkg", "mkdir -p \"$3/usr/share/datasets/x\" && cp \"$2\" \"$3/usr/share/datasets/x/file\"");
    DebianPackage pkg = new DebianPackage("dataset-x", "/nonexistent:" + bin);
    Path cache = tmp.resolve("cache");
    Path root = pkg.fetch(cache, false, "");
    assertEquals(cache.resolve("root"), root);
    assertEquals("deb\n", Files.readString(root.resolve("usr/share/datasets/x/file")));
    assertEquals("dataset-x_1.0_all.deb", DebianPackage.unpackedFrom(root));
    assertEquals(root, pkg.fetch(cache, false, ""));
    assertEquals(1, Files.readAllLines(count).size(), "the second fetch reuses the cache");
    assertEquals(root, pkg.fetch(cache, true, ""));
    assertEquals(2, Files.readAllLines(count).size(), "--force downloads again");
  }

  @Test
  void aRelativeCacheDirWorks() throws IOException {
    Path bin = tmp.resolve("bin");
    script(bin, "apt-get", "echo deb > \"$2_1.0_all.deb\"");
    // like dpkg, fail on a path that does not resolve from the tool's working directory
    script(bin, "dpkg", "test -f \"$2\" || exit 9\nmkdir -p \"$3/usr\" && cp \"$2\" \"$3/usr/file\"");
    Path relative = Path.of("").toAbsolutePath().relativize(tmp.resolve("cache"));
    assertTrue(!relative.isAbsolute());
    Path root = new DebianPackage("dataset-x", bin.toString()).fetch(relative, false, "");
    assertEquals(tmp.resolve("cache/root"), root);
    assertEquals("deb\n", Files.readString(root.resolve("usr/file")));
  }

  @Test
  void aFailedUnpackLeavesNoCacheToTrust() throws IOException {
    Path bin = tmp.resolve("bin");
    script(bin, "apt-get", "echo deb > \"$2_1.0_all.deb\"");
    script(bin, "dpkg", "mkdir -p \"$3/usr\"\necho 'dpkg-deb: error: unexpected end of file' >&2\nexit 2");
    Path cache = tmp.resolve("cache");
    RelabelException e = assertThrows(RelabelException.class,
        () -> new DebianPackage("dataset-x", bin.toString()).fetch(cache, false, "By hand."));
    assertEquals("dpkg -x dataset-x_1.0_all.deb failed with exit code 2: dpkg-deb: error: unexpected end of file"
        + " (log: " + cache.resolve("dpkg.log") + "). By hand.", e.getMessage());
    assertTrue(!Files.exists(cache.resolve("root")));
  }
}
