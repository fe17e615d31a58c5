package io.relabel.spark.data;

import io.relabel.spark.cli.RelabelException;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gets the files of a Debian package without installing it: {@code apt-get download} (no root needed, uses the
 * machine's configured mirrors and verifies the package against the signed archive index) and {@code dpkg -x}
 * into a cache directory. Debian packages several public data sets, which makes apt a dependable, checksummed and
 * mirror-backed source where direct download sites come and go.
 *
 * <p>The unpacked tree is moved into place only once {@code dpkg -x} has succeeded, so an interrupted fetch leaves
 * no half-unpacked cache behind to be trusted later.
 */
public final class DebianPackage {

  private static final Logger LOG = LoggerFactory.getLogger(DebianPackage.class);
  private static final String DONE_MARKER = ".relabel-unpacked";
  private static final long TIMEOUT_MINUTES = 30;

  private final String name;
  private final String searchPath;

  /**
   * @param name       the package, e.g. {@code dataset-fashion-mnist}
   * @param searchPath where to look for {@code apt-get} and {@code dpkg} ({@code PATH} syntax)
   */
  public DebianPackage(String name, String searchPath) {
    this.name = name;
    this.searchPath = searchPath == null ? "" : searchPath;
  }

  /** A package looked up on this process's {@code PATH}. */
  public static DebianPackage onPath(String name) {
    return new DebianPackage(name, System.getenv("PATH"));
  }

  /**
   * Downloads and unpacks the package under {@code cacheDir}, or reuses an earlier unpack.
   *
   * @param force      download again even when an unpacked copy exists
   * @param manualHelp one or more sentences telling the user how to get the files by hand, appended to every error
   * @return the root of the unpacked tree (it holds {@code usr/...})
   */
  public Path fetch(Path cache, boolean force, String manualHelp) {
    // absolute: the tools run with other working directories than this process
    Path cacheDir = cache.toAbsolutePath().normalize();
    Path root = cacheDir.resolve("root");
    if (force) {
      deleteTree(cacheDir);
    } else if (Files.isRegularFile(root.resolve(DONE_MARKER))) {
      LOG.info("using the unpacked package {} cached in {}", name, root);
      return root;
    }
    Path aptGet = which("apt-get", manualHelp);
    Path dpkg = which("dpkg", manualHelp);
    Path debDir = cacheDir.resolve("deb");
    deleteTree(debDir);
    createDirs(debDir);
    LOG.info("downloading the Debian package {} with {} into {}", name, aptGet, debDir);
    long t0 = System.nanoTime();
    run(List.of(aptGet.toString(), "download", name), debDir, cacheDir.resolve("apt-get.log"), "apt-get download "
        + name, manualHelp);
    Path deb = findDeb(debDir, manualHelp);
    LOG.info("downloaded {} ({} bytes) in {} s", deb.getFileName(), size(deb), seconds(t0));
    Path staging = cacheDir.resolve("root.partial");
    deleteTree(staging);
    createDirs(staging);
    run(List.of(dpkg.toString(), "-x", deb.toString(), staging.toString()), cacheDir, cacheDir.resolve("dpkg.log"),
        "dpkg -x " + deb.getFileName(), manualHelp);
    try {
      Files.writeString(staging.resolve(DONE_MARKER), deb.getFileName() + "\n", StandardCharsets.UTF_8);
      deleteTree(root);
      Files.move(staging, root, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot move the unpacked package into " + root, e);
    }
    deleteTree(debDir); // the unpacked tree is all that is read again; --force downloads anew
    LOG.info("unpacked {} into {}", deb.getFileName(), root);
    return root;
  }

  /** The file name of the .deb an earlier {@link #fetch} used, for provenance; null when unknown. */
  public static String unpackedFrom(Path root) {
    try {
      return Files.readString(root.resolve(DONE_MARKER), StandardCharsets.UTF_8).trim();
    } catch (IOException e) {
      return null;
    }
  }

  private Path which(String tool, String manualHelp) {
    for (String dir : searchPath.split(File.pathSeparator)) {
      if (!dir.isEmpty()) {
        Path p = Path.of(dir, tool);
        if (Files.isRegularFile(p) && Files.isExecutable(p)) {
          return p;
        }
      }
    }
    throw new RelabelException(tool + " is not on the PATH, so the Debian package " + name
        + " cannot be fetched. " + manualHelp);
  }

  private void run(List<String> command, Path workDir, Path logFile, String what, String manualHelp) {
    int exit;
    try {
      Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true)
          .redirectOutput(logFile.toFile()).start();
      if (!p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new RelabelException(what + " did not finish within " + TIMEOUT_MINUTES + " minutes (log: " + logFile
            + "). " + manualHelp);
      }
      exit = p.exitValue();
    } catch (IOException e) {
      throw new RelabelException("cannot run " + what + ": " + e.getMessage() + ". " + manualHelp, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new RelabelException(what + " was interrupted", e);
    }
    if (exit != 0) {
      throw new RelabelException(what + " failed with exit code " + exit + ": " + lastLines(logFile, 3) + " (log: "
          + logFile + "). " + manualHelp);
    }
  }

  private Path findDeb(Path debDir, String manualHelp) {
    List<Path> debs = new ArrayList<>();
    try (Stream<Path> s = Files.list(debDir)) {
      s.filter(p -> p.getFileName().toString().startsWith(name + "_") && p.getFileName().toString().endsWith(".deb"))
          .forEach(debs::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (debs.size() != 1) {
      throw new RelabelException("apt-get download " + name + " left " + debs.size() + " package files in " + debDir
          + ", expected one. " + manualHelp);
    }
    return debs.get(0);
  }

  private static String lastLines(Path logFile, int n) {
    try {
      List<String> lines = new ArrayList<>();
      for (String line : Files.readAllLines(logFile, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          lines.add(line.trim());
        }
      }
      List<String> tail = lines.subList(Math.max(0, lines.size() - n), lines.size());
      return tail.isEmpty() ? "(no output)" : String.join(" | ", tail);
    } catch (IOException e) {
      return "(no log)";
    }
  }

  static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  private static void createDirs(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return -1;
    }
  }

  private static String seconds(long t0) {
    return String.format("%.1f", (System.nanoTime() - t0) / 1e9);
  }
}
