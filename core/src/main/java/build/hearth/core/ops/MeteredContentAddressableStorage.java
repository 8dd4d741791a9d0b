package build.hearth.core.ops;

import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import com.google.protobuf.ByteString;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Counts what passes through a CAS: lookups that found their blob or not, and bytes written and
 * read. Writes count when they succeed, with the blob's whole size (also when the blob was present
 * already); streamed reads count the bytes the reader actually took.
 */
final class MeteredContentAddressableStorage implements ContentAddressableStorage {
  private final ContentAddressableStorage delegate;
  private final CounterDataPoint hits;
  private final CounterDataPoint misses;
  private final CounterDataPoint bytesWritten;
  private final CounterDataPoint bytesRead;

  MeteredContentAddressableStorage(
      ContentAddressableStorage delegate,
      CounterDataPoint hits,
      CounterDataPoint misses,
      CounterDataPoint bytesWritten,
      CounterDataPoint bytesRead) {
    this.delegate = delegate;
    this.hits = hits;
    this.misses = misses;
    this.bytesWritten = bytesWritten;
    this.bytesRead = bytesRead;
  }

  @Override
  public Set<Digest> findMissing(Iterable<Digest> digests) {
    // Copied, so that an iterable that can be walked only once still reaches the store whole.
    Set<Digest> asked = new LinkedHashSet<>();
    digests.forEach(asked::add);
    Set<Digest> missing = delegate.findMissing(asked);
    hits.inc(asked.size() - missing.size());
    misses.inc(missing.size());
    return missing;
  }

  @Override
  public boolean contains(Digest digest) {
    boolean present = delegate.contains(digest);
    (present ? hits : misses).inc();
    return present;
  }

  @Override
  public InputStream read(Digest digest, long offset, long limit) {
    InputStream in;
    try {
      in = delegate.read(digest, offset, limit);
    } catch (HearthException e) {
      countMiss(e);
      throw e;
    }
    hits.inc();
    return new CountingInputStream(in, bytesRead);
  }

  @Override
  public ByteString get(Digest digest) {
    ByteString data;
    try {
      data = delegate.get(digest);
    } catch (HearthException e) {
      countMiss(e);
      throw e;
    }
    hits.inc();
    bytesRead.inc(data.size());
    return data;
  }

  private void countMiss(HearthException e) {
    if (e.code() == StatusCode.NOT_FOUND) {
      misses.inc();
    }
  }

  @Override
  public Digest put(ByteString data) {
    Digest digest = delegate.put(data);
    bytesWritten.inc(data.size());
    return digest;
  }

  @Override
  public void put(Digest expected, ByteString data) {
    delegate.put(expected, data);
    bytesWritten.inc(data.size());
  }

  @Override
  public List<BlobStatus> putAll(Map<Digest, ByteString> blobs) {
    List<BlobStatus> statuses = delegate.putAll(blobs);
    long written = 0;
    for (BlobStatus status : statuses) {
      if (status.ok()) {
        written += status.digest().sizeBytes();
      }
    }
    bytesWritten.inc(written);
    return statuses;
  }

  @Override
  public BlobUpload startUpload(Digest digest) {
    return new MeteredUpload(delegate.startUpload(digest));
  }

  @Override
  public TreePage getTree(Digest root, int pageSize, String pageToken) {
    return delegate.getTree(root, pageSize, pageToken);
  }

  @Override
  public String toString() {
    return "metered " + delegate;
  }

  private final class MeteredUpload implements BlobUpload {
    private final BlobUpload upload;

    MeteredUpload(BlobUpload upload) {
      this.upload = upload;
    }

    @Override
    public Digest digest() {
      return upload.digest();
    }

    @Override
    public long committedSize() {
      return upload.committedSize();
    }

    @Override
    public boolean isComplete() {
      return upload.isComplete();
    }

    @Override
    public void write(byte[] data, int offset, int length) {
      upload.write(data, offset, length);
    }

    @Override
    public void write(ByteString data) {
      upload.write(data);
    }

    @Override
    public void commit() {
      upload.commit();
      bytesWritten.inc(upload.digest().sizeBytes());
    }

    @Override
    public void close() {
      upload.close();
    }
  }

  /** Counts the bytes a reader takes, as it takes them. */
  private static final class CountingInputStream extends FilterInputStream {
    private final CounterDataPoint bytesRead;

    CountingInputStream(InputStream in, CounterDataPoint bytesRead) {
      super(in);
      this.bytesRead = bytesRead;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b >= 0) {
        bytesRead.inc();
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int n = in.read(buffer, offset, length);
      if (n > 0) {
        bytesRead.inc(n);
      }
      return n;
    }

    @Override
    public long skip(long n) throws IOException {
      // Skipped bytes are not handed to anyone, so they are not counted as read.
      return in.skip(n);
    }

    @Override
    public long transferTo(java.io.OutputStream out) throws IOException {
      long n = in.transferTo(out);
      bytesRead.inc(n);
      return n;
    }
  }
}
