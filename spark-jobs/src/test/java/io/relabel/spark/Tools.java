package io.relabel.spark;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether external programs the end-to-end tests need (apt-get, dpkg) are on this machine's PATH. */
public final class Tools {

  private Tools() {}

  public static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }
}
