package build.hearth.redis;

import build.hearth.spi.scheduler.WorkerRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The bytes of a {@link WorkerRecord} in the registry: a version byte, then the fields in order,
 * strings as modified UTF-8. Only Java reads them; the scripts keep the server apart, in a hash of
 * its own, for the checks they make.
 */
final class WorkerRecords {
  private static final int VERSION = 1;

  private WorkerRecords() {}

  static byte[] encode(WorkerRecord worker) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeUTF(worker.serverId());
      out.writeInt(worker.slots());
      out.writeBoolean(worker.draining());
      out.writeInt(worker.properties().size());
      for (Map.Entry<String, List<String>> property : worker.properties().entrySet()) {
        out.writeUTF(property.getKey());
        writeStrings(out, property.getValue());
      }
      writeStrings(out, worker.warmKeys());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static WorkerRecord decode(String workerId, byte[] record) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(record))) {
      int version = in.readByte();
      if (version != VERSION) {
        throw new IllegalStateException(
            "worker "
                + workerId
                + " was registered by a Hearth of another version ("
                + version
                + ")");
      }
      String server = in.readUTF();
      int slots = in.readInt();
      boolean draining = in.readBoolean();
      int count = in.readInt();
      Map<String, List<String>> properties = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        properties.put(in.readUTF(), readStrings(in));
      }
      Set<String> warm = new HashSet<>(readStrings(in));
      return new WorkerRecord(workerId, server, properties, slots, warm, draining);
    } catch (IOException e) {
      throw new IllegalStateException("the record of worker " + workerId + " is corrupt", e);
    }
  }

  private static void writeStrings(DataOutputStream out, Iterable<String> values)
      throws IOException {
    List<String> all = new ArrayList<>();
    values.forEach(all::add);
    out.writeInt(all.size());
    for (String value : all) {
      out.writeUTF(value);
    }
  }

  private static List<String> readStrings(DataInputStream in) throws IOException {
    int count = in.readInt();
    List<String> values = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      values.add(in.readUTF());
    }
    return values;
  }
}
