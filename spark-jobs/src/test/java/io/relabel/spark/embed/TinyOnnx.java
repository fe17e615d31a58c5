package io.relabel.spark.embed;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes small ONNX models by hand, for tests that need a model whose output they can compute exactly (no Python
 * {@code onnx} package here). An ONNX file is a serialised {@code onnx.ModelProto}; this writes the few protobuf
 * fields such a model needs, with the field numbers of {@code onnx.proto}. Models declare ONNX IR version 8 and
 * opset 13 (ONNX Runtime 1.20 runs opsets up to 21; from 13 on, ReduceSum takes its axes as an input).
 */
final class TinyOnnx {

  static final int IR_VERSION = 8;
  static final int OPSET = 13;

  /** {@code TensorProto.DataType}. */
  static final int FLOAT = 1;
  static final int INT64 = 7;

  private TinyOnnx() {}

  /** One protobuf message being written: fields in the order they are added. */
  static final class Message {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    /** A varint field (wire type 0): ints, enums, int64. */
    Message varint(int field, long value) {
      key(field, 0);
      raw(value);
      return this;
    }

    /** A length-delimited field (wire type 2): strings, bytes, embedded messages. */
    Message bytes(int field, byte[] value) {
      key(field, 2);
      raw(value.length);
      out.writeBytes(value);
      return this;
    }

    Message string(int field, String value) {
      return bytes(field, value.getBytes(StandardCharsets.UTF_8));
    }

    Message message(int field, Message value) {
      return bytes(field, value.toByteArray());
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }

    private void key(int field, int wireType) {
      raw(((long) field << 3) | wireType);
    }

    /** Base-128 varint, low groups first; a negative value takes ten bytes, as protobuf writes int64. */
    private void raw(long v) {
      while ((v & ~0x7FL) != 0) {
        out.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      out.write((int) v);
    }
  }

  /**
   * {@code ValueInfoProto}: a tensor of {@code elemType} whose dimensions are a {@code String} (a symbolic
   * dimension, {@code dim_param}) or a number ({@code dim_value}).
   */
  static Message tensorValue(String name, int elemType, Object... dims) {
    Message shape = new Message();
    for (Object d : dims) {
      Message dim = new Message();
      if (d instanceof String param) {
        dim.string(2, param);
      } else {
        dim.varint(1, ((Number) d).longValue());
      }
      shape.message(1, dim);
    }
    Message tensorType = new Message().varint(1, elemType).message(2, shape);
    return new Message().string(1, name).message(2, new Message().message(1, tensorType));
  }

  /** {@code NodeProto} of the default domain. */
  static Message node(String opType, List<String> inputs, List<String> outputs, Message... attributes) {
    Message n = new Message();
    inputs.forEach(i -> n.string(1, i));
    outputs.forEach(o -> n.string(2, o));
    n.string(3, opType + "_" + outputs.get(0));
    n.string(4, opType);
    for (Message a : attributes) {
      n.message(5, a);
    }
    return n;
  }

  /** {@code AttributeProto} holding one int ({@code type} INT = 2). */
  static Message intAttribute(String name, long value) {
    return new Message().string(1, name).varint(20, 2).varint(3, value);
  }

  /** {@code TensorProto} of int64 values, for an initializer. */
  static Message int64Tensor(String name, long[] dims, long... values) {
    Message t = new Message();
    for (long d : dims) {
      t.varint(1, d);
    }
    t.varint(2, INT64);
    for (long v : values) {
      t.varint(7, v);
    }
    return t.string(8, name);
  }

  /** {@code TensorProto} of float values (little-endian {@code raw_data}), for an initializer. */
  static Message floatTensor(String name, long[] dims, float... values) {
    Message t = new Message();
    for (long d : dims) {
      t.varint(1, d);
    }
    t.varint(2, FLOAT);
    ByteBuffer raw = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    return t.string(8, name).bytes(9, raw.array());
  }

  /** A {@code ModelProto} around one graph. */
  static byte[] model(List<Message> nodes, List<Message> initializers, List<Message> inputs, List<Message> outputs) {
    Message graph = new Message();
    nodes.forEach(n -> graph.message(1, n));
    graph.string(2, "tiny");
    initializers.forEach(t -> graph.message(5, t));
    inputs.forEach(i -> graph.message(11, i));
    outputs.forEach(o -> graph.message(12, o));
    return new Message()
        .varint(1, IR_VERSION)
        .string(2, "relabel-tests")
        .message(7, graph)
        .message(8, new Message().string(1, "").varint(2, OPSET))
        .toByteArray();
  }
}
