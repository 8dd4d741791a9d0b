package build.hearth.core;

import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import com.google.protobuf.ByteString;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link Hearth#cas()}: the verifying CAS, refusing every call, and every write or commit of an
 * upload, once the instance is closed.
 */
final class GuardedCas implements ContentAddressableStorage {
  private final ContentAddressableStorage cas;
  private final Lifecycle lifecycle;

  GuardedCas(ContentAddressableStorage cas, Lifecycle lifecycle) {
    this.cas = cas;
    this.lifecycle = lifecycle;
  }

  @Override
  public Set<Digest> findMissing(Iterable<Digest> digests) {
    lifecycle.checkOpen();
    return cas.findMissing(digests);
  }

  @Override
  public boolean contains(Digest digest) {
    lifecycle.checkOpen();
    return cas.contains(digest);
  }

  @Override
  public InputStream read(Digest digest, long offset, long limit) {
    lifecycle.checkOpen();
    return cas.read(digest, offset, limit);
  }

  @Override
  public ByteString get(Digest digest) {
    lifecycle.checkOpen();
    return cas.get(digest);
  }

  @Override
  public Digest put(ByteString data) {
    lifecycle.checkOpen();
    return cas.put(data);
  }

  @Override
  public void put(Digest expected, ByteString data) {
    lifecycle.checkOpen();
    cas.put(expected, data);
  }

  @Override
  public List<BlobStatus> putAll(Map<Digest, ByteString> blobs) {
    lifecycle.checkOpen();
    return cas.putAll(blobs);
  }

  @Override
  public BlobUpload startUpload(Digest digest) {
    lifecycle.checkOpen();
    return new GuardedUpload(cas.startUpload(digest), lifecycle);
  }

  @Override
  public TreePage getTree(Digest root, int pageSize, String pageToken) {
    lifecycle.checkOpen();
    return cas.getTree(root, pageSize, pageToken);
  }

  @Override
  public String toString() {
    return "cas of Hearth '" + lifecycle.name() + "'";
  }

  /** An upload whose writes and commit fail once the instance is closed; closing it never does. */
  private static final class GuardedUpload implements BlobUpload {
    private final BlobUpload upload;
    private final Lifecycle lifecycle;

    GuardedUpload(BlobUpload upload, Lifecycle lifecycle) {
      this.upload = upload;
      this.lifecycle = lifecycle;
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
      lifecycle.checkOpen();
      upload.write(data, offset, length);
    }

    @Override
    public void write(ByteString data) {
      lifecycle.checkOpen();
      upload.write(data);
    }

    @Override
    public void commit() {
      lifecycle.checkOpen();
      upload.commit();
    }

    @Override
    public void close() {
      upload.close();
    }
  }
}
