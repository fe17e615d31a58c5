package io.relabel.spark.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The public data sets {@code relabel fetch} knows, by the name users type. A registry rather than a switch in the
 * command so that adding one is one line here plus its fetcher, and the command's help and its
 * "unknown data set" message list every known name without being edited.
 */
public enum Datasets {

  FASHION_MNIST("fashion-mnist",
      "Zalando's Fashion-MNIST: 70,000 grey 28x28 clothing images in 10 classes (Debian package "
          + FashionMnistFetcher.DEBIAN_PACKAGE + ")",
      FashionMnistFetcher::new),
  WORDNET("wordnet",
      "WordNet 3.0 noun glosses: 82,115 synset definitions (text) in 26 long-tailed lexicographer classes (Debian"
          + " package " + WordNetFetcher.DEBIAN_PACKAGE + ")",
      WordNetFetcher::new);

  private final String cliName;
  private final String description;
  private final Supplier<DatasetFetcher> factory;

  Datasets(String cliName, String description, Supplier<DatasetFetcher> factory) {
    this.cliName = cliName;
    this.description = description;
    this.factory = factory;
  }

  /** The name on the command line and of the output directory under {@code relabel.data.dir}. */
  public String cliName() {
    return cliName;
  }

  public String description() {
    return description;
  }

  public DatasetFetcher fetcher() {
    return factory.get();
  }

  public static Optional<Datasets> byName(String name) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    for (Datasets d : values()) {
      if (d.cliName.equals(n)) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  /** Every known name, in declaration order. */
  public static List<String> names() {
    List<String> names = new ArrayList<>();
    for (Datasets d : values()) {
      names.add(d.cliName);
    }
    return names;
  }
}
